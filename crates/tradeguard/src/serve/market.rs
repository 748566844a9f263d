//! Market data for the risk engine: each instrument's rules (tick, step, minimums) and last
//! price, read from the exchange's public (unsigned) market endpoints.
//!
//! Interim: the `tradeguard_exchange::Exchange` trait has no market-data call yet, so this
//! module reads the four public endpoints itself (through the account's base URL and proxy,
//! reusing the exchange crate's pair spellings). It asks once per poll, outside the shared
//! rate budgets; the answers are small and public. When the exchange crate offers market data
//! this module becomes a thin adapter.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::Value;
use tradeguard_exchange::ConnectorConfig;
use tradeguard_exchange::model::{ExchangeId, Symbol};
use tradeguard_exchange::{binance, coinbase, coinbase_exchange, kraken};
use tradeguard_risk::market::InstrumentRules;
use url::Url;

/// One instrument as the exchange publishes it; either part may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quote {
    /// Tick, step, minimum quantity and notional.
    pub rules: Option<InstrumentRules>,
    /// Last traded (or mid) price.
    pub last: Option<Decimal>,
}

/// Reads one account's exchange's public market data.
pub struct PublicMarkets {
    exchange: ExchangeId,
    base: Url,
    http: reqwest::Client,
}

impl PublicMarkets {
    /// For the exchange `cfg` reaches (its base URL, sandbox, proxy and timeouts).
    pub fn new(cfg: &ConnectorConfig) -> anyhow::Result<Self> {
        let base = match cfg.exchange {
            ExchangeId::Binance => cfg.resolve_base_url(
                binance::rest::PRODUCTION_URL,
                Some(binance::rest::TESTNET_URL),
            ),
            ExchangeId::Coinbase => cfg.resolve_base_url(
                coinbase::rest::PRODUCTION_URL,
                Some(coinbase::rest::SANDBOX_URL),
            ),
            ExchangeId::CoinbaseExchange => cfg.resolve_base_url(
                coinbase_exchange::rest::PRODUCTION_URL,
                Some(coinbase_exchange::rest::SANDBOX_URL),
            ),
            ExchangeId::Kraken => cfg.resolve_base_url(kraken::rest::PRODUCTION_URL, None),
        }?;
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("tradeguard/", env!("CARGO_PKG_VERSION")))
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if let Some(p) = &cfg.proxy {
            b = b.proxy(reqwest::Proxy::all(p.as_str())?);
        }
        Ok(Self {
            exchange: cfg.exchange,
            base,
            http: b.build()?,
        })
    }

    /// Rules and last prices of `symbols`, one pair at a time (an exchange refuses a whole
    /// list for one unknown pair); a pair the exchange does not answer for is left out. `Err`
    /// only when no pair could be read.
    pub async fn fetch(&self, symbols: &[Symbol]) -> Result<BTreeMap<Symbol, Quote>, String> {
        let mut out = BTreeMap::new();
        let mut last_error = None;
        for s in symbols {
            match self.one(s).await {
                Ok(q) => {
                    out.insert(s.clone(), q);
                }
                Err(e) => last_error = Some(e),
            }
        }
        match last_error {
            Some(e) if out.is_empty() => Err(e),
            _ => Ok(out),
        }
    }

    async fn one(&self, s: &Symbol) -> Result<Quote, String> {
        match self.exchange {
            ExchangeId::Binance => {
                let wire = binance::model::wire_symbol(s);
                let query = format!("symbol={wire}");
                let info = self.get("/api/v3/exchangeInfo", Some(&query)).await?;
                let listed = info["symbols"].as_array().into_iter().flatten();
                let rules = listed
                    .filter(|m| m["symbol"] == wire.as_str())
                    .find_map(binance_rules);
                // Optional: not every environment serves the ticker.
                let price = self.get("/api/v3/ticker/price", Some(&query)).await;
                let last = price.ok().and_then(|p| dec(&p["price"]));
                Ok(Quote { rules, last })
            }
            ExchangeId::Kraken => {
                let query = format!("pair={}", kraken::model::wire_pair(s));
                let first = |v: &Value| {
                    v["result"]
                        .as_object()
                        .and_then(|m| m.values().next().cloned())
                };
                let info = self.get("/0/public/AssetPairs", Some(&query)).await?;
                let rules = first(&info).as_ref().and_then(kraken_rules);
                let ticker = self.get("/0/public/Ticker", Some(&query)).await;
                let last = ticker
                    .ok()
                    .as_ref()
                    .and_then(first)
                    .and_then(|t| dec(&t["c"][0]));
                Ok(Quote { rules, last })
            }
            ExchangeId::Coinbase => {
                let path = format!(
                    "/api/v3/brokerage/market/products/{}",
                    coinbase::model::product_id(s)
                );
                Ok(coinbase_quote(&self.get(&path, None).await?))
            }
            ExchangeId::CoinbaseExchange => {
                let id = coinbase_exchange::model::product_id(s);
                let mut q =
                    coinbase_exchange_quote(&self.get(&format!("/products/{id}"), None).await?);
                let ticker = self.get(&format!("/products/{id}/ticker"), None).await;
                q.last = ticker.ok().and_then(|t| dec(&t["price"]));
                Ok(q)
            }
        }
    }

    async fn get(&self, path: &str, query: Option<&str>) -> Result<Value, String> {
        let mut url = self
            .base
            .join(path)
            .map_err(|_| format!("cannot build {path}"))?;
        url.set_query(query);
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("{} {path}: {e}", self.exchange))?;
        if !resp.status().is_success() {
            return Err(format!("{} {path}: HTTP {}", self.exchange, resp.status()));
        }
        let v: Value = resp
            .json()
            .await
            .map_err(|e| format!("{} {path}: {e}", self.exchange))?;
        // Kraken answers errors with 200 and a non-empty `error` list.
        match v["error"].as_array() {
            Some(errors) if !errors.is_empty() => Err(format!(
                "{} {path}: {}",
                self.exchange,
                Value::Array(errors.clone())
            )),
            _ => Ok(v),
        }
    }
}

