//! The Coinbase Exchange REST client: `CB-ACCESS-KEY/SIGN/TIMESTAMP/PASSPHRASE` headers, JSON
//! bodies, pagination by the `CB-AFTER` header.
//!
//! See: <https://docs.cdp.coinbase.com/exchange/rest-api/authentication> and
//! <https://docs.cdp.coinbase.com/exchange/rest-api/pagination>.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;

use super::limits::{CbxCost, CoinbaseExchangeLimits};
use super::model::{TimeWire, classify};
use super::sign::headers;
use crate::config::ConnectorConfig;
use crate::credentials::{SecretSource, with_credential};
use crate::error::ExchangeError;
use crate::http::{HttpRequest, HttpResponse};
use crate::hub::ConnectorHub;
use crate::model::{ExchangeId, UnixMillis};
use crate::pipeline::{Call, Pipeline};
use crate::retry::Safety;
use crate::wire::json;

/// Production base URL.
/// See: <https://docs.cdp.coinbase.com/api-reference/exchange-api/rest-api/orders/create-new-order>.
pub const PRODUCTION_URL: &str = "https://api.exchange.coinbase.com";
/// The public sandbox (separate keys, fake funds, no transfers).
/// See: <https://docs.cdp.coinbase.com/exchange/introduction/sandbox>.
pub const SANDBOX_URL: &str = "https://api-public.sandbox.exchange.coinbase.com";

pub(crate) const EX: ExchangeId = ExchangeId::CoinbaseExchange;

/// A Coinbase Exchange profile (one key with its passphrase).
pub struct CoinbaseExchangeClient {
    pub(crate) pipeline: Pipeline<CoinbaseExchangeLimits>,
    base: Url,
    secrets: Arc<dyn SecretSource>,
    offset_ms: AtomicI64,
}

/// A decoded page and the cursor for the next (older) one.
pub(crate) struct Page<T> {
    pub items: T,
    pub after: Option<String>,
}

impl CoinbaseExchangeClient {
    /// A client for `cfg`, signing with `secrets`, sharing budgets through `hub`.
    pub fn new(
        cfg: &ConnectorConfig,
        secrets: Arc<dyn SecretSource>,
        hub: &ConnectorHub,
    ) -> Result<Self, ExchangeError> {
        let base = cfg.resolve_base_url(PRODUCTION_URL, Some(SANDBOX_URL))?;
        Ok(Self {
            pipeline: hub.pipeline(cfg, &base, hub.budgets().coinbase_exchange(cfg))?,
            base,
            secrets,
            offset_ms: AtomicI64::new(0),
        })
    }

    fn now(&self) -> UnixMillis {
        UnixMillis(self.pipeline.clock.now().0 + self.offset_ms.load(Ordering::Relaxed))
    }

    /// `base + path`, with `query` pairs.
    pub(crate) fn url(&self, path: &str, query: &[(&str, String)]) -> Result<Url, ExchangeError> {
        let mut url = self.base.join(path).map_err(|_| ExchangeError::Config {
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

    fn build(&self, method: &Method, url: &Url, body: &str) -> Result<HttpRequest, ExchangeError> {
        // The signed request path includes the query string, as ccxt sends it.
        let request_path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let purpose = format!("coinbaseexchange {method} {}", url.path());
        with_credential(EX, &*self.secrets, &purpose, |cred| {
            let mut req = HttpRequest::new(method.clone(), url.clone());
            req.headers = headers(cred, self.now(), method.as_str(), &request_path, body)?;
            if !body.is_empty() {
                req.body = Some(("application/json", body.as_bytes().to_vec()));
            }
            Ok(req)
        })
    }

    fn decode<T: DeserializeOwned>(
        &self,
        op: &'static str,
        resp: &HttpResponse,
    ) -> Result<Page<T>, ExchangeError> {
        if !(200..300).contains(&resp.status) {
            return Err(classify(op, resp, self.pipeline.clock.now()));
        }
        let after = resp
            .headers
            .get("cb-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Page {
            items: json(EX, op, &resp.body)?,
            after,
        })
    }

    /// One authenticated call; `body` is the exact JSON sent (and signed).
    pub(crate) async fn call<T: DeserializeOwned + Send>(
        &self,
        operation: &'static str,
        safety: Safety,
        cost: CbxCost,
        method: Method,
        url: Url,
        body: Option<serde_json::Value>,
    ) -> Result<Page<T>, ExchangeError> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let call = Call {
            operation,
            safety,
            cost,
        };
        self.pipeline
            .execute(
                &call,
                || self.build(&method, &url, &body),
                |r| self.decode(operation, r),
            )
            .await
    }

    /// `GET /time` (public), and re-estimates the clock offset from it.
    pub(crate) async fn fetch_server_time(&self) -> Result<UnixMillis, ExchangeError> {
        let url = self.url("/time", &[])?;
        let call = Call {
            operation: "server_time",
            safety: Safety::Idempotent,
            cost: CbxCost::Public,
        };
        let before = self.pipeline.clock.now();
        let t: Page<TimeWire> = self
            .pipeline
            .execute(
                &call,
                || Ok(HttpRequest::new(Method::GET, url.clone())),
                |r| self.decode("server_time", r),
            )
            .await?;
        let after = self.pipeline.clock.now();
        let server = (t.items.epoch * 1000.0).round() as i64;
        self.offset_ms.store(
            server - (before.0 + (after.0 - before.0) / 2),
            Ordering::Relaxed,
        );
        Ok(UnixMillis(server))
    }
}
