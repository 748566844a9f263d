//! C2SP signed notes (c2sp.org/signed-note): text signed by one or more keys.
//!
//! ```text
//! <text, ending in a newline>
//! <blank line>
//! — <key name> base64(4-byte key ID || signature)
//! ```
//!
//! [`Note::parse`] is strict: UTF-8, no control characters except newline, the text ends at
//! the last blank line, every signature line well formed, names without spaces or `+`,
//! canonical base64, at most [`MAX_SIGNATURES`] signatures and [`MAX_NOTE_LEN`] bytes.
//! [`Note::verify`] follows the spec's rules: signatures by unknown keys are ignored, a
//! signature by a known key (same name and key ID) must verify or the whole note is refused,
//! and at least one known key must have signed.

mod ed25519;
mod mldsa;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub use ed25519::{Ed25519NoteSigner, Ed25519NoteVerifier, vkey_key_id};
pub use mldsa::{MLDSA65_TYPE_ID, MlDsa65NoteSigner, MlDsa65NoteVerifier};

/// Most signatures a note may carry (the spec requires accepting at least 16).
pub const MAX_SIGNATURES: usize = 32;
/// Largest note accepted, in bytes (room for 16 post-quantum signatures of ~5 kB).
pub const MAX_NOTE_LEN: usize = 128 * 1024;
/// The em dash (U+2014) and space that open a signature line.
const SIG_PREFIX: &str = "\u{2014} ";

/// Why a note or key was refused. All are definitive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The note does not follow the signed-note format.
    #[error("malformed signed note: {0}")]
    Malformed(&'static str),
    /// A signature by a known key did not verify.
    #[error("signature by `{name}` does not verify: the note was altered or signed by another key")]
    BadSignature {
        /// The key name on the failing line.
        name: String,
    },
    /// No signature by any of the given keys was found.
    #[error(
        "the note carries no signature by a trusted key (checked {checked} key(s)); verify with the log's own public key"
    )]
    NoTrustedSignature {
        /// How many verifier keys were offered.
        checked: usize,
    },
    /// A key, vkey or skey string was refused.
    #[error("invalid note key: {0}")]
    InvalidKey(&'static str),
    /// Signing failed in the crypto provider.
    #[error("signing the note failed: {0}")]
    Signing(String),
}

/// One signature line: key name, key ID and signature bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key ID (first four bytes of the decoded signature, big-endian).
    pub key_id: u32,
    /// The signature proper.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line, without its newline: `— name base64(id || sig)`.
    pub fn to_line(&self) -> String {
        let mut bytes = self.key_id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}", self.name, STANDARD.encode(bytes))
    }
}

/// Signs note text as one key.
pub trait NoteSigner {
    /// The key name.
    fn name(&self) -> &str;
    /// The key ID.
    fn key_id(&self) -> u32;
    /// Signs `msg` (the note text).
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, NoteError>;
}

/// Verifies signatures of one key.
pub trait NoteVerifier {
    /// The key name.
    fn name(&self) -> &str;
    /// The key ID.
    fn key_id(&self) -> u32;
    /// True if `sig` is this key's signature of `msg`.
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool;
}

/// A parsed signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

/// Key names must be non-empty and contain no Unicode spaces and no `+`.
pub fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(NoteError::InvalidKey(
            "key names must be non-empty, without spaces or `+`",
        ));
    }
    Ok(())
}

