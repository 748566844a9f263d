//! Account data: balances, fills and what an API key may do.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::ids::{ClientOrderId, ExchangeOrderId, TradeId};
use super::market::{Asset, Side, Symbol, UnixMillis};

/// One asset's balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// The asset.
    pub asset: Asset,
    /// Available to trade.
    pub free: Decimal,
    /// Held by open orders (or otherwise unavailable).
    pub locked: Decimal,
}

impl Balance {
    /// `free + locked` (saturating at the decimal range, which real balances never reach).
    pub fn total(&self) -> Decimal {
        self.free.checked_add(self.locked).unwrap_or(Decimal::MAX)
    }
}

/// One execution (trade) of an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// The exchange's trade id, unique per exchange account.
    pub trade_id: TradeId,
    /// The order that traded.
    pub exchange_order_id: ExchangeOrderId,
    /// Its client id, when the fill record carries it.
    pub client_order_id: Option<ClientOrderId>,
    /// The pair.
    pub symbol: Symbol,
    /// Our side of the trade.
    pub side: Side,
    /// Execution price (quote asset).
    pub price: Decimal,
    /// Executed quantity (base asset).
    pub quantity: Decimal,
    /// Fee charged.
    pub fee: Decimal,
    /// The asset the fee was charged in, when reported.
    pub fee_asset: Option<Asset>,
    /// True when we provided liquidity, when reported.
    pub is_maker: Option<bool>,
    /// Execution time.
    pub time: UnixMillis,
}

/// What an API key may do, as the exchange itself reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPermissions {
    /// May read balances and orders.
    pub can_read: bool,
    /// May place and cancel orders.
    pub can_trade: bool,
    /// May withdraw funds off the exchange.
    pub can_withdraw: bool,
    /// May move funds between accounts, sub-accounts or wallets (also a way to lose them).
    pub can_transfer: bool,
    /// Whether the key only works from listed IP addresses (`None`: the exchange does not say).
    pub ip_restricted: Option<bool>,
    /// The exchange's own names for the permissions that are on, for display.
    pub granted: Vec<String>,
}
