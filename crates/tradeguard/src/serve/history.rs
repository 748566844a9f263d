//! Last prices as the poller saw them, one sample per account and poll, for the strategies
//! that need market statistics (risk-adjusted, volatility-targeted, momentum). A profile's
//! statistics use its strategy's lookback of the newest samples that price every asset it
//! targets, annualized by the measured time between samples. Until there are 3 such samples
//! (and after each start: the history is kept in memory only) the plan falls back to the
//! configured targets and says so (`configured_no_stats`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use rust_decimal::prelude::ToPrimitive;
use tradeguard_exchange::model::Symbol as ExSymbol;
use tradeguard_risk::profile::Profile;
use tradeguard_risk::stats::MarketStats;

use super::market::Quote;

/// Samples kept per account (the longest lookback a profile may use is shorter).
pub const MAX_SAMPLES: usize = 1024;

const YEAR_SECS: f64 = 365.25 * 24.0 * 3600.0;

struct Sample {
    at: Instant,
    /// `BASE/QUOTE` to last price.
    prices: BTreeMap<String, f64>,
}

/// Price samples per account.
#[derive(Default)]
pub struct PriceHistory {
    samples: Mutex<HashMap<String, VecDeque<Sample>>>,
}

impl PriceHistory {
    fn samples(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Sample>>> {
        self.samples.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records `account`'s last prices now.
    pub fn record(&self, account: &str, quotes: &BTreeMap<ExSymbol, Quote>) {
        self.record_at(account, quotes, Instant::now());
    }

    fn record_at(&self, account: &str, quotes: &BTreeMap<ExSymbol, Quote>, at: Instant) {
        let prices: BTreeMap<String, f64> = quotes
            .iter()
            .filter_map(|(s, q)| Some((s.to_string(), q.last?.to_f64()?)))
            .filter(|(_, p)| p.is_finite() && *p > 0.0)
            .collect();
        if prices.is_empty() {
            return;
        }
        let mut all = self.samples();
        let list = all.entry(account.to_owned()).or_default();
        if list.len() == MAX_SAMPLES {
            list.pop_front();
        }
        list.push_back(Sample { at, prices });
    }

    /// `profile`'s statistics over its strategy's lookback on `account` (`None`: the
    /// strategy needs none, or there are fewer than 3 complete samples).
    pub fn stats(&self, account: &str, profile: &Profile) -> Option<MarketStats> {
        let lookback = profile.strategy.lookback()?;
        let assets: Vec<_> = profile
            .targets
            .keys()
            .filter(|a| **a != profile.quote)
            .cloned()
            .collect();
        let symbols: Vec<String> = assets
            .iter()
            .map(|a| format!("{a}/{}", profile.quote))
            .collect();
        let all = self.samples();
        let complete: Vec<&Sample> = all
            .get(account)?
            .iter()
            .rev()
            .filter(|s| symbols.iter().all(|k| s.prices.contains_key(k)))
            .take(lookback + 1)
            .collect();
        let (newest, oldest) = (complete.first()?, complete.last()?);
        let n = complete.len();
        let spacing = newest.at.duration_since(oldest.at).as_secs_f64() / (n as f64 - 1.0);
        if n < 3 || spacing <= 0.0 {
            return None;
        }
        let series: Vec<Vec<f64>> = symbols
            .iter()
            .map(|k| complete.iter().rev().map(|s| s.prices[k]).collect())
            .collect();
        MarketStats::from_prices(assets, &series, YEAR_SECS / spacing)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rust_decimal::Decimal;
    use tradeguard_risk::ids::{AccountId, Asset, Exchange, ProfileId};
    use tradeguard_risk::profile::{ProfileType, Strategy};

    use super::*;

    fn quotes(btc: i64, eth: Option<i64>) -> BTreeMap<ExSymbol, Quote> {
        let q = |p: i64| Quote {
            rules: None,
            last: Some(Decimal::from(p)),
        };
        let mut out = BTreeMap::from([(ExSymbol::parse("BTC/USD").unwrap(), q(btc))]);
        if let Some(e) = eth {
            out.insert(ExSymbol::parse("ETH/USD").unwrap(), q(e));
        }
        out
    }

    fn profile(strategy: Strategy) -> Profile {
        let targets = [("BTC", 20), ("ETH", 20)]
            .into_iter()
            .map(|(a, w)| (Asset::new(a).unwrap(), Decimal::new(w, 2)))
            .collect();
        let account = AccountId {
            exchange: Exchange::Kraken,
            credential: "k".into(),
        };
        let id = ProfileId::new("p").unwrap();
        let usd = Asset::new("USD").unwrap();
        let mut p = Profile::with_defaults(id, account, ProfileType::Moderate, usd, targets);
        p.strategy = strategy;
        p
    }

    #[test]
    fn stats_need_three_complete_samples_of_every_target() {
        let h = PriceHistory::default();
        let p = profile(Strategy::RiskAdjusted { lookback: 10 });
        let t0 = Instant::now();
        let at = |m: u64| t0 + Duration::from_secs(60 * m);
        h.record_at("k", &quotes(100, Some(10)), at(0));
        h.record_at("k", &quotes(101, None), at(1)); // no ETH: not complete
        h.record_at("k", &quotes(102, Some(11)), at(2));
        assert!(h.stats("k", &p).is_none(), "two complete samples");
        h.record_at("k", &quotes(99, Some(10)), at(3));
        let s = h.stats("k", &p).expect("three complete samples");
        let (btc, eth) = (Asset::new("BTC").unwrap(), Asset::new("ETH").unwrap());
        assert!(s.volatility(&btc).unwrap() > 0.0);
        assert!(s.momentum(&eth).unwrap().abs() < 1e-12, "10 -> 10");
        assert!(h.stats("other", &p).is_none());
        assert!(h.stats("k", &profile(Strategy::Threshold)).is_none());
    }

    #[test]
    fn the_lookback_bounds_the_window() {
        let h = PriceHistory::default();
        let t0 = Instant::now();
        for (i, btc) in [50, 100, 100, 100].into_iter().enumerate() {
            let at = t0 + Duration::from_secs(60 * i as u64);
            h.record_at("k", &quotes(btc, Some(10)), at);
        }
        let btc = Asset::new("BTC").unwrap();
        let short = h.stats("k", &profile(Strategy::RiskAdjusted { lookback: 2 }));
        assert_eq!(
            short.unwrap().momentum(&btc),
            Some(0.0),
            "the jump is older"
        );
        let long = h.stats("k", &profile(Strategy::RiskAdjusted { lookback: 3 }));
        assert!(long.unwrap().momentum(&btc).unwrap() > 0.6, "ln 2");
    }
}
