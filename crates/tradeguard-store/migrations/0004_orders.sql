-- 0004: the exchange order ledger and the poller's snapshots (tradeguard-exchange).
--
-- Portable SQL: this one file runs on SQLite and PostgreSQL (see src/lib.rs, "Writing SQL").
-- Every order is inserted under its client order id *before* it is sent to the exchange;
-- updates are compare-and-set on `version`, so two writers (the order path and the poller, or
-- two gateway replicas) never overwrite each other's transition. Decimals are exact strings;
-- the request and the fills are JSON owned by tradeguard-exchange.

CREATE TABLE exchange_orders (
    account TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    exchange TEXT NOT NULL,
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    exchange_order_id TEXT,
    filled_quantity TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    sent_ms BIGINT,
    updated_ms BIGINT NOT NULL,
    last_error TEXT,
    version BIGINT NOT NULL,
    CONSTRAINT exchange_orders_pkey PRIMARY KEY (account, client_order_id),
    CONSTRAINT exchange_orders_state CHECK (state IN
        ('new', 'sent', 'acknowledged', 'unknown', 'rejected', 'filled', 'cancelled')),
    CONSTRAINT exchange_orders_version_positive CHECK (version > 0)
);

-- Reconciliation reads the orders not yet final; fills find their order by exchange id.
CREATE INDEX exchange_orders_state_idx ON exchange_orders (account, state);
CREATE INDEX exchange_orders_exchange_id_idx ON exchange_orders (account, exchange_order_id);

-- One row per fill (trade), whoever saw it first (the ledger or the poller).
CREATE TABLE exchange_fills (
    account TEXT NOT NULL,
    trade_id TEXT NOT NULL,
    symbol TEXT NOT NULL,
    exchange_order_id TEXT NOT NULL,
    client_order_id TEXT,
    time_ms BIGINT NOT NULL,
    fill TEXT NOT NULL,
    CONSTRAINT exchange_fills_pkey PRIMARY KEY (account, trade_id)
);

CREATE INDEX exchange_fills_time_idx ON exchange_fills (account, symbol, time_ms);

-- The poller's latest snapshot of each kind per account (balances, open orders, status).
CREATE TABLE exchange_snapshots (
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    body TEXT NOT NULL,
    CONSTRAINT exchange_snapshots_pkey PRIMARY KEY (account, kind),
    CONSTRAINT exchange_snapshots_kind CHECK (kind IN ('balances', 'open_orders', 'status'))
);
