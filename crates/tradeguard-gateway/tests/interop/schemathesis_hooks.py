"""schemathesis hooks: sign every generated request as the controller principal.

Loaded by schemathesis through SCHEMATHESIS_HOOKS (see schemathesis_run.sh). The key is the
PKCS#8 PEM file named by TRADEGUARD_SCHEMA_KEY (written by examples/schema_server.rs). Each
request is signed after schemathesis has serialised it (a `requests` auth hook sees the final
method, URL, headers and body), the way the gateway requires (DESIGN.md, RFC 9421/9530):

- `Content-Digest: sha-256=:<base64>:` of the exact body (empty body included);
- components `@method @authority @path @query content-digest`, plus `content-type` when the
  request has one;
- parameters `created` (now), `nonce` (128 random bits), `keyid` (the key's did:key) and
  `alg` (`ed25519`), signed with Python's `http-message-signatures` and `cryptography`.

Requests that already carry an `Authorization` header (schemathesis probing the bearer
scheme) are left as they are: the gateway must judge that header alone.
"""

import datetime
import os
import secrets

import requests
import schemathesis
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key
from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms

KEY_ENV = "TRADEGUARD_SCHEMA_KEY"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ED25519_MULTICODEC = b"\xed\x01"


def base58btc(raw: bytes) -> str:
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = BASE58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def did_key(public: ed25519.Ed25519PublicKey) -> str:
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "did:key:z" + base58btc(ED25519_MULTICODEC + raw)


class SignAsController(requests.auth.AuthBase):
    """A `requests` auth that signs the prepared request per RFC 9421."""

    def __init__(self, pem_path: str):
        with open(pem_path, "rb") as f:
            key = load_pem_private_key(f.read(), password=None)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError(f"{pem_path} is not an Ed25519 private key")
        self.keyid = did_key(key.public_key())
        self.signer = HTTPMessageSigner(
            signature_algorithm=algorithms.ED25519,
            key_resolver=MappingKeyResolver(public_keys={}, private_keys={self.keyid: key}),
        )

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if "Authorization" in r.headers:
            return r
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        for stale in ("Content-Digest", "Signature", "Signature-Input"):
            r.headers.pop(stale, None)  # a re-sent request is signed again
        components = ["@method", "@authority", "@path", "@query", "content-digest"]
        if "Content-Type" in r.headers:
            components.append("content-type")
        self.signer.sign(
            r,
            key_id=self.keyid,
            created=datetime.datetime.now(datetime.timezone.utc),
            nonce=secrets.token_urlsafe(16),
            label="sig1",
            covered_component_ids=components,
            body=body,  # the library adds Content-Digest (sha-256) of these exact bytes
        )
        return r


def serialize_ast_parse() -> None:
    """Let one thread at a time run `ast.parse` (this process only, for the run).

    Describing a filter lambda makes hypothesis `ast.parse` the module that defines it (cached,
    but in an LRU of 100 modules). CPython 3.11 keeps the AST conversion's recursion depth per
    interpreter, not per thread, so two workers parsing at once fail with "SystemError: AST
    constructor recursion depth mismatch" (seen on the first operations with integer query
    parameters, GET /v1/audit/*).
    """
    import ast
    import threading

    lock = threading.Lock()
    parse = ast.parse

    def locked_parse(*args, **kwargs):
        with lock:
            return parse(*args, **kwargs)

    ast.parse = locked_parse


serialize_ast_parse()

if os.environ.get(KEY_ENV):
    schemathesis.auth.set_from_requests(SignAsController(os.environ[KEY_ENV]))
else:
    raise RuntimeError(f"set {KEY_ENV} to the controller key written by the schema server")
