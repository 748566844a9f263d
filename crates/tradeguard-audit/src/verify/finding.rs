//! [`Finding`]: the first thing `audit verify` found wrong, naming the entry or checkpoint.

/// The first defect found in a log. Entries are named by sequence number (`seq`), which is
/// also their position in an intact log; `line` is a 0-based position in what was read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Finding {
    /// A checkpoint does not parse or its signature does not verify.
    #[error(
        "checkpoint {index} (tree size {size}) is invalid: {reason}; it was rewritten or is not signed by the trusted key"
    )]
    CheckpointInvalid {
        /// Which checkpoint (0 = oldest read).
        index: usize,
        /// The size it claims, if readable (else 0).
        size: u64,
        /// Why it was refused.
        reason: String,
    },
    /// The log carries no checkpoint, so nothing in it is signed.
    #[error("no signed checkpoint found: the export was truncated or its checkpoint line removed")]
    MissingCheckpoint,
    /// Two checkpoints contradict each other (the log was forked or rewritten).
    #[error(
        "checkpoints at sizes {size1} and {size2} are not consistent: the log was rewritten between them"
    )]
    Inconsistent {
        /// The older size.
        size1: u64,
        /// The newer size.
        size2: u64,
    },
    /// An entry does not parse as a well-formed canonical entry.
    #[error("entry {seq} (line {line}) is malformed ({reason}): it was changed")]
    Malformed {
        /// The sequence number expected at that position.
        seq: u64,
        /// Position read.
        line: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An entry's content differs from what the log recorded.
    #[error("entry {seq} was changed ({detail})")]
    Changed {
        /// The entry.
        seq: u64,
        /// How it shows.
        detail: &'static str,
    },
    /// Entries are missing from the middle of the log.
    #[error("entry {seq} was removed ({count} entr{plural} missing from seq {seq})", plural = if *count == 1 { "y" } else { "ies" })]
    Removed {
        /// The first missing entry.
        seq: u64,
        /// How many are missing at that point.
        count: u64,
    },
    /// An entry that the log never recorded was inserted.
    #[error("an entry was inserted at line {line} (before the entry with seq {before})")]
    Inserted {
        /// Position of the inserted line.
        line: u64,
        /// The sequence number of the genuine entry that should be at that position.
        before: u64,
    },
    /// An entry is out of place.
    #[error("entry {seq} was reordered: found at line {line}")]
    Reordered {
        /// The entry that is out of place.
        seq: u64,
        /// Where it was found.
        line: u64,
    },
    /// The log ends before the size a checkpoint signs.
    #[error(
        "entries from {first_missing} on were removed: the log has {first_missing} entries but checkpoint signs {signed_size}"
    )]
    Truncated {
        /// The first missing entry.
        first_missing: u64,
        /// The size the checkpoint signs.
        signed_size: u64,
    },
    /// The entries are self-consistent but do not hash to the signed root: they were
    /// rewritten wholesale (every link recomputed), or the checkpoint is from another log.
    #[error(
        "entries before {size} do not match the checkpoint signed at that size: rewritten (with all links recomputed) or from another log"
    )]
    RootMismatch {
        /// The checkpoint size.
        size: u64,
    },
    /// An export holds entries beyond its signed checkpoint.
    #[error(
        "entry at line {line} is beyond the signed checkpoint (size {signed_size}): it was inserted"
    )]
    Unsigned {
        /// The first unsigned line.
        line: u64,
        /// The signed size.
        signed_size: u64,
    },
    /// A stored tree node does not match the entries (database only).
    #[error(
        "stored tree node (level {level}, index {index}) does not match entries {start}..{end}: the node table was altered"
    )]
    NodeMismatch {
        /// Node level.
        level: u8,
        /// Node index.
        index: u64,
        /// First entry it covers.
        start: u64,
        /// One past the last entry it covers.
        end: u64,
    },
}

impl Finding {
    /// JSON form: `{"ok": false, "finding": <message>, "seq": <entry or null>}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "ok": false, "finding": self.to_string(), "seq": self.seq() })
    }

    /// The entry sequence number the finding names, if it names one.
    pub fn seq(&self) -> Option<u64> {
        match self {
            Self::Malformed { seq, .. }
            | Self::Changed { seq, .. }
            | Self::Removed { seq, .. }
            | Self::Reordered { seq, .. } => Some(*seq),
            Self::Inserted { before, .. } => Some(*before),
            Self::Truncated { first_missing, .. } => Some(*first_missing),
            _ => None,
        }
    }
}
