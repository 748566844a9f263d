//! What `serve` gives auditors: the audit log's evidence (the gateway's
//! [`StoredLogEvidence`] over the same store-backed log) and [`ServeReports`], the signed
//! performance report built from what the gateway keeps: every order and fill in the order
//! ledger, the last prices of the traded pairs and the equity history ([`super::equity`])
//! with the price marks its snapshots were valued at (the asset correlation).
//!
//! Activity (trades, volume, fees, orders per outcome and their success rate) comes from the
//! ledger, plus the daily totals of fills folded in aggregated-only mode
//! ([`super::fill_fold`], counted by whole UTC days); an order counts once final: filled, cancelled (partially filled when it had
//! fills) or rejected by the exchange (orders the risk checks refused never reach the ledger).
//! Portfolio value, returns, volatility, drawdown, ratios and concentration come from the
//! equity history per profile, per exchange and overall (its external flows, deposits and
//! withdrawals, inferred by [`super::flows`], removed from the time-weighted return), under the conventions
//! [`super::equity_report`] states; rebalancing counts the executed rebalances in the audit
//! log ([`super::rebalance_history`]). Everything is over the window the request names
//! (default: the last 30 days, [`REPORT_WINDOW_MS`]): fills and orders by their time,
//! snapshots and rebalances. Orders and fills are reported per profile when the account has
//! exactly one profile, else under the account's name; everything is valued in the first
//! profile's quote asset, and fills and snapshots in another quote asset are left out.

use std::sync::Arc;

use async_trait::async_trait;
use rust_decimal::Decimal;
use tradeguard_analytics::ledger::{
    Asset, ExchangeId, Fill, Ledger, OrderOutcome, OrderRecord, PriceQuote, ProfileId, Side,
};
use tradeguard_analytics::{
    CheckpointRef, Conventions, Report, ReportBody, ReportFormat, Timestamp, analyze_ledger,
    sign_report,
};
use tradeguard_audit::log::AuditLog;
use tradeguard_exchange::ledger::{LedgerEntry, OrderLedger, OrderState};
use tradeguard_exchange::model::{self as ex, AccountId, UnixMillis};
use tradeguard_gateway::clock::{Clock as _, SystemClock};
use tradeguard_gateway::evidence::{EvidenceError, ReportSource, ReportWindow};
use tradeguard_store::Store;
use tradeguard_vault::UnlockedVault;

use super::config::ServeConfig;
use super::equity_report::{AnalyticsConfig, Histories};
use super::fill_fold;
use super::rebalance_history::RebalanceHistory;
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
    store: Store,
    risk: Arc<LiveRisk>,
    accounts: Vec<ReportAccount>,
    base: String,
    analytics: AnalyticsConfig,
    conventions: Conventions,
    rebalances: RebalanceHistory,
}

/// The time a report covers when `GET /v1/analytics` names no `from`: the 30 days before
/// `to` (default: now).
pub const REPORT_WINDOW_MS: i64 = 30 * 86_400_000;

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
        let base = report_base(config);
        Self {
            log,
            vault,
            store: store.clone(),
            risk,
            accounts,
            base: base.to_owned(),
            analytics: config.analytics.clone(),
            rebalances: RebalanceHistory::new(store),
            // `ServeConfig::parse` refused conventions analytics would not take.
            conventions: config
                .analytics
                .conventions(config.polling.interval_secs)
                .unwrap_or_default(),
        }
    }

    /// The analytics ledger from the order ledger and the last prices.
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
            let profile = name(ProfileId::new(report_profile(&self.risk, &a.name)))?;
            let exchange = name(ExchangeId::new(a.exchange))?;
            let fills = a
                .ledger
                .fills(&a.id)
                .await
                .map_err(|e| EvidenceError::Unavailable(e.to_string()))?;
            for f in &fills {
                let counted = fill_fold::counted_fill(&self.store, &base, f, &profile, &exchange)
                    .await
                    .map_err(|e| EvidenceError::Unavailable(format!("report: {e}")))?;
                if let Some(fill) = counted {
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
            let entries = a
                .ledger
                .all_entries(&a.id)
                .await
                .map_err(|e| EvidenceError::Unavailable(e.to_string()))?;
            out.orders
                .extend(entries.iter().filter_map(|e| order(e, &profile, &exchange)));
        }
        out.fills.sort_by_key(|f| f.time);
        out.prices.sort_by_key(|p| p.time);
        Ok(out)
    }
}

#[async_trait]
impl ReportSource for ServeReports {
    async fn signed_report(&self) -> Result<Vec<u8>, EvidenceError> {
        self.signed_report_in(ReportWindow::default()).await
    }

