//! The Binance spot REST client: signed requests (`X-MBX-APIKEY`, `timestamp`, `recvWindow`,
//! `signature`), GET/DELETE parameters in the query string, POST parameters in a form body.
//!
//! See: <https://developers.binance.com/docs/binance-spot-api-docs/rest-api>.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;
use zeroize::Zeroizing;

use super::limits::{BinanceCost, BinanceLimits};
use super::model::{ExchangeInfoWire, TimeWire, classify};
use super::sign;
use crate::config::ConnectorConfig;
use crate::credentials::{SecretSource, with_credential};
use crate::error::ExchangeError;
use crate::http::{HttpRequest, HttpResponse};
use crate::hub::ConnectorHub;
use crate::model::{Asset, ExchangeId, Symbol, UnixMillis};
use crate::pipeline::{Call, Pipeline};
use crate::retry::Safety;
use crate::wire::{SymbolBook, json, model_err};

/// Production REST base URL.
/// See: <https://developers.binance.com/docs/binance-spot-api-docs/rest-api> ("General API Information").
pub const PRODUCTION_URL: &str = "https://api.binance.com";
/// Spot Test Network (no `/sapi` endpoints).
/// See: <https://developers.binance.com/docs/binance-spot-api-docs/testnet/rest-api>.
pub const TESTNET_URL: &str = "https://testnet.binance.vision";

pub(crate) const EX: ExchangeId = ExchangeId::Binance;

/// A Binance spot account.
pub struct BinanceClient {
    pub(crate) pipeline: Pipeline<BinanceLimits>,
    base: Url,
    pub(crate) sandbox: bool,
    secrets: Arc<dyn SecretSource>,
    pub(crate) recv_window: Duration,
    offset_ms: AtomicI64,
    pub(crate) symbols: SymbolBook,
}

impl BinanceClient {
    /// A client for `cfg`, signing with `secrets`, sharing budgets through `hub`.
    pub fn new(
        cfg: &ConnectorConfig,
        secrets: Arc<dyn SecretSource>,
        hub: &ConnectorHub,
    ) -> Result<Self, ExchangeError> {
        let base = cfg.resolve_base_url(PRODUCTION_URL, Some(TESTNET_URL))?;
        let limits = Arc::new(hub.budgets().binance(cfg));
        Ok(Self {
            pipeline: hub.pipeline(cfg, &base, limits)?,
            base,
            sandbox: cfg.sandbox && cfg.base_url.is_none(),
            secrets,
            recv_window: cfg.recv_window,
            offset_ms: AtomicI64::new(0),
            symbols: SymbolBook::default(),
        })
    }

    /// The shared limits (for reports and tests).
    pub fn limits(&self) -> &BinanceLimits {
        &self.pipeline.limits
    }

    /// Local time corrected by the last measured offset to Binance's clock.
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

    /// A signed request: `params`, then `recvWindow` and `timestamp`, then `signature`.
    fn signed(
        &self,
        method: &Method,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<HttpRequest, ExchangeError> {
        let mut all: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let rw = self.recv_window.as_millis().to_string();
        let ts = self.now().0.to_string();
        all.push(("recvWindow", &rw));
        all.push(("timestamp", &ts));
        let payload = sign::encode_params(&all);
        let purpose = format!("binance {method} {path}");
        let url = self.url(path)?;
        with_credential(EX, &*self.secrets, &purpose, |cred| {
            let sig = sign::sign(cred, &payload)?;
            let signed: String = format!(
                "{payload}&signature={}",
                url::form_urlencoded::byte_serialize(sig.as_bytes()).collect::<String>()
            );
            let mut req = HttpRequest::new(method.clone(), url.clone());
            if *method == Method::POST {
                req.body = Some(("application/x-www-form-urlencoded", signed.into_bytes()));
            } else {
                req.url.set_query(Some(&signed));
            }
            req.headers
                .push(("X-MBX-APIKEY", Zeroizing::new(cred.api_key.clone())));
            Ok(req)
        })
    }

    /// Runs a signed call and decodes a 2xx JSON answer into `T`.
    pub(crate) async fn signed_call<T: DeserializeOwned + Send>(
        &self,
        call: Call<BinanceCost>,
        method: Method,
        path: &str,
        params: Vec<(&str, String)>,
    ) -> Result<T, ExchangeError> {
        let op = call.operation;
        self.pipeline
            .execute(
                &call,
                || self.signed(&method, path, &params),
                |resp| self.decode(op, resp),
            )
            .await
    }

    /// Like [`Self::signed_call`], but a Binance "no such order" (-2013) is `Ok(None)`.
    pub(crate) async fn signed_lookup<T: DeserializeOwned + Send>(
        &self,
        call: Call<BinanceCost>,
        path: &str,
        params: Vec<(&str, String)>,
    ) -> Result<Option<T>, ExchangeError> {
        let op = call.operation;
        self.pipeline
            .execute(
                &call,
                || self.signed(&Method::GET, path, &params),
                |resp| match self.decode(op, resp) {
                    Ok(v) => Ok(Some(v)),
                    Err(ExchangeError::Definitive { code, .. }) if code == "-2013" => Ok(None),
                    Err(e) => Err(e),
                },
            )
            .await
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

    async fn public_get<T: DeserializeOwned + Send>(
        &self,
        operation: &'static str,
        weight: u32,
        path: &str,
        query: Option<String>,
    ) -> Result<T, ExchangeError> {
        let call = Call {
            operation,
            safety: Safety::Idempotent,
            cost: BinanceCost::weight(weight),
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

    /// `GET /api/v3/time`, and re-estimates the clock offset from it.
    pub(crate) async fn fetch_server_time(&self) -> Result<UnixMillis, ExchangeError> {
        let before = self.pipeline.clock.now();
        let t: TimeWire = self
            .public_get(
                "server_time",
                super::limits::weight::TIME,
                "/api/v3/time",
                None,
            )
            .await?;
        let after = self.pipeline.clock.now();
        let local_mid = before.0 + (after.0 - before.0) / 2;
        self.offset_ms
            .store(t.server_time - local_mid, Ordering::Relaxed);
        Ok(UnixMillis(t.server_time))
    }

    /// The pair a Binance symbol string names: learned from requests, else looked up in
    /// `GET /api/v3/exchangeInfo`.
    pub(crate) async fn resolve_symbols(&self, wire: &[String]) -> Result<(), ExchangeError> {
        let unknown: Vec<&String> = wire
            .iter()
            .filter(|w| self.symbols.get(w).is_none())
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let list = serde_json::to_string(&unknown).unwrap_or_default();
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("symbols", &list)
            .finish();
        let info: ExchangeInfoWire = self
            .public_get(
                "exchange_info",
                super::limits::weight::EXCHANGE_INFO,
                "/api/v3/exchangeInfo",
                Some(query),
            )
            .await?;
        for s in info.symbols {
            let sym = Asset::parse(&s.base_asset)
                .and_then(|b| Ok(Symbol::new(b, Asset::parse(&s.quote_asset)?)))
                .map_err(model_err(EX, "exchange_info"))?;
            self.symbols.learn(&s.symbol, &sym);
        }
        Ok(())
    }
}
