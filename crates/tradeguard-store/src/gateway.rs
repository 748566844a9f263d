//! The gateway's tables (migration 0005): principals, sessions, the trading state, quorum
//! proposals and approvals, lockouts, order idempotency records and two-step confirmations.
//! Used by `tradeguard-gateway`, which owns the meaning of every column; no secret is stored
//! (tokens as SHA-256 hashes only).

use sqlx::any::AnyRow;

use crate::row::RowDecoder;
use crate::{Result, Store, StoreError, Tx};

/// A stored principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalRow {
    /// `did:key:...` or an HMAC key id.
    pub keyid: String,
    /// `ed25519` or `hmac-sha256`.
    pub kind: String,
    /// Comma-separated scope names.
    pub scopes: String,
    /// Operator's label.
    pub label: String,
    /// Revoked principals are refused.
    pub revoked: bool,
    /// When added, Unix ms.
    pub created_ms: i64,
    /// When revoked, Unix ms.
    pub revoked_ms: Option<i64>,
}

/// A stored session (the token itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// SHA-256 of the bearer token.
    pub token_hash: Vec<u8>,
    /// The principal's key id.
    pub principal: String,
    /// Issued, Unix ms.
    pub created_ms: i64,
    /// Expires, Unix ms.
    pub expires_ms: i64,
}

/// The trading state row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradingStateRow {
    /// `active`, `reducing` or `halted`.
    pub state: String,
    /// When it last changed, Unix ms.
    pub changed_ms: i64,
    /// Who changed it (a key id, or `migration`).
    pub changed_by: String,
    /// Why.
    pub reason: String,
}

/// A quorum proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalRow {
    /// Random id.
    pub id: String,
    /// The action (`resume`, `principal-change`, ...).
    pub action: String,
    /// JSON describing the change.
    pub payload: String,
    /// Who proposed it.
    pub proposer: String,
    /// Approvals needed.
    pub required: i64,
    /// Created, Unix ms.
    pub created_ms: i64,
    /// Expires, Unix ms.
    pub expires_ms: i64,
    /// `open`, `approved`, `expired` or `failed`.
    pub status: String,
    /// When approved/expired/failed.
    pub decided_ms: Option<i64>,
}

/// One approval of a proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRow {
    /// The proposal.
    pub proposal_id: String,
    /// The approver's key id.
    pub approver: String,
    /// When, Unix ms.
    pub approved_ms: i64,
    /// The approver's signature headers (public).
    pub evidence: String,
}

/// The first answer to an idempotent order request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequestRow {
    /// The client's idempotency key.
    pub client_order_id: String,
    /// Who sent it.
    pub principal: String,
    /// SHA-256 of the canonical request.
    pub request_hash: Vec<u8>,
    /// HTTP status of the answer; 0 while the request is in flight.
    pub status: i64,
    /// The JSON answer.
    pub response: String,
    /// Received, Unix ms.
    pub created_ms: i64,
}

/// A pending two-step order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmationRow {
    /// SHA-256 of the one-time token.
    pub token_hash: Vec<u8>,
    /// The only principal that may confirm.
    pub principal: String,
    /// The order request, JSON.
    pub request: String,
    /// Expiry, Unix ms.
    pub expires_ms: i64,
}

fn flag(b: bool) -> i64 {
    i64::from(b)
}

fn decode_principal(row: &AnyRow) -> Result<PrincipalRow> {
    let d = RowDecoder::new(row, "gw_principals", "?");
    Ok(PrincipalRow {
        keyid: d.text("keyid")?,
        kind: d.text("kind")?,
        scopes: d.text("scopes")?,
        label: d.text("label")?,
        revoked: d.flag("revoked")?,
        created_ms: d.i64("created_ms")?,
        revoked_ms: d.opt_i64("revoked_ms")?,
    })
}

