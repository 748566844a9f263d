//! Property tests: no plan and no approved order ever breaks a limit, for random portfolios,
//! prices and configurations. Limits are verified independently of the checks: each order is
//! applied to a copy of the portfolio, which is then valued afresh. `open_orders.rs` does the
//! same with open orders.

mod common;

use common::{POOL, World, dec, world};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rust_decimal::Decimal;
use tradeguard_risk::check::{CheckContext, check_order, static_rejections};
use tradeguard_risk::ids::{Asset, ClientOrderId, ProfileId, Symbol, Timestamp};
use tradeguard_risk::market::Portfolio;
use tradeguard_risk::order::{Order, OrderType, Side};
use tradeguard_risk::profile::Profile;
use tradeguard_risk::rebalance::{PlanInput, plan_rebalance};
use tradeguard_risk::state::ProfileState;

/// Asserts that `order`, filled on `port`, breaks no limit; returns the portfolio after it.
fn assert_within_limits(
    w: &World,
    port: &Portfolio,
    order: &Order,
) -> Result<Portfolio, TestCaseError> {
    let (m, l, p) = (&w.market, &w.limits, &w.profile);
    let base = order.symbol().base();
    let last = m.price(base).unwrap();
    let price = order.limit_price().unwrap_or(last);
    let rules = m.instrument(base).unwrap();
    let before = port.value(m).unwrap();
    let notional = order.quantity() * price;
    prop_assert!(
        p.trades(base) && !l.is_excluded(base),
        "asset {base} not allowed"
    );
    prop_assert!(notional <= p.max_order_notional, "notional {notional}");
    prop_assert!(
        notional <= p.max_position_size * before.total,
        "position {notional} of {}",
        before.total
    );
    prop_assert!(
        (price - last).abs() <= p.price_band * last,
        "band: {price} vs {last}"
    );
    prop_assert!(
        order.quantity() >= rules.min_quantity && notional >= rules.min_notional,
        "minimums"
    );
    if rules.step_size > Decimal::ZERO {
        prop_assert!((order.quantity() % rules.step_size).is_zero(), "step");
    }
    if let (Some(limit), true) = (order.limit_price(), rules.tick_size > Decimal::ZERO) {
        prop_assert!((limit % rules.tick_size).is_zero(), "tick");
    }
    let mut after = port.clone();
    let filled = after.apply_fill(
        base,
        order.side() == Side::Buy,
        order.quantity(),
        price,
        m.fee_rate(),
    );
    prop_assert!(filled.is_some(), "balance does not cover {order:?}");
    if order.side() == Side::Buy {
        let v = after.value(m).unwrap();
        let weight = v.weight(base);
        prop_assert!(
            weight <= l.max_concentration,
            "{base} at {weight} above {}",
            l.max_concentration
        );
        if let Some((cat, cap)) = l.capped_category(base) {
            let sum: Decimal = v
                .values
                .keys()
                .filter(|a| l.capped_category(a).is_some_and(|(c, _)| c == cat))
                .map(|a| v.weight(a))
                .sum();
            prop_assert!(
                sum <= cap + Decimal::new(1, 20),
                "{cat} at {sum} above {cap}"
            );
        }
    }
    Ok(after)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn no_plan_breaks_a_limit(w in world(), seed in any::<u64>()) {
        let input = PlanInput { profile: &w.profile, limits: &w.limits, portfolio: &w.portfolio, market: &w.market, stats: None, randomization: w.profile.randomization_factor, open_orders: &[] };
        let plan = plan_rebalance(&input, &mut ChaCha20Rng::seed_from_u64(seed)).unwrap();
        let total: Decimal = plan.targets.values().copied().sum();
        prop_assert!(total <= Decimal::ONE);
        for (a, t) in &plan.targets {
            prop_assert!(*t >= Decimal::ZERO && *t <= w.limits.max_concentration, "target {a} {t}");
            prop_assert!(!w.limits.is_excluded(a) || t.is_zero());
        }
        for (cat, sum) in w.limits.category_weights(plan.targets.iter().map(|(a, t)| (a, *t))) {
            prop_assert!(sum <= w.limits.category_caps[cat], "category {cat} target {sum}");
        }
        let mut port = w.portfolio.clone();
        for o in &plan.orders {
            port = assert_within_limits(&w, &port, o)?;
        }
    }

    #[test]
    fn no_approved_order_breaks_a_limit(
        w in world(),
        idx in 0usize..64,
        in_set in proptest::bool::weighted(0.9),
        buy in any::<bool>(),
        size_bp in 1i64..15000,
        offset_bp in -300i64..300,
        market_order in any::<bool>(),
    ) {
        let base = if in_set {
            w.profile.targets.keys().nth(idx % w.profile.targets.len()).unwrap().clone()
        } else {
            Asset::new(POOL[idx % POOL.len()]).unwrap()
        };
        let last = w.market.price(&base).unwrap();
        let rules = *w.market.instrument(&base).unwrap();
        let total = w.portfolio.value(&w.market).unwrap().total;
        let price = rules.floor_price(last * (Decimal::ONE + Decimal::new(offset_bp, 4)));
        // Sized around the largest order the profile allows, so that many orders pass.
        let largest = (w.profile.max_position_size * total).min(w.profile.max_order_notional);
        let qty = rules.floor_quantity(largest * Decimal::new(size_bp, 4) / last);
        let ty = if market_order { OrderType::Market } else { OrderType::Limit { price } };
        let side = if buy { Side::Buy } else { Side::Sell };
        let symbol = Symbol::new(base, Asset::new("USD").unwrap()).unwrap();
        let Ok(order) = Order::new(w.profile.id.clone(), ClientOrderId::new("prop-1").unwrap(), symbol, side, ty, qty) else {
            return Ok(()); // zero quantity or price after rounding: not an order
        };
        let state = ProfileState::new();
        let ctx = CheckContext { profile: &w.profile, limits: &w.limits, state: &state, portfolio: &w.portfolio, market: &w.market, now: Timestamp::from_secs(1_700_000_000) };
        let statics = static_rejections(&w.profile, &w.limits, &w.portfolio, &w.market, &order);
        match check_order(&ctx, order.clone()) {
            Ok(approved) => {
                prop_assert!(statics.is_empty());
                assert_within_limits(&w, &w.portfolio, approved.get())?;
            }
            Err(refusal) => {
                prop_assert!(!refusal.reasons.is_empty());
                for r in &statics {
                    prop_assert!(refusal.reasons.contains(r), "{r:?} missing from {:?}", refusal.reasons);
                }
            }
        }
    }

    #[test]
    fn two_profiles_never_share_an_order_id(w in world(), seed in any::<u64>()) {
        let mut other = w.profile.clone();
        other.id = ProfileId::new("prop-other").unwrap();
        let ids = |p: &Profile, s: u64| -> Vec<ClientOrderId> {
            let input = PlanInput { profile: p, limits: &w.limits, portfolio: &w.portfolio, market: &w.market, stats: None, randomization: Decimal::ZERO, open_orders: &[] };
            let plan = plan_rebalance(&input, &mut tradeguard_risk::separation::profile_rng(s, &p.id)).unwrap();
            plan.orders.iter().map(|o| o.client_order_id().clone()).collect()
        };
        let (a, b) = (ids(&w.profile, seed), ids(&other, seed));
        prop_assert!(a.iter().all(|id| !b.contains(id)));
    }
}

