//! The catalogue of what the system records: one [`Event`] variant per thing that happens,
//! each with a fixed kind and fixed fields, so that every component writes the same event the
//! same way and an auditor can read [`KINDS`] to know what a log may contain.
//!
//! Values that could help an attacker (request key ids, session tokens, network addresses,
//! exchange API key ids, lockout subjects) are [`SecretString`]s here and reach the log only
//! as `hmac-sha256:<hex>` under the installation's audit key ([`crate::event::Redactor`]):
//! an operator who knows a value can search for it, a reader of the log learns nothing. Money
//! is [`Decimal`], written as its exact decimal string.
//!
//! ```
//! use tradeguard_audit::events::{Actor, AuthMethod, Event};
//!
//! let event = Event::AuthSucceeded {
//!     actor: Actor::new("bot-1", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
//!     method: AuthMethod::Signature,
//! };
//! let audit_event = event.to_audit_event().unwrap();
//! assert_eq!(audit_event.kind().as_str(), "auth.success");
//! ```

mod encode;
mod types;

pub use types::{
    Actor, AuthFailure, AuthMethod, FillDetail, LockSubject, OrderRef, PrincipalChange, SessionEnd,
    Side, ThreatResponse, TradingState,
};

use rust_decimal::Decimal;
use tradeguard_crypto::secret::SecretString;

use crate::AuditError;
use crate::event::AuditEvent;

/// Every event kind an [`Event`] is written as.
pub const KINDS: &[&str] = &[
    "auth.success",
    "auth.failure",
    "auth.lockout",
    "auth.lockout_lifted",
    "session.created",
    "session.ended",
    "vault.initialized",
    "vault.credential_imported",
    "vault.credential_used",
    "vault.credential_rotated",
    "vault.credential_removed",
    "vault.kek_rotated",
    "order.submitted",
    "order.acknowledged",
    "order.filled",
    "order.cancelled",
    "order.refused",
    "order.rejected",
    "order.unknown",
    "trading.halted",
    "trading.resumed",
    "trading.state_changed",
    "approval.requested",
    "approval.granted",
    "approval.executed",
    "approval.expired",
    "config.changed",
    "principal.changed",
    "threat.action",
];

