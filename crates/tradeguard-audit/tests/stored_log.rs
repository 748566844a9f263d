//! The stored log on SQLite and PostgreSQL (the store's test harness): durable appends, group
//! commit, the chain across reopen and across two writers, checkpoints, proofs between any two
//! sizes, offline verification of the store, fail-closed and cancel-safe appends.

use std::sync::Arc;

use tradeguard_audit::clock::ManualClock;
use tradeguard_audit::event::{AuditEvent, Redactor};
use tradeguard_audit::keys::{LogKey, LogSigner};
use tradeguard_audit::log::{AuditLog, stored_public_keys};
use tradeguard_audit::memory_log::MemoryLog;
use tradeguard_audit::store_verify::verify_store;
use tradeguard_audit::{AuditError, export, keys};
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::{Ed25519SigningKey, MlDsa65SigningKey};
use tradeguard_store::{ErrorClass, Store};

const T0: i64 = 1_795_395_723_456;

fn signer() -> LogSigner {
    LogSigner::new(
        "tradeguard.test/audit",
        Ed25519SigningKey::from_seed(&[3; 32]).unwrap(),
    )
    .unwrap()
}

fn redactor() -> Redactor {
    Redactor::new(SecretBytes::new(vec![1; 32])).unwrap()
}

fn event(i: u64) -> AuditEvent {
    AuditEvent::of(["auth.success", "order.submitted", "order.refused"][(i % 3) as usize])
        .unwrap()
        .field("n", i)
        .unwrap()
        .sensitive("token", &format!("token-{i}"))
        .unwrap()
}

async fn open(store: &Store, clock: &Arc<ManualClock>) -> AuditLog {
    AuditLog::open(store.clone(), signer(), redactor(), clock.clone())
        .await
        .unwrap()
}

async fn check_verifies(store: &Store, keys: &[LogKey], entries: u64) {
    let report = verify_store(store, keys)
        .await
        .unwrap()
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.entries, entries);
}

