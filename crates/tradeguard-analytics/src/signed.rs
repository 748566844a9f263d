//! Signed reports: RFC 8785 canonical JSON with a detached Ed25519 signature, bound to the
//! audit checkpoint current when the report was made.
//!
//! # File format (`tradeguard-report/v1`)
//!
//! ```json
//! {"report": {"format": "tradeguard-report/v1",
//!             "generated_at": "2024-06-01T00:00:00Z",
//!             "checkpoint": {"origin": "tradeguard.example/audit", "tree_size": 1234,
//!                            "root_hash": "<standard base64 of the 32-byte Merkle root>"},
//!             "kind": "equity" | "ledger",
//!             "data": { ...EquityReport or LedgerReport... }},
//!  "signature": {"alg": "ed25519", "public_key": "<base64url, 32 bytes>",
//!                "sig": "<base64url, 64 bytes>"}}
//! ```
//!
//! The signature is Ed25519 (RFC 8032) over the bytes
//! `"tradeguard-report-v1\n" || JCS(report)`, where `JCS(report)` is the RFC 8785 canonical
//! form of the `report` member. The context line keeps a report signature from ever being
//! valid as another message the gateway key signs (audit checkpoints, for instance). Because
//! the signature covers the canonical form, whitespace and member order in the file do not
//! matter; any change to a name or a value does. Base64url is unpadded (RFC 4648 §5).
//! Money amounts are JSON strings (exact decimals); ratios are JSON numbers; an undefined
//! metric is `null`. Readers refuse duplicate keys anywhere in the file.
//!
//! To verify with other tools: parse the file, canonicalize `report` with any RFC 8785
//! library, prepend the context line and check the signature with the gateway's public key
//! (`GET /v1/keys`, `signing.public_key`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use tradeguard_crypto::sign::{Ed25519SigningKey, Ed25519VerifyingKey};
use tradeguard_crypto::{b64, ct, jcs};

use crate::{EquityReport, LedgerReport, Timestamp};

/// The `format` of reports this version writes and reads.
pub const REPORT_FORMAT: &str = "tradeguard-report/v1";

/// The context line prepended to the canonical report before signing.
pub const SIGNING_CONTEXT: &[u8] = b"tradeguard-report-v1\n";

/// Largest integer JSON numbers carry exactly (2^53); tree sizes must not exceed it.
const MAX_EXACT_INTEGER: u64 = 1 << 53;

/// Why a report could not be signed or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The bytes are not a report file (not JSON, truncated, missing or duplicate members).
    #[error("not a tradeguard report file: {reason}")]
    Malformed {
        /// What is missing or wrong.
        reason: String,
    },
    /// The signature block names an algorithm other than `ed25519`.
    #[error("unsupported signature algorithm `{alg}`; this verifier accepts ed25519")]
    UnsupportedAlgorithm {
        /// The algorithm named in the file (public metadata).
        alg: String,
    },
    /// The file was signed by another key than the one expected.
    #[error(
        "the report was signed by another key than the one given; check --key against the \
         gateway's `tradeguard keys` output"
    )]
    WrongKey,
    /// The signature does not match the report: it was altered after signing.
    #[error("signature does not verify: the report was altered after it was signed")]
    BadSignature,
    /// A checkpoint reference is out of range.
    #[error("invalid checkpoint reference: {reason}")]
    InvalidCheckpoint {
        /// What is wrong.
        reason: &'static str,
    },
    /// The report could not be put in canonical form (signing side).
    #[error("cannot canonicalize the report: {0}")]
    Canonicalization(String),
}

fn malformed(reason: impl Into<String>) -> ReportError {
    ReportError::Malformed {
        reason: reason.into(),
    }
}

/// The audit checkpoint a report is bound to (C2SP `tlog-checkpoint` fields).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CheckpointWire", into = "CheckpointWire")]
pub struct CheckpointRef {
    origin: String,
    tree_size: u64,
    root_hash: [u8; 32],
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointWire {
    origin: String,
    tree_size: u64,
    root_hash: String,
}

impl CheckpointRef {
    /// `origin` as in the checkpoint's first line, `tree_size` (at most 2^53) and the
    /// 32-byte root hash.
    pub fn new(
        origin: impl Into<String>,
        tree_size: u64,
        root_hash: [u8; 32],
    ) -> Result<Self, ReportError> {
        let origin = origin.into();
        if origin.is_empty() || origin.chars().any(char::is_control) {
            return Err(ReportError::InvalidCheckpoint {
                reason: "origin must be a non-empty line without control characters",
            });
        }
        if tree_size > MAX_EXACT_INTEGER {
            return Err(ReportError::InvalidCheckpoint {
                reason: "tree_size above 2^53 cannot be carried exactly in JSON",
            });
        }
        Ok(Self {
            origin,
            tree_size,
            root_hash,
        })
    }

    /// The log's origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Number of entries in the tree.
    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }

    /// The Merkle tree root.
    pub fn root_hash(&self) -> &[u8; 32] {
        &self.root_hash
    }
}

impl TryFrom<CheckpointWire> for CheckpointRef {
    type Error = ReportError;
    fn try_from(w: CheckpointWire) -> Result<Self, ReportError> {
        let root = STANDARD
            .decode(&w.root_hash)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or(ReportError::InvalidCheckpoint {
                reason: "root_hash must be standard base64 of 32 bytes",
            })?;
        Self::new(w.origin, w.tree_size, root)
    }
}

impl From<CheckpointRef> for CheckpointWire {
    fn from(c: CheckpointRef) -> Self {
        Self {
            origin: c.origin,
            tree_size: c.tree_size,
            root_hash: STANDARD.encode(c.root_hash),
        }
    }
}

