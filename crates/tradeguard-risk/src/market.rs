//! What the checks look at: last prices, exchange instrument rules, fees and a profile's
//! balances. All of it is passed in by the caller; nothing here fetches anything.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::RiskError;
use crate::ids::Asset;
use crate::order::MAX_ORDER_VALUE;

/// The largest balance a portfolio may record for one asset (10^15).
pub const MAX_BALANCE: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// An exchange's rules for one instrument (a base asset against the profile's quote).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstrumentRules {
    /// Prices must be multiples of this (zero: no rule).
    pub tick_size: Decimal,
    /// Quantities must be multiples of this (zero: no rule).
    pub step_size: Decimal,
    /// Smallest quantity accepted.
    pub min_quantity: Decimal,
    /// Smallest `quantity * price` accepted, in the quote asset.
    pub min_notional: Decimal,
}

impl InstrumentRules {
    /// Validated rules: none may be negative.
    pub fn new(
        tick_size: Decimal,
        step_size: Decimal,
        min_quantity: Decimal,
        min_notional: Decimal,
    ) -> Result<Self, RiskError> {
        let fields = [
            ("tick_size", tick_size),
            ("step_size", step_size),
            ("min_quantity", min_quantity),
            ("min_notional", min_notional),
        ];
        if let Some((field, _)) = fields
            .iter()
            .find(|(_, v)| v.is_sign_negative() && !v.is_zero())
        {
            return Err(RiskError::InvalidInstrumentRule { field });
        }
        Ok(Self {
            tick_size,
            step_size,
            min_quantity,
            min_notional,
        })
    }

    /// `price` rounded down to the tick (or unchanged without a tick rule).
    pub fn floor_price(&self, price: Decimal) -> Decimal {
        floor_to(price, self.tick_size)
    }

    /// `price` rounded up to the tick.
    pub fn ceil_price(&self, price: Decimal) -> Decimal {
        let floor = floor_to(price, self.tick_size);
        if floor == price || self.tick_size <= Decimal::ZERO {
            price
        } else {
            floor + self.tick_size
        }
    }

    /// `qty` rounded down to the step.
    pub fn floor_quantity(&self, qty: Decimal) -> Decimal {
        floor_to(qty, self.step_size)
    }
}

/// `value` rounded down to a multiple of `unit` (unchanged when `unit` is not positive).
pub(crate) fn floor_to(value: Decimal, unit: Decimal) -> Decimal {
    if unit <= Decimal::ZERO {
        return value;
    }
    match value.checked_div(unit) {
        Some(n) => n.floor().checked_mul(unit).unwrap_or(value),
        None => value,
    }
}

/// `true` when `value` is a multiple of `unit` (always, when `unit` is not positive).
pub(crate) fn is_multiple(value: Decimal, unit: Decimal) -> bool {
    unit <= Decimal::ZERO || value.checked_rem(unit).is_some_and(|r| r.is_zero())
}

/// Market data in one quote asset: last prices, instrument rules and the taker fee rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Market {
    quote: Asset,
    prices: BTreeMap<Asset, Decimal>,
    instruments: BTreeMap<Asset, InstrumentRules>,
    fee_rate: Decimal,
}

impl Market {
    /// An empty market quoted in `quote`, charging `fee_rate` (0 <= rate < 1) per fill.
    pub fn new(quote: Asset, fee_rate: Decimal) -> Result<Self, RiskError> {
        if fee_rate.is_sign_negative() && !fee_rate.is_zero() || fee_rate >= Decimal::ONE {
            return Err(RiskError::InvalidFeeRate);
        }
        Ok(Self {
            quote,
            prices: BTreeMap::new(),
            instruments: BTreeMap::new(),
            fee_rate,
        })
    }

    /// Records the last traded price of `asset` in the quote asset (0 < price <= 10^12).
    pub fn set_price(&mut self, asset: Asset, price: Decimal) -> Result<(), RiskError> {
        if price <= Decimal::ZERO || price > MAX_ORDER_VALUE {
            return Err(RiskError::InvalidPrice {
                max: MAX_ORDER_VALUE,
            });
        }
        self.prices.insert(asset, price);
        Ok(())
    }

