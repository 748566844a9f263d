//! Kraken wire JSON: the `{"error":[…],"result":…}` envelope, asset and pair names, txids,
//! orders, trades, `AssetPairs` and `Assets`.
//!
//! See: https://docs.kraken.com/api/ (KR-SPEC `spot-rest/openapi_v3.yaml`); exchanges.md §2.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::engine::market::MarketSpec;
use crate::engine::{Fill, Order, OrderKind, OrderStatus, Side};

/// `{"error":[],"result":…}`.
pub(crate) fn ok(result: Value) -> Value {
    json!({ "error": [], "result": result })
}

/// `{"error":["E…"],"result":{}}`.
pub(crate) fn err(msg: &str) -> Value {
    json!({ "error": [msg], "result": {} })
}

/// Kraken's asset code for a canonical asset name.
pub(crate) fn asset_code(canonical: &str) -> String {
    match canonical {
        "BTC" => "XXBT".into(),
        "ETH" => "XETH".into(),
        "USD" => "ZUSD".into(),
        "EUR" => "ZEUR".into(),
        other => other.into(),
    }
}

/// Kraken's altname for a canonical asset name (`BTC` is `XBT`).
pub(crate) fn asset_alt(canonical: &str) -> String {
    if canonical == "BTC" {
        "XBT".into()
    } else {
        canonical.into()
    }
}

/// `XBTUSD` for the market `XXBTZUSD`.
pub(crate) fn altname(m: &MarketSpec) -> String {
    format!("{}{}", asset_alt(&m.base), asset_alt(&m.quote))
}

/// `XBT/USD` for the market `XXBTZUSD`.
pub(crate) fn wsname(m: &MarketSpec) -> String {
    format!("{}/{}", asset_alt(&m.base), asset_alt(&m.quote))
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const TXID_SALT: u64 = 0x5DEE_CE66_D1CE_4E5B;

/// A Kraken-style id (`OU22CG-KLAF2-FWUDD7`) for an engine number; `prefix` is `O` or `T`.
pub(crate) fn txid(prefix: char, n: u64) -> String {
    let v = n ^ TXID_SALT;
    let body: String = (0..16)
        .rev()
        .map(|i| char::from(B32[((v >> (5 * i).min(63)) & 31) as usize]))
        .collect();
    let body = if body.len() == 16 {
        body
    } else {
        String::new()
    };
    let s = format!("{prefix}{body}");
    format!("{}-{}-{}", &s[..6], &s[6..11], &s[11..])
}

/// The engine number of a txid made by [`txid`].
pub(crate) fn parse_txid(prefix: char, s: &str) -> Option<u64> {
    let compact: String = s.chars().filter(|c| *c != '-').collect();
    let rest = compact.strip_prefix(prefix)?;
    if rest.len() != 16 || txid(prefix, 0).len() != s.len() {
        return None;
    }
    let mut v: u128 = 0;
    for c in rest.bytes() {
        v = (v << 5) | B32.iter().position(|b| *b == c)? as u128;
    }
    u64::try_from(v).ok().map(|v| v ^ TXID_SALT)
}

fn side(s: Side) -> &'static str {
    match s {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn kind(k: OrderKind) -> &'static str {
    match k {
        OrderKind::Market => "market",
        OrderKind::Limit => "limit",
    }
}

fn status(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::New | OrderStatus::PartiallyFilled => "open",
        OrderStatus::Filled => "closed",
        OrderStatus::Canceled => "canceled",
        OrderStatus::Expired => "expired",
    }
}

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// The `descr.order` text, e.g. `buy 1.25000000 XBTUSD @ limit 37500.0`.
pub(crate) fn describe(o: &Order, alt: &str) -> String {
    let vol = format!("{:.8}", o.quantity.or(o.quote_quantity).unwrap_or_default());
    match (o.kind, o.price) {
        (OrderKind::Limit, Some(p)) => format!("{} {vol} {alt} @ limit {p}", side(o.side)),
        _ => format!("{} {vol} {alt} @ market", side(o.side)),
    }
}

