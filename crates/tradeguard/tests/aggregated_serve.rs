//! Aggregated-only mode end to end (`[analytics] aggregated_only = true`): two market buys on
//! the simulated Kraken fill; once their orders are final the gateway's database holds no
//! fill of them, only the day's totals, which the signed report counts (and says so); the
//! audit log's `order.filled` entries name each trade by its HMAC and withhold quantity, price
//! and fee, and the log still verifies. After a restart, whose reconciliation fetches the same
//! trades again, nothing is logged or counted twice.

mod support;
use support::*;

use std::path::Path;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::Value;
use tradeguard_client::{OrderRequest, Side};
use tradeguard_sim::Venue;
use tradeguard_store::Store;

const ORDERS: u64 = 2;

/// `(fill rows, trades in the daily totals)` in the data dir's database.
async fn stored(dir: &Path) -> (usize, i64) {
    let store = Store::open_sqlite(&dir.join("tradeguard.db"))
        .await
        .unwrap();
    let fills = store.fills_all("kraken-main").await.unwrap().len();
    let totals = store.aggregates_between_days(0, i64::MAX).await.unwrap();
    store.close().await;
    (fills, totals.iter().map(|t| t.trade_count).sum())
}

/// The report's overall activity once it counts every trade of both orders (and no fill row
/// is left), fetched with the CLI; fails after `within`.
async fn settled(g: &KrakenGateway, url: &str, within: Duration) -> (Value, i64) {
    let deadline = Instant::now() + within;
    loop {
        let data = g.report(url);
        let (fills, folded) = stored(&g.dir).await;
        if let Some(data) = data {
            let activity = &data["overall"]["activity"];
            if activity["orders"]["filled"].as_u64() == Some(ORDERS) && fills == 0 && folded > 0 {
                assert_eq!(
                    activity["trade_count"].as_i64(),
                    Some(folded),
                    "the report counts the daily totals: {activity}"
                );
                return (data, folded);
            }
        }
        assert!(
            Instant::now() < deadline,
            "not settled: {fills} fill rows, {folded} folded trades"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The exported `order.filled` entries' fields.
fn filled(g: &KrakenGateway, name: &str) -> Vec<Value> {
    let out = g.dir.parent().unwrap().join(name);
    exported(&g.dir, &out)
        .into_iter()
        .filter(|v| kind(v) == "order.filled")
        .map(|v| {
            v.pointer("/entry/fields")
                .or(v.get("fields"))
                .cloned()
                .unwrap()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregated_only_keeps_daily_totals_and_no_trade() {
    let tmp = tempfile::tempdir().unwrap();
    let sim = kraken_sim().await;
    let kraken = sim.venue(Venue::Kraken);
    let g = KrakenGateway::new(tmp.path(), kraken, "[analytics]\naggregated_only = true\n");
    let (mut server, url) = g.serve();
    let client = g.client(&url);
    for i in 1..=ORDERS {
        let cid = format!("agg-{i}");
        let buy = OrderRequest::market(&cid, "core", "BTC/USD", Side::Buy, Decimal::new(1, 3));
        client.place_order(&buy).await.unwrap();
    }

    let (data, trades) = settled(&g, &url, Duration::from_secs(90)).await;
    assert!(trades >= ORDERS as i64, "{data}");
    let volume: Decimal = data["overall"]["activity"]["volume"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(volume > Decimal::ZERO, "{data}");
    let defs = data["conventions"]["definitions"].as_str().unwrap();
    assert!(defs.contains("aggregated-only mode"), "{defs}");
    stop(&mut server, &g.log);

    let fills = filled(&g, "export-1.jsonl");
    assert_eq!(fills.len() as i64, trades, "one order.filled per trade");
    for f in &fills {
        let trade = f["trade_id"].as_str().unwrap();
        assert!(trade.starts_with("hmac-sha256:"), "{f}");
        for field in ["qty", "price", "fee", "fee_asset"] {
            assert_eq!(f[field], Value::Null, "{field} withheld: {f}");
        }
    }
    let d = g.dir.to_str().unwrap();
    ok(&tg(&["audit", "verify", "--data-dir", d], None), "verify");

    // A restart reconciles the last 24 h of trades again: tombstoned, not counted twice.
    let (mut server, url) = g.serve();
    let (data, again) = settled(&g, &url, Duration::from_secs(60)).await;
    assert_eq!(again, trades, "{}", data["overall"]["activity"]);
    // Past at least one poll after the start.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (rows, again) = stored(&g.dir).await;
    assert_eq!((rows, again), (0, trades));
    stop(&mut server, &g.log);
    assert_eq!(
        filled(&g, "export-2.jsonl").len(),
        fills.len(),
        "nothing logged twice"
    );
}
