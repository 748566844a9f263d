//! Kraken wire types (`{"error":[...],"result":...}` envelopes), asset and pair names, their
//! conversion to the shared model, and error classification.
//!
//! See: `krakenfx/api-specs` `spot-rest/openapi_v3.yaml`; <https://docs.kraken.com/api/docs/guides/spot-errors>;
//! exchanges.md sections 2.4 and 2.5.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

use crate::error::{ExchangeError, ModelError, RejectKind};
use crate::model::{
    Asset, Balance, ClientOrderId, ExchangeId, ExchangeOrderId, Fill, KeyPermissions, Order,
    OrderStatus, OrderType, Side, Symbol, TimeInForce, TradeId, UnixMillis, parse_decimal,
};

const EX: ExchangeId = ExchangeId::Kraken;

/// Assets Kraken names with an `X` prefix in legacy pair and balance names.
const LEGACY_CRYPTO: [&str; 11] = [
    "XBT", "ETH", "LTC", "XRP", "XLM", "XMR", "ZEC", "ETC", "REP", "MLN", "XDG",
];
/// Currencies Kraken names with a `Z` prefix.
const LEGACY_FIAT: [&str; 6] = ["USD", "EUR", "GBP", "CAD", "JPY", "AUD"];

/// Every Kraken answer: a non-empty `error` array means failure.
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    /// Errors such as `EAPI:Invalid signature`.
    #[serde(default)]
    pub error: Vec<String>,
    /// The result, when successful.
    pub result: Option<T>,
}

/// A number Kraken sends either as a JSON number or as a string, kept as text.
#[derive(Debug, Clone, Default)]
pub struct NumText(pub String);

impl<'de> Deserialize<'de> for NumText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => Ok(NumText(s)),
            serde_json::Value::Number(n) => Ok(NumText(n.to_string())),
            _ => Err(serde::de::Error::custom(
                "expected a number or a numeric string",
            )),
        }
    }
}

impl NumText {
    fn decimal(&self, field: &'static str) -> Result<Decimal, ModelError> {
        parse_decimal(field, &self.0).or_else(|_| {
            Decimal::from_scientific(&self.0).map_err(|_| ModelError::Invalid {
                field,
                reason: "not a number",
            })
        })
    }

    /// A time in (fractional) seconds, as milliseconds.
    pub fn millis(&self, field: &'static str) -> Result<UnixMillis, ModelError> {
        let ms = self.decimal(field)? * Decimal::from(1000);
        i64::try_from(ms.trunc())
            .map(UnixMillis)
            .map_err(|_| ModelError::Invalid {
                field,
                reason: "out of range",
            })
    }
}

/// One `BalanceEx` entry.
#[derive(Debug, Deserialize)]
pub struct BalanceExWire {
    /// Total balance.
    pub balance: NumText,
    /// Held by open orders.
    #[serde(default)]
    pub hold_trade: Option<NumText>,
    /// Credit line.
    #[serde(default)]
    pub credit: Option<NumText>,
    /// Credit used.
    #[serde(default)]
    pub credit_used: Option<NumText>,
}

/// `AddOrder` result.
#[derive(Debug, Deserialize)]
pub struct AddOrderWire {
    /// The new order's txid(s).
    pub txid: Vec<String>,
}

/// `CancelOrder` result.
#[derive(Debug, Deserialize)]
pub struct CancelWire {
    /// Orders cancelled.
    pub count: i64,
}

/// `descr` of an order.
#[derive(Debug, Deserialize)]
pub struct DescrWire {
    /// Pair (altname, e.g. `XBTUSD`).
    pub pair: String,
    /// `buy` or `sell`.
    #[serde(rename = "type")]
    pub side: String,
    /// `limit`, `market`, ...
    pub ordertype: String,
    /// Limit price.
    #[serde(default)]
    pub price: Option<NumText>,
}

/// An order of `OpenOrders` / `ClosedOrders`.
#[derive(Debug, Deserialize)]
pub struct OrderWire {
    /// Client order id, when one was given.
    #[serde(default)]
    pub cl_ord_id: Option<String>,
    /// `pending`, `open`, `closed`, `canceled`, `expired`.
    pub status: String,
    /// Open time (seconds).
    #[serde(default)]
    pub opentm: Option<NumText>,
    /// Description.
    pub descr: DescrWire,
    /// Volume ordered.
    pub vol: NumText,
    /// Volume executed.
    pub vol_exec: NumText,
    /// Average price.
    #[serde(default)]
    pub price: Option<NumText>,
}

