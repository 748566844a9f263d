//! Market specifications, fee schedules and each venue's default markets.

use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::Serialize;

/// Which asset a venue charges fees in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum FeeAsset {
    /// The asset the order receives (Binance without BNB: BTC on a buy, USDT on a sell).
    Received,
    /// Always the quote asset (Coinbase, Kraken by default).
    Quote,
}

/// Maker and taker fee rates of one venue's entry tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FeeSchedule {
    /// Rate charged on resting (maker) fills, e.g. 0.001 for 0.10 %.
    pub maker: Decimal,
    /// Rate charged on liquidity-taking fills.
    pub taker: Decimal,
    /// Asset the fee is charged in.
    pub asset: FeeAsset,
}

impl FeeSchedule {
    /// Binance spot regular tier: 0.10 % / 0.10 %, charged in the received asset.
    pub fn binance() -> Self {
        Self::new("0.001", "0.001", FeeAsset::Received)
    }
    /// Coinbase Advanced Trade / Exchange entry tier: 0.40 % maker, 0.60 % taker, in quote.
    pub fn coinbase() -> Self {
        Self::new("0.004", "0.006", FeeAsset::Quote)
    }
    /// Kraken Pro entry tier: 0.25 % maker, 0.40 % taker, in quote.
    pub fn kraken() -> Self {
        Self::new("0.0025", "0.004", FeeAsset::Quote)
    }

    fn new(maker: &str, taker: &str, asset: FeeAsset) -> Self {
        Self {
            maker: maker.parse().unwrap_or_default(),
            taker: taker.parse().unwrap_or_default(),
            asset,
        }
    }

    /// The larger of the two rates: what a buy with quote fees must hold in reserve.
    pub fn max_rate(&self) -> Decimal {
        self.maker.max(self.taker)
    }
}

/// One tradable pair and the parameters of its simulated price path and liquidity.
#[derive(Clone, Debug, Serialize)]
pub struct MarketSpec {
    /// The venue's market id (`BTCUSDT`, `BTC-USD`, `XXBTZUSD`).
    pub id: String,
    /// Base asset, canonical name (`BTC`).
    pub base: String,
    /// Quote asset, canonical name (`USDT`, `USD`).
    pub quote: String,
    /// Price increment.
    pub tick: Decimal,
    /// Quantity increment.
    pub step: Decimal,
    /// Smallest quantity.
    pub min_qty: Decimal,
    /// Smallest order value in quote.
    pub min_notional: Decimal,
    /// Mid price at the start of the path.
    pub start_price: Decimal,
    /// Volatility of the log price per price step (e.g. 0.0002).
    pub sigma_per_step: f64,
    /// Number of synthetic levels on each side.
    pub levels: usize,
    /// Base quantity available at each synthetic level per price step.
    pub level_qty: Decimal,
    /// Distance between synthetic levels, in ticks.
    pub level_gap_ticks: u32,
}

impl MarketSpec {
    fn new(id: &str, base: &str, quote: &str, nums: [&str; 6], level_gap_ticks: u32) -> Self {
        let d = |s: &str| s.parse::<Decimal>().unwrap_or_default();
        Self {
            id: id.to_owned(),
            base: base.to_owned(),
            quote: quote.to_owned(),
            tick: d(nums[0]),
            step: d(nums[1]),
            min_qty: d(nums[2]),
            min_notional: d(nums[3]),
            start_price: d(nums[4]),
            sigma_per_step: 0.0002,
            levels: 10,
            level_qty: d(nums[5]),
            level_gap_ticks,
        }
    }

    /// The markets the Binance simulator lists.
    pub fn binance_defaults() -> Vec<Self> {
        vec![
            Self::new(
                "BTCUSDT",
                "BTC",
                "USDT",
                ["0.01", "0.00001", "0.00001", "5", "60000", "0.5"],
                200,
            ),
            Self::new(
                "ETHUSDT",
                "ETH",
                "USDT",
                ["0.01", "0.0001", "0.0001", "5", "3000", "5"],
                20,
            ),
        ]
    }

    /// The markets both Coinbase simulators list.
    pub fn coinbase_defaults() -> Vec<Self> {
        vec![
            Self::new(
                "BTC-USD",
                "BTC",
                "USD",
                ["0.01", "0.00000001", "0.00000001", "1", "60000", "0.5"],
                200,
            ),
            Self::new(
                "ETH-USD",
                "ETH",
                "USD",
                ["0.01", "0.00000001", "0.00000001", "1", "3000", "5"],
                20,
            ),
        ]
    }

    /// The markets the Kraken simulator lists (pair keys as `AssetPairs` names them).
    pub fn kraken_defaults() -> Vec<Self> {
        vec![
            Self::new(
                "XXBTZUSD",
                "BTC",
                "USD",
                ["0.1", "0.00000001", "0.00005", "0.5", "60000", "0.5"],
                20,
            ),
            Self::new(
                "XETHZUSD",
                "ETH",
                "USD",
                ["0.01", "0.00000001", "0.002", "0.5", "3000", "5"],
                20,
            ),
        ]
    }

    /// Rounds `value` down to the quantity step.
    pub fn floor_qty(&self, value: Decimal) -> Decimal {
        floor_to(value, self.step)
    }

    /// True if `value` is a whole number of `step`s.
    pub fn on_step(&self, value: Decimal) -> bool {
        (value % self.step).is_zero()
    }

    /// True if `value` is a whole number of ticks.
    pub fn on_tick(&self, value: Decimal) -> bool {
        (value % self.tick).is_zero()
    }

    /// Converts a path price (f64, only inside the generator) to a tick-aligned decimal.
    pub(crate) fn price_from_f64(&self, value: f64) -> Decimal {
        let raw = Decimal::from_f64(value).unwrap_or(self.start_price);
        floor_to(raw, self.tick).max(self.tick)
    }
}

/// Rounds `value` down to a multiple of `step` (`step` > 0).
pub fn floor_to(value: Decimal, step: Decimal) -> Decimal {
    if step.is_zero() {
        return value;
    }
    (value / step).floor() * step
}
