//! Subcommand handlers, one module per area.
