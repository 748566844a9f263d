//! Kraken envelopes and results: parsing, conversion and error classification never panic.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use tradeguard_exchange::kraken::model::*;
use tradeguard_exchange::model::Symbol;

fuzz_target!(|data: &[u8]| {
    let sym = Symbol::parse("BTC/USD").expect("valid symbol");
    if let Ok(env) = serde_json::from_slice::<Envelope<serde_json::Value>>(data) {
        let _ = classify("balances", &env.error);
    }
    if let Ok(m) = serde_json::from_slice::<HashMap<String, BalanceExWire>>(data) {
        let _ = balances(&m);
    }
    if let Ok(o) = serde_json::from_slice::<OpenOrdersWire>(data) {
        for (txid, w) in &o.open {
            let _ = w.to_order(txid, &sym);
        }
    }
    if let Ok(t) = serde_json::from_slice::<TradesWire>(data) {
        for (id, w) in &t.trades {
            let _ = w.to_fill(id, &sym);
        }
    }
    if let Ok(k) = serde_json::from_slice::<ApiKeyInfoWire>(data) {
        let _ = k.to_permissions();
    }
    if let Ok(p) = serde_json::from_slice::<HashMap<String, AssetPairWire>>(data) {
        for w in p.values() {
            let _ = w.symbol();
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = asset_from_kraken(s);
    }
});
