-- 0003: the tamper-evident audit log (tradeguard-audit).
--
-- Portable SQL: this one file runs on SQLite and PostgreSQL (see src/lib.rs, "Writing SQL").
-- The log is append-only: entries and tree nodes are inserted, never updated or deleted.
-- `audit_head` holds the tree size; every append advances it with a compare-and-set in the
-- same transaction, so two writers (two gateway replicas) can never append the same entry.

-- One row per entry: its canonical JSON bytes, hashed as the Merkle leaf seq.
CREATE TABLE audit_entries (
    seq BIGINT NOT NULL,
    entry BYTEA NOT NULL,
    CONSTRAINT audit_entries_pkey PRIMARY KEY (seq),
    CONSTRAINT audit_entries_seq_nonneg CHECK (seq >= 0)
);

-- Hash of every complete subtree: node (level, idx) covers entries
-- [idx * 2^level, (idx + 1) * 2^level). Level 0 holds the leaf hashes.
CREATE TABLE audit_nodes (
    level BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    CONSTRAINT audit_nodes_pkey PRIMARY KEY (level, idx),
    CONSTRAINT audit_nodes_level_range CHECK (level >= 0 AND level < 64),
    CONSTRAINT audit_nodes_idx_nonneg CHECK (idx >= 0)
);

-- The tree size: a single row, advanced by compare-and-set on every append.
CREATE TABLE audit_head (
    id BIGINT NOT NULL,
    tree_size BIGINT NOT NULL,
    CONSTRAINT audit_head_pkey PRIMARY KEY (id),
    CONSTRAINT audit_head_single CHECK (id = 1),
    CONSTRAINT audit_head_size_nonneg CHECK (tree_size >= 0)
);
INSERT INTO audit_head (id, tree_size) VALUES (1, 0);

-- Signed checkpoints (C2SP signed notes), one per tree size.
CREATE TABLE audit_checkpoints (
    tree_size BIGINT NOT NULL,
    note TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    CONSTRAINT audit_checkpoints_pkey PRIMARY KEY (tree_size),
    CONSTRAINT audit_checkpoints_size_nonneg CHECK (tree_size >= 0)
);
