//! The backtest loop: every profile of a configuration over one price history, each step
//! valuing the profile, feeding its breakers, and rebalancing when its schedule says so. Every
//! order goes through [`check_order`] with the profile's live state, exactly as in production,
//! and fills at its limit price with the fee.

use std::collections::BTreeMap;
use std::time::Duration;

use rand_chacha::ChaCha20Rng;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::history::PriceHistory;
use super::report::{Metrics, ProfileReport};
use crate::RiskError;
use crate::check::{CheckContext, check_order};
use crate::config::RiskConfig;
use crate::ids::{Asset, Timestamp};
use crate::limits::PortfolioLimits;
use crate::market::{InstrumentRules, Market, Portfolio};
use crate::order::{Order, Side};
use crate::profile::{Profile, TradingState};
use crate::rebalance::{PlanInput, RebalanceSchedule, plan_rebalance};
use crate::separation::profile_rng;
use crate::state::ProfileState;
use crate::stats::MarketStats;

/// How a backtest runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacktestOptions {
    /// Cash each profile starts with, in the quote asset.
    pub initial_cash: Decimal,
    /// Fee per fill, as a fraction of its notional.
    pub fee_rate: Decimal,
    /// Whether profiles randomize (their configured factor) or not (factor 0).
    pub randomize: bool,
    /// Seed of the profiles' random streams.
    pub seed: u64,
    /// The asset the history's prices are in; every profile must quote in it.
    pub quote: Asset,
    /// Smallest order notional the simulated exchange accepts.
    pub min_notional: Decimal,
}

impl BacktestOptions {
    /// 100,000 USD per profile, 0.1% fees, randomization on, seed 0, minimum notional 10.
    pub fn new(seed: u64, randomize: bool) -> Result<Self, RiskError> {
        Ok(Self {
            initial_cash: Decimal::new(100_000, 0),
            fee_rate: Decimal::new(1, 3),
            randomize,
            seed,
            quote: Asset::new("USD")?,
            min_notional: Decimal::TEN,
        })
    }
}

/// What a backtest produced.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestReport {
    /// Whether randomization was on.
    pub randomized: bool,
    /// Steps run.
    pub steps: usize,
    /// First timestamp.
    pub start: Timestamp,
    /// Last timestamp.
    pub end: Timestamp,
    /// One report per profile, in configuration order.
    pub profiles: Vec<ProfileReport>,
}

/// Runs every profile of `config` over `history`. `progress(done, total)` is called about 200
/// times over the run and once at the end.
pub fn run(
    config: &RiskConfig,
    history: &PriceHistory,
    options: &BacktestOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<BacktestReport, RiskError> {
    let (Some(&start), Some(&end)) = (history.times().first(), history.times().last()) else {
        return Err(RiskError::Backtest("the price history is empty".into()));
    };
    let mut market = initial_market(history, options)?;
    let mut runners = config
        .profiles
        .iter()
        .map(|p| Runner::new(p, config, history, options))
        .collect::<Result<Vec<_>, _>>()?;
    let ppy = history.periods_per_year();
    let every = (history.len() / 200).max(1);
    for i in 0..history.len() {
        let (now, row) = (history.times()[i], history.row(i).unwrap_or_default());
        for (asset, price) in history.assets().iter().zip(row) {
            market.set_price(asset.clone(), *price)?;
        }
        for r in &mut runners {
            r.step(
                i,
                now,
                &market,
                history,
                &config.limits,
                ppy,
                config.rebalancing.enabled,
            )?;
        }
        if i % every == 0 {
            progress(i, history.len());
        }
    }
    progress(history.len(), history.len());
    let profiles = runners
        .into_iter()
        .map(|r| r.metrics.report(r.profile, options.initial_cash))
        .collect();
    Ok(BacktestReport {
        randomized: options.randomize,
        steps: history.len(),
        start,
        end,
        profiles,
    })
}

/// A market with the first prices and instrument rules derived from them: ticks at 6
/// significant digits of the first price, steps such that one step is worth about 1% of a unit
/// of quote, the configured minimum notional.
fn initial_market(history: &PriceHistory, options: &BacktestOptions) -> Result<Market, RiskError> {
    let mut market = Market::new(options.quote.clone(), options.fee_rate)?;
    let first = history.row(0).unwrap_or_default();
    for (asset, price) in history.assets().iter().zip(first) {
        let magnitude = price.to_f64().unwrap_or(1.0).log10().floor() as i32;
        let unit = |exp: i32| {
            Decimal::new(1, u32::try_from(-exp.min(0)).unwrap_or(0).min(12)) * pow10(exp.max(0))
        };
        let tick = unit((magnitude - 5).min(0));
        let step = unit((-magnitude - 2).min(0));
        market.set_instrument(
            asset.clone(),
            InstrumentRules::new(tick, step, step, options.min_notional)?,
        );
        market.set_price(asset.clone(), *price)?;
    }
    Ok(market)
}

fn pow10(exp: i32) -> Decimal {
    (0..exp.clamp(0, 12)).fold(Decimal::ONE, |acc, _| acc * Decimal::TEN)
}

/// One profile's simulated account.
struct Runner<'a> {
    profile: &'a Profile,
    columns: Vec<(Asset, usize)>,
    portfolio: Portfolio,
    state: ProfileState,
    schedule: RebalanceSchedule,
    rng: ChaCha20Rng,
    randomization: Decimal,
    metrics: Metrics,
    last_state: TradingState,
}

