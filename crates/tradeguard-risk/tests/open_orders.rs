//! Property tests with open orders: for random portfolios, prices, configurations and open
//! orders, no approved order and no plan breaks a limit once every open order fills too, nor
//! once any other set of them fills (a resting order may also never fill). Limits are verified
//! independently of the checks, on a ledger of totals that applies the fills one by one.
//!
//! The open orders are generated consistent with the balances (buys within the cash, sells
//! within the holdings); each one's reservation is either shown as `locked` (fresh balances) or
//! still counted in `free` (balances read before the order was placed).

mod common;

use std::collections::BTreeMap;

use common::{POOL, World, world};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rust_decimal::Decimal;
use tradeguard_risk::check::{CheckContext, OpenOrder, check_order_with_open};
use tradeguard_risk::ids::{Asset, ClientOrderId, Symbol, Timestamp};
use tradeguard_risk::market::{Balance, Market, Portfolio};
use tradeguard_risk::order::{Order, OrderType, Side};
use tradeguard_risk::rebalance::{PlanInput, plan_rebalance};
use tradeguard_risk::state::ProfileState;

/// One generated open order: asset pick, side, share of what is available, limit offset in
/// basis points (or a market order), and whether the balances already show it as locked.
type Spec = (usize, bool, i64, i64, bool, bool);

fn usd() -> Asset {
    Asset::new("USD").unwrap()
}

/// What a buy of `qty` reserves: at its limit (a market buy: at the top of the band), plus
/// the fee.
fn reservation(w: &World, qty: Decimal, last: Decimal, limit: Option<Decimal>) -> Decimal {
    let band = w.profile.price_band.clamp(Decimal::ZERO, Decimal::ONE);
    qty * limit.unwrap_or(last * (Decimal::ONE + band)) * (Decimal::ONE + w.market.fee_rate())
}

/// Builds open orders from `specs`, each within what earlier ones left, and the portfolio as
/// the exchange reports it (locked parts for the fresh ones).
fn opens(w: &World, specs: &[Spec]) -> (Portfolio, Vec<OpenOrder>) {
    let mut port = w.portfolio.clone();
    let mut cash_left = port.cash().free;
    let mut left: BTreeMap<Asset, Decimal> =
        port.holdings().map(|(a, b)| (a.clone(), b.free)).collect();
    let mut out = Vec::new();
    for &(pick, buy, share_bp, offset_bp, market_order, locked) in specs {
        let assets: Vec<&Asset> = w.profile.targets.keys().collect();
        let asset = if pick % 5 == 0 {
            Asset::new(POOL[pick % POOL.len()]).unwrap()
        } else {
            assets[pick % assets.len()].clone()
        };
        let last = w.market.price(&asset).unwrap();
        let limit = (!market_order)
            .then(|| (last * (Decimal::ONE + Decimal::new(offset_bp, 4))).round_dp(6))
            .filter(|p| *p > Decimal::ZERO);
        let share = Decimal::new(share_bp, 4);
        let (qty, reserve) = if buy {
            let unit = reservation(w, Decimal::ONE, last, limit);
            let qty = (cash_left * share / unit).trunc_with_scale(8);
            (qty, reservation(w, qty, last, limit))
        } else {
            let qty = (left.get(&asset).copied().unwrap_or_default() * share).trunc_with_scale(8);
            (qty, qty)
        };
        let side = if buy { Side::Buy } else { Side::Sell };
        let symbol = Symbol::new(asset.clone(), usd()).unwrap();
        let Ok(open) = OpenOrder::new(symbol, side, qty, limit) else {
            continue; // nothing left to reserve, or out of range
        };
        if buy {
            cash_left -= reserve;
        } else {
            *left.entry(asset.clone()).or_default() -= reserve;
        }
        if locked {
            let b = if buy {
                port.cash()
            } else {
                port.holding(&asset)
            };
            let b = Balance {
                free: b.free - reserve,
                locked: b.locked + reserve,
            };
            if buy {
                port.set_cash(b).unwrap()
            } else {
                port.set_holding(asset, b).unwrap()
            }
        }
        out.push(open);
    }
    (port, out)
}

fn specs() -> impl Strategy<Value = Vec<Spec>> {
    proptest::collection::vec(
        (
            0usize..64,
            any::<bool>(),
            1i64..=8000,
            -500i64..=500,
            proptest::bool::weighted(0.2),
            any::<bool>(),
        ),
        0..6,
    )
}

/// Totals only: cash and quantity per asset, as the fills leave them.
#[derive(Debug, Clone)]
struct Ledger {
    cash: Decimal,
    qty: BTreeMap<Asset, Decimal>,
}

impl Ledger {
    fn of(p: &Portfolio) -> Self {
        Self {
            cash: p.cash().total(),
            qty: p.holdings().map(|(a, b)| (a.clone(), b.total())).collect(),
        }
    }

