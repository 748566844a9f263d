#!/usr/bin/env python3
"""Seals tradeguard credential envelopes with pyhpke, an independent HPKE implementation.

Writes DIR/pyhpke/cases.json: a fresh X25519 recipient key pair (the private key only so the
Rust test can open; a real gateway never shares it) and envelopes in tradeguard's JSON form
(DESIGN.md, "Envelopes"), one per AEAD, plus envelopes that must fail to open (wrong info,
tampered ciphertext). `tests/pyhpke_interop.rs` opens them with tradeguard-crypto.

This is also the reference for sealing a credential from Python:
    suite = CipherSuite.new(KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES256_GCM)
    pk = suite.kem.deserialize_public_key(base64url_decode(keys["hpke"][0]["public_key"]))
    enc, ctx = suite.create_sender_context(pk, info=b"tradeguard/v1 credential")
    ct = ctx.seal(credential_json_bytes, aad=b"")
"""
import argparse
import base64
import json
import os
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from pyhpke import AEADId, CipherSuite, KDFId, KEMId

INFO = b"tradeguard/v1 credential"
AEADS = {"AES-256-GCM": AEADId.AES256_GCM, "ChaCha20-Poly1305": AEADId.CHACHA20_POLY1305}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def envelope(aead_name: str, enc: bytes, ct: bytes) -> str:
    return json.dumps({"v": 1, "kem": "X25519-HKDF-SHA256", "kdf": "HKDF-SHA256",
                       "aead": aead_name, "enc": b64url(enc), "ct": b64url(ct)})


def seal(pk_bytes: bytes, aead_name: str, plaintext: bytes, info: bytes = INFO):
    suite = CipherSuite.new(KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, AEADS[aead_name])
    pk = suite.kem.deserialize_public_key(pk_bytes)
    enc, ctx = suite.create_sender_context(pk, info=info)
    return enc, ctx.seal(plaintext, aad=b"")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="interop directory (pyhpke/ is created in it)")
    args = parser.parse_args()
    sk = X25519PrivateKey.generate()
    raw = serialization.Encoding.Raw
    sk_bytes = sk.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    pk_bytes = sk.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
    cases = []
    for aead_name in AEADS:
        credential = json.dumps({"exchange": "kraken", "api_key": "py-" + secrets.token_hex(8),
                                 "api_secret": base64.b64encode(os.urandom(64)).decode(),
                                 "passphrase": None, "label": f"pyhpke {aead_name}"}).encode()
        enc, ct = seal(pk_bytes, aead_name, credential)
        cases.append({"name": f"pyhpke_{aead_name}", "envelope": envelope(aead_name, enc, ct),
                      "plaintext": credential.decode(), "opens": True})
        enc, ct = seal(pk_bytes, aead_name, credential, info=b"tradeguard/v1 intent")
        cases.append({"name": f"fail_wrong_info_{aead_name}",
                      "envelope": envelope(aead_name, enc, ct), "opens": False})
        enc, ct = seal(pk_bytes, aead_name, credential)
        tampered = ct[:-1] + bytes([ct[-1] ^ 1])
        cases.append({"name": f"fail_tampered_{aead_name}",
                      "envelope": envelope(aead_name, enc, tampered), "opens": False})
    out = os.path.join(args.out, "pyhpke")
    os.makedirs(out, exist_ok=True)
    doc = {"generator": "pyhpke " + __import__("importlib.metadata").metadata.version("pyhpke"),
           "recipient_private_key": b64url(sk_bytes), "recipient_public_key": b64url(pk_bytes),
           "cases": cases}
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(doc, f, indent=1)
    print(f"pyhpke: wrote {len(cases)} cases to {out}/cases.json")


if __name__ == "__main__":
    main()
