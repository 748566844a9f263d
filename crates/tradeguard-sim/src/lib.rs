//! tradeguard-sim: exchange simulators (placeholder root while modules land).

pub mod engine;
