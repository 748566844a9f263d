#!/usr/bin/env python3
"""The sealed-intent protocol with pyhpke, timed: the Python peer of `tradeguard bench intents`.

Does what a tradeguard client and gateway do for a sealed intent (issue 7), with pyhpke 0.6.5
on `cryptography` (OpenSSL): build the payload (RFC 8785 canonical JSON; for this payload of
ASCII strings, integers and booleans `json.dumps(sort_keys=True, separators=(",", ":"))` is
exactly JCS), sign it with Ed25519 over `tradeguard/v1 intent signature\\n` + JCS, pad it to the
1 KiB X25519 packet (`len (4 bytes BE) || payload || zeros`, 976 bytes), seal it with HPKE
base mode (X25519-HKDF-SHA256, HKDF-SHA256, AES-256-GCM, a fresh ephemeral key, info
`tradeguard/v1 intent`, empty aad) into the envelope JSON; and the reverse (strict envelope and
payload parse, duplicate members refused, strict unpad, optional signature check).

Prints one JSON object (rates per second, one thread) and a `sample` packet with the private
key of its throwaway recipient, which `tradeguard bench intents --peer-python ... --peer-script
...` opens with tradeguard-crypto to prove both sides run the same protocol. This is also the
reference for sealing an intent from Python.
"""
import argparse
import base64
import importlib.metadata
import json
import os
import struct
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from pyhpke import AEADId, CipherSuite, KDFId, KEMId

INFO = b"tradeguard/v1 intent"
SIG_CONTEXT = b"tradeguard/v1 intent signature\n"
PACKET = 1024
PADDED = PACKET - 32 - 16
SUITE = CipherSuite.new(KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES256_GCM)
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
RAW = serialization.Encoding.Raw


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(s: str) -> bytes:
    n = 0
    for c in s:
        n = n * 58 + B58.index(c)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\0" * (len(s) - len(s.lstrip("1"))) + raw


def did_key(pk: Ed25519PublicKey) -> str:
    return "did:key:z" + b58encode(b"\xed\x01" + pk.public_bytes(RAW, serialization.PublicFormat.Raw))