/// `OpenOrders` result.
#[derive(Debug, Deserialize)]
pub struct OpenOrdersWire {
    /// txid → order.
    #[serde(default)]
    pub open: HashMap<String, OrderWire>,
}

/// `ClosedOrders` result.
#[derive(Debug, Deserialize)]
pub struct ClosedOrdersWire {
    /// txid → order.
    #[serde(default)]
    pub closed: HashMap<String, OrderWire>,
}

/// One trade of `TradesHistory`.
#[derive(Debug, Deserialize)]
pub struct TradeWire {
    /// The order's txid.
    pub ordertxid: String,
    /// Pair (legacy name, e.g. `XXBTZUSD`).
    pub pair: String,
    /// Time (seconds).
    pub time: NumText,
    /// `buy` or `sell`.
    #[serde(rename = "type")]
    pub side: String,
    /// Price.
    pub price: NumText,
    /// Fee (quote currency).
    pub fee: NumText,
    /// Volume.
    pub vol: NumText,
    /// True when maker.
    #[serde(default)]
    pub maker: Option<bool>,
}

/// `TradesHistory` result.
#[derive(Debug, Deserialize)]
pub struct TradesWire {
    /// trade id → trade.
    #[serde(default)]
    pub trades: HashMap<String, TradeWire>,
    /// Total matching trades.
    #[serde(default)]
    pub count: i64,
}

/// `GetApiKeyInfo` result.
#[derive(Debug, Deserialize)]
pub struct ApiKeyInfoWire {
    /// Permission names (`query-funds`, `withdraw-funds`, ...).
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Allowed IPs (empty: any).
    #[serde(default, rename = "ipAllowlist")]
    pub ip_allowlist: Option<Vec<String>>,
}

/// `Time` result.
#[derive(Debug, Deserialize)]
pub struct TimeWire {
    /// Server time (seconds).
    pub unixtime: i64,
}

/// One `AssetPairs` entry.
#[derive(Debug, Deserialize)]
pub struct AssetPairWire {
    /// `XBTUSD`.
    pub altname: String,
    /// `XBT/USD`.
    #[serde(default)]
    pub wsname: Option<String>,
    /// `XXBT`.
    pub base: String,
    /// `ZUSD`.
    pub quote: String,
}

/// Kraken's asset code → tradeguard's (`XXBT`/`XBT` → `BTC`, `ZUSD` → `USD`). `None` for
/// balances that are not spot assets (`XBT.F`, `ETH2.S`).
pub fn asset_from_kraken(code: &str) -> Option<Asset> {
    if code.contains('.') {
        return None;
    }
    let legacy = code.len() == 4
        && (code.starts_with('X') && LEGACY_CRYPTO.contains(&&code[1..])
            || code.starts_with('Z') && LEGACY_FIAT.contains(&&code[1..]));
    let c = if legacy { &code[1..] } else { code };
    let c = match c {
        "XBT" => "BTC",
        "XDG" => "DOGE",
        other => other,
    };
    Asset::parse(c).ok()
}

fn asset_to_kraken(a: &Asset) -> &str {
    match a.as_str() {
        "BTC" => "XBT",
        "DOGE" => "XDG",
        other => other,
    }
}

fn legacy(code: &str) -> String {
    if LEGACY_CRYPTO.contains(&code) {
        format!("X{code}")
    } else if LEGACY_FIAT.contains(&code) {
        format!("Z{code}")
    } else {
        code.to_owned()
    }
}

/// The pair name sent to Kraken (the altname, `XBTUSD`).
pub fn wire_pair(s: &Symbol) -> String {
    format!(
        "{}{}",
        asset_to_kraken(s.base()),
        asset_to_kraken(s.quote())
    )
}

/// Every name Kraken may use for `s` in responses (altname, legacy `XXBTZUSD`, `XBT/USD`).
pub fn pair_names(s: &Symbol) -> [String; 3] {
    let (b, q) = (asset_to_kraken(s.base()), asset_to_kraken(s.quote()));
    [
        format!("{b}{q}"),
        format!("{}{}", legacy(b), legacy(q)),
        format!("{b}/{q}"),
    ]
}

impl AssetPairWire {
    /// The shared model's pair.
    pub fn symbol(&self) -> Option<Symbol> {
        if let Some((b, q)) = self.wsname.as_deref().and_then(|w| w.split_once('/')) {
            return Some(Symbol::new(asset_from_kraken(b)?, asset_from_kraken(q)?));
        }
        Some(Symbol::new(
            asset_from_kraken(&self.base)?,
            asset_from_kraken(&self.quote)?,
        ))
    }
}

fn side(s: &str) -> Result<Side, ModelError> {
    match s {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        _ => Err(ModelError::Invalid {
            field: "type",
            reason: "expected buy or sell",
        }),
    }
}

