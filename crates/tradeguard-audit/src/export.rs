//! The export format of `tradeguard audit export`: JSON lines, one entry per line (its exact
//! canonical bytes), then one line `{"checkpoint":"<signed note>"}` with the checkpoint that
//! signs exactly those entries. Verified offline by [`verify_export`].

use std::io::Write;

use serde_json::Value;
use tradeguard_crypto::jcs;

use crate::AuditError;
use crate::checkpoint::SignedCheckpoint;
use crate::keys::LogKey;
use crate::merkle::MemoryTree;
use crate::verify::{Finding, Tail, VerifyReport, sort_by_claimed_size, verify_log};

/// The line that carries the checkpoint (canonical JSON, no newline).
pub fn checkpoint_line(cp: &SignedCheckpoint) -> Result<String, AuditError> {
    let v = serde_json::json!({ "checkpoint": cp.to_text() });
    jcs::canonicalize(&v).map_err(|_| AuditError::InvalidEvent("checkpoint line"))
}

/// Writes entries and their checkpoint in export form.
pub fn write_export<'a, W: Write>(
    out: &mut W,
    entries: impl IntoIterator<Item = &'a [u8]>,
    checkpoint: &SignedCheckpoint,
) -> Result<(), AuditError> {
    for e in entries {
        out.write_all(e)?;
        out.write_all(b"\n")?;
    }
    out.write_all(checkpoint_line(checkpoint)?.as_bytes())?;
    out.write_all(b"\n")?;
    Ok(())
}

/// An export split into entry lines and the checkpoint note, if the last line is one.
pub struct ExportParts<'a> {
    /// Entry lines, in file order.
    pub entries: Vec<&'a [u8]>,
    /// The checkpoint note text from the last line.
    pub checkpoint: Option<String>,
}

/// Splits an export. A last line that is not a checkpoint object is kept as an entry line.
pub fn split_export(bytes: &[u8]) -> ExportParts<'_> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut entries: Vec<&[u8]> = if body.is_empty() {
        Vec::new()
    } else {
        body.split(|b| *b == b'\n').collect()
    };
    let checkpoint = entries.last().and_then(|l| parse_checkpoint_line(l));
    if checkpoint.is_some() {
        entries.pop();
    }
    ExportParts {
        entries,
        checkpoint,
    }
}

fn parse_checkpoint_line(line: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(line).ok()?;
    let obj = v.as_object()?;
    if obj.len() != 1 {
        return None;
    }
    obj.get("checkpoint")?.as_str().map(str::to_owned)
}

/// Verifies an export against trusted keys (see [`crate::verify`]).
pub fn verify_export(bytes: &[u8], keys: &[LogKey]) -> Result<(VerifyReport, MemoryTree), Finding> {
    verify_export_with(bytes, keys, &[])
}

/// [`verify_export`], also requiring the export to be consistent with `held`: checkpoints an
/// auditor fetched earlier.
pub fn verify_export_with(
    bytes: &[u8],
    keys: &[LogKey],
    held: &[String],
) -> Result<(VerifyReport, MemoryTree), Finding> {
    let parts = split_export(bytes);
    let note = parts.checkpoint.ok_or(Finding::MissingCheckpoint)?;
    let mut notes = held.to_vec();
    notes.push(note);
    sort_by_claimed_size(&mut notes);
    let refs: Vec<&[u8]> = notes.iter().map(String::as_bytes).collect();
    verify_log(&parts.entries, &refs, keys, Tail::Refuse)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tradeguard_crypto::secret::SecretBytes;
    use tradeguard_crypto::sign::Ed25519SigningKey;

    use super::*;
    use crate::clock::ManualClock;
    use crate::event::{AuditEvent, Redactor};
    use crate::keys::LogSigner;
    use crate::memory_log::MemoryLog;

    fn log(n: u64, tag: &str) -> MemoryLog {
        let redactor = Redactor::new(SecretBytes::new(vec![4; 32])).unwrap();
        let mut log = MemoryLog::new(redactor, Arc::new(ManualClock::at(0)));
        for i in 0..n {
            let e = AuditEvent::of("halt").unwrap().field("n", i).unwrap();
            let e = if i >= 5 {
                e.field("tag", tag).unwrap()
            } else {
                e
            };
            log.append(&e).unwrap();
        }
        log
    }

    #[test]
    fn held_checkpoints_must_be_consistent_with_the_export() {
        let signer = LogSigner::new(
            "t.example/log",
            Ed25519SigningKey::from_seed(&[2; 32]).unwrap(),
        )
        .unwrap();
        let keys = signer.public_keys();
        let export = log(8, "a").export(&signer).unwrap();
        let held = |n, tag| log(n, tag).checkpoint(&signer).unwrap().to_text();
        let cases = [
            (held(3, "a"), Ok(8)),
            (held(8, "a"), Ok(8)),
            (
                held(12, "a"),
                Err(Finding::Truncated {
                    first_missing: 8,
                    signed_size: 12,
                }),
            ),
            // A fork: its checkpoint at 7 does not match these entries.
            (held(7, "b"), Err(Finding::RootMismatch { size: 7 })),
        ];
        for (i, (note, want)) in cases.into_iter().enumerate() {
            let got = verify_export_with(&export, &keys, &[note]).map(|(r, _)| r.entries);
            assert_eq!(got, want, "TC{i} failed");
        }
    }
}
