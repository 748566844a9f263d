//! External flows of each equity scope: deposits, withdrawals, transfers, and anything else
//! that changes what a scope holds without a trade the gateway sees (a staking reward, a fee
//! charged outside a trade, a trade on a pair the gateway does not poll). The exchanges'
//! transfer histories differ in shape, in permissions and in cost (on Binance one
//! withdrawal-history call weighs 18,000), so the gateway infers flows from what it already
//! sees: between two snapshots of a scope, each asset's change in quantity less the change
//! explained by the fills executed between the two balance reads (a buy adds the base asset
//! and spends the quote asset, a fee spends its asset), valued at the later snapshot's prices.
//! The report's time-weighted return then removes them.
//!
//! Fills are attributed by their execution time to the interval between two balance reads,
//! whenever they reach the gateway (before a restart, from the start-up reconciliation, from
//! the poller, once each by trade id), so a fill fetched after the balances it changed, or
//! given again after a restart, is counted once, in the right interval. A scope's snapshot
//! stores its quantities and when its balances were read (migration 0009); after a restart the
//! first snapshot measures the flows since the last one before it, with the ledger's fills
//! since that read. What remains wrong: an exchange clock off from the gateway's moves a fill
//! executed within that offset of a balance read into the neighbouring interval (a flow of the
//! trade's quantities in one interval and its opposite in the next, each valued at its own
//! snapshot's prices).
//!
//! Profiles sharing an account share its cash: a fill counts for a profile only when both its
//! assets are the profile's; otherwise what it moved of the profile's assets (the shared cash
//! another profile spent) is a flow of that profile. A scope's first snapshot has no flow.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tradeguard_exchange::model::{Fill, Side};
use tradeguard_store::equity::EquityScope;

/// Quantities by asset name.
pub type Holdings = BTreeMap<String, Decimal>;

/// What a snapshot stores to measure the next flow from (the `holdings` column).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    /// When the balances were read, Unix ms.
    pub read_at_ms: i64,
    /// Each asset's quantity.
    pub quantities: Holdings,
}

/// What one fill changes in its account's quantities.
#[derive(Clone, Debug, PartialEq)]
struct Effect {
    time_ms: i64,
    base: String,
    quote: String,
    deltas: Vec<(String, Decimal)>,
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

/// One scope's last stored snapshot.
struct Prev {
    stored: Stored,
    quote: String,
}

/// One scope.
struct ScopeState {
    account: String,
    prev: Option<Prev>,
}

#[derive(Default)]
struct State {
    scopes: HashMap<(EquityScope, String), ScopeState>,
    /// Fills per account, by trade id, until every scope of the account has read balances
    /// after them.
    fills: HashMap<String, BTreeMap<String, Effect>>,
    /// Last price seen per (quote, asset), for an asset a snapshot has no price for (all of it
    /// withdrawn, or no longer quoted).
    prices: HashMap<(String, String), Decimal>,
}

/// The flows of every scope (see the module documentation).
#[derive(Default)]
pub struct FlowTracker {
    state: Mutex<State>,
}

/// Why a flow could not be measured.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FlowError {
    /// A change is too large to value.
    #[error("the flow of {scope} overflows when valued; its snapshot is skipped")]
    Overflow {
        /// The scope.
        scope: String,
    },
}

