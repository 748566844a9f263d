//! Subcommand handlers, one module per area.

pub mod analytics;
pub mod audit;
pub mod backup;
pub mod bench;
pub mod client;
pub mod credentials;
pub mod datadir;
pub mod demo;
pub mod doctor;
pub mod init;
pub mod intents;
pub mod keys;
pub mod metrics_token;
pub mod risk;
pub mod seal;
pub mod serve;
pub mod sim;
