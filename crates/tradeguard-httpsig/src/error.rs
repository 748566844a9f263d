//! The one error type of this crate. Each variant names the check that failed; none carries a
//! key, a MAC or a signature value.

use crate::Algorithm;

/// Why a signature or digest was not produced or not accepted.
///
/// The gateway maps these to problem documents; every message names the failing check and what
/// the sender should do, never a secret. Values that come from the request (labels, component
/// names) are bounded by the header size limits before they can appear here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpSigError {
    /// A header the check needs is absent.
    #[error("missing `{header}` header; sign the request (RFC 9421) and send it")]
    MissingHeader {
        /// The header's lowercase name.
        header: &'static str,
    },
    /// A header is larger than this crate parses.
    #[error("`{header}` header is longer than {limit} bytes; send fewer or shorter signatures")]
    HeaderTooLarge {
        /// The header's lowercase name.
        header: &'static str,
        /// The limit in bytes.
        limit: usize,
    },
    /// A header is not the structured field RFC 9421 / RFC 9530 require.
    #[error("malformed `{header}` header: {reason}")]
    MalformedHeader {
        /// The header's lowercase name.
        header: &'static str,
        /// What is wrong with it (never the offending bytes).
        reason: String,
    },
    /// `Signature-Input` has no member with the requested label, or `Signature` lacks it.
    #[error(
        "no signature labelled `{label}` in `{header}`; sign with that label or ask for another"
    )]
    SignatureNotFound {
        /// The label asked for.
        label: String,
        /// The header that lacks it.
        header: &'static str,
    },
    /// Several signatures and no label to choose one.
    #[error("{count} signatures present and no label given; name the label to verify")]
    AmbiguousSignature {
        /// How many members `Signature-Input` has.
        count: usize,
    },
    /// More members, components or bytes than allowed.
    #[error("too many {what} (limit {limit})")]
    TooMany {
        /// What was counted: `signatures`, `covered components`.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A signature parameter has the wrong type or an out-of-range value.
    #[error("signature parameter `{param}` is invalid: {reason}")]
    InvalidParameter {
        /// `created`, `expires`, `nonce`, `keyid`, `alg` or `tag`.
        param: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A signature parameter this profile does not define.
    #[error(
        "unknown signature parameter `{param}`; allowed: created, expires, nonce, keyid, alg, tag"
    )]
    UnknownParameter {
        /// Its name.
        param: String,
    },
    /// A parameter the caller requires is absent.
    #[error("signature parameter `{param}` is required; add it to Signature-Input")]
    MissingParameter {
        /// Its name.
        param: &'static str,
    },
    /// The `alg` parameter names an algorithm this crate does not implement.
    #[error("unknown signature algorithm; supported: ed25519, hmac-sha256")]
    UnknownAlgorithm,
    /// The `alg` parameter disagrees with the key the verifier (or signer) holds.
    #[error(
        "signature says alg `{declared}` but the key is for `{key}`; sign with the key's algorithm"
    )]
    AlgorithmMismatch {
        /// The algorithm in the `alg` parameter.
        declared: Algorithm,
        /// The algorithm of the key.
        key: Algorithm,
    },
    /// A component identifier is not one this profile supports (or is malformed).
    #[error(
        "unsupported covered component `{component}`; supported: @method, @authority, @scheme, \
         @path, @query, @target-uri and lowercase header names without parameters"
    )]
    UnsupportedComponent {
        /// The identifier as given (bounded by the header limit).
        component: String,
    },
    /// The same component is covered twice.
    #[error("covered component `{component}` is listed twice")]
    DuplicateComponent {
        /// The identifier.
        component: String,
    },
    /// A covered header field is absent from the request.
    #[error(
        "covered component `{component}` is not in the request; send the header or stop covering it"
    )]
    ComponentNotInMessage {
        /// The identifier.
        component: String,
    },
    /// A component the verifier requires is not covered by the signature.
    #[error("the signature does not cover `{component}`; cover it when signing")]
    ComponentNotCovered {
        /// The identifier.
        component: String,
    },
    /// A component's value cannot go into a signature base (control or non-ASCII bytes).
    #[error("value of covered component `{component}` has bytes a signature base cannot hold")]
    InvalidComponentValue {
        /// The identifier.
        component: String,
    },
    /// The signature bytes have the wrong length for the algorithm.
    #[error("{alg} signature must be {expected} bytes, found {found}")]
    SignatureLength {
        /// The algorithm.
        alg: Algorithm,
        /// Expected length.
        expected: usize,
        /// Received length.
        found: usize,
    },
    /// The signature does not verify under the key.
    #[error("{alg} signature does not verify: the request was altered or signed by another key")]
    BadSignature {
        /// The algorithm.
        alg: Algorithm,
    },
    /// `Content-Digest` does not match the body.
    #[error(
        "Content-Digest {alg} does not match the request body; compute it over the exact bytes sent"
    )]
    DigestMismatch {
        /// The digest algorithm that failed (`sha-256`, `sha-512`).
        alg: &'static str,
    },
    /// `Content-Digest` names only algorithms this crate does not check.
    #[error("Content-Digest has no sha-256 or sha-512 member; send sha-256")]
    UnsupportedDigest,
    /// `created` is older than the window allows.
    #[error("signature created {age} s ago, older than the {window} s window; sign again")]
    Stale {
        /// Seconds since `created`.
        age: u64,
        /// The window in seconds.
        window: u64,
    },
    /// `created` lies further in the future than the window allows.
    #[error(
        "signature created {ahead} s in the future, beyond the {window} s window; check the signer's clock"
    )]
    CreatedInFuture {
        /// Seconds ahead.
        ahead: u64,
        /// The window in seconds.
        window: u64,
    },
    /// `expires` has passed.
    #[error("signature expired {ago} s ago; sign again")]
    Expired {
        /// Seconds since `expires`.
        ago: u64,
    },
}
