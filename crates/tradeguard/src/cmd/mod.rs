//! Subcommand handlers, one module per area.

pub mod analytics;
pub mod sim;
