#!/usr/bin/env python
"""First run on a new machine: how close is `check`'s CPU estimate before any `bench` (issue 14)?

For each round, a FRESH data dir (no probe, no calibration) is created and

  1. `hwbench check --params P --quant Q --no-gpu --context 512 --json` runs for three synthetic
     shapes: the first one measures the quick CPU probe (hwbench/probe.py) and saves it, as on a
     user's first run; the estimate is what a new user would see;
  2. `hwbench bench --params P --quant Q -p 512 -n 128` then measures the same shapes (llama.cpp,
     CPU, synthetic GGUF) in that data dir.

Rounds interleave probe/estimate and benchmark, so a load change during the run hits both; the
error per shape is the median over rounds of predicted / measured - 1. Bars (issue 14): generation
within 25%, prompt processing within 35%, for each of the three shapes.

Each round's saved record keeps the probe's own file (figures, every pass, load average when it ran) and
the load average at the start and end of the round.

llama.cpp builds with AMX (GGML_NATIVE on a CPU with amx_int8) crash in ggml_backend_amx_mul_mat on
quantized prompts on some VMs (llama.cpp issue #20824): `bench` then reports SIGSEGV and this script stops;
use a llama-cpp-python built without AMX (CFLAGS/CXXFLAGS="-mno-amx-int8 -mno-amx-tile -mno-amx-bf16").

TIMING: run it on an IDLE machine. The load average is read before and after; above 0.25 x the
logical cores the result is printed as INVALID (other processes distort both the probe and the
benchmark, and not by the same factor).

    python scripts/accuracy_first_run.py [--rounds 3] [--reps 3] [--threads N] [--save docs/accuracy_first_run.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# three shapes: different sizes and weight types (repacked Q4_K / Q5_0 fallback, tinyBLAS Q8_0, repacked Q4_0)
SHAPES = [("0.5b", "Q4_K_M"), ("1b", "Q8_0"), ("1.5b", "Q4_0")]
BAR = {"tg": 0.25, "pp": 0.35}


def _env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HWBENCH_DATA_DIR"] = str(data_dir)
    env["HWBENCH_PROBE"] = "1"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _hwbench(args: list[str], data_dir: Path, timeout: float = 3600) -> dict:  # type: ignore[type-arg]
    cmd = [sys.executable, "-m", "hwbench", *args]
    p = subprocess.run(cmd, env=_env(data_dir), capture_output=True, text=True, timeout=timeout, check=False)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({p.returncode}): {p.stderr.strip()[-500:]}")
    return json.loads(p.stdout)


def _estimate(params: str, quant: str, data_dir: Path) -> dict[str, float | str]:
    d = _hwbench(["check", "--params", params, "--quant", quant, "--no-gpu", "--context", "512", "--json"], data_dir)
    hw = d["hardware"]
    return {
        "tg": d["speed"]["generation_tokens_per_s"],
        "pp": d["speed"]["prompt_tokens_per_s"],
        "bw_source": hw.get("cpu_bandwidth_source", "?"),
        "tflops_source": hw.get("cpu_tflops_source", "?"),
        "cpu_bandwidth_gbps": hw.get("cpu_bandwidth_gbps"),
        "cpu_tflops": hw.get("cpu_tflops"),
    }


def _saved_probe(data_dir: Path) -> dict | None:  # type: ignore[type-arg]
    """The probe the round's first `check` saved (hwbench/probe.py): its figures, samples and load average."""
    try:
        return json.loads((data_dir / "probe.json").read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def _measure(params: str, quant: str, data_dir: Path, reps: int, threads: str | None) -> dict[str, float]:
    args = ["bench", "--params", params, "--quant", quant, "-p", "512", "-n", "128", "-r", str(reps), "--json", "--out", str(data_dir / "results")]
    if threads:
        args += ["-t", threads]
    rec = _hwbench(args, data_dir)
    out: dict[str, float] = {}
    for r in rec.get("results", []):
        if r.get("backend") != "llama.cpp" or r.get("error") or not r.get("tokens_per_s"):
            continue
        kind = "pp" if r.get("n_prompt") and not r.get("n_gen") else "tg" if r.get("n_gen") and not r.get("n_prompt") else None
        if kind:
            out[kind] = max(out.get(kind, 0.0), float(r["tokens_per_s"]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", help="bench threads (default: bench's default, all usable cores)")
    ap.add_argument("--save", type=Path, help="write the raw rounds and the summary as JSON here")
    a = ap.parse_args()
    ncpu = os.cpu_count() or 1
    load_before = os.getloadavg()[0]
    rounds = []
    for i in range(a.rounds):
        with tempfile.TemporaryDirectory(prefix="hwbench-first-run-") as td:
            d = Path(td)
            load_start = os.getloadavg()[0]
            est = {f"{p} {q}": _estimate(p, q, d) for p, q in SHAPES}  # first check probes, the others reuse it
            probe = _saved_probe(d)  # what the first check measured (before bench refreshes it)
            meas = {f"{p} {q}": _measure(p, q, d, a.reps, a.threads) for p, q in SHAPES}
            rounds.append(
                {
                    "round": i,
                    "estimate": est,
                    "measured": meas,
                    "probe": probe,
                    "load_start": load_start,
                    "load_end": os.getloadavg()[0],
                    "time": time.time(),
                }
            )
            print(f"round {i + 1}/{a.rounds} done", file=sys.stderr)
    load_after = os.getloadavg()[0]
    summary = {}
    ok = True
    print(f"{'shape':<16} {'kind':<4} {'first-run estimate':>19} {'bench measured':>15} {'error (median)':>15} {'bar':>6}  sources")
    for p, q in SHAPES:
        key = f"{p} {q}"
        for kind in ("tg", "pp"):
            pairs = [(float(r["estimate"][key][kind]), r["measured"][key].get(kind)) for r in rounds]
            errs = [pe / me - 1 for pe, me in pairs if me]
            if not errs:
                print(f"{key:<16} {kind:<4} no measurement")
                ok = False
                continue
            err = statistics.median(errs)
            within = abs(err) <= BAR[kind]
            ok = ok and within
            est0 = rounds[0]["estimate"][key]
            src = f"bandwidth {est0['bw_source']}, peak {est0['tflops_source']}"
            print(
                f"{key:<16} {kind:<4} {statistics.median(x for x, _ in pairs):>19.1f} {statistics.median(m for _, m in pairs if m):>15.1f} "
                f"{err:>+14.1%} {'ok' if within else 'MISS':>6}  {src}"
            )
            summary[f"{key} {kind}"] = {"median_error": err, "errors": errs, "within_bar": within}
    # the 1-minute load average read after the last bench still counts that bench's own threads:
    # only what is left above them is other processes
    own_threads = int(str(a.threads).split(",")[-1]) if a.threads else ncpu
    others_after = max(0.0, load_after - own_threads)
    loaded = max(load_before, others_after) > 0.25 * ncpu
    if loaded:
        verdict = (
            f"INVALID (machine loaded: load average {load_before:.2f} before, {load_after:.2f} after "
            f"of which {own_threads} the benchmark's own threads, on {ncpu} CPUs)"
        )
    else:
        verdict = "all within the bars" if ok else "bars NOT met"
    print(f"\n{verdict}")
    if a.save:
        a.save.write_text(
            json.dumps({"rounds": rounds, "summary": summary, "load_before": load_before, "load_after": load_after, "cpus": ncpu, "valid": not loaded}, indent=2)
        )
    return 0 if (ok and not loaded) else 1


if __name__ == "__main__":
    raise SystemExit(main())
