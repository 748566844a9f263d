//! The executed rebalances the signed report counts, read from the audit log: one
//! `rebalance.executed` entry (written by `POST /v1/rebalance` and by the scheduler, which
//! takes the same path) that placed at least one order is one rebalance of its profile. The
//! log is durable, so the count survives restarts: the first report after a start reads the
//! whole log once, later ones only the entries appended since.

use tokio::sync::Mutex;
use tradeguard_analytics::Timestamp;
use tradeguard_analytics::ledger::{ProfileId, RebalanceEvent};
use tradeguard_audit::entry::Entry;
use tradeguard_store::Store;

/// Entries read per store query.
const PAGE: u32 = 1000;

/// The executed rebalances seen so far in the audit log.
pub struct RebalanceHistory {
    store: Store,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    /// The next entry to read.
    next_seq: u64,
    /// Every executed rebalance up to `next_seq`, oldest first, with its time in ms.
    events: Vec<(i64, ProfileId)>,
}

impl RebalanceHistory {
    /// Reads the audit log of `store`.
    pub fn new(store: &Store) -> Self {
        Self {
            store: store.clone(),
            seen: Mutex::new(Seen::default()),
        }
    }

    /// The executed rebalances with `from_ms <= time < until_ms`, after reading the entries
    /// appended since the last call.
    pub async fn between(
        &self,
        from_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<RebalanceEvent>, tradeguard_store::StoreError> {
        let mut seen = self.seen.lock().await;
        loop {
            let page = self.store.audit_entries(seen.next_seq, PAGE).await?;
            let Some(last) = page.last() else { break };
            seen.next_seq = last.seq + 1;
            let found = page.iter().filter_map(|r| executed(&r.entry));
            seen.events.extend(found);
            if page.len() < PAGE as usize {
                break;
            }
        }
        Ok(seen
            .events
            .iter()
            .filter(|(t, _)| (from_ms..until_ms).contains(t))
            .filter_map(|(t, profile)| {
                Some(RebalanceEvent {
                    time: Timestamp::from_unix_seconds(t.div_euclid(1000))?,
                    profile: profile.clone(),
                })
            })
            .collect())
    }
}

/// The orders among `open` (client order id to when the ledger recorded it, Unix ms) that
/// `principal`'s `rebalance.executed` entries placed: `(profile, client order id, entry time
/// ms)`. Reads the log from its end back to the oldest of them, a page at a time.
pub async fn placed_by(
    store: &Store,
    principal: &str,
    open: &std::collections::HashMap<String, i64>,
) -> Result<Vec<(String, String, i64)>, tradeguard_store::StoreError> {
    let Some(oldest) = open.values().min().copied() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut end = store.audit_size().await?;
    while end > 0 {
        let from = end.saturating_sub(u64::from(PAGE));
        let page = store.audit_entries(from, PAGE).await?;
        let mut before_oldest = false;
        for row in page.iter().filter(|r| r.seq < end) {
            let Ok(e) = Entry::parse(&row.entry) else {
                continue;
            };
            // An entry is written after the ledger recorded its orders (within a minute): an
            // older one placed none of them.
            if e.time_ms < oldest.saturating_sub(60_000) {
                before_oldest = true;
                continue;
            }
            if e.kind.as_str() != "rebalance.executed"
                || e.fields.get("principal").and_then(|p| p.as_str()) != Some(principal)
            {
                continue;
            }
            let Some(profile) = e.fields.get("profile").and_then(|p| p.as_str()) else {
                continue;
            };
            let orders = e.fields.get("orders").and_then(|o| o.as_array());
            for o in orders.into_iter().flatten() {
                let placed = o.get("status").and_then(|s| s.as_u64()) == Some(201);
                if let Some(cid) = o.get("client_order_id").and_then(|c| c.as_str())
                    && placed
                    && open.contains_key(cid)
                {
                    out.push((profile.to_owned(), cid.to_owned(), e.time_ms));
                }
            }
        }
        if before_oldest {
            break;
        }
        end = from;
    }
    Ok(out)
}

/// The time and profile of a `rebalance.executed` entry that placed an order.
fn executed(bytes: &[u8]) -> Option<(i64, ProfileId)> {
    let e = Entry::parse(bytes).ok()?;
    if e.kind.as_str() != "rebalance.executed" {
        return None;
    }
    if e.fields.get("placed")?.as_u64()? == 0 {
        return None;
    }
    let profile = ProfileId::new(e.fields.get("profile")?.as_str()?).ok()?;
    Some((e.time_ms, profile))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use tradeguard_audit::event::EventKind;
    use tradeguard_audit::merkle::Hash;

    use super::*;

    fn entry(kind: &str, fields: Value) -> Vec<u8> {
        let Value::Object(fields) = fields else {
            unreachable!()
        };
        Entry {
            seq: 3,
            time_ms: 1_700_000_000_123,
            kind: EventKind::new(kind).unwrap(),
            prev: Hash::new([7; 32]),
            fields,
        }
        .encode()
        .unwrap()
    }

    #[test]
    fn executed_rebalances_that_placed_orders_count() {
        let got = executed(&entry(
            "rebalance.executed",
            json!({"profile": "core", "placed": 2, "plan_id": "p"}),
        ));
        assert_eq!(
            got,
            Some((1_700_000_000_123, ProfileId::new("core").unwrap()))
        );
        let cases = [
            entry("rebalance.planned", json!({"profile": "core", "placed": 2})),
            entry(
                "rebalance.executed",
                json!({"profile": "core", "placed": 0}),
            ),
            entry("rebalance.executed", json!({"placed": 1})),
        ];
        for (i, c) in cases.iter().enumerate() {
            assert_eq!(executed(c), None, "TC{i} failed");
        }
        assert_eq!(executed(b"not json"), None);
    }

    #[tokio::test]
    async fn counts_survive_a_restart_and_follow_new_entries() {
        use std::sync::Arc;

        use tradeguard_audit::clock::ManualClock;
        use tradeguard_audit::event::{AuditEvent, Redactor};
        use tradeguard_audit::keys::LogSigner;
        use tradeguard_audit::log::AuditLog;
        use tradeguard_crypto::secret::SecretBytes;
        use tradeguard_crypto::sign::Ed25519SigningKey;

        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("t.db")).await.unwrap();
        store.migrate().await.unwrap();
        let key = Ed25519SigningKey::from_seed(&[4; 32]).unwrap();
        let signer = LogSigner::new("tradeguard.test/audit", key).unwrap();
        let redactor = Redactor::new(SecretBytes::new(vec![6; 32])).unwrap();
        let clock = Arc::new(ManualClock::at(5_000));
        let log = AuditLog::open(store.clone(), signer, redactor, clock)
            .await
            .unwrap();
        let event = |kind: &str, placed: u64| {
            AuditEvent::of(kind)
                .unwrap()
                .field("profile", "core")
                .unwrap()
                .field("placed", placed)
                .unwrap()
        };
        for e in [
            event("rebalance.planned", 1),
            event("rebalance.executed", 1),
            event("rebalance.executed", 0),
            event("order.filled", 1),
        ] {
            log.append(&e).await.unwrap();
        }
        // A new reader (a restart) finds the rebalance already in the log.
        let history = RebalanceHistory::new(&store);
        let all = history.between(0, i64::MAX).await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].profile.as_str(), "core");
        assert_eq!(all[0].time.unix_seconds(), 5);
        log.append(&event("rebalance.executed", 2)).await.unwrap();
        assert_eq!(history.between(0, i64::MAX).await.unwrap().len(), 2);
        assert_eq!(
            history.between(0, 5_000).await.unwrap().len(),
            0,
            "to is exclusive"
        );
        assert_eq!(history.between(5_000, 5_001).await.unwrap().len(), 2);
    }

    /// The scheduler's open plan orders are found from the end of the log back to the oldest
    /// open order: another principal's, a refused one and a closed one are not; entries
    /// older than the oldest open order stop the scan.
    #[tokio::test]
    async fn open_plan_orders_of_a_principal_are_found_from_the_end_of_the_log() {
        use std::collections::HashMap;
        use std::sync::Arc;

        use tradeguard_audit::clock::ManualClock;
        use tradeguard_audit::event::{AuditEvent, Redactor};
        use tradeguard_audit::keys::LogSigner;
        use tradeguard_audit::log::AuditLog;
        use tradeguard_crypto::secret::SecretBytes;
        use tradeguard_crypto::sign::Ed25519SigningKey;

        let store = tradeguard_store::testing::sqlite().await;
        let key = Ed25519SigningKey::from_seed(&[4; 32]).unwrap();
        let signer = LogSigner::new("tradeguard.test/audit", key).unwrap();
        let redactor = Redactor::new(SecretBytes::new(vec![6; 32])).unwrap();
        let clock = Arc::new(ManualClock::at(1_000_000));
        let log = AuditLog::open(store.clone(), signer, redactor, clock.clone())
            .await
            .unwrap();
        let executed = |by: &str, orders: Value| {
            AuditEvent::of("rebalance.executed")
                .and_then(|e| e.field("principal", by))
                .and_then(|e| e.field("profile", "core"))
                .and_then(|e| e.field("orders", orders))
                .unwrap()
        };
        log.append(&executed(
            "s",
            json!([{"client_order_id": "old", "status": 201}]),
        ))
        .await
        .unwrap();
        clock.advance(3_600_000);
        let placed_at = 1_000_000 + 3_600_000;
        log.append(&executed(
            "s",
            json!([{"client_order_id": "a", "status": 201},
                   {"client_order_id": "b", "status": 409},
                   {"client_order_id": "gone", "status": 201}]),
        ))
        .await
        .unwrap();
        log.append(&executed(
            "bot",
            json!([{"client_order_id": "c", "status": 201}]),
        ))
        .await
        .unwrap();
        for _ in 0..3 {
            log.append(&AuditEvent::of("order.filled").unwrap())
                .await
                .unwrap();
        }
        let open: HashMap<String, i64> = ["a", "b", "c", "old"]
            .into_iter()
            .map(|c| (c.to_owned(), placed_at))
            .collect();
        // "old" claims to be recorded an hour after its entry: the scan stops before it.
        let found = placed_by(&store, "s", &open).await.unwrap();
        assert_eq!(found, [("core".to_owned(), "a".to_owned(), placed_at)]);
        let mut with_old = open.clone();
        with_old.insert("old".into(), 900_000);
        let found = placed_by(&store, "s", &with_old).await.unwrap();
        assert_eq!(found.len(), 2, "scanned back far enough: {found:?}");
        assert!(
            placed_by(&store, "s", &HashMap::new())
                .await
                .unwrap()
                .is_empty()
        );
    }
}
