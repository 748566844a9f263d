//! The engine's value types: orders, fills, balances and the errors a venue maps to its own wire.

use rust_decimal::Decimal;
use serde::Serialize;

/// One simulated trading account (a venue's user or profile).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct AccountId(pub u64);

/// Engine-wide order number; each venue renders it in its own id format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct OrderId(pub u64);

/// Buy or sell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Side {
    /// Buy the base asset with the quote asset.
    Buy,
    /// Sell the base asset for the quote asset.
    Sell,
}

/// Market or limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum OrderKind {
    /// Takes liquidity at any price; never rests.
    Market,
    /// Takes liquidity up to its price, then rests (GTC) or expires (IOC/FOK).
    Limit,
}

/// How long an order stays working.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TimeInForce {
    /// Good till cancelled: the unfilled rest of a limit order rests on the book.
    Gtc,
    /// Immediate or cancel: whatever does not fill at once expires.
    Ioc,
    /// Fill or kill: fills entirely at once, or not at all.
    Fok,
}

/// Lifecycle of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum OrderStatus {
    /// Accepted and resting, nothing filled yet.
    New,
    /// Resting with part of it filled.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled by the owner (possibly after partial fills).
    Canceled,
    /// Ended by its time in force (IOC/FOK/market) with the rest unfilled.
    Expired,
}

impl OrderStatus {
    /// True while the order can still fill or be cancelled.
    pub fn is_open(self) -> bool {
        matches!(self, OrderStatus::New | OrderStatus::PartiallyFilled)
    }
}

/// What a client asks for; venues build it from their own wire parameters.
#[derive(Clone, Debug)]
pub struct OrderRequest {
    /// The venue's market id, e.g. `BTCUSDT`, `BTC-USD`, `XXBTZUSD`.
    pub market: String,
    /// Buy or sell.
    pub side: Side,
    /// Market or limit.
    pub kind: OrderKind,
    /// Time in force (market orders behave as IOC whatever is given).
    pub tif: TimeInForce,
    /// Refuse the order if it would take liquidity.
    pub post_only: bool,
    /// Limit price (required for limit orders).
    pub price: Option<Decimal>,
    /// Base quantity.
    pub quantity: Option<Decimal>,
    /// Quote amount to spend or receive (market orders only).
    pub quote_quantity: Option<Decimal>,
    /// The client's id for the order, unique per the venue's policy (None: not tracked).
    pub client_id: Option<String>,
}

/// An order as the engine keeps it.
#[derive(Clone, Debug, Serialize)]
pub struct Order {
    /// Engine order number.
    pub id: OrderId,
    /// Owner.
    pub account: AccountId,
    /// Client order id, if the client gave one.
    pub client_id: Option<String>,
    /// Venue market id.
    pub market: String,
    /// Buy or sell.
    pub side: Side,
    /// Market or limit.
    pub kind: OrderKind,
    /// Time in force.
    pub tif: TimeInForce,
    /// Post-only flag.
    pub post_only: bool,
    /// Limit price.
    pub price: Option<Decimal>,
    /// Requested base quantity (for quote-sized market orders: what filled).
    pub quantity: Option<Decimal>,
    /// Requested quote amount (quote-sized market orders).
    pub quote_quantity: Option<Decimal>,
    /// Base quantity filled so far.
    pub filled_qty: Decimal,
    /// Quote value filled so far (sum of price × qty).
    pub filled_quote: Decimal,
    /// Fees charged so far, in `fee_asset`.
    pub fees: Decimal,
    /// Asset the fees are charged in.
    pub fee_asset: String,
    /// Current status.
    pub status: OrderStatus,
    /// Creation time, ms since the Unix epoch.
    pub created_ms: u64,
    /// Last change, ms since the Unix epoch.
    pub updated_ms: u64,
    /// Funds still held for this order: (asset, amount).
    pub(crate) hold: Option<(String, Decimal)>,
}

impl Order {
    /// Base quantity still to fill (zero for market orders once done).
    pub fn remaining(&self) -> Decimal {
        self.quantity.map_or(Decimal::ZERO, |q| q - self.filled_qty)
    }

    /// Volume-weighted average fill price, if anything filled.
    pub fn average_price(&self) -> Option<Decimal> {
        (!self.filled_qty.is_zero()).then(|| self.filled_quote / self.filled_qty)
    }
}

/// One execution of an order against the book.
#[derive(Clone, Debug, Serialize)]
pub struct Fill {
    /// Trade number, increasing.
    pub id: u64,
    /// The order that filled.
    pub order: OrderId,
    /// Owner.
    pub account: AccountId,
    /// Venue market id.
    pub market: String,
    /// Side of the owner's order.
    pub side: Side,
    /// Execution price.
    pub price: Decimal,
    /// Base quantity.
    pub qty: Decimal,
    /// Quote value (price × qty).
    pub quote_qty: Decimal,
    /// Fee charged.
    pub fee: Decimal,
    /// Asset of the fee.
    pub fee_asset: String,
    /// True if the order was resting (maker), false if it took liquidity.
    pub is_maker: bool,
    /// Time, ms since the Unix epoch.
    pub time_ms: u64,
}

/// Free and held amounts of one asset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Balance {
    /// Available to trade or withdraw.
    pub free: Decimal,
    /// Held by open orders.
    pub locked: Decimal,
}

/// Why the engine refused a request. Each venue renders these in its own error shape.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// No market with that id on this venue.
    #[error("unknown market `{0}`")]
    UnknownMarket(String),
    /// No such account.
    #[error("unknown account")]
    UnknownAccount,
    /// The account lacks the funds the order needs.
    #[error("insufficient balance of {asset}")]
    InsufficientBalance {
        /// The asset that is short.
        asset: String,
    },
    /// The client order id is already in use under the venue's policy.
    #[error("duplicate client order id")]
    DuplicateClientId,
    /// Quantity missing, not positive, below the minimum or off the lot step.
    #[error("invalid quantity: {0}")]
    InvalidQuantity(&'static str),
    /// Price missing, not positive or off the tick.
    #[error("invalid price: {0}")]
    InvalidPrice(&'static str),
    /// Order value below the market's minimum notional.
    #[error("order value below the minimum notional")]
    MinNotional,
    /// A post-only order would have taken liquidity.
    #[error("post-only order would take liquidity")]
    PostOnlyWouldTake,
    /// No order with that id or client id for this account.
    #[error("unknown order")]
    UnknownOrder,
    /// The order is already filled, cancelled or expired.
    #[error("order is no longer open")]
    OrderClosed,
}
