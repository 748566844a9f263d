//! Request and answer bodies of the gateway API (DESIGN.md "HTTP API"). Answers whose shape
//! the gateway still extends are returned as [`serde_json::Value`]; the few the client
//! relies on are typed here.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tradeguard_crypto::secret::SecretString;

/// An RFC 9457 problem document, as the gateway sends with every error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:tradeguard:problem:<slug>`).
    #[serde(rename = "type", default)]
    pub type_uri: String,
    /// A short summary of the kind of problem.
    #[serde(default)]
    pub title: String,
    /// The HTTP status code.
    #[serde(default)]
    pub status: u16,
    /// What failed in this request and what to do about it.
    #[serde(default)]
    pub detail: String,
    /// For authentication failures: the name of the check that refused the request
    /// (`signature`, `created-window`, `nonce-replay`, ...).
    #[serde(default)]
    pub check: Option<String>,
    /// For lockouts and rate limits: seconds until a retry may pass.
    #[serde(default)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// The last part of the type URI (`signature-invalid`, `forbidden`, ...).
    pub fn slug(&self) -> &str {
        self.type_uri.rsplit(':').next().unwrap_or("")
    }

    /// One line: title, the failed check if any, and the detail.
    pub fn summary(&self) -> String {
        let check = self
            .check
            .as_deref()
            .map(|c| format!(" [check: {c}]"))
            .unwrap_or_default();
        let retry = self
            .retry_after
            .map(|s| format!(" (retry after {s} s)"))
            .unwrap_or_default();
        format!("{}{check}: {}{retry}", self.title, self.detail)
    }
}

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Buy the base asset.
    Buy,
    /// Sell the base asset.
    Sell,
}

/// The body of `POST /v1/orders`: a new order, or the confirmation of a previewed one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    /// Idempotency key: resending the same order with it never places a second one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_order_id: Option<String>,
    /// The risk profile placing it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// `BASE/QUOTE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// Buy or sell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
    /// `market` or `limit`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub order_type: Option<String>,
    /// Limit price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<Decimal>,
    /// Quantity of the base asset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// Ask for a preview and a one-time confirmation token instead of executing.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub require_confirmation: bool,
    /// Confirms an earlier preview (sent alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation_token: Option<String>,
}

impl OrderRequest {
    /// A market order.
    pub fn market(
        client_order_id: &str,
        profile: &str,
        symbol: &str,
        side: Side,
        quantity: Decimal,
    ) -> Self {
        Self {
            client_order_id: Some(client_order_id.to_owned()),
            profile: Some(profile.to_owned()),
            symbol: Some(symbol.to_owned()),
            side: Some(side),
            order_type: Some("market".into()),
            quantity: Some(quantity),
            ..Self::default()
        }
    }

    /// A limit order.
    pub fn limit(
        client_order_id: &str,
        profile: &str,
        symbol: &str,
        side: Side,
        quantity: Decimal,
        price: Decimal,
    ) -> Self {
        Self {
            order_type: Some("limit".into()),
            price: Some(price),
            ..Self::market(client_order_id, profile, symbol, side, quantity)
        }
    }

    /// The confirmation of a previewed order.
    pub fn confirm(token: &str) -> Self {
        Self {
            confirmation_token: Some(token.to_owned()),
            ..Self::default()
        }
    }
}

/// `POST /v1/halt` options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HaltMode {
    /// No order at all; open orders are cancelled.
    Halted,
    /// Only orders that reduce exposure.
    Reducing,
}

/// The body of `POST /v1/principals`: a principal to propose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPrincipal {
    /// Its `did:key` (ed25519) or HMAC key id.
    pub keyid: String,
    /// `ed25519` or `hmac-sha256`; the gateway assumes `ed25519` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Its scopes (`trade`, `read`, `halt`, `resume`, `manage-credentials`,
    /// `manage-principals`, `manage-risk`).
    pub scopes: Vec<String>,
    /// A label for people.
    #[serde(default)]
    pub label: String,
}

/// A read-only bearer session (`POST /v1/sessions`). `Debug` does not print the token.
#[derive(Debug, Clone)]
pub struct Session {
    /// The bearer token (`tgs_...`): a secret, send it only to this gateway.
    pub token: SecretString,
    /// Expiry, Unix milliseconds.
    pub expires_ms: i64,
    /// The scopes it grants.
    pub scopes: Vec<String>,
}

/// The wire form of [`Session`], turned into it at once so the token never sits in a `String`
/// that prints.
#[derive(Deserialize)]
pub(crate) struct SessionWire {
    pub(crate) token: String,
    pub(crate) expires_ms: i64,
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
}

impl From<SessionWire> for Session {
    fn from(w: SessionWire) -> Self {
        Self {
            token: SecretString::new(w.token),
            expires_ms: w.expires_ms,
            scopes: w.scopes,
        }
    }
}
