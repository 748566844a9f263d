//! Binance answers: every wire type, its conversion, and the error classifier must never
//! panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeguard_exchange::binance::model::*;
use tradeguard_exchange::http::HttpResponse;
use tradeguard_exchange::model::{Symbol, UnixMillis};

fuzz_target!(|data: &[u8]| {
    let sym = Symbol::parse("BTC/USDT").expect("valid symbol");
    if let Ok(w) = serde_json::from_slice::<OrderWire>(data) {
        let _ = w.to_order(&sym);
    }
    if let Ok(ws) = serde_json::from_slice::<Vec<TradeWire>>(data) {
        for w in ws {
            let _ = w.to_fill(&sym);
        }
    }
    if let Ok(a) = serde_json::from_slice::<AccountWire>(data) {
        for b in a.balances {
            let _ = b.to_balance();
        }
    }
    if let Ok(r) = serde_json::from_slice::<RestrictionsWire>(data) {
        let _ = r.to_permissions();
    }
    let _ = serde_json::from_slice::<ExchangeInfoWire>(data);
    for status in [400u16, 401, 403, 418, 429, 503] {
        let resp = HttpResponse {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body: data.to_vec(),
        };
        let _ = classify("place_order", &resp, UnixMillis(0));
    }
});
