//! Generators shared by the property tests: random profiles, limits, markets and portfolios.

#![allow(dead_code)] // each test file uses its own part

use std::collections::BTreeMap;

use proptest::prelude::*;
use rust_decimal::Decimal;
use tradeguard_risk::ids::{AccountId, Asset, Exchange, ProfileId};
use tradeguard_risk::limits::PortfolioLimits;
use tradeguard_risk::market::{Balance, InstrumentRules, Market, Portfolio};
use tradeguard_risk::profile::{Profile, ProfileType};

pub const POOL: &[&str] = &[
    "BTC", "ETH", "SOL", "ADA", "DOT", "USDC", "USDT", "ARB", "OP", "INJ",
];

pub fn dec(
    mantissa: std::ops::RangeInclusive<i64>,
    scale: std::ops::RangeInclusive<u32>,
) -> impl Strategy<Value = Decimal> {
    (mantissa, scale).prop_map(|(m, s)| Decimal::new(m, s))
}

pub fn frac(lo_bp: i64, hi_bp: i64) -> impl Strategy<Value = Decimal> {
    (lo_bp..=hi_bp).prop_map(|bp| Decimal::new(bp, 4))
}

#[derive(Debug, Clone)]
pub struct World {
    pub profile: Profile,
    pub limits: PortfolioLimits,
    pub market: Market,
    pub portfolio: Portfolio,
}

pub fn limits() -> impl Strategy<Value = PortfolioLimits> {
    (
        frac(500, 6000),
        frac(500, 9000),
        frac(500, 9000),
        frac(500, 9000),
        1usize..5,
        any::<bool>(),
    )
        .prop_map(|(conc, large, mid, stable, min_assets, exclude)| {
            let mut l = PortfolioLimits {
                max_concentration: conc,
                min_assets,
                ..Default::default()
            };
            l.category_caps.insert("large_cap".into(), large);
            l.category_caps.insert("mid_cap".into(), mid);
            l.category_caps.insert("stablecoin".into(), stable);
            if !exclude {
                l.excluded.clear();
            }
            l
        })
}

pub fn profile() -> impl Strategy<Value = Profile> {
    let kinds = prop_oneof![
        Just(ProfileType::Conservative),
        Just(ProfileType::Moderate),
        Just(ProfileType::Aggressive),
        Just(ProfileType::Arbitrage)
    ];
    (
        proptest::sample::subsequence(POOL, 3..=8),
        proptest::collection::vec(frac(0, 4000), 8),
        kinds,
        frac(100, 5000),
        dec(10..=1_000_000, 0..=0),
        frac(10, 2000),
        frac(0, 5000),
    )
        .prop_map(|(assets, weights, kind, pos, notional, band, rand)| {
            let targets: BTreeMap<Asset, Decimal> = assets
                .iter()
                .zip(weights)
                .map(|(a, w)| (Asset::new(a).unwrap(), w))
                .collect();
            let account = AccountId {
                exchange: Exchange::Binance,
                credential: "main".into(),
            };
            let mut p = Profile::with_defaults(
                ProfileId::new("prop").unwrap(),
                account,
                kind,
                Asset::new("USD").unwrap(),
                targets,
            );
            p.max_position_size = pos;
            p.max_order_notional = notional;
            p.price_band = band;
            p.randomization_factor = rand;
            p
        })
}

pub fn rules() -> impl Strategy<Value = InstrumentRules> {
    let unit = prop_oneof![
        Just(Decimal::ZERO),
        Just(Decimal::new(1, 6)),
        Just(Decimal::new(1, 4)),
        Just(Decimal::new(1, 2)),
        Just(Decimal::ONE)
    ];
    (unit.clone(), unit, dec(0..=100, 0..=2)).prop_map(|(tick, step, min_notional)| {
        InstrumentRules::new(tick, step, step, min_notional).unwrap()
    })
}

pub fn world() -> impl Strategy<Value = World> {
    (
        profile(),
        limits(),
        proptest::collection::vec(
            (
                dec(1..=1_000_000_000, 0..=6),
                rules(),
                dec(0..=100_000_000, 0..=2),
            ),
            POOL.len(),
        ),
        frac(0, 100),
        dec(0..=100_000_000, 0..=2),
    )
        .prop_map(|(profile, limits, per_asset, fee, cash)| {
            let mut market = Market::new(Asset::new("USD").unwrap(), fee).unwrap();
            let mut portfolio = Portfolio::with_cash(cash).unwrap();
            for (code, (price, rules, value)) in POOL.iter().zip(per_asset) {
                let a = Asset::new(code).unwrap();
                let qty = (value / price).round_dp(8);
                market.set_price(a.clone(), price).unwrap();
                market.set_instrument(a.clone(), rules);
                portfolio
                    .set_holding(
                        a,
                        Balance {
                            free: qty,
                            locked: Decimal::ZERO,
                        },
                    )
                    .unwrap();
            }
            World {
                profile,
                limits,
                market,
                portfolio,
            }
        })
}
