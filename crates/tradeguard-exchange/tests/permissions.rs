//! Key verification against each exchange's own answer (loopback capture server).

mod support;

use std::sync::Arc;

use support::{Capture, Stub, config, hub};
use tradeguard_exchange::InMemorySecretSource;
use tradeguard_exchange::binance::BinanceClient;
use tradeguard_exchange::coinbase_exchange::CoinbaseExchangeClient;
use tradeguard_exchange::kraken::KrakenClient;
use tradeguard_exchange::model::ExchangeId;
use tradeguard_exchange::permissions::{KeyRefusal, KeyWarning, verify_key};

const KRAKEN_SECRET: &str =
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";

fn restrictions(withdraw: bool, ip: bool) -> String {
    format!(
        r#"{{"ipRestrict":{ip},"createTime":1,"enableReading":true,"enableWithdrawals":{withdraw},"enableInternalTransfer":false,"enableMargin":false,"enableFutures":false,"permitsUniversalTransfer":false,"enableVanillaOptions":false,"enableFixApiTrade":false,"enableFixReadOnly":false,"enableSpotAndMarginTrading":true,"enablePortfolioMarginTrading":false}}"#
    )
}

#[tokio::test]
async fn binance_key_table() {
    // (withdrawals, ip restricted, expected)
    let cases = [
        (false, true, "ok []"),
        (false, false, "ok [no_ip]"),
        (true, true, "refused withdraw"),
    ];
    for (i, (withdraw, ip, want)) in cases.iter().enumerate() {
        let body = restrictions(*withdraw, *ip);
        let srv = Capture::start(move |_, _| Stub::json(200, &body)).await;
        let (_clock, hub) = hub();
        let secrets = Arc::new(InMemorySecretSource::from_parts("k", "s", None));
        let c = BinanceClient::new(&config(ExchangeId::Binance, &srv.base), secrets, &hub).unwrap();
        let got = match verify_key(&c, "binance-main", false).await {
            Ok(r) => {
                let w: Vec<&str> = r
                    .warnings
                    .iter()
                    .map(|w| match w {
                        KeyWarning::NoIpRestriction { .. } => "no_ip",
                        KeyWarning::CannotTrade { .. } => "no_trade",
                    })
                    .collect();
                format!("ok {w:?}").replace('"', "")
            }
            Err(KeyRefusal::CanWithdraw { .. }) => "refused withdraw".into(),
            Err(e) => e.to_string(),
        };
        assert_eq!(got, *want, "TC{i} failed");
    }
}

#[tokio::test]
async fn fail_kraken_key_with_withdraw_funds() {
    let srv = Capture::start(|_, _| Stub::json(200, r#"{"error":[],"result":{"permissions":["query-funds","modify-trades","withdraw-funds"],"ipAllowlist":[]}}"#)).await;
    let (_clock, hub) = hub();
    let secrets = Arc::new(InMemorySecretSource::from_parts("k", KRAKEN_SECRET, None));
    let c = KrakenClient::new(&config(ExchangeId::Kraken, &srv.base), secrets, &hub).unwrap();
    let err = verify_key(&c, "kraken-1", false).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("can withdraw funds; in Kraken's API settings"),
        "{err}"
    );
}

#[tokio::test]
async fn coinbase_exchange_keys_need_an_explicit_dangerous_opt_in() {
    let srv = Capture::start(|_, _| Stub::json(500, "{}")).await;
    let (_clock, hub) = hub();
    let secrets = Arc::new(InMemorySecretSource::from_parts("k", "eHh4", Some("p")));
    let c = CoinbaseExchangeClient::new(
        &config(ExchangeId::CoinbaseExchange, &srv.base),
        secrets,
        &hub,
    )
    .unwrap();
    assert!(matches!(
        verify_key(&c, "cbx", false).await,
        Err(KeyRefusal::Unverifiable { .. })
    ));
    let r = verify_key(&c, "cbx", true).await.unwrap();
    assert!(r.permissions.is_none());
    assert_eq!(srv.count(), 0);
}
