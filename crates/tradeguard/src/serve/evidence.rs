//! What `serve` gives auditors: the audit log's evidence (the gateway's
//! [`StoredLogEvidence`] over the same store-backed log) and [`ServeReports`], the signed
//! performance report built from what the gateway keeps: every fill in the order ledger, the
//! latest balances the poller stored and the last prices of the traded pairs.
//!
//! What the report can and cannot say follows from that: activity (trades, volume, fees) over
//! the whole history and the portfolio value at the last poll; the gateway keeps no history of
//! balances, so return, volatility and drawdown figures stay `null` until an equity history is
//! analyzed (`tradeguard analytics --equity`). Order outcomes are not in the ledger's read
//! API, so the order success rate stays `null` too. Fills are reported per profile when the
//! account has exactly one profile, else under the account's name; fills and holdings are
//! valued in the first profile's quote asset, and fills in another quote asset are left out.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use rust_decimal::Decimal;
use tradeguard_analytics::ledger::{
    Asset, ExchangeId, Fill, HoldingsSnapshot, Ledger, PriceQuote, ProfileId, Side,
};
use tradeguard_analytics::{
    CheckpointRef, Conventions, Report, ReportBody, ReportFormat, Timestamp, analyze_ledger,
    sign_report,
};
use tradeguard_audit::log::AuditLog;
use tradeguard_exchange::ledger::OrderLedger;
use tradeguard_exchange::model::{self as ex, AccountId, UnixMillis};
use tradeguard_exchange::poller::SqlPollStore;
use tradeguard_gateway::clock::{Clock as _, SystemClock};
use tradeguard_gateway::evidence::{EvidenceError, ReportSource};
use tradeguard_store::Store;
use tradeguard_vault::UnlockedVault;

use super::config::ServeConfig;
use super::risk::LiveRisk;
use super::venues::Venues;

pub use tradeguard_gateway::evidence::StoredLogEvidence;

/// One exchange account as the report names it.
pub struct ReportAccount {
    /// `[accounts.<name>]`.
    pub name: String,
    /// The id the ledger and the poller key it by.
    pub id: AccountId,
    /// `binance`, `coinbase`, `coinbaseexchange` or `kraken`.
    pub exchange: &'static str,
    /// The order ledger holding its fills.
    pub ledger: Arc<dyn OrderLedger>,
}

/// The signed report of a running `serve` (see the module documentation).
pub struct ServeReports {
    log: AuditLog,
    vault: Arc<UnlockedVault>,
    polls: SqlPollStore,
    risk: Arc<LiveRisk>,
    accounts: Vec<ReportAccount>,
    base: String,
}

impl ServeReports {
    /// Reports over every account of `venues`, valued in the first profile's quote asset
    /// (USD when there is no profile).
    pub fn new(
        log: AuditLog,
        vault: Arc<UnlockedVault>,
        store: &Store,
        venues: &Venues,
        risk: Arc<LiveRisk>,
        config: &ServeConfig,
    ) -> Self {
        let accounts = venues
            .accounts()
            .iter()
            .filter_map(|(name, a)| {
                let exchange = config.accounts.get(name)?.connector.exchange.as_str();
                Some(ReportAccount {
                    name: name.clone(),
                    id: a.id.clone(),
                    exchange,
                    ledger: a.ledger.clone(),
                })
            })
            .collect();
        let base = config
            .risk
            .profiles
            .first()
            .map_or("USD", |p| p.quote.as_str());
        Self {
            log,
            vault,
            polls: SqlPollStore::new(store.clone()),
            risk,
            accounts,
            base: base.to_owned(),
        }
    }

    /// The analytics ledger from the order ledger, the stored balances and the last prices.
    async fn ledger(&self, now: Timestamp) -> Result<Ledger, EvidenceError> {
        let base = name(Asset::new(self.base.as_str()))?;
        let mut out = Ledger {
            base_currency: base.clone(),
            fills: Vec::new(),
            orders: Vec::new(),
            snapshots: Vec::new(),
            prices: Vec::new(),
            flows: Vec::new(),
            rebalances: Vec::new(),
        };
        for a in &self.accounts {
            let profiles = self.risk.profiles_of(&a.name);
            let profile = name(ProfileId::new(match profiles.as_slice() {
                [one] => one.as_str(),
                _ => a.name.as_str(),
            }))?;
            let exchange = name(ExchangeId::new(a.exchange))?;
            let fills = a
                .ledger
                .fills(&a.id)
                .await
                .map_err(|e| EvidenceError::Unavailable(e.to_string()))?;
            for f in fills
                .iter()
                .filter(|f| f.symbol.quote().as_str() == base.as_str())
            {
                if let Some(fill) = fill(f, &profile, &exchange) {
                    out.prices.push(PriceQuote {
                        time: fill.time,
                        asset: fill.base.clone(),
                        price: fill.price,
                    });
                    out.fills.push(fill);
                }
            }
            for (sym, price) in self.risk.last_prices(&a.name) {
                if sym.quote().as_str() == base.as_str() && price > Decimal::ZERO {
                    out.prices.push(PriceQuote {
                        time: now,
                        asset: name(Asset::new(sym.base().as_str()))?,
                        price,
                    });
                }
            }
            if let Some(s) = self.snapshot(a, &profile, &exchange, &out.prices).await? {
                out.snapshots.push(s);
            }
        }
        out.fills.sort_by_key(|f| f.time);
        out.prices.sort_by_key(|p| p.time);
        Ok(out)
    }

