//! The Coinbase Advanced Trade REST client: `Authorization: Bearer <JWT>` with a fresh JWT
//! per request, JSON bodies, paths under `/api/v3/brokerage`.
//!
//! See: <https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/rest-api>.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;
use zeroize::Zeroizing;

use super::limits::CoinbaseLimits;
use super::model::{TimeWire, classify};
use super::sign::bearer;
use crate::config::ConnectorConfig;
use crate::credentials::{SecretSource, with_credential};
use crate::error::ExchangeError;
use crate::http::{HttpRequest, HttpResponse};
use crate::hub::ConnectorHub;
use crate::model::{ClientOrderId, ExchangeId, ExchangeOrderId, UnixMillis};
use crate::pipeline::{Call, Pipeline};
use crate::retry::Safety;
use crate::wire::json;

/// Production base URL.
/// See: `coinbase/coinbase-advanced-py` `coinbase/constants.py` (`BASE_URL`).
pub const PRODUCTION_URL: &str = "https://api.coinbase.com";
/// The official sandbox: static, pre-defined answers, no signature checks.
/// See: <https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/sandbox>.
pub const SANDBOX_URL: &str = "https://api-sandbox.coinbase.com";
/// Path prefix of every brokerage endpoint.
pub const API_PREFIX: &str = "/api/v3/brokerage";
/// `CB-VERSION` sent with each request, as ccxt does.
const CB_VERSION: &str = "2018-05-30";

pub(crate) const EX: ExchangeId = ExchangeId::Coinbase;

/// Client order ids remembered with their exchange ids, at most this many (then forgotten).
const MAX_KNOWN_IDS: usize = 100_000;

/// A Coinbase Advanced Trade account (one CDP key).
pub struct CoinbaseClient {
    pub(crate) pipeline: Pipeline<CoinbaseLimits>,
    base: Url,
    secrets: Arc<dyn SecretSource>,
    offset_ms: AtomicI64,
    /// Coinbase has no lookup by client order id: the exchange ids of orders this client
    /// placed or found, so a lookup is one request instead of a scan of the order history.
    known: std::sync::Mutex<std::collections::HashMap<ClientOrderId, ExchangeOrderId>>,
}

impl CoinbaseClient {
    /// A client for `cfg`, signing with `secrets`, sharing budgets through `hub`.
    pub fn new(
        cfg: &ConnectorConfig,
        secrets: Arc<dyn SecretSource>,
        hub: &ConnectorHub,
    ) -> Result<Self, ExchangeError> {
        let base = cfg.resolve_base_url(PRODUCTION_URL, Some(SANDBOX_URL))?;
        Ok(Self {
            pipeline: hub.pipeline(cfg, &base, hub.budgets().coinbase(cfg))?,
            base,
            secrets,
            offset_ms: AtomicI64::new(0),
            known: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// Remembers that `cid` is the exchange's order `id`.
    pub(crate) fn remember(&self, cid: &ClientOrderId, id: &ExchangeOrderId) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.len() >= MAX_KNOWN_IDS {
            known.clear();
        }
        known.insert(cid.clone(), id.clone());
    }

    /// The exchange id of `cid`, if remembered.
    pub(crate) fn known_id(&self, cid: &ClientOrderId) -> Option<ExchangeOrderId> {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known.get(cid).cloned()
    }

    pub(crate) fn now(&self) -> UnixMillis {
        UnixMillis(self.pipeline.clock.now().0 + self.offset_ms.load(Ordering::Relaxed))
    }

    /// `base + /api/v3/brokerage + path`, with `query` pairs.
    pub(crate) fn url(&self, path: &str, query: &[(&str, String)]) -> Result<Url, ExchangeError> {
        let mut url = self
            .base
            .join(&format!("{API_PREFIX}{path}"))
            .map_err(|_| ExchangeError::Config {
                exchange: EX,
                what: "base_url",
                reason: format!("cannot append {path}"),
            })?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    fn build(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
    ) -> Result<HttpRequest, ExchangeError> {
        let purpose = format!("coinbase {method} {}", url.path());
        with_credential(EX, &*self.secrets, &purpose, |cred| {
            let auth = bearer(cred, method.as_str(), url, self.now())?;
            let mut req = HttpRequest::new(method.clone(), url.clone());
            req.headers.push(("Authorization", Zeroizing::new(auth)));
            req.headers
                .push(("CB-VERSION", Zeroizing::new(CB_VERSION.to_owned())));
            if let Some(b) = body {
                req.body = Some(("application/json", b.to_vec()));
            }
            Ok(req)
        })
    }

    fn decode<T: DeserializeOwned>(
        &self,
        op: &'static str,
        resp: &HttpResponse,
    ) -> Result<T, ExchangeError> {
        if !(200..300).contains(&resp.status) {
            return Err(classify(op, resp, self.pipeline.clock.now()));
        }
        json(EX, op, &resp.body)
    }

    /// One authenticated call; `body` is JSON for POST.
    pub(crate) async fn call<T: DeserializeOwned + Send>(
        &self,
        operation: &'static str,
        safety: Safety,
        method: Method,
        url: Url,
        body: Option<serde_json::Value>,
    ) -> Result<T, ExchangeError> {
        let bytes = body.map(|b| b.to_string().into_bytes());
        let call = Call {
            operation,
            safety,
            cost: 1,
        };
        self.pipeline
            .execute(
                &call,
                || self.build(&method, &url, bytes.as_deref()),
                |r| self.decode(operation, r),
            )
            .await
    }

    /// `GET /api/v3/brokerage/time` (public), and re-estimates the clock offset from it.
    pub(crate) async fn fetch_server_time(&self) -> Result<UnixMillis, ExchangeError> {
        let url = self.url("/time", &[])?;
        let call = Call {
            operation: "server_time",
            safety: Safety::Idempotent,
            cost: 0,
        };
        let before = self.pipeline.clock.now();
        let t: TimeWire = self
            .pipeline
            .execute(
                &call,
                || Ok(HttpRequest::new(Method::GET, url.clone())),
                |r| self.decode("server_time", r),
            )
            .await?;
        let after = self.pipeline.clock.now();
        let server: i64 = t
            .epoch_millis
            .trim()
            .parse()
            .map_err(|_| ExchangeError::Protocol {
                exchange: EX,
                operation: "server_time",
                reason: "epochMillis is not an integer".into(),
            })?;
        self.offset_ms.store(
            server - (before.0 + (after.0 - before.0) / 2),
            Ordering::Relaxed,
        );
        Ok(UnixMillis(server))
    }
}
