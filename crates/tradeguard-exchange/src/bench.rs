//! `tradeguard bench exchange`: signed requests per second per exchange and key type,
//! signing only (no network), on one thread. Each iteration does what the connector does for
//! one request: borrow the credential, parse the key, build the payload, sign, encode.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tradeguard_crypto::sign::Ed25519SigningKey;

use crate::credentials::{ApiCredential, InMemorySecretSource, SecretSource, with_credential};
use crate::error::ExchangeError;
use crate::model::{ExchangeId, UnixMillis};
use crate::{binance, coinbase, coinbase_exchange, kraken};

/// Time spent measuring each scheme by [`signing_rates`].
const DEFAULT_BUDGET: Duration = Duration::from_millis(300);

/// Signing rates per exchange with the default measuring time (about 2 s in all).
pub fn signing_rates() -> Value {
    signing_rates_for(DEFAULT_BUDGET)
}

/// Signing rates, measuring each scheme for about `budget`.
pub fn signing_rates_for(budget: Duration) -> Value {
    let mut results = serde_json::Map::new();
    for (name, run) in schemes() {
        let v = match run {
            Ok(f) => measure(budget, f),
            Err(e) => json!({ "error": e.to_string() }),
        };
        results.insert(name.to_owned(), v);
    }
    json!({
        "benchmark": "exchange request signing",
        "unit": "signed requests per second (signing only, one thread)",
        "results": results,
    })
}

type Signer = Box<dyn FnMut() -> Result<usize, ExchangeError>>;

fn measure(budget: Duration, mut f: Signer) -> Value {
    // Warm up (first key parse, page faults), then count whole iterations for `budget`.
    for _ in 0..3 {
        if let Err(e) = f() {
            return json!({ "error": e.to_string() });
        }
    }
    let start = Instant::now();
    let mut n: u64 = 0;
    let mut sink = 0usize;
    while start.elapsed() < budget {
        match f() {
            Ok(len) => sink = sink.wrapping_add(len),
            Err(e) => return json!({ "error": e.to_string() }),
        }
        n += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    std::hint::black_box(sink);
    json!({
        "per_second": (n as f64 / secs).round(),
        "ns_per_request": (secs * 1e9 / n.max(1) as f64).round(),
        "iterations": n,
    })
}

fn source(secret: &str, passphrase: Option<&str>) -> InMemorySecretSource {
    InMemorySecretSource::from_parts("bench-key", secret, passphrase)
}

fn random_b64(len: usize) -> Result<String, ExchangeError> {
    let bytes =
        tradeguard_crypto::secret::SecretBytes::random(len).map_err(|_| ExchangeError::Config {
            exchange: ExchangeId::Binance,
            what: "bench key",
            reason: "the system random number generator failed".into(),
        })?;
    Ok(STANDARD.encode(bytes.expose_secret()))
}

fn ed25519_pem() -> Result<String, ExchangeError> {
    let k = Ed25519SigningKey::generate().map_err(|e| ExchangeError::Config {
        exchange: ExchangeId::Binance,
        what: "bench key",
        reason: e.to_string(),
    })?;
    Ok(k.to_pkcs8_pem().expose_secret().to_owned())
}

fn p256_pem() -> Result<String, ExchangeError> {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let doc = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .map_err(|_| ExchangeError::Config {
        exchange: ExchangeId::Coinbase,
        what: "bench key",
        reason: "P-256 key generation failed".into(),
    })?;
    Ok(format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(doc.as_ref())
    ))
}

fn eddsa_secret() -> Result<String, ExchangeError> {
    let seed = tradeguard_crypto::random::array::<32>().map_err(|_| ExchangeError::Config {
        exchange: ExchangeId::Coinbase,
        what: "bench key",
        reason: "the system random number generator failed".into(),
    })?;
    let k = Ed25519SigningKey::from_seed(&seed).map_err(|e| ExchangeError::Config {
        exchange: ExchangeId::Coinbase,
        what: "bench key",
        reason: e.to_string(),
    })?;
    Ok(STANDARD.encode([&seed[..], &k.verifying_key().as_bytes()[..]].concat()))
}

const NOW: UnixMillis = UnixMillis(1_795_386_067_000);
const ORDER_JSON: &str = r#"{"client_order_id":"496ffbba-7dae-4864-f7e8-a5bf52c6d0e2","order_configuration":{"limit_limit_gtc":{"base_size":"0.01","limit_price":"30000","post_only":false}},"product_id":"BTC-USD","side":"BUY"}"#;

fn binance_signer(secret: String) -> Signer {
    let src = source(&secret, None);
    Box::new(move || {
        let ts = NOW.0.to_string();
        let payload = binance::sign::encode_params(&[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("price", "30000"),
            ("quantity", "0.01"),
            ("newClientOrderId", "tg-1"),
            ("recvWindow", "5000"),
            ("timestamp", &ts),
        ]);
        with_credential(ExchangeId::Binance, &src, "bench", |c| {
            binance::sign::sign(c, &payload)
        })
        .map(|s| s.len())
    })
}

fn coinbase_signer(secret: String) -> Signer {
    let src = source(&secret, None);
    let url = url::Url::parse("https://api.coinbase.com/api/v3/brokerage/orders").ok();
    Box::new(move || {
        let url = url.as_ref().ok_or_else(|| ExchangeError::Config {
            exchange: ExchangeId::Coinbase,
            what: "url",
            reason: "bad".into(),
        })?;
        with_credential(ExchangeId::Coinbase, &src, "bench", |c| {
            coinbase::sign::bearer(c, "POST", url, NOW)
        })
        .map(|s| s.len())
    })
}

fn schemes() -> Vec<(&'static str, Result<Signer, ExchangeError>)> {
    vec![
        ("binance_hmac_sha256", random_b64(48).map(binance_signer)),
        ("binance_ed25519", ed25519_pem().map(binance_signer)),
        ("coinbase_jwt_es256", p256_pem().map(coinbase_signer)),
        ("coinbase_jwt_eddsa", eddsa_secret().map(coinbase_signer)),
        (
            "coinbase_exchange_hmac_sha256",
            random_b64(64).map(|secret| -> Signer {
                let src = source(&secret, Some("bench-passphrase"));
                Box::new(move || {
                    with_credential(
                        ExchangeId::CoinbaseExchange,
                        &src,
                        "bench",
                        |c: &ApiCredential| {
                            coinbase_exchange::sign::headers(c, NOW, "POST", "/orders", ORDER_JSON)
                        },
                    )
                    .map(|h| h.len())
                })
            }),
        ),
        (
            "kraken_hmac_sha512",
            random_b64(64).map(|secret| -> Signer {
                let src = source(&secret, None);
                let nonces = kraken::sign::NonceSource::new();
                Box::new(move || {
                    let nonce = nonces.next(NOW).to_string();
                    let body = format!(
                        "nonce={nonce}&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
                    );
                    with_credential(
                        ExchangeId::Kraken,
                        &src as &dyn SecretSource,
                        "bench",
                        |c| {
                            kraken::sign::api_sign(
                                c.api_secret.expose_secret(),
                                "/0/private/AddOrder",
                                &nonce,
                                body.as_bytes(),
                            )
                        },
                    )
                    .map(|s| s.len())
                })
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheme_reports_a_positive_rate() {
        let v = signing_rates_for(Duration::from_millis(2));
        let results = v["results"].as_object().unwrap();
        assert_eq!(results.len(), 6);
        for (name, r) in results {
            assert!(r["per_second"].as_f64().unwrap_or(0.0) > 0.0, "{name}: {r}");
        }
    }
}
