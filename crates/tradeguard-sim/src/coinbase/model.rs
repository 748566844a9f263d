//! Coinbase Advanced Trade wire JSON (`/api/v3/brokerage`): errors
//! `{"error","error_details","message"}`, accounts, orders, fills, products, key permissions.
//!
//! See: https://docs.cdp.coinbase.com/advanced-trade/reference ; CB-PY `rest/*.py`;
//! exchanges.md §3.3–3.4.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::engine::market::MarketSpec;
use crate::engine::{AccountId, Fill, Order, OrderKind, OrderStatus, Side, TimeInForce};
use crate::ids::uuid_for;
use crate::timefmt::iso8601;

/// Salt of order ids.
pub(crate) const ORDER_SALT: u32 = 0x0c0b_0a7e;
/// Salt of account (wallet) ids.
pub(crate) const ACCOUNT_SALT: u32 = 0x0c0b_acc7;

/// `{"error":code,"error_details":details,"message":message}`.
pub(crate) fn error(code: &str, details: &str, message: &str) -> Value {
    json!({ "error": code, "error_details": details, "message": message })
}

/// The portfolio id of an account.
pub(crate) fn portfolio(a: AccountId) -> String {
    uuid_for(ACCOUNT_SALT, a.0 << 8)
}

fn money(value: Decimal, currency: &str) -> Value {
    json!({ "value": value.normalize().to_string(), "currency": currency })
}

/// One `GET /accounts` entry.
pub(crate) fn account(
    owner: AccountId,
    index: u64,
    currency: &str,
    free: Decimal,
    locked: Decimal,
    now: u64,
) -> Value {
    let fiat = currency == "USD" || currency == "EUR";
    json!({
        "uuid": uuid_for(ACCOUNT_SALT, (owner.0 << 8) | (index + 1)), "name": format!("{currency} Wallet"),
        "currency": currency, "available_balance": money(free, currency), "default": index == 0,
        "active": true, "created_at": iso8601(now), "updated_at": iso8601(now), "deleted_at": null,
        "type": if fiat { "ACCOUNT_TYPE_FIAT" } else { "ACCOUNT_TYPE_CRYPTO" }, "ready": true,
        "hold": money(locked, currency), "retail_portfolio_id": portfolio(owner),
        "platform": "ACCOUNT_PLATFORM_CONSUMER",
    })
}

