//! External flows of each equity scope: deposits, withdrawals, transfers, and anything else
//! that changes what a scope holds without a trade (a staking reward, a fee charged outside a
//! trade). The exchanges' transfer histories differ in shape, in permissions and in cost (on
//! Binance one withdrawal-history call weighs 18,000), so the gateway infers flows from what it
//! already sees: between two snapshots of a scope, each asset's change in quantity less the
//! change its fills explain (a buy adds the base asset and spends the quote asset, a fee
//! spends its asset), valued at the later snapshot's prices. The report's time-weighted
//! return then removes them.
//!
//! What this gets wrong, and by how much: a trade's fill that reaches the gateway in another
//! poll than the balances it changed, a trade on a pair the gateway does not poll, or a fill
//! recorded before a restart but after the scope's last snapshot, shows as a flow of that
//! trade's quantities. Valued at market prices, a trade's quantities are worth its price
//! slippage and fee, so such a flow is of that size (and, for a late fill, undone by the next
//! snapshot's). A deposit of 1,000 USD is a flow of 1,000 USD.
//!
//! A scope's first snapshot has no flow. The quantities behind each snapshot are stored with
//! it (migration 0009), so the first snapshot after a restart measures the flows since the last
//! one before it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use rust_decimal::Decimal;
use tradeguard_exchange::model::{Fill, Side};
use tradeguard_store::equity::EquityScope;

/// Quantities by asset name.
pub type Holdings = BTreeMap<String, Decimal>;

/// One scope's state between two of its snapshots.
#[derive(Default)]
struct ScopeState {
    account: String,
    /// Quantities at its last snapshot; `None` before its first one.
    prev: Option<Holdings>,
    /// What fills changed since then.
    explained: Holdings,
}

/// The flows of every scope (see the module documentation).
#[derive(Default)]
pub struct FlowTracker {
    scopes: Mutex<HashMap<(EquityScope, String), ScopeState>>,
    /// Last price seen per (quote, asset), for an asset the latest snapshot has no price for
    /// (all of it withdrawn).
    prices: Mutex<HashMap<(String, String), Decimal>>,
}

/// What `f` changes in its account's quantities (the fee in the quote asset when the
/// exchange does not name it).
pub fn fill_effect(f: &Fill) -> Option<Vec<(String, Decimal)>> {
    let base = f.symbol.base().as_str().to_owned();
    let quote = f.symbol.quote().as_str().to_owned();
    let notional = f.quantity.checked_mul(f.price)?;
    let (to_base, to_quote) = match f.side {
        Side::Buy => (f.quantity, -notional),
        Side::Sell => (-f.quantity, notional),
    };
    let fee_asset = f
        .fee_asset
        .as_ref()
        .map_or(quote.clone(), |a| a.as_str().to_owned());
    Some(vec![
        (base, to_base),
        (quote, to_quote),
        (fee_asset, -f.fee),
    ])
}

impl FlowTracker {
    fn lock_scopes(&self) -> std::sync::MutexGuard<'_, HashMap<(EquityScope, String), ScopeState>> {
        self.scopes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds the effect of `account`'s new `fills` to every scope of that account.
    pub fn fills(&self, account: &str, fills: &[Fill]) {
        let effects: Vec<(String, Decimal)> =
            fills.iter().filter_map(fill_effect).flatten().collect();
        let mut scopes = self.lock_scopes();
        for s in scopes.values_mut().filter(|s| s.account == account) {
            for (asset, delta) in &effects {
                let e = s.explained.entry(asset.clone()).or_default();
                *e = e.checked_add(*delta).unwrap_or(*e);
            }
        }
    }

    /// True when the scope's previous quantities are known (in memory).
    pub fn knows(&self, kind: EquityScope, scope: &str) -> bool {
        self.lock_scopes()
            .get(&(kind, scope.to_owned()))
            .is_some_and(|s| s.prev.is_some())
    }

    /// Starts tracking a scope of `account`, with the quantities of its last stored snapshot
    /// if there is one.
    pub fn seed(&self, kind: EquityScope, scope: &str, account: &str, prev: Option<Holdings>) {
        let mut scopes = self.lock_scopes();
        let s = scopes.entry((kind, scope.to_owned())).or_default();
        s.account = account.to_owned();
        if s.prev.is_none() {
            s.prev = prev;
        }
    }

    /// The scope's flow since its last snapshot, in `quote`: each asset's change in `now`
    /// less what fills explain, at `price` (the quote asset at 1; an asset without a price at
    /// the last one seen, else left out). Only the assets `now` or the last snapshot name
    /// count, and, for an account, the assets its fills touched. Zero before the first
    /// snapshot.
    pub fn flow(
        &self,
        kind: EquityScope,
        scope: &str,
        quote: &str,
        now: &Holdings,
        price: impl Fn(&str) -> Option<Decimal>,
    ) -> Decimal {
        let scopes = self.lock_scopes();
        let Some(state) = scopes.get(&(kind, scope.to_owned())) else {
            return Decimal::ZERO;
        };
        let Some(prev) = &state.prev else {
            return Decimal::ZERO;
        };
        let mut assets: BTreeSet<&String> = now.keys().chain(prev.keys()).collect();
        if kind == EquityScope::Account {
            assets.extend(state.explained.keys());
        }
        let mut prices = self.prices.lock().unwrap_or_else(|p| p.into_inner());
        let mut flow = Decimal::ZERO;
        for a in assets {
            let get = |m: &Holdings| m.get(a).copied().unwrap_or_default();
            let Some(delta) = get(now)
                .checked_sub(get(prev))
                .and_then(|d| d.checked_sub(get(&state.explained)))
            else {
                continue;
            };
            if delta.is_zero() {
                continue;
            }
            let key = (quote.to_owned(), a.clone());
            let p = if a == quote {
                Some(Decimal::ONE)
            } else if let Some(p) = price(a) {
                prices.insert(key, p);
                Some(p)
            } else {
                prices.get(&key).copied()
            };
            if let Some(v) = p.and_then(|p| delta.checked_mul(p)) {
                flow = flow.checked_add(v).unwrap_or(flow);
            }
        }
        flow
    }