/// A decimal sent as a string (or a JSON number).
fn dec(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => Decimal::from_str_exact(s.trim()).ok(),
        Value::Number(n) => Decimal::from_str_exact(&n.to_string()).ok(),
        _ => None,
    }
    .map(|d| d.normalize())
}

fn rules(
    tick: Option<Decimal>,
    step: Option<Decimal>,
    min_qty: Option<Decimal>,
    min_notional: Option<Decimal>,
) -> Option<InstrumentRules> {
    InstrumentRules::new(
        tick?,
        step?,
        min_qty.unwrap_or_default(),
        min_notional.unwrap_or_default(),
    )
    .ok()
}

fn binance_rules(s: &Value) -> Option<InstrumentRules> {
    let filter = |name: &str, field: &str| {
        s["filters"]
            .as_array()?
            .iter()
            .find(|f| f["filterType"] == name)
            .and_then(|f| dec(&f[field]))
    };
    let min_notional =
        filter("NOTIONAL", "minNotional").or_else(|| filter("MIN_NOTIONAL", "minNotional"));
    rules(
        filter("PRICE_FILTER", "tickSize"),
        filter("LOT_SIZE", "stepSize"),
        filter("LOT_SIZE", "minQty"),
        min_notional,
    )
}

fn kraken_rules(v: &Value) -> Option<InstrumentRules> {
    let step = v["lot_decimals"]
        .as_u64()
        .map(|n| Decimal::new(1, n.min(28) as u32));
    rules(
        dec(&v["tick_size"]),
        step,
        dec(&v["ordermin"]),
        dec(&v["costmin"]),
    )
}

fn coinbase_quote(v: &Value) -> Quote {
    Quote {
        rules: rules(
            dec(&v["quote_increment"]),
            dec(&v["base_increment"]),
            dec(&v["base_min_size"]),
            dec(&v["quote_min_size"]),
        ),
        last: dec(&v["price"]),
    }
}

fn coinbase_exchange_quote(v: &Value) -> Quote {
    Quote {
        rules: rules(
            dec(&v["quote_increment"]),
            dec(&v["base_increment"]),
            dec(&v["base_min_size"]),
            dec(&v["min_market_funds"]),
        ),
        last: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeguard_exchange::model::AccountId;
    use tradeguard_sim::{SimConfig, Venue};

    fn sym(s: &str) -> Symbol {
        Symbol::parse(s).unwrap()
    }

    /// Every simulated exchange answers rules for BTC and ETH, prices where it serves them, and
    /// a pair it does not list spoils nothing.
    #[tokio::test]
    async fn rules_and_prices_from_every_simulated_exchange() {
        let sim = tradeguard_sim::start(SimConfig::default()).await.unwrap();
        let cases = [
            (Venue::Binance, ExchangeId::Binance, "USDT"),
            (Venue::Coinbase, ExchangeId::Coinbase, "USD"),
            (Venue::CoinbaseExchange, ExchangeId::CoinbaseExchange, "USD"),
            (Venue::Kraken, ExchangeId::Kraken, "USD"),
        ];
        for (i, (venue, id, quote)) in cases.into_iter().enumerate() {
            let base = Url::parse(sim.venue(venue).base_url()).unwrap();
            let cfg = ConnectorConfig::new(id, AccountId::parse("a").unwrap()).with_base_url(base);
            let want = [sym(&format!("BTC/{quote}")), sym(&format!("ETH/{quote}"))];
            let unlisted = sym(&format!("SOL/{quote}"));
            let asked = [want[0].clone(), unlisted.clone(), want[1].clone()];
            let got = PublicMarkets::new(&cfg).unwrap().fetch(&asked).await;
            let got = got.unwrap_or_else(|e| panic!("TC{i} {venue}: {e}"));
            assert!(
                got.get(&unlisted).is_none_or(|q| q.rules.is_none()),
                "TC{i} {venue}: a pair the venue does not list has no rules"
            );
            for s in &want {
                let q = got
                    .get(s)
                    .unwrap_or_else(|| panic!("TC{i} {venue}: no {s}"));
                let r = q
                    .rules
                    .unwrap_or_else(|| panic!("TC{i} {venue}: no rules for {s}"));
                assert!(
                    r.tick_size > Decimal::ZERO && r.step_size > Decimal::ZERO,
                    "TC{i}"
                );
                if matches!(venue, Venue::Kraken | Venue::Coinbase) {
                    assert!(
                        q.last.is_some_and(|p| p > Decimal::ZERO),
                        "TC{i} {venue}: price"
                    );
                }
            }
        }
        sim.shutdown().await;
    }
}
