//! Fuzzes the other JSON bodies: the first byte picks `POST /v1/principals`,
//! `POST /v1/approvals`, `POST /v1/sessions`, `POST /v1/halt` or `POST /v1/credentials`, the
//! rest is the body. No input panics; every refusal is a 400 or a 422; an accepted Ed25519
//! principal names a did:key; an envelope the crypto crate decodes is never refused as
//! malformed (400) by the gateway's shape check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tradeguard_gateway::GatewayError;
use tradeguard_gateway::api::{
    ApprovalRequest, HaltRequest, NewPrincipal, SessionRequest, check_envelope, check_new_principal,
};
use tradeguard_gateway::input::parse_json_body;

const JSON: Option<&str> = Some("application/json");

fn refusal(e: &GatewayError) {
    assert!(
        matches!(e.problem().status, 400 | 422),
        "unexpected refusal {e}"
    );
}

fn principal(body: &[u8]) -> Result<(), GatewayError> {
    let p: NewPrincipal = parse_json_body(JSON, body)?;
    let kind = check_new_principal(&p)?;
    if kind == "ed25519" {
        assert!(p.keyid.starts_with("did:key:z"));
    } else {
        assert!(!p.keyid.starts_with("did:"));
    }
    Ok(())
}

fn envelope(body: &[u8]) -> Result<(), GatewayError> {
    let v: Value = parse_json_body(JSON, body)?;
    let decodes = tradeguard_crypto::envelope::Envelope::from_json(&v.to_string()).is_ok();
    match check_envelope(&v) {
        Ok(()) => assert!(decodes),
        Err(e) => assert!(!decodes, "a decodable envelope was refused: {e}"),
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let outcome = match pick % 5 {
        0 => principal(body),
        1 => parse_json_body::<ApprovalRequest>(JSON, body).map(drop),
        2 => parse_json_body::<Option<SessionRequest>>(JSON, body).map(drop),
        3 => parse_json_body::<Option<HaltRequest>>(JSON, body).map(drop),
        _ => envelope(body),
    };
    if let Err(e) = outcome {
        refusal(&e);
    }
});
