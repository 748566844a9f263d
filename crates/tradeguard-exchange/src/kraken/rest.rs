//! The Kraken spot REST client: private calls are `POST /0/private/<Method>` with a form body
//! starting `nonce=...`, headers `API-Key` and `API-Sign`.
//!
//! Private calls of one key are sent one at a time, by every client of that key (the turn
//! lives in the key's shared [`NonceSource`]): a nonce must be strictly greater than the last
//! one *accepted*, so two requests racing on the wire could make Kraken refuse the earlier
//! nonce (KR-ERR: "use a counter with a mutex"). Only signing and sending hold the turn;
//! waiting for rate budget or a retry back-off does not.
//! See: <https://docs.kraken.com/api/docs/guides/spot-rest-auth>.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;
use zeroize::Zeroizing;

use super::limits::{KrakenCost, KrakenLimits};
use super::model::{AssetPairWire, Envelope, TimeWire, classify};
use super::sign::{NonceSource, api_sign};
use crate::config::ConnectorConfig;
use crate::credentials::{SecretSource, with_credential};
use crate::error::ExchangeError;
use crate::http::{HttpRequest, HttpResponse};
use crate::hub::ConnectorHub;
use crate::model::{ExchangeId, UnixMillis};
use crate::pipeline::{Call, Pipeline};
use crate::retry::Safety;
use crate::wire::{SymbolBook, json, status_error};

/// Production REST base URL (paths start `/0/`). Kraken spot has no sandbox.
/// See: <https://docs.kraken.com/api/docs/guides/spot-rest-intro>.
pub const PRODUCTION_URL: &str = "https://api.kraken.com";

pub(crate) const EX: ExchangeId = ExchangeId::Kraken;

/// A Kraken spot account.
pub struct KrakenClient {
    pub(crate) pipeline: Pipeline<KrakenLimits>,
    base: Url,
    secrets: Arc<dyn SecretSource>,
    nonces: Arc<NonceSource>,
    offset_ms: AtomicI64,
    pub(crate) pairs: SymbolBook,
}

impl KrakenClient {
    /// A client for `cfg`, signing with `secrets`, sharing budgets and nonces through `hub`.
    pub fn new(
        cfg: &ConnectorConfig,
        secrets: Arc<dyn SecretSource>,
        hub: &ConnectorHub,
    ) -> Result<Self, ExchangeError> {
        let base = cfg.resolve_base_url(PRODUCTION_URL, None)?;
        let nonces = hub.kraken_nonces(cfg);
        let mut pipeline = hub.pipeline(cfg, &base, hub.budgets().kraken(cfg))?;
        pipeline.send_turn = Some(nonces.send_turn());
        Ok(Self {
            pipeline,
            base,
            secrets,
            nonces,
            offset_ms: AtomicI64::new(0),
            pairs: SymbolBook::default(),
        })
    }

    /// Local time corrected by the last measured offset to Kraken's clock.
    pub(crate) fn now(&self) -> UnixMillis {
        UnixMillis(self.pipeline.clock.now().0 + self.offset_ms.load(Ordering::Relaxed))
    }

    fn url(&self, path: &str) -> Result<Url, ExchangeError> {
        self.base.join(path).map_err(|_| ExchangeError::Config {
            exchange: EX,
            what: "base_url",
            reason: format!("cannot append {path}"),
        })
    }

    fn build_private(
        &self,
        method: &str,
        params: &[(&str, String)],
    ) -> Result<HttpRequest, ExchangeError> {
        let path = format!("/0/private/{method}");
        let url = self.url(&path)?;
        let nonce = self.nonces.next(self.pipeline.clock.now()).to_string();
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("nonce", &nonce);
        for (k, v) in params {
            form.append_pair(k, v);
        }
        let body = form.finish();
        with_credential(EX, &*self.secrets, &format!("kraken POST {path}"), |cred| {
            // Exposed here because this is the signer.
            let sig = api_sign(
                cred.api_secret.expose_secret(),
                &path,
                &nonce,
                body.as_bytes(),
            )?;
            let mut req = HttpRequest::new(Method::POST, url.clone());
            req.headers
                .push(("API-Key", Zeroizing::new(cred.api_key.clone())));
            req.headers.push(("API-Sign", Zeroizing::new(sig)));
            req.body = Some((
                "application/x-www-form-urlencoded",
                body.clone().into_bytes(),
            ));
            Ok(req)
        })
    }