    /// The account's latest stored balances, holding only assets that have a price (the
    /// base currency always has one).
    async fn snapshot(
        &self,
        a: &ReportAccount,
        profile: &ProfileId,
        exchange: &ExchangeId,
        prices: &[PriceQuote],
    ) -> Result<Option<HoldingsSnapshot>, EvidenceError> {
        let Some((at, balances)) = self
            .polls
            .balances(&a.id)
            .await
            .map_err(EvidenceError::Unavailable)?
        else {
            return Ok(None);
        };
        let Some(time) = timestamp(at) else {
            return Ok(None);
        };
        let mut holdings = BTreeMap::new();
        for b in balances {
            let held = b.free + b.locked;
            let priced = b.asset.as_str() == self.base
                || prices
                    .iter()
                    .any(|p| p.asset.as_str() == b.asset.as_str() && p.time <= time);
            if held > Decimal::ZERO && priced {
                holdings.insert(name(Asset::new(b.asset.as_str()))?, held);
            }
        }
        Ok(Some(HoldingsSnapshot {
            time,
            profile: profile.clone(),
            exchange: exchange.clone(),
            holdings,
        }))
    }
}

#[async_trait]
impl ReportSource for ServeReports {
    async fn signed_report(&self) -> Result<Vec<u8>, EvidenceError> {
        let unavailable = |e: &dyn std::fmt::Display| EvidenceError::Unavailable(e.to_string());
        let cp = self.log.latest_checkpoint().await?.ok_or_else(|| {
            EvidenceError::NotYet(
                "signed audit checkpoint for the report to be bound to (the gateway signs one every [audit] checkpoint_secs)"
                    .into(),
            )
        })?;
        let c = cp.unverified();
        let checkpoint = CheckpointRef::new(c.origin(), c.size(), *c.root().as_bytes())
            .map_err(|e| unavailable(&e))?;
        let now = timestamp(UnixMillis(SystemClock.now_ms()))
            .ok_or_else(|| unavailable(&"the clock is before 1970"))?;
        let ledger = self.ledger(now).await?;
        let body = analyze_ledger(&ledger, &Conventions::default()).map_err(|e| unavailable(&e))?;
        let report = Report {
            format: ReportFormat,
            generated_at: now,
            checkpoint,
            body: ReportBody::Ledger(Box::new(body)),
        };
        // The gateway key signs reports as it signs checkpoints (see `audit::open`).
        let key = self
            .vault
            .gateway_signing_key()
            .map_err(|e| unavailable(&e))?;
        sign_report(&report, &key).map_err(|e| unavailable(&e))
    }
}

fn name<T>(r: Result<T, tradeguard_analytics::AnalyticsError>) -> Result<T, EvidenceError> {
    r.map_err(|e| EvidenceError::Unavailable(format!("report: {e}")))
}

fn timestamp(at: UnixMillis) -> Option<Timestamp> {
    Timestamp::from_unix_seconds(at.0.div_euclid(1000))
}

/// A ledger fill as analytics reads it; `None` for one analytics would refuse (no positive
/// quantity or price, a negative fee, an unnamed asset).
fn fill(f: &ex::Fill, profile: &ProfileId, exchange: &ExchangeId) -> Option<Fill> {
    if f.quantity <= Decimal::ZERO || f.price <= Decimal::ZERO || f.fee < Decimal::ZERO {
        return None;
    }
    let quote = f.symbol.quote().as_str();
    Some(Fill {
        time: timestamp(f.time)?,
        profile: profile.clone(),
        exchange: exchange.clone(),
        base: Asset::new(f.symbol.base().as_str()).ok()?,
        quote: Asset::new(quote).ok()?,
        side: match f.side {
            ex::Side::Buy => Side::Buy,
            ex::Side::Sell => Side::Sell,
        },
        quantity: f.quantity,
        price: f.price,
        fee: f.fee,
        fee_asset: Asset::new(f.fee_asset.as_ref().map_or(quote, |a| a.as_str())).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_analytics_would_refuse_are_left_out() {
        let p = ProfileId::new("core").unwrap();
        let e = ExchangeId::new("kraken").unwrap();
        let sym = ex::Symbol::new(
            ex::Asset::parse("BTC").unwrap(),
            ex::Asset::parse("USD").unwrap(),
        );
        let base = ex::Fill {
            trade_id: ex::TradeId::parse("t1").unwrap(),
            exchange_order_id: ex::ExchangeOrderId::parse("o1").unwrap(),
            client_order_id: None,
            symbol: sym,
            side: ex::Side::Buy,
            price: Decimal::from(50_000),
            quantity: Decimal::new(1, 2),
            fee: Decimal::new(5, 1),
            fee_asset: None,
            is_maker: None,
            time: UnixMillis(1_700_000_000_123),
        };
        let got = fill(&base, &p, &e).unwrap();
        assert_eq!(got.fee_asset.as_str(), "USD", "the quote when not reported");
        assert_eq!(got.time.unix_seconds(), 1_700_000_000);
        let cases = [
            ex::Fill {
                quantity: Decimal::ZERO,
                ..base.clone()
            },
            ex::Fill {
                price: Decimal::ZERO,
                ..base.clone()
            },
            ex::Fill {
                fee: Decimal::NEGATIVE_ONE,
                ..base.clone()
            },
        ];
        for (i, f) in cases.iter().enumerate() {
            assert!(fill(f, &p, &e).is_none(), "TC{i} failed");
        }
    }
}
