//! [`AuditedLedger`]: the order ledger as `serve` runs it. Every step of an order's life after
//! the gateway's `order.submit` goes into the audit log *before* the ledger records it:
//! `order.acknowledged` (the exchange has it), `order.unknown` (placement outcome unknown),
//! `order.rejected` (refused by the exchange, proven never placed, or never sent),
//! `order.cancelled` (by a client's request, the halt, or the exchange) and `order.filled` for
//! each fill (quantity, price, fee, trade id). In aggregated-only mode
//! ([`AuditedLedger::withholding_trades`]) `order.filled` withholds the trade: its trade id
//! is logged as its HMAC and its quantity, price and fee are `null`. A fill already folded
//! into the daily totals ([`super::fill_fold`]) is recognised by that HMAC
//! ([`AuditedLedger::with_tombstones`]) and not counted again, in either mode (the mode may
//! have been switched off since).
//!
//! Fail closed, and nothing lost: when the log does not take an event, the ledger does not
//! move, and the caller gets the error (a client's request fails). What already happened at
//! the exchange is then learned again from it: an order left `sent`/`unknown` is resolved by
//! the next poll, an acknowledged order that closed is looked up again, and a fill that is not
//! in the ledger is fetched again (the poller's fill cursor only passes fills the ledger took,
//! and the cursor stored for a restart is the newest recorded fill).
//!
//! Who cancelled is known where the cancel starts: [`Cause::scope`] around the work; a close
//! learned from the exchange with no scope is the exchange's.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use rust_decimal::Decimal;
use tradeguard_audit::event::{AuditEvent, Redactor};
use tradeguard_audit::events::{Event, FillDetail, OrderRef};
use tradeguard_audit::sink::AuditSink;
use tradeguard_crypto::secret::SecretString;
use tradeguard_exchange::ledger::{
    FillRecord, LedgerEntry, LedgerError, OrderLedger, OrderState, SqlLedger, Transition,
};
use tradeguard_exchange::model::{
    AccountId, ClientOrderId, ExchangeId, ExchangeOrderId, Fill, OrderRequest, UnixMillis,
};
use tradeguard_store::Store;

tokio::task_local! {
    static CAUSE: Cause;
}

/// Who closed the orders whose cancellation is recorded inside [`Cause::scope`], and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cause {
    /// `client`, `halt` or `exchange` (the `by` of `order.cancelled`).
    pub by: &'static str,
    /// Its `reason`.
    pub reason: &'static str,
}

impl Cause {
    /// A client's `DELETE /v1/orders/{id}` (its principal is in the request's `order.cancel`).
    pub const CLIENT: Cause = Cause {
        by: "client",
        reason: "cancel request",
    };
    /// The halt's cancel-all, and the poller's sweep while HALTED.
    pub const HALT: Cause = Cause {
        by: "halt",
        reason: "trading halted",
    };
    /// The rebalancing scheduler, cancelling its own plan order left unfilled past
    /// `[polling] rebalance_order_ttl_secs`.
    pub const SCHEDULER: Cause = Cause {
        by: "scheduler",
        reason: "rebalance order unfilled past its time to live",
    };
    /// Closed at the exchange, learned by a lookup (the default outside any scope).
    pub const EXCHANGE: Cause = Cause {
        by: "exchange",
        reason: "closed by the exchange (cancelled or expired)",
    };

    /// Runs `work` with cancellations recorded as `self`'s.
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        CAUSE.scope(self, work).await
    }

    fn current() -> Cause {
        CAUSE.try_with(|c| *c).unwrap_or(Cause::EXCHANGE)
    }
}

/// What the log names an account's orders by: its profile (when it has exactly one) and its
/// exchange.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountNames {
    /// The risk profile trading on the account, or empty when several do.
    pub profile: String,
    /// The exchange.
    pub exchange: String,
}

/// The order ledger in the gateway's database, writing each lifecycle step to the audit log
/// first (see the module documentation).
pub struct AuditedLedger {
    inner: SqlLedger,
    store: Store,
    sink: Arc<dyn AuditSink>,
    names: BTreeMap<String, AccountNames>,
    filled: tokio::sync::Mutex<Filled>,
    /// The log's redactor, whose HMAC of a trade id is its tombstone once folded.
    tombstones: Option<Redactor>,
    /// Aggregated-only mode: `order.filled` withholds the trade.
    withhold: bool,
}

/// Quantity filled so far per exchange order, from the recorded fills (read once per account).
#[derive(Default)]
struct Filled {
    loaded: HashSet<AccountId>,
    by_order: HashMap<(AccountId, ExchangeOrderId), Decimal>,
}