    /// The scope's snapshot holding `now` was stored: flows start again from it.
    pub fn stored(&self, kind: EquityScope, scope: &str, now: Holdings) {
        let mut scopes = self.lock_scopes();
        if let Some(s) = scopes.get_mut(&(kind, scope.to_owned())) {
            s.prev = Some(now);
            s.explained.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use tradeguard_exchange::model::{Asset, ExchangeOrderId, Symbol, TradeId, UnixMillis};

    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn h(items: &[(&str, &str)]) -> Holdings {
        items.iter().map(|(a, q)| ((*a).to_owned(), d(q))).collect()
    }

    fn fill(side: Side, qty: &str, price: &str, fee: &str, fee_asset: Option<&str>) -> Fill {
        Fill {
            trade_id: TradeId::parse("t").unwrap(),
            exchange_order_id: ExchangeOrderId::parse("o").unwrap(),
            client_order_id: None,
            symbol: Symbol::parse("BTC/USD").unwrap(),
            side,
            price: d(price),
            quantity: d(qty),
            fee: d(fee),
            fee_asset: fee_asset.map(|a| Asset::parse(a).unwrap()),
            is_maker: None,
            time: UnixMillis(1),
        }
    }

    fn btc_at(p: &'static str) -> impl Fn(&str) -> Option<Decimal> {
        move |a| (a == "BTC").then(|| d(p))
    }

    const ACC: EquityScope = EquityScope::Account;
    const PROF: EquityScope = EquityScope::Profile;

    #[test]
    fn a_fill_changes_base_quote_and_fee_asset() {
        let buy = fill_effect(&fill(Side::Buy, "0.5", "60000", "12", None)).unwrap();
        assert_eq!(
            buy,
            [
                ("BTC".into(), d("0.5")),
                ("USD".into(), d("-30000")),
                ("USD".into(), d("-12"))
            ]
        );
        let sell = fill_effect(&fill(Side::Sell, "0.5", "60000", "0.001", Some("BNB"))).unwrap();
        assert_eq!(sell[0], ("BTC".into(), d("-0.5")));
        assert_eq!(sell[1], ("USD".into(), d("30000")));
        assert_eq!(sell[2], ("BNB".into(), d("-0.001")));
    }

    /// Trades explained by their fills are no flow; a deposit and a withdrawal are, at the
    /// later snapshot's prices; the first snapshot has none.
    #[test]
    fn flows_are_what_fills_do_not_explain() {
        let t = FlowTracker::default();
        let now = h(&[("USD", "100000")]);
        t.seed(ACC, "k", "k", None);
        assert_eq!(
            t.flow(ACC, "k", "USD", &now, btc_at("60000")),
            Decimal::ZERO,
            "first"
        );
        t.stored(ACC, "k", now);

        // A buy of 0.5 BTC at 60,000 with a 12 USD fee: no flow.
        t.fills("k", &[fill(Side::Buy, "0.5", "60000", "12", None)]);
        t.fills("other", &[fill(Side::Buy, "9", "1", "0", None)]);
        let now = h(&[("USD", "69988"), ("BTC", "0.5")]);
        assert_eq!(
            t.flow(ACC, "k", "USD", &now, btc_at("61000")),
            Decimal::ZERO
        );
        t.stored(ACC, "k", now);

        // A deposit of 1,000 USD and a withdrawal of 0.1 BTC (at 62,000): 1000 - 6200.
        let now = h(&[("USD", "70988"), ("BTC", "0.4")]);
        assert_eq!(t.flow(ACC, "k", "USD", &now, btc_at("62000")), d("-5200"));
        t.stored(ACC, "k", now);

        // Everything withdrawn: the BTC valued at the last price seen.
        let now = h(&[]);
        assert_eq!(
            t.flow(ACC, "k", "USD", &now, |_| None),
            d("-70988") - d("24800")
        );
    }

    /// A profile counts only its own assets; a fill seen before the balances it changed is a
    /// flow of its slippage and fee, undone at the next snapshot.
    #[test]
    fn profiles_count_their_assets_and_late_fills_even_out() {
        let t = FlowTracker::default();
        t.seed(PROF, "core", "k", Some(h(&[("USD", "1000"), ("BTC", "0")])));
        assert!(t.knows(PROF, "core"));
        // A fill in an asset the profile does not hold: not its flow.
        let mut eth = fill(Side::Buy, "1", "3000", "0", None);
        eth.symbol = Symbol::parse("ETH/EUR").unwrap();
        t.fills("k", &[eth, fill(Side::Buy, "0.01", "50000", "1", None)]);
        // The balances do not show the BTC buy yet: a flow of +501 USD - 0 BTC.
        let now = h(&[("USD", "1000"), ("BTC", "0")]);
        let early = t.flow(PROF, "core", "USD", &now, btc_at("50200"));
        assert_eq!(early, d("501") - d("0.01") * d("50200"));
        t.stored(PROF, "core", now);
        let now = h(&[("USD", "499"), ("BTC", "0.01")]);
        let late = t.flow(PROF, "core", "USD", &now, btc_at("50200"));
        assert_eq!(early + late, Decimal::ZERO, "undone");
        assert_eq!(early, d("-1"), "the size of slippage and fee");
    }
}
