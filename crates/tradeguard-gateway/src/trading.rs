//! The trading state: ACTIVE, REDUCING (only orders that reduce exposure) or HALTED (no
//! order). The database row is the record (it survives restarts); each replica keeps a copy
//! in memory, updated by its own changes and by the halt broadcast on the event bus.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use serde::{Deserialize, Serialize};
use tradeguard_store::Store;
use tradeguard_store::cache::{BusEvent, EventBus};
use tradeguard_store::gateway::TradingStateRow;

use crate::error::{GatewayError, Result};

/// What trading is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TradingMode {
    /// Every order the risk engine approves.
    Active,
    /// Only orders that reduce exposure (sells).
    Reducing,
    /// No order at all.
    Halted,
}

impl TradingMode {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Reducing => "reducing",
            Self::Halted => "halted",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "reducing" => Some(Self::Reducing),
            "halted" => Some(Self::Halted),
            _ => None,
        }
    }

    fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Active,
            1 => Self::Reducing,
            _ => Self::Halted,
        }
    }
}

/// How often each replica re-reads the stored trading state, whatever the bus says.
pub const RESYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Bus message announcing a trading-state change (`trading:<state>`).
const BUS_PREFIX: &str = "trading:";

/// This replica's view of the trading state.
#[derive(Clone)]
pub struct TradingState {
    store: Store,
    mode: Arc<AtomicU8>,
    /// Set by a local halt until it is stored: re-reads never lower the mode meanwhile.
    pinned: Arc<std::sync::atomic::AtomicBool>,
}

impl TradingState {
    /// Loads the state from the store.
    pub async fn load(store: Store) -> Result<Self> {
        let s = Self {
            store,
            mode: Arc::new(AtomicU8::new(TradingMode::Halted as u8)),
            pinned: Arc::default(),
        };
        s.refresh().await?;
        Ok(s)
    }

    /// The mode in force now (no I/O).
    pub fn mode(&self) -> TradingMode {
        TradingMode::from_u8(self.mode.load(Ordering::SeqCst))
    }

    /// Sets the mode in this replica's memory only (the halt's first step, before any I/O).
    pub fn set_local(&self, mode: TradingMode) {
        self.pinned.store(true, Ordering::SeqCst);
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    /// Re-reads the stored state.
    pub async fn refresh(&self) -> Result<TradingMode> {
        let row = self.store.gw_trading_state().await?;
        let mode = TradingMode::parse(&row.state).ok_or_else(|| GatewayError::Internal {
            reason: "stored trading state is not active/reducing/halted".into(),
        })?;
        if self.pinned.load(Ordering::SeqCst) {
            // A local halt not yet stored: only ever make it stricter.
            self.mode.fetch_max(mode as u8, Ordering::SeqCst);
        } else {
            self.mode.store(mode as u8, Ordering::SeqCst);
        }
        Ok(self.mode())
    }

    /// Sets the mode: in memory at once (a halt takes effect before any I/O), then durably,
    /// then announced on `bus` so every replica follows.
    pub async fn set(
        &self,
        mode: TradingMode,
        by: &str,
        reason: &str,
        now_ms: i64,
        bus: &dyn EventBus,
    ) -> Result<()> {
        self.mode.store(mode as u8, Ordering::SeqCst);
        let row = TradingStateRow {
            state: mode.as_str().to_owned(),
            changed_ms: now_ms,
            changed_by: by.to_owned(),
            reason: reason.to_owned(),
        };
        self.store.gw_set_trading_state(&row).await?;
        self.pinned.store(false, Ordering::SeqCst);
        if let Err(e) = bus.publish(&format!("{BUS_PREFIX}{}", mode.as_str())).await {
            // The row is the record; other replicas re-read it on their next gap or refresh.
            tracing::warn!(error = %e, "trading state broadcast failed");
        }
        Ok(())
    }

    /// Follows broadcasts from other replicas until the bus closes. A halt message applies at
    /// once; any other message or a gap makes it re-read the stored state. The stored state
    /// is also re-read every [`RESYNC_EVERY`], so a replica that missed a broadcast (it
    /// subscribed late, or Redis dropped it) still converges.
    pub async fn follow(self, bus: Arc<dyn EventBus>) -> Result<()> {
        let mut sub = bus.subscribe().await?;
        let mut resync = tokio::time::interval(RESYNC_EVERY);
        loop {
            tokio::select! {
                event = sub.recv() => match event {
                    None => return Ok(()),
                    Some(BusEvent::Message(m)) if m == format!("{BUS_PREFIX}halted") => {
                        self.mode.store(TradingMode::Halted as u8, Ordering::SeqCst);
                    }
                    Some(BusEvent::Message(m)) if !m.starts_with(BUS_PREFIX) => {}
                    Some(_) => self.resync().await,
                },
                _ = resync.tick() => self.resync().await,
            }
        }
    }

    async fn resync(&self) {
        if let Err(e) = self.refresh().await {
            tracing::warn!(error = %e, "trading state refresh failed; halting this replica");
            self.mode.store(TradingMode::Halted as u8, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeguard_store::cache::MemoryEventBus;

    #[tokio::test]
    async fn a_local_halt_is_never_undone_by_a_reread_before_it_is_stored() {
        let store = tradeguard_store::testing::sqlite().await;
        let t = TradingState::load(store).await.unwrap();
        assert_eq!(t.mode(), TradingMode::Active);
        t.set_local(TradingMode::Halted);
        assert_eq!(
            t.refresh().await.unwrap(),
            TradingMode::Halted,
            "stored ACTIVE must not lower it"
        );
        let bus = MemoryEventBus::new(4);
        t.set(TradingMode::Halted, "k", "r", 1, &bus).await.unwrap();
        t.set(TradingMode::Active, "quorum", "resume", 2, &bus)
            .await
            .unwrap();
        assert_eq!(
            t.refresh().await.unwrap(),
            TradingMode::Active,
            "an explicit, stored resume applies"
        );
    }
}
