//! What became of each real intent, by routing id, for sealed status queries.
//!
//! In memory, bounded (oldest forgotten first) and per replica: a query that reaches another
//! replica, or comes after a restart, gets `unknown`. The order itself is durable in the order
//! path (idempotency rows, ledger); only the routing id's link to it is not.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;
use tradeguard_crypto::intent::RoutingId;

/// Where an intent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentState {
    /// Received; the order path has not answered yet.
    Pending,
    /// The order path accepted it (placed, or an idempotent replay of a placed order).
    Placed,
    /// Refused by the order path (risk, trading halted, invalid order).
    Refused,
    /// The order path failed (exchange error, outcome to be reconciled).
    Failed,
}

/// One intent's status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentStatus {
    /// Where it stands.
    pub state: IntentState,
    /// The order path's HTTP status, once answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// The order path's answer (order view or problem document), once answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
}

struct Entry {
    owner: String,
    status: IntentStatus,
}

/// The status table.
pub struct StatusTable {
    capacity: usize,
    inner: Mutex<(HashMap<RoutingId, Entry>, VecDeque<RoutingId>)>,
}

impl StatusTable {
    /// A table remembering at most `capacity` intents.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::default(),
        }
    }

    /// Records a new pending intent of `owner`.
    pub fn insert_pending(&self, id: RoutingId, owner: &str) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *g;
        let status = IntentStatus {
            state: IntentState::Pending,
            http_status: None,
            result: None,
        };
        if map
            .insert(
                id,
                Entry {
                    owner: owner.to_owned(),
                    status,
                },
            )
            .is_none()
        {
            order.push_back(id);
        }
        while map.len() > self.capacity {
            match order.pop_front() {
                Some(old) => {
                    map.remove(&old);
                }
                None => break,
            }
        }
    }

    /// Sets the outcome of an intent (ignored if it was forgotten meanwhile).
    pub fn complete(&self, id: &RoutingId, status: IntentStatus) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = g.0.get_mut(id) {
            e.status = status;
        }
    }

    /// The status of `id` if `owner` sent it.
    pub fn get(&self, id: &RoutingId, owner: &str) -> Option<IntentStatus> {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.0.get(id)
            .filter(|e| e.owner == owner)
            .map(|e| e.status.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(b: u8) -> RoutingId {
        RoutingId::from_hex(&format!("{b:02x}").repeat(16)).unwrap()
    }

    #[test]
    fn owner_only_and_oldest_forgotten_first() {
        let t = StatusTable::new(2);
        t.insert_pending(id(1), "a");
        t.insert_pending(id(2), "a");
        assert_eq!(t.get(&id(1), "b"), None, "another principal sees nothing");
        t.complete(
            &id(1),
            IntentStatus {
                state: IntentState::Placed,
                http_status: Some(201),
                result: None,
            },
        );
        assert_eq!(t.get(&id(1), "a").unwrap().state, IntentState::Placed);
        t.insert_pending(id(3), "a");
        assert_eq!(t.get(&id(1), "a"), None);
        assert_eq!(t.get(&id(3), "a").unwrap().state, IntentState::Pending);
    }
}