impl FlowTracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tracks `scope` of `account` (no previous snapshot yet).
    pub fn register(&self, kind: EquityScope, scope: &str, account: &str) {
        self.lock()
            .scopes
            .entry((kind, scope.to_owned()))
            .or_insert_with(|| ScopeState {
                account: account.to_owned(),
                prev: None,
            });
    }

    /// True when the scope's previous snapshot is known (in memory).
    pub fn knows(&self, kind: EquityScope, scope: &str) -> bool {
        self.lock()
            .scopes
            .get(&(kind, scope.to_owned()))
            .is_some_and(|s| s.prev.is_some())
    }

    /// Measures the scope's flows from `stored`, its last snapshot before this process (in
    /// `quote`, whose `assets` were worth `values`: the last prices seen).
    pub fn seed(
        &self,
        kind: EquityScope,
        scope: &str,
        quote: &str,
        stored: Stored,
        values: &Holdings,
    ) {
        let mut st = self.lock();
        for (asset, value) in values {
            let Some(q) = stored.quantities.get(asset).filter(|q| !q.is_zero()) else {
                continue;
            };
            if let Some(p) = value.checked_div(*q) {
                st.prices
                    .entry((quote.to_owned(), asset.clone()))
                    .or_insert(p);
            }
        }
        if let Some(s) = st.scopes.get_mut(&(kind, scope.to_owned()))
            && s.prev.is_none()
        {
            s.prev = Some(Prev {
                stored,
                quote: quote.to_owned(),
            });
        }
    }

    /// Takes `account`'s `fills`, each once by trade id, whoever gives it (the poller, the
    /// ledger after a restart).
    pub fn fills(&self, account: &str, fills: &[Fill]) {
        let mut st = self.lock();
        let known = st.fills.entry(account.to_owned()).or_default();
        for f in fills {
            let Some(deltas) = fill_effect(f) else {
                continue;
            };
            known.entry(f.trade_id.to_string()).or_insert(Effect {
                time_ms: f.time.0,
                base: f.symbol.base().as_str().to_owned(),
                quote: f.symbol.quote().as_str().to_owned(),
                deltas,
            });
        }
    }

    /// The scope's flow, in `quote`, between its last snapshot and `now` (balances read at
    /// `read_at_ms`): each asset's change less what the fills executed in between explain, at
    /// `price` (the quote asset at 1; an asset without a price at the last one seen, else left
    /// out). A profile counts only its own assets (those `now` or the last snapshot name);
    /// an account every asset. Zero for the scope's first snapshot, or when the quote asset
    /// changed since.
    pub fn flow(
        &self,
        kind: EquityScope,
        scope: &str,
        quote: &str,
        now: &Stored,
        price: impl Fn(&str) -> Option<Decimal>,
    ) -> Result<Decimal, FlowError> {
        let mut st = self.lock();
        let State {
            scopes,
            fills,
            prices,
        } = &mut *st;
        let Some(state) = scopes.get(&(kind, scope.to_owned())) else {
            return Ok(Decimal::ZERO);
        };
        let Some(prev) = state.prev.as_ref().filter(|p| p.quote == quote) else {
            return Ok(Decimal::ZERO);
        };
        let overflow = || FlowError::Overflow {
            scope: scope.to_owned(),
        };
        let own: BTreeSet<&String> = now
            .quantities
            .keys()
            .chain(prev.stored.quantities.keys())
            .collect();
        let mut explained = Holdings::new();
        let since = prev.stored.read_at_ms;
        let between = fills
            .get(&state.account)
            .into_iter()
            .flat_map(|m| m.values());
        for e in between.filter(|e| e.time_ms > since && e.time_ms <= now.read_at_ms) {
            let counts =
                kind == EquityScope::Account || (own.contains(&e.base) && own.contains(&e.quote));
            if !counts {
                continue;
            }
            for (asset, delta) in &e.deltas {
                if kind == EquityScope::Profile && !own.contains(asset) {
                    continue;
                }
                let slot = explained.entry(asset.clone()).or_default();
                *slot = slot.checked_add(*delta).ok_or_else(overflow)?;
            }
        }
        let mut assets = own;
        if kind == EquityScope::Account {
            assets.extend(explained.keys());
        }
        let mut flow = Decimal::ZERO;
        for a in assets {
            let get = |m: &Holdings| m.get(a).copied().unwrap_or_default();
            let delta = get(&now.quantities)
                .checked_sub(get(&prev.stored.quantities))
                .and_then(|d| d.checked_sub(get(&explained)))
                .ok_or_else(overflow)?;
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
            let Some(p) = p else {
                tracing::warn!(%scope, asset = %a, "an asset moved in or out without any price seen; left out of the flow");
                continue;
            };
            let value = delta.checked_mul(p).ok_or_else(overflow)?;
            flow = flow.checked_add(value).ok_or_else(overflow)?;
        }
        Ok(flow)
    }

    /// The scope's snapshot holding `now` (in `quote`) was stored: flows start again from it.
    pub fn stored(&self, kind: EquityScope, scope: &str, quote: &str, now: Stored) {
        let mut st = self.lock();
        let Some(s) = st.scopes.get_mut(&(kind, scope.to_owned())) else {
            return;
        };
        s.prev = Some(Prev {
            stored: now,
            quote: quote.to_owned(),
        });
        let account = s.account.clone();
        // Fills every measured scope of the account has read balances after are no longer
        // needed (a scope without a snapshot yet has no flow at its first).
        let oldest = st
            .scopes
            .values()
            .filter(|s| s.account == account)
            .filter_map(|s| s.prev.as_ref().map(|p| p.stored.read_at_ms))
            .min()
            .unwrap_or(i64::MIN);
        if let Some(m) = st.fills.get_mut(&account) {
            m.retain(|_, e| e.time_ms > oldest);
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

    fn at(read_at_ms: i64, items: &[(&str, &str)]) -> Stored {
        Stored {
            read_at_ms,
            quantities: items.iter().map(|(a, q)| ((*a).to_owned(), d(q))).collect(),
        }
    }

    fn fill(id: &str, t: i64, side: Side, qty: &str, price: &str, fee: &str) -> Fill {
        Fill {
            trade_id: TradeId::parse(id).unwrap(),
            exchange_order_id: ExchangeOrderId::parse("o").unwrap(),
            client_order_id: None,
            symbol: Symbol::parse("BTC/USD").unwrap(),
            side,
            price: d(price),
            quantity: d(qty),
            fee: d(fee),
            fee_asset: None,
            is_maker: None,
            time: UnixMillis(t),
        }
    }

    fn btc_at(p: &'static str) -> impl Fn(&str) -> Option<Decimal> {
        move |a| (a == "BTC").then(|| d(p))
    }

    const ACC: EquityScope = EquityScope::Account;
    const PROF: EquityScope = EquityScope::Profile;

    /// Tracks account `k` and records its first snapshot.
    fn tracker(first: Stored) -> FlowTracker {
        let t = FlowTracker::default();
        t.register(ACC, "k", "k");
        assert_eq!(
            t.flow(ACC, "k", "USD", &first, btc_at("1")),
            Ok(Decimal::ZERO)
        );
        t.stored(ACC, "k", "USD", first);
        t
    }

    #[test]
    fn a_fill_changes_base_quote_and_fee_asset() {
        let buy = fill_effect(&fill("t", 1, Side::Buy, "0.5", "60000", "12")).unwrap();
        assert_eq!(
            buy,
            [
                ("BTC".into(), d("0.5")),
                ("USD".into(), d("-30000")),
                ("USD".into(), d("-12"))
            ]
        );
        let mut sell = fill("t", 1, Side::Sell, "0.5", "60000", "0.001");
        sell.fee_asset = Some(Asset::parse("BNB").unwrap());
        let sell = fill_effect(&sell).unwrap();
        assert_eq!(sell[0], ("BTC".into(), d("-0.5")));
        assert_eq!(sell[1], ("USD".into(), d("30000")));
        assert_eq!(sell[2], ("BNB".into(), d("-0.001")));
    }

    /// Trades explained by their fills are no flow; a deposit and a withdrawal are, at the
    /// later snapshot's prices.
    #[test]
    fn flows_are_what_fills_do_not_explain() {
        let t = tracker(at(100, &[("USD", "100000")]));
        t.fills("k", &[fill("t1", 150, Side::Buy, "0.5", "60000", "12")]);
        t.fills("other", &[fill("x", 150, Side::Buy, "9", "1", "0")]);
        let now = at(200, &[("USD", "69988"), ("BTC", "0.5")]);
        assert_eq!(
            t.flow(ACC, "k", "USD", &now, btc_at("61000")),
            Ok(Decimal::ZERO)
        );
        t.stored(ACC, "k", "USD", now);

        // A deposit of 1,000 USD and a withdrawal of 0.1 BTC (at 62,000): 1000 - 6200.
        let now = at(300, &[("USD", "70988"), ("BTC", "0.4")]);
        assert_eq!(
            t.flow(ACC, "k", "USD", &now, btc_at("62000")),
            Ok(d("-5200"))
        );
        t.stored(ACC, "k", "USD", now);

        // Everything withdrawn: the BTC valued at the last price seen.
        let now = at(400, &[]);
        let all = d("-70988") - d("0.4") * d("62000");
        assert_eq!(t.flow(ACC, "k", "USD", &now, |_| None), Ok(all));
    }

    /// A fill fetched after the balances it did not change yet counts in the next interval;
    /// the same fill given again (after a restart) counts once.
    #[test]
    fn fills_count_in_the_interval_they_executed_in_and_once() {
        let t = tracker(at(100, &[("USD", "1000"), ("BTC", "0")]));
        // Balances read at 200 do not show the fill at 250, fetched in the same poll.
        t.fills("k", &[fill("t1", 250, Side::Buy, "0.01", "50000", "1")]);
        let now = at(200, &[("USD", "1000"), ("BTC", "0")]);
        assert_eq!(
            t.flow(ACC, "k", "USD", &now, btc_at("50200")),
            Ok(Decimal::ZERO)
        );
        t.stored(ACC, "k", "USD", now);
        t.fills("k", &[fill("t1", 250, Side::Buy, "0.01", "50000", "1")]);
        let now = at(300, &[("USD", "499"), ("BTC", "0.01")]);
        assert_eq!(
            t.flow(ACC, "k", "USD", &now, btc_at("50400")),
            Ok(Decimal::ZERO)
        );
        t.stored(ACC, "k", "USD", now);
        // Given again later (a restart's first poll): before the last read, not counted.
        t.fills("k", &[fill("t1", 250, Side::Buy, "0.01", "50000", "1")]);
        let now = at(400, &[("USD", "499"), ("BTC", "0.01")]);
        assert_eq!(
            t.flow(ACC, "k", "USD", &now, btc_at("60000")),
            Ok(Decimal::ZERO)
        );
    }

    /// After a restart: the last stored snapshot and the fills since its read.
    #[test]
    fn a_restart_measures_from_the_last_stored_snapshot() {
        let t = FlowTracker::default();
        t.register(ACC, "k", "k");
        let values = Holdings::from([
            ("BTC".to_owned(), d("10000")),
            ("USD".to_owned(), d("1000")),
        ]);
        t.seed(
            ACC,
            "k",
            "USD",
            at(100, &[("USD", "1000"), ("BTC", "0.2")]),
            &values,
        );
        assert!(t.knows(ACC, "k"));
        // Filled while stopped (from the ledger), and given again by the poller.
        let sold = fill("t9", 150, Side::Sell, "0.1", "52000", "2");
        t.fills("k", std::slice::from_ref(&sold));
        t.fills("k", &[sold]);
        // And 3,000 USD and 0.1 BTC withdrawn; BTC no longer quoted: valued at 50,000, its
        // price in the stored snapshot.
        let now = at(200, &[("USD", "3198")]);
        assert_eq!(t.flow(ACC, "k", "USD", &now, |_| None), Ok(d("-8000")));
        // A different quote asset since: no flow.
        assert_eq!(t.flow(ACC, "k", "USDT", &now, |_| None), Ok(Decimal::ZERO));
    }

    /// Profiles sharing an account's cash: a fill with both assets in the profile is its
    /// own; the cash another profile's fill spent is a flow out of this one.
    #[test]
    fn profiles_count_fills_of_their_own_assets() {
        let t = FlowTracker::default();
        for p in ["btc", "cash"] {
            t.register(PROF, p, "k");
        }
        let btc0 = at(100, &[("USD", "50000"), ("BTC", "0")]);
        let cash0 = at(100, &[("USD", "50000")]);
        t.stored(PROF, "btc", "USD", btc0);
        t.stored(PROF, "cash", "USD", cash0);
        t.fills("k", &[fill("t1", 150, Side::Buy, "0.5", "60000", "0")]);
        let mut eth = fill("t2", 150, Side::Buy, "1", "3000", "0");
        eth.symbol = Symbol::parse("ETH/EUR").unwrap();
        t.fills("k", &[eth]);
        let btc = at(200, &[("USD", "20000"), ("BTC", "0.5")]);
        let cash = at(200, &[("USD", "20000")]);
        assert_eq!(
            t.flow(PROF, "btc", "USD", &btc, btc_at("60000")),
            Ok(Decimal::ZERO)
        );
        assert_eq!(
            t.flow(PROF, "cash", "USD", &cash, btc_at("60000")),
            Ok(d("-30000")),
            "the shared cash went to the other profile"
        );
    }

    #[test]
    fn fail_flows_too_large_to_value() {
        let t = tracker(at(100, &[("BTC", "0")]));
        let now = at(200, &[("BTC", "79228162514264337593543950335")]);
        let e = t.flow(ACC, "k", "USD", &now, btc_at("2")).unwrap_err();
        assert!(e.to_string().contains("skipped"), "{e}");
    }
}