fn storage(e: impl std::fmt::Display) -> LedgerError {
    LedgerError::Storage(e.to_string())
}

impl AuditedLedger {
    /// The ledger in `store`, appending to `sink`; `names` by account name.
    pub fn new(
        store: Store,
        sink: Arc<dyn AuditSink>,
        names: BTreeMap<String, AccountNames>,
    ) -> Self {
        Self {
            inner: SqlLedger::new(store.clone()),
            store,
            sink,
            names,
            filled: tokio::sync::Mutex::default(),
            tombstones: None,
            withhold: false,
        }
    }

    /// A fill whose trade id's HMAC under `redactor` (the audit log's) is tombstoned was
    /// folded into the daily totals: it is not recorded or logged again.
    pub fn with_tombstones(mut self, redactor: Redactor) -> Self {
        self.tombstones = Some(redactor);
        self
    }

    /// Aggregated-only mode: `order.filled` withholds the trade.
    pub fn withholding_trades(mut self) -> Self {
        self.withhold = true;
        self
    }

    /// True when the fill was folded into the daily totals.
    async fn folded(&self, account: &AccountId, fill: &Fill) -> Result<bool, LedgerError> {
        let Some(r) = &self.tombstones else {
            return Ok(false);
        };
        let digest = r.search_value(&fill.trade_id.to_string());
        self.store
            .fill_tombstoned(account.as_str(), &digest)
            .await
            .map_err(storage)
    }

    fn order_ref(&self, account: &AccountId, exchange: ExchangeId, r: &OrderRequest) -> OrderRef {
        OrderRef {
            client_order_id: r.client_order_id().as_str().to_owned(),
            profile: self.names(account).profile,
            exchange: exchange.as_str().to_owned(),
            symbol: r.symbol().to_string(),
        }
    }

    fn names(&self, account: &AccountId) -> AccountNames {
        self.names
            .get(account.as_str())
            .cloned()
            .unwrap_or_default()
    }

    /// Appends `events` (one batch); the error says what was not recorded.
    async fn append(&self, events: &[Event]) -> Result<(), LedgerError> {
        let Some(first) = events.first() else {
            return Ok(());
        };
        let refused = |e: &dyn std::fmt::Display| {
            LedgerError::Storage(format!(
                "audit log did not record `{}`: {e}; the order's record is left as it was and \
                 is brought up to date from the exchange at the next poll",
                first.kind()
            ))
        };
        let audit: Vec<AuditEvent> = events
            .iter()
            .map(Event::to_audit_event)
            .collect::<Result<_, _>>()
            .map_err(|e| refused(&e))?;
        self.sink
            .append_batch(&audit)
            .await
            .map(drop)
            .map_err(|e| refused(&e))
    }

    /// The events of `before` becoming `t.to`.
    fn transition_events(&self, before: &LedgerEntry, t: &Transition) -> Vec<Event> {
        use OrderState::{Acknowledged, Cancelled, Filled, Rejected, Sent, Unknown};
        let order = self.order_ref(&before.account, before.exchange, &before.request);
        let mut out = Vec::new();
        if matches!(before.state, Sent | Unknown)
            && matches!(t.to, Acknowledged | Filled | Cancelled)
        {
            let id = t
                .exchange_order_id
                .as_ref()
                .or(before.exchange_order_id.as_ref())
                .map(|x| x.as_str().to_owned())
                .unwrap_or_default();
            out.push(Event::OrderAcknowledged {
                order: order.clone(),
                exchange_order_id: id,
            });
        }
        let reason = || t.error.clone().unwrap_or_default();
        match (before.state, t.to) {
            (_, Cancelled) => {
                let cause = Cause::current();
                out.push(Event::OrderCancelled {
                    order,
                    by: cause.by.to_owned(),
                    reason: Some(cause.reason.to_owned()),
                });
            }
            (_, Rejected) => out.push(Event::OrderRejected {
                order,
                reason: reason(),
            }),
            (Sent, Unknown) => out.push(Event::OrderUnknown {
                order,
                reason: reason(),
            }),
            _ => {}
        }
        out
    }

