//! tradeguard-analytics
