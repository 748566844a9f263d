//! `tradeguard seal` (client side): reads a credential document on stdin, checks it, and
//! writes it as an HPKE envelope for a gateway's public key. The recipient is a `/v1/keys`
//! JSON file (from `tradeguard keys` or `GET /v1/keys`) or a data dir.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use tradeguard_crypto::envelope::{self, Info};
use tradeguard_crypto::hpke::{Aead, Kdf, Kem, Suite};
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_vault::{CredentialSecret, GatewayPublicKeys, MAX_CREDENTIAL_JSON};

use super::datadir::{self, Invalid};

/// Arguments of `tradeguard seal`.
#[derive(Args)]
pub struct SealArgs {
    /// The gateway's keys: a /v1/keys JSON file, or a data dir.
    #[arg(long, value_name = "FILE|DIR")]
    recipient: PathBuf,
    /// Key encapsulation: classic X25519, or X-Wing (hybrid post-quantum).
    #[arg(long, value_enum, default_value_t = KemArg::X25519)]
    kem: KemArg,
    /// Authenticated encryption.
    #[arg(long, value_enum, default_value_t = AeadArg::Aes256Gcm)]
    aead: AeadArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum KemArg {
    X25519,
    Xwing,
}

#[derive(Clone, Copy, ValueEnum)]
enum AeadArg {
    #[value(name = "aes-256-gcm")]
    Aes256Gcm,
    #[value(name = "chacha20-poly1305")]
    Chacha20Poly1305,
}

/// Runs `tradeguard seal`.
pub fn run(args: SealArgs) -> anyhow::Result<ExitCode> {
    datadir::finish(datadir::block_on(seal(&args))?)
}

async fn seal(args: &SealArgs) -> anyhow::Result<()> {
    let keys = recipient(args).await?;
    let doc = read_stdin()?;
    // Validate before sealing: the gateway would refuse the same document after import.
    CredentialSecret::from_json(doc.expose_secret())?;
    let suite = Suite {
        kem: match args.kem {
            KemArg::X25519 => Kem::X25519HkdfSha256,
            KemArg::Xwing => Kem::XWing,
        },
        kdf: Kdf::HkdfSha256,
        aead: match args.aead {
            AeadArg::Aes256Gcm => Aead::Aes256Gcm,
            AeadArg::Chacha20Poly1305 => Aead::ChaCha20Poly1305,
        },
    };
    let sealed = envelope::seal(
        keys.hpke(suite.kem),
        suite,
        Info::Credential,
        doc.expose_secret(),
    )?;
    println!("{}", sealed.to_json());
    Ok(())
}

async fn recipient(args: &SealArgs) -> anyhow::Result<GatewayPublicKeys> {
    let path = &args.recipient;
    if path.is_dir() {
        let store = datadir::open_store(path).await?;
        return Ok(datadir::vault(store).public_keys().await?);
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        Invalid(format!(
            "cannot read --recipient {} ({e}); give the JSON of `tradeguard keys` or a data dir",
            path.display()
        ))
    })?;
    Ok(GatewayPublicKeys::from_json(&text)?)
}

/// The credential document from stdin (at most 64 KiB), held as a secret.
fn read_stdin() -> anyhow::Result<SecretBytes> {
    // Room for the whole document up front: a growing Vec would leave copies behind.
    let limit = MAX_CREDENTIAL_JSON as u64 + 1;
    let mut buf = Vec::with_capacity(MAX_CREDENTIAL_JSON + 1);
    let read = std::io::stdin().lock().take(limit).read_to_end(&mut buf);
    let doc = SecretBytes::new(buf);
    read.map_err(|e| Invalid(format!("cannot read the credential from stdin ({e})")))?;
    if doc.is_empty() {
        return Err(Invalid(
            "no credential on stdin; pipe in JSON with exchange (binance, coinbase, \
             coinbaseexchange, kraken), api_key, api_secret, passphrase (coinbaseexchange only) \
             and label"
                .into(),
        )
        .into());
    }
    Ok(doc)
}
