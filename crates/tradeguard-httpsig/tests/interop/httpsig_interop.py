#!/usr/bin/env python3
"""RFC 9421 interop between tradeguard-httpsig and Python's http-message-signatures.

Two directions, both written under OUT/httpsig/ for tests/interop.rs to check:

1. Python signs: requests signed with fresh ed25519 and hmac-sha256 keys go to
   python_signed.json (with the public key and the shared secret); the Rust test must verify
   each with tradeguard-httpsig and refuse a tampered copy.
2. Rust signs: the `interop_sign` example (--signer) prints requests signed by
   tradeguard-httpsig; this script verifies each with http-message-signatures (and checks a
   tampered copy is refused), and writes the verdicts to python_verdicts.json.

Usage: httpsig_interop.py --out DIR --signer target/debug/examples/interop_sign
"""

import argparse
import base64
import datetime
import json
import os
import secrets
import subprocess
import sys

from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    algorithms,
)

AUTHORITY = "127.0.0.1:8443"
PROFILE = ("@method", "@authority", "@path", "@query", "content-digest", "content-type")


class Request:
    """The message interface http-message-signatures reads: method, url, headers."""

    def __init__(self, method, path, query, headers, scheme="https", authority=AUTHORITY):
        self.method = method
        self.scheme, self.authority, self.path, self.query = scheme, authority, path, query
        self.url = f"{scheme}://{authority}{path}" + (f"?{query}" if query is not None else "")
        self.headers = dict(headers)

    def to_json(self, name, alg, body):
        return {
            "name": name,
            "alg": alg,
            "method": self.method,
            "scheme": self.scheme,
            "authority": self.authority,
            "path": self.path,
            "query": self.query,
            "headers": [[k.lower(), v] for k, v in self.headers.items()],
            "body": body.decode(),
        }


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def python_signs():
    """Requests signed here, for tradeguard-httpsig to verify."""
    ed_key = ed25519.Ed25519PrivateKey.generate()
    ed_pub = ed_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    secret = secrets.token_bytes(32)
    resolver = MappingKeyResolver(
        public_keys={"py-ed25519": ed_key.public_key(), "py-hmac": secret},
        private_keys={"py-ed25519": ed_key, "py-hmac": secret},
    )
    now = datetime.datetime.now(datetime.timezone.utc)
    cases = []

    def add(name, alg_cls, key_id, method, path, query, body, components, **kw):
        # With `body`, the library adds Content-Digest (sha-256) itself.
        headers = {"Content-Type": "application/json"} if body else {}
        req = Request(method, path, query, headers)
        signer = HTTPMessageSigner(signature_algorithm=alg_cls, key_resolver=resolver)
        signer.sign(req, key_id=key_id, created=now, label="sig", covered_component_ids=components,
                    body=body or None, **kw)
        cases.append(req.to_json(name, alg_cls.algorithm_id, body))

    order = b'{"symbol":"BTC-USD","side":"buy","qty":"0.01"}'
    add("python_ed25519_order", algorithms.ED25519, "py-ed25519", "POST", "/v1/orders", "dry_run=true",
        order, PROFILE, nonce=b64url(secrets.token_bytes(16)))
    add("python_hmac_halt", algorithms.HMAC_SHA256, "py-hmac", "POST", "/v1/halt", None,
        b'{"reason":"interop"}', PROFILE, nonce=b64url(secrets.token_bytes(16)), tag="tradeguard")
    add("python_ed25519_defaults", algorithms.ED25519, "py-ed25519", "GET", "/v1/balances",
        "exchange=kraken&asset=BTC", b"", ("@method", "@authority", "@target-uri"))
    add("python_hmac_expires", algorithms.HMAC_SHA256, "py-hmac", "DELETE", "/v1/orders/abc-123", "",
        b"", ("@method", "@authority", "@path", "@query"),
        expires=now + datetime.timedelta(minutes=5), include_alg=False)
    return {
        "generator": "http-message-signatures (PyPI), see requirements.txt",
        "ed25519_public_key_b64url": b64url(ed_pub),
        "hmac_secret_b64": base64.b64encode(secret).decode(),
        "cases": cases,
    }


def python_verifies(signer_bin):
    """Verifies what tradeguard-httpsig signed; returns one verdict per case and tamper."""
    signed = json.loads(subprocess.run([signer_bin], check=True, capture_output=True, text=True).stdout)
    ed_pub = ed25519.Ed25519PublicKey.from_public_bytes(
        base64.urlsafe_b64decode(signed["ed25519_public_key_b64url"] + "==")
    )
    secret = base64.b64decode(signed["hmac_secret_b64"])
    resolver = MappingKeyResolver(
        public_keys={signed["ed25519_keyid"]: ed_pub, signed["hmac_keyid"]: secret}, private_keys={}
    )
    algs = {"ed25519": algorithms.ED25519, "hmac-sha256": algorithms.HMAC_SHA256}
    verdicts = []
    for case in signed["cases"]:
        for tamper in (None, "path", "body"):
            if tamper == "body" and not case["body"]:
                continue
            path = case["path"] + ("/x" if tamper == "path" else "")
            body = case["body"].encode() + (b" " if tamper == "body" else b"")
            req = Request(case["method"], path, case["query"], case["headers"], case["scheme"], case["authority"])
            verifier = HTTPMessageVerifier(signature_algorithm=algs[case["alg"]], key_resolver=resolver)
            try:
                results = verifier.verify(req, body=body, require_components=tuple(case["components"]))
                ok, error = True, None
                if case["body"]:
                    ok = results[0].body == body
            except InvalidSignature as e:
                ok, error = False, str(e)
            verdicts.append({
                "name": case["name"] + (f"+tampered_{tamper}" if tamper else ""),
                "verified": ok,
                "expected": tamper is None,
                "error": error,
            })
    return {"generator": "http-message-signatures (PyPI), see requirements.txt", "verdicts": verdicts}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--signer", required=True, help="path of the built interop_sign example")
    args = ap.parse_args()
    out = os.path.join(args.out, "httpsig")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "python_signed.json"), "w") as f:
        json.dump(python_signs(), f, indent=2)
    verdicts = python_verifies(args.signer)
    with open(os.path.join(out, "python_verdicts.json"), "w") as f:
        json.dump(verdicts, f, indent=2)
    bad = [v for v in verdicts["verdicts"] if v["verified"] != v["expected"]]
    for v in verdicts["verdicts"]:
        print(f"  {v['name']}: {'verified' if v['verified'] else 'refused'}")
    if bad:
        print(f"FAILED: {len(bad)} verdict(s) differ from expected", file=sys.stderr)
        return 1
    print(f"httpsig interop: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
