-- 0005: the gateway (tradeguard-gateway): principals, sessions, trading state, quorum
-- proposals and approvals, lockouts, order idempotency and two-step confirmations.
--
-- Portable SQL: this one file runs on SQLite and PostgreSQL (see src/lib.rs, "Writing SQL").
-- No secret is stored here: session and confirmation tokens are stored as SHA-256 hashes,
-- HMAC keys of shared-key principals live in the vault.

-- Who may talk to the gateway: a did:key (ed25519) or an HMAC key id (hmac-sha256).
-- Principals are revoked, never deleted, so sessions, approvals and the audit log keep
-- pointing at a row.
CREATE TABLE gw_principals (
    keyid TEXT NOT NULL,
    kind TEXT NOT NULL,
    scopes TEXT NOT NULL,
    label TEXT NOT NULL,
    revoked BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT,
    CONSTRAINT gw_principals_pkey PRIMARY KEY (keyid),
    CONSTRAINT gw_principals_kind CHECK (kind IN ('ed25519', 'hmac-sha256')),
    CONSTRAINT gw_principals_revoked_flag CHECK (revoked IN (0, 1)),
    CONSTRAINT gw_principals_keyid_length CHECK (length(keyid) BETWEEN 1 AND 256)
);

-- Bearer sessions: only the SHA-256 of the token is kept.
CREATE TABLE gw_sessions (
    token_hash BYTEA NOT NULL,
    principal TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    CONSTRAINT gw_sessions_pkey PRIMARY KEY (token_hash),
    CONSTRAINT gw_sessions_principal_fkey FOREIGN KEY (principal) REFERENCES gw_principals (keyid)
);
CREATE INDEX gw_sessions_expires ON gw_sessions (expires_ms);

-- ACTIVE / REDUCING / HALTED: one row, survives restarts.
CREATE TABLE gw_trading_state (
    id BIGINT NOT NULL,
    state TEXT NOT NULL,
    changed_ms BIGINT NOT NULL,
    changed_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    CONSTRAINT gw_trading_state_pkey PRIMARY KEY (id),
    CONSTRAINT gw_trading_state_single CHECK (id = 1),
    CONSTRAINT gw_trading_state_value CHECK (state IN ('active', 'reducing', 'halted'))
);
INSERT INTO gw_trading_state (id, state, changed_ms, changed_by, reason)
VALUES (1, 'active', 0, 'migration', 'initial state');

-- Quorum proposals: an action waiting for M approvals before it expires.
CREATE TABLE gw_proposals (
    id TEXT NOT NULL,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    proposer TEXT NOT NULL,
    required BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    status TEXT NOT NULL,
    decided_ms BIGINT,
    CONSTRAINT gw_proposals_pkey PRIMARY KEY (id),
    CONSTRAINT gw_proposals_status CHECK (status IN ('open', 'approved', 'expired', 'failed')),
    CONSTRAINT gw_proposals_required CHECK (required >= 1)
);

-- One row per distinct approver of a proposal; `evidence` keeps the approver's signature
-- headers (public data) for the audit trail.
CREATE TABLE gw_approvals (
    proposal_id TEXT NOT NULL,
    approver TEXT NOT NULL,
    approved_ms BIGINT NOT NULL,
    evidence TEXT NOT NULL,
    CONSTRAINT gw_approvals_pkey PRIMARY KEY (proposal_id, approver),
    CONSTRAINT gw_approvals_proposal_fkey FOREIGN KEY (proposal_id) REFERENCES gw_proposals (id)
);

-- Active lockouts after repeated authentication failures (`key:<keyid>` or `addr:<ip>`).
CREATE TABLE gw_lockouts (
    subject TEXT NOT NULL,
    locked_until_ms BIGINT NOT NULL,
    CONSTRAINT gw_lockouts_pkey PRIMARY KEY (subject)
);

-- POST /v1/orders is idempotent on client_order_id: the first request's hash and answer.
CREATE TABLE gw_order_requests (
    client_order_id TEXT NOT NULL,
    principal TEXT NOT NULL,
    request_hash BYTEA NOT NULL,
    status BIGINT NOT NULL,
    response TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    CONSTRAINT gw_order_requests_pkey PRIMARY KEY (client_order_id)
);

-- Two-step orders: one-time confirmation tokens (hashed), for one principal, short-lived.
CREATE TABLE gw_confirmations (
    token_hash BYTEA NOT NULL,
    principal TEXT NOT NULL,
    request TEXT NOT NULL,
    expires_ms BIGINT NOT NULL,
    CONSTRAINT gw_confirmations_pkey PRIMARY KEY (token_hash)
);