def canon(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def no_duplicates(pairs):
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate member")
    return out


def sample_order(i: int) -> dict:
    return {"venue": "binance", "symbol": "BTCUSDT", "side": "buy", "type": "limit",
            "qty": "0.01250000", "price": "97123.45", "time_in_force": "GTC",
            "client_order_id": f"tg-bench-{i:012d}"}


def build_payload(sk: Ed25519PrivateKey, did: str, order: dict, dummy: bool) -> bytes:
    body = {"v": 1, "order": order, "principal": did, "nonce": b64url(os.urandom(16)),
            "created": int(time.time()), "dummy": dummy, "routing": b64url(os.urandom(16))}
    body["sig"] = b64url(sk.sign(SIG_CONTEXT + canon(body)))
    return canon(body)


def pad(payload: bytes) -> bytes:
    if len(payload) > PADDED - 4:
        raise ValueError("payload too large for one packet")
    return struct.pack(">I", len(payload)) + payload + bytes(PADDED - 4 - len(payload))


def unpad(padded: bytes) -> bytes:
    if len(padded) != PADDED:
        raise ValueError("wrong padded size")
    n = struct.unpack(">I", padded[:4])[0]
    if n > PADDED - 4 or any(padded[4 + n:]):
        raise ValueError("bad padding")
    return padded[4:4 + n]


def seal(pk, payload: bytes) -> str:
    enc, ctx = SUITE.create_sender_context(pk, info=INFO)
    ct = ctx.seal(pad(payload), aad=b"")
    return json.dumps({"aead": "AES-256-GCM", "ct": b64url(ct), "enc": b64url(enc),
                       "kdf": "HKDF-SHA256", "kem": "X25519-HKDF-SHA256", "v": 1},
                      separators=(",", ":"))


def open_padded(sk, packet: str) -> bytes:
    env = json.loads(packet, object_pairs_hook=no_duplicates)
    if set(env) != {"v", "kem", "kdf", "aead", "enc", "ct"} or env["v"] != 1:
        raise ValueError("malformed envelope")
    if (env["kem"], env["kdf"], env["aead"]) != ("X25519-HKDF-SHA256", "HKDF-SHA256", "AES-256-GCM"):
        raise ValueError("unsupported suite")
    enc, ct = unb64url(env["enc"]), unb64url(env["ct"])
    if len(enc) + len(ct) != PACKET:
        raise ValueError("wrong packet size")
    ctx = SUITE.create_recipient_context(enc, sk, info=INFO)
    return unpad(ctx.open(ct, aad=b""))


def open_packet(sk, packet: str, verify: bool) -> dict:
    body = json.loads(open_padded(sk, packet), object_pairs_hook=no_duplicates)
    if set(body) != {"v", "order", "principal", "nonce", "created", "dummy", "routing", "sig"}:
        raise ValueError("malformed payload")
    nonce, routing, sig = unb64url(body["nonce"]), unb64url(body["routing"]), unb64url(body.pop("sig"))
    if len(nonce) != 16 or len(routing) != 16 or len(sig) != 64:
        raise ValueError("malformed payload")
    if verify:
        raw = b58decode(body["principal"].removeprefix("did:key:z"))
        Ed25519PublicKey.from_public_bytes(raw[2:]).verify(sig, SIG_CONTEXT + canon(body))
    return body


ROUNDS = 10


def interleaved(seconds: float, ops: dict) -> dict:
    """Measures `ops` round-robin in ROUNDS slices each and keeps each one's best slice, as
    `tradeguard bench intents` does (a loaded host slows all of them alike)."""
    best = dict.fromkeys(ops, 0.0)
    for _ in range(ROUNDS):
        for name, op in ops.items():
            start = time.perf_counter()
            n = 0
            while time.perf_counter() - start < seconds / ROUNDS:
                op()
                n += 1
            best[name] = max(best[name], n / (time.perf_counter() - start))
    return {k: round(v, 3) for k, v in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds per measurement")
    s = parser.parse_args().seconds
    gw_sk = X25519PrivateKey.generate()
    gw_raw = gw_sk.private_bytes(RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    skr = SUITE.kem.deserialize_private_key(gw_raw)
    pkr = SUITE.kem.deserialize_public_key(gw_sk.public_key().public_bytes(RAW, serialization.PublicFormat.Raw))
    principal = Ed25519PrivateKey.generate()
    did = did_key(principal.public_key())
    payload = build_payload(principal, did, sample_order(0), False)
    packet = seal(pkr, payload)
    peer_pk = X25519PrivateKey.generate().public_key()

    def intent_with_2_dummies():
        for k in range(3):
            seal(pkr, build_payload(principal, did, sample_order(k), k > 0))

    r = interleaved(s, {
        "keygen": lambda: X25519PrivateKey.generate().public_key(),
        "dh": lambda: gw_sk.exchange(peer_pk),
        "sign": lambda: build_payload(principal, did, sample_order(1), False),
        "seal": lambda: seal(pkr, payload),
        "open": lambda: open_padded(skr, packet),
        "open_parsed": lambda: open_packet(skr, packet, False),
        "open_verified": lambda: open_packet(skr, packet, True),
        "with_dummies": intent_with_2_dummies,
    })
    result = {
        "peer": f"pyhpke {importlib.metadata.version('pyhpke')} "
                f"(cryptography {importlib.metadata.version('cryptography')})",
        "threads": 1,
        "raw_x25519": {"keygens_per_sec": r["keygen"], "dh_per_sec": r["dh"]},
        "sign_payloads_per_sec": r["sign"],
        "seals_per_sec": r["seal"],
        "opens_per_sec": r["open"],
        "opens_parsed_per_sec": r["open_parsed"],
        "opens_verified_per_sec": r["open_verified"],
        "real_intents_with_2_dummies_per_sec": r["with_dummies"],
        "envelope_json_bytes": len(packet),
        "sample": {"recipient_private_key": b64url(gw_raw), "packet": packet},
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
