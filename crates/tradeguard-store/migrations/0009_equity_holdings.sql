-- 0009: the quantities behind each equity snapshot (0006), so `tradeguard serve` can infer
-- the external flows (deposits, withdrawals) between two snapshots of a scope, across
-- restarts too: a JSON object with when the balances were read (`read_at_ms`) and each held
-- asset's quantity (`quantities`, exact decimal strings); NULL for snapshots written before
-- this migration.
--
-- Portable SQL: this one file runs on SQLite and PostgreSQL (see src/lib.rs, "Writing SQL").

ALTER TABLE equity_snapshots ADD COLUMN holdings TEXT;
