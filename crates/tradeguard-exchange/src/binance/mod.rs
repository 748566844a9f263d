//! Binance spot: HMAC-SHA256 and Ed25519 API keys, request weight per minute.
//!
//! See: <https://developers.binance.com/docs/binance-spot-api-docs/rest-api>.

pub mod sign;
