//! Synthetic liquidity around the mid of the price path.
//!
//! Each price step the book is rebuilt: `levels` asks above the mid and as many bids below,
//! each `level_gap_ticks` apart and holding `level_qty`. Takers consume that liquidity until
//! the next step refreshes it; resting client orders fill as makers when the touch crosses them.

use rust_decimal::Decimal;

use super::market::MarketSpec;
use super::types::Side;

/// One price level of synthetic liquidity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Level {
    /// Price of the level.
    pub price: Decimal,
    /// Base quantity still available at this step.
    pub avail: Decimal,
}

/// Limits of one liquidity-taking sweep.
#[derive(Clone, Copy, Debug)]
pub struct Sweep {
    /// The taker's side.
    pub side: Side,
    /// Worst acceptable price (None: market order).
    pub limit: Option<Decimal>,
    /// Base quantity wanted (None: bounded by `quote` only).
    pub qty: Option<Decimal>,
    /// Quote amount to spend or receive (None: bounded by `qty` only).
    pub quote: Option<Decimal>,
}

/// The synthetic book of one market at one price step.
#[derive(Clone, Debug)]
pub struct Book {
    /// Mid price of the step.
    pub mid: Decimal,
    /// Ask levels, best (lowest) first.
    pub asks: Vec<Level>,
    /// Bid levels, best (highest) first.
    pub bids: Vec<Level>,
}

impl Book {
    /// A fresh book around `mid`.
    pub fn around(spec: &MarketSpec, mid: Decimal) -> Self {
        let gap = spec.tick * Decimal::from(spec.level_gap_ticks.max(1));
        let level = |k: usize, sign: Decimal| Level {
            price: mid + sign * (spec.tick + gap * Decimal::from(k)),
            avail: spec.level_qty,
        };
        let asks = (0..spec.levels).map(|k| level(k, Decimal::ONE)).collect();
        let bids = (0..spec.levels)
            .map(|k| level(k, Decimal::NEGATIVE_ONE))
            .filter(|l| l.price > Decimal::ZERO)
            .collect();
        Self { mid, asks, bids }
    }

    /// Lowest ask with liquidity left.
    pub fn best_ask(&self) -> Option<Decimal> {
        self.asks
            .iter()
            .find(|l| !l.avail.is_zero())
            .map(|l| l.price)
    }

    /// Highest bid with liquidity left.
    pub fn best_bid(&self) -> Option<Decimal> {
        self.bids
            .iter()
            .find(|l| !l.avail.is_zero())
            .map(|l| l.price)
    }

    /// True if a limit order on `side` at `price` would take liquidity now.
    pub fn crosses(&self, side: Side, price: Decimal) -> bool {
        match side {
            Side::Buy => self.best_ask().is_some_and(|a| a <= price),
            Side::Sell => self.best_bid().is_some_and(|b| b >= price),
        }
    }

    /// The (price, qty) executions a sweep would get, without consuming anything.
    pub fn preview(&self, spec: &MarketSpec, sweep: Sweep) -> Vec<(Decimal, Decimal)> {
        let levels = match sweep.side {
            Side::Buy => &self.asks,
            Side::Sell => &self.bids,
        };
        let mut out = Vec::new();
        let mut qty_left = sweep.qty;
        let mut quote_left = sweep.quote;
        for level in levels {
            if !within(sweep.side, level.price, sweep.limit) {
                break;
            }
            let mut q = level.avail;
            if let Some(left) = qty_left {
                q = q.min(left);
            }
            if let Some(left) = quote_left {
                q = q.min(spec.floor_qty(left / level.price));
            }
            if q <= Decimal::ZERO {
                if level.avail.is_zero() {
                    continue;
                }
                break;
            }
            qty_left = qty_left.map(|l| l - q);
            quote_left = quote_left.map(|l| l - q * level.price);
            out.push((level.price, q));
        }
        out
    }

    /// Consumes the executions `preview` returned.
    pub fn consume(&mut self, side: Side, execs: &[(Decimal, Decimal)]) {
        let levels = match side {
            Side::Buy => &mut self.asks,
            Side::Sell => &mut self.bids,
        };
        for (price, qty) in execs {
            if let Some(level) = levels.iter_mut().find(|l| l.price == *price) {
                level.avail = (level.avail - *qty).max(Decimal::ZERO);
            }
        }
    }
}

fn within(side: Side, price: Decimal, limit: Option<Decimal>) -> bool {
    match (side, limit) {
        (_, None) => true,
        (Side::Buy, Some(l)) => price <= l,
        (Side::Sell, Some(l)) => price >= l,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> MarketSpec {
        MarketSpec::binance_defaults().remove(0)
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn book_is_symmetric_around_mid() {
        let b = Book::around(&spec(), d("60000"));
        assert_eq!(b.best_ask(), Some(d("60000.01")));
        assert_eq!(b.best_bid(), Some(d("59999.99")));
        assert_eq!(b.asks.len(), 10);
    }

    #[test]
    fn sweep_walks_levels_and_respects_limit() {
        let s = spec();
        let b = Book::around(&s, d("60000"));
        let execs = b.preview(
            &s,
            Sweep {
                side: Side::Buy,
                limit: Some(d("60002.01")),
                qty: Some(d("2")),
                quote: None,
            },
        );
        assert_eq!(
            execs,
            vec![(d("60000.01"), d("0.5")), (d("60002.01"), d("0.5"))]
        );
    }

    #[test]
    fn quote_sweep_floors_to_step() {
        let s = spec();
        let b = Book::around(&s, d("60000"));
        let execs = b.preview(
            &s,
            Sweep {
                side: Side::Buy,
                limit: None,
                qty: None,
                quote: Some(d("100")),
            },
        );
        assert_eq!(execs, vec![(d("60000.01"), d("0.00166"))]);
    }

    #[test]
    fn consume_reduces_liquidity() {
        let s = spec();
        let mut b = Book::around(&s, d("60000"));
        b.consume(Side::Sell, &[(d("59999.99"), d("0.5"))]);
        assert_eq!(b.best_bid(), Some(d("59997.99")));
    }
}
