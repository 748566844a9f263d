//! tradeguard-risk
