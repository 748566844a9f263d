//! The audit log tables (migration 0003): entries, Merkle tree nodes, the head (tree size)
//! and signed checkpoints. Used by `tradeguard-audit`, which owns the formats; this module
//! only stores bytes and never interprets them.
//!
//! Appends are batched multi-row inserts guarded by a compare-and-set on `audit_head`, so an
//! append either lands whole at the expected position or fails with
//! [`StoreError::Constraint`] (`audit_head` moved: another writer appended; reload and retry).

use futures_util::TryStreamExt;
use sqlx::AnyConnection;

use crate::row::RowDecoder;
use crate::{Result, Store, StoreError, Tx};

/// Rows per multi-row INSERT (3 parameters each; well under both backends' limits).
const INSERT_CHUNK: usize = 300;

/// The hash of one complete subtree of the audit tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditNode {
    /// Height above the leaves (0 = leaf hash).
    pub level: u8,
    /// Position within the level.
    pub index: u64,
    /// SHA-256 hash.
    pub hash: [u8; 32],
}

/// One stored entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntryRow {
    /// Sequence number (leaf index).
    pub seq: u64,
    /// The entry's canonical bytes.
    pub entry: Vec<u8>,
}

/// One stored checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditCheckpointRow {
    /// The tree size it signs.
    pub tree_size: u64,
    /// The signed note.
    pub note: String,
    /// When it was made, Unix milliseconds.
    pub created_ms: i64,
}

fn to_i64(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Config {
        reason: format!("{what} beyond 2^63"),
    })
}

