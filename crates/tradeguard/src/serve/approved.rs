//! Orders the risk gate approved that the order ledger has not recorded yet.
//!
//! An approved order reaches the ledger a moment later (the router records it before sending
//! it). Until then it is on no list, so a second order checked in that moment would be judged
//! without it: two concurrent orders that together break a limit would both pass. [`Approved`]
//! closes that gap: checks run one at a time, and each approved order counts as open until the
//! ledger knows its client order id (in any state: from then on the ledger is the record) or
//! [`FORGET_AFTER`] has passed (its placement never started, or failed before recording).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tradeguard_exchange::ledger::OrderLedger;
use tradeguard_exchange::model::{AccountId, ClientOrderId as ExId};
use tradeguard_gateway::venue::trades;
use tradeguard_risk::ids::ClientOrderId;
use tradeguard_risk::open::OpenOrder;
use tradeguard_risk::profile::Profile;

/// How long an approved order counts without reaching the ledger.
pub const FORGET_AFTER: Duration = Duration::from_secs(10);

struct Entry {
    account: AccountId,
    cid: String,
    at: Instant,
    order: OpenOrder,
}

/// Approved orders on their way to the ledger, and the lock that runs checks one at a time.
#[derive(Default)]
pub struct Approved {
    entries: Mutex<Vec<Entry>>,
    one_at_a_time: tokio::sync::Mutex<()>,
}

impl Approved {
    /// Held for the whole of one check (read open orders, check, record the approval).
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.one_at_a_time.lock().await
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records an approval of `cid` on `account`.
    pub fn add(&self, account: &AccountId, cid: &ClientOrderId, order: OpenOrder) {
        let mut entries = self.entries();
        entries.retain(|e| !(e.account == *account && e.cid == cid.as_str()));
        entries.push(Entry {
            account: account.clone(),
            cid: cid.as_str().to_owned(),
            at: Instant::now(),
            order,
        });
    }

    /// The approved orders of `profile` on `account` the ledger does not know yet (except
    /// `except`); forgets those it knows and those older than [`FORGET_AFTER`]. A ledger
    /// error keeps the entry.
    pub async fn pending(
        &self,
        ledger: &dyn OrderLedger,
        account: &AccountId,
        profile: &Profile,
        except: Option<&ClientOrderId>,
    ) -> Vec<OpenOrder> {
        let candidates: Vec<String> = {
            let mut entries = self.entries();
            entries.retain(|e| e.at.elapsed() < FORGET_AFTER);
            entries
                .iter()
                .filter(|e| e.account == *account)
                .map(|e| e.cid.clone())
                .collect()
        };
        let mut known = Vec::new();
        for cid in candidates {
            let Ok(id) = ExId::parse(&cid) else {
                known.push(cid);
                continue;
            };
            if let Ok(Some(_)) = ledger.get(account, &id).await {
                known.push(cid);
            }
        }
        let mut entries = self.entries();
        entries.retain(|e| !(e.account == *account && known.contains(&e.cid)));
        entries
            .iter()
            .filter(|e| e.account == *account)
            .filter(|e| except.is_none_or(|c| c.as_str() != e.cid))
            .filter(|e| trades(profile, e.order.symbol()))
            .map(|e| e.order.clone())
            .collect()
    }
}
