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
}
