//! Signature parameters (RFC 9421 §2.3) and the algorithms of this profile.

use std::fmt;
use std::str::FromStr;

use crate::{Component, HttpSigError};

/// Longest string parameter (`keyid`, `nonce`, `tag`) accepted, in bytes.
pub const MAX_PARAM_STRING: usize = 512;
/// Most covered components in one signature.
pub const MAX_COMPONENTS: usize = 32;

/// A signature algorithm of this profile (RFC 9421 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// `ed25519`: EdDSA over Curve25519 (RFC 8032), 64-byte signatures (§3.3.6).
    Ed25519,
    /// `hmac-sha256`: HMAC with SHA-256 and a shared key, 32-byte tags (§3.3.3).
    HmacSha256,
}

impl Algorithm {
    /// The name in the `alg` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ed25519 => "ed25519",
            Self::HmacSha256 => "hmac-sha256",
        }
    }

    /// Length of the signature or tag in bytes.
    pub fn signature_len(self) -> usize {
        match self {
            Self::Ed25519 => 64,
            Self::HmacSha256 => 32,
        }
    }
}

impl FromStr for Algorithm {
    type Err = HttpSigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ed25519" => Ok(Self::Ed25519),
            "hmac-sha256" => Ok(Self::HmacSha256),
            _ => Err(HttpSigError::UnknownAlgorithm),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signature parameter name, for [`crate::ParsedSignature::require_params`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Param {
    /// `created`: creation time, Unix seconds.
    Created,
    /// `expires`: expiry time, Unix seconds.
    Expires,
    /// `nonce`: a value the verifier remembers to refuse replays.
    Nonce,
    /// `alg`: the algorithm.
    Alg,
    /// `keyid`: which key signed.
    KeyId,
    /// `tag`: the application the signature is for.
    Tag,
}

impl Param {
    /// The parameter's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Expires => "expires",
            Self::Nonce => "nonce",
            Self::Alg => "alg",
            Self::KeyId => "keyid",
            Self::Tag => "tag",
        }
    }
}

/// What to sign: the label, the covered components in order, and the parameters.
///
/// Parameters are written in the order `created`, `expires`, `nonce`, `alg`, `keyid`, `tag`
/// (RFC 9421 §2.3 lists them so); absent ones are left out.
///
/// ```
/// use tradeguard_httpsig::{Component, SignatureParams};
/// let mut p = SignatureParams::new("sig", vec![Component::Method, Component::Path]);
/// p.created = Some(1_700_000_000);
/// p.keyid = Some("did:key:z6Mk...".into());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureParams {
    /// The dictionary key of this signature in `Signature-Input` and `Signature`.
    pub label: String,
    /// The covered components, in signing order.
    pub components: Vec<Component>,
    /// `created`, Unix seconds.
    pub created: Option<u64>,
    /// `expires`, Unix seconds.
    pub expires: Option<u64>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// `alg`; when set it must be the signing key's algorithm.
    pub alg: Option<Algorithm>,
    /// `keyid`.
    pub keyid: Option<String>,
    /// `tag`.
    pub tag: Option<String>,
}

impl SignatureParams {
    /// Parameters with a label and components; everything else absent.
    pub fn new(label: impl Into<String>, components: Vec<Component>) -> Self {
        Self {
            label: label.into(),
            components,
            created: None,
            expires: None,
            nonce: None,
            alg: None,
            keyid: None,
            tag: None,
        }
    }
}

/// RFC 8941 Integer bound (15 digits), which every timestamp here must respect.
pub(crate) const MAX_SF_INTEGER: u64 = 999_999_999_999_999;

/// Checks a string parameter: RFC 8941 String characters (printable ASCII), bounded.
pub(crate) fn check_string(param: &'static str, value: &str) -> Result<(), HttpSigError> {
    if value.len() > MAX_PARAM_STRING {
        return Err(HttpSigError::InvalidParameter {
            param,
            reason: "longer than 512 bytes",
        });
    }
    if !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(HttpSigError::InvalidParameter {
            param,
            reason: "not printable ASCII",
        });
    }
    Ok(())
}

/// Checks a timestamp parameter against the RFC 8941 Integer range.
pub(crate) fn check_time(param: &'static str, value: u64) -> Result<(), HttpSigError> {
    if value > MAX_SF_INTEGER {
        return Err(HttpSigError::InvalidParameter {
            param,
            reason: "larger than an RFC 8941 Integer",
        });
    }
    Ok(())
}
