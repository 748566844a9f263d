#!/usr/bin/env bash
# schemathesis (PyPI, pinned in requirements.txt) against a running gateway's OpenAPI document.
#
# Starts examples/schema_server.rs (the real router and authentication on 127.0.0.1, SQLite in a
# temp dir, in-memory exchange side), runs schemathesis over /v1/openapi.json with every check,
# each generated request signed as the controller principal by schemathesis_hooks.py, stops the
# server and exits non-zero on any failure: a 5xx, a response that contradicts the schema, valid
# input refused or invalid input accepted, an unsigned request that passes, a panic in the
# server log, or a server that died.
#
# Usage (from the workspace root, after `cargo build -p tradeguard-gateway --example schema_server`):
#   crates/tradeguard-gateway/tests/interop/schemathesis_run.sh \
#       [--python target/interop-venv/bin/python] [--server target/debug/examples/schema_server] \
#       [--max-examples 30] [--seed N]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
python="$PWD/target/interop-venv/bin/python"
server="$PWD/target/debug/examples/schema_server"
max_examples=30
seed=20261130
while [ $# -gt 0 ]; do
    case "$1" in
        --python) python="$2"; shift 2 ;;
        --server) server="$2"; shift 2 ;;
        --max-examples) max_examples="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        *) echo "unknown argument $1; see the header of $0" >&2; exit 2 ;;
    esac
done
python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")"
schemathesis="$(dirname "$python")/schemathesis"
for f in "$python" "$schemathesis" "$server"; do
    [ -x "$f" ] || { echo "$f is missing; see the header of $0" >&2; exit 2; }
done

dir="$(mktemp -d)"
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" && wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT

RUST_LOG="${RUST_LOG:-warn}" "$server" --dir "$dir" >"$dir/server.out" 2>"$dir/server.log" &
pid=$!
for _ in $(seq 1 300); do
    [ -s "$dir/url" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$dir/server.log" >&2; echo "schema server exited" >&2; exit 1; }
    sleep 0.1
done
[ -s "$dir/url" ] || { echo "schema server did not start in 30 s" >&2; exit 1; }
url="$(cat "$dir/url")"
echo "schema server: $(cat "$dir/server.out")"

status=0
# From the temp dir: schemathesis keeps replay data in ./.schemathesis.
(cd "$dir" && TRADEGUARD_SCHEMA_KEY="$dir/controller.key" SCHEMATHESIS_HOOKS="$here/schemathesis_hooks.py" \
    timeout 600 "$schemathesis" --config-file "$here/schemathesis.toml" run "$url/v1/openapi.json" \
    --checks all --max-examples "$max_examples" --seed "$seed" --workers 2 \
    --request-timeout 10 --generation-database none --no-color) || status=$?

if ! kill -0 "$pid" 2>/dev/null; then
    echo "FAILED: the schema server died during the run" >&2
    status=1
fi
if grep -n "panicked" "$dir/server.log" >&2; then
    echo "FAILED: the schema server panicked" >&2
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "schemathesis: FAILED (exit $status)" >&2
else
    echo "schemathesis: no failure"
fi
exit "$status"