impl Tx {
    /// Appends `entries` as seq `expected_size ..`, with the tree `nodes` they complete, and
    /// advances the head from `expected_size`. The head row is compared and set first, so a
    /// concurrent writer makes this fail with [`StoreError::Constraint`] on `audit_head`
    /// before anything is written. Commit the transaction to make it durable.
    pub async fn audit_append(
        &mut self,
        expected_size: u64,
        entries: &[Vec<u8>],
        nodes: &[AuditNode],
    ) -> Result<()> {
        let new_size = expected_size
            .checked_add(entries.len() as u64)
            .ok_or_else(|| StoreError::Config {
                reason: "audit log size overflow".into(),
            })?;
        let done = advance_head(
            self.conn(),
            to_i64(expected_size, "size")?,
            to_i64(new_size, "size")?,
        )
        .await;
        if !done.map_err(|e| self.err(e))? {
            return Err(StoreError::Constraint {
                kind: crate::ConstraintKind::Check,
                constraint: "audit_head".into(),
            });
        }
        for (i, chunk) in entries.chunks(INSERT_CHUNK).enumerate() {
            let first = expected_size + (i * INSERT_CHUNK) as u64;
            let done = insert_entries(self.conn(), first, chunk).await;
            done.map_err(|e| self.err(e))?;
        }
        for chunk in nodes.chunks(INSERT_CHUNK) {
            let done = insert_nodes(self.conn(), chunk).await;
            done.map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Stores a signed checkpoint for `tree_size`, keeping the first one stored for a size.
    pub async fn audit_insert_checkpoint(
        &mut self,
        tree_size: u64,
        note: &str,
        created_ms: i64,
    ) -> Result<()> {
        let size = to_i64(tree_size, "tree size")?;
        let done = sqlx::query(
            "INSERT INTO audit_checkpoints (tree_size, note, created_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (tree_size) DO NOTHING",
        )
        .bind(size)
        .bind(note)
        .bind(created_ms)
        .execute(self.conn())
        .await;
        done.map(drop).map_err(|e| self.err(e))
    }
}

async fn advance_head(
    conn: &mut AnyConnection,
    from: i64,
    to: i64,
) -> std::result::Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE audit_head SET tree_size = $1 WHERE id = 1 AND tree_size = $2")
        .bind(to)
        .bind(from)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

async fn insert_entries(
    conn: &mut AnyConnection,
    first: u64,
    chunk: &[Vec<u8>],
) -> std::result::Result<(), sqlx::Error> {
    let values: Vec<String> = (0..chunk.len())
        .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let sql = format!(
        "INSERT INTO audit_entries (seq, entry) VALUES {}",
        values.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (i, entry) in chunk.iter().enumerate() {
        // Sizes are below 2^63 (checked by the caller's head arithmetic).
        q = q
            .bind(i64::try_from(first + i as u64).unwrap_or(i64::MAX))
            .bind(entry.as_slice());
    }
    q.execute(conn).await.map(drop)
}

async fn insert_nodes(
    conn: &mut AnyConnection,
    chunk: &[AuditNode],
) -> std::result::Result<(), sqlx::Error> {
    let values: Vec<String> = (0..chunk.len())
        .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
        .collect();
    let sql = format!(
        "INSERT INTO audit_nodes (level, idx, hash) VALUES {}",
        values.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for n in chunk {
        q = q
            .bind(i64::from(n.level))
            .bind(i64::try_from(n.index).unwrap_or(i64::MAX))
            .bind(n.hash.as_slice());
    }
    q.execute(conn).await.map(drop)
}

impl Store {
    /// [`Tx::audit_append`] in its own transaction, committed before this returns.
    pub async fn audit_append(
        &self,
        expected_size: u64,
        entries: &[Vec<u8>],
        nodes: &[AuditNode],
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.audit_append(expected_size, entries, nodes).await?;
        tx.commit().await
    }

    /// [`Tx::audit_insert_checkpoint`] in its own transaction.
    pub async fn audit_insert_checkpoint(
        &self,
        tree_size: u64,
        note: &str,
        created_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.audit_insert_checkpoint(tree_size, note, created_ms)
            .await?;
        tx.commit().await
    }

    /// The tree size recorded in the head.
    pub async fn audit_size(&self) -> Result<u64> {
        let mut conn = self.acquire().await?;
        let row = sqlx::query("SELECT tree_size FROM audit_head WHERE id = 1")
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NotFound {
                what: "audit_head row (migration 0003)".into(),
            })?;
        RowDecoder::new(&row, "audit_head", "1").int("tree_size")
    }

    /// The stored nodes among `ids` (level, index); missing ones are simply absent.
    pub async fn audit_nodes(&self, ids: &[(u8, u64)]) -> Result<Vec<AuditNode>> {
        let mut out = Vec::with_capacity(ids.len());
        let mut conn = self.acquire().await?;
        for chunk in ids.chunks(INSERT_CHUNK) {
            let cond: Vec<String> = (0..chunk.len())
                .map(|i| format!("(level = ${} AND idx = ${})", 2 * i + 1, 2 * i + 2))
                .collect();
            let sql = format!(
                "SELECT level, idx, hash FROM audit_nodes WHERE {}",
                cond.join(" OR ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (level, index) in chunk {
                q = q
                    .bind(i64::from(*level))
                    .bind(to_i64(*index, "node index")?);
            }
            let rows = q.fetch_all(&mut *conn).await.map_err(|e| self.err(e))?;
            for row in &rows {
                out.push(decode_node(row)?);
            }
        }
        Ok(out)
    }

    /// Up to `limit` nodes of `level` from index `from`, in index order (for verification).
    pub async fn audit_nodes_range(
        &self,
        level: u8,
        from: u64,
        limit: u32,
    ) -> Result<Vec<AuditNode>> {
        let mut conn = self.acquire().await?;
        let rows = sqlx::query("SELECT level, idx, hash FROM audit_nodes WHERE level = $1 AND idx >= $2 ORDER BY idx LIMIT $3")
            .bind(i64::from(level))
            .bind(to_i64(from, "node index")?)
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
        rows.iter().map(decode_node).collect()
    }

    /// Calls `visit` with every stored node, in storage order (one sequential scan, streamed:
    /// far faster than reading by key when the whole table is checked; no order promised).
    pub async fn audit_scan_nodes(&self, mut visit: impl FnMut(AuditNode)) -> Result<()> {
        let mut conn = self.acquire().await?;
        let mut rows = sqlx::query("SELECT level, idx, hash FROM audit_nodes").fetch(&mut *conn);
        while let Some(row) = rows.try_next().await.map_err(|e| self.err(e))? {
            visit(decode_node(&row)?);
        }
        Ok(())
    }

    /// Up to `limit` entries from seq `from`, in seq order.
    pub async fn audit_entries(&self, from: u64, limit: u32) -> Result<Vec<AuditEntryRow>> {
        let mut conn = self.acquire().await?;
        let rows = sqlx::query(
            "SELECT seq, entry FROM audit_entries WHERE seq >= $1 ORDER BY seq LIMIT $2",
        )
        .bind(to_i64(from, "seq")?)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|row| {
                let d = RowDecoder::new(row, "audit_entries", "?");
                Ok(AuditEntryRow {
                    seq: d.int("seq")?,
                    entry: d.bytes("entry")?,
                })
            })
            .collect()
    }

    /// Every stored checkpoint, smallest tree size first.
    pub async fn audit_checkpoints(&self) -> Result<Vec<AuditCheckpointRow>> {
        self.checkpoint_query(
            "SELECT tree_size, note, created_ms FROM audit_checkpoints ORDER BY tree_size",
        )
        .await
    }

    /// The checkpoint with the largest tree size, if any.
    pub async fn audit_latest_checkpoint(&self) -> Result<Option<AuditCheckpointRow>> {
        let sql = "SELECT tree_size, note, created_ms FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1";
        Ok(self.checkpoint_query(sql).await?.pop())
    }

    /// The checkpoint stored for exactly `tree_size`, if any.
    pub async fn audit_checkpoint_at(&self, tree_size: u64) -> Result<Option<AuditCheckpointRow>> {
        let mut conn = self.acquire().await?;
        let row = sqlx::query(
            "SELECT tree_size, note, created_ms FROM audit_checkpoints WHERE tree_size = $1",
        )
        .bind(to_i64(tree_size, "tree size")?)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| self.err(e))?;
        row.as_ref().map(decode_checkpoint).transpose()
    }

    async fn checkpoint_query(&self, sql: &'static str) -> Result<Vec<AuditCheckpointRow>> {
        let mut conn = self.acquire().await?;
        let rows = sqlx::query(sql)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
        rows.iter().map(decode_checkpoint).collect()
    }
}

fn decode_node(row: &sqlx::any::AnyRow) -> Result<AuditNode> {
    let d = RowDecoder::new(row, "audit_nodes", "?");
    let hash = d.bytes("hash")?;
    Ok(AuditNode {
        level: d.int("level")?,
        index: d.int("idx")?,
        hash: hash
            .try_into()
            .map_err(|_| d.corrupt("hash", "must be 32 bytes".into()))?,
    })
}

fn decode_checkpoint(row: &sqlx::any::AnyRow) -> Result<AuditCheckpointRow> {
    let d = RowDecoder::new(row, "audit_checkpoints", "?");
    Ok(AuditCheckpointRow {
        tree_size: d.int("tree_size")?,
        note: d.text("note")?,
        created_ms: d.i64("created_ms")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(level: u8, index: u64) -> AuditNode {
        AuditNode {
            level,
            index,
            hash: [level ^ index as u8; 32],
        }
    }

    crate::backend_tests! {
        /// Appends land in order, the head moves only by compare-and-set, nodes and
        /// checkpoints read back.
        async fn audit_append_and_read_back(store) {
            assert_eq!(store.audit_size().await.unwrap(), 0);
            let entries: Vec<Vec<u8>> = (0..700u32).map(|i| i.to_be_bytes().to_vec()).collect();
            let nodes: Vec<AuditNode> = (0..700).map(|i| node(0, i)).collect();
            store.audit_append(0, &entries, &nodes).await.unwrap();
            assert_eq!(store.audit_size().await.unwrap(), 700);
            // A writer that thinks the log is shorter is refused and writes nothing.
            let stale = store.audit_append(0, &entries[..1], &[node(1, 0)]).await.unwrap_err();
            assert!(matches!(stale, StoreError::Constraint { ref constraint, .. } if constraint == "audit_head"));
            assert_eq!(store.audit_size().await.unwrap(), 700);
            assert!(store.audit_nodes(&[(1, 0)]).await.unwrap().is_empty());
            let got = store.audit_entries(698, 10).await.unwrap();
            assert_eq!(got.iter().map(|r| r.seq).collect::<Vec<_>>(), [698, 699]);
            assert_eq!(got[1].entry, 699u32.to_be_bytes());
            let mut read = store.audit_nodes(&[(0, 5), (0, 699), (3, 1)]).await.unwrap();
            read.sort_by_key(|n| n.index);
            assert_eq!(read, [node(0, 5), node(0, 699)]);
            assert_eq!(store.audit_nodes_range(0, 690, 5).await.unwrap().len(), 5);
            let mut scanned = Vec::new();
            store.audit_scan_nodes(|n| scanned.push(n)).await.unwrap();
            scanned.sort_by_key(|n| n.index);
            assert_eq!(scanned, nodes);
            store.audit_insert_checkpoint(700, "note a", 1).await.unwrap();
            store.audit_insert_checkpoint(700, "note b", 2).await.unwrap();
            store.audit_insert_checkpoint(3, "note c", 3).await.unwrap();
            let cps = store.audit_checkpoints().await.unwrap();
            assert_eq!(cps.iter().map(|c| c.tree_size).collect::<Vec<_>>(), [3, 700]);
            assert_eq!(store.audit_latest_checkpoint().await.unwrap().unwrap().note, "note a");
            assert_eq!(store.audit_checkpoint_at(3).await.unwrap().unwrap().created_ms, 3);
        }
    }
}
