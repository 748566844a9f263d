//! Coinbase Exchange: HMAC-SHA256 with key, secret and passphrase; sandbox and live.
//!
//! See: <https://docs.cdp.coinbase.com/exchange/rest-api/authentication>.

pub mod sign;
