//! API keys of the simulated venues: generation, permissions and the server-side key store.
//!
//! A [`SimCredential`] is what a user would copy from the exchange's web page (key, secret,
//! passphrase); the venue keeps only what the exchange keeps: an HMAC secret, or a public key,
//! and a salted hash of a passphrase.

use std::collections::HashMap;
use std::net::IpAddr;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use tradeguard_crypto::ct::ct_eq;
use tradeguard_crypto::digest::sha256_parts;
use tradeguard_crypto::secret::{SecretBytes, SecretString};
use tradeguard_crypto::sign::{Ed25519SigningKey, Ed25519VerifyingKey};

use crate::engine::AccountId;
use crate::{SimError, Venue};

/// How a key signs requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum KeyScheme {
    /// Shared secret (Binance HMAC-SHA256, Coinbase Exchange, Kraken).
    Hmac,
    /// Ed25519 (Binance Ed25519 keys, Coinbase CDP EdDSA keys).
    Ed25519,
    /// ECDSA P-256 (Coinbase CDP ES256 keys).
    Es256,
}

/// What a key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Permissions {
    /// Read balances, orders and fills.
    pub read: bool,
    /// Place and cancel orders.
    pub trade: bool,
    /// Withdraw or transfer funds (the permission the gateway must refuse).
    pub withdraw: bool,
}

impl Permissions {
    /// Read and trade, no withdrawal: the safe key the gateway wants.
    pub fn trading() -> Self {
        Self {
            read: true,
            trade: true,
            withdraw: false,
        }
    }
    /// Read only.
    pub fn read_only() -> Self {
        Self {
            read: true,
            trade: false,
            withdraw: false,
        }
    }
    /// Read, trade and withdraw: a key the gateway must refuse.
    pub fn dangerous_withdraw() -> Self {
        Self {
            read: true,
            trade: true,
            withdraw: true,
        }
    }
}

/// What kind of key to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySpec {
    /// Signing scheme (must be one the venue issues).
    pub scheme: KeyScheme,
    /// Permissions.
    pub permissions: Permissions,
    /// Allowed client IPs; empty means unrestricted.
    pub ip_allowlist: Vec<IpAddr>,
}

impl KeySpec {
    /// The venue's usual key scheme with trading permissions and no IP restriction.
    pub fn trading(venue: Venue) -> Self {
        let scheme = match venue {
            Venue::Coinbase => KeyScheme::Es256,
            _ => KeyScheme::Hmac,
        };
        Self {
            scheme,
            permissions: Permissions::trading(),
            ip_allowlist: Vec::new(),
        }
    }
}

/// A key as the user holds it. `api_secret` is the venue's secret format: Binance HMAC the raw
/// ASCII secret, Binance Ed25519 a PKCS#8 PEM, Coinbase ES256 a SEC1 `EC PRIVATE KEY` PEM,
/// Coinbase EdDSA base64 of seed‖public key, Coinbase Exchange and Kraken base64 of 64 bytes.
#[derive(Clone, Debug)]
pub struct SimCredential {
    /// The venue.
    pub venue: Venue,
    /// Base URL of the venue's simulator (`http://127.0.0.1:PORT`).
    pub base_url: String,
    /// The API key (Coinbase CDP: the key name).
    pub api_key: String,
    /// The secret.
    pub api_secret: SecretString,
    /// Coinbase Exchange passphrase.
    pub passphrase: Option<SecretString>,
    /// Signing scheme.
    pub scheme: KeyScheme,
    /// The funded account the key belongs to.
    pub account: AccountId,
    /// What the key may do.
    pub permissions: Permissions,
}

/// How the venue checks a signature for one key.
pub(crate) enum Verifier {
    /// Shared HMAC key bytes (Binance: the ASCII secret; others: the base64-decoded secret).
    Hmac(SecretBytes),
    /// Ed25519 public key.
    Ed25519(Ed25519VerifyingKey),
    /// P-256 public key, uncompressed SEC1 point.
    EcP256(Vec<u8>),
}

/// A key as the venue stores it.
pub(crate) struct KeyRecord {
    pub(crate) api_key: String,
    pub(crate) account: AccountId,
    pub(crate) verifier: Verifier,
    pub(crate) permissions: Permissions,
    pub(crate) ip_allowlist: Vec<IpAddr>,
    passphrase: Option<([u8; 16], [u8; 32])>,
}

impl KeyRecord {
    /// Constant-time check of a Coinbase Exchange passphrase against the salted hash.
    pub(crate) fn passphrase_matches(&self, given: &str) -> bool {
        self.passphrase
            .as_ref()
            .is_some_and(|(salt, hash)| ct_eq(&sha256_parts(&[salt, given.as_bytes()]), hash))
    }

