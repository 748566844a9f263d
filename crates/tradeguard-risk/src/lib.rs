//! `tradeguard-risk`: the risk engine. Profiles, portfolio limits, pre-trade checks and
//! rebalancing plans, as pure functions over balances, prices, open orders and history. No
//! I/O: no files, sockets or clocks; time and randomness are passed in.
//!
//! The only way to obtain a [`RiskApproved<Order>`], the type the exchange connectors accept,
//! is [`check::check_order_with_open`] (or [`check::check_order`] for a profile without open
//! orders), which either approves an order or refuses it with every failed check. An order is
//! judged as if the profile's open orders had filled too; [`open`] says how each check counts
//! them.
//!
//! Where things are:
//! - [`order`], [`ids`], [`market`]: the order, its identifiers, prices, instrument rules and
//!   balances (all parsed at the boundary; money is `Decimal`).
//! - [`profile`], [`limits`], [`state`]: profile types and defaults, portfolio limits, and the
//!   mutable trading state (operator state, loss breakers, order-rate window) the caller keeps.
//! - [`open`]: the profile's open orders ([`OpenOrder`]) and what they commit it to.
//! - [`check`]: the pre-trade checks; [`rebalance`]: schedules, targets and plans;
//!   [`separation`]: rules that keep profiles apart; [`stats`]: volatility and correlation.
//! - [`config`]: the strict TOML configuration and its checker; [`backtest`]: the backtest
//!   engine, CSV price histories and seeded simulations.
//!
//! ```
//! use tradeguard_risk::check::{check_order, CheckContext};
//! use tradeguard_risk::ids::{AccountId, Asset, ClientOrderId, Exchange, ProfileId, Symbol, Timestamp};
//! use tradeguard_risk::limits::PortfolioLimits;
//! use tradeguard_risk::market::{InstrumentRules, Market, Portfolio};
//! use tradeguard_risk::order::{Order, OrderType, Side};
//! use tradeguard_risk::profile::{Profile, ProfileType};
//! use tradeguard_risk::state::ProfileState;
//! use rust_decimal::Decimal;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (btc, usd) = (Asset::new("BTC")?, Asset::new("USD")?);
//! let targets = [("BTC", 20), ("ETH", 20), ("SOL", 10)]
//!     .into_iter()
//!     .map(|(a, w)| Ok((Asset::new(a)?, Decimal::new(w, 2))))
//!     .collect::<Result<_, tradeguard_risk::RiskError>>()?;
//! let account = AccountId { exchange: Exchange::Binance, credential: "main".into() };
//! let profile = Profile::with_defaults(ProfileId::new("p1")?, account, ProfileType::Moderate, usd.clone(), targets);
//!
//! let mut market = Market::new(usd.clone(), Decimal::new(1, 3))?;
//! market.set_price(btc.clone(), Decimal::new(50_000, 0))?;
//! let rules = InstrumentRules::new(Decimal::new(1, 2), Decimal::new(1, 5), Decimal::new(1, 5), Decimal::TEN)?;
//! market.set_instrument(btc.clone(), rules);
//! let portfolio = Portfolio::with_cash(Decimal::new(100_000, 0))?;
//!
//! let order = Order::new(
//!     profile.id.clone(),
//!     ClientOrderId::new("order-1")?,
//!     Symbol::new(btc, usd)?,
//!     Side::Buy,
//!     OrderType::Limit { price: Decimal::new(50_000, 0) },
//!     Decimal::new(1, 1), // 0.1 BTC = 5% of the profile
//! )?;
//! let limits = PortfolioLimits::default();
//! let state = ProfileState::new();
//! let ctx = CheckContext {
//!     profile: &profile,
//!     limits: &limits,
//!     state: &state,
//!     portfolio: &portfolio,
//!     market: &market,
//!     now: Timestamp::from_secs(1_700_000_000),
//! };
//! let approved = check_order(&ctx, order).expect("fits every limit");
//! assert_eq!(approved.get().quantity(), Decimal::new(1, 1));
//! # Ok(())
//! # }
//! ```

pub mod backtest;
pub mod check;
pub mod config;
mod error;
#[cfg(test)]
mod fixtures;
pub mod ids;
pub mod limits;
pub mod market;
pub mod open;
pub mod order;
pub mod profile;
pub mod rebalance;
pub mod separation;
pub mod state;
pub mod stats;

pub use error::RiskError;
pub use open::OpenOrder;
pub use order::{Order, RiskApproved};
