//! Secret types: zeroized on drop, never printed, revealed only through `expose_secret`.

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

/// Secret bytes (keys, API secrets). `Debug` prints `[REDACTED]`; there is no `Display` and no
/// `Serialize`. The buffer is wiped when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Takes ownership of `bytes`; they are wiped when this value is dropped.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Copies `bytes` into a new secret. Wipe the source yourself if you own it.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self::new(bytes.to_vec())
    }

    /// Fresh random bytes from the system CSPRNG.
    pub fn random(len: usize) -> Result<Self, crate::CryptoError> {
        let mut buf = Zeroizing::new(vec![0u8; len]);
        crate::random::fill(&mut buf)?;
        Ok(Self(buf))
    }

    /// The secret itself. Call sites should say why they need it.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes (not secret).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBytes([REDACTED])")
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(v: Vec<u8>) -> Self {
        Self::new(v)
    }
}

/// A secret string (API secret, passphrase). Same guarantees as [`SecretBytes`].
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Takes ownership of `s`; it is wiped when this value is dropped.
    pub fn new(s: String) -> Self {
        Self(Zeroizing::new(s))
    }

    /// The secret itself. Call sites should say why they need it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Length in bytes (not secret).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString([REDACTED])")
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl<'de> serde::Deserialize<'de> for SecretString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut s = String::deserialize(d)?;
        let secret = Self::new(s.clone());
        s.zeroize();
        Ok(secret)
    }
}

/// A fixed-size secret key kept in a box so moves do not leave copies on the stack.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey<const N: usize>(Box<[u8; N]>);

impl<const N: usize> SecretKey<N> {
    /// Fresh random key from the system CSPRNG.
    pub fn random() -> Result<Self, crate::CryptoError> {
        let mut k = Box::new([0u8; N]);
        crate::random::fill(&mut k[..])?;
        Ok(Self(k))
    }

    /// Copies `bytes` (must be exactly `N` long) into a new key.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, crate::CryptoError> {
        if bytes.len() != N {
            return Err(crate::CryptoError::InvalidKey {
                what: "secret key",
                reason: "wrong length",
            });
        }
        let mut k = Box::new([0u8; N]);
        k.copy_from_slice(bytes);
        Ok(Self(k))
    }

    /// The key bytes. Call sites should say why they need them.
    pub fn expose_secret(&self) -> &[u8; N] {
        &self.0
    }
}

impl<const N: usize> Drop for SecretKey<N> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<const N: usize> fmt::Debug for SecretKey<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey<{N}>([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_secret() {
        let canary = "canary-4f1c9e-do-not-leak";
        let s = SecretString::new(canary.to_string());
        let b = SecretBytes::from_slice(canary.as_bytes());
        let k = SecretKey::<25>::from_slice(canary.as_bytes()).unwrap();
        for printed in [format!("{s:?}"), format!("{b:?}"), format!("{k:?}")] {
            assert!(!printed.contains(canary), "leaked in {printed}");
            assert!(printed.contains("REDACTED"));
        }
    }

    #[test]
    fn fail_secret_key_of_wrong_length() {
        assert!(SecretKey::<32>::from_slice(&[0u8; 31]).is_err());
    }
}
