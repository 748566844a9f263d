//! The end of the demo: the analytics ledger (fills as the exchanges recorded them, what the
//! traders saw), the report per profile signed with the gateway's key and bound to the
//! latest audit checkpoint, and the table printed for the user.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rust_decimal::Decimal;
use tradeguard_analytics::ledger::{
    Asset, ExchangeId, ExternalFlow, Fill, Ledger, ProfileId, Side,
};
use tradeguard_analytics::{
    CheckpointRef, Conventions, LedgerReport, Report, ReportBody, ReportFormat, ScopeReport,
    Timestamp, analyze_ledger, sign_report,
};
use tradeguard_sim::Sim;
use tradeguard_sim::engine::market::MarketSpec;
use tradeguard_store::Store;
use tradeguard_vault::{TracingSink, Vault};

use super::bots::Records;
use super::setup::ACCOUNTS;
use crate::cmd::datadir;

/// The simulator's fills of every demo account, as analytics records.
pub fn fills(sim: &Sim) -> Vec<Fill> {
    let mut out = Vec::new();
    for acc in &ACCOUNTS {
        let venue = sim.venue(acc.venue);
        let account = sim.keys().get(acc.venue).account;
        let specs = match acc.venue {
            tradeguard_sim::Venue::Binance => MarketSpec::binance_defaults(),
            tradeguard_sim::Venue::Kraken => MarketSpec::kraken_defaults(),
            _ => MarketSpec::coinbase_defaults(),
        };
        for f in venue.fills(account) {
            let Some(m) = specs.iter().find(|m| m.id == f.market) else {
                continue;
            };
            let (Ok(profile), Ok(exchange), Ok(base), Ok(quote), Ok(fee_asset)) = (
                ProfileId::new(acc.profile),
                ExchangeId::new(acc.venue.id()),
                Asset::new(m.base.as_str()),
                Asset::new(m.quote.as_str()),
                Asset::new(f.fee_asset.as_str()),
            ) else {
                continue;
            };
            let Some(time) = Timestamp::from_unix_seconds((f.time_ms / 1000) as i64) else {
                continue;
            };
            let side = match f.side {
                tradeguard_sim::engine::types::Side::Buy => Side::Buy,
                tradeguard_sim::engine::types::Side::Sell => Side::Sell,
            };
            out.push(Fill {
                time,
                profile,
                exchange,
                base,
                quote,
                side,
                quantity: f.qty,
                price: f.price,
                fee: f.fee,
                fee_asset,
            });
        }
    }
    out.sort_by_key(|f| f.time.unix_seconds());
    out
}

/// The ledger: the first snapshot of each profile counts as its deposit.
pub fn ledger(records: &Records, fills: Vec<Fill>) -> anyhow::Result<Ledger> {
    let mut flows = Vec::new();
    for acc in &ACCOUNTS {
        let first = records
            .snapshots
            .iter()
            .find(|s| s.profile.as_str() == acc.profile);
        if let Some(s) = first {
            for (asset, amount) in &s.holdings {
                flows.push(ExternalFlow {
                    time: s.time,
                    profile: s.profile.clone(),
                    exchange: s.exchange.clone(),
                    asset: asset.clone(),
                    amount: *amount,
                });
            }
        }
    }
    let first_time = records.snapshots.iter().map(|s| s.time).min();
    let fills = fills
        .into_iter()
        .filter(|f| first_time.is_some_and(|t| f.time >= t))
        .collect();
    Ok(Ledger {
        base_currency: Asset::new("USD")?,
        fills,
        orders: records.orders.clone(),
        snapshots: records.snapshots.clone(),
        prices: records.prices.clone(),
        flows,
        rebalances: records.rebalances.clone(),
    })
}

