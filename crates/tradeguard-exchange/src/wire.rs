//! Helpers shared by the exchanges' response readers: HTTP statuses every exchange uses the
//! same way, JSON decoding into protocol errors, and the map from exchange symbols back to
//! the shared [`Symbol`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::error::{ExchangeError, ModelError};
use crate::http::HttpResponse;
use crate::model::{ExchangeId, Symbol, UnixMillis};
use crate::ratelimit::retry_after;

/// A ban without `Retry-After` lasts at least this long (Binance: "2 minutes to 3 days").
const DEFAULT_BAN: Duration = Duration::from_secs(120);

/// The errors HTTP status alone decides: 418 (banned), 429 (rate limited), 5xx (the server
/// failed; the request's effect is unknown).
pub(crate) fn status_error(
    exchange: ExchangeId,
    operation: &'static str,
    resp: &HttpResponse,
    now: UnixMillis,
) -> Option<ExchangeError> {
    match resp.status {
        418 => Some(ExchangeError::Banned {
            exchange,
            until: now.plus(retry_after(&resp.headers).unwrap_or(DEFAULT_BAN)),
        }),
        429 => Some(ExchangeError::RateLimited {
            exchange,
            operation,
            retry_after: retry_after(&resp.headers),
        }),
        500..=599 => Some(ExchangeError::Transient {
            exchange,
            operation,
            reason: format!(
                "HTTP {} from the exchange: {}",
                resp.status,
                snippet(&resp.body)
            ),
        }),
        _ => None,
    }
}

/// Decodes a JSON body, or a protocol error naming what did not fit.
pub(crate) fn json<T: DeserializeOwned>(
    exchange: ExchangeId,
    operation: &'static str,
    body: &[u8],
) -> Result<T, ExchangeError> {
    serde_json::from_slice(body).map_err(|e| ExchangeError::Protocol {
        exchange,
        operation,
        reason: format!("response body does not match the expected shape: {e}"),
    })
}

/// A model error in a response, as a protocol error.
pub(crate) fn model_err(
    exchange: ExchangeId,
    operation: &'static str,
) -> impl Fn(ModelError) -> ExchangeError {
    move |e| ExchangeError::Protocol {
        exchange,
        operation,
        reason: e.to_string(),
    }
}

/// The first 200 characters of a body, for error messages (exchange text, never our secrets).
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let t = text.trim();
    match t.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_owned(),
    }
}

/// Remembers how an exchange spells each pair (`BTCUSDT`, `XBTUSD`), learned from requests
/// and from the exchange's market list, to read symbols in responses back.
#[derive(Debug, Default)]
pub(crate) struct SymbolBook {
    map: Mutex<HashMap<String, Symbol>>,
}

impl SymbolBook {
    pub fn learn(&self, wire: &str, symbol: &Symbol) {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        m.insert(wire.to_owned(), symbol.clone());
    }

    pub fn get(&self, wire: &str) -> Option<Symbol> {
        let m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        m.get(wire).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, retry: Option<&str>) -> HttpResponse {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(r) = retry {
            headers.insert("retry-after", r.parse().unwrap());
        }
        HttpResponse {
            status,
            headers,
            body: b"{}".to_vec(),
        }
    }

    #[test]
    fn status_table() {
        let now = UnixMillis(1_000);
        let e = ExchangeId::Binance;
        let cases: [(u16, Option<&str>, &str); 6] = [
            (418, Some("300"), "banned 301000"),
            (418, None, "banned 121000"),
            (429, Some("7"), "limited Some(7s)"),
            (429, None, "limited None"),
            (503, None, "transient"),
            (400, None, "none"),
        ];
        for (i, (status, retry, want)) in cases.iter().enumerate() {
            let got = match status_error(e, "op", &resp(*status, *retry), now) {
                Some(ExchangeError::Banned { until, .. }) => format!("banned {}", until.0),
                Some(ExchangeError::RateLimited { retry_after, .. }) => {
                    format!("limited {retry_after:?}")
                }
                Some(ExchangeError::Transient { .. }) => "transient".into(),
                Some(other) => format!("{other:?}"),
                None => "none".into(),
            };
            assert_eq!(got, *want, "TC{i} failed");
        }
    }

    #[test]
    fn snippet_cuts_long_bodies() {
        let long = "x".repeat(500);
        assert_eq!(snippet(long.as_bytes()).chars().count(), 201);
        assert_eq!(snippet(b"  short "), "short");
    }
}
