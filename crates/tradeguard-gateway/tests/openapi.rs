//! The OpenAPI document matches the router: every documented operation is routed (never the
//! 404/405 fallback), every protected one refuses an unsigned call with 401, and every route
//! in ENDPOINTS is documented with its scope.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use tradeguard_gateway::api::{ENDPOINTS, PUBLIC_ENDPOINTS};

#[tokio::test]
async fn document_and_router_agree() {
    let gw = gateway(tradeguard_store::testing::sqlite().await, test_config()).await;
    let (s, doc) = gw
        .send(
            Request::get("/v1/openapi.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut ops = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            ops += 1;
            let concrete = path.replace("{id}", "x").replace("{keyid}", "x");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let req = Request::builder()
                .method(m.clone())
                .uri(&concrete)
                .header("host", HOST)
                .body(Body::empty())
                .unwrap();
            let (status, v) = gw.send(req).await;
            let public = PUBLIC_ENDPOINTS
                .iter()
                .any(|(pm, pp)| *pm == m.as_str() && pp == path);
            if public && path == "/v1/intents" {
                // Every packet, even an empty one, gets the one sealed answer, or the intake
                // is off.
                let code = status.as_str();
                assert!(
                    matches!(code, "202" | "404"),
                    "{method} {path}: {status} {v}"
                );
                assert!(
                    op["responses"][code].is_object(),
                    "{method} {path} documents {code}"
                );
            } else if public {
                assert_eq!(status, StatusCode::OK, "{method} {path}");
                assert!(op["responses"]["200"].is_object());
            } else {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {v}");
                assert!(
                    op["responses"]["401"].is_object(),
                    "{method} {path} documents 401"
                );
                assert!(
                    op["description"].as_str().unwrap().contains("Requires"),
                    "{method} {path} names its scope"
                );
            }
        }
    }
    assert_eq!(ops, ENDPOINTS.len() + PUBLIC_ENDPOINTS.len());
}
