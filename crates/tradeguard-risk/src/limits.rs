//! Portfolio limits shared by every profile: concentration per asset, minimum number of
//! assets, excluded assets and category caps with their asset-to-category table.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use crate::ids::Asset;

/// The default asset-to-category table; configuration entries add to it or override it.
pub const DEFAULT_CATEGORIES: &[(&str, &str)] = &[
    ("BTC", LARGE_CAP),
    ("ETH", LARGE_CAP),
    ("SOL", MID_CAP),
    ("XRP", MID_CAP),
    ("ADA", MID_CAP),
    ("DOT", MID_CAP),
    ("AVAX", MID_CAP),
    ("LINK", MID_CAP),
    ("LTC", MID_CAP),
    ("BCH", MID_CAP),
    ("ATOM", MID_CAP),
    ("NEAR", MID_CAP),
    ("UNI", MID_CAP),
    ("TRX", MID_CAP),
    ("TON", MID_CAP),
    ("DOGE", MID_CAP),
    ("POL", MID_CAP),
    ("USDC", STABLECOIN),
    ("USDT", STABLECOIN),
    ("DAI", STABLECOIN),
    ("BUSD", STABLECOIN),
    ("TUSD", STABLECOIN),
    ("USDP", STABLECOIN),
    ("PYUSD", STABLECOIN),
    ("FDUSD", STABLECOIN),
];

/// Category name for the largest assets.
pub const LARGE_CAP: &str = "large_cap";
/// Category name for mid-sized assets.
pub const MID_CAP: &str = "mid_cap";
/// Category name for stablecoins.
pub const STABLECOIN: &str = "stablecoin";

/// The default excluded assets.
pub const DEFAULT_EXCLUDED: &[&str] = &["USDT", "BUSD", "DAI"];

/// Portfolio limits that apply to every profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioLimits {
    /// Largest weight of any one asset in a profile's value (cash excepted).
    pub max_concentration: Decimal,
    /// Fewest assets a profile's target allocation may hold.
    pub min_assets: usize,
    /// Assets no profile may trade or target.
    pub excluded: BTreeSet<Asset>,
    /// Asset to category name.
    pub categories: BTreeMap<Asset, String>,
    /// Category name to the largest combined weight of its assets.
    pub category_caps: BTreeMap<String, Decimal>,
}

impl Default for PortfolioLimits {
    /// 25% per asset, at least 3 assets, USDT/BUSD/DAI excluded, large-cap 40%, mid-cap 20%,
    /// stablecoins 30%, and the [`DEFAULT_CATEGORIES`] table.
    fn default() -> Self {
        let asset = |s: &str| Asset::new(s).ok();
        Self {
            max_concentration: Decimal::new(25, 2),
            min_assets: 3,
            excluded: DEFAULT_EXCLUDED.iter().filter_map(|s| asset(s)).collect(),
            categories: DEFAULT_CATEGORIES
                .iter()
                .filter_map(|(a, c)| Some((asset(a)?, (*c).to_owned())))
                .collect(),
            category_caps: [(LARGE_CAP, 40), (MID_CAP, 20), (STABLECOIN, 30)]
                .into_iter()
                .map(|(c, p)| (c.to_owned(), Decimal::new(p, 2)))
                .collect(),
        }
    }
}

impl PortfolioLimits {
    /// The category of `asset` and its cap, if the asset has a capped category.
    pub fn capped_category(&self, asset: &Asset) -> Option<(&str, Decimal)> {
        let cat = self.categories.get(asset)?;
        let cap = self.category_caps.get(cat)?;
        Some((cat.as_str(), *cap))
    }

    /// `true` when `asset` may not be traded.
    pub fn is_excluded(&self, asset: &Asset) -> bool {
        self.excluded.contains(asset)
    }

    /// The combined weight per capped category of the given weights.
    pub fn category_weights<'a>(
        &'a self,
        weights: impl Iterator<Item = (&'a Asset, Decimal)>,
    ) -> BTreeMap<&'a str, Decimal> {
        let mut sums: BTreeMap<&str, Decimal> = BTreeMap::new();
        for (asset, w) in weights {
            if let Some((cat, _)) = self.capped_category(asset) {
                *sums.entry(cat).or_default() += w;
            }
        }
        sums
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_issue() {
        let l = PortfolioLimits::default();
        assert_eq!(l.max_concentration, Decimal::new(25, 2));
        assert_eq!(l.min_assets, 3);
        let excluded: Vec<&str> = l.excluded.iter().map(Asset::as_str).collect();
        assert_eq!(excluded, ["BUSD", "DAI", "USDT"]);
        let btc = Asset::new("BTC").unwrap();
        assert_eq!(
            l.capped_category(&btc),
            Some((LARGE_CAP, Decimal::new(40, 2)))
        );
        let usdc = Asset::new("USDC").unwrap();
        assert_eq!(
            l.capped_category(&usdc),
            Some((STABLECOIN, Decimal::new(30, 2)))
        );
        assert_eq!(l.capped_category(&Asset::new("ARB").unwrap()), None);
    }
}
