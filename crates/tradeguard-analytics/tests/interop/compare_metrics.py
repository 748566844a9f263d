#!/usr/bin/env python3
"""Reference values for tradeguard-analytics from empyrical-reloaded and quantstats.

Writes deterministic equity histories (CSV, the format of `tradeguard analytics --equity`) and,
for each, the metrics both libraries compute on the same flow-adjusted return series with their
conventions set to ours (periods per year, geometric risk-free conversion, ddof=1). The Rust test
`tests/interop.rs` reads the output directory (env TRADEGUARD_INTEROP_DIR) and compares to 1e-9;
with --bin, this script also runs `tradeguard analytics --equity FILE --json` and compares.

Usage:
    pip install -r crates/tradeguard-analytics/tests/interop/requirements.txt
    python3 crates/tradeguard-analytics/tests/interop/compare_metrics.py --out target/interop \
        [--bin target/debug/tradeguard]

Conventions and where the libraries differ (see README.md beside this file):
- Returns: r_i = (V_i - F_i) / V_(i-1) - 1, computed here with Python's decimal module at 28
  significant digits (tradeguard computes them in rust_decimal), then converted to float.
  Neither library knows about flows: they receive the flow-adjusted returns.
- Risk-free: empyrical takes a per-period rate, so it gets (1 + rf)^(1/365) - 1; quantstats takes
  the annual rate and `periods` and applies that same conversion itself.
- Sortino: both use the target downside deviation sqrt(sum(min(r - rf_p, 0)^2) / N) over all N
  periods, as tradeguard does (a lower partial moment, not a ddof=1 deviation).
- Max drawdown: both report it as a negative number; tradeguard as a depth in [0, 1]. The
  comparison negates theirs. Both measure the first period's loss from a start of 1, as we do.
- Degenerate inputs: where a library returns NaN or +-inf, or raises (quantstats calmar with no
  drawdown), tradeguard must report null; the value is recorded as null with the reason.
"""

from __future__ import annotations

import argparse
import decimal
import json
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")

import empyrical as ep  # noqa: E402
import quantstats as qs  # noqa: E402

PERIODS = 365
TOLERANCE = 1e-9
decimal.getcontext().prec = 28

METRICS = [
    "time_weighted_return",
    "annualized_return",
    "annualized_volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
]


def make_cases() -> list[dict]:
    """Deterministic equity histories: (name, rf, start value, returns, flows)."""
    rng = np.random.default_rng(20261122)
    cases = []

    def add(name, rf, start, returns, flows=None):
        flows = flows if flows is not None else [0.0] * len(returns)
        cases.append({"name": name, "rf": rf, "start": start, "returns": returns, "flows": flows})

    add("gbm_400d_rf0", 0.0, 10_000.0, list(rng.normal(0.0008, 0.03, 400)))
    add("gbm_400d_rf4pct", 0.04, 10_000.0, list(rng.normal(0.0005, 0.025, 400)))
    fat = list(rng.standard_t(3, 250) * 0.02)
    flows = [0.0] * 250
    for day, amount in [(20, 5_000.0), (75, -3_000.0), (140, 12_000.0), (200, -8_000.0)]:
        flows[day] = amount
    add("fat_tails_with_flows_rf5pct", 0.05, 25_000.0, fat, flows)
    add("bear_deep_drawdown", 0.02, 1_000_000.0, list(rng.normal(-0.002, 0.04, 300)))
    add("short_6d", 0.0, 500.0, [0.01, -0.02, 0.015, -0.005, 0.03, -0.01])
    add("one_period", 0.0, 100.0, [0.05])
    add("rising_no_drawdown", 0.0, 100.0, [0.01, 0.002, 0.03, 0.0005, 0.012, 0.007])
    add("flat_zero_volatility", 0.0, 100.0, [0.0] * 10)
    return cases


def write_csv(case: dict, path: Path) -> list[float]:
    """Writes the equity CSV and returns the flow-adjusted returns as tradeguard derives them."""
    days = pd.date_range("2024-01-01", periods=len(case["returns"]) + 1, freq="D")
    q = decimal.Decimal("0.00000001")
    value = decimal.Decimal(repr(case["start"])).quantize(q)
    rows = [(days[0], value, value)]
    for i, (r, f) in enumerate(zip(case["returns"], case["flows"])):
        flow = decimal.Decimal(repr(f)).quantize(q)
        value = (value * (1 + decimal.Decimal(repr(float(r)))) + flow).quantize(q)
        rows.append((days[i + 1], value, flow))
    with path.open("w", encoding="utf-8") as fh:
        fh.write("timestamp,value,flow\n")
        for day, v, f in rows:
            fh.write(f"{day.strftime('%Y-%m-%d')},{v:f},{f:f}\n")
    returns = []
    for (_, v0, _), (_, v1, f1) in zip(rows, rows[1:]):
        returns.append(float((v1 - f1) / v0 - 1))
    return returns


