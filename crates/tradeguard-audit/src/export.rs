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
use crate::verify::{Finding, Tail, VerifyReport, verify_log};

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
    let parts = split_export(bytes);
    let note = parts.checkpoint.ok_or(Finding::MissingCheckpoint)?;
    verify_log(&parts.entries, &[note.as_bytes()], keys, Tail::Refuse)
}