    /// Records the exchange's rules for trading `asset` against the quote asset.
    pub fn set_instrument(&mut self, asset: Asset, rules: InstrumentRules) {
        self.instruments.insert(asset, rules);
    }

    /// The quote asset every price is expressed in.
    pub fn quote(&self) -> &Asset {
        &self.quote
    }

    /// The last price of `asset`; the quote asset itself is worth 1.
    pub fn price(&self, asset: &Asset) -> Option<Decimal> {
        if *asset == self.quote {
            Some(Decimal::ONE)
        } else {
            self.prices.get(asset).copied()
        }
    }

    /// The exchange's rules for `asset` against the quote asset.
    pub fn instrument(&self, asset: &Asset) -> Option<&InstrumentRules> {
        self.instruments.get(asset)
    }

    /// The fee charged on a fill, as a fraction of its notional.
    pub fn fee_rate(&self) -> Decimal {
        self.fee_rate
    }
}

/// Free and locked (in open orders) amounts of one asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Balance {
    /// Available for new orders.
    pub free: Decimal,
    /// Reserved by open orders.
    pub locked: Decimal,
}

impl Balance {
    /// Free plus locked.
    pub fn total(&self) -> Decimal {
        self.free + self.locked
    }
}

/// One profile's holdings: its quote-asset cash and its other assets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Portfolio {
    cash: Balance,
    holdings: BTreeMap<Asset, Balance>,
}

fn check_balance(asset: &str, b: Decimal) -> Result<(), RiskError> {
    if b.is_sign_negative() && !b.is_zero() || b > MAX_BALANCE {
        return Err(RiskError::InvalidBalance {
            asset: asset.to_owned(),
            max: MAX_BALANCE,
        });
    }
    Ok(())
}

impl Portfolio {
    /// A portfolio holding `free` quote-asset cash and nothing else.
    pub fn with_cash(free: Decimal) -> Result<Self, RiskError> {
        let mut p = Self::default();
        p.set_cash(Balance {
            free,
            locked: Decimal::ZERO,
        })?;
        Ok(p)
    }

    /// Sets the quote-asset cash (each part between 0 and 10^15).
    pub fn set_cash(&mut self, cash: Balance) -> Result<(), RiskError> {
        check_balance("cash", cash.free)?;
        check_balance("cash", cash.locked)?;
        self.cash = cash;
        Ok(())
    }

    /// Sets the balance of `asset` (each part between 0 and 10^15).
    pub fn set_holding(&mut self, asset: Asset, balance: Balance) -> Result<(), RiskError> {
        check_balance(asset.as_str(), balance.free)?;
        check_balance(asset.as_str(), balance.locked)?;
        self.holdings.insert(asset, balance);
        Ok(())
    }

    /// The quote-asset cash.
    pub fn cash(&self) -> Balance {
        self.cash
    }

    /// The balance of `asset` (zero when not held).
    pub fn holding(&self, asset: &Asset) -> Balance {
        self.holdings.get(asset).copied().unwrap_or_default()
    }

    /// Every non-cash asset with a recorded balance.
    pub fn holdings(&self) -> impl Iterator<Item = (&Asset, &Balance)> {
        self.holdings.iter()
    }

    /// Moves up to `amount` of the free balance of `asset` (the cash when `None`) to `locked`:
    /// how the planner sets aside what open orders reserve beyond the balances' `locked` part.
    pub(crate) fn hold(&mut self, asset: Option<&Asset>, amount: Decimal) {
        let bal = match asset {
            None => &mut self.cash,
            Some(a) => match self.holdings.get_mut(a) {
                Some(b) => b,
                None => return,
            },
        };
        let moved = amount.clamp(Decimal::ZERO, bal.free);
        bal.free -= moved;
        bal.locked += moved;
    }