def finite_or_none(fn):
    """Calls fn; a non-finite result or an exception becomes (None, reason)."""
    try:
        x = float(fn())
    except (ZeroDivisionError, ValueError, FloatingPointError) as e:
        return None, f"raised {type(e).__name__}"
    if math.isfinite(x):
        return x, None
    return None, f"library returned {x}"


def library_values(returns: list[float], rf: float) -> dict:
    index = pd.date_range("2024-01-02", periods=len(returns), freq="D")
    s = pd.Series(returns, index=index, dtype="float64")
    rf_p = (1.0 + rf) ** (1.0 / PERIODS) - 1.0
    if len(s) > 1:
        # quantstats reads a series with no negative value and a maximum above 1 as prices.
        assert s.min() < 0 or s.max() <= 1, "series would be misread by quantstats as prices"
    emp = {
        "time_weighted_return": lambda: ep.cum_returns_final(s),
        "annualized_return": lambda: ep.annual_return(s, annualization=PERIODS),
        "annualized_volatility": lambda: ep.annual_volatility(s, annualization=PERIODS),
        "sharpe": lambda: ep.sharpe_ratio(s, risk_free=rf_p, annualization=PERIODS),
        "sortino": lambda: ep.sortino_ratio(s, required_return=rf_p, annualization=PERIODS),
        "max_drawdown": lambda: -ep.max_drawdown(s),
        "calmar": lambda: ep.calmar_ratio(s, annualization=PERIODS),
    }
    qst = {
        "time_weighted_return": lambda: qs.stats.comp(s),
        "annualized_return": lambda: qs.stats.cagr(s, periods=PERIODS),
        "annualized_volatility": lambda: qs.stats.volatility(s, periods=PERIODS),
        "sharpe": lambda: qs.stats.sharpe(s, rf=rf, periods=PERIODS),
        "sortino": lambda: qs.stats.sortino(s, rf=rf, periods=PERIODS),
        "max_drawdown": lambda: -qs.stats.max_drawdown(s),
        "calmar": lambda: qs.stats.calmar(s, periods=PERIODS),
    }
    out = {}
    for metric in METRICS:
        out[metric] = {}
        for lib, table in (("empyrical", emp), ("quantstats", qst)):
            value, reason = finite_or_none(table[metric])
            out[metric][lib] = value
            if reason:
                out[metric][f"{lib}_note"] = reason
    return out


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= TOLERANCE * max(1.0, abs(b))


def compare_binary(binary: str, out: Path, cases: list[dict]) -> tuple[int, list[str]]:
    """Runs `tradeguard analytics --equity --json` on each case and compares."""
    compared, failures = 0, []
    for case in cases:
        cmd = [binary, "analytics", "--equity", str(out / case["csv"]), "--json",
               "--periods-per-year", str(PERIODS), "--risk-free-rate", repr(case["risk_free_rate_annual"])]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            failures.append(f"{case['name']}: exit {proc.returncode}: {proc.stderr.strip()}")
            continue
        got = json.loads(proc.stdout)["metrics"]
        for metric, libs in case["expected"].items():
            ours = got["max_drawdown"]["depth"] if metric == "max_drawdown" else got[metric]
            for lib in ("empyrical", "quantstats"):
                compared += 1
                if not close(ours, libs[lib]):
                    failures.append(f"{case['name']}.{metric}: tradeguard {ours} vs {lib} {libs[lib]}")
    return compared, failures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, type=Path, help="output directory")
    ap.add_argument("--bin", help="tradeguard binary to compare through --json")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    cases = []
    disagreements = []
    for case in make_cases():
        csv_name = f"{case['name']}.csv"
        returns = write_csv(case, args.out / csv_name)
        expected = library_values(returns, case["rf"])
        for metric, libs in expected.items():
            if not close(libs["empyrical"], libs["quantstats"]):
                disagreements.append(f"{case['name']}.{metric}: {libs}")
        cases.append({"name": case["name"], "csv": csv_name, "periods_per_year": PERIODS,
                      "risk_free_rate_annual": case["rf"], "periods": len(returns),
                      "expected": expected})

    doc = {
        "tolerance": TOLERANCE,
        "tolerance_rule": "|ours - theirs| <= tolerance * max(1, |theirs|); null matches null",
        "libraries": {
            "empyrical-reloaded": ep.__version__,
            "quantstats": qs.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "python": sys.version.split()[0],
        },
        "cases": cases,
    }
    (args.out / "expected.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} cases to {args.out / 'expected.json'}")
    if disagreements:
        print("empyrical and quantstats disagree:", *disagreements, sep="\n  ")
        return 1

    if args.bin:
        compared, failures = compare_binary(args.bin, args.out, cases)
        for f in failures:
            print(f"MISMATCH {f}")
        print(f"interop: {compared - len(failures)} passed, {len(failures)} failed")
        return 1 if failures else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