impl OrderWire {
    /// The shared model's order with id `txid` on `symbol`.
    pub fn to_order(&self, txid: &str, symbol: &Symbol) -> Result<Order, ModelError> {
        let qty = self.vol.decimal("vol")?;
        let exec = self.vol_exec.decimal("vol_exec")?;
        let status = match self.status.as_str() {
            "pending" => OrderStatus::Pending,
            "open" if exec > Decimal::ZERO => OrderStatus::PartiallyFilled,
            "open" => OrderStatus::Open,
            "closed" => OrderStatus::Filled,
            "canceled" => OrderStatus::Cancelled,
            "expired" => OrderStatus::Expired,
            _ => {
                return Err(ModelError::Invalid {
                    field: "status",
                    reason: "unknown Kraken order status",
                });
            }
        };
        let order_type = match (self.descr.ordertype.as_str(), &self.descr.price) {
            ("limit", Some(p)) => OrderType::Limit {
                price: p.decimal("price")?,
                time_in_force: TimeInForce::Gtc,
            },
            _ => OrderType::Market,
        };
        let avg = self
            .price
            .as_ref()
            .map(|p| p.decimal("price"))
            .transpose()?;
        Ok(Order {
            exchange_order_id: ExchangeOrderId::parse(txid)?,
            client_order_id: self
                .cl_ord_id
                .as_deref()
                .and_then(|c| ClientOrderId::parse(c).ok()),
            symbol: symbol.clone(),
            side: side(&self.descr.side)?,
            order_type,
            quantity: qty,
            filled_quantity: exec,
            average_price: avg.filter(|p| *p > Decimal::ZERO),
            status,
            created_at: self
                .opentm
                .as_ref()
                .map(|t| t.millis("opentm"))
                .transpose()?,
        })
    }
}

impl TradeWire {
    /// The shared model's fill with id `trade_id`.
    pub fn to_fill(&self, trade_id: &str, symbol: &Symbol) -> Result<Fill, ModelError> {
        Ok(Fill {
            trade_id: TradeId::parse(trade_id)?,
            exchange_order_id: ExchangeOrderId::parse(&self.ordertxid)?,
            client_order_id: None,
            symbol: symbol.clone(),
            side: side(&self.side)?,
            price: self.price.decimal("price")?,
            quantity: self.vol.decimal("vol")?,
            fee: self.fee.decimal("fee")?,
            fee_asset: None,
            is_maker: self.maker,
            time: self.time.millis("time")?,
        })
    }
}

/// `BalanceEx` → balances (available = balance + credit − credit used − held).
pub fn balances(map: &HashMap<String, BalanceExWire>) -> Result<Vec<Balance>, ModelError> {
    let mut out = Vec::new();
    for (code, b) in map {
        let Some(asset) = asset_from_kraken(code) else {
            continue;
        };
        let opt = |v: &Option<NumText>, f| v.as_ref().map_or(Ok(Decimal::ZERO), |n| n.decimal(f));
        let total = b.balance.decimal("balance")?;
        let hold = opt(&b.hold_trade, "hold_trade")?;
        let credit = opt(&b.credit, "credit")? - opt(&b.credit_used, "credit_used")?;
        let free = total + credit - hold;
        if total.is_zero() && hold.is_zero() {
            continue;
        }
        out.push(Balance {
            asset,
            free,
            locked: hold,
        });
    }
    out.sort_by(|a, b| a.asset.cmp(&b.asset));
    Ok(out)
}

impl ApiKeyInfoWire {
    /// The shared model's key permissions.
    pub fn to_permissions(&self) -> KeyPermissions {
        let has = |p: &str| self.permissions.iter().any(|x| x == p);
        let any = |frag: &str| self.permissions.iter().any(|x| x.contains(frag));
        KeyPermissions {
            can_read: has("query-funds") || has("query-open-trades"),
            can_trade: has("modify-trades") || has("create-modify-orders"),
            can_withdraw: any("withdraw"),
            can_transfer: any("transfer") || any("withdraw"),
            ip_restricted: Some(self.ip_allowlist.as_ref().is_some_and(|l| !l.is_empty())),
            granted: self.permissions.clone(),
        }
    }
}

