//! Coinbase Advanced Trade answers: parsing, conversion and error classification never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeguard_exchange::coinbase::model::*;
use tradeguard_exchange::http::HttpResponse;
use tradeguard_exchange::model::UnixMillis;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = serde_json::from_slice::<OrdersWire>(data) {
        for w in &p.orders {
            let _ = w.to_order();
        }
    }
    if let Ok(p) = serde_json::from_slice::<FillsWire>(data) {
        for w in &p.fills {
            let _ = w.to_fill();
        }
    }
    if let Ok(p) = serde_json::from_slice::<AccountsWire>(data) {
        for w in &p.accounts {
            let _ = w.to_balance();
        }
    }
    if let Ok(c) = serde_json::from_slice::<CreateOrderWire>(data) {
        if let Some(e) = c.error_response.and_then(|e| e.error) {
            let _ = order_error_kind(&e, &e);
        }
    }
    let _ = serde_json::from_slice::<CancelWire>(data);
    let _ = serde_json::from_slice::<KeyPermissionsWire>(data).map(|k| k.to_permissions());
    for status in [400u16, 401, 403, 404, 429, 500] {
        let resp = HttpResponse {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body: data.to_vec(),
        };
        let _ = classify("place_order", &resp, UnixMillis(0));
    }
});
