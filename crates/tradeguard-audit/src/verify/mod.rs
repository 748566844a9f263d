//! Offline verification of a whole log: entries as stored or exported, and its checkpoints.
//!
//! In order, the first failure is reported as a [`Finding`] naming the entry or checkpoint:
//! 1. every checkpoint parses and is signed by a trusted key;
//! 2. every entry is a well-formed canonical entry;
//! 3. `seq` runs 0, 1, 2, … (a gap, a repeat or a swap names the entry removed, inserted
//!    or reordered);
//! 4. each entry's `prev` is the leaf hash of the entry before it (names the changed entry);
//! 5. the recomputed tree head at each checkpoint's size is the signed one (names a changed
//!    last entry, a truncated log, or a wholesale rewrite);
//! 6. consecutive checkpoints are consistent (a consistency proof from the recomputed tree
//!    verifies against both signed heads);
//! 7. entries after the last checkpoint are refused in an export (they are unsigned) and
//!    counted as an unsigned tail in a live database.

mod classify;
mod finding;

use std::collections::BTreeMap;

pub use finding::Finding;

use classify::{Line, check_links, check_sequence};

use crate::checkpoint::{SignedCheckpoint, VerifiedCheckpoint};
use crate::entry::Entry;
use crate::keys::{LogKey, verify_checkpoint};
use crate::merkle::{Hash, MemoryTree, leaf_hash, verify_consistency};

/// What a successful verification established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries read.
    pub entries: u64,
    /// Checkpoints whose signatures verified.
    pub checkpoints: usize,
    /// The largest signed tree size (every entry below it is proven).
    pub signed_size: u64,
    /// The signed tree head at that size.
    pub signed_root: Hash,
    /// Entries after the last checkpoint (not yet signed).
    pub unsigned_tail: u64,
    /// Names of the keys that signed the last checkpoint.
    pub signers: Vec<String>,
}

impl VerifyReport {
    /// JSON summary, as `tradeguard audit verify --json` prints it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "ok": true,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "signed_size": self.signed_size,
            "signed_root": self.signed_root.to_base64(),
            "unsigned_tail": self.unsigned_tail,
            "signers": self.signers,
        })
    }
}

/// Whether entries after the last checkpoint are acceptable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tail {
    /// An export must end at its checkpoint.
    Refuse,
    /// A live log may have appended since its last checkpoint.
    Allow,
}

/// Leaf hashes that a database recorded for entries when they were appended, by `seq`. They
/// prove nothing by themselves (whoever edits entries can edit them), but where no checkpoint
/// covers an entry yet they tell a genuine entry from an inserted copy of it.
pub type RecordedLeaves = BTreeMap<u64, Hash>;

/// Verifies entries (in stored order) against checkpoints (oldest first), trusting `keys`.
pub fn verify_log(
    entries: &[&[u8]],
    checkpoints: &[&[u8]],
    keys: &[LogKey],
    tail: Tail,
) -> Result<(VerifyReport, MemoryTree), Finding> {
    verify_log_recorded(entries, checkpoints, keys, tail, &RecordedLeaves::new())
}

/// [`verify_log`] with the leaf hashes a database recorded at append time, to name the right
/// entry among duplicates after the last checkpoint.
pub fn verify_log_recorded(
    entries: &[&[u8]],
    checkpoints: &[&[u8]],
    keys: &[LogKey],
    tail: Tail,
    recorded: &RecordedLeaves,
) -> Result<(VerifyReport, MemoryTree), Finding> {
    let mut parsed = ParsedEntries::default();
    for bytes in entries {
        parsed.push(bytes);
    }
    verify_parsed(parsed, checkpoints, keys, tail, recorded)
}

/// Entry lines parsed as they are read, keeping 72 bytes per entry (a database streams its
/// entries through this instead of holding them all), and the first malformed one.
#[derive(Default)]
pub(crate) struct ParsedEntries {
    lines: Vec<Line>,
    malformed: Option<Finding>,
}

impl ParsedEntries {
    /// Parses the next line (nothing more after a malformed one).
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if self.malformed.is_some() {
            return;
        }
        let i = self.lines.len() as u64;
        match Entry::parse(bytes) {
            Ok(e) => self.lines.push(Line {
                seq: e.seq,
                prev: e.prev,
                leaf: leaf_hash(bytes),
            }),
            Err(reason) => {
                self.malformed = Some(Finding::Malformed {
                    seq: i,
                    line: i,
                    reason,
                });
            }
        }
    }
}

