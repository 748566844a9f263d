//! The metrics scrape token end to end: `tradeguard metrics-token` (offline, with the
//! passphrase) issues a bearer token that a scraper uses on `GET /metrics` of a running
//! `serve`, and nowhere else; issuing another replaces it at once, `--revoke` removes it; each
//! step is in the audit log, the token itself only as its HMAC.

mod support;
use support::*;

use std::path::Path;

use reqwest::StatusCode;
use serde_json::Value;
use tradeguard_sim::Venue;

/// Issues a token into `out` and returns it.
fn issue(g: &KrakenGateway, out: &Path) -> String {
    let (d, p) = (g.dir.to_str().unwrap(), g.pass.to_str().unwrap());
    let o = out.to_str().unwrap();
    let args = [
        "metrics-token",
        "--data-dir",
        d,
        "--passphrase-file",
        p,
        "--out",
        o,
    ];
    let printed: Value = serde_json::from_str(&ok(&tg(&args, None), "metrics-token")).unwrap();
    assert_eq!(printed["metrics_token_file"], o, "{printed}");
    std::fs::read_to_string(out).unwrap().trim().to_owned()
}

async fn status(http: &reqwest::Client, url: &str, path: &str, token: &str) -> StatusCode {
    let resp = http
        .get(format!("{url}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    resp.status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scraper_token_opens_metrics_only_and_can_be_replaced_and_revoked() {
    let tmp = tempfile::tempdir().unwrap();
    let sim = kraken_sim().await;
    let g = KrakenGateway::new(tmp.path(), sim.venue(Venue::Kraken), "");
    let first = issue(&g, &tmp.path().join("scrape-1.token"));
    assert!(first.starts_with("tgm_") && first.len() == 47, "{first}");
    let (mut server, url) = g.serve();
    let cert = std::fs::read(g.dir.join("tls/cert.pem")).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
        .build()
        .unwrap();

    let resp = http
        .get(format!("{url}/metrics"))
        .bearer_auth(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("# TYPE "));
    for path in ["/v1/state", "/v1/balances"] {
        assert_eq!(
            status(&http, &url, path, &first).await,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }

    // A new one, issued while serve runs, replaces the first at once.
    let second = issue(&g, &tmp.path().join("scrape-2.token"));
    assert_eq!(
        status(&http, &url, "/metrics", &first).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(&http, &url, "/metrics", &second).await,
        StatusCode::OK
    );
    let (d, p) = (g.dir.to_str().unwrap(), g.pass.to_str().unwrap());
    let revoke = [
        "metrics-token",
        "--data-dir",
        d,
        "--passphrase-file",
        p,
        "--revoke",
    ];
    ok(&tg(&revoke, None), "revoke");
    assert_eq!(
        status(&http, &url, "/metrics", &second).await,
        StatusCode::UNAUTHORIZED
    );
    stop(&mut server, &g.log);

    let export = tmp.path().join("export.jsonl");
    let kinds = exported_kinds(&g.dir, &export);
    let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert_eq!(count("metrics.token_issued"), 2, "{kinds:?}");
    assert_eq!(count("metrics.token_revoked"), 1, "{kinds:?}");
    let text = std::fs::read_to_string(&export).unwrap();
    assert!(
        !text.contains(&first[4..]) && !text.contains(&second[4..]),
        "a token in the log"
    );
    ok(&tg(&["audit", "verify", "--data-dir", d], None), "verify");
}
