-- 0002: the credential vault (tradeguard-vault).
--
-- Portable SQL: this one file runs on SQLite and PostgreSQL (see src/lib.rs, "Writing SQL").
-- Nothing here is secret in clear: keys and credentials are stored only as AES-256-GCM
-- ciphertexts (nonce + ciphertext||tag). The vault owns every format; this crate stores bytes.
--
-- Key hierarchy: passphrase --Argon2id--> master key --> versioned key-encryption keys (KEKs)
-- --> one random data key per credential --> the credential's secret fields.

-- The passphrase KDF (one row): Argon2id parameters and salt, and a check value (an HMAC
-- under a key derived from the master key) that tells a wrong passphrase from a right one.
CREATE TABLE vault_params (
    id BIGINT NOT NULL,
    kdf TEXT NOT NULL,
    m_cost_kib BIGINT NOT NULL,
    t_cost BIGINT NOT NULL,
    p_cost BIGINT NOT NULL,
    salt BYTEA NOT NULL,
    check_value BYTEA NOT NULL,
    created_ms BIGINT NOT NULL,
    CONSTRAINT vault_params_pkey PRIMARY KEY (id),
    CONSTRAINT vault_params_single CHECK (id = 1)
);

-- Key-encryption keys, wrapped under the master key. Exactly one is current (retired_ms NULL);
-- a rotation retires it and destroys its wrapped bytes (NULL) in the same transaction that
-- re-wraps every data key under the next version. wrap_count counts data keys wrapped under
-- it; imports bump it, which also locks the row against a concurrent rotation.
CREATE TABLE vault_keks (
    version BIGINT NOT NULL,
    nonce BYTEA,
    wrapped_key BYTEA,
    created_ms BIGINT NOT NULL,
    retired_ms BIGINT,
    wrap_count BIGINT NOT NULL,
    CONSTRAINT vault_keks_pkey PRIMARY KEY (version),
    CONSTRAINT vault_keks_version_positive CHECK (version >= 1)
);

-- Sealed credentials: metadata in clear, the secret fields under a per-credential data key,
-- the data key wrapped under KEK kek_version. key_fp is an HMAC of the API key under a key
-- derived from the master key (duplicate detection without storing the key).
CREATE TABLE vault_credentials (
    id TEXT NOT NULL,
    exchange TEXT NOT NULL,
    profile TEXT NOT NULL,
    label TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    kek_version BIGINT NOT NULL,
    key_fp BYTEA NOT NULL,
    dk_nonce BYTEA NOT NULL,
    wrapped_dk BYTEA NOT NULL,
    nonce BYTEA NOT NULL,
    ciphertext BYTEA NOT NULL,
    CONSTRAINT vault_credentials_pkey PRIMARY KEY (id),
    CONSTRAINT vault_credentials_key_fp_key UNIQUE (key_fp),
    CONSTRAINT vault_credentials_kek_fkey FOREIGN KEY (kek_version) REFERENCES vault_keks (version)
);
CREATE INDEX vault_credentials_kek_idx ON vault_credentials (kek_version);

-- The gateway's own private keys (HPKE X25519 and X-Wing, Ed25519 signing), sealed under the
-- master key; the public key is in clear so `tradeguard keys` works without the passphrase.
CREATE TABLE vault_gateway_keys (
    name TEXT NOT NULL,
    public_key BYTEA NOT NULL,
    nonce BYTEA NOT NULL,
    sealed BYTEA NOT NULL,
    created_ms BIGINT NOT NULL,
    CONSTRAINT vault_gateway_keys_pkey PRIMARY KEY (name)
);
