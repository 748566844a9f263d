//! How each [`Event`] is written: its kind and its fields. Every kind always has the same
//! fields; an absent optional value is written as `null`.

use rust_decimal::Decimal;
use serde_json::Value;
use tradeguard_crypto::secret::SecretString;

use super::Event;
use super::types::{FillDetail, LockSubject, OrderRef, TradingState};
use crate::AuditError;
use crate::clock::format_ms;
use crate::event::AuditEvent;

pub(super) fn kind(event: &Event) -> &'static str {
    match event {
        Event::AuthSucceeded { .. } => "auth.success",
        Event::AuthFailed { .. } => "auth.failure",
        Event::LockedOut { .. } => "auth.lockout",
        Event::LockoutLifted { .. } => "auth.lockout_lifted",
        Event::SessionCreated { .. } => "session.created",
        Event::SessionEnded { .. } => "session.ended",
        Event::VaultInitialized { .. } => "vault.initialized",
        Event::CredentialImported { .. } => "vault.credential_imported",
        Event::CredentialUsed { .. } => "vault.credential_used",
        Event::CredentialRotated { .. } => "vault.credential_rotated",
        Event::CredentialRemoved { .. } => "vault.credential_removed",
        Event::KekRotated { .. } => "vault.kek_rotated",
        Event::OrderSubmitted { .. } => "order.submitted",
        Event::OrderAcknowledged { .. } => "order.acknowledged",
        Event::OrderFilled { .. } => "order.filled",
        Event::OrderCancelled { .. } => "order.cancelled",
        Event::OrderRefused { .. } => "order.refused",
        Event::OrderRejected { .. } => "order.rejected",
        Event::OrderUnknown { .. } => "order.unknown",
        Event::TradingStateChanged { from, to, .. } => match (from, to) {
            (_, TradingState::Halted) => "trading.halted",
            (TradingState::Halted, _) => "trading.resumed",
            _ => "trading.state_changed",
        },
        Event::ApprovalRequested { .. } => "approval.requested",
        Event::ApprovalGranted { .. } => "approval.granted",
        Event::ApprovalExecuted { .. } => "approval.executed",
        Event::ApprovalExpired { .. } => "approval.expired",
        Event::ConfigChanged { .. } => "config.changed",
        Event::PrincipalChanged { .. } => "principal.changed",
        Event::ThreatAction { .. } => "threat.action",
    }
}

/// Builds an [`AuditEvent`] field by field.
struct Fields(AuditEvent);

impl Fields {
    fn public(self, name: &str, value: impl Into<Value>) -> Result<Self, AuditError> {
        Ok(Self(self.0.field(name, value)?))
    }

    fn text(self, name: &str, value: &str) -> Result<Self, AuditError> {
        self.public(name, value)
    }

    fn opt_text(self, name: &str, value: Option<&str>) -> Result<Self, AuditError> {
        self.public(name, value.map_or(Value::Null, Value::from))
    }

    fn money(self, name: &str, value: Decimal) -> Result<Self, AuditError> {
        self.public(name, value.to_string())
    }

    fn time(self, name: &str, ms: i64) -> Result<Self, AuditError> {
        self.public(name, format_ms(ms)?)
    }

    fn secret(self, name: &str, value: &SecretString) -> Result<Self, AuditError> {
        Ok(Self(self.0.sensitive_secret(name, value)?))
    }

    fn opt_secret(self, name: &str, value: Option<&SecretString>) -> Result<Self, AuditError> {
        match value {
            Some(v) => self.secret(name, v),
            None => self.public(name, Value::Null),
        }
    }

    fn order(self, order: &OrderRef) -> Result<Self, AuditError> {
        self.text("client_order_id", &order.client_order_id)?
            .text("profile", &order.profile)?
            .text("exchange", &order.exchange)?
            .text("symbol", &order.symbol)
    }

    fn subject(self, subject: &LockSubject) -> Result<Self, AuditError> {
        let (kind, f) = match subject {
            LockSubject::Key(k) => ("key", self.secret("subject", k)?),
            LockSubject::Address(a) => ("address", self.secret("subject", a)?),
            LockSubject::Principal(p) => ("principal", self.text("subject", p)?),
        };
        f.text("subject_type", kind)
    }

    fn strings(self, name: &str, values: &[String]) -> Result<Self, AuditError> {
        self.public(name, values.to_vec())
    }
}