    fn fill(&mut self, asset: &Asset, side: Side, qty: Decimal, price: Decimal, fee: Decimal) {
        let notional = qty * price;
        let held = self.qty.entry(asset.clone()).or_default();
        match side {
            Side::Buy => {
                self.cash -= notional * (Decimal::ONE + fee);
                *held += qty;
            }
            Side::Sell => {
                self.cash += notional * (Decimal::ONE - fee);
                *held -= qty;
            }
        }
    }

    fn fill_open(&mut self, o: &OpenOrder, m: &Market) {
        let last = m.price(o.symbol().base()).unwrap();
        let price = o.limit_price().unwrap_or(last);
        self.fill(
            o.symbol().base(),
            o.side(),
            o.remaining(),
            price,
            m.fee_rate(),
        );
    }

    fn value_of(&self, a: &Asset, m: &Market) -> Decimal {
        self.qty.get(a).copied().unwrap_or_default() * m.price(a).unwrap()
    }

    fn total(&self, m: &Market) -> Decimal {
        self.cash
            + self
                .qty
                .keys()
                .map(|a| self.value_of(a, m))
                .sum::<Decimal>()
    }
}

/// The sets of open orders that may fill: all, none, only the buys, a random one.
fn subsets(open: &[OpenOrder], mask: u64) -> Vec<Vec<&OpenOrder>> {
    vec![
        open.iter().collect(),
        vec![],
        open.iter().filter(|o| o.side() == Side::Buy).collect(),
        open.iter()
            .enumerate()
            .filter(|(i, _)| mask >> (i % 64) & 1 == 1)
            .map(|(_, o)| o)
            .collect(),
    ]
}

/// What `order` needs of its balance, the balance, and what the open orders reserve of it.
fn balance_needs(
    w: &World,
    port: &Portfolio,
    open: &[OpenOrder],
    order: &Order,
) -> (Decimal, Balance, Decimal) {
    let m = &w.market;
    let base = order.symbol().base();
    let reserved = |side: Side, asset: Option<&Asset>| -> Decimal {
        open.iter()
            .filter(|o| o.side() == side && asset.is_none_or(|a| o.symbol().base() == a))
            .map(|o| match side {
                Side::Buy => {
                    let last = m.price(o.symbol().base()).unwrap();
                    reservation(w, o.remaining(), last, o.limit_price())
                }
                Side::Sell => o.remaining(),
            })
            .sum()
    };
    match order.side() {
        Side::Buy => (
            reservation(
                w,
                order.quantity(),
                m.price(base).unwrap(),
                order.limit_price(),
            ),
            port.cash(),
            reserved(Side::Buy, None),
        ),
        Side::Sell => (
            order.quantity(),
            port.holding(base),
            reserved(Side::Sell, Some(base)),
        ),
    }
}

/// The balance rule: an order fits in `free`, and with every open order's reservation in
/// `free + locked` (so stale balances that still count a reservation as free are corrected,
/// and fresh ones that show it as locked are not charged twice).
fn fits(needed: Decimal, balance: Balance, others: Decimal) -> bool {
    needed <= balance.free && needed + others <= balance.total()
}

/// Decimals keep 28 significant digits, so a plan's running balances, subtracted in another
/// order than here, can differ in the last digits.
const ROUNDING: Decimal = Decimal::from_parts(1, 0, 0, false, 18);

/// Asserts the rules that concern `order` alone and its balance now.
fn assert_order_rules(
    w: &World,
    port: &Portfolio,
    open: &[OpenOrder],
    order: &Order,
) -> Result<(), TestCaseError> {
    let (m, l, p) = (&w.market, &w.limits, &w.profile);
    let base = order.symbol().base();
    let last = m.price(base).unwrap();
    let price = order.limit_price().unwrap_or(last);
    let rules = m.instrument(base).unwrap();
    let notional = order.quantity() * price;
    prop_assert!(
        p.trades(base) && !l.is_excluded(base),
        "asset {base} not allowed"
    );
    prop_assert!(notional <= p.max_order_notional, "notional {notional}");
    prop_assert!(
        (price - last).abs() <= p.price_band * last,
        "band: {price} vs {last}"
    );
    prop_assert!(
        order.quantity() >= rules.min_quantity && notional >= rules.min_notional,
        "minimums"
    );
    let (needed, balance, others) = balance_needs(w, port, open, order);
    prop_assert!(
        fits(needed - ROUNDING, balance, others),
        "{needed} with open {others} does not fit {balance:?}"
    );
    Ok(())
}

