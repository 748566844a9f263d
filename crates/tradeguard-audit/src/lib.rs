//! tradeguard-audit: the tamper-evident audit log.
//!
//! - [`merkle`]: RFC 6962 / RFC 9162 Merkle tree, proofs and their verification (pure).
//! - [`note`], [`checkpoint`]: C2SP signed notes and tlog checkpoints (Ed25519, ML-DSA-65).
//!
//! ```
//! use tradeguard_audit::merkle::MemoryTree;
//!
//! let mut tree = MemoryTree::new();
//! tree.push(br#"{"kind":"auth.success","seq":0}"#).unwrap();
//! assert_eq!(tree.size(), 1);
//! ```

pub mod checkpoint;
pub mod merkle;
pub mod note;
