//! Separation between profiles. Profiles on one exchange account share its balances, so each
//! must trade only its own assets: if two profiles could trade the same asset (or one traded
//! the asset the other uses as cash), one could undo the other's rebalancing. The
//! configuration checker refuses such overlaps with [`shared_account_overlaps`].
//!
//! Order streams stay distinct as well: client order ids start with the profile's tag, and
//! backtests draw each profile's randomness from its own ChaCha stream ([`profile_rng`]).

use std::collections::BTreeSet;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::ids::{AccountId, Asset, ProfileId};
use crate::profile::Profile;

/// Two profiles on one account whose assets overlap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    /// The shared account.
    pub account: AccountId,
    /// The first profile (in configuration order).
    pub first: ProfileId,
    /// The second profile.
    pub second: ProfileId,
    /// Assets both trade.
    pub shared_assets: Vec<Asset>,
    /// Assets one trades that the other holds as its cash (quote asset).
    pub cash_conflicts: Vec<Asset>,
}

/// Every pair of profiles on the same account whose asset sets overlap, or where one trades
/// the other's quote asset.
pub fn shared_account_overlaps(profiles: &[Profile]) -> Vec<Overlap> {
    let mut out = Vec::new();
    for (i, p) in profiles.iter().enumerate() {
        for q in profiles
            .iter()
            .skip(i + 1)
            .filter(|q| q.account == p.account)
        {
            let pa: BTreeSet<&Asset> = p.targets.keys().collect();
            let qa: BTreeSet<&Asset> = q.targets.keys().collect();
            let shared_assets: Vec<Asset> = pa.intersection(&qa).map(|a| (*a).clone()).collect();
            let cash_conflicts: Vec<Asset> = [(&pa, &q.quote), (&qa, &p.quote)]
                .into_iter()
                .filter(|(set, quote)| set.contains(quote))
                .map(|(_, quote)| quote.clone())
                .collect();
            if !shared_assets.is_empty() || !cash_conflicts.is_empty() {
                out.push(Overlap {
                    account: p.account.clone(),
                    first: p.id.clone(),
                    second: q.id.clone(),
                    shared_assets,
                    cash_conflicts,
                });
            }
        }
    }
    out
}

/// A reproducible random stream for `profile` in a backtest seeded with `seed`: the same seed
/// gives every profile a different stream.
pub fn profile_rng(seed: u64, profile: &ProfileId) -> ChaCha20Rng {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let stream = profile
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    rng.set_stream(stream);
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{a, profile};
    use crate::ids::Exchange;
    use rand::Rng;

    #[test]
    fn overlaps_on_shared_accounts_only() {
        let p1 = profile(); // BTC ETH SOL USDC on binance/main, quote USD
        let mut p2 = profile();
        p2.id = ProfileId::new("p2").unwrap();
        p2.targets = [a("BTC"), a("ADA")]
            .into_iter()
            .map(|x| (x, Default::default()))
            .collect();
        let mut p3 = p2.clone();
        p3.id = ProfileId::new("p3").unwrap();
        p3.account.exchange = Exchange::Kraken;
        let mut p4 = p2.clone();
        p4.id = ProfileId::new("p4").unwrap();
        p4.account.credential = "other".into();
        p4.targets = [a("ADA"), a("DOT")]
            .into_iter()
            .map(|x| (x, Default::default()))
            .collect();
        let found = shared_account_overlaps(&[p1.clone(), p2, p3, p4.clone()]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].first.as_str(), found[0].second.as_str()),
            ("p1", "p2")
        );
        assert_eq!(found[0].shared_assets, [a("BTC")]);

        let mut p5 = p4;
        p5.account = p1.account.clone();
        p5.quote = a("USDC");
        let found = shared_account_overlaps(&[p1, p5]);
        assert_eq!(found[0].cash_conflicts, [a("USDC")]);
    }

    #[test]
    fn profile_streams_differ() {
        let (x, y) = (ProfileId::new("a").unwrap(), ProfileId::new("b").unwrap());
        let (mut rx, mut ry) = (profile_rng(1, &x), profile_rng(1, &y));
        assert_ne!(rx.random::<u64>(), ry.random::<u64>());
        assert_eq!(
            profile_rng(1, &x).random::<u64>(),
            profile_rng(1, &x).random::<u64>()
        );
    }
}
