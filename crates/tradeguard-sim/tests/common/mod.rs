//! Test helpers: start the simulators on a manual clock and sign requests by hand, following
//! exchanges.md, with tradeguard-crypto and aws-lc-rs primitives (never the connector crate).

#![allow(dead_code)]

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use tradeguard_crypto::digest::sha256_parts;
use tradeguard_crypto::mac::{hmac_sha256, hmac_sha512};
use tradeguard_crypto::sign::Ed25519SigningKey;
use tradeguard_sim::{ManualClock, Sim, SimConfig, SimCredential};

/// A fixed test time (2026-11-22T...), ms.
pub const T0: u64 = 1_795_386_000_000;

/// The simulators on a manual clock set to `T0`.
pub async fn start(config: SimConfig) -> (Sim, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let sim = tradeguard_sim::start(SimConfig {
        clock: clock.clone(),
        ..config
    })
    .await
    .expect("simulators start");
    (sim, clock)
}

/// An HTTP answer: status, selected headers and JSON body.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn send(req: reqwest::RequestBuilder) -> Answer {
    let resp = req.send().await.expect("request reaches the simulator");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        headers,
        body,
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

// ---- Binance (exchanges.md 1.2): payload = query + body, HMAC-SHA256 hex or Ed25519 base64.

pub fn binance_hmac(secret: &str, payload: &str) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), payload.as_bytes()))
}

pub fn binance_ed25519(pem: &str, payload: &str) -> String {
    let key = Ed25519SigningKey::from_pkcs8_pem(pem).expect("PKCS#8 Ed25519 key");
    let sig = STANDARD.encode(key.sign(payload.as_bytes()));
    url::form_urlencoded::byte_serialize(sig.as_bytes()).collect()
}

/// A signed Binance GET with `params` (timestamp added by the caller).
pub async fn binance_get(c: &SimCredential, path: &str, params: &str, signature: &str) -> Answer {
    let url = format!("{}{path}?{params}&signature={signature}", c.base_url);
    send(client().get(url).header("X-MBX-APIKEY", &c.api_key)).await
}

/// A signed Binance request with everything in the form body.
pub async fn binance_form(
    c: &SimCredential,
    method: reqwest::Method,
    path: &str,
    body: &str,
    signature: &str,
) -> Answer {
    let url = format!("{}{path}", c.base_url);
    let body = format!("{body}&signature={signature}");
    let req = client()
        .request(method, url)
        .header("X-MBX-APIKEY", &c.api_key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    send(req).await
}

// ---- Kraken (exchanges.md 2.2): API-Sign = b64(HMAC-SHA512(b64d(secret), path || SHA256(nonce + body))).

pub fn kraken_sign(secret_b64: &str, path: &str, nonce: &str, body: &str) -> String {
    let secret = STANDARD.decode(secret_b64).expect("base64 secret");
    let digest = sha256_parts(&[nonce.as_bytes(), body.as_bytes()]);
    let mut msg = path.as_bytes().to_vec();
    msg.extend_from_slice(&digest);
    STANDARD.encode(hmac_sha512(&secret, &msg))
}

pub async fn kraken_post(
    c: &SimCredential,
    method: &str,
    nonce: u64,
    rest: &str,
    secret_b64: &str,
) -> Answer {
    let path = format!("/0/private/{method}");
    let body = if rest.is_empty() {
        format!("nonce={nonce}")
    } else {
        format!("nonce={nonce}&{rest}")
    };
    let sign = kraken_sign(secret_b64, &path, &nonce.to_string(), &body);
    let req = client()
        .post(format!("{}{path}", c.base_url))
        .header("API-Key", &c.api_key)
        .header("API-Sign", sign)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    send(req).await
}

// ---- Coinbase Exchange (exchanges.md 4.2): b64(HMAC-SHA256(b64d(secret), ts + METHOD + path + body)).

pub fn cbx_sign(
    secret_b64: &str,
    ts: &str,
    method: &str,
    request_path: &str,
    body: &str,
) -> String {
    let secret = STANDARD.decode(secret_b64).expect("base64 secret");
    STANDARD.encode(hmac_sha256(
        &secret,
        format!("{ts}{method}{request_path}{body}").as_bytes(),
    ))
}

pub async fn cbx(
    c: &SimCredential,
    method: reqwest::Method,
    request_path: &str,
    body: &str,
    ts: &str,
    secret_b64: &str,
    passphrase: &str,
) -> Answer {
    let sign = cbx_sign(secret_b64, ts, method.as_str(), request_path, body);
    let req = client()
        .request(method, format!("{}{request_path}", c.base_url))
        .header("CB-ACCESS-KEY", &c.api_key)
        .header("CB-ACCESS-SIGN", sign)
        .header("CB-ACCESS-TIMESTAMP", ts)
        .header("CB-ACCESS-PASSPHRASE", passphrase)
        .header("content-type", "application/json")
        .body(body.to_owned());
    send(req).await
}

// ---- Coinbase Advanced Trade (exchanges.md 3.2): JWT per request, ES256 or EdDSA.

/// Signs a JWT with the credential's key (ES256 from the SEC1 PEM, EdDSA from base64 seed‖pk).
pub fn jwt(c: &SimCredential, claims: &Value, nonce: &str) -> String {
    let secret = c.api_secret.expose_secret();
    let alg = if secret.starts_with("-----BEGIN EC PRIVATE KEY-----") {
        "ES256"
    } else {
        "EdDSA"
    };
    let header = json!({"alg": alg, "kid": c.api_key, "nonce": nonce, "typ": "JWT"});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = if alg == "ES256" {
        let der = pem_body(secret);
        let pair = EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
            .expect("SEC1 P-256 key");
        pair.sign(&SystemRandom::new(), input.as_bytes())
            .expect("sign")
            .as_ref()
            .to_vec()
    } else {
        let raw = STANDARD.decode(secret).expect("base64 Ed25519 secret");
        Ed25519SigningKey::from_seed(&raw[..32])
            .expect("seed")
            .sign(input.as_bytes())
            .to_vec()
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn pem_body(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(b64).expect("PEM base64")
}

/// Claims as CB-PY builds them: `uri = "METHOD host/path"`, 2-minute lifetime.
pub fn claims(c: &SimCredential, method: &str, path: &str, nbf_s: u64) -> Value {
    let host = c.base_url.trim_start_matches("http://");
    json!({"sub": c.api_key, "iss": "cdp", "nbf": nbf_s, "exp": nbf_s + 120, "uri": format!("{method} {host}{path}")})
}

pub async fn coinbase(
    c: &SimCredential,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
    token: &str,
) -> Answer {
    let mut req = client()
        .request(method, format!("{}{path}", c.base_url))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    send(req).await
}