    /// Values every holding at the market's last prices.
    pub fn value(&self, market: &Market) -> Result<Valuation<'_>, ValuationError> {
        let mut values = BTreeMap::new();
        let mut total = self.cash.total();
        for (asset, bal) in &self.holdings {
            if bal.total().is_zero() {
                continue;
            }
            let price = market
                .price(asset)
                .ok_or_else(|| ValuationError::MissingPrice(asset.clone()))?;
            let v = bal
                .total()
                .checked_mul(price)
                .ok_or(ValuationError::Overflow)?;
            total = total.checked_add(v).ok_or(ValuationError::Overflow)?;
            values.insert(asset, v);
        }
        Ok(Valuation {
            values,
            cash: self.cash.total(),
            total,
        })
    }

    /// Applies a fill (used by the planner and the backtest to simulate execution).
    /// Returns `None`, leaving the portfolio unchanged, if the balances do not cover it.
    pub fn apply_fill(
        &mut self,
        asset: &Asset,
        buy: bool,
        qty: Decimal,
        price: Decimal,
        fee_rate: Decimal,
    ) -> Option<()> {
        let notional = qty.checked_mul(price)?;
        let fee = notional.checked_mul(fee_rate)?;
        let mut held = self.holding(asset);
        if buy {
            let cost = notional.checked_add(fee)?;
            if cost > self.cash.free {
                return None;
            }
            self.cash.free -= cost;
            held.free = held.free.checked_add(qty)?;
        } else {
            if qty > held.free {
                return None;
            }
            held.free -= qty;
            self.cash.free = self.cash.free.checked_add(notional - fee)?;
        }
        self.holdings.insert(asset.clone(), held);
        Some(())
    }
}

/// Why a portfolio could not be valued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValuationError {
    /// A held asset has no last price.
    MissingPrice(Asset),
    /// The sum overflowed a decimal.
    Overflow,
}

/// A portfolio valued in the quote asset (borrowing the portfolio's asset codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valuation<'a> {
    /// Value of each non-cash holding.
    pub values: BTreeMap<&'a Asset, Decimal>,
    /// Quote-asset cash (free plus locked).
    pub cash: Decimal,
    /// Cash plus every holding.
    pub total: Decimal,
}

impl Valuation<'_> {
    /// The value of `asset` (zero when not held).
    pub fn value(&self, asset: &Asset) -> Decimal {
        self.values.get(asset).copied().unwrap_or_default()
    }

    /// The weight of `asset` in the total (zero for an empty portfolio).
    pub fn weight(&self, asset: &Asset) -> Decimal {
        if self.total <= Decimal::ZERO {
            Decimal::ZERO
        } else {
            self.value(asset) / self.total
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn max_balance_is_ten_to_the_fifteen() {
        assert_eq!(MAX_BALANCE, Decimal::new(1_000_000_000_000_000, 0));
    }

    #[test]
    fn rounding_to_ticks() {
        let r = InstrumentRules::new(d("0.5"), d("0.001"), d("0"), d("0")).unwrap();
        let cases = [
            ("10.7", "10.5", "11"),
            ("10.5", "10.5", "10.5"),
            ("0.2", "0", "0.5"),
        ];
        for (i, (p, down, up)) in cases.iter().enumerate() {
            assert_eq!(r.floor_price(d(p)), d(down), "TC{i} failed: floor");
            assert_eq!(r.ceil_price(d(p)), d(up), "TC{i} failed: ceil");
        }
        assert_eq!(r.floor_quantity(d("1.23456")), d("1.234"));
        assert!(is_multiple(d("1.5"), d("0.5")) && !is_multiple(d("1.4"), d("0.5")));
    }

    #[test]
    fn fail_negative_inputs() {
        assert!(InstrumentRules::new(d("-1"), d("0"), d("0"), d("0")).is_err());
        assert!(Market::new(Asset::new("USD").unwrap(), d("1")).is_err());
        assert!(Portfolio::with_cash(d("-1")).is_err());
    }

    #[test]
    fn valuation_and_fills() {
        let usd = Asset::new("USD").unwrap();
        let btc = Asset::new("BTC").unwrap();
        let mut m = Market::new(usd, d("0.001")).unwrap();
        m.set_price(btc.clone(), d("100")).unwrap();
        let mut p = Portfolio::with_cash(d("1000")).unwrap();
        p.apply_fill(&btc, true, d("2"), d("100"), m.fee_rate())
            .unwrap();
        assert_eq!(p.cash().free, d("799.8"));
        let v = p.value(&m).unwrap();
        assert_eq!(v.total, d("999.8"));
        assert!(
            p.apply_fill(&btc, false, d("3"), d("100"), m.fee_rate())
                .is_none()
        );
        assert!(
            p.apply_fill(&btc, true, d("100"), d("100"), m.fee_rate())
                .is_none()
        );
    }
}