/// [`verify_log_recorded`] on entries already parsed.
pub(crate) fn verify_parsed(
    parsed: ParsedEntries,
    checkpoints: &[&[u8]],
    keys: &[LogKey],
    tail: Tail,
    recorded: &RecordedLeaves,
) -> Result<(VerifyReport, MemoryTree), Finding> {
    let cps = check_checkpoints(checkpoints, keys)?;
    if let Some(finding) = parsed.malformed {
        return Err(finding);
    }
    let lines = parsed.lines;
    let last = cps
        .last()
        .map(|c| (c.checkpoint().size(), *c.checkpoint().root()));
    check_sequence(&lines, last, recorded)?;
    check_links(&lines, last, recorded)?;
    let tree = MemoryTree::from_leaf_hashes(lines.iter().map(|l| l.leaf))
        .map_err(|_| Finding::MissingCheckpoint)?;
    check_roots(&tree, &cps)?;
    check_consistency(&tree, &cps)?;
    let n = tree.size();
    let (signed_size, signed_root) = last.unwrap_or((0, crate::merkle::empty_root()));
    if n > signed_size && tail == Tail::Refuse {
        return Err(Finding::Unsigned {
            line: signed_size,
            signed_size,
        });
    }
    let report = VerifyReport {
        entries: n,
        checkpoints: cps.len(),
        signed_size,
        signed_root,
        unsigned_tail: n - signed_size,
        signers: cps.last().map(|c| c.signers().to_vec()).unwrap_or_default(),
    };
    Ok((report, tree))
}

/// Sorts checkpoint notes by the tree size they claim (unreadable ones first, to be reported),
/// so that checkpoints from several sources (the log's own, and ones an auditor kept) are
/// checked for consistency in order.
pub(crate) fn sort_by_claimed_size(notes: &mut [String]) {
    notes.sort_by_key(|n| {
        SignedCheckpoint::parse(n.as_bytes())
            .ok()
            .map(|c| c.unverified().size())
    });
}

fn check_checkpoints(raw: &[&[u8]], keys: &[LogKey]) -> Result<Vec<VerifiedCheckpoint>, Finding> {
    let mut out: Vec<VerifiedCheckpoint> = Vec::with_capacity(raw.len());
    for (index, bytes) in raw.iter().enumerate() {
        let invalid = |size, reason: String| Finding::CheckpointInvalid {
            index,
            size,
            reason,
        };
        let parsed = SignedCheckpoint::parse(bytes).map_err(|e| invalid(0, e.to_string()))?;
        let size = parsed.unverified().size();
        let cp = verify_checkpoint(parsed, keys).map_err(|e| invalid(size, e.to_string()))?;
        if let Some(prev) = out.last() {
            let (a, b) = (prev.checkpoint(), cp.checkpoint());
            if b.size() < a.size() || (b.size() == a.size() && b.root() != a.root()) {
                return Err(Finding::Inconsistent {
                    size1: a.size(),
                    size2: b.size(),
                });
            }
        }
        out.push(cp);
    }
    Ok(out)
}

fn check_roots(tree: &MemoryTree, cps: &[VerifiedCheckpoint]) -> Result<(), Finding> {
    let n = tree.size();
    for cp in cps.iter().map(VerifiedCheckpoint::checkpoint) {
        if cp.size() > n {
            return Err(Finding::Truncated {
                first_missing: n,
                signed_size: cp.size(),
            });
        }
        let root = tree
            .root_at(cp.size())
            .map_err(|_| Finding::RootMismatch { size: cp.size() })?;
        if &root != cp.root() {
            // Links vouch for every entry below n - 1; only the last one can differ alone.
            return Err(if cp.size() == n && n > 0 {
                Finding::Changed {
                    seq: n - 1,
                    detail: "its hash does not match the signed tree head",
                }
            } else {
                Finding::RootMismatch { size: cp.size() }
            });
        }
    }
    Ok(())
}

fn check_consistency(tree: &MemoryTree, cps: &[VerifiedCheckpoint]) -> Result<(), Finding> {
    for pair in cps.windows(2) {
        let (a, b) = (pair[0].checkpoint(), pair[1].checkpoint());
        if a.size() == 0 {
            continue;
        }
        let inconsistent = Finding::Inconsistent {
            size1: a.size(),
            size2: b.size(),
        };
        let proof = tree
            .consistency_proof(a.size(), b.size())
            .map_err(|_| inconsistent.clone())?;
        verify_consistency(a.size(), b.size(), &proof, a.root(), b.root())
            .map_err(|_| inconsistent)?;
    }
    Ok(())
}
