//! Order entry (validation, funds check, taking liquidity, resting) and maker fills.

use rust_decimal::Decimal;

use super::book::Sweep;
use super::ledger::{buy_reserve, round_fee};
use super::market::{FeeAsset, MarketSpec};
use super::types::{
    AccountId, EngineError, Fill, Order, OrderId, OrderKind, OrderRequest, OrderStatus, Side,
    TimeInForce,
};
use super::{ClientIdPolicy, Engine};

impl Engine {
    /// Places an order at `now_ms`: takes what liquidity it can at once, rests the rest of a GTC
    /// limit order (holding its funds) and expires the rest of market, IOC and FOK orders.
    pub fn place(
        &mut self,
        account: AccountId,
        req: OrderRequest,
        now_ms: u64,
    ) -> Result<OrderId, EngineError> {
        self.advance(now_ms);
        if !self.ledger.exists(account) {
            return Err(EngineError::UnknownAccount);
        }
        self.check_client_id(account, req.client_id.as_deref())?;
        let ms = self
            .markets
            .get(&req.market)
            .ok_or_else(|| EngineError::UnknownMarket(req.market.clone()))?;
        validate(&ms.spec, &req, ms.book.mid)?;
        let sweep = Sweep {
            side: req.side,
            limit: if req.kind == OrderKind::Limit {
                req.price
            } else {
                None
            },
            qty: req.quantity,
            quote: req.quote_quantity,
        };
        let mut execs = ms.book.preview(&ms.spec, sweep);
        if req.post_only && !execs.is_empty() {
            return Err(EngineError::PostOnlyWouldTake);
        }
        let taken: Decimal = execs.iter().map(|(_, q)| *q).sum();
        if req.tif == TimeInForce::Fok && req.quantity.is_some_and(|q| taken < q) {
            execs.clear();
        }
        let rests = req.kind == OrderKind::Limit && req.tif == TimeInForce::Gtc;
        let rest_qty = if rests {
            req.quantity.unwrap_or_default() - taken
        } else {
            Decimal::ZERO
        };
        self.check_funds(account, &ms.spec, &req, &execs, rest_qty)?;
        Ok(self.enter(account, req, &execs, rest_qty))
    }

    fn check_client_id(
        &self,
        account: AccountId,
        client_id: Option<&str>,
    ) -> Result<(), EngineError> {
        let Some(cid) = client_id else { return Ok(()) };
        let Some(prev) = self.client_ids.get(&(account, cid.to_owned())) else {
            return Ok(());
        };
        let prev_open = self.orders.get(prev).is_some_and(|o| o.status.is_open());
        match self.policy {
            ClientIdPolicy::UniqueForever => Err(EngineError::DuplicateClientId),
            ClientIdPolicy::UniqueAmongOpen if prev_open => Err(EngineError::DuplicateClientId),
            ClientIdPolicy::UniqueAmongOpen => Ok(()),
        }
    }

    fn check_funds(
        &self,
        account: AccountId,
        spec: &MarketSpec,
        req: &OrderRequest,
        execs: &[(Decimal, Decimal)],
        rest_qty: Decimal,
    ) -> Result<(), EngineError> {
        match req.side {
            Side::Buy => {
                let take: Decimal = execs.iter().map(|(p, q)| taker_cost(self, *p, *q)).sum();
                let rest = req
                    .price
                    .map_or(Decimal::ZERO, |p| buy_reserve(&self.fees, p, rest_qty));
                self.ledger.require(account, &spec.quote, take + rest)
            }
            Side::Sell => {
                let take: Decimal = execs.iter().map(|(_, q)| *q).sum();
                self.ledger.require(account, &spec.base, take + rest_qty)
            }
        }
    }

    fn enter(
        &mut self,
        account: AccountId,
        req: OrderRequest,
        execs: &[(Decimal, Decimal)],
        rest_qty: Decimal,
    ) -> OrderId {
        let id = OrderId(self.orders.keys().next_back().map_or(1, |last| last.0 + 1));
        let now = self.now_ms;
        if let Some(cid) = &req.client_id {
            self.client_ids.insert((account, cid.clone()), id);
        }
        let fee_asset = String::new();
        let mut order = Order {
            id,
            account,
            client_id: req.client_id,
            market: req.market,
            side: req.side,
            kind: req.kind,
            tif: req.tif,
            post_only: req.post_only,
            price: req.price,
            quantity: req.quantity,
            quote_quantity: req.quote_quantity,
            filled_qty: Decimal::ZERO,
            filled_quote: Decimal::ZERO,
            fees: Decimal::ZERO,
            fee_asset,
            status: OrderStatus::New,
            created_ms: now,
            updated_ms: now,
            hold: None,
        };
        if let Some(ms) = self.markets.get_mut(&order.market) {
            ms.book.consume(order.side, execs);
        }
        for (price, qty) in execs {
            self.apply_fill(&mut order, *price, *qty, false, now);
        }
        if order.quantity.is_none() {
            order.quantity = Some(order.filled_qty);
        }
        self.finish_entry(&mut order, rest_qty);
        self.orders.insert(id, order);
        id
    }

