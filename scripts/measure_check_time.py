#!/usr/bin/env python3
"""How fast is `hwbench check`? Reported as a ratio to a bare `python -c "import click"` in the same run.

Issue 2's bar: under 200 ms here, about 6x the bare import (31 ms here). Timings on shared
machines are noisy, so both are measured interleaved, N times, and the medians compared.

    python scripts/measure_check_time.py [-n 15] [-- extra check args]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def run(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=15)
    ap.add_argument("check_args", nargs="*", default=["--params", "32b", "--quant", "q5"])
    a = ap.parse_args()
    py = sys.executable
    base = [py, "-c", "import click"]
    check = [py, "-m", "hwbench", "check", *a.check_args]
    checkj = check + ["--json"]
    run(base), run(check)  # warm the page cache
    tb, tc, tj = [], [], []
    for _ in range(a.n):
        tb.append(run(base))
        tc.append(run(check))
        tj.append(run(checkj))
    mb, mc, mj = (statistics.median(x) * 1000 for x in (tb, tc, tj))
    print(f"bare 'import click':      median {mb:6.1f} ms")
    print(f"hwbench check (table):    median {mc:6.1f} ms  = {mc / mb:.1f}x")
    print(f"hwbench check --json:     median {mj:6.1f} ms  = {mj / mb:.1f}x")
    print(f"args: {' '.join(a.check_args)}; n={a.n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
