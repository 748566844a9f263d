//! did:key vectors (w3c-ccg/did-method-key); see vectors/README.md.

use tradeguard_crypto::did::{decode_ed25519_did, encode_ed25519_did};
use tradeguard_crypto::sign::Ed25519SigningKey;

#[test]
fn w3c_ed25519_vectors() {
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("tests/vectors/did-key/ed25519-x25519.json").unwrap(),
    )
    .unwrap();
    let map = v.as_object().unwrap();
    assert_eq!(map.len(), 5);
    for (did, case) in map {
        let seed = hex::decode(case["seed"].as_str().unwrap()).unwrap();
        let vk = Ed25519SigningKey::from_seed(&seed).unwrap().verifying_key();
        assert_eq!(&encode_ed25519_did(&vk), did);
        assert_eq!(decode_ed25519_did(did).unwrap(), vk);
        // Four entries give the key in base58, one as a JWK; check whichever is there.
        let pair = &case["verificationKeyPair"];
        if let Some(b58) = pair["publicKeyBase58"].as_str() {
            assert_eq!(bs58_decode(b58), vk.as_bytes().to_vec());
        } else {
            let x = pair["publicKeyJwk"]["x"].as_str().unwrap();
            assert_eq!(
                tradeguard_crypto::b64::decode(x).unwrap(),
                vk.as_bytes().to_vec()
            );
        }
    }
}

fn bs58_decode(s: &str) -> Vec<u8> {
    // The vectors' bare base58 public key, decoded independently of the DID path.
    let alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut n: Vec<u8> = vec![0];
    for c in s.chars() {
        let mut carry = alphabet.find(c).unwrap() as u32;
        for d in n.iter_mut().rev() {
            carry += (*d as u32) * 58;
            *d = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            n.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.chars().take_while(|c| *c == '1').count();
    let first = n.iter().position(|b| *b != 0).unwrap_or(n.len());
    let mut out = vec![0u8; zeros];
    out.extend_from_slice(&n[first..]);
    out
}

#[test]
fn fail_malformed_dids() {
    let vk = Ed25519SigningKey::from_seed(&[7u8; 32])
        .unwrap()
        .verifying_key();
    let good = encode_ed25519_did(&vk);
    let cases = [
        String::new(),
        "did:web:example.com".to_string(),
        "did:key:".to_string(),
        good.replace("did:key:z", "did:key:m"),
        format!("{good}0"),                 // '0' is not base58
        good[..good.len() - 3].to_string(), // truncated key
        "did:key:z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc".to_string(), // X25519 codec
        format!("did:key:z{}", "1".repeat(100)), // oversized
    ];
    for (i, c) in cases.iter().enumerate() {
        assert!(decode_ed25519_did(c).is_err(), "TC{i} accepted {c}");
    }
}