    /// True if `ip` may use the key.
    pub(crate) fn ip_allowed(&self, ip: IpAddr) -> bool {
        self.ip_allowlist.is_empty() || self.ip_allowlist.contains(&ip)
    }
}

/// All keys of one venue, by API key.
#[derive(Default)]
pub(crate) struct KeyStore {
    keys: HashMap<String, KeyRecord>,
}

impl KeyStore {
    pub(crate) fn get(&self, api_key: &str) -> Option<&KeyRecord> {
        self.keys.get(api_key)
    }

    pub(crate) fn insert(&mut self, record: KeyRecord) {
        self.keys.insert(record.api_key.clone(), record);
    }
}

/// Generates a key for `venue` on `account`: the user's credential and the venue's record.
pub(crate) fn generate(
    venue: Venue,
    spec: &KeySpec,
    account: AccountId,
    base_url: &str,
) -> Result<(SimCredential, KeyRecord), SimError> {
    let (api_key, secret, verifier, passphrase) = match (venue, spec.scheme) {
        (Venue::Binance, KeyScheme::Hmac) => {
            let secret = alnum(64)?;
            let v = Verifier::Hmac(SecretBytes::from_slice(secret.as_bytes()));
            (alnum(64)?, secret, v, None)
        }
        (Venue::Binance, KeyScheme::Ed25519) => {
            let key =
                Ed25519SigningKey::generate().map_err(|_| SimError::KeyGeneration("Ed25519"))?;
            let pem = key.to_pkcs8_pem().expose_secret().to_owned();
            (
                alnum(64)?,
                pem,
                Verifier::Ed25519(key.verifying_key()),
                None,
            )
        }
        (Venue::Coinbase, KeyScheme::Es256) => {
            let (pem, public) = p256_key()?;
            let name = format!("organizations/{}/apiKeys/{}", uuid()?, uuid()?);
            (name, pem, Verifier::EcP256(public), None)
        }
        (Venue::Coinbase, KeyScheme::Ed25519) => {
            let key =
                Ed25519SigningKey::generate().map_err(|_| SimError::KeyGeneration("Ed25519"))?;
            let mut raw = key.expose_seed().to_vec();
            raw.extend_from_slice(key.verifying_key().as_bytes());
            (
                uuid()?,
                STANDARD.encode(&raw),
                Verifier::Ed25519(key.verifying_key()),
                None,
            )
        }
        (Venue::CoinbaseExchange, KeyScheme::Hmac) => {
            let raw =
                SecretBytes::random(64).map_err(|_| SimError::KeyGeneration("HMAC secret"))?;
            let secret = STANDARD.encode(raw.expose_secret());
            (
                hex::encode(random_bytes::<16>()?),
                secret,
                Verifier::Hmac(raw),
                Some(alnum(16)?),
            )
        }
        (Venue::Kraken, KeyScheme::Hmac) => {
            let raw =
                SecretBytes::random(64).map_err(|_| SimError::KeyGeneration("HMAC secret"))?;
            let secret = STANDARD.encode(raw.expose_secret());
            (
                STANDARD.encode(random_bytes::<42>()?),
                secret,
                Verifier::Hmac(raw),
                None,
            )
        }
        (venue, scheme) => {
            return Err(SimError::UnsupportedScheme {
                venue,
                scheme: scheme_name(scheme),
            });
        }
    };
    let passphrase_record = match &passphrase {
        Some(p) => {
            let salt = random_bytes::<16>()?;
            Some((salt, sha256_parts(&[&salt, p.as_bytes()])))
        }
        None => None,
    };
    let record = KeyRecord {
        api_key: api_key.clone(),
        account,
        verifier,
        permissions: spec.permissions,
        ip_allowlist: spec.ip_allowlist.clone(),
        passphrase: passphrase_record,
    };
    let credential = SimCredential {
        venue,
        base_url: base_url.to_owned(),
        api_key,
        api_secret: SecretString::new(secret),
        passphrase: passphrase.map(SecretString::new),
        scheme: spec.scheme,
        account,
        permissions: spec.permissions,
    };
    Ok((credential, record))
}