/// Classifies the `error` array of a failed call (HTTP statuses are read before this).
pub fn classify(operation: &'static str, errors: &[String]) -> ExchangeError {
    let first = errors
        .first()
        .map(String::as_str)
        .unwrap_or("EGeneral:Unknown error");
    let (kind, transient, limited) = match first {
        e if e.starts_with("EAPI:Invalid signature") => {
            (RejectKind::InvalidSignature, false, false)
        }
        e if e.starts_with("EAPI:Invalid nonce") => (RejectKind::InvalidNonce, false, false),
        e if e.starts_with("EAPI:Invalid key") => (RejectKind::InvalidApiKey, false, false),
        e if e.starts_with("EGeneral:Temporary lockout") => {
            (RejectKind::InvalidApiKey, false, false)
        }
        e if e.starts_with("EGeneral:Permission denied") => {
            (RejectKind::PermissionDenied, false, false)
        }
        e if e.contains("Rate limit exceeded") || e.starts_with("EService:Throttled") => {
            (RejectKind::InvalidRequest, false, true)
        }
        e if e.starts_with("EService:Unavailable")
            || e.starts_with("EService:Busy")
            || e.starts_with("EGeneral:Internal error") =>
        {
            (RejectKind::InvalidRequest, true, false)
        }
        e if e.starts_with("EOrder:Insufficient funds") => {
            (RejectKind::InsufficientFunds, false, false)
        }
        e if e.starts_with("EOrder:Unknown order") => (RejectKind::UnknownOrder, false, false),
        e if e.contains("Duplicate") => (RejectKind::DuplicateOrder, false, false),
        e if e.starts_with("EOrder:")
            || e.starts_with("EService:Deadline elapsed")
            || e.starts_with("EService:Market in") =>
        {
            (RejectKind::InvalidOrder, false, false)
        }
        _ if operation == "place_order" => (RejectKind::InvalidOrder, false, false),
        _ => (RejectKind::InvalidRequest, false, false),
    };
    if limited {
        return ExchangeError::RateLimited {
            exchange: EX,
            operation,
            retry_after: None,
        };
    }
    if transient {
        return ExchangeError::Transient {
            exchange: EX,
            operation,
            reason: first.to_owned(),
        };
    }
    ExchangeError::Definitive {
        exchange: EX,
        operation,
        kind,
        code: first.to_owned(),
        message: errors.join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_table() {
        let cases = [
            ("XXBT", Some("BTC")),
            ("XBT", Some("BTC")),
            ("ZUSD", Some("USD")),
            ("XETH", Some("ETH")),
            ("USDT", Some("USDT")),
            ("XXDG", Some("DOGE")),
            ("XBT.F", None),
            ("USD.HOLD", None),
        ];
        for (i, (code, want)) in cases.iter().enumerate() {
            assert_eq!(
                asset_from_kraken(code).map(|a| a.to_string()).as_deref(),
                *want,
                "TC{i} failed: {code}"
            );
        }
    }

    #[test]
    fn pair_names_cover_altname_and_legacy() {
        let s = Symbol::parse("BTC/USD").unwrap();
        assert_eq!(wire_pair(&s), "XBTUSD");
        assert_eq!(
            pair_names(&s),
            [
                "XBTUSD".to_owned(),
                "XXBTZUSD".to_owned(),
                "XBT/USD".to_owned()
            ]
        );
        let s = Symbol::parse("SOL/USDT").unwrap();
        assert_eq!(pair_names(&s)[1], "SOLUSDT");
    }

    #[test]
    fn error_table() {
        let cases: [(&str, &str, &str); 8] = [
            (
                "balances",
                "EAPI:Invalid signature",
                "def InvalidSignature EAPI:Invalid signature",
            ),
            (
                "balances",
                "EAPI:Invalid nonce",
                "def InvalidNonce EAPI:Invalid nonce",
            ),
            (
                "balances",
                "EGeneral:Permission denied",
                "def PermissionDenied EGeneral:Permission denied",
            ),
            (
                "place_order",
                "EOrder:Insufficient funds",
                "def InsufficientFunds EOrder:Insufficient funds",
            ),
            (
                "place_order",
                "EGeneral:Invalid arguments:volume",
                "def InvalidOrder EGeneral:Invalid arguments:volume",
            ),
            ("balances", "EAPI:Rate limit exceeded", "limited"),
            ("balances", "EService:Unavailable", "transient"),
            (
                "place_order",
                "EService:Deadline elapsed",
                "def InvalidOrder EService:Deadline elapsed",
            ),
        ];
        for (i, (op, err, want)) in cases.iter().enumerate() {
            let got = match classify(op, &[err.to_string()]) {
                ExchangeError::Definitive { kind, code, .. } => format!("def {kind:?} {code}"),
                ExchangeError::RateLimited { .. } => "limited".into(),
                ExchangeError::Transient { .. } => "transient".into(),
                other => format!("{other:?}"),
            };
            assert_eq!(got, *want, "TC{i} failed");
        }
    }
}
