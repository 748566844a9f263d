//! Tampering: 1,000 random modifications of an exported log (a changed byte, a deleted,
//! inserted, swapped or truncated entry, a rewritten checkpoint) are all detected by the
//! offline verifier, and it names the right entry (or the checkpoint).

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::Map;
use tradeguard_audit::clock::ManualClock;
use tradeguard_audit::entry::Entry;
use tradeguard_audit::event::{AuditEvent, EventKind, Redactor};
use tradeguard_audit::export::verify_export;
use tradeguard_audit::keys::{LogKey, LogSigner};
use tradeguard_audit::memory_log::MemoryLog;
use tradeguard_audit::merkle::{Hash, empty_root, leaf_hash};
use tradeguard_audit::verify::Finding;
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::Ed25519SigningKey;

const ENTRIES: usize = 120;
const MODIFICATIONS: usize = 1000;

fn build() -> (Vec<Vec<u8>>, Vec<u8>, Vec<LogKey>) {
    let clock = Arc::new(ManualClock::at(1_795_395_723_456));
    let redactor = Redactor::new(SecretBytes::new(vec![9; 32])).unwrap();
    let mut log = MemoryLog::new(redactor, clock.clone());
    let kinds = [
        "auth.success",
        "auth.failure",
        "order.submitted",
        "order.filled",
        "halt",
        "config.changed",
    ];
    for i in 0..ENTRIES {
        let event = AuditEvent::of(kinds[i % kinds.len()])
            .unwrap()
            .field("profile", format!("p{}", i % 3))
            .unwrap()
            .field("qty", format!("0.{i}"))
            .unwrap()
            .sensitive("api_key_id", &format!("key-{}", i % 5))
            .unwrap();
        log.append(&event).unwrap();
        clock.advance(1_250);
    }
    let signer = LogSigner::new(
        "tradeguard.test/audit",
        Ed25519SigningKey::from_seed(&[5; 32]).unwrap(),
    )
    .unwrap();
    let export = log.export(&signer).unwrap();
    let lines: Vec<Vec<u8>> = export
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    (lines, export, signer.public_keys())
}

fn join(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out
}

/// A well-formed entry the log never wrote, placed as entry `seq` after `prev`.
fn forged(seq: u64, prev: Hash, rng: &mut ChaCha20Rng) -> Vec<u8> {
    let mut fields = Map::new();
    fields.insert(
        "qty".into(),
        format!("{}", rng.random_range(1..1000)).into(),
    );
    let e = Entry {
        seq,
        time_ms: 1_795_395_800_000,
        kind: EventKind::new("order.submitted").unwrap(),
        prev,
        fields,
    };
    e.encode().unwrap()
}

#[derive(Debug)]
enum Expect {
    /// The finding must name this entry.
    Entry(u64),
    /// The finding must name one of these lines (identical lines are indistinguishable).
    Line(Vec<u64>),
    /// The finding must be about the checkpoint.
    Checkpoint,
}

fn mutate(lines: &[Vec<u8>], rng: &mut ChaCha20Rng) -> (&'static str, Vec<Vec<u8>>, Expect) {
    let n = lines.len() - 1; // entry lines; the last line is the checkpoint
    let mut out = lines.to_vec();
    match rng.random_range(0..6) {
        0 => {
            let p = rng.random_range(0..=n);
            let at = rng.random_range(0..out[p].len());
            out[p][at] ^= rng.random_range(1..=255u8);
            let expect = if p == n {
                Expect::Checkpoint
            } else {
                Expect::Entry(p as u64)
            };
            ("changed byte", out, expect)
        }
        1 => {
            let p = rng.random_range(0..n);
            out.remove(p);
            ("deleted entry", out, Expect::Entry(p as u64))
        }
        2 => {
            let p = rng.random_range(0..=n);
            let line = if rng.random_bool(0.5) {
                let prev = p
                    .checked_sub(1)
                    .map_or_else(empty_root, |q| leaf_hash(&lines[q]));
                forged(p as u64, prev, rng)
            } else {
                lines[rng.random_range(0..n)].clone()
            };
            let same: Vec<u64> = (0..n)
                .filter(|&q| lines[q] == line)
                .map(|q| q as u64)
                .collect();
            out.insert(p, line);
            // A copy of a neighbour cannot be told from the neighbour itself.
            let mut ok = vec![p as u64];
            ok.extend(same.iter().filter(|&&q| q + 1 == p as u64).copied());
            ok.extend(same.iter().filter(|&&q| q == p as u64).map(|q| q + 1));
            ("inserted entry", out, Expect::Line(ok))
        }
        3 => {
            let p = rng.random_range(0..n - 1);
            out.swap(p, p + 1);
            ("swapped entries", out, Expect::Entry(p as u64))
        }
        4 => {
            let m = rng.random_range(1..=5);
            out.drain(n - m..n);
            ("truncated log", out, Expect::Entry((n - m) as u64))
        }
        _ => {
            let text = String::from_utf8(out[n].clone()).unwrap();
            let rewritten = match rng.random_range(0..3) {
                0 => text.replacen(
                    &format!("\\n{n}\\n"),
                    &format!("\\n{}\\n", n + rng.random_range(1..50)),
                    1,
                ),
                1 => {
                    let other = leaf_hash(&rng.random::<[u8; 8]>()).to_base64();
                    let root = text.split("\\n").nth(2).unwrap().to_owned();
                    text.replacen(&root, &other, 1)
                }
                _ => {
                    let sig_at = text.rfind(' ').unwrap() + 10;
                    let mut b = text.into_bytes();
                    b[sig_at] = if b[sig_at] == b'A' { b'B' } else { b'A' };
                    String::from_utf8(b).unwrap()
                }
            };
            out[n] = rewritten.into_bytes();
            ("rewritten checkpoint", out, Expect::Checkpoint)
        }
    }
}

fn named_right(finding: &Finding, expect: &Expect) -> bool {
    match (expect, finding) {
        (Expect::Checkpoint, Finding::CheckpointInvalid { .. } | Finding::MissingCheckpoint) => {
            true
        }
        (Expect::Checkpoint, _) => false,
        (Expect::Line(ok), Finding::Inserted { line, .. } | Finding::Unsigned { line, .. }) => {
            ok.contains(line)
        }
        (Expect::Line(_), _) => false,
        (Expect::Entry(seq), f) => f.seq() == Some(*seq),
    }
}

#[test]
fn a_thousand_random_modifications_are_detected_and_named() {
    let (lines, export, keys) = build();
    let (report, _) = verify_export(&export, &keys).expect("the pristine export verifies");
    assert_eq!(report.signed_size, ENTRIES as u64);

    let seed = std::env::var("TAMPER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x7a3d_1e55);
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (mut detected, mut named) = (0, 0);
    let mut wrong = Vec::new();
    for case in 0..MODIFICATIONS {
        let (what, tampered, expect) = mutate(&lines, &mut rng);
        match verify_export(&join(&tampered), &keys) {
            Ok(_) => wrong.push(format!("TC{case} ({what}): not detected")),
            Err(finding) => {
                detected += 1;
                if named_right(&finding, &expect) {
                    named += 1;
                } else {
                    wrong.push(format!(
                        "TC{case} ({what}): expected {expect:?}, got `{finding}`"
                    ));
                }
            }
        }
    }
    println!(
        "tampering: {detected}/{MODIFICATIONS} modifications detected, {named}/{MODIFICATIONS} named the right entry or checkpoint"
    );
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
