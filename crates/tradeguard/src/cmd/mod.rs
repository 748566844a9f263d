//! Subcommand handlers, one module per area.

pub mod analytics;
pub mod audit;
pub mod bench;
pub mod demo;
pub mod doctor;
pub mod risk;
pub mod sim;
