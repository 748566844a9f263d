//! The master key: Argon2id over the passphrase, and the sub-keys derived from it.
//!
//! Sub-keys are HMAC-SHA256(master, label) for distinct labels (HMAC is a PRF; this is
//! HKDF-Expand with one output block). The stored check value is one more such output: it
//! tells a right passphrase from a wrong one and reveals nothing about the others.

use argon2::{Algorithm, Argon2, Params, Version};
use tradeguard_crypto::mac::hmac_sha256;
use tradeguard_crypto::secret::{SecretKey, SecretString};

use crate::{Result, VaultError};

/// Salt length written by new vaults.
pub(crate) const SALT_LEN: usize = 16;
/// Largest memory cost accepted from the database (4 GiB), so a tampered row cannot make
/// unlocking allocate without bound.
const MAX_M_COST_KIB: u32 = 4 * 1024 * 1024;
/// Largest iteration count accepted from the database.
const MAX_T_COST: u32 = 64;
/// Largest parallelism accepted from the database.
const MAX_P_COST: u32 = 16;

/// Argon2id cost parameters, stored beside the data so later unlocks use the same ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB (default 65536 = 64 MiB).
    pub m_cost_kib: u32,
    /// Iterations (default 3).
    pub t_cost: u32,
    /// Parallelism (default 1).
    pub p_cost: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        Self {
            m_cost_kib: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
        }
    }
}

impl KdfParams {
    /// Cheap parameters (64 KiB, one pass) that make tests fast. They protect a passphrase
    /// against nothing: never use them for a real vault.
    pub fn dangerous_insecure_for_tests() -> Self {
        Self {
            m_cost_kib: 64,
            t_cost: 1,
            p_cost: 1,
        }
    }

    /// Checks the parameters are within what this build accepts (also applied to stored rows).
    pub(crate) fn validate(self) -> Result<Params> {
        let in_range = (1..=MAX_T_COST).contains(&self.t_cost)
            && (1..=MAX_P_COST).contains(&self.p_cost)
            && self.m_cost_kib >= 8 * self.p_cost
            && self.m_cost_kib <= MAX_M_COST_KIB;
        if !in_range {
            return Err(VaultError::invalid(
                "kdf parameters",
                "need 1 <= t <= 64, 1 <= p <= 16, 8*p KiB <= m <= 4 GiB",
            ));
        }
        Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32))
            .map_err(|_| VaultError::invalid("kdf parameters", "rejected by Argon2id"))
    }
}

/// The keys derived from the master key. The master key itself is dropped (and wiped) as soon
/// as these are derived.
pub(crate) struct MasterKeys {
    /// Wraps key-encryption keys.
    pub kek_wrap: SecretKey<32>,
    /// Seals the gateway's private keys.
    pub gateway: SecretKey<32>,
    /// Keys the API-key fingerprints.
    pub fingerprint: SecretKey<32>,
    /// The passphrase check value (not secret once stored).
    pub check_value: [u8; 32],
}

impl MasterKeys {
    /// Runs Argon2id and derives the sub-keys.
    pub fn derive(passphrase: &SecretString, salt: &[u8], params: KdfParams) -> Result<Self> {
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.validate()?);
        let mut master = zeroize::Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.expose_secret().as_bytes(), salt, &mut master[..])
            .map_err(|_| VaultError::invalid("kdf salt or passphrase", "rejected by Argon2id"))?;
        let sub = |label: &str| {
            let label = format!("tradeguard/v1 vault {label}");
            let k = zeroize::Zeroizing::new(hmac_sha256(&master[..], label.as_bytes()));
            SecretKey::<32>::from_slice(&k[..]).map_err(VaultError::Crypto)
        };
        Ok(Self {
            kek_wrap: sub("kek-wrap")?,
            gateway: sub("gateway-keys")?,
            fingerprint: sub("api-key-fingerprint")?,
            check_value: *sub("passphrase-check")?.expose_secret(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(s: &str) -> SecretString {
        SecretString::new(s.to_owned())
    }

    #[test]
    fn same_inputs_same_keys_other_passphrase_other_check() {
        let p = KdfParams::dangerous_insecure_for_tests();
        let a = MasterKeys::derive(&pass("correct horse"), &[1; 16], p).unwrap();
        let b = MasterKeys::derive(&pass("correct horse"), &[1; 16], p).unwrap();
        let c = MasterKeys::derive(&pass("correct horsf"), &[1; 16], p).unwrap();
        assert_eq!(a.check_value, b.check_value);
        assert_eq!(a.kek_wrap, b.kek_wrap);
        assert_ne!(a.check_value, c.check_value);
        assert_ne!(a.kek_wrap.expose_secret(), a.gateway.expose_secret());
    }

    #[test]
    fn default_is_the_documented_cost() {
        let d = KdfParams::default();
        assert_eq!((d.m_cost_kib, d.t_cost, d.p_cost), (65536, 3, 1));
        d.validate().unwrap();
    }

    #[test]
    fn fail_params_out_of_range() {
        let cases = [
            KdfParams {
                m_cost_kib: 4,
                t_cost: 1,
                p_cost: 1,
            },
            KdfParams {
                m_cost_kib: 64,
                t_cost: 0,
                p_cost: 1,
            },
            KdfParams {
                m_cost_kib: 64,
                t_cost: 1,
                p_cost: 0,
            },
            KdfParams {
                m_cost_kib: u32::MAX,
                t_cost: 1,
                p_cost: 1,
            },
            KdfParams {
                m_cost_kib: 64,
                t_cost: 1000,
                p_cost: 1,
            },
        ];
        for (i, p) in cases.iter().enumerate() {
            assert!(p.validate().is_err(), "TC{} failed", i + 1);
        }
    }
}
