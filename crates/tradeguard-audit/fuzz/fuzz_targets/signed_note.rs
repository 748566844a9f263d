//! Fuzzes the C2SP signed-note and tlog-checkpoint parsers (`audit verify --checkpoint FILE`,
//! every checkpoint of a log or an export, `GET /v1/audit/checkpoint` as a witness reads it).
//! No input panics; a note that parses prints back to exactly its bytes, and so does a
//! checkpoint body; a signed checkpoint's body is a checkpoint; verifying against the seed
//! keys never panics, and a checkpoint that verifies was signed by one of them.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tradeguard_audit::checkpoint::{Checkpoint, SignedCheckpoint};
use tradeguard_audit::keys::{LogKey, verify_checkpoint};
use tradeguard_audit::note::Note;

/// Keys of the seeds: the C2SP signed-note example, Go's sumdb example, and the export seed's
/// gateway key (whose checkpoint is `seeds/signed_note/tradeguard_checkpoint.note`).
const SEED_KEYS: [&str; 3] = [
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "did:key:z6MkiLQXJw1jtYM5S3uKmLDAteKJf99y8TKeDS53cmEvusUn",
];

static KEYS: LazyLock<Vec<LogKey>> = LazyLock::new(|| {
    SEED_KEYS
        .iter()
        .map(|k| LogKey::parse(k).expect("seed key"))
        .collect()
});

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = Note::parse(data) {
        assert_eq!(note.to_text().as_bytes(), data, "note printed differently");
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(cp) = Checkpoint::from_text(text)
    {
        assert_eq!(cp.to_text(), text, "checkpoint body printed differently");
    }
    if let Ok(signed) = SignedCheckpoint::parse(data) {
        assert_eq!(signed.to_text().as_bytes(), data);
        let body = Checkpoint::from_text(signed.note().text()).expect("body of a checkpoint");
        assert_eq!(&body, signed.unverified());
        if let Ok(verified) = verify_checkpoint(signed, &KEYS) {
            assert!(!verified.signers().is_empty());
        }
    }
});
