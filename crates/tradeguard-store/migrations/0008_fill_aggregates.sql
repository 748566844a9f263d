-- 0008: aggregated-only mode of `tradeguard serve` ([analytics] aggregated_only): once a
-- fill's order is final, the fill is folded into per-day totals and its row in
-- exchange_fills (0004) is deleted.
--
-- Portable SQL: this one file runs on SQLite and PostgreSQL (see src/lib.rs, "Writing SQL").
-- Decimals are exact strings. What stays of a folded fill:
-- - fill_aggregates: its account's totals for the UTC day (trades, volume, fees) in the
--   report's base currency (`quote`), which the signed report reads. A row changes only by
--   compare-and-set on `version`.
-- - fill_tombstones: the HMAC of its trade id under the installation's audit key (the same
--   searchable value the audit log's `order.filled` holds), so the same trade polled again
--   is not counted twice.
-- - fill_cursors: the newest folded fill time per account and pair, so the poller's cursor
--   does not go back once the rows it was computed from are gone.

CREATE TABLE fill_aggregates (
    account TEXT NOT NULL,
    profile TEXT NOT NULL,
    day BIGINT NOT NULL,
    exchange TEXT NOT NULL,
    quote TEXT NOT NULL,
    trade_count BIGINT NOT NULL,
    volume TEXT NOT NULL,
    fees TEXT NOT NULL,
    first_fill_ms BIGINT NOT NULL,
    last_fill_ms BIGINT NOT NULL,
    version BIGINT NOT NULL,
    CONSTRAINT fill_aggregates_pkey PRIMARY KEY (account, profile, day, quote),
    CONSTRAINT fill_aggregates_count CHECK (trade_count > 0),
    CONSTRAINT fill_aggregates_version_positive CHECK (version > 0)
);
-- Reports read every account over a range of days.
CREATE INDEX fill_aggregates_day ON fill_aggregates (day);

CREATE TABLE fill_tombstones (
    account TEXT NOT NULL,
    trade_digest TEXT NOT NULL,
    CONSTRAINT fill_tombstones_pkey PRIMARY KEY (account, trade_digest)
);

CREATE TABLE fill_cursors (
    account TEXT NOT NULL,
    symbol TEXT NOT NULL,
    time_ms BIGINT NOT NULL,
    CONSTRAINT fill_cursors_pkey PRIMARY KEY (account, symbol)
);