    fn finish_entry(&mut self, order: &mut Order, rest_qty: Decimal) {
        let Some(spec) = self.markets.get(&order.market).map(|m| m.spec.clone()) else {
            return;
        };
        if rest_qty > Decimal::ZERO {
            let (asset, amount) = match order.side {
                Side::Buy => (
                    spec.quote.clone(),
                    buy_reserve(&self.fees, order.price.unwrap_or_default(), rest_qty),
                ),
                Side::Sell => (spec.base.clone(), rest_qty),
            };
            if self.ledger.lock(order.account, &asset, amount).is_ok() {
                order.hold = Some((asset, amount));
                order.status = if order.filled_qty.is_zero() {
                    OrderStatus::New
                } else {
                    OrderStatus::PartiallyFilled
                };
                if let Some(ms) = self.markets.get_mut(&order.market) {
                    ms.open.insert(order.id);
                }
                return;
            }
        }
        let complete =
            order.quantity.is_some_and(|q| q == order.filled_qty) && !order.filled_qty.is_zero();
        order.status = if complete {
            OrderStatus::Filled
        } else {
            OrderStatus::Expired
        };
    }

    /// Fills resting orders the current step's touch crosses, at their own limit price.
    pub(super) fn fill_resting(&mut self, market: &str, now: u64) {
        let Some(ms) = self.markets.get(market) else {
            return;
        };
        let cap = ms.spec.level_qty;
        let ids: Vec<OrderId> = ms.open.iter().copied().collect();
        for id in ids {
            let Some(mut order) = self.orders.remove(&id) else {
                continue;
            };
            let crossed = order.price.is_some_and(|p| {
                self.markets
                    .get(market)
                    .is_some_and(|m| m.book.crosses(order.side, p))
            });
            let qty = order.remaining().min(cap);
            if crossed && qty > Decimal::ZERO {
                let price = order.price.unwrap_or_default();
                self.apply_fill(&mut order, price, qty, true, now);
                if order.remaining().is_zero() {
                    self.close_filled(&mut order);
                } else {
                    order.status = OrderStatus::PartiallyFilled;
                }
            }
            self.orders.insert(id, order);
        }
    }

    fn close_filled(&mut self, order: &mut Order) {
        order.status = OrderStatus::Filled;
        if let Some((asset, amount)) = order.hold.take() {
            self.ledger.unlock(order.account, &asset, amount);
        }
        if let Some(ms) = self.markets.get_mut(&order.market) {
            ms.open.remove(&order.id);
        }
    }

    fn apply_fill(
        &mut self,
        order: &mut Order,
        price: Decimal,
        qty: Decimal,
        maker: bool,
        now: u64,
    ) {
        let Some(spec) = self.markets.get(&order.market).map(|m| m.spec.clone()) else {
            return;
        };
        let hold = order.hold.as_mut().map(|(_, amount)| amount);
        let Ok(settled) = self.ledger.settle(
            order.account,
            &spec,
            &self.fees,
            order.side,
            price,
            qty,
            maker,
            hold,
        ) else {
            return;
        };
        order.filled_qty += qty;
        order.filled_quote += price * qty;
        order.fees += settled.fee;
        order.fee_asset = settled.fee_asset.clone();
        order.updated_ms = now;
        self.fills.push(Fill {
            id: self.fills.len() as u64 + 1,
            order: order.id,
            account: order.account,
            market: order.market.clone(),
            side: order.side,
            price,
            qty,
            quote_qty: price * qty,
            fee: settled.fee,
            fee_asset: settled.fee_asset,
            is_maker: maker,
            time_ms: now,
        });
    }
}

fn taker_cost(engine: &Engine, price: Decimal, qty: Decimal) -> Decimal {
    let value = price * qty;
    match engine.fees().asset {
        FeeAsset::Received => value,
        FeeAsset::Quote => value + round_fee(value * engine.fees().taker),
    }
}

fn validate(spec: &MarketSpec, req: &OrderRequest, mid: Decimal) -> Result<(), EngineError> {
    if let Some(q) = req.quantity {
        if q <= Decimal::ZERO {
            return Err(EngineError::InvalidQuantity("quantity must be positive"));
        }
        if !spec.on_step(q) {
            return Err(EngineError::InvalidQuantity(
                "quantity is not a multiple of the lot step",
            ));
        }
        if q < spec.min_qty {
            return Err(EngineError::InvalidQuantity(
                "quantity is below the minimum",
            ));
        }
    }
    match req.kind {
        OrderKind::Limit => validate_limit(spec, req),
        OrderKind::Market => validate_market(spec, req, mid),
    }
}

fn validate_limit(spec: &MarketSpec, req: &OrderRequest) -> Result<(), EngineError> {
    let price = req
        .price
        .ok_or(EngineError::InvalidPrice("a limit order needs a price"))?;
    if price <= Decimal::ZERO {
        return Err(EngineError::InvalidPrice("price must be positive"));
    }
    if !spec.on_tick(price) {
        return Err(EngineError::InvalidPrice(
            "price is not a multiple of the tick size",
        ));
    }
    let qty = req.quantity.ok_or(EngineError::InvalidQuantity(
        "a limit order needs a quantity",
    ))?;
    if price * qty < spec.min_notional {
        return Err(EngineError::MinNotional);
    }
    Ok(())
}

fn validate_market(spec: &MarketSpec, req: &OrderRequest, mid: Decimal) -> Result<(), EngineError> {
    match (req.quantity, req.quote_quantity) {
        (Some(q), None) if q * mid >= spec.min_notional => Ok(()),
        (None, Some(quote)) if quote >= spec.min_notional => Ok(()),
        (Some(_), None) | (None, Some(_)) => Err(EngineError::MinNotional),
        _ => Err(EngineError::InvalidQuantity(
            "give either a base quantity or a quote amount",
        )),
    }
}
