//! RFC 6962 / RFC 9162 §2.1 hashing: SHA-256 with domain separation between leaves and nodes.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tradeguard_crypto::digest::{sha256, sha256_parts};

use super::ProofError;

/// A SHA-256 tree hash: a leaf hash, an interior node hash or a tree head (root).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash([u8; 32]);

impl Hash {
    /// Length of a hash in bytes.
    pub const LEN: usize = 32;

    /// Wraps 32 bytes.
    pub const fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses a hash from a slice, which must be exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, ProofError> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| ProofError::HashLength { got: bytes.len() })?;
        Ok(Self(arr))
    }

    /// Parses standard base64 (with padding), the encoding of tlog checkpoints and proofs.
    pub fn from_base64(s: &str) -> Result<Self, ProofError> {
        let bytes = STANDARD.decode(s).map_err(|_| ProofError::HashEncoding)?;
        Self::from_slice(&bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Standard base64 with padding (44 characters).
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Lowercase hex (64 characters).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The root of the empty tree: `SHA-256()` (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    Hash(sha256(b""))
}

/// The hash of a leaf: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    Hash(sha256_parts(&[&[0x00], data]))
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash(sha256_parts(&[&[0x01], &left.0, &right.0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_wrong_lengths() {
        for (i, len) in [0usize, 12, 31, 33, 64].iter().enumerate() {
            assert_eq!(
                Hash::from_slice(&vec![0; *len]),
                Err(ProofError::HashLength { got: *len }),
                "TC{i} failed"
            );
        }
        assert_eq!(Hash::from_base64("!!"), Err(ProofError::HashEncoding));
    }

    #[test]
    fn base64_round_trip() {
        let h = leaf_hash(b"x");
        assert_eq!(Hash::from_base64(&h.to_base64()), Ok(h));
    }
}