/// An order as `QueryOrders` / `OpenOrders` / `ClosedOrders` show it.
pub(crate) fn order(o: &Order, alt: &str, trades: Option<&[&Fill]>) -> Value {
    let mut v = json!({
        "refid": null, "userref": 0, "cl_ord_id": o.client_id, "status": status(o.status),
        "opentm": secs(o.created_ms), "starttm": 0, "expiretm": 0,
        "descr": {"pair": alt, "type": side(o.side), "ordertype": kind(o.kind),
                  "price": o.price.map_or("0".into(), |p| p.to_string()), "price2": "0",
                  "leverage": "none", "order": describe(o, alt), "close": ""},
        "vol": format!("{:.8}", o.quantity.unwrap_or_default()),
        "vol_exec": format!("{:.8}", o.filled_qty),
        "cost": format!("{:.5}", o.filled_quote),
        "fee": format!("{:.5}", o.fees),
        "price": format!("{:.5}", o.average_price().unwrap_or_default()),
        "stopprice": "0.00000", "limitprice": "0.00000", "misc": "",
        "oflags": if o.post_only { "post,fciq" } else { "fciq" },
    });
    if let Some(m) = v.as_object_mut() {
        if !o.status.is_open() {
            m.insert("closetm".into(), json!(secs(o.updated_ms)));
            m.insert(
                "reason".into(),
                if o.status == OrderStatus::Canceled {
                    json!("User requested")
                } else {
                    Value::Null
                },
            );
        }
        if let Some(list) = trades {
            m.insert(
                "trades".into(),
                json!(list.iter().map(|f| txid('T', f.id)).collect::<Vec<_>>()),
            );
        }
    }
    v
}

/// One `TradesHistory` entry.
pub(crate) fn trade(f: &Fill, kind_of_order: OrderKind) -> Value {
    json!({
        "ordertxid": txid('O', f.order.0), "postxid": txid('P', f.id), "pair": f.market,
        "time": secs(f.time_ms), "type": side(f.side), "ordertype": kind(kind_of_order),
        "price": f.price.to_string(), "cost": format!("{:.5}", f.quote_qty), "fee": format!("{:.5}", f.fee),
        "vol": format!("{:.8}", f.qty), "margin": "0.00000", "leverage": "0", "misc": "",
        "trade_id": f.id, "maker": f.is_maker,
    })
}

/// `AssetPairs` result.
pub(crate) fn asset_pairs(markets: &[MarketSpec], maker: Decimal, taker: Decimal) -> Value {
    let pct = |r: Decimal| {
        (r * Decimal::from(100))
            .normalize()
            .to_string()
            .parse::<f64>()
            .unwrap_or(0.0)
    };
    let mut out = Map::new();
    for m in markets {
        out.insert(m.id.clone(), json!({
            "altname": altname(m), "wsname": wsname(m), "aclass_base": "currency", "base": asset_code(&m.base),
            "aclass_quote": "currency", "quote": asset_code(&m.quote), "lot": "unit",
            "cost_decimals": 5, "pair_decimals": m.tick.scale(), "lot_decimals": m.step.scale(), "lot_multiplier": 1,
            "leverage_buy": [], "leverage_sell": [], "fees": [[0, pct(taker)]], "fees_maker": [[0, pct(maker)]],
            "fee_volume_currency": "ZUSD", "margin_call": 80, "margin_stop": 40,
            "ordermin": m.min_qty.to_string(), "costmin": m.min_notional.to_string(),
            "tick_size": m.tick.to_string(), "status": "online",
        }));
    }
    Value::Object(out)
}

/// `Assets` result for the assets the markets use.
pub(crate) fn assets(markets: &[MarketSpec]) -> Value {
    let mut out = Map::new();
    for name in markets
        .iter()
        .flat_map(|m| [m.base.clone(), m.quote.clone()])
    {
        let fiat = name == "USD" || name == "EUR";
        out.insert(asset_code(&name), json!({
            "aclass": "currency", "altname": asset_alt(&name), "decimals": if fiat { 4 } else { 10 },
            "display_decimals": if fiat { 2 } else { 5 }, "collateral_value": 1.0, "status": "enabled",
        }));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txid_round_trips_and_looks_like_kraken() {
        for n in [1u64, 2, 99, 123_456, u64::MAX >> 1] {
            let t = txid('O', n);
            assert_eq!(t.len(), 19, "{t}");
            assert_eq!(&t[6..7], "-");
            assert_eq!(parse_txid('O', &t), Some(n));
            assert_eq!(parse_txid('T', &t), None);
        }
        assert_eq!(parse_txid('O', "OU22CG-KLAF2-FWUDD"), None);
    }
}
