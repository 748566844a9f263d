//! Property tests for the response parsers: generated exchange answers parse back to the
//! values they were made from, and arbitrary bytes never panic a parser or classifier.

use proptest::prelude::*;
use rust_decimal::Decimal;
use tradeguard_exchange::http::HttpResponse;
use tradeguard_exchange::model::{
    ClientOrderId, Symbol, UnixMillis, format_decimal, parse_decimal,
};
use tradeguard_exchange::{binance, coinbase, coinbase_exchange, kraken};

fn decimal() -> impl Strategy<Value = Decimal> {
    (0i64..1_000_000_000_000, 0u32..=12).prop_map(|(m, s)| Decimal::new(m, s))
}

/// At most 8 decimals, as Binance prints them.
fn decimal8() -> impl Strategy<Value = Decimal> {
    (0i64..1_000_000_000_000, 0u32..=8).prop_map(|(m, s)| Decimal::new(m, s))
}

fn resp(status: u16, body: Vec<u8>) -> HttpResponse {
    HttpResponse {
        status,
        headers: reqwest::header::HeaderMap::new(),
        body,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn decimals_round_trip_through_the_wire_form(d in decimal()) {
        prop_assert_eq!(parse_decimal("x", &format_decimal(d)).unwrap(), d);
        // Exchanges pad with zeros: "0.10000000".
        prop_assert_eq!(parse_decimal("x", &format!("{d:.12}")).unwrap(), d);
    }

    #[test]
    fn client_ids_parse_only_the_safe_alphabet(s in "\\PC{0,40}") {
        if let Ok(id) = ClientOrderId::parse(&s) {
            prop_assert!(id.as_str().len() <= 36);
            prop_assert!(id.as_str().chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        }
    }

    #[test]
    fn binance_trades_parse_to_the_generated_values(id in 0u64..u64::MAX / 2, oid in 0u64..1 << 53, price in decimal8(), qty in decimal8(), fee in decimal8(), t in 0i64..4_000_000_000_000, buyer: bool, maker: bool) {
        let json = format!(
            r#"{{"symbol":"BTCUSDT","id":{id},"orderId":{oid},"orderListId":-1,"price":"{price:.8}","qty":"{qty:.8}","quoteQty":"0","commission":"{fee:.8}","commissionAsset":"BNB","time":{t},"isBuyer":{buyer},"isMaker":{maker},"isBestMatch":true}}"#
        );
        let w: binance::model::TradeWire = serde_json::from_str(&json).unwrap();
        let f = w.to_fill(&Symbol::parse("BTC/USDT").unwrap()).unwrap();
        prop_assert_eq!(f.trade_id.as_str(), id.to_string());
        prop_assert_eq!(f.price, price);
        prop_assert_eq!(f.quantity, qty);
        prop_assert_eq!(f.fee, fee);
        prop_assert_eq!(f.time, UnixMillis(t));
        prop_assert_eq!(f.is_maker, Some(maker));
    }

    #[test]
    fn kraken_balances_subtract_holds(bal in decimal(), hold in decimal()) {
        let json = format!(r#"{{"XXBT":{{"balance":"{bal}","hold_trade":"{hold}"}},"ZUSD":{{"balance":"0","hold_trade":"0"}}}}"#);
        let map: std::collections::HashMap<String, kraken::model::BalanceExWire> = serde_json::from_str(&json).unwrap();
        let b = kraken::model::balances(&map).unwrap();
        if bal.is_zero() && hold.is_zero() {
            prop_assert!(b.is_empty());
        } else {
            prop_assert_eq!(b.len(), 1);
            prop_assert_eq!(b[0].asset.as_str(), "BTC");
            prop_assert_eq!(b[0].free, bal - hold);
            prop_assert_eq!(b[0].locked, hold);
        }
    }

    #[test]
    fn kraken_times_in_fractional_seconds_become_millis(secs in 0i64..4_000_000_000, frac in 0u32..10_000) {
        let json = format!(r#"{{"ordertxid":"OQCLML-BW3P3-BUCMWZ","pair":"XXBTZUSD","time":{secs}.{frac:04},"type":"buy","price":"1","fee":"0","vol":"1"}}"#);
        let w: kraken::model::TradeWire = serde_json::from_str(&json).unwrap();
        let f = w.to_fill("T1", &Symbol::parse("BTC/USD").unwrap()).unwrap();
        prop_assert_eq!(f.time, UnixMillis(secs * 1000 + i64::from(frac / 10)));
    }

    #[test]
    fn coinbase_exchange_orders_parse_sizes(size in decimal(), filled in decimal()) {
        let json = format!(
            r#"{{"id":"d0c5340b-6d6c-49d9-b567-48c4bfca13d2","price":"1.5","size":"{size}","product_id":"ETH-EUR","side":"sell","type":"limit","status":"open","filled_size":"{filled}","executed_value":"0","created_at":"2026-11-22T10:00:00Z"}}"#
        );
        let w: coinbase_exchange::model::OrderWire = serde_json::from_str(&json).unwrap();
        let o = w.to_order().unwrap();
        prop_assert_eq!(o.quantity, size);
        prop_assert_eq!(o.filled_quantity, filled);
        prop_assert_eq!(o.symbol.to_string(), "ETH/EUR");
    }

    #[test]
    fn classifiers_never_panic_on_arbitrary_bodies(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let now = UnixMillis(0);
        let _ = binance::model::classify("balances", &resp(status, body.clone()), now);
        let _ = coinbase::model::classify("balances", &resp(status, body.clone()), now);
        let _ = coinbase_exchange::model::classify("balances", &resp(status, body.clone()), now);
        let text = String::from_utf8_lossy(&body).into_owned();
        let _ = kraken::model::classify("balances", &[text]);
    }

    #[test]
    fn wire_parsers_never_panic_on_arbitrary_json(body in "\\PC{0,200}") {
        if let Ok(w) = serde_json::from_str::<binance::model::OrderWire>(&body) {
            let _ = w.to_order(&Symbol::parse("BTC/USDT").unwrap());
        }
        if let Ok(w) = serde_json::from_str::<coinbase::model::OrderWire>(&body) {
            let _ = w.to_order();
        }
        if let Ok(w) = serde_json::from_str::<coinbase::model::FillWire>(&body) {
            let _ = w.to_fill();
        }
        if let Ok(w) = serde_json::from_str::<kraken::model::OrderWire>(&body) {
            let _ = w.to_order("O-1", &Symbol::parse("BTC/USD").unwrap());
        }
    }
}