    fn decode<T: DeserializeOwned>(
        &self,
        op: &'static str,
        resp: &HttpResponse,
    ) -> Result<T, ExchangeError> {
        if let Some(e) = status_error(EX, op, resp, self.pipeline.clock.now()) {
            return Err(e);
        }
        // Errors first: a failed call may carry a `result` of another shape (`{}`).
        let env: Envelope<serde_json::Value> = json(EX, op, &resp.body)?;
        if !env.error.is_empty() {
            return Err(classify(op, &env.error));
        }
        let result = env.result.ok_or_else(|| ExchangeError::Protocol {
            exchange: EX,
            operation: op,
            reason: format!("HTTP {} without a result and without an error", resp.status),
        })?;
        serde_json::from_value(result).map_err(|e| ExchangeError::Protocol {
            exchange: EX,
            operation: op,
            reason: format!("result does not match the expected shape: {e}"),
        })
    }

    /// Calls private `method` with `params` (after `nonce`), one call of this key at a time
    /// (see the module docs).
    pub(crate) async fn private<T: DeserializeOwned + Send>(
        &self,
        operation: &'static str,
        safety: Safety,
        cost: KrakenCost,
        method: &str,
        params: Vec<(&str, String)>,
    ) -> Result<T, ExchangeError> {
        let call = Call {
            operation,
            safety,
            cost,
        };
        self.pipeline
            .execute(
                &call,
                || self.build_private(method, &params),
                |resp| self.decode(operation, resp),
            )
            .await
    }

    async fn public<T: DeserializeOwned + Send>(
        &self,
        operation: &'static str,
        path: &str,
        query: Option<String>,
    ) -> Result<T, ExchangeError> {
        let call = Call {
            operation,
            safety: Safety::Idempotent,
            cost: KrakenCost::Rest(0),
        };
        let mut url = self.url(path)?;
        url.set_query(query.as_deref());
        self.pipeline
            .execute(
                &call,
                || Ok(HttpRequest::new(Method::GET, url.clone())),
                |resp| self.decode(operation, resp),
            )
            .await
    }

    /// `GET /0/public/Time`, and re-estimates the clock offset from it.
    pub(crate) async fn fetch_server_time(&self) -> Result<UnixMillis, ExchangeError> {
        let before = self.pipeline.clock.now();
        let t: TimeWire = self.public("server_time", "/0/public/Time", None).await?;
        let after = self.pipeline.clock.now();
        let server = t.unixtime.saturating_mul(1000);
        // Kraken answers in whole seconds: only correct offsets larger than a second.
        let offset = server - (before.0 + (after.0 - before.0) / 2);
        self.offset_ms.store(
            if offset.abs() > 1_000 { offset } else { 0 },
            Ordering::Relaxed,
        );
        Ok(UnixMillis(server))
    }

    /// Learns the pairs named `names` from `GET /0/public/AssetPairs`.
    pub(crate) async fn resolve_pairs(&self, names: &[String]) -> Result<(), ExchangeError> {
        let unknown: Vec<&str> = names
            .iter()
            .filter(|n| self.pairs.get(n).is_none())
            .map(String::as_str)
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("pair", &unknown.join(","))
            .finish();
        let pairs: std::collections::HashMap<String, AssetPairWire> = self
            .public("asset_pairs", "/0/public/AssetPairs", Some(query))
            .await?;
        for (name, p) in &pairs {
            if let Some(sym) = p.symbol() {
                self.pairs.learn(name, &sym);
                self.pairs.learn(&p.altname, &sym);
            }
        }
        Ok(())
    }
}
