//! tradeguard-audit