/// Registers an HMAC key whose secret the caller already has (e.g. an exchange's documented
/// example key), in the venue's secret format: Binance the ASCII secret, Coinbase Exchange and
/// Kraken the base64 secret.
pub(crate) fn import_hmac(
    venue: Venue,
    account: AccountId,
    api_key: &str,
    secret: &SecretString,
    passphrase: Option<&SecretString>,
    permissions: Permissions,
) -> Result<KeyRecord, SimError> {
    let key = match venue {
        Venue::Binance => SecretBytes::from_slice(secret.expose_secret().as_bytes()),
        Venue::CoinbaseExchange | Venue::Kraken => SecretBytes::new(
            STANDARD
                .decode(secret.expose_secret())
                .map_err(|_| SimError::KeyGeneration("secret is not base64"))?,
        ),
        Venue::Coinbase => {
            return Err(SimError::UnsupportedScheme {
                venue,
                scheme: "HMAC",
            });
        }
    };
    let passphrase = match passphrase {
        Some(p) => {
            let salt = random_bytes::<16>()?;
            Some((salt, sha256_parts(&[&salt, p.expose_secret().as_bytes()])))
        }
        None => None,
    };
    Ok(KeyRecord {
        api_key: api_key.to_owned(),
        account,
        verifier: Verifier::Hmac(key),
        permissions,
        ip_allowlist: Vec::new(),
        passphrase,
    })
}

fn scheme_name(s: KeyScheme) -> &'static str {
    match s {
        KeyScheme::Hmac => "HMAC",
        KeyScheme::Ed25519 => "Ed25519",
        KeyScheme::Es256 => "ES256",
    }
}

/// A P-256 key as SEC1 PEM (`EC PRIVATE KEY`, what Coinbase CDP hands out) and its public point.
fn p256_key() -> Result<(String, Vec<u8>), SimError> {
    let err = |_: aws_lc_rs::error::Unspecified| SimError::KeyGeneration("P-256");
    let rng = SystemRandom::new();
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(err)?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(|_| SimError::KeyGeneration("P-256"))?;
    let sec1 = pair.private_key().as_der().map_err(err)?;
    Ok((
        pem("EC PRIVATE KEY", sec1.as_ref()),
        pair.public_key().as_ref().to_vec(),
    ))
}

/// PEM armour (RFC 7468): base64 in 64-character lines.
pub(crate) fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn random_bytes<const N: usize>() -> Result<[u8; N], SimError> {
    tradeguard_crypto::random::array::<N>().map_err(|_| SimError::KeyGeneration("random bytes"))
}

/// `n` random characters from [A-Za-z0-9], without modulo bias.
fn alnum(n: usize) -> Result<String, SimError> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in random_bytes::<64>()? {
            if b < 248 && out.len() < n {
                out.push(char::from(ALPHABET[usize::from(b % 62)]));
            }
        }
    }
    Ok(out)
}

fn uuid() -> Result<String, SimError> {
    let mut b = random_bytes::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_venue_issues_its_key_formats() {
        let cases = [
            (Venue::Binance, KeyScheme::Hmac),
            (Venue::Binance, KeyScheme::Ed25519),
            (Venue::Coinbase, KeyScheme::Es256),
            (Venue::Coinbase, KeyScheme::Ed25519),
            (Venue::CoinbaseExchange, KeyScheme::Hmac),
            (Venue::Kraken, KeyScheme::Hmac),
        ];
        for (i, (venue, scheme)) in cases.into_iter().enumerate() {
            let spec = KeySpec {
                scheme,
                permissions: Permissions::trading(),
                ip_allowlist: vec![],
            };
            let (c, r) = generate(venue, &spec, AccountId(1), "http://x")
                .unwrap_or_else(|e| panic!("TC{} failed: {e}", i + 1));
            assert_eq!(c.api_key, r.api_key, "TC{} failed", i + 1);
            assert!(!c.api_secret.is_empty(), "TC{} failed", i + 1);
        }
    }

    #[test]
    fn fail_unsupported_scheme() {
        let spec = KeySpec {
            scheme: KeyScheme::Es256,
            permissions: Permissions::trading(),
            ip_allowlist: vec![],
        };
        assert!(matches!(
            generate(Venue::Kraken, &spec, AccountId(1), ""),
            Err(SimError::UnsupportedScheme { .. })
        ));
    }

    #[test]
    fn passphrase_is_checked_against_a_salted_hash() {
        let (c, r) = generate(
            Venue::CoinbaseExchange,
            &KeySpec::trading(Venue::CoinbaseExchange),
            AccountId(1),
            "",
        )
        .unwrap();
        let pass = c.passphrase.unwrap();
        assert!(r.passphrase_matches(pass.expose_secret()));
        assert!(!r.passphrase_matches("wrong"));
    }

    #[test]
    fn coinbase_es256_secret_is_sec1_pem() {
        let (c, _) = generate(
            Venue::Coinbase,
            &KeySpec::trading(Venue::Coinbase),
            AccountId(1),
            "",
        )
        .unwrap();
        assert!(
            c.api_secret
                .expose_secret()
                .starts_with("-----BEGIN EC PRIVATE KEY-----\n")
        );
        assert!(c.api_key.starts_with("organizations/"));
    }
}
