//! Writes the seed corpus: `cargo run --example make_seeds` (from this directory).

use tradeguard_crypto::hpke::Kem;
use tradeguard_crypto::intent::OpenPolicy;
use tradeguard_crypto::intent::pad::pad;
use tradeguard_crypto_fuzz::{NOW, sample, sealer};

fn main() -> std::io::Result<()> {
    let padded_len = OpenPolicy::default()
        .sizes
        .padded_len(Kem::X25519HkdfSha256);
    for (name, dummy) in [("real", false), ("dummy", true)] {
        let s = sample(dummy);
        let payload = s.to_bytes().expect("encode");
        std::fs::write(format!("seeds/intent_payload/{name}.json"), &payload)?;
        std::fs::write(
            format!("seeds/intent_payload/{name}.padded"),
            &pad(&payload, padded_len).expect("pad")[..],
        )?;
        let packet = sealer().seal(&s).expect("seal").to_json();
        std::fs::write(format!("seeds/intent_open/{name}.json"), packet)?;
    }
    let ids = vec![tradeguard_crypto::intent::RoutingId::from_hex(&"ab".repeat(16)).expect("id")];
    let key = tradeguard_crypto::sign::Ed25519SigningKey::from_seed(&[7u8; 32]).expect("seed");
    let query = tradeguard_crypto::intent::IntentPayload::new_query(ids, &key.verifying_key(), NOW)
        .and_then(|p| p.sign(&key))
        .expect("query");
    std::fs::write(
        "seeds/intent_payload/query.json",
        query.to_bytes().expect("encode"),
    )?;
    std::fs::write(
        "seeds/intent_open/query.json",
        sealer().seal(&query).expect("seal").to_json(),
    )?;
    Ok(())
}
