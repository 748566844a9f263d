//! Idempotent placement, resolution of unknown outcomes and start-up reconciliation, against
//! a scripted in-test exchange whose "truth" the test controls.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rust_decimal::Decimal;
use tradeguard_exchange::ledger::{
    InMemoryLedger, OrderLedger, OrderPlacer, OrderState, Placement, Resolution, Transition,
};
use tradeguard_exchange::model::*;
use tradeguard_exchange::{Clock, Exchange, ExchangeError, ManualClock, RejectKind};

const T0: UnixMillis = UnixMillis(1_795_386_067_000);
const EX: ExchangeId = ExchangeId::Binance;

/// How the scripted exchange treats the next new order.
#[derive(Clone, Copy)]
enum Behaviour {
    Accept,
    /// Accepts it, but the answer is lost (timeout after the exchange acted).
    AcceptThenLose,
    /// The request is lost before reaching the exchange.
    Lose,
    Refuse,
    /// Claims the client id is a duplicate of an open order.
    Duplicate,
}

#[derive(Default)]
struct Truth {
    orders: HashMap<ClientOrderId, Order>,
    fills: Vec<Fill>,
    script: VecDeque<Behaviour>,
    place_calls: usize,
    next_id: u64,
}

struct Scripted {
    truth: Mutex<Truth>,
}

impl Scripted {
    fn new(script: &[Behaviour]) -> Arc<Self> {
        let truth = Truth {
            script: script.iter().copied().collect(),
            ..Truth::default()
        };
        Arc::new(Self {
            truth: Mutex::new(truth),
        })
    }

    fn accept(t: &mut Truth, req: &OrderRequest) -> Order {
        t.next_id += 1;
        let o = Order {
            exchange_order_id: ExchangeOrderId::parse(&t.next_id.to_string()).unwrap(),
            client_order_id: Some(req.client_order_id().clone()),
            symbol: req.symbol().clone(),
            side: req.side(),
            order_type: req.order_type(),
            quantity: req.quantity(),
            filled_quantity: Decimal::ZERO,
            average_price: None,
            status: OrderStatus::Open,
            created_at: Some(T0),
        };
        t.orders.insert(req.client_order_id().clone(), o.clone());
        o
    }

    fn fill(&self, cid: &ClientOrderId, trade: &str, at: UnixMillis) {
        let mut t = self.truth.lock().unwrap();
        let o = t.orders.get_mut(cid).unwrap();
        o.filled_quantity = o.quantity;
        o.status = OrderStatus::Filled;
        let f = Fill {
            trade_id: TradeId::parse(trade).unwrap(),
            exchange_order_id: o.exchange_order_id.clone(),
            client_order_id: None,
            symbol: o.symbol.clone(),
            side: o.side,
            price: Decimal::ONE,
            quantity: o.quantity,
            fee: Decimal::ZERO,
            fee_asset: None,
            is_maker: None,
            time: at,
        };
        t.fills.push(f);
    }

    fn place_calls(&self) -> usize {
        self.truth.lock().unwrap().place_calls
    }
}

fn unknown() -> ExchangeError {
    ExchangeError::UnknownOutcome {
        exchange: EX,
        operation: "place_order",
        reason: "timed out".into(),
    }
}

