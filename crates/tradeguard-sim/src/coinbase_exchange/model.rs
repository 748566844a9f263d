//! Coinbase Exchange wire JSON: `{"message":"…"}` errors, accounts, orders, fills, products,
//! currencies.
//!
//! See: https://docs.cdp.coinbase.com/exchange/ (REST API reference); exchanges.md §4.4.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::engine::market::MarketSpec;
use crate::engine::{AccountId, Fill, Order, OrderKind, OrderStatus, Side, TimeInForce};
use crate::ids::uuid_for;
use crate::timefmt::iso8601;

/// Salt of order ids.
pub(crate) const ORDER_SALT: u32 = 0x0e1c_0a7e;
/// Salt of account and profile ids.
pub(crate) const ACCOUNT_SALT: u32 = 0x0acc_0a7e;

/// `{"message": msg}`.
pub(crate) fn message(msg: &str) -> Value {
    json!({ "message": msg })
}

/// The profile id of an account.
pub(crate) fn profile_id(a: AccountId) -> String {
    uuid_for(ACCOUNT_SALT, a.0 << 8)
}

/// One `GET /accounts` entry.
pub(crate) fn account(
    owner: AccountId,
    index: u64,
    currency: &str,
    free: Decimal,
    locked: Decimal,
) -> Value {
    json!({
        "id": uuid_for(ACCOUNT_SALT, (owner.0 << 8) | (index + 1)), "currency": currency,
        "balance": format!("{:.16}", free + locked), "available": format!("{:.16}", free),
        "hold": format!("{:.16}", locked), "profile_id": profile_id(owner), "trading_enabled": true,
        "pending_deposit": "0",
    })
}

fn side(s: Side) -> &'static str {
    match s {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

/// An order object (`POST /orders`, `GET /orders/{id}`, `GET /orders`).
pub(crate) fn order(o: &Order) -> Value {
    let (status, done_reason) = match o.status {
        OrderStatus::New | OrderStatus::PartiallyFilled => ("open", None),
        OrderStatus::Filled => ("done", Some("filled")),
        OrderStatus::Canceled => ("done", Some("canceled")),
        OrderStatus::Expired => (
            "done",
            Some(if o.filled_qty.is_zero() {
                "canceled"
            } else {
                "filled"
            }),
        ),
    };
    let tif = match o.tif {
        TimeInForce::Gtc => "GTC",
        TimeInForce::Ioc => "IOC",
        TimeInForce::Fok => "FOK",
    };
    let mut v = json!({
        "id": uuid_for(ORDER_SALT, o.id.0), "product_id": o.market, "profile_id": profile_id(o.account),
        "side": side(o.side), "type": if o.kind == OrderKind::Market { "market" } else { "limit" },
        "time_in_force": tif, "post_only": o.post_only, "created_at": iso8601(o.created_ms),
        "fill_fees": format!("{:.16}", o.fees), "filled_size": format!("{:.8}", o.filled_qty),
        "executed_value": format!("{:.16}", o.filled_quote), "status": status,
        "settled": !o.status.is_open(), "stp": "dc",
    });
    if let Some(m) = v.as_object_mut() {
        if let Some(p) = o.price {
            m.insert("price".into(), json!(format!("{:.8}", p)));
        }
        if let Some(q) = o.quantity.filter(|_| o.quote_quantity.is_none()) {
            m.insert("size".into(), json!(format!("{:.8}", q)));
        }
        if let Some(f) = o.quote_quantity {
            m.insert("funds".into(), json!(format!("{:.8}", f)));
        }
        if let Some(c) = &o.client_id {
            m.insert("client_oid".into(), json!(c));
        }
        if let Some(reason) = done_reason {
            m.insert("done_at".into(), json!(iso8601(o.updated_ms)));
            m.insert("done_reason".into(), json!(reason));
        }
    }
    v
}

/// One `GET /fills` entry.
pub(crate) fn fill(f: &Fill) -> Value {
    json!({
        "trade_id": f.id, "product_id": f.market, "order_id": uuid_for(ORDER_SALT, f.order.0),
        "user_id": format!("{:024x}", f.account.0), "profile_id": profile_id(f.account),
        "liquidity": if f.is_maker { "M" } else { "T" }, "price": format!("{:.8}", f.price),
        "size": format!("{:.8}", f.qty), "fee": format!("{:.16}", f.fee), "created_at": iso8601(f.time_ms),
        "side": side(f.side), "settled": true, "usd_volume": format!("{:.16}", f.quote_qty),
    })
}

/// One `GET /products` entry.
pub(crate) fn product(m: &MarketSpec) -> Value {
    json!({
        "id": m.id, "base_currency": m.base, "quote_currency": m.quote,
        "quote_increment": m.tick.to_string(), "base_increment": m.step.to_string(),
        "display_name": format!("{}/{}", m.base, m.quote), "min_market_funds": m.min_notional.to_string(),
        "margin_enabled": false, "post_only": false, "limit_only": false, "cancel_only": false,
        "status": "online", "status_message": "", "trading_disabled": false, "fx_stablecoin": false,
        "max_slippage_percentage": "0.03000000", "auction_mode": false, "high_bid_limit_percentage": "",
    })
}

/// One `GET /currencies` entry.
pub(crate) fn currency(id: &str) -> Value {
    let fiat = id == "USD" || id == "EUR";
    json!({
        "id": id, "name": id, "min_size": if fiat { "0.01" } else { "0.00000001" }, "status": "online",
        "message": "", "max_precision": if fiat { "0.01" } else { "0.00000001" }, "convertible_to": [],
        "details": {"type": if fiat { "fiat" } else { "crypto" }, "symbol": "", "network_confirmations": 0,
                    "sort_order": 0, "crypto_address_link": "", "crypto_transaction_link": "",
                    "push_payment_methods": [], "min_withdrawal_amount": 0, "max_withdrawal_amount": 0},
        "supported_networks": [],
    })
}
