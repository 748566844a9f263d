//! Balances per account (free and locked) and the settlement of fills against them.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};

use super::market::{FeeAsset, FeeSchedule, MarketSpec};
use super::types::{AccountId, Balance, EngineError, Side};

/// Fee and quote amounts keep 8 decimal places; fees round down (in the client's favour), so the
/// sum of per-fill fees never exceeds what an order reserved.
pub const AMOUNT_DP: u32 = 8;

/// All balances of all accounts of one venue.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    accounts: BTreeMap<AccountId, BTreeMap<String, Balance>>,
    next: u64,
}

/// What one fill did to an account, for the fill record.
#[derive(Clone, Debug)]
pub struct Settled {
    /// Fee charged.
    pub fee: Decimal,
    /// Asset of the fee.
    pub fee_asset: String,
}

impl Ledger {
    /// Opens an account with the given starting balances.
    pub fn open(&mut self, funding: &[(String, Decimal)]) -> AccountId {
        self.next += 1;
        let id = AccountId(self.next);
        let mut balances = BTreeMap::new();
        for (asset, amount) in funding {
            balances.insert(
                asset.clone(),
                Balance {
                    free: *amount,
                    locked: Decimal::ZERO,
                },
            );
        }
        self.accounts.insert(id, balances);
        id
    }

    /// True if the account exists.
    pub fn exists(&self, account: AccountId) -> bool {
        self.accounts.contains_key(&account)
    }

    /// Adds `amount` of `asset` to the account's free balance.
    pub fn deposit(
        &mut self,
        account: AccountId,
        asset: &str,
        amount: Decimal,
    ) -> Result<(), EngineError> {
        let b = self.entry(account, asset)?;
        b.free += amount;
        Ok(())
    }

    /// Every balance of the account.
    pub fn balances(&self, account: AccountId) -> Option<&BTreeMap<String, Balance>> {
        self.accounts.get(&account)
    }

    /// The free amount of one asset (zero if never held).
    pub fn free(&self, account: AccountId, asset: &str) -> Decimal {
        self.accounts
            .get(&account)
            .and_then(|m| m.get(asset))
            .map_or(Decimal::ZERO, |b| b.free)
    }

    /// Fails with `InsufficientBalance` unless `amount` of `asset` is free.
    pub fn require(
        &self,
        account: AccountId,
        asset: &str,
        amount: Decimal,
    ) -> Result<(), EngineError> {
        if self.free(account, asset) < amount {
            return Err(EngineError::InsufficientBalance {
                asset: asset.to_owned(),
            });
        }
        Ok(())
    }

    /// Moves `amount` from free to locked.
    pub fn lock(
        &mut self,
        account: AccountId,
        asset: &str,
        amount: Decimal,
    ) -> Result<(), EngineError> {
        self.require(account, asset, amount)?;
        let b = self.entry(account, asset)?;
        b.free -= amount;
        b.locked += amount;
        Ok(())
    }

    /// Moves `amount` from locked back to free.
    pub fn unlock(&mut self, account: AccountId, asset: &str, amount: Decimal) {
        if let Ok(b) = self.entry(account, asset) {
            let amount = amount.min(b.locked);
            b.locked -= amount;
            b.free += amount;
        }
    }

    /// Applies one fill: pays from the order's hold (`from_hold`) or from free funds, credits
    /// what was bought or sold, and charges the fee. Returns the fee.
    #[allow(clippy::too_many_arguments)]
    pub fn settle(
        &mut self,
        account: AccountId,
        spec: &MarketSpec,
        fees: &FeeSchedule,
        side: Side,
        price: Decimal,
        qty: Decimal,
        maker: bool,
        hold: Option<&mut Decimal>,
    ) -> Result<Settled, EngineError> {
        let rate = if maker { fees.maker } else { fees.taker };
        let value = price * qty;
        let (pay_asset, pay, get_asset, get, fee, fee_asset) = match (side, fees.asset) {
            (Side::Buy, FeeAsset::Received) => {
                let fee = round_fee(qty * rate);
                (&spec.quote, value, &spec.base, qty - fee, fee, &spec.base)
            }
            (Side::Buy, FeeAsset::Quote) => {
                let fee = round_fee(value * rate);
                (&spec.quote, value + fee, &spec.base, qty, fee, &spec.quote)
            }
            (Side::Sell, _) => {
                let fee = round_fee(value * rate);
                (&spec.base, qty, &spec.quote, value - fee, fee, &spec.quote)
            }
        };
        self.pay(account, pay_asset, pay, hold)?;
        self.entry(account, get_asset)?.free += get;
        Ok(Settled {
            fee,
            fee_asset: fee_asset.clone(),
        })
    }

    fn pay(
        &mut self,
        account: AccountId,
        asset: &str,
        amount: Decimal,
        hold: Option<&mut Decimal>,
    ) -> Result<(), EngineError> {
        let b = self.entry(account, asset)?;
        match hold {
            Some(h) => {
                let from_hold = amount.min(*h).min(b.locked);
                *h -= from_hold;
                b.locked -= from_hold;
                b.free -= amount - from_hold;
            }
            None => b.free -= amount,
        }
        Ok(())
    }

    fn entry(&mut self, account: AccountId, asset: &str) -> Result<&mut Balance, EngineError> {
        let balances = self
            .accounts
            .get_mut(&account)
            .ok_or(EngineError::UnknownAccount)?;
        Ok(balances.entry(asset.to_owned()).or_default())
    }
}

/// Rounds a fee down to [`AMOUNT_DP`] places.
pub fn round_fee(fee: Decimal) -> Decimal {
    fee.round_dp_with_strategy(AMOUNT_DP, RoundingStrategy::ToZero)
}

/// Rounds a reserve up to [`AMOUNT_DP`] places.
pub fn round_reserve(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(AMOUNT_DP, RoundingStrategy::AwayFromZero)
}

/// The cost of a buy of `qty` at `price` including the worst-case fee when fees are in quote.
pub fn buy_reserve(fees: &FeeSchedule, price: Decimal, qty: Decimal) -> Decimal {
    let value = price * qty;
    match fees.asset {
        FeeAsset::Received => value,
        FeeAsset::Quote => value + round_reserve(value * fees.max_rate()),
    }
}
