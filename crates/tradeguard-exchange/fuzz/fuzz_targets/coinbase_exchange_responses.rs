//! Coinbase Exchange answers: parsing, conversion and error classification never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeguard_exchange::coinbase_exchange::model::*;
use tradeguard_exchange::http::HttpResponse;
use tradeguard_exchange::model::UnixMillis;

fuzz_target!(|data: &[u8]| {
    if let Ok(ws) = serde_json::from_slice::<Vec<OrderWire>>(data) {
        for w in &ws {
            let _ = w.to_order();
        }
    }
    if let Ok(ws) = serde_json::from_slice::<Vec<FillWire>>(data) {
        for w in &ws {
            let _ = w.to_fill();
        }
    }
    if let Ok(ws) = serde_json::from_slice::<Vec<AccountWire>>(data) {
        for w in &ws {
            let _ = w.to_balance();
        }
    }
    let _ = serde_json::from_slice::<TimeWire>(data);
    for status in [400u16, 401, 403, 404, 429, 500] {
        let resp = HttpResponse {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body: data.to_vec(),
        };
        let _ = classify("cancel_order", &resp, UnixMillis(0));
    }
});