/// Fills `order` on `ledger`, asserting the max position before it and the caps after it.
fn assert_fill(w: &World, ledger: &mut Ledger, order: &Order) -> Result<(), TestCaseError> {
    let (m, l, p) = (&w.market, &w.limits, &w.profile);
    let base = order.symbol().base();
    let price = order
        .limit_price()
        .unwrap_or_else(|| m.price(base).unwrap());
    let notional = order.quantity() * price;
    let before = ledger.total(m);
    prop_assert!(
        notional <= p.max_position_size * before,
        "position {notional} of {before}"
    );
    ledger.fill(base, order.side(), order.quantity(), price, m.fee_rate());
    prop_assert!(
        ledger.cash >= Decimal::ZERO && ledger.qty[base] >= Decimal::ZERO,
        "overdrawn: {ledger:?}"
    );
    if order.side() == Side::Buy {
        let total = ledger.total(m);
        let weight = ledger.value_of(base, m) / total;
        prop_assert!(
            weight <= l.max_concentration,
            "{base} at {weight} above {}",
            l.max_concentration
        );
        if let Some((cat, cap)) = l.capped_category(base) {
            let sum: Decimal = ledger
                .qty
                .keys()
                .filter(|a| l.capped_category(a).is_some_and(|(c, _)| c == cat))
                .map(|a| ledger.value_of(a, m))
                .sum();
            prop_assert!(
                sum / total <= cap + Decimal::new(1, 20),
                "{cat} at {} above {cap}",
                sum / total
            );
        }
    }
    Ok(())
}

fn order_for(
    w: &World,
    pick: usize,
    buy: bool,
    size_bp: i64,
    offset_bp: i64,
    market_order: bool,
) -> Option<Order> {
    let assets: Vec<&Asset> = w.profile.targets.keys().collect();
    let base = assets[pick % assets.len()].clone();
    let last = w.market.price(&base).unwrap();
    let rules = *w.market.instrument(&base).unwrap();
    let total = w.portfolio.value(&w.market).unwrap().total;
    let price = rules.floor_price(last * (Decimal::ONE + Decimal::new(offset_bp, 4)));
    let largest = (w.profile.max_position_size * total).min(w.profile.max_order_notional);
    let qty = rules.floor_quantity(largest * Decimal::new(size_bp, 4) / last);
    let ty = if market_order {
        OrderType::Market
    } else {
        OrderType::Limit { price }
    };
    let side = if buy { Side::Buy } else { Side::Sell };
    let symbol = Symbol::new(base, usd()).unwrap();
    Order::new(
        w.profile.id.clone(),
        ClientOrderId::new("prop-open").unwrap(),
        symbol,
        side,
        ty,
        qty,
    )
    .ok()
}

/// Order sizes, as basis points of the largest order the profile allows: anywhere, and often
/// just around the max position, where the value open orders can lose decides.
fn sizes() -> impl Strategy<Value = i64> {
    prop_oneof![1i64..15000, 9700i64..=10020]
}

fn refused_for_balance(w: &World, port: &Portfolio, open: &[OpenOrder], order: &Order) -> bool {
    let state = ProfileState::new();
    let ctx = CheckContext {
        profile: &w.profile,
        limits: &w.limits,
        state: &state,
        portfolio: port,
        market: &w.market,
        now: Timestamp::from_secs(1_700_000_000),
    };
    check_order_with_open(&ctx, open, order.clone())
        .is_err_and(|r| r.reasons.iter().any(|x| x.code() == "insufficient_balance"))
}

