//! Key permission checks: when a credential is imported or verified, ask the exchange what
//! the key may do, refuse keys that can withdraw or transfer funds (with instructions for
//! making a safe key), and warn about keys that work from any IP address.

use serde::Serialize;

use crate::error::ExchangeError;
use crate::exchange::Exchange;
use crate::model::{ExchangeId, KeyPermissions};

/// How to create a key tradeguard accepts, per exchange.
pub fn safe_key_instructions(exchange: ExchangeId) -> &'static str {
    match exchange {
        ExchangeId::Binance => {
            "in Binance API Management create a new key with only \"Enable Reading\" and \"Enable Spot & Margin Trading\" (no withdrawals, no internal or universal transfer), restrict it to the gateway's egress IP, then import it again"
        }
        ExchangeId::Kraken => {
            "in Kraken's API settings create a new key with only Query Funds, Query Open Orders & Trades, Query Closed Orders & Trades, Create & Modify Orders and Cancel/Close Orders (no Withdraw Funds), then import it again"
        }
        ExchangeId::Coinbase => {
            "in the Coinbase Developer Platform create a new API key with the View and Trade permissions only (no Transfer), then import it again"
        }
        ExchangeId::CoinbaseExchange => {
            "in Coinbase Exchange create a new API key with the View and Trade permissions only (no Transfer, no Manage), then import it again"
        }
    }
}

/// A property of a key that is allowed but worth the operator's attention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "warning", rename_all = "snake_case")]
pub enum KeyWarning {
    /// The key works from any IP address.
    NoIpRestriction {
        /// The exchange.
        exchange: ExchangeId,
        /// What to do.
        remedy: String,
    },
    /// The key cannot trade: the gateway can only read with it.
    CannotTrade {
        /// The exchange.
        exchange: ExchangeId,
    },
}

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyRefusal {
    /// The key can withdraw funds.
    #[error("credential `{label}` ({exchange}) can withdraw funds; {remedy}")]
    CanWithdraw {
        /// The exchange.
        exchange: ExchangeId,
        /// The credential's label.
        label: String,
        /// How to make a safe key.
        remedy: &'static str,
    },
    /// The key can transfer funds between accounts or wallets.
    #[error("credential `{label}` ({exchange}) can transfer funds; {remedy}")]
    CanTransfer {
        /// The exchange.
        exchange: ExchangeId,
        /// The credential's label.
        label: String,
        /// How to make a safe key.
        remedy: &'static str,
    },
    /// The exchange cannot report the key's permissions, and the operator did not accept that.
    #[error(
        "credential `{label}` ({exchange}): its permissions cannot be checked ({reason}); create it with View and Trade only and import it with the explicit `dangerous_accept_unverified_permissions` option"
    )]
    Unverifiable {
        /// The exchange.
        exchange: ExchangeId,
        /// The credential's label.
        label: String,
        /// Why not.
        reason: String,
    },
    /// Asking the exchange failed (wrong key, network, ...).
    #[error("credential `{label}`: the exchange could not be asked what the key may do: {source}")]
    Exchange {
        /// The credential's label.
        label: String,
        /// The failure.
        source: ExchangeError,
    },
}

/// A key that passed, with what it may do and any warnings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyReport {
    /// What the exchange reported (`None`: accepted unverified).
    pub permissions: Option<KeyPermissions>,
    /// Things to fix that do not block the key.
    pub warnings: Vec<KeyWarning>,
}

/// Checks reported permissions: withdrawal or transfer refuses the key; a Binance key without
/// IP restriction (or any key that reports none) and a key that cannot trade give warnings.
pub fn check_permissions(
    exchange: ExchangeId,
    label: &str,
    p: &KeyPermissions,
) -> Result<Vec<KeyWarning>, KeyRefusal> {
    let remedy = safe_key_instructions(exchange);
    if p.can_withdraw {
        return Err(KeyRefusal::CanWithdraw {
            exchange,
            label: label.to_owned(),
            remedy,
        });
    }
    if p.can_transfer {
        return Err(KeyRefusal::CanTransfer {
            exchange,
            label: label.to_owned(),
            remedy,
        });
    }
    let mut warnings = Vec::new();
    if p.ip_restricted == Some(false) {
        warnings.push(KeyWarning::NoIpRestriction {
            exchange,
            remedy: format!(
                "credential `{label}` works from any IP address; restrict it to the gateway's egress IP (set `proxy` for a static one)"
            ),
        });
    }
    if !p.can_trade {
        warnings.push(KeyWarning::CannotTrade { exchange });
    }
    Ok(warnings)
}

/// Asks `exchange` what the key may do and checks it. Where the exchange cannot tell
/// ([`ExchangeError::Unsupported`]), the key is refused unless
/// `dangerous_accept_unverified_permissions` is set.
pub async fn verify_key(
    exchange: &dyn Exchange,
    label: &str,
    dangerous_accept_unverified_permissions: bool,
) -> Result<KeyReport, KeyRefusal> {
    match exchange.key_permissions().await {
        Ok(p) => {
            let warnings = check_permissions(exchange.id(), label, &p)?;
            for w in &warnings {
                tracing::warn!(exchange = %exchange.id(), credential = label, warning = ?w, "key accepted with a warning");
            }
            Ok(KeyReport {
                permissions: Some(p),
                warnings,
            })
        }
        Err(ExchangeError::Unsupported { hint, .. }) if dangerous_accept_unverified_permissions => {
            tracing::warn!(exchange = %exchange.id(), credential = label, hint, "key permissions NOT verified (accepted on the operator's word)");
            Ok(KeyReport {
                permissions: None,
                warnings: Vec::new(),
            })
        }
        Err(ExchangeError::Unsupported { hint, .. }) => Err(KeyRefusal::Unverifiable {
            exchange: exchange.id(),
            label: label.to_owned(),
            reason: hint.to_owned(),
        }),
        Err(source) => Err(KeyRefusal::Exchange {
            label: label.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perms(withdraw: bool, transfer: bool, trade: bool, ip: Option<bool>) -> KeyPermissions {
        KeyPermissions {
            can_read: true,
            can_trade: trade,
            can_withdraw: withdraw,
            can_transfer: transfer,
            ip_restricted: ip,
            granted: Vec::new(),
        }
    }

    #[test]
    fn check_table() {
        let cases = [
            (perms(false, false, true, Some(true)), "ok 0"),
            (perms(false, false, true, Some(false)), "ok 1"),
            (perms(false, false, true, None), "ok 0"),
            (perms(false, false, false, Some(true)), "ok 1"),
            (perms(true, false, true, Some(true)), "withdraw"),
            (perms(false, true, true, Some(true)), "transfer"),
            (perms(true, true, true, Some(false)), "withdraw"),
        ];
        for (i, (p, want)) in cases.iter().enumerate() {
            let got = match check_permissions(ExchangeId::Binance, "binance-main", p) {
                Ok(w) => format!("ok {}", w.len()),
                Err(KeyRefusal::CanWithdraw { .. }) => "withdraw".into(),
                Err(KeyRefusal::CanTransfer { .. }) => "transfer".into(),
                Err(e) => e.to_string(),
            };
            assert_eq!(got, *want, "TC{i} failed");
        }
    }

    #[test]
    fn fail_withdrawing_key_message_says_how_to_make_a_safe_key() {
        let err = check_permissions(
            ExchangeId::Binance,
            "binance-main",
            &perms(true, false, true, Some(true)),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("credential `binance-main` (binance) can withdraw funds;"),
            "{msg}"
        );
        assert!(msg.contains("create a new key"), "{msg}");
    }
}
