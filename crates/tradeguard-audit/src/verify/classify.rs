//! Naming the first defect: sequence numbers say where entries sit, `prev` links say which
//! entry each one followed when it was written, and the signed tree head settles the case the
//! links cannot (the last entry).

use super::RecordedLeaves;
use super::finding::Finding;
use crate::merkle::{Hash, MemoryTree, empty_root};

/// What the verifier keeps of each entry line.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Line {
    /// The `seq` member.
    pub seq: u64,
    /// The `prev` member.
    pub prev: Hash,
    /// The leaf hash of the line's bytes.
    pub leaf: Hash,
}

fn expected_prev(lines: &[Line], i: usize) -> Hash {
    i.checked_sub(1).map_or_else(empty_root, |p| lines[p].leaf)
}

fn pos(i: usize) -> u64 {
    i as u64
}

/// Entries must carry `seq` = position; names the first that does not, and why. `signed` is
/// a trusted (size, root) and `recorded` the leaf hashes stored at append time, used when
/// links cannot tell a genuine entry from its double.
pub(crate) fn check_sequence(
    lines: &[Line],
    signed: Option<(u64, Hash)>,
    recorded: &RecordedLeaves,
) -> Result<(), Finding> {
    let Some(i) = lines.iter().enumerate().position(|(i, l)| l.seq != pos(i)) else {
        return Ok(());
    };
    let s = lines[i].seq;
    let next = lines.get(i + 1).map(|l| l.seq);
    let line = pos(i);
    if s > line && lines[i + 1..].iter().any(|l| l.seq == s) {
        // A second entry s further on: this one is a copy that was inserted.
        return Err(Finding::Inserted { line, before: line });
    }
    if s == line + 1 && next == Some(line) {
        return Err(Finding::Reordered {
            seq: line,
            line: line + 1,
        });
    }
    if s < line {
        return Err(duplicate(lines, i, s, signed, recorded));
    }
    // s > line: the seq was altered, or entry `line` is gone or elsewhere.
    if lines[i].prev == expected_prev(lines, i) {
        return Err(Finding::Changed {
            seq: line,
            detail: "its seq member was altered",
        });
    }
    if let Some(j) = lines[i..].iter().position(|l| l.seq == line) {
        return Err(Finding::Reordered {
            seq: line,
            line: pos(i + j),
        });
    }
    Err(Finding::Removed {
        seq: line,
        count: s - line,
    })
}

/// Line `i` repeats seq `s` already seen at an earlier line `first`: one of the two is not
/// genuine. The genuine one is the one the next entry (seq `s + 1`, after line `i`) vouches
/// for; at the end of the log, the one whose leaf hash was recorded for `s` when it was
/// appended, or the one that gives the signed tree head; failing all (a copy of an old
/// entry), line `i`.
fn duplicate(
    lines: &[Line],
    i: usize,
    s: u64,
    signed: Option<(u64, Hash)>,
    recorded: &RecordedLeaves,
) -> Finding {
    let first = lines.iter().position(|l| l.seq == s).unwrap_or(i);
    let inserted = match lines[i + 1..].iter().find(|l| l.seq == s + 1) {
        Some(next) if next.prev == lines[i].leaf => first,
        Some(_) => i,
        // An exact copy: the earlier line sits at position s, the copy is out of place.
        None if first == i || lines[first].leaf == lines[i].leaf => i,
        None => match recorded.get(&s) {
            Some(leaf) if *leaf == lines[i].leaf => first,
            Some(leaf) if *leaf == lines[first].leaf => i,
            _ if root_without(lines, i, signed) => i,
            _ if root_without(lines, first, signed) => first,
            _ => i,
        },
    };
    Finding::Inserted {
        line: pos(inserted),
        before: pos(inserted),
    }
}

/// True when the log without line `skip` has the signed tree head.
fn root_without(lines: &[Line], skip: usize, signed: Option<(u64, Hash)>) -> bool {
    let Some((size, root)) = signed else {
        return false;
    };
    let leaves = lines
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != skip)
        .map(|(_, l)| l.leaf);
    MemoryTree::from_leaf_hashes(leaves)
        .ok()
        .and_then(|t| t.root_at(size).ok())
        .is_some_and(|r| r == root)
}

/// Every entry's `prev` must be the leaf hash of the line before it. `signed` is the tree
/// size and root of a trusted checkpoint, and `recorded` the leaf hashes stored at append
/// time, used to decide the last entry's case.
pub(crate) fn check_links(
    lines: &[Line],
    signed: Option<(u64, Hash)>,
    recorded: &RecordedLeaves,
) -> Result<(), Finding> {
    let Some(k) = (0..lines.len()).find(|&k| lines[k].prev != expected_prev(lines, k)) else {
        return Ok(());
    };
    if k >= 2 && lines[k].prev == lines[k - 2].leaf {
        return Err(Finding::Inserted {
            line: pos(k - 1),
            before: pos(k - 1),
        });
    }
    if k == 0 {
        return Err(Finding::Changed {
            seq: 0,
            detail: "its prev member was altered",
        });
    }
    let previous_changed = Finding::Changed {
        seq: pos(k - 1),
        detail: "its hash no longer matches the prev link of the entry after it",
    };
    let this_changed = Finding::Changed {
        seq: pos(k),
        detail: "its prev member was altered",
    };
    if let Some(after) = lines.get(k + 1) {
        // Entry k is intact iff entry k + 1 vouches for it.
        return Err(if after.prev == lines[k].leaf {
            previous_changed
        } else {
            this_changed
        });
    }
    // k is the last entry: it vouches for entry k - 1 if it is as appended, or if its link
    // is what was appended for k - 1; else try "entry k - 1 changed, its original leaf is
    // lines[k].prev" against the signed head.
    if recorded.get(&pos(k)) == Some(&lines[k].leaf)
        || recorded.get(&pos(k - 1)) == Some(&lines[k].prev)
    {
        return Err(previous_changed);
    }
    if let Some((size, root)) = signed
        && size == pos(lines.len())
        && root_with(lines, k - 1, lines[k].prev, size) == Some(root)
    {
        return Err(previous_changed);
    }
    Err(this_changed)
}

fn root_with(lines: &[Line], at: usize, leaf: Hash, size: u64) -> Option<Hash> {
    let leaves = lines
        .iter()
        .enumerate()
        .map(|(i, l)| if i == at { leaf } else { l.leaf });
    MemoryTree::from_leaf_hashes(leaves)
        .ok()?
        .root_at(size)
        .ok()
}