impl std::fmt::Display for ReportFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REPORT_FORMAT)
    }
}

/// The `format` member: always [`REPORT_FORMAT`]; any other value is refused when read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportFormat;

impl Serialize for ReportFormat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REPORT_FORMAT)
    }
}

impl<'de> Deserialize<'de> for ReportFormat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == REPORT_FORMAT {
            Ok(ReportFormat)
        } else {
            Err(serde::de::Error::custom(format!(
                "unsupported report format; this version reads `{REPORT_FORMAT}`"
            )))
        }
    }
}

/// What a report covers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum ReportBody {
    /// One equity history (for example from `tradeguard analytics --equity`).
    Equity(Box<EquityReport>),
    /// The gateway's full ledger report.
    Ledger(Box<LedgerReport>),
}

/// The signed body of a report file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always `tradeguard-report/v1`.
    pub format: ReportFormat,
    /// When the report was made.
    pub generated_at: Timestamp,
    /// The audit checkpoint current at that time.
    pub checkpoint: CheckpointRef,
    /// The figures.
    #[serde(flatten)]
    pub body: ReportBody,
}

/// The signed bytes: [`SIGNING_CONTEXT`] followed by the canonical `report`.
fn signing_input(report: &Value) -> Result<Vec<u8>, ReportError> {
    let canonical =
        jcs::canonicalize(report).map_err(|e| ReportError::Canonicalization(e.to_string()))?;
    let mut msg = Vec::with_capacity(SIGNING_CONTEXT.len() + canonical.len());
    msg.extend_from_slice(SIGNING_CONTEXT);
    msg.extend_from_slice(canonical.as_bytes());
    Ok(msg)
}

/// Signs `report` and returns the report file (UTF-8 JSON, the report in canonical form).
pub fn sign_report(report: &Report, key: &Ed25519SigningKey) -> Result<Vec<u8>, ReportError> {
    let value =
        serde_json::to_value(report).map_err(|e| ReportError::Canonicalization(e.to_string()))?;
    let msg = signing_input(&value)?;
    let sig = key.sign(&msg);
    let canonical = &msg[SIGNING_CONTEXT.len()..];
    let signature = serde_json::json!({
        "alg": "ed25519",
        "public_key": key.verifying_key().to_base64url(),
        "sig": b64::encode(&sig),
    });
    let mut out = Vec::with_capacity(canonical.len() + 200);
    out.extend_from_slice(b"{\"report\":");
    out.extend_from_slice(canonical);
    out.extend_from_slice(b",\"signature\":");
    out.extend_from_slice(signature.to_string().as_bytes());
    out.extend_from_slice(b"}\n");
    Ok(out)
}

/// A report file whose signature has not been checked yet.
#[derive(Clone, Debug)]
pub struct SignedReport {
    report: Value,
    public_key: Ed25519VerifyingKey,
    sig: [u8; 64],
}

impl SignedReport {
    /// Reads the file structure (no signature check yet).
    pub fn parse(bytes: &[u8]) -> Result<Self, ReportError> {
        let mut doc = crate::strict_json::parse(bytes).map_err(|e| malformed(e.to_string()))?;
        let obj = doc
            .as_object_mut()
            .ok_or_else(|| malformed("the file is not a JSON object"))?;
        if obj.len() != 2 {
            return Err(malformed(
                "expected exactly the members `report` and `signature`",
            ));
        }
        let report = obj
            .remove("report")
            .ok_or_else(|| malformed("no `report` member"))?;
        let sig = obj
            .remove("signature")
            .ok_or_else(|| malformed("no `signature` member"))?;
        let (public_key, sig) = parse_signature(&sig)?;
        Ok(Self {
            report,
            public_key,
            sig,
        })
    }

    /// The key the file says signed it (not yet checked against anything).
    pub fn claimed_public_key(&self) -> &Ed25519VerifyingKey {
        &self.public_key
    }

    /// Checks the signature with `expected` and returns the report.
    pub fn verify(&self, expected: &Ed25519VerifyingKey) -> Result<Report, ReportError> {
        if !ct::ct_eq(expected.as_bytes(), self.public_key.as_bytes()) {
            return Err(ReportError::WrongKey);
        }
        let msg = signing_input(&self.report)?;
        expected
            .verify(&msg, &self.sig)
            .map_err(|_| ReportError::BadSignature)?;
        Report::deserialize(&self.report)
            .map_err(|e| malformed(format!("signed, but not a report this version reads: {e}")))
    }
}

fn parse_signature(v: &Value) -> Result<(Ed25519VerifyingKey, [u8; 64]), ReportError> {
    let obj = v
        .as_object()
        .filter(|o| o.len() == 3)
        .ok_or_else(|| malformed("`signature` must hold exactly alg, public_key and sig"))?;
    let field = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(format!("`signature.{k}` must be a string")))
    };
    let alg = field("alg")?;
    if alg != "ed25519" {
        return Err(ReportError::UnsupportedAlgorithm {
            alg: alg.chars().take(32).collect(),
        });
    }
    let pk = b64::decode(field("public_key")?)
        .ok()
        .and_then(|b| Ed25519VerifyingKey::from_bytes(&b).ok())
        .ok_or_else(|| malformed("`signature.public_key` must be base64url of 32 bytes"))?;
    let sig = b64::decode(field("sig")?)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .ok_or_else(|| malformed("`signature.sig` must be base64url of 64 bytes"))?;
    Ok((pk, sig))
}

/// Parses a report file and checks it against the gateway's public key.
pub fn verify_report(
    bytes: &[u8],
    expected_public_key: &Ed25519VerifyingKey,
) -> Result<Report, ReportError> {
    SignedReport::parse(bytes)?.verify(expected_public_key)
}
