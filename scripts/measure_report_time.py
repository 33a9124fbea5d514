#!/usr/bin/env python3
"""Measure how long `hwbench report` and `hwbench compare -o` take (maintainer tool).

Renders the report from the fixture records (tests/fixtures/records/) in-process several times and
prints the median and the worst, plus one cold run as a fresh process (imports of jinja2, matplotlib
and the profiles included), which is what a user waits for:

    .venv/bin/python scripts/measure_report_time.py [--repeat 5] [RESULT.json ...]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "records"
DEFAULT = ["workstation-3090.json", "aws-g5-2xlarge.json", "aws-c8g-4xlarge.json", "aws-c8g-4xlarge-q8.json"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("results", nargs="*", type=Path, help="result files (default: the fixture records)")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    paths = a.results or [FIXTURES / n for n in DEFAULT]

    from hwbench.compare import compare_records
    from hwbench.report.compare_page import render_compare_html
    from hwbench.report.html import build_report
    from hwbench.report.records import load_records

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.html"
        cmd = [sys.executable, "-m", "hwbench", "report", *map(str, paths), "-o", str(out)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        cold = time.perf_counter() - t0
        cmd_c = [sys.executable, "-m", "hwbench", "compare", *map(str, paths), "-o", str(Path(tmp) / "c.html"), "--json"]
        t0 = time.perf_counter()
        subprocess.run(cmd_c, check=True, capture_output=True)
        cold_c = time.perf_counter() - t0
        size = out.stat().st_size

    ok, errors = load_records(list(paths))
    build_report(ok, errors)  # warm caches (profiles, matplotlib fonts)
    warm = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        build_report(ok, errors)
        warm.append(time.perf_counter() - t0)
    warm_c = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        render_compare_html(compare_records(ok, errors))
        warm_c.append(time.perf_counter() - t0)
    print(f"records: {len(ok)} ({len(errors)} unreadable)")
    print(f"hwbench report  (fresh process, {size / 1024:.0f} KiB HTML): {cold:.2f} s")
    print(f"build_report    in-process x{a.repeat}: median {statistics.median(warm):.2f} s, max {max(warm):.2f} s")
    print(f"hwbench compare -o (fresh process): {cold_c:.2f} s")
    print(f"compare page    in-process x{a.repeat}: median {statistics.median(warm_c):.2f} s, max {max(warm_c):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
