-- 0007: the price marks of `tradeguard serve`: the last price of each asset, in a quote asset,
-- at which an equity snapshot (0006) was valued, so the signed report can correlate the
-- assets' returns over any window.
--
-- Portable SQL: this one file runs on SQLite and PostgreSQL (see src/lib.rs, "Writing SQL").
-- Prices are exact decimal strings; nothing secret is stored here.

CREATE TABLE price_marks (
    quote TEXT NOT NULL,
    asset TEXT NOT NULL,
    time_ms BIGINT NOT NULL,
    price TEXT NOT NULL,
    CONSTRAINT price_marks_pkey PRIMARY KEY (quote, asset, time_ms),
    CONSTRAINT price_marks_quote_length CHECK (length(quote) BETWEEN 1 AND 64),
    CONSTRAINT price_marks_asset_length CHECK (length(asset) BETWEEN 1 AND 64)
);
-- Reports read every asset of one quote over a time range.
CREATE INDEX price_marks_quote_time ON price_marks (quote, time_ms);
