//! tradeguard-vault
