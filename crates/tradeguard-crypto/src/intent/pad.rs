//! Padding every intent to one fixed packet size before sealing.
//!
//! The configured size is the size of the sealed packet in bytes: the encapsulated key plus
//! the ciphertext and its 16-byte tag (base64url-encoded in the envelope JSON, so every
//! envelope of one suite has the same length on the wire). The padded plaintext is
//! `len (4 bytes, big-endian) ‖ payload ‖ zero bytes`. A payload that does not fit is an error,
//! never truncated; unpadding refuses a wrong total size, a length beyond the buffer and any
//! non-zero padding byte.

use zeroize::Zeroizing;

use super::IntentError;
use crate::hpke::Kem;

/// Default packet size for X25519 (bytes of `enc` ‖ ciphertext).
pub const DEFAULT_X25519_PACKET: usize = 1024;
/// Default packet size for X-Wing: larger, since its encapsulated key alone is 1120 bytes.
pub const DEFAULT_XWING_PACKET: usize = 2048;
/// Bytes of the length prefix.
const LEN_PREFIX: usize = 4;
/// AEAD tag length.
const TAG: usize = 16;
/// The smallest payload capacity a packet size must leave.
const MIN_CAPACITY: usize = 256;
/// The largest packet size accepted.
const MAX_PACKET: usize = 64 * 1024;

/// The fixed packet size per KEM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketSizes {
    x25519: usize,
    xwing: usize,
}

impl Default for PacketSizes {
    fn default() -> Self {
        Self {
            x25519: DEFAULT_X25519_PACKET,
            xwing: DEFAULT_XWING_PACKET,
        }
    }
}

impl PacketSizes {
    /// Checked sizes: each must leave room for at least 256 payload bytes and be at most 64 KiB.
    pub fn new(x25519: usize, xwing: usize) -> Result<Self, IntentError> {
        let sizes = Self { x25519, xwing };
        for kem in [Kem::X25519HkdfSha256, Kem::XWing] {
            let packet = sizes.packet(kem);
            let overhead = enc_len(kem) + TAG + LEN_PREFIX;
            if packet > MAX_PACKET || packet < overhead + MIN_CAPACITY {
                return Err(IntentError::BadPacketSize {
                    kem: kem.name(),
                    reason: format!(
                        "must be between {} and {MAX_PACKET} bytes",
                        overhead + MIN_CAPACITY
                    ),
                });
            }
        }
        Ok(sizes)
    }

    /// The packet size for `kem` (encapsulated key plus ciphertext).
    pub fn packet(&self, kem: Kem) -> usize {
        match kem {
            Kem::X25519HkdfSha256 => self.x25519,
            Kem::XWing => self.xwing,
        }
    }

    /// The padded plaintext length for `kem`.
    pub fn padded_len(&self, kem: Kem) -> usize {
        self.packet(kem) - enc_len(kem) - TAG
    }

    /// The largest payload a packet for `kem` carries.
    pub fn capacity(&self, kem: Kem) -> usize {
        self.padded_len(kem) - LEN_PREFIX
    }
}

/// Length of the encapsulated key of `kem`.
pub fn enc_len(kem: Kem) -> usize {
    match kem {
        Kem::X25519HkdfSha256 => 32,
        Kem::XWing => 1120,
    }
}

/// Pads `payload` to exactly `padded_len` bytes (wiped when dropped).
pub fn pad(payload: &[u8], padded_len: usize) -> Result<Zeroizing<Vec<u8>>, IntentError> {
    let capacity = padded_len.saturating_sub(LEN_PREFIX);
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|_| payload.len() <= capacity);
    let Some(len) = len else {
        return Err(IntentError::PayloadTooLarge {
            size: payload.len(),
            capacity,
        });
    };
    let mut out = Zeroizing::new(vec![0u8; padded_len]);
    out[..LEN_PREFIX].copy_from_slice(&len.to_be_bytes());
    out[LEN_PREFIX..LEN_PREFIX + payload.len()].copy_from_slice(payload);
    Ok(out)
}

/// The payload inside `padded`, which must be exactly `padded_len` bytes of valid padding.
pub fn unpad(padded: &[u8], padded_len: usize) -> Result<&[u8], IntentError> {
    let bad = |reason| IntentError::Padding { reason };
    if padded.len() != padded_len {
        return Err(bad("the plaintext is not the configured padded size"));
    }
    let (prefix, rest) = padded
        .split_first_chunk::<LEN_PREFIX>()
        .ok_or(bad("the plaintext is shorter than the length prefix"))?;
    let len = usize::try_from(u32::from_be_bytes(*prefix)).unwrap_or(usize::MAX);
    if len > rest.len() {
        return Err(bad("the length prefix exceeds the packet"));
    }
    let (payload, padding) = rest.split_at(len);
    if padding.iter().any(|b| *b != 0) {
        return Err(bad("a padding byte is not zero"));
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_sizes_leave_room_for_an_intent() {
        let s = PacketSizes::default();
        assert_eq!(s.capacity(Kem::X25519HkdfSha256), 1024 - 32 - 16 - 4);
        assert_eq!(s.capacity(Kem::XWing), 2048 - 1120 - 16 - 4);
        assert_eq!(PacketSizes::new(1024, 2048), Ok(s));
    }

    #[test]
    fn fail_unusable_sizes() {
        let cases = [
            (100, 2048),
            (1024, 1200),
            (1024, 1 << 20),
            (usize::MAX, 2048),
        ];
        for (i, (x, w)) in cases.into_iter().enumerate() {
            assert!(PacketSizes::new(x, w).is_err(), "TC{i} failed");
        }
    }

    #[test]
    fn fail_unpad_cases() {
        let good = pad(b"abc", 16).unwrap();
        assert_eq!(unpad(&good, 16).unwrap(), b"abc");
        let mut nonzero = good.to_vec();
        nonzero[15] = 1;
        let mut long = good.to_vec();
        long[3] = 13;
        let cases: [(&[u8], usize); 5] = [
            (&good[..15], 16),
            (&good, 17),
            (&nonzero, 16),
            (&long, 16),
            (&[0, 0, 0], 3),
        ];
        for (i, (buf, len)) in cases.into_iter().enumerate() {
            assert!(
                matches!(unpad(buf, len), Err(IntentError::Padding { .. })),
                "TC{i} failed"
            );
        }
        assert_eq!(
            unpad(&pad(b"x".repeat(12).as_slice(), 16).unwrap(), 16)
                .unwrap()
                .len(),
            12
        );
    }

    #[test]
    fn fail_payload_too_large_is_never_truncated() {
        assert_eq!(
            pad(&[1u8; 13], 16),
            Err(IntentError::PayloadTooLarge {
                size: 13,
                capacity: 12
            })
        );
    }
}
