//! A profile's mutable risk state: the operator's trading state, the loss breakers and the
//! recent orders that the rate limit counts. The caller owns and persists it; the checks only
//! read it.

use std::collections::VecDeque;
use std::time::Duration;

use rust_decimal::Decimal;

use crate::ids::Timestamp;
use crate::profile::{Profile, TradingState};

/// The window the order rate limit counts over.
pub const RATE_WINDOW: Duration = Duration::from_secs(60);

/// Something that currently restricts a profile's trading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restriction {
    /// The operator set the profile to this state (REDUCING or HALTED).
    Operator(TradingState),
    /// The loss since the start of the UTC day passed the limit.
    DailyLoss {
        /// Loss as a fraction of the day's starting value.
        loss: Decimal,
        /// The configured limit.
        limit: Decimal,
        /// The state the breaker moves the profile to.
        state: TradingState,
    },
    /// The fall from the peak value passed the limit.
    Drawdown {
        /// Fall as a fraction of the peak value.
        drawdown: Decimal,
        /// The configured limit.
        limit: Decimal,
        /// The state the breaker moves the profile to.
        state: TradingState,
    },
}

impl Restriction {
    /// The trading state this restriction imposes.
    pub fn state(&self) -> TradingState {
        match *self {
            Self::Operator(s)
            | Self::DailyLoss { state: s, .. }
            | Self::Drawdown { state: s, .. } => s,
        }
    }
}

/// One profile's risk state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileState {
    operator: TradingState,
    day: Option<i64>,
    day_start_value: Decimal,
    peak_value: Decimal,
    daily_tripped_on: Option<i64>,
    drawdown_tripped: bool,
    recent_orders: VecDeque<Timestamp>,
}

impl Default for ProfileState {
    fn default() -> Self {
        Self::new()
    }
}

fn fraction_lost(from: Decimal, to: Decimal) -> Decimal {
    if from <= Decimal::ZERO || to >= from {
        Decimal::ZERO
    } else {
        (from - to) / from
    }
}

impl ProfileState {
    /// An ACTIVE profile with no history.
    pub fn new() -> Self {
        Self {
            operator: TradingState::Active,
            day: None,
            day_start_value: Decimal::ZERO,
            peak_value: Decimal::ZERO,
            daily_tripped_on: None,
            drawdown_tripped: false,
            recent_orders: VecDeque::new(),
        }
    }

    /// Sets the operator's trading state (halt, reduce, or ACTIVE again).
    pub fn set_operator_state(&mut self, state: TradingState) {
        self.operator = state;
    }

    /// The operator resumes the profile: ACTIVE, drawdown breaker re-armed from the next value
    /// observed (the peak restarts there). A daily loss trip still lasts until the UTC day ends.
    pub fn resume(&mut self) {
        self.operator = TradingState::Active;
        self.drawdown_tripped = false;
        self.peak_value = Decimal::ZERO;
    }

    /// Records the profile's current value and trips the breakers it breaches; the trips stay
    /// until the day ends (daily loss) or the operator resumes (drawdown). Returns the
    /// resulting trading state.
    pub fn observe_value(
        &mut self,
        profile: &Profile,
        value: Decimal,
        now: Timestamp,
    ) -> TradingState {
        let today = now.utc_day();
        if self.day != Some(today) {
            self.day = Some(today);
            self.day_start_value = value;
        }
        self.peak_value = self.peak_value.max(value);
        if fraction_lost(self.day_start_value, value) > profile.daily_loss_limit {
            self.daily_tripped_on = Some(today);
        }
        if fraction_lost(self.peak_value, value) > profile.max_drawdown {
            self.drawdown_tripped = true;
        }
        self.trading_state(profile, value, now)
    }

    /// Every restriction in force for `profile` at `value` and `now`, including breaches by
    /// `value` that were not recorded yet with [`Self::observe_value`].
    pub fn restrictions(
        &self,
        profile: &Profile,
        value: Decimal,
        now: Timestamp,
    ) -> Vec<Restriction> {
        let mut out = Vec::new();
        if self.operator != TradingState::Active {
            out.push(Restriction::Operator(self.operator));
        }
        let today = now.utc_day();
        let day_start = if self.day == Some(today) {
            self.day_start_value
        } else {
            value
        };
        let loss = fraction_lost(day_start, value);
        if self.daily_tripped_on == Some(today) || loss > profile.daily_loss_limit {
            let state = profile.on_daily_loss.state();
            out.push(Restriction::DailyLoss {
                loss,
                limit: profile.daily_loss_limit,
                state,
            });
        }
        let drawdown = fraction_lost(self.peak_value.max(value), value);
        if self.drawdown_tripped || drawdown > profile.max_drawdown {
            let state = profile.on_max_drawdown.state();
            out.push(Restriction::Drawdown {
                drawdown,
                limit: profile.max_drawdown,
                state,
            });
        }
        out
    }

