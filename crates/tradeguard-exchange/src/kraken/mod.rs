//! Kraken spot: HMAC-SHA512 `API-Sign` with a strictly increasing nonce per key.
//!
//! See: <https://docs.kraken.com/api/docs/guides/spot-rest-auth>.

pub mod sign;
