//! Fuzzes the `POST /v1/orders` body: the JSON body parser and the order it builds. No input
//! panics; a body that parses serialises and parses back to the same request (the idempotency
//! hash and the stored two-step request depend on it); every refusal is a 400 or a 422; an
//! order that is built carries exactly the request's fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeguard_gateway::GatewayError;
use tradeguard_gateway::api::{OrderRequest, is_strict_decimal, to_order};
use tradeguard_gateway::input::parse_json_body;

fn refusal(e: &GatewayError) {
    assert!(
        matches!(e.problem().status, 400 | 422),
        "unexpected refusal {e}"
    );
}

fuzz_target!(|data: &[u8]| {
    let req: OrderRequest = match parse_json_body(Some("application/json"), data) {
        Ok(r) => r,
        Err(e) => return refusal(&e),
    };
    let again = serde_json::to_vec(&req).expect("serialises");
    let back: OrderRequest =
        parse_json_body(Some("application/json"), &again).expect("its own output parses");
    assert_eq!(back, req);
    for d in [req.price, req.quantity].into_iter().flatten() {
        assert!(is_strict_decimal(&d.to_string()));
    }
    match to_order(&req) {
        Ok(order) => {
            assert_eq!(Some(order.quantity()), req.quantity);
            assert_eq!(Some(order.symbol().to_string()), req.symbol);
            assert_eq!(
                Some(order.client_order_id().as_str()),
                req.client_order_id.as_deref()
            );
            assert_eq!(order.limit_price(), req.price);
        }
        Err(e) => refusal(&e),
    }
});