tradeguard_store::backend_tests! {
    /// The stored log writes exactly what the in-memory log writes, and verifies.
    async fn stored_log_matches_memory_log_and_verifies(store) {
        let clock = Arc::new(ManualClock::at(T0));
        let log = open(&store, &clock).await;
        let mut mem = MemoryLog::new(redactor(), clock.clone());
        for i in 0..23 {
            let r = log.append(&event(i)).await.unwrap();
            assert_eq!((r.first_seq(), r.tree_size()), (i, i + 1));
            mem.append(&event(i)).unwrap();
        }
        let batch: Vec<AuditEvent> = (23..40).map(event).collect();
        log.append_batch(&batch).await.unwrap();
        for e in &batch {
            mem.append(e).unwrap();
        }
        let cp = log.checkpoint().await.unwrap();
        assert_eq!(cp.unverified().size(), 40);
        assert_eq!(cp.unverified().root(), &mem.tree().root());
        let stored: Vec<Vec<u8>> = store.audit_entries(0, 100).await.unwrap().into_iter().map(|r| r.entry).collect();
        assert_eq!(stored, mem.entries());
        // Sensitive values appear only as their HMAC.
        let all = stored.concat();
        assert!(!String::from_utf8_lossy(&all).contains("token-1"));
        assert!(String::from_utf8_lossy(&all).contains(&log.redactor().search_value("token-1")));
        check_verifies(&store, &log.public_keys(), 40).await;
    }

    /// Inclusion proofs for every entry and consistency proofs between any two sizes, read
    /// from the stored nodes, verify against the stored tree heads.
    async fn proofs_between_any_sizes(store) {
        let clock = Arc::new(ManualClock::at(T0));
        let log = open(&store, &clock).await;
        let events: Vec<AuditEvent> = (0..37).map(event).collect();
        log.append_batch(&events).await.unwrap();
        let mut heads = Vec::new();
        for size in 0..=37 {
            heads.push(log.tree_head(size).await.unwrap());
        }
        for size in 1..=37u64 {
            for seq in [0, size / 2, size - 1] {
                let p = log.inclusion_proof(seq, size).await.unwrap();
                p.verify(&heads[size as usize]).unwrap_or_else(|e| panic!("TC{seq}/{size} failed: {e}"));
            }
            for size1 in 1..=size {
                let p = log.consistency_proof(size1, size).await.unwrap();
                p.verify(&heads[size1 as usize], &heads[size as usize])
                    .unwrap_or_else(|e| panic!("TC{size1}/{size} failed: {e}"));
            }
        }
        assert!(log.inclusion_proof(37, 37).await.is_err());
        assert!(log.consistency_proof(3, 38).await.is_err());
    }

    /// Reopening continues the chain; two writers on one database (two replicas) interleave
    /// without losing or duplicating an entry.
    async fn reopen_and_two_writers_keep_one_chain(store) {
        let clock = Arc::new(ManualClock::at(T0));
        let a = open(&store, &clock).await;
        a.append(&event(0)).await.unwrap();
        let b = open(&store, &clock).await;
        assert_eq!(b.size().await, 1);
        for i in 1..11 {
            let writer = if i % 2 == 0 { &a } else { &b };
            let r = writer.append(&event(i)).await.unwrap();
            assert_eq!(r.first_seq(), i, "TC{i} failed");
        }
        b.checkpoint().await.unwrap();
        a.append(&event(11)).await.unwrap();
        a.checkpoint().await.unwrap();
        let keys = a.public_keys();
        check_verifies(&store, &keys, 12).await;
        // The export verifies offline and matches the store.
        let mut out = Vec::new();
        let cp = a.export(&mut out).await.unwrap();
        let (report, _) = export::verify_export(&out, &keys).unwrap();
        assert_eq!((report.signed_size, report.signed_root), (12, *cp.unverified().root()));
    }

    /// With the post-quantum option each checkpoint carries an ML-DSA-65 line that verifies.
    async fn post_quantum_checkpoints(store) {
        let clock = Arc::new(ManualClock::at(T0));
        let pq = signer().with_mldsa65(MlDsa65SigningKey::generate().unwrap()).unwrap();
        let log = AuditLog::open(store.clone(), pq, redactor(), clock).await.unwrap();
        log.append(&event(0)).await.unwrap();
        let cp = log.checkpoint().await.unwrap();
        assert_eq!(cp.note().signatures().len(), 2);
        let keys = log.public_keys();
        let verified = keys::verify_checkpoint(cp, &keys[1..]).unwrap();
        assert_eq!(verified.signers(), ["tradeguard.test/audit"]);
        check_verifies(&store, &keys, 1).await;
        assert_eq!(stored_public_keys(&store).await.unwrap(), keys);
    }

    /// The log records its signers' public keys beside the checkpoints, keeping old ones
    /// after a key change so that old checkpoints still verify with the stored keys.
    async fn stored_keys_follow_a_key_change(store) {
        let clock = Arc::new(ManualClock::at(T0));
        let log = open(&store, &clock).await;
        log.append(&event(0)).await.unwrap();
        log.checkpoint().await.unwrap();
        let new_signer = LogSigner::new("tradeguard.test/audit", Ed25519SigningKey::from_seed(&[4; 32]).unwrap()).unwrap();
        let rotated = AuditLog::open(store.clone(), new_signer, redactor(), clock).await.unwrap();
        rotated.append(&event(1)).await.unwrap();
        rotated.checkpoint().await.unwrap();
        let stored = stored_public_keys(&store).await.unwrap();
        assert_eq!(stored, [log.public_keys(), rotated.public_keys()].concat());
        check_verifies(&store, &stored, 2).await;
        // With only the new key, the first checkpoint is refused.
        let only_new = verify_store(&store, &rotated.public_keys()).await.unwrap();
        assert!(only_new.is_err());
    }

    /// Fail closed: when the database cannot take the entry, append returns the error and the
    /// log's head does not move.
    async fn append_fails_closed_when_storage_fails(store) {
        let clock = Arc::new(ManualClock::at(T0));
        let log = open(&store, &clock).await;
        log.append(&event(0)).await.unwrap();
        store.close().await;
        let err = log.append(&event(1)).await.unwrap_err();
        // Group commit reports the transaction's failure to every caller it held.
        assert!(matches!(err, AuditError::Append { .. } | AuditError::Store(_)), "{err}");
        assert_ne!(err.class(), ErrorClass::UnknownOutcome);
        assert_eq!(log.size().await, 1);
    }

    /// Group commit: appends made while the writer is busy share one transaction, and each
    /// caller gets its own contiguous receipt.
    async fn concurrent_appends_share_a_transaction(store) {
        let clock = Arc::new(ManualClock::at(T0));
        let log = open(&store, &clock).await;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..64u64 {
            let log = log.clone();
            let events: Vec<AuditEvent> = (0..1 + i % 3).map(|j| event(i * 10 + j)).collect();
            tasks.spawn(async move { (log.append_batch(&events).await.unwrap(), events.len() as u64) });
        }
        let mut receipts = tasks.join_all().await;
        receipts.sort_by_key(|(r, _)| r.first_seq());
        let mut next = 0;
        for (i, (r, n)) in receipts.iter().enumerate() {
            assert_eq!((r.first_seq(), r.count()), (next, *n), "TC{i} failed");
            next += n;
        }
        // Every task queued before the first writer ran (one-threaded runtime): one commit.
        assert_eq!(log.commits(), 1);
        log.checkpoint().await.unwrap();
        check_verifies(&store, &log.public_keys(), next).await;
    }

    /// A caller that stops waiting after queueing does not cut the write short: its event is
    /// written, the next append follows it, and the log verifies.
    async fn dropped_append_is_still_written_whole(store) {
        let clock = Arc::new(ManualClock::at(T0));
        let log = open(&store, &clock).await;
        let first = event(0);
        tokio::select! {
            biased;
            _ = log.append(&first) => panic!("the append cannot finish before its writer runs"),
            () = std::future::ready(()) => {}
        }
        let r = log.append(&event(1)).await.unwrap();
        assert_eq!((r.first_seq(), r.tree_size()), (1, 2));
        log.checkpoint().await.unwrap();
        check_verifies(&store, &log.public_keys(), 2).await;
    }
}