    /// The most severe state among the restrictions (ACTIVE when there is none).
    pub fn trading_state(&self, profile: &Profile, value: Decimal, now: Timestamp) -> TradingState {
        self.restrictions(profile, value, now)
            .iter()
            .map(Restriction::state)
            .max()
            .unwrap_or(TradingState::Active)
    }

    /// Records an order submitted at `now`, for the rate limit.
    pub fn record_order(&mut self, now: Timestamp) {
        while self
            .recent_orders
            .front()
            .is_some_and(|t| now.since(*t) >= RATE_WINDOW)
        {
            self.recent_orders.pop_front();
        }
        self.recent_orders.push_back(now);
    }

    /// Orders recorded in the [`RATE_WINDOW`] before `now`.
    pub fn orders_in_window(&self, now: Timestamp) -> usize {
        self.recent_orders
            .iter()
            .filter(|t| **t <= now && now.since(**t) < RATE_WINDOW)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AccountId, Asset, Exchange, ProfileId};
    use crate::profile::{BreachAction, ProfileType};

    fn profile() -> Profile {
        let mut p = Profile::with_defaults(
            ProfileId::new("p").unwrap(),
            AccountId {
                exchange: Exchange::Kraken,
                credential: "k".into(),
            },
            ProfileType::Moderate,
            Asset::new("USD").unwrap(),
            Default::default(),
        );
        p.daily_loss_limit = Decimal::new(5, 2);
        p.max_drawdown = Decimal::new(20, 2);
        p.on_daily_loss = BreachAction::Reducing;
        p.on_max_drawdown = BreachAction::Halted;
        p
    }

    const H: i64 = 3_600_000;

    #[test]
    fn breakers_trip_and_reset() {
        let p = profile();
        let mut s = ProfileState::new();
        let cases: [(i64, i64, TradingState); 6] = [
            (0, 1000, TradingState::Active),
            (H, 960, TradingState::Active),
            (2 * H, 940, TradingState::Reducing), // 6% down today
            (3 * H, 1000, TradingState::Reducing), // recovered, trip lasts the day
            (25 * H, 900, TradingState::Active),  // new day starts at 900, drawdown 10%
            (26 * H, 790, TradingState::Halted),  // 21% below the 1000 peak
        ];
        for (i, (t, v, want)) in cases.iter().enumerate() {
            let got = s.observe_value(&p, Decimal::from(*v), Timestamp::from_millis(*t));
            assert_eq!(got, *want, "TC{i} failed");
        }
        s.resume();
        let got = s.observe_value(&p, Decimal::from(790), Timestamp::from_millis(27 * H));
        assert_eq!(
            got,
            TradingState::Reducing,
            "daily trip of day 1 still holds"
        );
        let got = s.observe_value(&p, Decimal::from(790), Timestamp::from_millis(49 * H));
        assert_eq!(got, TradingState::Active);
    }

    #[test]
    fn unobserved_breach_is_still_reported() {
        let p = profile();
        let mut s = ProfileState::new();
        s.observe_value(&p, Decimal::from(1000), Timestamp::from_millis(0));
        let r = s.restrictions(&p, Decimal::from(700), Timestamp::from_millis(H));
        assert_eq!(r.len(), 2);
        assert_eq!(
            s.trading_state(&p, Decimal::from(700), Timestamp::from_millis(H)),
            TradingState::Halted
        );
    }

    #[test]
    fn rate_window_is_rolling() {
        let mut s = ProfileState::new();
        for ms in [0, 10_000, 59_999] {
            s.record_order(Timestamp::from_millis(ms));
        }
        assert_eq!(s.orders_in_window(Timestamp::from_millis(59_999)), 3);
        assert_eq!(s.orders_in_window(Timestamp::from_millis(60_000)), 2);
        assert_eq!(s.orders_in_window(Timestamp::from_millis(120_000)), 0);
    }
}