fn approved(w: &World, port: &Portfolio, open: &[OpenOrder], order: &Order) -> bool {
    let state = ProfileState::new();
    let ctx = CheckContext {
        profile: &w.profile,
        limits: &w.limits,
        state: &state,
        portfolio: port,
        market: &w.market,
        now: Timestamp::from_secs(1_700_000_000),
    };
    check_order_with_open(&ctx, open, order.clone()).is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn no_approved_order_breaks_a_limit_once_open_orders_fill(
        w in world(),
        specs in specs(),
        (pick, buy, size_bp, offset_bp, market_order) in (0usize..64, any::<bool>(), sizes(), -300i64..300, any::<bool>()),
        mask in any::<u64>(),
    ) {
        let (port, open) = opens(&w, &specs);
        let Some(order) = order_for(&w, pick, buy, size_bp, offset_bp, market_order) else {
            return Ok(()); // zero quantity or price after rounding: not an order
        };
        if !approved(&w, &port, &open, &order) {
            return Ok(());
        }
        assert_order_rules(&w, &port, &open, &order)?;
        for filled in subsets(&open, mask) {
            let mut ledger = Ledger::of(&port);
            for o in filled {
                ledger.fill_open(o, &w.market);
            }
            assert_fill(&w, &mut ledger, &order)?;
        }
    }

    /// The balance check refuses exactly the orders that do not fit: open orders the
    /// balances already show as locked are not charged twice.
    #[test]
    fn balance_refusals_are_exact(
        w in world(),
        specs in specs(),
        (pick, buy, size_bp, offset_bp, market_order) in (0usize..64, any::<bool>(), 1i64..15000, -300i64..300, any::<bool>()),
    ) {
        let (port, open) = opens(&w, &specs);
        let Some(order) = order_for(&w, pick, buy, size_bp, offset_bp, market_order) else {
            return Ok(());
        };
        let (needed, balance, others) = balance_needs(&w, &port, &open, &order);
        prop_assert_eq!(refused_for_balance(&w, &port, &open, &order), !fits(needed, balance, others));
    }

    /// The max position is measured on the lowest value the open orders can leave: an order
    /// just above the max position of that value is refused, even when it fits the value now.
    #[test]
    fn max_position_counts_what_open_orders_can_lose(
        w in world(),
        specs in specs(),
        (pick, buy, mask) in (0usize..64, any::<bool>(), any::<u64>()),
    ) {
        let (port, open) = opens(&w, &specs);
        let lowest = subsets(&open, mask)
            .into_iter()
            .map(|filled| {
                let mut ledger = Ledger::of(&port);
                filled.into_iter().for_each(|o| ledger.fill_open(o, &w.market));
                ledger.total(&w.market)
            })
            .min()
            .unwrap();
        let assets: Vec<&Asset> = w.profile.targets.keys().collect();
        let base = assets[pick % assets.len()].clone();
        let (last, step) = (w.market.price(&base).unwrap(), w.market.instrument(&base).unwrap().step_size);
        let qty = w.profile.max_position_size * lowest / last;
        let qty = if step > Decimal::ZERO { (qty / step).floor() * step + step } else { (qty * Decimal::new(1_000_001, 6)).round_dp(12) };
        let side = if buy { Side::Buy } else { Side::Sell };
        let symbol = Symbol::new(base, usd()).unwrap();
        let Ok(order) = Order::new(w.profile.id.clone(), ClientOrderId::new("prop-max").unwrap(), symbol, side, OrderType::Market, qty) else {
            return Ok(());
        };
        let state = ProfileState::new();
        let ctx = CheckContext { profile: &w.profile, limits: &w.limits, state: &state, portfolio: &port, market: &w.market, now: Timestamp::from_secs(1_700_000_000) };
        let refusal = check_order_with_open(&ctx, &open, order);
        prop_assert!(refusal.is_err_and(|r| r.reasons.iter().any(|x| x.code() == "max_position")));
    }

    /// Open orders only ever make the checks stricter: an order approved with one more open
    /// order is approved without it.
    #[test]
    fn open_orders_never_loosen_a_check(
        w in world(),
        specs in specs(),
        (pick, buy, size_bp, offset_bp) in (0usize..64, any::<bool>(), 1i64..15000, -300i64..300),
    ) {
        let (port, open) = opens(&w, &specs);
        let Some(order) = order_for(&w, pick, buy, size_bp, offset_bp, false) else {
            return Ok(());
        };
        for k in 0..open.len() {
            let fewer: Vec<OpenOrder> = open.iter().enumerate().filter(|(i, _)| *i != k).map(|(_, o)| o.clone()).collect();
            if approved(&w, &port, &open, &order) {
                prop_assert!(approved(&w, &port, &fewer, &order), "dropping open order {k} refused {order:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn no_plan_breaks_a_limit_once_open_orders_fill(w in world(), specs in specs(), seed in any::<u64>(), mask in any::<u64>()) {
        let (port, open) = opens(&w, &specs);
        let input = PlanInput { profile: &w.profile, limits: &w.limits, portfolio: &port, market: &w.market, stats: None, randomization: w.profile.randomization_factor, open_orders: &open };
        let plan = plan_rebalance(&input, &mut ChaCha20Rng::seed_from_u64(seed)).unwrap();
        for o in &plan.orders {
            let base = o.symbol().base();
            prop_assert!(!open.iter().any(|x| x.symbol().base() == base && x.side() != o.side()), "{o:?} trades against an open order");
        }
        // Balances now: each plan order, the earlier ones filled, fits beside the open orders.
        let mut now = port.clone();
        for o in &plan.orders {
            assert_order_rules(&w, &now, &open, o)?;
            let price = o.limit_price().unwrap();
            prop_assert!(now.apply_fill(o.symbol().base(), o.side() == Side::Buy, o.quantity(), price, w.market.fee_rate()).is_some());
        }
        for filled in subsets(&open, mask) {
            let mut ledger = Ledger::of(&port);
            for x in filled {
                ledger.fill_open(x, &w.market);
            }
            for o in &plan.orders {
                assert_fill(&w, &mut ledger, o)?;
            }
        }
    }
}
