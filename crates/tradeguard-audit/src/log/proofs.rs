//! Inclusion and consistency proofs served from the stored tree: the proof plan names the
//! O(log n) complete subtrees it needs, one query reads them, the plan assembles the proof.

use std::collections::HashMap;

use serde_json::{Value, json};
use tradeguard_store::Store;

use super::AuditLog;
use crate::AuditError;
use crate::merkle::{Hash, NodeId, ProofError, ProofPlan, verify_consistency, verify_inclusion};

/// An inclusion proof of entry `seq` in the tree of `tree_size` entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionProof {
    /// The entry.
    pub seq: u64,
    /// The tree size the proof is for.
    pub tree_size: u64,
    /// The entry's leaf hash.
    pub leaf: Hash,
    /// The audit path, bottom-up.
    pub hashes: Vec<Hash>,
}

impl InclusionProof {
    /// Checks the proof against a tree head (from a verified checkpoint of `tree_size`).
    pub fn verify(&self, root: &Hash) -> Result<(), ProofError> {
        verify_inclusion(self.seq, self.tree_size, &self.leaf, &self.hashes, root)
    }

    /// JSON form (hashes in base64, as in checkpoints).
    pub fn to_json(&self) -> Value {
        json!({
            "type": "inclusion",
            "seq": self.seq,
            "tree_size": self.tree_size,
            "leaf_hash": self.leaf.to_base64(),
            "proof": self.hashes.iter().map(Hash::to_base64).collect::<Vec<_>>(),
        })
    }
}

/// A consistency proof between tree sizes `size1` and `size2`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The older size.
    pub size1: u64,
    /// The newer size.
    pub size2: u64,
    /// The proof hashes.
    pub hashes: Vec<Hash>,
}

impl ConsistencyProof {
    /// Checks the proof against the two tree heads.
    pub fn verify(&self, root1: &Hash, root2: &Hash) -> Result<(), ProofError> {
        verify_consistency(self.size1, self.size2, &self.hashes, root1, root2)
    }

    /// JSON form (hashes in base64).
    pub fn to_json(&self) -> Value {
        json!({
            "type": "consistency",
            "size1": self.size1,
            "size2": self.size2,
            "proof": self.hashes.iter().map(Hash::to_base64).collect::<Vec<_>>(),
        })
    }
}

/// Reads the nodes a plan needs (one query) and assembles the proof.
pub(crate) async fn assemble(store: &Store, plan: &ProofPlan) -> Result<Vec<Hash>, AuditError> {
    let ids: Vec<(u8, u64)> = plan.node_ids().iter().map(|n| (n.level, n.index)).collect();
    let nodes: HashMap<NodeId, Hash> = store
        .audit_nodes(&ids)
        .await?
        .into_iter()
        .map(|n| (NodeId::new(n.level, n.index), Hash::new(n.hash)))
        .collect();
    Ok(plan.assemble(&nodes)?)
}

/// Checks that `size` is within the stored log.
async fn check_size(store: &Store, size: u64) -> Result<(), AuditError> {
    let stored = store.audit_size().await?;
    if size > stored {
        return Err(ProofError::SizeOrder {
            size1: size,
            size2: stored,
        }
        .into());
    }
    Ok(())
}

/// The inclusion proof of entry `seq` in the stored tree of `tree_size` entries.
pub async fn inclusion_proof(
    store: &Store,
    seq: u64,
    tree_size: u64,
) -> Result<InclusionProof, AuditError> {
    check_size(store, tree_size).await?;
    let plan = ProofPlan::inclusion(seq, tree_size)?;
    let leaf_plan_ids = [(0u8, seq)];
    let leaf = store
        .audit_nodes(&leaf_plan_ids)
        .await?
        .first()
        .map(|n| Hash::new(n.hash))
        .ok_or(ProofError::MissingNode {
            level: 0,
            index: seq,
        })?;
    Ok(InclusionProof {
        seq,
        tree_size,
        leaf,
        hashes: assemble(store, &plan).await?,
    })
}

/// The consistency proof between sizes `size1` and `size2` of the stored tree.
pub async fn consistency_proof(
    store: &Store,
    size1: u64,
    size2: u64,
) -> Result<ConsistencyProof, AuditError> {
    check_size(store, size2).await?;
    let plan = ProofPlan::consistency(size1, size2)?;
    Ok(ConsistencyProof {
        size1,
        size2,
        hashes: assemble(store, &plan).await?,
    })
}

/// The tree head of the first `size` stored entries.
pub async fn tree_head(store: &Store, size: u64) -> Result<Hash, AuditError> {
    check_size(store, size).await?;
    let ids = crate::merkle::range_nodes(0, size);
    let plan_ids: Vec<(u8, u64)> = ids.iter().map(|n| (n.level, n.index)).collect();
    let nodes: HashMap<NodeId, Hash> = store
        .audit_nodes(&plan_ids)
        .await?
        .into_iter()
        .map(|n| (NodeId::new(n.level, n.index), Hash::new(n.hash)))
        .collect();
    Ok(crate::merkle::tree_head(&nodes, size)?)
}

impl AuditLog {
    /// The inclusion proof of entry `seq` in the tree of `tree_size` entries.
    pub async fn inclusion_proof(
        &self,
        seq: u64,
        tree_size: u64,
    ) -> Result<InclusionProof, AuditError> {
        inclusion_proof(&self.store, seq, tree_size).await
    }

    /// The consistency proof between two tree sizes.
    pub async fn consistency_proof(
        &self,
        size1: u64,
        size2: u64,
    ) -> Result<ConsistencyProof, AuditError> {
        consistency_proof(&self.store, size1, size2).await
    }

    /// The tree head at any stored size.
    pub async fn tree_head(&self, size: u64) -> Result<Hash, AuditError> {
        tree_head(&self.store, size).await
    }
}