/// Something the system did or saw, as it is recorded.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A request or session was authenticated (`auth.success`).
    AuthSucceeded {
        /// Who.
        actor: Actor,
        /// How.
        method: AuthMethod,
    },
    /// Authentication was refused (`auth.failure`).
    AuthFailed {
        /// The key id the request claimed, if any (HMAC-ed).
        key_id: Option<SecretString>,
        /// The peer address (HMAC-ed).
        address: Option<SecretString>,
        /// Why.
        reason: AuthFailure,
    },
    /// A key, address or principal was locked out after repeated failures (`auth.lockout`).
    LockedOut {
        /// What is locked out.
        subject: LockSubject,
        /// Failures that led to it.
        failures: u32,
        /// Until when, Unix milliseconds.
        until_ms: i64,
    },
    /// A lockout ended early or was lifted by an operator (`auth.lockout_lifted`).
    LockoutLifted {
        /// What was locked out.
        subject: LockSubject,
        /// The operator who lifted it, or `None` when it expired.
        by: Option<String>,
    },
    /// A session was opened (`session.created`).
    SessionCreated {
        /// Who.
        actor: Actor,
        /// The session's identifier (HMAC-ed; never the bearer token itself).
        session: SecretString,
        /// Expiry, Unix milliseconds.
        expires_ms: i64,
    },
    /// A session ended (`session.ended`).
    SessionEnded {
        /// The principal's name.
        principal: String,
        /// The session's identifier (HMAC-ed).
        session: SecretString,
        /// How it ended.
        reason: SessionEnd,
    },
    /// The vault was created (`vault.initialized`).
    VaultInitialized {
        /// The first key-encryption-key version.
        kek_version: u32,
    },
    /// A credential was imported (`vault.credential_imported`).
    CredentialImported {
        /// The credential's id in the vault.
        credential: String,
        /// Exchange, if the reporter knows it (the vault's own events do not carry it).
        exchange: Option<String>,
        /// The exchange's API key id (HMAC-ed).
        api_key: Option<SecretString>,
        /// Who imported it.
        by: Option<String>,
    },
    /// A credential's secret was decrypted to sign a request (`vault.credential_used`).
    CredentialUsed {
        /// The credential's id in the vault.
        credential: String,
        /// What for (`order`, `cancel`, `balances`, `poll`, `verify`…).
        purpose: String,
        /// The order it signed, if any.
        client_order_id: Option<String>,
    },
    /// A credential was replaced by a new key for the same account
    /// (`vault.credential_rotated`).
    CredentialRotated {
        /// The credential's id in the vault.
        credential: String,
        /// The new API key id (HMAC-ed).
        api_key: Option<SecretString>,
        /// Who rotated it.
        by: Option<String>,
    },
    /// A credential was removed (`vault.credential_removed`).
    CredentialRemoved {
        /// The credential's id in the vault.
        credential: String,
        /// Who removed it.
        by: Option<String>,
    },
    /// The key-encryption key was rotated and the data keys re-wrapped (`vault.kek_rotated`).
    KekRotated {
        /// The new version.
        kek_version: u32,
        /// Data keys re-wrapped.
        rewrapped: u64,
    },
    /// An order passed the risk checks and was sent (`order.submitted`).
    OrderSubmitted {
        /// Which order.
        order: OrderRef,
        /// Who asked for it.
        principal: String,
        /// Buy or sell.
        side: Side,
        /// `market`, `limit`, …
        order_type: String,
        /// Quantity in the base asset.
        qty: Decimal,
        /// Limit price, if any.
        price: Option<Decimal>,
        /// The credential that signs it.
        credential: String,
    },
    /// The exchange accepted the order (`order.acknowledged`).
    OrderAcknowledged {
        /// Which order.
        order: OrderRef,
        /// The exchange's id for it.
        exchange_order_id: String,
    },
    /// The order was filled, in part or in full (`order.filled`).
    OrderFilled {
        /// Which order.
        order: OrderRef,
        /// The trade, in full or withheld (aggregated-only mode).
        detail: FillDetail,
        /// True when the order is now completely filled.
        complete: bool,
    },
    /// The order was cancelled (`order.cancelled`).
    OrderCancelled {
        /// Which order.
        order: OrderRef,
        /// A principal's name; `client` (a cancel request, whose principal the request's own
        /// entry names); `halt`; or `exchange` (cancelled or expired there).
        by: String,
        /// Why, if known.
        reason: Option<String>,
    },
    /// The order was refused before it reached the exchange (`order.refused`).
    OrderRefused {
        /// Which order.
        order: OrderRef,
        /// Who asked for it.
        principal: String,
        /// The refusing check's code (`max_position`, `concentration`, `halted`, …).
        code: String,
        /// The risk engine's reason, as shown to the caller.
        reason: String,
    },
    /// The order was sent but not placed (`order.rejected`): the exchange refused it, or an
    /// order whose outcome was unknown was proven never to have arrived, or it was recorded and
    /// never sent (the gateway stopped in between).
    OrderRejected {
        /// Which order.
        order: OrderRef,
        /// Why (the exchange's code and message, or how it was resolved; never a secret).
        reason: String,
    },
    /// The order's placement outcome is unknown (`order.unknown`): a timeout, a dropped
    /// connection or a 5xx. It is resolved by asking the exchange, never by sending it again;
    /// the resolution is the next event of the order (`order.acknowledged` or
    /// `order.rejected`).
    OrderUnknown {
        /// Which order.
        order: OrderRef,
        /// What failed.
        reason: String,
    },
    /// Trading moved between ACTIVE, REDUCING and HALTED: `trading.halted` into HALTED,
    /// `trading.resumed` out of it, `trading.state_changed` between ACTIVE and REDUCING.
    TradingStateChanged {
        /// Before.
        from: TradingState,
        /// After.
        to: TradingState,
        /// A principal's name, or the component (`threat-detector`, `breaker`).
        by: String,
        /// Why.
        reason: String,
    },
    /// An action needing a quorum was proposed (`approval.requested`).
    ApprovalRequested {
        /// The proposal.
        proposal: String,
        /// What it would do (`resume`, `credential.import`, …).
        action: String,
        /// Who proposed it.
        by: String,
        /// Approvals needed.
        quorum: u32,
    },
    /// A principal approved a proposal (`approval.granted`).
    ApprovalGranted {
        /// The proposal.
        proposal: String,
        /// Who approved.
        by: String,
        /// Approvals so far.
        approvals: u32,
        /// Approvals needed.
        quorum: u32,
    },
    /// A proposal reached its quorum and was carried out (`approval.executed`).
    ApprovalExecuted {
        /// The proposal.
        proposal: String,
        /// What it did.
        action: String,
        /// The principals who approved.
        approvers: Vec<String>,
    },
    /// A proposal expired without its quorum (`approval.expired`).
    ApprovalExpired {
        /// The proposal.
        proposal: String,
        /// Approvals it had.
        approvals: u32,
    },
    /// Configuration changed (`config.changed`): names of the settings and digests of the
    /// configuration before and after ([`config_digest`]), never the values.
    ConfigChanged {
        /// Who changed it.
        by: String,
        /// The area (`risk`, `limits`, `exchanges`, `server`, …).
        area: String,
        /// The settings changed.
        settings: Vec<String>,
        /// Digest before.
        before: String,
        /// Digest after.
        after: String,
    },
    /// A principal was added, removed or given other scopes (`principal.changed`).
    PrincipalChanged {
        /// Who made the change.
        by: String,
        /// The principal's name.
        principal: String,
        /// Its key id (HMAC-ed).
        key_id: Option<SecretString>,
        /// What changed.
        change: PrincipalChange,
        /// Its scopes after the change.
        scopes: Vec<String>,
    },
    /// The threat detector acted (`threat.action`).
    ThreatAction {
        /// The detector (`rate-anomaly`, `isolation-forest`, …).
        detector: String,
        /// Its score.
        score: f64,
        /// What it did.
        action: ThreatResponse,
        /// The key id or address it acted on (HMAC-ed).
        subject: Option<SecretString>,
        /// Why, in words.
        reason: String,
    },
}

impl Event {
    /// The kind the event is written as (one of [`KINDS`]).
    pub fn kind(&self) -> &'static str {
        encode::kind(self)
    }

    /// The event with its fields, ready to append; sensitive fields are marked so that only
    /// their HMAC is written.
    pub fn to_audit_event(&self) -> Result<AuditEvent, AuditError> {
        encode::encode(self)
    }
}

impl TryFrom<&Event> for AuditEvent {
    type Error = AuditError;

    fn try_from(event: &Event) -> Result<Self, AuditError> {
        event.to_audit_event()
    }
}

/// The digest of a configuration recorded by [`Event::ConfigChanged`]: `sha256:<hex>` of its
/// canonical JSON (RFC 8785), so two equal configurations give the same digest.
pub fn config_digest(config: &serde_json::Value) -> Result<String, AuditError> {
    let canonical = tradeguard_crypto::jcs::canonicalize(config).map_err(|_| {
        AuditError::InvalidEvent("the configuration cannot be written as canonical JSON")
    })?;
    let digest = tradeguard_crypto::digest::sha256(canonical.as_bytes());
    Ok(format!("sha256:{}", hex::encode(digest)))
}
