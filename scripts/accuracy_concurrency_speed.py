#!/usr/bin/env python
"""Batched decoding on this machine: the estimate vs `hwbench bench --parallel` at N = 1, 2, 4, 8 (issue 13).

The bar: after the usual calibration run, the estimate of aggregate generation tokens/s is within 15% of
what is measured at N = 1, 2, 4, 8 for at least three synthetic model shapes.

Each round uses a FRESH data dir:
  1. the usual calibration run: a plain `hwbench bench` (its default model and tests, -r 3), which saves this
     machine's calibration as every user's first bench does;
  2. for each of three shapes (other sizes and weight types than the calibration model's),
     `hwbench bench --params P --quant Q -p 0 -n TG -d PP --parallel 1,2,4,8`; every tg<TG>@np<N> result
     carries the estimator's prediction (speed.step_time_s under that calibration) beside the measurement.
The error per shape and N is the median over rounds of predicted / measured - 1.

TIMING: run it on an IDLE machine; the load average is read before and after and the run is marked INVALID
above a quarter of the CPUs (other processes, beyond the benchmark's own threads).

    python scripts/accuracy_concurrency_speed.py [--rounds 3] [--reps 2] [--pp 64] [--tg 32] [--save FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy_first_run import _hwbench  # noqa: E402 - one runner of the hwbench CLI for the accuracy scripts

SHAPES = [("0.5b", "Q4_K_M"), ("1b", "Q8_0"), ("1.5b", "Q4_0")]
NPL = [1, 2, 4, 8]
BAR = 0.15


def batched_rows(rec: dict) -> dict[int, dict[str, float]]:  # type: ignore[type-arg]
    """Per N of a bench record's tg@npN results: measured and predicted aggregate tokens/s."""
    out: dict[int, dict[str, float]] = {}
    for r in rec.get("results", []):
        s = r.get("settings") or {}
        if r.get("error") or "n_parallel" not in s or not r.get("tokens_per_s") or not r.get("predicted_tokens_per_s"):
            continue
        out[int(s["n_parallel"])] = {"measured": float(r["tokens_per_s"]), "predicted": float(r["predicted_tokens_per_s"])}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--pp", type=int, default=64, help="prompt tokens per sequence (--depth)")
    ap.add_argument("--tg", type=int, default=32, help="generated tokens per sequence (-n)")
    ap.add_argument("--save", type=Path)
    a = ap.parse_args()
    ncpu = os.cpu_count() or 1
    load_before = os.getloadavg()[0]
    rounds = []
    for i in range(a.rounds):
        with tempfile.TemporaryDirectory(prefix="hwbench-conc-") as td:
            d = Path(td)
            cal = _hwbench(["bench", "-r", "3", "--json", "--out", str(d / "results")], d, timeout=7200)
            shapes = {}
            for p, q in SHAPES:
                args = [
                    "bench",
                    "--params",
                    p,
                    "--quant",
                    q,
                    "-p",
                    "0",
                    "-n",
                    str(a.tg),
                    "-d",
                    str(a.pp),
                    "--parallel",
                    ",".join(map(str, NPL)),
                ]
                rec = _hwbench([*args, "-r", str(a.reps), "--json", "--out", str(d / "results")], d, timeout=7200)
                shapes[f"{p} {q}"] = {str(n): v for n, v in batched_rows(rec).items()}
            cal_model = (cal.get("model") or {}).get("name")
            kern = {k: v for k, v in (cal.get("calibration") or {}).items() if k in ("cpu_kernels", "cpu_kernel_rows", "cpu_attention")}
            probe = next((re.search(r"threads, (\d+) s;", n) for n in cal.get("notes", []) if n.startswith("CPU decode kernels measured")), None)
            kern["kernel_probe_s"] = float(probe.group(1)) if probe else None  # the probe's wall time in the calibration run
            rounds.append({"round": i, "calibration_model": cal_model, "shapes": shapes, "time": time.time(), **kern})
            print(f"round {i + 1}/{a.rounds} done", file=sys.stderr)
    load_after = os.getloadavg()[0]

    ok = True
    summary: dict[str, dict[str, object]] = {}
    print(
        f"prompt {a.pp} + {a.tg} generated per sequence; {a.rounds} rounds; calibration: a plain `hwbench bench` ({rounds[0]['calibration_model']})"
    )
    print("| shape | N | estimate (aggregate tok/s) | measured | error (median of rounds) | within 15% |")
    print("|---|---|---|---|---|---|")
    for p, q in SHAPES:
        key = f"{p} {q}"
        for n in NPL:
            pairs = [
                (r["shapes"][key][str(n)]["predicted"], r["shapes"][key][str(n)]["measured"]) for r in rounds if str(n) in r["shapes"][key]
            ]
            if not pairs:
                print(f"| {key} | {n} | - | - | no measurement | NO |")
                ok = False
                continue
            err = statistics.median(pe / me - 1 for pe, me in pairs)
            within = abs(err) <= BAR
            ok = ok and within
            summary[f"{key} np{n}"] = {"median_error": err, "within": within}
            print(
                f"| {key} | {n} | {statistics.median(x for x, _ in pairs):.1f} | {statistics.median(m for _, m in pairs):.1f} | "
                f"{err:+.1%} | {'yes' if within else 'NO'} |"
            )
    others_after = max(0.0, load_after - ncpu)  # the last bench's own threads still count in the 1-minute average
    loaded = max(load_before, others_after) > 0.25 * ncpu
    verdict = (
        f"INVALID (load average {load_before:.2f} before, {load_after:.2f} after, {ncpu} CPUs)"
        if loaded
        else ("all within 15%" if ok else "bar NOT met")
    )
    print(f"\n{verdict}")
    if a.save:
        a.save.write_text(
            json.dumps(
                {
                    "rounds": rounds,
                    "summary": summary,
                    "pp": a.pp,
                    "tg": a.tg,
                    "load_before": load_before,
                    "load_after": load_after,
                    "cpus": ncpu,
                    "valid": not loaded,
                },
                indent=2,
            )
        )
    return 0 if ok and not loaded else 1


if __name__ == "__main__":
    raise SystemExit(main())
