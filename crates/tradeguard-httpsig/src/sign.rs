//! Signing (RFC 9421 §3.1): the client side.

use sfv::{DictSerializer, KeyRef};
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::{Ed25519SigningKey, Ed25519VerifyingKey};

use crate::{Algorithm, HttpSigError, RequestParts, SignatureParams, base};

/// A key that signs, borrowed: the secret stays where its owner keeps it. `Debug` names the
/// algorithm only.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum SigningKey<'a> {
    /// An Ed25519 principal key (`alg` `ed25519`).
    Ed25519(&'a Ed25519SigningKey),
    /// A shared HMAC key (`alg` `hmac-sha256`).
    HmacSha256(&'a SecretBytes),
}

impl SigningKey<'_> {
    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Ed25519(_) => Algorithm::Ed25519,
            Self::HmacSha256(_) => Algorithm::HmacSha256,
        }
    }

    fn sign(&self, base: &[u8]) -> Vec<u8> {
        match self {
            Self::Ed25519(k) => k.sign(base).to_vec(),
            // Why expose: HMAC needs the key bytes; they go straight into aws-lc.
            Self::HmacSha256(k) => {
                tradeguard_crypto::mac::hmac_sha256(k.expose_secret(), base).to_vec()
            }
        }
    }
}

impl std::fmt::Debug for SigningKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey::{:?}([REDACTED])", self.algorithm())
    }
}

/// A key that verifies, borrowed.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum VerifyingKey<'a> {
    /// An Ed25519 public key.
    Ed25519(&'a Ed25519VerifyingKey),
    /// A shared HMAC key.
    HmacSha256(&'a SecretBytes),
}

impl VerifyingKey<'_> {
    /// The algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Ed25519(_) => Algorithm::Ed25519,
            Self::HmacSha256(_) => Algorithm::HmacSha256,
        }
    }
}

/// The two headers a signed request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// Value of `Signature-Input`: `label=("@method" ...);created=...`.
    pub signature_input: String,
    /// Value of `Signature`: `label=:base64:`.
    pub signature: String,
}

/// The signature base `params` would sign over `parts` (RFC 9421 §2.5). [`sign`] signs exactly
/// these bytes; tests and debugging tools compare them.
pub fn signature_base(
    parts: &RequestParts<'_>,
    params: &SignatureParams,
) -> Result<Vec<u8>, HttpSigError> {
    let line = base::params_line(params)?;
    base::build(parts, &params.components, &line)
}

/// Signs `parts` with `key` over `params.components`, returning the `Signature-Input` and
/// `Signature` header values. Fails when a covered header is absent from `parts.headers`,
/// a value cannot be part of a signature base, or `params.alg` is not the key's algorithm.
pub fn sign(
    parts: &RequestParts<'_>,
    key: &SigningKey<'_>,
    params: &SignatureParams,
) -> Result<SignatureHeaders, HttpSigError> {
    if let Some(declared) = params.alg
        && declared != key.algorithm()
    {
        return Err(HttpSigError::AlgorithmMismatch {
            declared,
            key: key.algorithm(),
        });
    }
    let label = KeyRef::from_str(&params.label).map_err(|_| HttpSigError::MalformedHeader {
        header: "signature-input",
        reason: "the label is not an RFC 8941 key (lowercase letters, digits, _-.*)".into(),
    })?;
    let line = base::params_line(params)?;
    let base = base::build(parts, &params.components, &line)?;
    let sig = key.sign(&base);
    let mut ser = DictSerializer::new();
    ser.bare_item(label, sig.as_slice());
    Ok(SignatureHeaders {
        signature_input: format!("{label}={line}", label = label.as_str()),
        signature: ser.finish().unwrap_or_default(),
    })
}
