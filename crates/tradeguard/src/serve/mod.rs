//! `tradeguard serve`: the gateway with everything wired.
//!
//! - [`config`]: the strict configuration file (`tradeguard.example.toml`).
//! - [`run`]: the start sequence, the server's life and its graceful stop.
//! - [`secrets`]: the exchange connectors' secret source over the vault.
//! - [`venues`]: order routing over the exchange connectors; [`halt`]: the halt's cancel-all.
//! - [`risk`], [`market`]: the risk gate fed with live balances, prices and rules;
//!   [`approved`]: approved orders on their way to the ledger; [`history`]: polled prices
//!   for the strategies' statistics; [`rebalance`]: portfolios, plans and the scheduler.
//! - [`audit`]: the audit log, vault events into it, checkpoints; [`tasks`]: polling and
//!   key rotation; [`bootstrap`]: TLS certificate and the first controller; [`ledger`]: the
//!   durable order ledger and poll snapshots; [`evidence`]: the audit evidence and the signed
//!   report the API serves; [`equity`], [`equity_report`]: the equity history it is computed
//!   from.
//! - [`demo`]: `tradeguard demo`, the whole product on loopback.

pub mod approved;
pub mod audit;
pub mod bootstrap;
pub mod config;
pub mod config_audit;
pub mod demo;
pub mod equity;
pub mod equity_report;
pub mod evidence;
pub mod fill_fold;
pub mod flows;
pub mod halt;
pub mod history;
pub mod intents;
pub mod ledger;
pub mod market;
pub mod order_events;
pub mod rebalance;
pub mod rebalance_history;
pub mod risk;
pub mod run;
pub mod secrets;
pub mod tasks;
pub mod venues;