impl Note {
    /// Signs `text` (which must end in a newline and follow the format rules) with each signer.
    pub fn sign(text: &str, signers: &[&dyn NoteSigner]) -> Result<Self, NoteError> {
        check_text(text)?;
        if signers.is_empty() || signers.len() > MAX_SIGNATURES {
            return Err(NoteError::Malformed("a note needs 1 to 32 signatures"));
        }
        let mut signatures = Vec::with_capacity(signers.len());
        for s in signers {
            check_key_name(s.name())?;
            signatures.push(NoteSignature {
                name: s.name().to_owned(),
                key_id: s.key_id(),
                signature: s.sign(text.as_bytes())?,
            });
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Parses a note strictly (see the module documentation).
    pub fn parse(bytes: &[u8]) -> Result<Self, NoteError> {
        if bytes.len() > MAX_NOTE_LEN {
            return Err(NoteError::Malformed("note longer than 128 KiB"));
        }
        let s = std::str::from_utf8(bytes).map_err(|_| NoteError::Malformed("not UTF-8"))?;
        if s.chars().any(|c| c < ' ' && c != '\n') {
            return Err(NoteError::Malformed("control character other than newline"));
        }
        if !s.ends_with('\n') {
            return Err(NoteError::Malformed("does not end with a newline"));
        }
        let split = s
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        let (text, sigs) = (&s[..=split], &s[split + 2..]);
        check_text(text)?;
        let signatures = sigs
            .lines()
            .map(parse_signature_line)
            .collect::<Result<Vec<_>, _>>()?;
        if signatures.is_empty() {
            return Err(NoteError::Malformed("no signature lines"));
        }
        if signatures.len() > MAX_SIGNATURES {
            return Err(NoteError::Malformed("more than 32 signatures"));
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The signed text, including its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// The note in wire form.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for sig in &self.signatures {
            out.push_str(&sig.to_line());
            out.push('\n');
        }
        out
    }

    /// Verifies the note against trusted keys; returns the names of the keys that signed.
    pub fn verify(&self, verifiers: &[&dyn NoteVerifier]) -> Result<Vec<String>, NoteError> {
        let mut verified = Vec::new();
        for sig in &self.signatures {
            let known = verifiers
                .iter()
                .find(|v| v.name() == sig.name && v.key_id() == sig.key_id);
            let Some(v) = known else { continue };
            if !v.verify(self.text.as_bytes(), &sig.signature) {
                return Err(NoteError::BadSignature {
                    name: sig.name.clone(),
                });
            }
            verified.push(sig.name.clone());
        }
        if verified.is_empty() {
            return Err(NoteError::NoTrustedSignature {
                checked: verifiers.len(),
            });
        }
        Ok(verified)
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(NoteError::Malformed(
            "text must be non-empty and end with a newline",
        ));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::Malformed("control character other than newline"));
    }
    Ok(())
}

fn parse_signature_line(line: &str) -> Result<NoteSignature, NoteError> {
    let rest = line.strip_prefix(SIG_PREFIX).ok_or(NoteError::Malformed(
        "signature line does not start with an em dash and a space",
    ))?;
    let (name, b64) = rest.split_once(' ').ok_or(NoteError::Malformed(
        "signature line has no space between name and signature",
    ))?;
    check_key_name(name).map_err(|_| NoteError::Malformed("bad key name on a signature line"))?;
    let bytes = STANDARD
        .decode(b64)
        .map_err(|_| NoteError::Malformed("signature is not canonical base64"))?;
    if bytes.len() < 5 {
        return Err(NoteError::Malformed(
            "signature shorter than a key ID and one byte",
        ));
    }
    let (id, sig) = bytes.split_at(4);
    let key_id = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
    Ok(NoteSignature {
        name: name.to_owned(),
        key_id,
        signature: sig.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "hello\n\n\u{2014} k AAAAAQE=\n";

    #[test]
    fn parses_and_round_trips() {
        let n = Note::parse(GOOD.as_bytes()).unwrap();
        assert_eq!(n.text(), "hello\n");
        assert_eq!(n.signatures()[0].key_id, 1);
        assert_eq!(n.to_text(), GOOD);
    }

    #[test]
    fn fail_malformed_notes() {
        let cases: [&[u8]; 13] = [
            b"",
            b"hello\n",
            b"hello\n\n",
            b"hello\n\n\xe2\x80\x94 k AAAAAQE=",
            b"hello\r\n\n\xe2\x80\x94 k AAAAAQE=\n",
            b"he\tllo\n\n\xe2\x80\x94 k AAAAAQE=\n",
            b"hello\n\n- k AAAAAQE=\n",
            b"hello\n\n\xe2\x80\x94 k+x AAAAAQE=\n",
            b"hello\n\n\xe2\x80\x94  AAAAAQE=\n",
            b"hello\n\n\xe2\x80\x94 k AAAAAQ==\n",
            b"hello\n\n\xe2\x80\x94 k AAAAAQE\n",
            b"hello\n\n\xe2\x80\x94 k AAAAAQE=\n\n",
            b"hello\n\n\xff\n",
        ];
        for (i, c) in cases.iter().enumerate() {
            assert!(
                Note::parse(c).is_err(),
                "TC{i} failed: accepted {:?}",
                String::from_utf8_lossy(c)
            );
        }
    }

    #[test]
    fn fail_too_many_signatures() {
        let mut s = String::from("t\n\n");
        for _ in 0..=MAX_SIGNATURES {
            s.push_str("\u{2014} k AAAAAQE=\n");
        }
        assert_eq!(
            Note::parse(s.as_bytes()),
            Err(NoteError::Malformed("more than 32 signatures"))
        );
    }
}