#[async_trait]
impl Exchange for Scripted {
    fn id(&self) -> ExchangeId {
        EX
    }
    fn order_validity(&self) -> Duration {
        Duration::from_secs(6)
    }
    async fn server_time(&self) -> Result<UnixMillis, ExchangeError> {
        Ok(T0)
    }
    async fn balances(&self) -> Result<Vec<Balance>, ExchangeError> {
        Ok(Vec::new())
    }
    async fn place_order(&self, req: &OrderRequest) -> Result<OrderAck, ExchangeError> {
        let mut t = self.truth.lock().unwrap();
        t.place_calls += 1;
        match t.script.pop_front().unwrap_or(Behaviour::Accept) {
            Behaviour::Accept => {
                let o = Self::accept(&mut t, req);
                Ok(OrderAck {
                    exchange_order_id: o.exchange_order_id,
                    client_order_id: req.client_order_id().clone(),
                    status: o.status,
                    filled_quantity: Decimal::ZERO,
                })
            }
            Behaviour::AcceptThenLose => {
                Self::accept(&mut t, req);
                Err(unknown())
            }
            Behaviour::Lose => Err(unknown()),
            Behaviour::Refuse => Err(ExchangeError::Definitive {
                exchange: EX,
                operation: "place_order",
                kind: RejectKind::InsufficientFunds,
                code: "-2010".into(),
                message: "Account has insufficient balance for requested action.".into(),
            }),
            Behaviour::Duplicate => {
                Self::accept(&mut t, req);
                Err(ExchangeError::Definitive {
                    exchange: EX,
                    operation: "place_order",
                    kind: RejectKind::DuplicateOrder,
                    code: "-2010".into(),
                    message: "Duplicate order sent.".into(),
                })
            }
        }
    }
    async fn cancel_order(&self, _s: &Symbol, order: &OrderRef) -> Result<(), ExchangeError> {
        let mut t = self.truth.lock().unwrap();
        let o = t.orders.values_mut().find(|o| match order {
            OrderRef::Exchange(x) => &o.exchange_order_id == x,
            OrderRef::Client(c) => o.client_order_id.as_ref() == Some(c),
        });
        match o {
            Some(o) if !o.status.is_final() => {
                o.status = OrderStatus::Cancelled;
                Ok(())
            }
            _ => Err(ExchangeError::Definitive {
                exchange: EX,
                operation: "cancel_order",
                kind: RejectKind::UnknownOrder,
                code: "-2011".into(),
                message: "Unknown order sent.".into(),
            }),
        }
    }
    async fn order_by_client_id(
        &self,
        _s: &Symbol,
        id: &ClientOrderId,
    ) -> Result<Option<Order>, ExchangeError> {
        Ok(self.truth.lock().unwrap().orders.get(id).cloned())
    }
    async fn open_orders(&self, _s: Option<&Symbol>) -> Result<Vec<Order>, ExchangeError> {
        Ok(self
            .truth
            .lock()
            .unwrap()
            .orders
            .values()
            .filter(|o| !o.status.is_final())
            .cloned()
            .collect())
    }
    async fn fills_since(&self, s: &Symbol, since: UnixMillis) -> Result<Vec<Fill>, ExchangeError> {
        Ok(self
            .truth
            .lock()
            .unwrap()
            .fills
            .iter()
            .filter(|f| &f.symbol == s && f.time >= since)
            .cloned()
            .collect())
    }
    async fn key_permissions(&self) -> Result<KeyPermissions, ExchangeError> {
        Err(ExchangeError::Unsupported {
            exchange: EX,
            operation: "key_permissions",
            hint: "test",
        })
    }
}

fn account() -> AccountId {
    AccountId::parse("acct").unwrap()
}

fn req(id: &str) -> OrderRequest {
    OrderRequest::new(
        ClientOrderId::parse(id).unwrap(),
        Symbol::parse("BTC/USDT").unwrap(),
        Side::Buy,
        OrderType::Market,
        Decimal::ONE,
    )
    .unwrap()
}

fn setup(
    script: &[Behaviour],
) -> (
    Arc<Scripted>,
    Arc<InMemoryLedger>,
    Arc<ManualClock>,
    OrderPlacer,
) {
    let ex = Scripted::new(script);
    let ledger = Arc::new(InMemoryLedger::new());
    let clock = Arc::new(ManualClock::new(T0));
    let placer = OrderPlacer::new(ex.clone(), ledger.clone(), account(), clock.clone());
    (ex, ledger, clock, placer)
}

