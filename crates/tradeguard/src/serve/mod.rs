//! `tradeguard serve`: the gateway with everything wired (being built; today its configuration
//! file is parsed and checked here, and `tradeguard config check` uses it).

pub mod config;
