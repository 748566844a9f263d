//! The [`Exchange`] trait: what the gateway asks of every exchange account.

use std::time::Duration;

use async_trait::async_trait;

use crate::error::ExchangeError;
use crate::model::{
    Balance, ClientOrderId, ExchangeId, Fill, KeyPermissions, Order, OrderAck, OrderRef,
    OrderRequest, Symbol, UnixMillis,
};

/// One exchange account behind one credential.
///
/// Every implementation signs as its exchange demands, stays inside the shared rate budget,
/// and reports failures split by reaction (see [`ExchangeError::reaction`]). Reads and
/// cancels are retried with back-off when they fail transiently; [`Exchange::place_order`] is
/// never retried, and an ambiguous failure of it is [`ExchangeError::UnknownOutcome`].
#[async_trait]
pub trait Exchange: Send + Sync {
    /// Which exchange API this is.
    fn id(&self) -> ExchangeId;

    /// How long after [`Exchange::place_order`] was called the exchange could still accept
    /// the order: the longest wait for rate budget before the request is signed (the
    /// connector's `max_rate_wait`), plus the signature's validity (Binance `recvWindow`,
    /// Coinbase JWT expiry, Coinbase Exchange's 30 s timestamp window, Kraken's `deadline`).
    /// An order that is not found by client id once this has passed since the call never
    /// reached the matching engine.
    fn order_validity(&self) -> Duration;

    /// The exchange's clock. Also re-estimates the local clock offset used for timestamps.
    async fn server_time(&self) -> Result<UnixMillis, ExchangeError>;

    /// All non-zero balances.
    async fn balances(&self) -> Result<Vec<Balance>, ExchangeError>;

    /// Places a new order under its client order id. Never retried; a timeout, a dropped
    /// connection or a 5xx is [`ExchangeError::UnknownOutcome`].
    async fn place_order(&self, order: &OrderRequest) -> Result<OrderAck, ExchangeError>;

    /// Cancels an open order. An order that does not exist (or is already closed) gives
    /// [`ExchangeError::Definitive`] with [`crate::RejectKind::UnknownOrder`].
    async fn cancel_order(&self, symbol: &Symbol, order: &OrderRef) -> Result<(), ExchangeError>;

    /// Finds an order by the gateway's client order id, open or closed. `Ok(None)` means the
    /// exchange has no such order.
    async fn order_by_client_id(
        &self,
        symbol: &Symbol,
        client_order_id: &ClientOrderId,
    ) -> Result<Option<Order>, ExchangeError>;

    /// Open orders, for one pair or (`None`) all pairs.
    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<Order>, ExchangeError>;

    /// Fills of `symbol` at or after `since`, oldest first, all pages.
    async fn fills_since(
        &self,
        symbol: &Symbol,
        since: UnixMillis,
    ) -> Result<Vec<Fill>, ExchangeError>;

    /// What the API key may do, as the exchange reports it.
    async fn key_permissions(&self) -> Result<KeyPermissions, ExchangeError>;
}
