//! tradeguard-sim