    /// The `order.filled` of a fill not recorded yet.
    async fn fill_event(&self, account: &AccountId, fill: &Fill) -> Result<Event, LedgerError> {
        let owner = match &fill.client_order_id {
            Some(c) => Some(c.clone()),
            None => self
                .store
                .order_client_id(account.as_str(), fill.exchange_order_id.as_str())
                .await
                .map_err(storage)?
                .and_then(|c| ClientOrderId::parse(&c).ok()),
        };
        let entry = match &owner {
            Some(c) => self.inner.get(account, c).await?,
            None => None,
        };
        let before = self.filled_before(account, &fill.exchange_order_id).await?;
        let names = self.names(account);
        let order = match &entry {
            Some(e) => self.order_ref(account, e.exchange, &e.request),
            // Placed outside the gateway: named by what the fill carries.
            None => OrderRef {
                client_order_id: owner.map(|c| c.as_str().to_owned()).unwrap_or_default(),
                profile: names.profile,
                exchange: names.exchange,
                symbol: fill.symbol.to_string(),
            },
        };
        let detail = match self.withhold {
            false => FillDetail::Trade {
                trade_id: fill.trade_id.to_string(),
                qty: fill.quantity,
                price: fill.price,
                fee: fill.fee,
                fee_asset: fill.fee_asset.as_ref().map(|a| a.as_str().to_owned()),
            },
            true => FillDetail::Withheld {
                trade_id: SecretString::new(fill.trade_id.to_string()),
            },
        };
        Ok(Event::OrderFilled {
            order,
            detail,
            complete: entry.is_some_and(|e| before + fill.quantity >= e.request.quantity()),
        })
    }

    /// Quantity of the exchange order filled by the fills recorded so far.
    async fn filled_before(
        &self,
        account: &AccountId,
        order: &ExchangeOrderId,
    ) -> Result<Decimal, LedgerError> {
        let mut filled = self.filled.lock().await;
        if !filled.loaded.contains(account) {
            for f in self.inner.fills(account).await? {
                *filled
                    .by_order
                    .entry((account.clone(), f.exchange_order_id.clone()))
                    .or_default() += f.quantity;
            }
            filled.loaded.insert(account.clone());
        }
        let key = (account.clone(), order.clone());
        Ok(filled.by_order.get(&key).copied().unwrap_or_default())
    }

    async fn count_fill(&self, account: &AccountId, fill: &Fill) {
        let mut filled = self.filled.lock().await;
        if filled.loaded.contains(account) {
            *filled
                .by_order
                .entry((account.clone(), fill.exchange_order_id.clone()))
                .or_default() += fill.quantity;
        }
    }
}

#[async_trait]
impl OrderLedger for AuditedLedger {
    async fn record_intent(
        &self,
        account: &AccountId,
        exchange: ExchangeId,
        request: &OrderRequest,
        at: UnixMillis,
    ) -> Result<LedgerEntry, LedgerError> {
        // Already in the log as the gateway's `order.submit`, written before the risk check.
        self.inner
            .record_intent(account, exchange, request, at)
            .await
    }

    async fn transition(
        &self,
        account: &AccountId,
        id: &ClientOrderId,
        transition: Transition,
    ) -> Result<LedgerEntry, LedgerError> {
        if let Some(before) = self.inner.get(account, id).await?
            && before.state.can_become(transition.to)
        {
            self.append(&self.transition_events(&before, &transition))
                .await?;
        }
        self.inner.transition(account, id, transition).await
    }

    async fn get(
        &self,
        account: &AccountId,
        id: &ClientOrderId,
    ) -> Result<Option<LedgerEntry>, LedgerError> {
        self.inner.get(account, id).await
    }

    async fn open_entries(&self, account: &AccountId) -> Result<Vec<LedgerEntry>, LedgerError> {
        self.inner.open_entries(account).await
    }

    async fn all_entries(&self, account: &AccountId) -> Result<Vec<LedgerEntry>, LedgerError> {
        self.inner.all_entries(account).await
    }

    async fn record_fill(
        &self,
        account: &AccountId,
        fill: &Fill,
    ) -> Result<FillRecord, LedgerError> {
        let known = self
            .store
            .fill_get(account.as_str(), &fill.trade_id.to_string())
            .await
            .map_err(storage)?;
        if known.is_none() && self.folded(account, fill).await? {
            let owner = self
                .store
                .order_client_id(account.as_str(), fill.exchange_order_id.as_str())
                .await
                .map_err(storage)?
                .and_then(|c| ClientOrderId::parse(&c).ok());
            return Ok(FillRecord {
                new: false,
                client_order_id: owner,
            });
        }
        if known.is_none() {
            let event = self.fill_event(account, fill).await?;
            self.append(&[event]).await?;
        }
        let record = self.inner.record_fill(account, fill).await?;
        // Only while fills are being folded (aggregated-only mode) can one be folded by
        // another writer between the checks above and this insert; it is then counted in the
        // daily totals already.
        if record.new && self.withhold && self.folded(account, fill).await? {
            let mut tx = self.store.begin().await.map_err(storage)?;
            tx.fill_take(account.as_str(), &fill.trade_id.to_string())
                .await
                .map_err(storage)?;
            tx.commit().await.map_err(storage)?;
            return Ok(FillRecord {
                new: false,
                ..record
            });
        }
        if record.new {
            self.count_fill(account, fill).await;
        }
        Ok(record)
    }