pub(crate) fn side(s: Side) -> &'static str {
    match s {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

/// The `order_configuration` object of an order.
pub(crate) fn configuration(o: &Order) -> Value {
    let size = |d: Option<Decimal>| d.map(|v| v.normalize().to_string());
    match (o.kind, o.tif) {
        (OrderKind::Market, _) => match o.quote_quantity {
            Some(q) => json!({"market_market_ioc": {"quote_size": q.normalize().to_string()}}),
            None => json!({"market_market_ioc": {"base_size": size(o.quantity)}}),
        },
        (OrderKind::Limit, TimeInForce::Gtc) => {
            json!({"limit_limit_gtc": {"base_size": size(o.quantity), "limit_price": size(o.price), "post_only": o.post_only}})
        }
        (OrderKind::Limit, TimeInForce::Fok) => {
            json!({"limit_limit_fok": {"base_size": size(o.quantity), "limit_price": size(o.price)}})
        }
        (OrderKind::Limit, TimeInForce::Ioc) => {
            json!({"sor_limit_ioc": {"base_size": size(o.quantity), "limit_price": size(o.price)}})
        }
    }
}

/// An order as `GET /orders/historical/{id}` and `/batch` show it.
pub(crate) fn order(o: &Order) -> Value {
    let status = match o.status {
        OrderStatus::New | OrderStatus::PartiallyFilled => "OPEN",
        OrderStatus::Filled => "FILLED",
        OrderStatus::Canceled => "CANCELLED",
        OrderStatus::Expired => "EXPIRED",
    };
    let tif = match o.tif {
        TimeInForce::Gtc => "GOOD_UNTIL_CANCELLED",
        TimeInForce::Ioc => "IMMEDIATE_OR_CANCEL",
        TimeInForce::Fok => "FILL_OR_KILL",
    };
    let pct = match o.quantity {
        Some(q) if !q.is_zero() => (o.filled_qty / q * Decimal::from(100)).round_dp(2),
        _ => Decimal::ZERO,
    };
    json!({
        "order_id": uuid_for(ORDER_SALT, o.id.0), "product_id": o.market, "user_id": format!("{}", o.account.0),
        "order_configuration": configuration(o), "side": side(o.side), "client_order_id": o.client_id,
        "status": status, "time_in_force": tif, "created_time": iso8601(o.created_ms),
        "completion_percentage": pct.to_string(), "filled_size": o.filled_qty.normalize().to_string(),
        "average_filled_price": o.average_price().unwrap_or_default().normalize().to_string(),
        "fee": "", "number_of_fills": "0", "filled_value": o.filled_quote.normalize().to_string(),
        "pending_cancel": false, "size_in_quote": o.quote_quantity.is_some(),
        "total_fees": o.fees.normalize().to_string(), "size_inclusive_of_fees": false,
        "total_value_after_fees": total_after_fees(o).normalize().to_string(),
        "trigger_status": "INVALID_ORDER_TYPE", "order_type": if o.kind == OrderKind::Market { "MARKET" } else { "LIMIT" },
        "reject_reason": "", "settled": !o.status.is_open(), "product_type": "SPOT", "reject_message": "",
        "cancel_message": "", "order_placement_source": "RETAIL_ADVANCED",
        "outstanding_hold_amount": o.hold.as_ref().map_or(Decimal::ZERO, |(_, a)| *a).normalize().to_string(),
        "is_liquidation": false, "last_fill_time": null, "edit_history": [], "leverage": "", "margin_type": "",
        "retail_portfolio_id": portfolio(o.account),
    })
}

fn total_after_fees(o: &Order) -> Decimal {
    match o.side {
        Side::Buy => o.filled_quote + o.fees,
        Side::Sell => o.filled_quote - o.fees,
    }
}

/// One `GET /orders/historical/fills` entry.
/// The `trade_id` of fill number `n`.
pub(crate) fn trade_id(n: u64) -> String {
    uuid_for(ORDER_SALT ^ 0xffff, n)
}

pub(crate) fn fill(f: &Fill) -> Value {
    json!({
        "entry_id": format!("{:064x}", f.id), "trade_id": trade_id(f.id),
        "order_id": uuid_for(ORDER_SALT, f.order.0), "trade_time": iso8601(f.time_ms), "trade_type": "FILL",
        "price": f.price.normalize().to_string(), "size": f.qty.normalize().to_string(),
        "commission": f.fee.normalize().to_string(), "product_id": f.market,
        "sequence_timestamp": iso8601(f.time_ms), "liquidity_indicator": if f.is_maker { "MAKER" } else { "TAKER" },
        "size_in_quote": false, "user_id": format!("{}", f.account.0), "side": side(f.side),
        "retail_portfolio_id": portfolio(f.account),
    })
}

/// One product (`GET /products`, `/products/{id}`, `/market/products`).
pub(crate) fn product(m: &MarketSpec, mid: Decimal) -> Value {
    json!({
        "product_id": m.id, "price": mid.to_string(), "price_percentage_change_24h": "0",
        "volume_24h": "0", "volume_percentage_change_24h": "0",
        "base_increment": m.step.to_string(), "quote_increment": m.tick.to_string(),
        "quote_min_size": m.min_notional.to_string(), "quote_max_size": "10000000",
        "base_min_size": m.min_qty.to_string(), "base_max_size": "10000", "base_name": m.base, "quote_name": m.quote,
        "watched": false, "is_disabled": false, "new": false, "status": "online", "cancel_only": false,
        "limit_only": false, "post_only": false, "trading_disabled": false, "auction_mode": false,
        "product_type": "SPOT", "quote_currency_id": m.quote, "base_currency_id": m.base,
        "fcm_trading_session_details": null, "mid_market_price": "", "alias": "", "alias_to": [],
        "base_display_symbol": m.base, "quote_display_symbol": m.quote, "view_only": false,
        "price_increment": m.tick.to_string(), "display_name": format!("{}-{}", m.base, m.quote),
        "product_venue": "CBE", "approximate_quote_24h_volume": "0",
    })
}

/// The public Coinbase App v2 reference data ccxt loads with the markets: `currencies`,
/// `currencies/crypto`, `exchange-rates` (quoted in USD, from the simulator's mids).
pub(crate) fn app_v2(engine: &crate::engine::Engine, path: &str) -> Option<Value> {
    let mut assets: Vec<(String, bool)> = engine
        .markets()
        .flat_map(|m| [(m.base.clone(), false), (m.quote.clone(), true)])
        .collect();
    assets.sort();
    assets.dedup();
    match path {
        "currencies" => {
            let fiat: Vec<Value> = assets
                .iter()
                .filter(|(_, f)| *f)
                .map(|(c, _)| json!({"id": c, "name": c, "min_size": "0.01"}))
                .collect();
            Some(json!({ "data": fiat }))
        }
        "currencies/crypto" => {
            let crypto: Vec<Value> = assets
                .iter()
                .filter(|(_, f)| !*f)
                .enumerate()
                .map(|(i, (c, _))| json!({"asset_id": uuid_for(ACCOUNT_SALT ^ 0xff, i as u64), "code": c, "name": c,
                    "color": "#000000", "sort_index": i, "exponent": 8, "type": "crypto", "address_regex": ""}))
                .collect();
            Some(json!({ "data": crypto }))
        }
        "exchange-rates" => {
            let mut rates = serde_json::Map::new();
            rates.insert("USD".into(), json!("1"));
            for m in engine.markets().filter(|m| m.quote == "USD") {
                if let Some((_, _, mid)) = engine.top(&m.id).filter(|t| !t.2.is_zero()) {
                    rates.insert(
                        m.base.clone(),
                        json!((Decimal::ONE / mid).round_dp(12).to_string()),
                    );
                }
            }
            Some(json!({"data": {"currency": "USD", "rates": rates}}))
        }
        _ => None,
    }
}