impl<'a> Runner<'a> {
    fn new(
        profile: &'a Profile,
        config: &RiskConfig,
        history: &PriceHistory,
        options: &BacktestOptions,
    ) -> Result<Self, RiskError> {
        if profile.quote != options.quote {
            return Err(RiskError::Backtest(format!(
                "profile `{}` quotes in {} but the prices are in {}",
                profile.id, profile.quote, options.quote
            )));
        }
        let columns = profile
            .targets
            .keys()
            .map(|a| history.column(a).map(|c| (a.clone(), c)))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                RiskError::Backtest(format!(
                    "the price history lacks an asset of profile `{}`",
                    profile.id
                ))
            })?;
        let randomization = if options.randomize {
            config.randomization(profile)
        } else {
            Decimal::ZERO
        };
        Ok(Self {
            profile,
            columns,
            portfolio: Portfolio::with_cash(options.initial_cash)?,
            state: ProfileState::new(),
            schedule: RebalanceSchedule::new(),
            rng: profile_rng(options.seed, &profile.id),
            randomization,
            metrics: Metrics::default(),
            last_state: TradingState::Active,
        })
    }

    #[allow(clippy::too_many_arguments)] // one call site; a struct would only rename these
    fn step(
        &mut self,
        i: usize,
        now: Timestamp,
        market: &Market,
        history: &PriceHistory,
        limits: &PortfolioLimits,
        ppy: f64,
        enabled: bool,
    ) -> Result<(), RiskError> {
        let v = self.portfolio.value(market).map_err(|_| {
            RiskError::Backtest(format!("profile `{}` could not be valued", self.profile.id))
        })?;
        self.metrics.observe(&v, now);
        let state = self.state.observe_value(self.profile, v.total, now);
        if state > TradingState::Active && self.last_state == TradingState::Active {
            self.metrics.breaker_trips += 1;
        }
        self.last_state = state;
        self.metrics.in_state(state);
        // A HALTED profile can place nothing: planning would only collect refusals.
        if !enabled
            || state == TradingState::Halted
            || self.schedule.due(self.profile, limits, &v, now).is_none()
        {
            return Ok(());
        }
        let stats = self.stats(i, history, ppy);
        let input = PlanInput {
            profile: self.profile,
            limits,
            portfolio: &self.portfolio,
            market,
            stats: stats.as_ref(),
            randomization: self.randomization,
            open_orders: &[], // every approved order fills at once: none stays open
        };
        let plan = plan_rebalance(&input, &mut self.rng)?;
        for s in &plan.skipped {
            *self.metrics.skipped.entry(s.reason.code()).or_default() += 1;
        }
        let value = v.total;
        let traded = self.submit(plan.orders, now, market, limits);
        if traded > Decimal::ZERO {
            self.schedule.record(
                self.profile,
                plan.reference,
                now,
                self.randomization,
                &mut self.rng,
            );
            self.metrics.rebalanced(now, traded, value);
        }
        Ok(())
    }

    /// Statistics over the strategy's lookback, ending at step `i`.
    fn stats(&self, i: usize, history: &PriceHistory, ppy: f64) -> Option<MarketStats> {
        let lookback = self.profile.strategy.lookback()?;
        let from = i.saturating_sub(lookback);
        let series: Vec<Vec<f64>> = self
            .columns
            .iter()
            .map(|(_, c)| {
                (from..=i)
                    .filter_map(|r| history.row(r).and_then(|row| row[*c].to_f64()))
                    .collect()
            })
            .collect();
        MarketStats::from_prices(
            self.columns.iter().map(|(a, _)| a.clone()).collect(),
            &series,
            ppy,
        )
    }

    /// Submits the plan's orders one by one, spaced to respect the order rate, through the full
    /// pre-trade check; fills the approved ones. Returns the notional traded.
    fn submit(
        &mut self,
        orders: Vec<Order>,
        now: Timestamp,
        market: &Market,
        limits: &PortfolioLimits,
    ) -> Decimal {
        let spacing = Duration::from_millis(
            60_000 / u64::from(self.profile.max_orders_per_minute.max(1)) + 1,
        );
        let mut traded = Decimal::ZERO;
        for (k, order) in orders.into_iter().enumerate() {
            let at = now.plus(spacing * u32::try_from(k).unwrap_or(u32::MAX));
            let ctx = CheckContext {
                profile: self.profile,
                limits,
                state: &self.state,
                portfolio: &self.portfolio,
                market,
                now: at,
            };
            match check_order(&ctx, order) {
                Ok(approved) => {
                    let o = approved.get();
                    let price = o.limit_price().unwrap_or_default();
                    let buy = o.side() == Side::Buy;
                    if self
                        .portfolio
                        .apply_fill(
                            o.symbol().base(),
                            buy,
                            o.quantity(),
                            price,
                            market.fee_rate(),
                        )
                        .is_some()
                    {
                        self.state.record_order(at);
                        let notional = o.quantity() * price;
                        traded += notional;
                        self.metrics.filled(notional, notional * market.fee_rate());
                    }
                }
                Err(refusal) => {
                    for r in &refusal.reasons {
                        *self.metrics.refusals.entry(r.code()).or_default() += 1;
                    }
                }
            }
        }
        traded
    }
}

/// Refusal counts keyed by [`crate::check::Rejection::code`].
pub type Counts = BTreeMap<&'static str, u64>;
