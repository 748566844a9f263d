//! The small types [`super::Event`] is made of.

use rust_decimal::Decimal;
use tradeguard_crypto::secret::SecretString;

/// Who acted: a principal's name (public) and the key id it signed with (HMAC-ed), and where
/// the request came from (HMAC-ed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The principal's name.
    pub principal: String,
    /// The key id of the request (`did:key:…` or HMAC key id).
    pub key_id: SecretString,
    /// The peer address, if known.
    pub address: Option<SecretString>,
}

impl Actor {
    /// An actor without a known address.
    pub fn new(principal: &str, key_id: &str) -> Self {
        Self {
            principal: principal.to_owned(),
            key_id: SecretString::new(key_id.to_owned()),
            address: None,
        }
    }

    /// The same actor seen from `address`.
    pub fn from_address(mut self, address: &str) -> Self {
        self.address = Some(SecretString::new(address.to_owned()));
        self
    }
}

/// How a request was authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// RFC 9421 signature with the principal's Ed25519 key.
    Signature,
    /// RFC 9421 signature with an HMAC key.
    Hmac,
    /// Bearer session token.
    Session,
    /// Sealed intent opened by the gateway.
    Intent,
}

impl AuthMethod {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Signature => "signature",
            Self::Hmac => "hmac",
            Self::Session => "session",
            Self::Intent => "intent",
        }
    }
}

/// Why authentication was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthFailure {
    /// The signature does not verify.
    BadSignature,
    /// The key id names no principal.
    UnknownKey,
    /// `created` is outside the accepted window.
    OutsideWindow,
    /// The nonce was seen before.
    Replayed,
    /// The body does not match its Content-Digest.
    BadDigest,
    /// The signature does not cover the required components.
    MissingComponents,
    /// The session token is unknown or expired.
    BadSession,
    /// The principal lacks the scope the request needs.
    InsufficientScope,
    /// The key or address is locked out.
    LockedOut,
    /// A sealed intent did not open.
    BadIntent,
}

impl AuthFailure {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::BadSignature => "bad_signature",
            Self::UnknownKey => "unknown_key",
            Self::OutsideWindow => "outside_window",
            Self::Replayed => "replayed",
            Self::BadDigest => "bad_digest",
            Self::MissingComponents => "missing_components",
            Self::BadSession => "bad_session",
            Self::InsufficientScope => "insufficient_scope",
            Self::LockedOut => "locked_out",
            Self::BadIntent => "bad_intent",
        }
    }
}

/// What a lockout applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockSubject {
    /// A request key id (HMAC-ed).
    Key(SecretString),
    /// A network address (HMAC-ed).
    Address(SecretString),
    /// A principal, by name.
    Principal(String),
}

/// How a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// Its time ran out.
    Expired,
    /// An operator or the threat detector revoked it.
    Revoked,
    /// Its holder closed it.
    Closed,
}

impl SessionEnd {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Closed => "closed",
        }
    }
}

/// An order's identity across its events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRef {
    /// The gateway's idempotency key.
    pub client_order_id: String,
    /// Risk profile.
    pub profile: String,
    /// Exchange.
    pub exchange: String,
    /// Symbol as the exchange writes it.
    pub symbol: String,
}

/// What an `order.filled` entry says about the trade.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FillDetail {
    /// Everything (the default): the trade id, quantity, price and fee.
    Trade {
        /// The exchange's trade id.
        trade_id: String,
        /// Quantity filled by this trade.
        qty: Decimal,
        /// Price of this trade.
        price: Decimal,
        /// Fee charged.
        fee: Decimal,
        /// Asset the fee was charged in, when the exchange reports it (Kraken does not).
        fee_asset: Option<String>,
    },
    /// Aggregated-only mode (`[analytics] aggregated_only`): the trade id is logged as its
    /// HMAC (searchable by whoever holds the trade id) and `qty`, `price`, `fee` and
    /// `fee_asset` are `null`; the trade survives only in the gateway's daily totals.
    Withheld {
        /// The exchange's trade id (logged as its HMAC).
        trade_id: SecretString,
    },
}

/// Order side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

impl Side {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "buy",
            Self::Sell => "sell",
        }
    }
}

/// The gateway's trading state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TradingState {
    /// Orders flow.
    Active,
    /// Only orders that reduce exposure flow.
    Reducing,
    /// No order flows.
    Halted,
}

impl TradingState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Reducing => "reducing",
            Self::Halted => "halted",
        }
    }
}

/// A change to a principal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalChange {
    /// Added.
    Added,
    /// Removed.
    Removed,
    /// Given other scopes.
    ScopesChanged,
}

impl PrincipalChange {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Removed => "removed",
            Self::ScopesChanged => "scopes_changed",
        }
    }
}

/// What the threat detector did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThreatResponse {
    /// Recorded and alerted only.
    Alert,
    /// Slowed the subject down.
    Throttle,
    /// Locked the subject out.
    LockOut,
    /// Moved trading to REDUCING.
    Reduce,
    /// Halted trading.
    Halt,
}

impl ThreatResponse {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Alert => "alert",
            Self::Throttle => "throttle",
            Self::LockOut => "lock_out",
            Self::Reduce => "reduce",
            Self::Halt => "halt",
        }
    }
}
