-- 0001: installation-level key/value settings (installation id, format versions).
--
-- Portable SQL: this one file runs on SQLite and PostgreSQL (see src/lib.rs, "Writing SQL").
-- Keys are short identifiers checked by `MetaKey`; the CHECK repeats the length rule so a
-- row written by other means cannot break it.
CREATE TABLE meta (
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    CONSTRAINT meta_pkey PRIMARY KEY (key),
    CONSTRAINT meta_key_length CHECK (length(key) BETWEEN 1 AND 128)
);