#[tokio::test]
async fn placement_table() {
    use Behaviour::*;
    // (behaviour, expected placement, expected ledger state)
    let cases = [
        (Accept, "placed", OrderState::Acknowledged),
        (AcceptThenLose, "placed", OrderState::Acknowledged),
        (Lose, "unknown", OrderState::Unknown),
        (Refuse, "rejected", OrderState::Rejected),
        (Duplicate, "placed", OrderState::Acknowledged),
    ];
    for (i, (b, want, state)) in cases.iter().enumerate() {
        let (ex, ledger, _clock, placer) = setup(&[*b]);
        let p = placer.place(&req("o1")).await.unwrap();
        let got = match &p {
            Placement::Placed(_) => "placed",
            Placement::Unknown { .. } => "unknown",
            Placement::Rejected { .. } => "rejected",
            Placement::AlreadyRecorded(_) => "already",
        };
        assert_eq!(got, *want, "TC{i} failed: placement");
        let e = ledger
            .get(&account(), &ClientOrderId::parse("o1").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(e.state, *state, "TC{i} failed: ledger state");
        assert_eq!(ex.place_calls(), 1, "TC{i} failed: sent exactly once");
    }
}

#[tokio::test]
async fn fail_the_same_client_id_is_never_sent_twice() {
    let (ex, _ledger, _clock, placer) = setup(&[Behaviour::Lose, Behaviour::Accept]);
    assert!(matches!(
        placer.place(&req("o1")).await.unwrap(),
        Placement::Unknown { .. }
    ));
    let again = placer.place(&req("o1")).await.unwrap();
    let Placement::AlreadyRecorded(e) = again else {
        panic!("{again:?}")
    };
    assert_eq!(e.state, OrderState::Unknown);
    assert_eq!(ex.place_calls(), 1);
}

#[tokio::test]
async fn not_found_becomes_conclusive_only_after_the_validity_window() {
    let (_ex, ledger, clock, placer) = setup(&[Behaviour::Lose]);
    let Placement::Unknown { retry_at, .. } = placer.place(&req("o1")).await.unwrap() else {
        panic!()
    };
    assert_eq!(retry_at, T0.plus(Duration::from_secs(6)));
    let id = ClientOrderId::parse("o1").unwrap();
    clock.advance(Duration::from_secs(3));
    assert!(matches!(
        placer.resolve(&id).await.unwrap(),
        Resolution::Pending { .. }
    ));
    clock.advance(Duration::from_secs(3));
    assert!(matches!(
        placer.resolve(&id).await.unwrap(),
        Resolution::NotPlaced(_)
    ));
    let e = ledger.get(&account(), &id).await.unwrap().unwrap();
    assert_eq!(e.state, OrderState::Rejected);
    assert!(e.last_error.unwrap().contains("never placed"));
}

#[tokio::test]
async fn cancel_records_the_final_state() {
    let (ex, _ledger, _clock, placer) = setup(&[]);
    placer.place(&req("o1")).await.unwrap();
    placer.place(&req("o2")).await.unwrap();
    let id1 = ClientOrderId::parse("o1").unwrap();
    let id2 = ClientOrderId::parse("o2").unwrap();
    assert_eq!(
        placer.cancel(&id1).await.unwrap().state,
        OrderState::Cancelled
    );
    // Filled before the cancel arrived: the exchange says unknown order, the lookup says filled.
    ex.fill(&id2, "t-1", T0);
    assert_eq!(placer.cancel(&id2).await.unwrap().state, OrderState::Filled);
}

#[tokio::test]
async fn startup_reconciliation() {
    use Behaviour::*;
    let (ex, ledger, clock, placer) = setup(&[Accept, AcceptThenLose, Lose, Accept]);
    for id in ["a", "b", "c", "d"] {
        placer.place(&req(id)).await.unwrap();
    }
    // A crash between recording and sending leaves an order in `new`.
    ledger
        .record_intent(&account(), EX, &req("e"), clock.now())
        .await
        .unwrap();
    // A crash right after sending leaves `f` in `sent`, though the exchange took it.
    ledger
        .record_intent(&account(), EX, &req("f"), clock.now())
        .await
        .unwrap();
    let f = ClientOrderId::parse("f").unwrap();
    ledger
        .transition(
            &account(),
            &f,
            Transition::to(OrderState::Sent, clock.now()),
        )
        .await
        .unwrap();
    Scripted::accept(&mut ex.truth.lock().unwrap(), &req("f"));
    // While the gateway was down: `a` filled; `b`'s ack was lost (resolved at once: open);
    // `c` never arrived.
    let a = ClientOrderId::parse("a").unwrap();
    ex.fill(&a, "t-a", T0.plus(Duration::from_secs(1)));
    // An order placed by hand on the exchange.
    {
        let mut t = ex.truth.lock().unwrap();
        Scripted::accept(&mut t, &req("manual"));
    }
    clock.advance(Duration::from_secs(60));
    let report = placer.reconcile(&[], T0).await.unwrap();
    assert_eq!(report.never_sent, 1);
    assert_eq!(report.resolved, 2, "c: proven never placed; f: found open");
    assert!(report.still_unknown.is_empty());
    assert_eq!(report.updated, 1, "a: filled");
    assert_eq!(report.foreign_orders.len(), 1);
    assert_eq!(report.new_fills, 1);
    assert_eq!(report.foreign_fills, 0);
    let states: Vec<(String, OrderState)> = ledger
        .entries(&account())
        .iter()
        .map(|e| (e.client_order_id().to_string(), e.state))
        .collect();
    let want = [
        ("a", OrderState::Filled),
        ("b", OrderState::Acknowledged),
        ("c", OrderState::Rejected),
        ("d", OrderState::Acknowledged),
        ("e", OrderState::Rejected),
        ("f", OrderState::Acknowledged),
    ];
    let want: Vec<(String, OrderState)> = want.iter().map(|(a, s)| (a.to_string(), *s)).collect();
    assert_eq!(states, want);
    // Running it again changes nothing and records no fill twice.
    let again = placer.reconcile(&[], T0).await.unwrap();
    assert_eq!(
        (
            again.never_sent,
            again.resolved,
            again.updated,
            again.new_fills
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(
        ledger.fills(&account()).await.unwrap()[0].client_order_id,
        Some(a)
    );
}

#[tokio::test]
async fn fail_invalid_transitions_are_refused_by_the_ledger() {
    let ledger = InMemoryLedger::new();
    let id = ClientOrderId::parse("x").unwrap();
    ledger
        .record_intent(&account(), EX, &req("x"), T0)
        .await
        .unwrap();
    let err = ledger
        .transition(&account(), &id, Transition::to(OrderState::Filled, T0))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("cannot go from new to filled"),
        "{err}"
    );
    assert!(
        ledger
            .record_intent(&account(), EX, &req("x"), T0)
            .await
            .is_err()
    );
}