/// Random configurations: whatever `config::check` accepts satisfies the limits it promises.
mod config_props {
    use super::*;
    use tradeguard_risk::config::check;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn accepted_configs_respect_every_limit(
            assets in proptest::sample::subsequence(POOL, 1..=6),
            weights in proptest::collection::vec(0u32..40, 6),
            conc in 5u32..60,
        ) {
            let alloc: Vec<String> = assets.iter().zip(&weights).map(|(a, w)| format!("{a} = 0.{w:02}")).collect();
            let text = format!(
                "[rebalancing]\nmax_concentration = 0.{conc:02}\n[profiles.p]\nexchange = \"kraken\"\ntype = \"moderate\"\ntarget_allocation = {{ {} }}\n",
                alloc.join(", ")
            );
            if let Ok(cfg) = check(&text) {
                let l = &cfg.limits;
                let p = &cfg.profiles[0];
                prop_assert!(p.targets.values().filter(|w| **w > Decimal::ZERO).count() >= l.min_assets);
                prop_assert!(p.targets.values().copied().sum::<Decimal>() <= Decimal::ONE);
                for (a, w) in &p.targets {
                    prop_assert!(*w <= l.max_concentration && !l.is_excluded(a));
                }
                for (cat, sum) in l.category_weights(p.targets.iter().map(|(a, w)| (a, *w))) {
                    prop_assert!(sum <= l.category_caps[cat]);
                }
            }
        }
    }
}

/// The parsers of outside input: never a panic, and CSV histories round-trip.
mod parser_props {
    use super::*;
    use tradeguard_risk::backtest::{PriceHistory, parse_csv};
    use tradeguard_risk::config::check;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn csv_histories_round_trip(
            assets in proptest::sample::subsequence(POOL, 1..=4),
            steps in proptest::collection::vec((1i64..100_000, proptest::collection::vec(dec(1..=1_000_000_000_000, 0..=8), 4)), 1..20),
        ) {
            let mut assets: Vec<Asset> = assets.iter().map(|a| Asset::new(a).unwrap()).collect();
            assets.sort(); // the parser orders columns by asset code
            let mut t = 1_600_000_000;
            let (mut times, mut rows) = (Vec::new(), Vec::new());
            for (gap, prices) in steps {
                t += gap;
                times.push(Timestamp::from_secs(t));
                rows.push(prices[..assets.len()].to_vec());
            }
            let h = PriceHistory::new(assets, times, rows).unwrap();
            prop_assert_eq!(parse_csv(&h.to_csv()).unwrap(), h);
        }

        #[test]
        fn parsers_never_panic(text in "\\PC{0,400}", csvish in "(timestamp,asset,price\n)?([0-9]{1,3},[A-Z]{1,4},[0-9.]{1,6}\n){0,10}") {
            let _ = parse_csv(&text);
            let _ = parse_csv(&csvish);
            let _ = check(&text);
            let _ = tradeguard_risk::config::check_syntax(&text);
        }
    }
}
