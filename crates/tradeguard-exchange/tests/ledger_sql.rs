//! The durable ledger and poll store ([`SqlLedger`], [`SqlPollStore`]) on SQLite and
//! PostgreSQL: the ledger contract, and a gateway that crashes with an order in flight and an
//! order recorded but never sent finds both again on restart and reconciles them against the
//! simulator.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;
use support::sim::{config, secrets};
use support::vclock::VirtualClock;
use tradeguard_exchange::ledger::{
    LedgerError, OrderLedger, OrderPlacer, OrderState, SqlLedger, Transition,
};
use tradeguard_exchange::model::{
    AccountId, ClientOrderId, ExchangeId, ExchangeOrderId, Fill, OrderRequest, OrderType, Side,
    Symbol, TradeId, UnixMillis,
};
use tradeguard_exchange::poller::{
    Connectivity, PollStore, PolledAccount, Poller, PollerConfig, SqlPollStore,
};
use tradeguard_exchange::{Clock, ConnectorHub, Reaction};
use tradeguard_sim::{FaultConfig, SimConfig, Venue};
use tradeguard_store::Store;

const START: i64 = 1_795_386_060_000;

fn market(sym: &str, qty: Decimal) -> OrderRequest {
    OrderRequest::new(
        ClientOrderId::generate().unwrap(),
        Symbol::parse(sym).unwrap(),
        Side::Buy,
        OrderType::Market,
        qty,
    )
    .unwrap()
}

fn fill(trade: &str, order: &str, t: i64) -> Fill {
    Fill {
        trade_id: TradeId::parse(trade).unwrap(),
        exchange_order_id: ExchangeOrderId::parse(order).unwrap(),
        client_order_id: None,
        symbol: Symbol::parse("BTC/USDT").unwrap(),
        side: Side::Buy,
        price: Decimal::from(60_000),
        quantity: Decimal::new(1, 4),
        fee: Decimal::ZERO,
        fee_asset: None,
        is_maker: Some(false),
        time: UnixMillis(t),
    }
}

async fn ledger_contract(store: Store) {
    let ledger = SqlLedger::new(store.clone());
    let acct = AccountId::parse("binance-main").unwrap();
    let req = market("BTC/USDT", Decimal::new(1, 4));
    let id = req.client_order_id().clone();
    let t = UnixMillis(START);
    let e = ledger
        .record_intent(&acct, ExchangeId::Binance, &req, t)
        .await
        .unwrap();
    assert_eq!(e.state, OrderState::New);
    let dup = ledger
        .record_intent(&acct, ExchangeId::Binance, &req, t)
        .await
        .unwrap_err();
    assert!(
        matches!(
            dup,
            LedgerError::Duplicate {
                state: OrderState::New,
                ..
            }
        ),
        "{dup}"
    );
    ledger
        .transition(
            &acct,
            &id,
            Transition::to(OrderState::Sent, UnixMillis(START + 1)),
        )
        .await
        .unwrap();
    let ack = Transition {
        to: OrderState::Acknowledged,
        at: UnixMillis(START + 2),
        exchange_order_id: Some(ExchangeOrderId::parse("42").unwrap()),
        filled_quantity: Some(Decimal::new(5, 5)),
        error: None,
    };
    let e = ledger.transition(&acct, &id, ack).await.unwrap();
    assert_eq!(e.sent_at, Some(UnixMillis(START + 1)));
    let bad = ledger
        .transition(
            &acct,
            &id,
            Transition::to(OrderState::Sent, UnixMillis(START + 3)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(bad, LedgerError::InvalidTransition { .. }),
        "{bad}"
    );
    // A second ledger object on the same database (another process) sees the same order.
    let other = SqlLedger::new(store.clone());
    assert_eq!(other.get(&acct, &id).await.unwrap(), Some(e.clone()));
    assert_eq!(other.open_entries(&acct).await.unwrap(), vec![e]);
    let r = other
        .record_fill(&acct, &fill("7", "42", START + 5))
        .await
        .unwrap();
    assert!(r.new);
    assert_eq!(
        r.client_order_id.as_ref(),
        Some(&id),
        "linked by exchange id"
    );
    assert!(
        !ledger
            .record_fill(&acct, &fill("7", "42", START + 5))
            .await
            .unwrap()
            .new
    );
    assert!(
        ledger
            .record_fill(&acct, &fill("6", "99", START + 4))
            .await
            .unwrap()
            .client_order_id
            .is_none()
    );
    let fills = ledger.fills(&acct).await.unwrap();
    assert_eq!(
        fills
            .iter()
            .map(|f| f.trade_id.as_str())
            .collect::<Vec<_>>(),
        ["6", "7"]
    );
    assert_eq!(fills[1].client_order_id.as_ref(), Some(&id));
    // A final order leaves the open entries and stays among all entries, oldest first.
    let later = market("BTC/USDT", Decimal::new(2, 4));
    ledger
        .record_intent(&acct, ExchangeId::Binance, &later, UnixMillis(START + 6))
        .await
        .unwrap();
    let done = Transition {
        filled_quantity: Some(Decimal::new(1, 4)),
        ..Transition::to(OrderState::Filled, UnixMillis(START + 7))
    };
    ledger.transition(&acct, &id, done).await.unwrap();
    let open = other.open_entries(&acct).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].client_order_id(), later.client_order_id());
    let all = other.all_entries(&acct).await.unwrap();
    let states: Vec<(&ClientOrderId, OrderState)> =
        all.iter().map(|e| (e.client_order_id(), e.state)).collect();
    assert_eq!(
        states,
        [
            (&id, OrderState::Filled),
            (later.client_order_id(), OrderState::New)
        ]
    );
    let mem = tradeguard_exchange::ledger::InMemoryLedger::default();
    mem.record_intent(&acct, ExchangeId::Binance, &later, UnixMillis(START + 6))
        .await
        .unwrap();
    mem.record_intent(&acct, ExchangeId::Binance, &req, t)
        .await
        .unwrap();
    let ids: Vec<ClientOrderId> = mem
        .all_entries(&acct)
        .await
        .unwrap()
        .iter()
        .map(|e| e.client_order_id().clone())
        .collect();
    assert_eq!(
        ids,
        [id.clone(), later.client_order_id().clone()],
        "in memory, oldest first"
    );
}

