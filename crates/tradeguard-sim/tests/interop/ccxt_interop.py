#!/usr/bin/env python3
"""ccxt interop test for tradeguard-sim (issue 3, item 10).

Starts `tradeguard sim` on free ports, points the standard Python ccxt clients for Binance,
Coinbase Advanced Trade, Coinbase Exchange and Kraken at it, and on each API: loads markets,
fetches balances, places a limit order and cancels it, places a market order, and fetches the
account's trades. Any exception, or an answer that does not show the expected effect, fails.

Run (from the workspace root):
    pip install ccxt==4.5.90
    cargo build -p tradeguard
    python3 crates/tradeguard-sim/tests/interop/ccxt_interop.py --bin target/debug/tradeguard
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import ccxt


def free_base_port():
    """A port P such that P..P+3 are free on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base > 65000:
            continue
        try:
            socks = []
            for p in range(base, base + 4):
                t = socket.socket()
                t.bind(("127.0.0.1", p))
                socks.append(t)
            for t in socks:
                t.close()
            return base
        except OSError:
            for t in socks:
                t.close()
    raise RuntimeError("no four consecutive free ports")


def start_sim(binary, keys_path):
    port = free_base_port()
    proc = subprocess.Popen(
        [binary, "sim", "--port", str(port), "--keys-out", keys_path, "--seed", "7"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    for line in proc.stdout:
        if line.startswith("ready"):
            return proc
    raise RuntimeError("tradeguard sim exited before it was ready")


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def exercise(name, ex, symbol, limit_price_factor, amount, market_amount):
    """Balances, limit order + cancel, market order, trades."""
    markets = ex.load_markets()
    check(symbol in markets, f"{name}: {symbol} not in markets {list(markets)[:5]}")
    balance = ex.fetch_balance()
    base, quote = symbol.split("/")
    check(balance["total"].get(quote, 0) > 0, f"{name}: no {quote} balance: {balance['total']}")
    check(balance["total"].get(base, 0) > 0, f"{name}: no {base} balance: {balance['total']}")

    ticker_price = reference_price(ex, symbol)
    price = float(ex.price_to_precision(symbol, ticker_price * limit_price_factor))
    order = ex.create_order(symbol, "limit", "buy", amount, price)
    check(order.get("id"), f"{name}: limit order has no id: {order}")
    canceled = ex.cancel_order(order["id"], symbol)
    check(canceled is not None, f"{name}: cancel returned nothing")

    market = ex.create_order(symbol, "market", "buy", market_amount, None)
    check(market.get("id"), f"{name}: market order has no id: {market}")
    trades = ex.fetch_my_trades(symbol)
    check(len(trades) >= 1, f"{name}: no trades after a market buy")
    check(all(t["symbol"] == symbol for t in trades), f"{name}: trades for another symbol: {trades}")
    after = ex.fetch_balance()
    check(after["total"].get(base, 0) > balance["total"].get(base, 0), f"{name}: {base} did not increase")
    print(f"ok  {name:17} markets={len(markets)} order={order['id']} trades={len(trades)}")


def reference_price(ex, symbol):
    """A price near the simulator's mid, from the markets ccxt can read without a ticker."""
    if ex.id == "kraken":
        return float(ex.fetch_ticker(symbol)["bid"])
    if ex.id == "coinbase":
        return float(ex.markets[symbol]["info"]["price"])
    return 60000.0 if symbol.startswith("BTC") else 3000.0


def clients(keys):
    b = keys["binance"]
    binance = ccxt.binance({"apiKey": b["api_key"], "secret": b["api_secret"],
                            "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False}})
    binance.urls["api"]["public"] = binance.urls["api"]["private"] = b["base_url"] + "/api/v3"
    binance.urls["api"]["sapi"] = b["base_url"] + "/sapi/v1"

    c = keys["coinbase"]
    coinbase = ccxt.coinbase({"apiKey": c["api_key"], "secret": c["api_secret"],
                              "options": {"fetchBalance": "v3PrivateGetBrokerageAccounts",
                                          "fetchCurrencies": False, "createMarketBuyOrderRequiresPrice": False}})
    coinbase.urls["api"]["rest"] = c["base_url"]

    x = keys["coinbaseexchange"]
    cbx = ccxt.coinbaseexchange({"apiKey": x["api_key"], "secret": x["api_secret"], "password": x["passphrase"]})
    cbx.urls["api"] = {"public": x["base_url"], "private": x["base_url"]}

    k = keys["kraken"]
    kraken = ccxt.kraken({"apiKey": k["api_key"], "secret": k["api_secret"]})
    kraken.urls["api"]["public"] = kraken.urls["api"]["private"] = k["base_url"]
    return [
        ("binance", binance, "BTC/USDT", 0.9, 0.001, 0.001),
        ("coinbase", coinbase, "BTC/USD", 0.9, 0.001, 10),
        ("coinbaseexchange", cbx, "BTC/USD", 0.9, 0.001, 0.001),
        ("kraken", kraken, "BTC/USD", 0.9, 0.001, 0.001),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("TRADEGUARD_BIN", "target/debug/tradeguard"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        keys_path = os.path.join(tmp, "keys.json")
        proc = start_sim(args.bin, keys_path)
        failures = 0
        try:
            with open(keys_path) as f:
                keys = json.load(f)
            for name, ex, symbol, factor, amount, market_amount in clients(keys):
                try:
                    exercise(name, ex, symbol, factor, amount, market_amount)
                except Exception as e:  # report every exchange, then fail
                    failures += 1
                    print(f"FAIL {name}: {type(e).__name__}: {e}")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    if failures:
        print(f"{failures} of 4 APIs failed")
        sys.exit(1)
    print("ccxt interop: all 4 APIs passed")


if __name__ == "__main__":
    main()
