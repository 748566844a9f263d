//! The reactive part of every limiter: pause after a 429 (honouring `Retry-After`), slow down
//! for a while, and stop completely during a ban (Binance 418).

use std::time::Duration;

use crate::model::UnixMillis;

/// Why a request may not go now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    /// Try again after this long.
    Wait(Duration),
    /// The exchange banned us until then: do not send anything.
    Banned(UnixMillis),
}

/// Slow-down after a 429: the budget fraction is halved (down to this floor) ...
const MIN_SLOWDOWN: f64 = 0.25;
/// ... and recovers by this much per `RECOVERY_STEP` without a new 429.
const RECOVERY: f64 = 0.125;
const RECOVERY_STEP_MS: i64 = 10_000;
/// Pause when a 429 carries no `Retry-After`.
const DEFAULT_PAUSE: Duration = Duration::from_secs(1);

/// Pause, slow-down and ban state shared by all users of one budget.
#[derive(Clone, Debug)]
pub struct Gate {
    paused_until: i64,
    banned_until: i64,
    slowdown: f64,
    last_throttle: i64,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            paused_until: i64::MIN,
            banned_until: i64::MIN,
            slowdown: 1.0,
            last_throttle: i64::MIN,
        }
    }
}

impl Gate {
    /// `Ok(fraction)`: requests may go, using this fraction of the normal budget.
    pub fn check(&mut self, now: UnixMillis) -> Result<f64, Denied> {
        if now.0 < self.banned_until {
            return Err(Denied::Banned(UnixMillis(self.banned_until)));
        }
        if now.0 < self.paused_until {
            return Err(Denied::Wait(now.until(UnixMillis(self.paused_until))));
        }
        if self.slowdown < 1.0 && self.last_throttle != i64::MIN {
            let steps = (now.0 - self.last_throttle) / RECOVERY_STEP_MS;
            let recovered = MIN_SLOWDOWN.max(self.slowdown) + RECOVERY * steps as f64;
            if recovered >= 1.0 {
                self.slowdown = 1.0;
            } else if steps > 0 {
                self.slowdown = recovered;
                self.last_throttle += steps * RECOVERY_STEP_MS;
            }
        }
        Ok(self.slowdown)
    }

    /// The exchange said "too many requests": pause for `retry_after` (or 1 s) and halve the
    /// budget for a while.
    pub fn throttled(&mut self, now: UnixMillis, retry_after: Option<Duration>) {
        let until = now.plus(retry_after.unwrap_or(DEFAULT_PAUSE));
        self.paused_until = self.paused_until.max(until.0);
        self.slowdown = (self.slowdown * 0.5).max(MIN_SLOWDOWN);
        self.last_throttle = now.0;
    }

    /// The exchange banned us until `until`.
    pub fn banned(&mut self, now: UnixMillis, until: UnixMillis) {
        self.banned_until = self.banned_until.max(until.0);
        self.throttled(now, None);
    }

    /// When the current ban ends, if any.
    pub fn ban(&self, now: UnixMillis) -> Option<UnixMillis> {
        (now.0 < self.banned_until).then_some(UnixMillis(self.banned_until))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_pauses_then_slows_then_recovers() {
        let mut g = Gate::default();
        let t = UnixMillis(1_000_000);
        assert_eq!(g.check(t), Ok(1.0));
        g.throttled(t, Some(Duration::from_secs(3)));
        assert_eq!(g.check(t), Err(Denied::Wait(Duration::from_secs(3))));
        assert_eq!(g.check(t.plus(Duration::from_secs(3))), Ok(0.5));
        assert_eq!(g.check(t.plus(Duration::from_secs(20))), Ok(0.75));
        assert_eq!(g.check(t.plus(Duration::from_secs(60))), Ok(1.0));
    }

    #[test]
    fn ban_blocks_until_its_end() {
        let mut g = Gate::default();
        let t = UnixMillis(0);
        let until = UnixMillis(120_000);
        g.banned(t, until);
        assert_eq!(g.check(UnixMillis(119_999)), Err(Denied::Banned(until)));
        assert!(g.check(until).is_ok());
    }
}