    async fn fills(&self, account: &AccountId) -> Result<Vec<Fill>, LedgerError> {
        self.inner.fills(account).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};
    use tradeguard_audit::entry::Entry;
    use tradeguard_audit::event::Redactor;
    use tradeguard_audit::sink::MemorySink;
    use tradeguard_crypto::secret::SecretBytes;
    use tradeguard_exchange::model::{Asset, OrderType, Side, Symbol, TimeInForce, TradeId};

    use super::*;

    struct Fixture {
        ledger: AuditedLedger,
        sink: Arc<MemorySink>,
        account: AccountId,
        _dir: tempfile::TempDir,
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("t.db")).await.unwrap();
        store.migrate().await.unwrap();
        let sink = Arc::new(MemorySink::new(
            Redactor::new(SecretBytes::new(vec![3; 32])).unwrap(),
        ));
        let names = AccountNames {
            profile: "core".into(),
            exchange: "kraken".into(),
        };
        let ledger = AuditedLedger::new(
            store,
            sink.clone(),
            BTreeMap::from([("kraken-main".to_owned(), names)]),
        );
        Fixture {
            ledger,
            sink,
            account: AccountId::parse("kraken-main").unwrap(),
            _dir: dir,
        }
    }

    fn request(cid: &str) -> OrderRequest {
        let symbol = Symbol::new(Asset::parse("BTC").unwrap(), Asset::parse("USD").unwrap());
        let limit = OrderType::Limit {
            price: Decimal::from(60_000),
            time_in_force: TimeInForce::Gtc,
        };
        let cid = ClientOrderId::parse(cid).unwrap();
        OrderRequest::new(cid, symbol, Side::Buy, limit, Decimal::new(2, 2)).unwrap()
    }

    fn fill(trade: &str, order: &str, qty: Decimal) -> Fill {
        Fill {
            trade_id: TradeId::parse(trade).unwrap(),
            exchange_order_id: ExchangeOrderId::parse(order).unwrap(),
            client_order_id: None,
            symbol: request("x").symbol().clone(),
            side: Side::Buy,
            price: Decimal::from(60_000),
            quantity: qty,
            fee: Decimal::new(24, 1),
            fee_asset: None,
            is_maker: Some(true),
            time: UnixMillis(1_000),
        }
    }

    /// `(kind, fields)` of every entry so far.
    fn logged(sink: &MemorySink) -> Vec<(String, Map<String, Value>)> {
        sink.entries()
            .iter()
            .map(|b| Entry::parse(b).unwrap())
            .map(|e| (e.kind.as_str().to_owned(), e.fields))
            .collect()
    }

    impl Fixture {
        async fn sent(&self, cid: &str) -> ClientOrderId {
            let r = request(cid);
            let l = &self.ledger;
            l.record_intent(&self.account, ExchangeId::Kraken, &r, UnixMillis(1))
                .await
                .unwrap();
            let id = r.client_order_id().clone();
            let t = Transition::to(OrderState::Sent, UnixMillis(2));
            l.transition(&self.account, &id, t).await.unwrap();
            id
        }

        async fn to(&self, id: &ClientOrderId, t: Transition) -> Result<LedgerEntry, LedgerError> {
            self.ledger.transition(&self.account, id, t).await
        }

        async fn state(&self, id: &ClientOrderId) -> OrderState {
            let e = self.ledger.get(&self.account, id).await.unwrap();
            e.unwrap().state
        }
    }

    fn acked(x: &str) -> Transition {
        let mut t = Transition::to(OrderState::Acknowledged, UnixMillis(3));
        t.exchange_order_id = Some(ExchangeOrderId::parse(x).unwrap());
        t
    }

    /// Acknowledged, cancelled by the halt and by the exchange, rejected, unknown: each with
    /// the order's names, and nothing for the steps before the exchange answers.
    #[tokio::test]
    async fn each_step_of_an_order_is_logged_with_its_fields() {
        let f = fixture().await;
        let a = f.sent("o-1").await;
        assert!(
            logged(&f.sink).is_empty(),
            "intent and send are order.submit's"
        );
        f.to(&a, acked("X-1")).await.unwrap();
        let cancel = Transition::to(OrderState::Cancelled, UnixMillis(4));
        Cause::HALT.scope(f.to(&a, cancel.clone())).await.unwrap();
        let b = f.sent("o-2").await;
        f.to(&b, acked("X-2")).await.unwrap();
        f.to(&b, cancel).await.unwrap();
        let c = f.sent("o-3").await;
        let t = Transition::to(OrderState::Unknown, UnixMillis(5)).because("timed out");
        f.to(&c, t).await.unwrap();
        let t = Transition::to(OrderState::Rejected, UnixMillis(6)).because("never placed");
        f.to(&c, t).await.unwrap();

        let got = logged(&f.sink);
        let kinds: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        let want = [
            "order.acknowledged",
            "order.cancelled",
            "order.acknowledged",
            "order.cancelled",
            "order.unknown",
            "order.rejected",
        ];
        assert_eq!(kinds, want);
        let names = json!({"client_order_id": "o-1", "profile": "core", "exchange": "kraken",
            "symbol": "BTC/USD"});
        let with = |extra: Value| {
            let mut m = names.as_object().unwrap().clone();
            m.extend(extra.as_object().unwrap().clone());
            m
        };
        assert_eq!(got[0].1, with(json!({"exchange_order_id": "X-1"})));
        assert_eq!(
            got[1].1,
            with(json!({"by": "halt", "reason": "trading halted"}))
        );
        assert_eq!(got[3].1["by"], "exchange");
        assert_eq!(got[4].1["reason"], "timed out");
        assert_eq!(got[5].1["reason"], "never placed");
        assert_eq!(got[5].1["client_order_id"], "o-3");
    }

    /// A log that refuses leaves the ledger where it was (the step is learned again from the
    /// exchange), and the same step is logged once the log takes it.
    #[tokio::test]
    async fn fail_a_step_the_log_refuses_is_not_recorded() {
        let f = fixture().await;
        let a = f.sent("o-1").await;
        f.sink.set_refuse(true);
        let e = f.to(&a, acked("X-1")).await.unwrap_err();
        assert!(e.to_string().contains("order.acknowledged"), "{e}");
        assert_eq!(f.state(&a).await, OrderState::Sent);
        f.sink.set_refuse(false);
        f.to(&a, acked("X-1")).await.unwrap();
        assert_eq!(f.state(&a).await, OrderState::Acknowledged);
        assert_eq!(logged(&f.sink).len(), 1);
    }

    /// Each fill is logged once with its quantity, price, fee and trade id, `complete` once
    /// the order's fills reach its quantity; a fill the log refuses is not stored, so the
    /// poller's cursor (the newest stored fill) does not pass it and it is fetched again.
    #[tokio::test]
    async fn fills_are_logged_once_and_a_refused_one_is_not_stored() {
        let f = fixture().await;
        let a = f.sent("o-1").await;
        f.to(&a, acked("X-1")).await.unwrap();
        let first = fill("T-1", "X-1", Decimal::new(5, 3));
        let r = f.ledger.record_fill(&f.account, &first).await.unwrap();
        assert!(r.new);
        f.sink.set_refuse(true);
        let second = fill("T-2", "X-1", Decimal::new(15, 3));
        let e = f.ledger.record_fill(&f.account, &second).await.unwrap_err();
        assert!(e.to_string().contains("order.filled"), "{e}");
        assert_eq!(f.ledger.fills(&f.account).await.unwrap().len(), 1);
        f.sink.set_refuse(false);
        f.ledger.record_fill(&f.account, &second).await.unwrap();
        let again = f.ledger.record_fill(&f.account, &second).await.unwrap();
        assert!(!again.new);

        let fills: Vec<_> = logged(&f.sink)
            .into_iter()
            .filter(|(k, _)| k == "order.filled")
            .map(|(_, m)| m)
            .collect();
        assert_eq!(fills.len(), 2, "{fills:?}");
        let want = json!({"client_order_id": "o-1", "profile": "core", "exchange": "kraken",
            "symbol": "BTC/USD", "trade_id": "T-1", "qty": "0.005", "price": "60000",
            "fee": "2.4", "fee_asset": null, "complete": false});
        assert_eq!(Value::Object(fills[0].clone()), want);
        assert_eq!(fills[1]["trade_id"], "T-2");
        assert_eq!(fills[1]["complete"], true, "0.005 + 0.015 = 0.02");
    }
}