/// One arm per variant, in one match so that the compiler refuses a variant without an
/// encoding (hence the length).
pub(super) fn encode(event: &Event) -> Result<AuditEvent, AuditError> {
    let f = Fields(AuditEvent::of(kind(event))?);
    let f = match event {
        Event::AuthSucceeded { actor, method } => f
            .text("principal", &actor.principal)?
            .secret("key_id", &actor.key_id)?
            .opt_secret("address", actor.address.as_ref())?
            .text("method", method.as_str())?,
        Event::AuthFailed {
            key_id,
            address,
            reason,
        } => f
            .opt_secret("key_id", key_id.as_ref())?
            .opt_secret("address", address.as_ref())?
            .text("reason", reason.as_str())?,
        Event::LockedOut {
            subject,
            failures,
            until_ms,
        } => f
            .subject(subject)?
            .public("failures", *failures)?
            .time("until", *until_ms)?,
        Event::LockoutLifted { subject, by } => {
            f.subject(subject)?.opt_text("by", by.as_deref())?
        }
        Event::SessionCreated {
            actor,
            session,
            expires_ms,
        } => f
            .text("principal", &actor.principal)?
            .secret("key_id", &actor.key_id)?
            .opt_secret("address", actor.address.as_ref())?
            .secret("session", session)?
            .time("expires", *expires_ms)?,
        Event::SessionEnded {
            principal,
            session,
            reason,
        } => f
            .text("principal", principal)?
            .secret("session", session)?
            .text("reason", reason.as_str())?,
        Event::VaultInitialized { kek_version } => f.public("kek_version", *kek_version)?,
        Event::CredentialImported {
            credential,
            exchange,
            api_key,
            by,
        } => f
            .text("credential", credential)?
            .opt_text("exchange", exchange.as_deref())?
            .opt_secret("api_key", api_key.as_ref())?
            .opt_text("by", by.as_deref())?,
        Event::CredentialUsed {
            credential,
            purpose,
            client_order_id,
        } => f
            .text("credential", credential)?
            .text("purpose", purpose)?
            .opt_text("client_order_id", client_order_id.as_deref())?,
        Event::CredentialRotated {
            credential,
            api_key,
            by,
        } => f
            .text("credential", credential)?
            .opt_secret("api_key", api_key.as_ref())?
            .opt_text("by", by.as_deref())?,
        Event::CredentialRemoved { credential, by } => f
            .text("credential", credential)?
            .opt_text("by", by.as_deref())?,
        Event::KekRotated {
            kek_version,
            rewrapped,
        } => f
            .public("kek_version", *kek_version)?
            .public("rewrapped", *rewrapped)?,
        Event::OrderSubmitted {
            order,
            principal,
            side,
            order_type,
            qty,
            price,
            credential,
        } => f
            .order(order)?
            .text("principal", principal)?
            .text("side", side.as_str())?
            .text("order_type", order_type)?
            .money("qty", *qty)?
            .opt_text("price", price.map(|p| p.to_string()).as_deref())?
            .text("credential", credential)?,
        Event::OrderAcknowledged {
            order,
            exchange_order_id,
        } => f
            .order(order)?
            .text("exchange_order_id", exchange_order_id)?,
        Event::OrderFilled {
            order,
            detail,
            complete,
        } => match detail {
            FillDetail::Trade {
                trade_id,
                qty,
                price,
                fee,
                fee_asset,
            } => f
                .order(order)?
                .text("trade_id", trade_id)?
                .money("qty", *qty)?
                .money("price", *price)?
                .money("fee", *fee)?
                .opt_text("fee_asset", fee_asset.as_deref())?,
            FillDetail::Withheld { trade_id } => f
                .order(order)?
                .secret("trade_id", trade_id)?
                .public("qty", Value::Null)?
                .public("price", Value::Null)?
                .public("fee", Value::Null)?
                .public("fee_asset", Value::Null)?,
        }
        .public("complete", *complete)?,
        Event::OrderCancelled { order, by, reason } => f
            .order(order)?
            .text("by", by)?
            .opt_text("reason", reason.as_deref())?,
        Event::OrderRefused {
            order,
            principal,
            code,
            reason,
        } => f
            .order(order)?
            .text("principal", principal)?
            .text("code", code)?
            .text("reason", reason)?,
        Event::OrderRejected { order, reason } | Event::OrderUnknown { order, reason } => {
            f.order(order)?.text("reason", reason)?
        }
        Event::TradingStateChanged {
            from,
            to,
            by,
            reason,
        } => f
            .text("from", from.as_str())?
            .text("to", to.as_str())?
            .text("by", by)?
            .text("reason", reason)?,
        Event::ApprovalRequested {
            proposal,
            action,
            by,
            quorum,
        } => f
            .text("proposal", proposal)?
            .text("action", action)?
            .text("by", by)?
            .public("quorum", *quorum)?,
        Event::ApprovalGranted {
            proposal,
            by,
            approvals,
            quorum,
        } => f
            .text("proposal", proposal)?
            .text("by", by)?
            .public("approvals", *approvals)?
            .public("quorum", *quorum)?,
        Event::ApprovalExecuted {
            proposal,
            action,
            approvers,
        } => f
            .text("proposal", proposal)?
            .text("action", action)?
            .strings("approvers", approvers)?,
        Event::ApprovalExpired {
            proposal,
            approvals,
        } => f
            .text("proposal", proposal)?
            .public("approvals", *approvals)?,
        Event::ConfigChanged {
            by,
            area,
            settings,
            before,
            after,
        } => f
            .text("by", by)?
            .text("area", area)?
            .strings("settings", settings)?
            .text("before", before)?
            .text("after", after)?,
        Event::PrincipalChanged {
            by,
            principal,
            key_id,
            change,
            scopes,
        } => f
            .text("by", by)?
            .text("principal", principal)?
            .opt_secret("key_id", key_id.as_ref())?
            .text("change", change.as_str())?
            .strings("scopes", scopes)?,
        Event::ThreatAction {
            detector,
            score,
            action,
            subject,
            reason,
        } => {
            if !score.is_finite() {
                return Err(AuditError::InvalidEvent(
                    "threat score must be a finite number",
                ));
            }
            f.text("detector", detector)?
                .public("score", *score)?
                .text("action", action.as_str())?
                .opt_secret("subject", subject.as_ref())?
                .text("reason", reason)?
        }
    };
    Ok(f.0)
}