    async fn signed_report_in(&self, window: ReportWindow) -> Result<Vec<u8>, EvidenceError> {
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
        let now_ms = SystemClock.now_ms();
        let now = timestamp(UnixMillis(now_ms))
            .ok_or_else(|| unavailable(&"the clock is before 1970"))?;
        let until = window.to_ms.unwrap_or(now_ms.saturating_add(1));
        let from = window
            .from_ms
            .unwrap_or(until.saturating_sub(REPORT_WINDOW_MS));
        // Daily totals of folded fills exist once aggregated-only mode has been on, and stay
        // part of the report if it was switched off since. They count by UTC day, so then the
        // whole report is over whole UTC days.
        let (day_from, day_until) = fill_fold::whole_days(from, until);
        let (first, end) = fill_fold::day_numbers(day_from, day_until);
        let stored = self
            .store
            .aggregates_between_days(first, end)
            .await
            .map_err(|e| unavailable(&format!("daily fill totals: {e}")))?;
        let folded = self.analytics.aggregated_only || !stored.is_empty();
        let (from, until) = if folded {
            (day_from, day_until)
        } else {
            (from, until)
        };
        let inside = |t: Timestamp| (from..until).contains(&t.unix_seconds().saturating_mul(1000));
        let mut ledger = self.ledger(now).await?;
        ledger.fills.retain(|f| inside(f.time));
        ledger.orders.retain(|o| inside(o.time));
        ledger.rebalances = self
            .rebalances
            .between(from, until)
            .await
            .map_err(|e| unavailable(&format!("rebalances in the audit log: {e}")))?;
        ledger.rebalances.sort_by_key(|r| r.time);
        let base = ledger.base_currency.clone();
        let mut body = if folded {
            fill_fold::activity_ledger(ledger, &stored)
                .and_then(|l| l.report(&self.conventions))
                .map_err(|e| unavailable(&e))?
        } else {
            analyze_ledger(&ledger, &self.conventions).map_err(|e| unavailable(&e))?
        };
        body.conventions = self.analytics.statement(&self.conventions);
        if folded {
            body.conventions.definitions.push_str(fill_fold::STATEMENT);
        }
        let rows = self
            .store
            .equity_range(from, until)
            .await
            .map_err(|e| unavailable(&format!("equity history: {e}")))?;
        let marks = self
            .store
            .price_marks_range(base.as_str(), from, until)
            .await
            .map_err(|e| unavailable(&format!("price marks: {e}")))?;
        Histories::new(&rows, &base)
            .with_prices(&marks, &base)
            .resampled(self.analytics.period)
            .apply(&mut body, &self.conventions)
            .map_err(|e| unavailable(&format!("equity history: {e}")))?;
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

/// The report's base currency: the first profile's quote asset (USD when there is none).
pub fn report_base(config: &ServeConfig) -> &str {
    config
        .risk
        .profiles
        .first()
        .map_or("USD", |p| p.quote.as_str())
}

/// The profile an account's activity is reported under: its only profile, else its name.
pub fn report_profile(risk: &LiveRisk, account: &str) -> String {
    match risk.profiles_of(account).as_slice() {
        [one] => one.as_str().to_owned(),
        _ => account.to_owned(),
    }
}

fn name<T>(r: Result<T, tradeguard_analytics::AnalyticsError>) -> Result<T, EvidenceError> {
    r.map_err(|e| EvidenceError::Unavailable(format!("report: {e}")))
}

fn timestamp(at: UnixMillis) -> Option<Timestamp> {
    Timestamp::from_unix_seconds(at.0.div_euclid(1000))
}

/// A final ledger order as analytics reads it; `None` while it is open or unknown.
fn order(e: &LedgerEntry, profile: &ProfileId, exchange: &ExchangeId) -> Option<OrderRecord> {
    let outcome = match e.state {
        OrderState::Filled => OrderOutcome::Filled,
        OrderState::Cancelled if e.filled_quantity > Decimal::ZERO => OrderOutcome::PartiallyFilled,
        OrderState::Cancelled => OrderOutcome::Cancelled,
        OrderState::Rejected => OrderOutcome::Rejected,
        OrderState::New | OrderState::Sent | OrderState::Acknowledged | OrderState::Unknown => {
            return None;
        }
    };
    Some(OrderRecord {
        time: timestamp(e.updated_at)?,
        profile: profile.clone(),
        exchange: exchange.clone(),
        outcome,
    })
}

/// A ledger fill as analytics reads it; `None` for one analytics would refuse (no positive
/// quantity or price, a negative fee, an unnamed asset).
pub fn analytics_fill(f: &ex::Fill, profile: &ProfileId, exchange: &ExchangeId) -> Option<Fill> {
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
    fn final_orders_count_with_their_outcome() {
        let p = ProfileId::new("core").unwrap();
        let e = ExchangeId::new("kraken").unwrap();
        let request = ex::OrderRequest::new(
            ex::ClientOrderId::parse("c1").unwrap(),
            ex::Symbol::parse("BTC/USD").unwrap(),
            ex::Side::Buy,
            ex::OrderType::Market,
            Decimal::ONE,
        )
        .unwrap();
        let entry = |state, filled: i64| LedgerEntry {
            account: AccountId::parse("k").unwrap(),
            exchange: ex::ExchangeId::Kraken,
            request: request.clone(),
            state,
            exchange_order_id: None,
            filled_quantity: Decimal::from(filled),
            created_at: UnixMillis(1_000),
            sent_at: None,
            updated_at: UnixMillis(61_000),
            last_error: None,
        };
        use OrderState::*;
        let cases = [
            (Filled, 1, Some(OrderOutcome::Filled)),
            (Cancelled, 0, Some(OrderOutcome::Cancelled)),
            (Cancelled, 1, Some(OrderOutcome::PartiallyFilled)),
            (Rejected, 0, Some(OrderOutcome::Rejected)),
            (New, 0, None),
            (Sent, 0, None),
            (Acknowledged, 0, None),
            (Unknown, 0, None),
        ];
        for (i, (state, filled, want)) in cases.into_iter().enumerate() {
            let got = order(&entry(state, filled), &p, &e);
            assert_eq!(got.as_ref().map(|o| o.outcome), want, "TC{i} failed");
            if let Some(o) = got {
                assert_eq!(
                    o.time.unix_seconds(),
                    61,
                    "TC{i} failed: ended when last updated"
                );
            }
        }
    }

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
        let got = analytics_fill(&base, &p, &e).unwrap();
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
            assert!(analytics_fill(f, &p, &e).is_none(), "TC{i} failed");
        }
    }
}
