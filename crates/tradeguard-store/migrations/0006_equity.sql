-- 0006: the equity history of `tradeguard serve`: one valuation per profile and per exchange
-- account after a poll, so the signed report can give returns, volatility and drawdowns.
--
-- Portable SQL: this one file runs on SQLite and PostgreSQL (see src/lib.rs, "Writing SQL").
-- Decimals are exact strings; `assets` is a JSON object of each held asset's value in `quote`
-- (the weights at that time); nothing secret is stored here.

CREATE TABLE equity_snapshots (
    scope_kind TEXT NOT NULL,
    scope TEXT NOT NULL,
    time_ms BIGINT NOT NULL,
    exchange TEXT NOT NULL,
    quote TEXT NOT NULL,
    value TEXT NOT NULL,
    flow TEXT NOT NULL,
    assets TEXT NOT NULL,
    CONSTRAINT equity_snapshots_pkey PRIMARY KEY (scope_kind, scope, time_ms),
    CONSTRAINT equity_snapshots_kind CHECK (scope_kind IN ('profile', 'account')),
    CONSTRAINT equity_snapshots_scope_length CHECK (length(scope) BETWEEN 1 AND 256)
);
-- Reports read every scope over a time range.
CREATE INDEX equity_snapshots_time ON equity_snapshots (time_ms);
