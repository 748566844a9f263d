//! The model shared by all connectors. Prices and quantities are `rust_decimal::Decimal`
//! parsed from the exchanges' strings; identifiers are newtypes parsed at the boundary.

mod account;
mod ids;
mod market;
mod order;

pub use account::{Balance, Fill, KeyPermissions};
pub use ids::{AccountId, ClientOrderId, ExchangeId, ExchangeOrderId, TradeId};
pub use market::{Asset, OrderType, Side, Symbol, TimeInForce, UnixMillis};
pub use order::{Order, OrderAck, OrderRef, OrderRequest, OrderStatus};

use rust_decimal::Decimal;

use crate::error::ModelError;

/// Parses a decimal as exchanges send it (`"0.00100000"`, `"37500"`, `"1e-8"` is refused).
/// Exact: an input that does not fit is an error, never silently rounded.
pub fn parse_decimal(field: &'static str, s: &str) -> Result<Decimal, ModelError> {
    Decimal::from_str_exact(s.trim()).map_err(|_| ModelError::Invalid {
        field,
        reason: "not a decimal number",
    })
}

/// Formats a decimal for the wire without exponent and without trailing zeros.
pub fn format_decimal(d: Decimal) -> String {
    d.normalize().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_table() {
        let cases: [(&str, Option<&str>); 7] = [
            ("0.00100000", Some("0.001")),
            ("37500", Some("37500")),
            (" 1.25 ", Some("1.25")),
            ("-0.5", Some("-0.5")),
            ("1e-8", None),
            ("", None),
            ("abc", None),
        ];
        for (i, (input, want)) in cases.iter().enumerate() {
            let got = parse_decimal("x", input).ok().map(format_decimal);
            assert_eq!(got.as_deref(), *want, "TC{i} failed: {input:?}");
        }
    }
}
