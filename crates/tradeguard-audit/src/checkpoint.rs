//! C2SP tlog checkpoints (c2sp.org/tlog-checkpoint): a signed note whose text is
//!
//! ```text
//! <origin>
//! <tree size, decimal, no leading zeros>
//! <root hash, base64>
//! [extension lines, non-empty]
//! ```
//!
//! [`SignedCheckpoint::parse`] reads the wire form without trusting it;
//! [`SignedCheckpoint::verify`] checks the signatures and returns a [`VerifiedCheckpoint`],
//! the only type from which the size and root are meant to be trusted.

use crate::merkle::Hash;
use crate::note::{Note, NoteError, NoteSigner, NoteVerifier};

/// A checkpoint body: origin, tree size, root hash and extension lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint with no extension lines. The origin must be non-empty, one line, without
    /// control characters.
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Self, NoteError> {
        check_line(origin, "checkpoint origin must be a non-empty line")?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        })
    }

    /// Adds an extension line (non-empty, one line).
    pub fn with_extension(mut self, line: &str) -> Result<Self, NoteError> {
        check_line(
            line,
            "checkpoint extension lines must be non-empty single lines",
        )?;
        self.extensions.push(line.to_owned());
        Ok(self)
    }

    /// The log's identity.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The number of entries.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tree head at that size.
    pub fn root(&self) -> &Hash {
        &self.root
    }

    /// The extension lines.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The note text.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for ext in &self.extensions {
            out.push_str(ext);
            out.push('\n');
        }
        out
    }

    /// Parses note text strictly.
    pub fn from_text(text: &str) -> Result<Self, NoteError> {
        let body = text.strip_suffix('\n').ok_or(NoteError::Malformed(
            "checkpoint text must end with a newline",
        ))?;
        let lines: Vec<&str> = body.split('\n').collect();
        let [origin, size, root, extensions @ ..] = lines.as_slice() else {
            return Err(NoteError::Malformed(
                "checkpoint needs origin, size and root lines",
            ));
        };
        let mut cp = Self::new(origin, parse_size(size)?, parse_root(root)?)?;
        for ext in extensions {
            cp = cp.with_extension(ext)?;
        }
        Ok(cp)
    }

    /// Signs the checkpoint as a note.
    pub fn sign(&self, signers: &[&dyn NoteSigner]) -> Result<SignedCheckpoint, NoteError> {
        let note = Note::sign(&self.to_text(), signers)?;
        Ok(SignedCheckpoint {
            checkpoint: self.clone(),
            note,
        })
    }
}

fn check_line(line: &str, what: &'static str) -> Result<(), NoteError> {
    if line.is_empty() || line.chars().any(char::is_control) {
        return Err(NoteError::Malformed(what));
    }
    Ok(())
}

fn parse_size(s: &str) -> Result<u64, NoteError> {
    let bad = NoteError::Malformed("checkpoint size must be decimal without leading zeros");
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return Err(bad);
    }
    s.parse().map_err(|_| bad)
}

fn parse_root(s: &str) -> Result<Hash, NoteError> {
    Hash::from_base64(s)
        .map_err(|_| NoteError::Malformed("checkpoint root must be base64 of 32 bytes"))
}

/// A checkpoint read from the wire: well formed, signatures not yet checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    note: Note,
}

impl SignedCheckpoint {
    /// Parses a signed checkpoint (note and body) strictly.
    pub fn parse(bytes: &[u8]) -> Result<Self, NoteError> {
        let note = Note::parse(bytes)?;
        let checkpoint = Checkpoint::from_text(note.text())?;
        Ok(Self { checkpoint, note })
    }

    /// The body, unverified.
    pub fn unverified(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The note.
    pub fn note(&self) -> &Note {
        &self.note
    }

    /// The wire form.
    pub fn to_text(&self) -> String {
        self.note.to_text()
    }

    /// Checks the signatures against trusted keys (see [`Note::verify`]).
    pub fn verify(self, verifiers: &[&dyn NoteVerifier]) -> Result<VerifiedCheckpoint, NoteError> {
        let signers = self.note.verify(verifiers)?;
        Ok(VerifiedCheckpoint {
            inner: self,
            signers,
        })
    }
}

/// A checkpoint whose signature by a trusted key was checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    inner: SignedCheckpoint,
    signers: Vec<String>,
}

impl VerifiedCheckpoint {
    /// The verified body.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.inner.checkpoint
    }

    /// The names of the trusted keys whose signatures verified.
    pub fn signers(&self) -> &[String] {
        &self.signers
    }

    /// The signed checkpoint.
    pub fn signed(&self) -> &SignedCheckpoint {
        &self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip() {
        let cp = Checkpoint::new("example.com/log", 7, crate::merkle::empty_root())
            .unwrap()
            .with_extension("ext")
            .unwrap();
        assert_eq!(Checkpoint::from_text(&cp.to_text()), Ok(cp));
    }

    #[test]
    fn fail_malformed_bodies() {
        let root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        let cases = [
            format!("o\n1\n{root}"),
            "o\n1\n".to_string(),
            format!("\n1\n{root}\n"),
            format!("o\n01\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("o\n+1\n{root}\n"),
            format!("o\n 1\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            "o\n1\nAAAA\n".to_string(),
            format!("o\n1\n{root}\n\n"),
            format!("o\n1\n{root}\next\n\n"),
            "o\n1\n47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=\n".to_string(),
        ];
        for (i, text) in cases.iter().enumerate() {
            assert!(
                Checkpoint::from_text(text).is_err(),
                "TC{i} failed: {text:?}"
            );
        }
    }
}