fn decode_proposal(row: &AnyRow) -> Result<ProposalRow> {
    let d = RowDecoder::new(row, "gw_proposals", "?");
    Ok(ProposalRow {
        id: d.text("id")?,
        action: d.text("action")?,
        payload: d.text("payload")?,
        proposer: d.text("proposer")?,
        required: d.i64("required")?,
        created_ms: d.i64("created_ms")?,
        expires_ms: d.i64("expires_ms")?,
        status: d.text("status")?,
        decided_ms: d.opt_i64("decided_ms")?,
    })
}

const PRINCIPAL_COLS: &str = "keyid, kind, scopes, label, revoked, created_ms, revoked_ms";
const PROPOSAL_COLS: &str =
    "id, action, payload, proposer, required, created_ms, expires_ms, status, decided_ms";

impl Store {
    async fn rows(
        &self,
        q: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<Vec<AnyRow>> {
        let mut conn = self.acquire().await?;
        q.fetch_all(&mut *conn).await.map_err(|e| self.err(e))
    }

    async fn exec(
        &self,
        q: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<u64> {
        let mut conn = self.acquire().await?;
        let r = q.execute(&mut *conn).await.map_err(|e| self.err(e))?;
        Ok(r.rows_affected())
    }

    /// Adds a principal, or replaces its kind, scopes and label (and un-revokes it).
    pub async fn gw_principal_upsert(&self, p: &PrincipalRow) -> Result<()> {
        let sql = format!(
            "INSERT INTO gw_principals ({PRINCIPAL_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (keyid) DO UPDATE SET kind = excluded.kind, scopes = excluded.scopes, \
             label = excluded.label, revoked = excluded.revoked, revoked_ms = excluded.revoked_ms"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(p.keyid.as_str())
            .bind(p.kind.as_str())
            .bind(p.scopes.as_str())
            .bind(p.label.as_str())
            .bind(flag(p.revoked))
            .bind(p.created_ms)
            .bind(p.revoked_ms);
        self.exec(q).await.map(drop)
    }

    /// Every principal, revoked ones included, by key id.
    pub async fn gw_principals(&self) -> Result<Vec<PrincipalRow>> {
        let sql = format!("SELECT {PRINCIPAL_COLS} FROM gw_principals ORDER BY keyid");
        let rows = self.rows(sqlx::query(sqlx::AssertSqlSafe(sql))).await?;
        rows.iter().map(decode_principal).collect()
    }

    /// One principal.
    pub async fn gw_principal(&self, keyid: &str) -> Result<Option<PrincipalRow>> {
        let sql = format!("SELECT {PRINCIPAL_COLS} FROM gw_principals WHERE keyid = $1");
        let rows = self
            .rows(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(keyid))
            .await?;
        rows.first().map(decode_principal).transpose()
    }

    /// Revokes a principal and ends its sessions; false when it does not exist or already was.
    pub async fn gw_principal_revoke(&self, keyid: &str, now_ms: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE gw_principals SET revoked = 1, revoked_ms = $2 WHERE keyid = $1 AND revoked = 0",
        )
        .bind(keyid)
        .bind(now_ms)
        .execute(tx.conn())
        .await;
        let changed = done.map_err(|e| tx.err(e))?.rows_affected() == 1;
        let done = sqlx::query("DELETE FROM gw_sessions WHERE principal = $1")
            .bind(keyid)
            .execute(tx.conn())
            .await;
        done.map_err(|e| tx.err(e))?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Stores a new session.
    pub async fn gw_session_insert(&self, s: &SessionRow) -> Result<()> {
        let q = sqlx::query(
            "INSERT INTO gw_sessions (token_hash, principal, created_ms, expires_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(s.token_hash.as_slice())
        .bind(s.principal.as_str())
        .bind(s.created_ms)
        .bind(s.expires_ms);
        self.exec(q).await.map(drop)
    }

    /// The live session with this token hash (expired ones are not returned).
    pub async fn gw_session(&self, token_hash: &[u8], now_ms: i64) -> Result<Option<SessionRow>> {
        let q = sqlx::query(
            "SELECT token_hash, principal, created_ms, expires_ms FROM gw_sessions \
             WHERE token_hash = $1 AND expires_ms > $2",
        )
        .bind(token_hash)
        .bind(now_ms);
        let rows = self.rows(q).await?;
        rows.first()
            .map(|row| {
                let d = RowDecoder::new(row, "gw_sessions", "?");
                Ok(SessionRow {
                    token_hash: d.bytes("token_hash")?,
                    principal: d.text("principal")?,
                    created_ms: d.i64("created_ms")?,
                    expires_ms: d.i64("expires_ms")?,
                })
            })
            .transpose()
    }

    /// How many sessions are live at `now_ms` (the gateway's `/metrics` gauge).
    pub async fn gw_sessions_live(&self, now_ms: i64) -> Result<u64> {
        let q =
            sqlx::query("SELECT COUNT(*) AS n FROM gw_sessions WHERE expires_ms > $1").bind(now_ms);
        let rows = self.rows(q).await?;
        match rows.first() {
            Some(row) => RowDecoder::new(row, "gw_sessions", "?").int("n"),
            None => Ok(0),
        }
    }

    /// Ends every session (the halt); returns how many.
    pub async fn gw_sessions_delete_all(&self) -> Result<u64> {
        self.exec(sqlx::query("DELETE FROM gw_sessions")).await
    }

    /// Deletes sessions expired at `now_ms`; returns how many.
    pub async fn gw_sessions_delete_expired(&self, now_ms: i64) -> Result<u64> {
        self.exec(sqlx::query("DELETE FROM gw_sessions WHERE expires_ms <= $1").bind(now_ms))
            .await
    }

    /// The trading state.
    pub async fn gw_trading_state(&self) -> Result<TradingStateRow> {
        let q = sqlx::query(
            "SELECT state, changed_ms, changed_by, reason FROM gw_trading_state WHERE id = 1",
        );
        let rows = self.rows(q).await?;
        let row = rows.first().ok_or_else(|| StoreError::NotFound {
            what: "gw_trading_state row (migration 0005)".into(),
        })?;
        let d = RowDecoder::new(row, "gw_trading_state", "1");
        Ok(TradingStateRow {
            state: d.text("state")?,
            changed_ms: d.i64("changed_ms")?,
            changed_by: d.text("changed_by")?,
            reason: d.text("reason")?,
        })
    }

    /// Sets the trading state (durable when this returns).
    pub async fn gw_set_trading_state(&self, s: &TradingStateRow) -> Result<()> {
        let q = sqlx::query(
            "UPDATE gw_trading_state SET state = $1, changed_ms = $2, changed_by = $3, reason = $4 WHERE id = 1",
        )
        .bind(s.state.as_str())
        .bind(s.changed_ms)
        .bind(s.changed_by.as_str())
        .bind(s.reason.as_str());
        self.exec(q).await.map(drop)
    }

    /// Records an active lockout (extends an existing one).
    pub async fn gw_lockout_put(&self, subject: &str, until_ms: i64) -> Result<()> {
        let q = sqlx::query(
            "INSERT INTO gw_lockouts (subject, locked_until_ms) VALUES ($1, $2) \
             ON CONFLICT (subject) DO UPDATE SET locked_until_ms = excluded.locked_until_ms",
        )
        .bind(subject)
        .bind(until_ms);
        self.exec(q).await.map(drop)
    }

    /// Lockouts still active at `now_ms`: (subject, until).
    pub async fn gw_lockouts_active(&self, now_ms: i64) -> Result<Vec<(String, i64)>> {
        let q = sqlx::query(
            "SELECT subject, locked_until_ms FROM gw_lockouts WHERE locked_until_ms > $1",
        )
        .bind(now_ms);
        let rows = self.rows(q).await?;
        rows.iter()
            .map(|row| {
                let d = RowDecoder::new(row, "gw_lockouts", "?");
                Ok((d.text("subject")?, d.i64("locked_until_ms")?))
            })
            .collect()
    }

    /// Stores a new proposal.
    pub async fn gw_proposal_insert(&self, p: &ProposalRow) -> Result<()> {
        let sql = format!(
            "INSERT INTO gw_proposals ({PROPOSAL_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(p.id.as_str())
            .bind(p.action.as_str())
            .bind(p.payload.as_str())
            .bind(p.proposer.as_str())
            .bind(p.required)
            .bind(p.created_ms)
            .bind(p.expires_ms)
            .bind(p.status.as_str())
            .bind(p.decided_ms);
        self.exec(q).await.map(drop)
    }

    /// One proposal.
    pub async fn gw_proposal(&self, id: &str) -> Result<Option<ProposalRow>> {
        let sql = format!("SELECT {PROPOSAL_COLS} FROM gw_proposals WHERE id = $1");
        let rows = self
            .rows(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id))
            .await?;
        rows.first().map(decode_proposal).transpose()
    }

    /// Proposals still open, oldest first.
    pub async fn gw_proposals_open(&self) -> Result<Vec<ProposalRow>> {
        let sql = format!(
            "SELECT {PROPOSAL_COLS} FROM gw_proposals WHERE status = 'open' ORDER BY created_ms, id"
        );
        let rows = self.rows(sqlx::query(sqlx::AssertSqlSafe(sql))).await?;
        rows.iter().map(decode_proposal).collect()
    }

    /// The approvals of a proposal, oldest first.
    pub async fn gw_approvals(&self, proposal_id: &str) -> Result<Vec<ApprovalRow>> {
        let q = sqlx::query(
            "SELECT proposal_id, approver, approved_ms, evidence FROM gw_approvals \
             WHERE proposal_id = $1 ORDER BY approved_ms, approver",
        )
        .bind(proposal_id);
        let rows = self.rows(q).await?;
        rows.iter()
            .map(|row| {
                let d = RowDecoder::new(row, "gw_approvals", "?");
                Ok(ApprovalRow {
                    proposal_id: d.text("proposal_id")?,
                    approver: d.text("approver")?,
                    approved_ms: d.i64("approved_ms")?,
                    evidence: d.text("evidence")?,
                })
            })
            .collect()
    }

    /// Records an approval of an open, unexpired proposal and, when it brings the count to
    /// `required`, moves the proposal to `approved` in the same transaction. Returns
    /// `(approvals, newly_approved)`: exactly one caller ever sees `newly_approved = true`.
    /// A second approval by the same approver is a [`StoreError::Constraint`] (unique).
    pub async fn gw_approve(&self, a: &ApprovalRow) -> Result<(i64, bool)> {
        let mut tx = self.begin().await?;
        let open = proposal_is_open(&mut tx, &a.proposal_id, a.approved_ms).await?;
        let Some(required) = open else {
            return Err(StoreError::NotFound {
                what: format!("open proposal `{}`", a.proposal_id),
            });
        };
        let done = sqlx::query(
            "INSERT INTO gw_approvals (proposal_id, approver, approved_ms, evidence) VALUES ($1, $2, $3, $4)",
        )
        .bind(a.proposal_id.as_str())
        .bind(a.approver.as_str())
        .bind(a.approved_ms)
        .bind(a.evidence.as_str())
        .execute(tx.conn())
        .await;
        done.map_err(|e| tx.err(e))?;
        let count = count_approvals(&mut tx, &a.proposal_id).await?;
        let mut newly = false;
        if count >= required {
            let done = sqlx::query(
                "UPDATE gw_proposals SET status = 'approved', decided_ms = $2 WHERE id = $1 AND status = 'open'",
            )
            .bind(a.proposal_id.as_str())
            .bind(a.approved_ms)
            .execute(tx.conn())
            .await;
            newly = done.map_err(|e| tx.err(e))?.rows_affected() == 1;
        }
        tx.commit().await?;
        Ok((count, newly))
    }

    /// Moves a proposal from `from` to `to` (compare-and-set); false if it was not in `from`.
    pub async fn gw_proposal_transition(
        &self,
        id: &str,
        from: &str,
        to: &str,
        now_ms: i64,
    ) -> Result<bool> {
        let q = sqlx::query(
            "UPDATE gw_proposals SET status = $3, decided_ms = $4 WHERE id = $1 AND status = $2",
        )
        .bind(id)
        .bind(from)
        .bind(to)
        .bind(now_ms);
        Ok(self.exec(q).await? == 1)
    }

    /// Marks open proposals past their expiry as `expired`; returns how many.
    pub async fn gw_proposals_expire(&self, now_ms: i64) -> Result<u64> {
        let q = sqlx::query(
            "UPDATE gw_proposals SET status = 'expired', decided_ms = $1 WHERE status = 'open' AND expires_ms <= $1",
        )
        .bind(now_ms);
        self.exec(q).await
    }

    /// Claims an idempotency key. `Ok(None)`: claimed (status 0, answer pending). `Ok(Some)`:
    /// the key was already used; the stored row is returned.
    pub async fn gw_order_request_claim(
        &self,
        r: &OrderRequestRow,
    ) -> Result<Option<OrderRequestRow>> {
        let q = sqlx::query(
            "INSERT INTO gw_order_requests (client_order_id, principal, request_hash, status, response, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (client_order_id) DO NOTHING",
        )
        .bind(r.client_order_id.as_str())
        .bind(r.principal.as_str())
        .bind(r.request_hash.as_slice())
        .bind(r.status)
        .bind(r.response.as_str())
        .bind(r.created_ms);
        if self.exec(q).await? == 1 {
            return Ok(None);
        }
        let q = sqlx::query(
            "SELECT client_order_id, principal, request_hash, status, response, created_ms \
             FROM gw_order_requests WHERE client_order_id = $1",
        )
        .bind(r.client_order_id.as_str());
        let rows = self.rows(q).await?;
        rows.first()
            .map(|row| {
                let d = RowDecoder::new(row, "gw_order_requests", "?");
                Ok(OrderRequestRow {
                    client_order_id: d.text("client_order_id")?,
                    principal: d.text("principal")?,
                    request_hash: d.bytes("request_hash")?,
                    status: d.i64("status")?,
                    response: d.text("response")?,
                    created_ms: d.i64("created_ms")?,
                })
            })
            .transpose()
    }

    /// Stores the answer to a claimed idempotency key.
    pub async fn gw_order_request_complete(
        &self,
        client_order_id: &str,
        status: i64,
        response: &str,
    ) -> Result<()> {
        let q = sqlx::query(
            "UPDATE gw_order_requests SET status = $2, response = $3 WHERE client_order_id = $1",
        )
        .bind(client_order_id)
        .bind(status)
        .bind(response);
        self.exec(q).await.map(drop)
    }

    /// Releases a claim whose request failed before any effect (so it may be retried).
    pub async fn gw_order_request_release(&self, client_order_id: &str) -> Result<()> {
        let q =
            sqlx::query("DELETE FROM gw_order_requests WHERE client_order_id = $1 AND status = 0")
                .bind(client_order_id);
        self.exec(q).await.map(drop)
    }

    /// Stores a pending two-step order.
    pub async fn gw_confirmation_insert(&self, c: &ConfirmationRow) -> Result<()> {
        let q = sqlx::query(
            "INSERT INTO gw_confirmations (token_hash, principal, request, expires_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(c.token_hash.as_slice())
        .bind(c.principal.as_str())
        .bind(c.request.as_str())
        .bind(c.expires_ms);
        self.exec(q).await.map(drop)
    }

    /// Takes (reads and deletes, once) a confirmation; `None` when unknown or already taken.
    /// Expiry and principal are the caller's to check on the returned row.
    pub async fn gw_confirmation_take(&self, token_hash: &[u8]) -> Result<Option<ConfirmationRow>> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "SELECT token_hash, principal, request, expires_ms FROM gw_confirmations WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(tx.conn())
        .await;
        let Some(row) = done.map_err(|e| tx.err(e))? else {
            return Ok(None);
        };
        let d = RowDecoder::new(&row, "gw_confirmations", "?");
        let found = ConfirmationRow {
            token_hash: d.bytes("token_hash")?,
            principal: d.text("principal")?,
            request: d.text("request")?,
            expires_ms: d.i64("expires_ms")?,
        };
        let done = sqlx::query("DELETE FROM gw_confirmations WHERE token_hash = $1")
            .bind(token_hash)
            .execute(tx.conn())
            .await;
        let deleted = done.map_err(|e| tx.err(e))?.rows_affected() == 1;
        tx.commit().await?;
        Ok(deleted.then_some(found))
    }
}

async fn proposal_is_open(tx: &mut Tx, id: &str, now_ms: i64) -> Result<Option<i64>> {
    let done = sqlx::query(
        "SELECT required FROM gw_proposals WHERE id = $1 AND status = 'open' AND expires_ms > $2",
    )
    .bind(id)
    .bind(now_ms)
    .fetch_optional(tx.conn())
    .await;
    let row = done.map_err(|e| tx.err(e))?;
    row.map(|r| RowDecoder::new(&r, "gw_proposals", "?").i64("required"))
        .transpose()
}

async fn count_approvals(tx: &mut Tx, id: &str) -> Result<i64> {
    let done = sqlx::query("SELECT COUNT(*) AS n FROM gw_approvals WHERE proposal_id = $1")
        .bind(id)
        .fetch_one(tx.conn())
        .await;
    let row = done.map_err(|e| tx.err(e))?;
    RowDecoder::new(&row, "gw_approvals", "?").i64("n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(keyid: &str) -> PrincipalRow {
        PrincipalRow {
            keyid: keyid.into(),
            kind: "ed25519".into(),
            scopes: "read,trade".into(),
            label: "bot".into(),
            revoked: false,
            created_ms: 1,
            revoked_ms: None,
        }
    }

    fn proposal(id: &str, required: i64, expires_ms: i64) -> ProposalRow {
        ProposalRow {
            id: id.into(),
            action: "resume".into(),
            payload: "{}".into(),
            proposer: "did:a".into(),
            required,
            created_ms: 0,
            expires_ms,
            status: "open".into(),
            decided_ms: None,
        }
    }

    fn approval(id: &str, who: &str, at: i64) -> ApprovalRow {
        ApprovalRow {
            proposal_id: id.into(),
            approver: who.into(),
            approved_ms: at,
            evidence: "sig".into(),
        }
    }

    crate::backend_tests! {
        /// Principals upsert and revoke; revocation ends the principal's sessions.
        async fn gw_principals_and_sessions(store) {
            store.gw_principal_upsert(&principal("did:a")).await.unwrap();
            store.gw_principal_upsert(&principal("did:b")).await.unwrap();
            assert_eq!(store.gw_principals().await.unwrap().len(), 2);
            let s = SessionRow { token_hash: vec![1; 32], principal: "did:a".into(), created_ms: 0, expires_ms: 100 };
            store.gw_session_insert(&s).await.unwrap();
            assert_eq!(store.gw_session(&[1; 32], 50).await.unwrap(), Some(s.clone()));
            assert_eq!(store.gw_session(&[1; 32], 100).await.unwrap(), None, "expired");
            assert_eq!(store.gw_sessions_live(50).await.unwrap(), 1);
            assert_eq!(store.gw_sessions_live(100).await.unwrap(), 0, "expired");
            assert!(store.gw_principal_revoke("did:a", 7).await.unwrap());
            assert!(!store.gw_principal_revoke("did:a", 8).await.unwrap());
            assert_eq!(store.gw_session(&[1; 32], 50).await.unwrap(), None);
            let a = store.gw_principal("did:a").await.unwrap().unwrap();
            assert!(a.revoked);
            assert_eq!(a.revoked_ms, Some(7));
            store.gw_session_insert(&SessionRow { principal: "did:b".into(), ..s.clone() }).await.unwrap();
            store.gw_session_insert(&SessionRow { token_hash: vec![2; 32], principal: "did:b".into(), expires_ms: 10, ..s }).await.unwrap();
            assert_eq!(store.gw_sessions_delete_expired(50).await.unwrap(), 1);
            assert_eq!(store.gw_sessions_delete_all().await.unwrap(), 1);
        }

        /// The trading state starts active and persists changes.
        async fn gw_trading_state_round_trip(store) {
            assert_eq!(store.gw_trading_state().await.unwrap().state, "active");
            let halted = TradingStateRow { state: "halted".into(), changed_ms: 5, changed_by: "did:a".into(), reason: "halt".into() };
            store.gw_set_trading_state(&halted).await.unwrap();
            assert_eq!(store.gw_trading_state().await.unwrap(), halted);
            let bad = TradingStateRow { state: "paused".into(), ..halted };
            assert!(matches!(store.gw_set_trading_state(&bad).await, Err(StoreError::Constraint { .. })));
        }

        /// M distinct approvers before expiry approve a proposal exactly once.
        async fn gw_quorum_approvals(store) {
            store.gw_proposal_insert(&proposal("p1", 2, 1_000)).await.unwrap();
            assert_eq!(store.gw_approve(&approval("p1", "did:x", 10)).await.unwrap(), (1, false));
            let dup = store.gw_approve(&approval("p1", "did:x", 11)).await.unwrap_err();
            assert!(dup.is_unique_violation(), "{dup}");
            assert_eq!(store.gw_approve(&approval("p1", "did:y", 12)).await.unwrap(), (2, true));
            assert!(store.gw_approve(&approval("p1", "did:z", 13)).await.is_err(), "no longer open");
            assert_eq!(store.gw_proposal("p1").await.unwrap().unwrap().status, "approved");
            assert_eq!(store.gw_approvals("p1").await.unwrap().len(), 2);
            store.gw_proposal_insert(&proposal("p2", 1, 100)).await.unwrap();
            assert!(store.gw_approve(&approval("p2", "did:x", 100)).await.is_err(), "expired");
            assert_eq!(store.gw_proposals_expire(100).await.unwrap(), 1);
            assert!(store.gw_proposals_open().await.unwrap().is_empty());
            assert!(store.gw_proposal_transition("p1", "approved", "failed", 1).await.unwrap());
            assert!(!store.gw_proposal_transition("p1", "approved", "failed", 1).await.unwrap());
        }

        /// Lockouts, idempotency claims and one-time confirmations.
        async fn gw_lockouts_orders_confirmations(store) {
            store.gw_lockout_put("addr:1.2.3.4", 100).await.unwrap();
            store.gw_lockout_put("addr:1.2.3.4", 200).await.unwrap();
            assert_eq!(store.gw_lockouts_active(150).await.unwrap(), vec![("addr:1.2.3.4".to_owned(), 200)]);
            assert!(store.gw_lockouts_active(200).await.unwrap().is_empty());
            let r = OrderRequestRow { client_order_id: "c1".into(), principal: "did:a".into(), request_hash: vec![9; 32], status: 0, response: String::new(), created_ms: 1 };
            assert_eq!(store.gw_order_request_claim(&r).await.unwrap(), None);
            store.gw_order_request_complete("c1", 201, "{}").await.unwrap();
            let again = store.gw_order_request_claim(&r).await.unwrap().unwrap();
            assert_eq!((again.status, again.response.as_str()), (201, "{}"));
            let r2 = OrderRequestRow { client_order_id: "c2".into(), ..r };
            assert_eq!(store.gw_order_request_claim(&r2).await.unwrap(), None);
            store.gw_order_request_release("c2").await.unwrap();
            assert_eq!(store.gw_order_request_claim(&r2).await.unwrap(), None);
            let c = ConfirmationRow { token_hash: vec![3; 32], principal: "did:a".into(), request: "{}".into(), expires_ms: 60 };
            store.gw_confirmation_insert(&c).await.unwrap();
            assert_eq!(store.gw_confirmation_take(&[3; 32]).await.unwrap(), Some(c));
            assert_eq!(store.gw_confirmation_take(&[3; 32]).await.unwrap(), None);
        }
    }
}
