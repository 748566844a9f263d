//! Fuzzes the configuration parser and checker: no input panics, and a configuration that
//! passes every check keeps every promise the checker makes (and checks the same again).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;
use tradeguard_risk::config::check;
use tradeguard_risk::separation::shared_account_overlaps;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cfg) = check(text) else { return };
    let l = &cfg.limits;
    for p in &cfg.profiles {
        assert!(p.targets.values().copied().sum::<Decimal>() <= Decimal::ONE);
        assert!(p.targets.values().filter(|w| **w > Decimal::ZERO).count() >= l.min_assets);
        assert!(!p.targets.contains_key(&p.quote) && !l.is_excluded(&p.quote));
        for (asset, w) in &p.targets {
            assert!(*w >= Decimal::ZERO && *w <= l.max_concentration && !l.is_excluded(asset));
        }
        for (category, sum) in l.category_weights(p.targets.iter().map(|(a, w)| (a, *w))) {
            assert!(sum <= l.category_caps[category]);
        }
        assert!(p.randomization_factor <= cfg.rebalancing.randomization_factor);
    }
    assert!(shared_account_overlaps(&cfg.profiles).is_empty());
    assert_eq!(check(text), Ok(cfg));
});
