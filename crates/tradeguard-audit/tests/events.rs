//! The event catalogue: one sample of every kind is written to a log; every kind in `KINDS` is
//! produced, no sensitive value appears in any entry while its HMAC does, and the fields of
//! each kind are fixed.

use std::str::FromStr;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde_json::Value;
use tradeguard_audit::clock::ManualClock;
use tradeguard_audit::entry::Entry;
use tradeguard_audit::event::Redactor;
use tradeguard_audit::events::{
    Actor, AuthFailure, AuthMethod, Event, FillDetail, KINDS, LockSubject, OrderRef,
    PrincipalChange, SessionEnd, Side, ThreatResponse, TradingState, config_digest,
};
use tradeguard_audit::memory_log::MemoryLog;
use tradeguard_crypto::secret::{SecretBytes, SecretString};

/// Every sensitive value below contains this marker; none may reach an entry.
const MARK: &str = "SECRET";

fn secret(what: &str) -> SecretString {
    SecretString::new(format!("{MARK}-{what}"))
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn order() -> OrderRef {
    OrderRef {
        client_order_id: "tg-000017".into(),
        profile: "momentum".into(),
        exchange: "binance".into(),
        symbol: "BTCUSDT".into(),
    }
}

fn actor() -> Actor {
    Actor::new("bot-1", &format!("{MARK}-did")).from_address(&format!("{MARK}-203.0.113.7"))
}

fn samples() -> Vec<Event> {
    let digest = |v: Value| config_digest(&v).unwrap();
    vec![
        Event::AuthSucceeded {
            actor: actor(),
            method: AuthMethod::Signature,
        },
        Event::AuthFailed {
            key_id: Some(secret("kid")),
            address: Some(secret("ip")),
            reason: AuthFailure::Replayed,
        },
        Event::LockedOut {
            subject: LockSubject::Address(secret("ip2")),
            failures: 5,
            until_ms: 1_795_395_723_456,
        },
        Event::LockoutLifted {
            subject: LockSubject::Key(secret("kid2")),
            by: Some("alice".into()),
        },
        Event::SessionCreated {
            actor: actor(),
            session: secret("sess"),
            expires_ms: 1_795_399_323_456,
        },
        Event::SessionEnded {
            principal: "bot-1".into(),
            session: secret("sess"),
            reason: SessionEnd::Revoked,
        },
        Event::VaultInitialized { kek_version: 1 },
        Event::CredentialImported {
            credential: "binance-main".into(),
            exchange: Some("binance".into()),
            api_key: Some(secret("apikey")),
            by: Some("alice".into()),
        },
        Event::CredentialUsed {
            credential: "binance-main".into(),
            purpose: "order".into(),
            client_order_id: Some("tg-000017".into()),
        },
        Event::CredentialRotated {
            credential: "binance-main".into(),
            api_key: Some(secret("apikey2")),
            by: Some("alice".into()),
        },
        Event::CredentialRemoved {
            credential: "binance-old".into(),
            by: None,
        },
        Event::KekRotated {
            kek_version: 2,
            rewrapped: 3,
        },
        Event::OrderSubmitted {
            order: order(),
            principal: "bot-1".into(),
            side: Side::Buy,
            order_type: "limit".into(),
            qty: dec("0.015"),
            price: Some(dec("64250.10")),
            credential: "binance-main".into(),
        },
        Event::OrderAcknowledged {
            order: order(),
            exchange_order_id: "28457".into(),
        },
        Event::OrderFilled {
            order: order(),
            detail: FillDetail::Trade {
                trade_id: "t-9".into(),
                qty: dec("0.010"),
                price: dec("64250.10"),
                fee: dec("0.00001"),
                fee_asset: Some("BTC".into()),
            },
            complete: false,
        },
        // Aggregated-only mode: the same fields, the trade withheld.
        Event::OrderFilled {
            order: order(),
            detail: FillDetail::Withheld {
                trade_id: secret("trade"),
            },
            complete: true,
        },
        Event::OrderCancelled {
            order: order(),
            by: "exchange".into(),
            reason: None,
        },
        Event::OrderRefused {
            order: order(),
            principal: "bot-1".into(),
            code: "concentration".into(),
            reason: "BTC would be 61% of the portfolio; the limit is 40%".into(),
        },
        Event::OrderRejected {
            order: order(),
            reason: "binance -2010: Account has insufficient balance".into(),
        },
        Event::OrderUnknown {
            order: order(),
            reason: "timed out after 10 s".into(),
        },
        Event::TradingStateChanged {
            from: TradingState::Active,
            to: TradingState::Halted,
            by: "alice".into(),
            reason: "manual".into(),
        },
        Event::TradingStateChanged {
            from: TradingState::Halted,
            to: TradingState::Active,
            by: "quorum".into(),
            reason: "resume approved".into(),
        },
        Event::TradingStateChanged {
            from: TradingState::Active,
            to: TradingState::Reducing,
            by: "breaker".into(),
            reason: "daily loss 5%".into(),
        },
        Event::ApprovalRequested {
            proposal: "p-1".into(),
            action: "resume".into(),
            by: "alice".into(),
            quorum: 2,
        },
        Event::ApprovalGranted {
            proposal: "p-1".into(),
            by: "bob".into(),
            approvals: 2,
            quorum: 2,
        },
        Event::ApprovalExecuted {
            proposal: "p-1".into(),
            action: "resume".into(),
            approvers: vec!["alice".into(), "bob".into()],
        },
        Event::ApprovalExpired {
            proposal: "p-2".into(),
            approvals: 1,
        },
        Event::ConfigChanged {
            by: "alice".into(),
            area: "risk".into(),
            settings: vec!["max_position".into()],
            before: digest(serde_json::json!({"max_position": "1"})),
            after: digest(serde_json::json!({"max_position": "2"})),
        },
        Event::PrincipalChanged {
            by: "alice".into(),
            principal: "bot-2".into(),
            key_id: Some(secret("did2")),
            change: PrincipalChange::Added,
            scopes: vec!["orders:write".into()],
        },
        Event::ThreatAction {
            detector: "rate-anomaly".into(),
            score: 0.93,
            action: ThreatResponse::LockOut,
            subject: Some(secret("kid3")),
            reason: "42 failures in 10 s".into(),
        },
    ]
}

fn log() -> (MemoryLog, Redactor) {
    let redactor = Redactor::new(SecretBytes::new(vec![8; 32])).unwrap();
    let log = MemoryLog::new(
        redactor.clone(),
        Arc::new(ManualClock::at(1_795_395_723_456)),
    );
    (log, redactor)
}

#[test]
fn every_kind_is_written_without_its_secrets() {
    let (mut log, redactor) = log();
    let mut kinds = std::collections::BTreeSet::new();
    for (i, event) in samples().iter().enumerate() {
        assert!(
            KINDS.contains(&event.kind()),
            "TC{i} failed: {} not in KINDS",
            event.kind()
        );
        kinds.insert(event.kind());
        let audit = event
            .to_audit_event()
            .unwrap_or_else(|e| panic!("TC{i} failed: {e}"));
        assert_eq!(audit.kind().as_str(), event.kind(), "TC{i} failed");
        assert!(
            !format!("{event:?}{audit:?}").contains(MARK),
            "TC{i} failed: Debug shows a secret"
        );
        log.append(&audit).unwrap();
    }
    assert_eq!(kinds.len(), KINDS.len(), "every kind has a sample");
    let text = String::from_utf8(log.entries().concat()).unwrap();
    assert!(!text.contains(MARK), "a sensitive value reached the log");
    for value in [
        "did",
        "203.0.113.7",
        "kid",
        "ip2",
        "sess",
        "apikey",
        "kid3",
        "trade",
    ] {
        let logged = redactor.search_value(&format!("{MARK}-{value}"));
        assert!(
            text.contains(&logged),
            "{value}: its HMAC is not searchable"
        );
    }
}

#[test]
fn each_kind_has_fixed_fields() {
    let (mut log, _) = log();
    let mut by_kind: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for event in samples() {
        log.append(&event.to_audit_event().unwrap()).unwrap();
        let entry = Entry::parse(log.entries().last().unwrap()).unwrap();
        let names: Vec<String> = entry.fields.keys().cloned().collect();
        if let Some(seen) = by_kind.insert(event.kind(), names.clone()) {
            assert_eq!(seen, names, "{} changed its fields", event.kind());
        }
    }
    let expect = |kind: &str, fields: &[&str]| {
        let mut want: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        want.sort();
        assert_eq!(by_kind[kind], want, "{kind}");
    };
    expect(
        "order.filled",
        &[
            "client_order_id",
            "complete",
            "exchange",
            "fee",
            "fee_asset",
            "price",
            "profile",
            "qty",
            "symbol",
            "trade_id",
        ],
    );
    expect(
        "order.refused",
        &[
            "client_order_id",
            "code",
            "exchange",
            "principal",
            "profile",
            "reason",
            "symbol",
        ],
    );
    for kind in ["order.rejected", "order.unknown"] {
        expect(
            kind,
            &["client_order_id", "exchange", "profile", "reason", "symbol"],
        );
    }
    expect(
        "auth.success",
        &["address", "key_id", "method", "principal"],
    );
    expect("trading.halted", &["by", "from", "reason", "to"]);
    expect("trading.resumed", &["by", "from", "reason", "to"]);
}

#[test]
fn money_and_times_are_written_exactly() {
    let (mut log, _) = log();
    for event in samples()
        .iter()
        .filter(|e| matches!(e.kind(), "order.filled" | "auth.lockout"))
    {
        log.append(&event.to_audit_event().unwrap()).unwrap();
    }
    // In sample order: the lockout, then the fill.
    let filled = Entry::parse(&log.entries()[1]).unwrap();
    assert_eq!(filled.fields["qty"], "0.010");
    assert_eq!(filled.fields["fee"], "0.00001");
    assert_eq!(filled.fields["price"], "64250.10");
    let lockout = Entry::parse(&log.entries()[0]).unwrap();
    assert_eq!(lockout.fields["until"], "2026-11-23T01:02:03.456Z");
    assert_eq!(lockout.fields["subject_type"], "address");
}

#[test]
fn fail_events_that_cannot_be_written() {
    let cases = [
        Event::ThreatAction {
            detector: "d".into(),
            score: f64::NAN,
            action: ThreatResponse::Alert,
            subject: None,
            reason: "r".into(),
        },
        Event::KekRotated {
            kek_version: 3,
            rewrapped: u64::MAX,
        },
        Event::LockedOut {
            subject: LockSubject::Principal("p".into()),
            failures: 1,
            until_ms: i64::MAX,
        },
    ];
    let (mut log, _) = log();
    for (i, event) in cases.iter().enumerate() {
        let written = event.to_audit_event().and_then(|e| log.append(&e));
        assert!(written.is_err(), "TC{i} failed: {event:?} was written");
    }
}

#[test]
fn config_digest_ignores_key_order() {
    let a = config_digest(&serde_json::json!({"a": 1, "b": [1, 2]})).unwrap();
    let b = config_digest(&serde_json::json!({"b": [1, 2], "a": 1})).unwrap();
    assert_eq!(a, b);
    assert!(a.starts_with("sha256:") && a.len() == 7 + 64);
}
