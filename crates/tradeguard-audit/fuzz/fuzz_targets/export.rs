//! Fuzzes what `tradeguard audit verify --log FILE` reads: the export splitter and the whole
//! verification of an export against a trusted key. No input panics; the split keeps every
//! line (entry lines plus the checkpoint line are the file again); an export that verifies
//! has exactly as many entries as entry lines, each a well-formed entry, all signed.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tradeguard_audit::entry::Entry;
use tradeguard_audit::export::{split_export, verify_export};
use tradeguard_audit::keys::LogKey;

/// The key of the seed export (`seeds/export/three_entries.jsonl`, made by `tradeguard init`,
/// two credential imports and `tradeguard audit export` on a throwaway data dir).
const SEED_KEY: &str = "did:key:z6MkiLQXJw1jtYM5S3uKmLDAteKJf99y8TKeDS53cmEvusUn";

static KEYS: LazyLock<Vec<LogKey>> =
    LazyLock::new(|| vec![LogKey::parse(SEED_KEY).expect("seed key")]);

fuzz_target!(|data: &[u8]| {
    let parts = split_export(data);
    let lines = parts.entries.len() + usize::from(parts.checkpoint.is_some());
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    let want = if body.is_empty() {
        0
    } else {
        body.split(|b| *b == b'\n').count()
    };
    assert_eq!(lines, want, "the split lost or added a line");
    if let Ok((report, tree)) = verify_export(data, &KEYS) {
        assert_eq!(report.entries, parts.entries.len() as u64);
        assert_eq!(tree.size(), report.entries);
        assert_eq!(report.unsigned_tail, 0, "an export ends at its checkpoint");
        assert_eq!(report.signed_size, report.entries);
        assert!(parts.entries.iter().all(|l| Entry::parse(l).is_ok()));
    }
});
