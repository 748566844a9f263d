//! Subcommand handlers, one module per area.

pub mod sim;
