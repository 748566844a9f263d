//! Coinbase Advanced Trade (`/api/v3/brokerage`): a JWT per request, ES256 or EdDSA keys.
//!
//! See: <https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/rest-api>.

pub mod sign;