/// Analyzes the ledger, signs the report with the gateway key (bound to the latest audit
/// checkpoint) and writes it to `<dir>/demo-report.json`. Returns the report, its path and
/// the gateway's `did:key`.
pub async fn sign(
    dir: &Path,
    passphrase: &tradeguard_crypto::secret::SecretString,
    ledger: &Ledger,
) -> anyhow::Result<(LedgerReport, PathBuf, String)> {
    let report = analyze_ledger(ledger, &Conventions::default())?;
    let store: Store = datadir::open_store(dir).await?;
    let vault = Vault::new(store.clone(), Arc::new(TracingSink))
        .unlock(passphrase)
        .await?;
    let cp = tradeguard_audit::log::latest_checkpoint(&store)
        .await?
        .context("the audit log has no checkpoint")?;
    let c = cp.unverified();
    let root = hex32(&c.root().to_hex()).context("checkpoint root")?;
    let checkpoint = CheckpointRef::new(c.origin(), c.size(), root)?;
    let body = Report {
        format: ReportFormat,
        generated_at: Timestamp::from_unix_seconds(now_secs()).context("clock")?,
        checkpoint,
        body: ReportBody::Ledger(Box::new(report.clone())),
    };
    let key = vault.gateway_signing_key()?;
    let did = vault.public_keys()?.did();
    let bytes = sign_report(&body, &key)?;
    let path = dir.join("demo-report.json");
    std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    store.close().await;
    Ok((report, path, did))
}

/// The sealed-intent intake's counters as the gateway audited them at its stop (the last
/// `intent.stats` entry among the log's final 64), or `None` when there is none.
pub async fn intake_stats(store: &Store) -> anyhow::Result<Option<serde_json::Value>> {
    let size = store.audit_size().await?;
    let from = size.saturating_sub(64);
    let rows = store.audit_entries(from, 64).await?;
    Ok(rows.iter().rev().find_map(|r| {
        let v: serde_json::Value = serde_json::from_slice(&r.entry).ok()?;
        (v["kind"] == crate::serve::intents::STATS_EVENT).then(|| v["fields"].clone())
    }))
}

/// The line on sealed intents: what trader-1 sent and what the gateway counted.
pub fn intents_line(records: &Records, counted: Option<&serde_json::Value>) -> String {
    let sent = format!(
        "sealed intents: trader-1 sent {} order(s) with {} dummies, {} accepted",
        records.intents_sent, records.dummies_sent, records.intents_placed
    );
    match counted {
        Some(c) => format!(
            "{sent}; the gateway counted {} real, {} dummies, {} status queries, {} refused",
            c["real"], c["dummies"], c["queries"], c["refused"]
        ),
        None => format!("{sent}; the gateway's counters were not in the audit log"),
    }
}

/// 32 bytes from 64 hex digits.
fn hex32(hex: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:+.2}%", v * 100.0))
        .unwrap_or_else(|| "-".into())
}

fn money(x: Option<Decimal>) -> String {
    x.map(|v| format!("{:.2}", v.round_dp(2)))
        .unwrap_or_else(|| "-".into())
}

/// One line per profile: value, return, drawdown, trades, fees, refusals.
pub fn table(report: &LedgerReport, refusals: &std::collections::BTreeMap<String, u64>) -> String {
    let mut out = format!(
        "{:<17} {:>13} {:>9} {:>9} {:>7} {:>9} {:>9}\n",
        "PROFILE", "VALUE (USD)", "RETURN", "DRAWDOWN", "TRADES", "FEES", "REFUSED"
    );
    let mut row = |name: &str, s: &ScopeReport, refused: u64| {
        let m = &s.performance.metrics;
        out.push_str(&format!(
            "{:<17} {:>13} {:>9} {:>9} {:>7} {:>9} {:>9}\n",
            name,
            money(s.portfolio_value),
            pct(m.time_weighted_return),
            m.max_drawdown
                .depth
                .map(|d| format!("{:.2}%", d * 100.0))
                .unwrap_or_else(|| "-".into()),
            s.activity.trade_count,
            format!("{:.2}", s.activity.fees.round_dp(2)),
            refused
        ));
    };
    for (name, s) in &report.by_profile {
        row(name, s, refusals.get(name).copied().unwrap_or_default());
    }
    row("all", &report.overall, refusals.values().sum());
    out
}
