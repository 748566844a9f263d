//! tradeguard-store