async fn crash_and_restart(store: Store) {
    let clock = VirtualClock::new(UnixMillis(START));
    // Every new order is accepted, then the connection drops: its outcome is unknown.
    let drop_all = FaultConfig {
        seed: 1,
        drop_after_accept: 1.0,
        ..FaultConfig::none()
    };
    let sim = tradeguard_sim::start(SimConfig {
        clock: clock.clone(),
        faults: BTreeMap::from([(Venue::Binance, drop_all)]),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let cred = sim.keys().get(Venue::Binance).clone();
    let cfg = config(&cred, "binance-main");
    let acct = cfg.account.clone();
    let in_flight = market("BTC/USDT", Decimal::new(1, 4));
    let never_sent = market("BTC/USDT", Decimal::new(2, 4));
    {
        let hub = ConnectorHub::new(clock.clone());
        let ex = hub.connect(&cfg, secrets(&cred)).unwrap();
        let ledger = Arc::new(SqlLedger::new(store.clone()));
        // What OrderPlacer::place does, up to the crash: record, mark sent, send; the answer
        // is lost (the exchange accepted the order) and the process dies before resolving.
        ledger
            .record_intent(&acct, ExchangeId::Binance, &in_flight, clock.now())
            .await
            .unwrap();
        let sent = Transition::to(OrderState::Sent, clock.now());
        let id = in_flight.client_order_id();
        ledger.transition(&acct, id, sent).await.unwrap();
        let err = ex.place_order(&in_flight).await.unwrap_err();
        assert_eq!(err.reaction(), Reaction::Resolve, "{err}");
        // The crash also hits between recording the next order and sending it.
        ledger
            .record_intent(&acct, ExchangeId::Binance, &never_sent, clock.now())
            .await
            .unwrap();
    } // the process is gone: only the database remains
    sim.venue(Venue::Binance).set_faults(FaultConfig::none());
    clock.sleep(Duration::from_secs(120)).await;

    let hub = ConnectorHub::new(clock.clone());
    let ex = hub.connect(&cfg, secrets(&cred)).unwrap();
    let ledger = Arc::new(SqlLedger::new(store.clone()));
    let placer = OrderPlacer::new(ex.clone(), ledger.clone(), acct.clone(), clock.clone());
    let sym = Symbol::parse("BTC/USDT").unwrap();
    let report = placer
        .reconcile(std::slice::from_ref(&sym), UnixMillis(START))
        .await
        .unwrap();
    assert_eq!((report.never_sent, report.resolved), (1, 1), "{report:?}");
    assert!(
        report.errors.is_empty() && report.still_unknown.is_empty(),
        "{report:?}"
    );
    let placed = ledger
        .get(&acct, in_flight.client_order_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        placed.state,
        OrderState::Filled,
        "found by client id, not sent again"
    );
    let lost = ledger
        .get(&acct, never_sent.client_order_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lost.state, OrderState::Rejected);
    let truth = sim.venue(Venue::Binance).orders(cred.account);
    assert_eq!(truth.len(), 1, "exactly one order on the exchange");
    let fills = ledger.fills(&acct).await.unwrap();
    assert_eq!(
        fills.len(),
        sim.venue(Venue::Binance).fills(cred.account).len()
    );
    assert!(
        fills
            .iter()
            .all(|f| f.client_order_id.as_ref() == Some(in_flight.client_order_id()))
    );

    // The poller's snapshots and fill cursor survive a restart too.
    let poll_store = Arc::new(SqlPollStore::new(store.clone()));
    let poller = Poller::new(
        vec![PolledAccount {
            account: acct.clone(),
            exchange: ex,
            symbols: vec![sym.clone()],
            placer: None,
        }],
        poll_store.clone(),
        clock.clone(),
        PollerConfig::default(),
    );
    poller.poll_once().await;
    let reread = SqlPollStore::new(store.clone());
    let (_, balances) = reread.balances(&acct).await.unwrap().unwrap();
    assert!(balances.iter().any(|b| b.asset.as_str() == "BTC"));
    assert_eq!(
        reread.open_orders(&acct).await.unwrap().unwrap().1,
        Vec::new()
    );
    let status = reread.status(&acct).await.unwrap().unwrap();
    assert_eq!(status.state, Connectivity::Connected);
    let newest = fills.iter().map(|f| f.time).max();
    assert_eq!(reread.fill_cursor(&acct, &sym).await.unwrap(), newest);
    sim.shutdown().await;
}

tradeguard_store::backend_tests! {
    /// Intent once, checked transitions, shared between processes, fills once and linked.
    async fn sql_ledger_contract(store) {
        ledger_contract(store).await;
    }

    /// A crash with one order in flight and one never sent: restart reconciles both.
    async fn sql_ledger_survives_a_crash(store) {
        crash_and_restart(store).await;
    }
}
