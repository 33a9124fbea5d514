#!/usr/bin/env python3
"""How fast is `hwbench check`? Reported as a ratio to a bare `python -c "import click"` in the same run.

Issue 2's bar: under 200 ms here, about 6x the bare import (31 ms here). Timings on shared
machines are noisy, so both are measured interleaved, N times, and the medians compared.

    python scripts/measure_check_time.py [-n 15] [-- extra check args]
    python scripts/measure_check_time.py --hub-repo Qwen/Qwen3-32B -- --quant q5

Issue 10's bar: `check --model ORG/NAME` with the config cached stays within the same budget (<= 6x).
``--hub-repo`` seeds a temporary Hugging Face cache (HF_HUB_CACHE, the layout huggingface_hub writes:
refs/main -> snapshots/COMMIT/config.json) with that repo's config.json as transcribed, with sources,
in scripts/model_configs.yaml, points HF_ENDPOINT at a closed port (so any network use would fail),
and times `check --model ORG/NAME` beside `check --model <the bundled entry>` and the bare import.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed_hub_cache(repo: str, cache: Path) -> str:
    """Write repo's config.json into a huggingface_hub cache layout; returns the bundled catalog name of that repo."""
    import yaml

    entries = yaml.safe_load((ROOT / "scripts" / "model_configs.yaml").read_text(encoding="utf-8"))
    items = entries["configs"] if isinstance(entries, dict) else entries
    entry = next((e for e in items if isinstance(e, dict) and e.get("repo") == repo), None)
    if entry is None:
        raise SystemExit(f"{repo}: not in scripts/model_configs.yaml")
    commit = "0" * 40
    root = cache / ("models--" + repo.replace("/", "--"))
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(commit, encoding="utf-8")
    snap = root / "snapshots" / commit
    snap.mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps(entry["config"]), encoding="utf-8")
    return str(entry["name"])


def hub_main(a: argparse.Namespace) -> int:
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        name = seed_hub_cache(a.hub_repo, Path(tmp))
        env = dict(os.environ, HF_HUB_CACHE=tmp, HF_ENDPOINT=f"http://127.0.0.1:{_closed_port()}")
        base = [py, "-c", "import click"]
        bundled = [py, "-m", "hwbench", "check", "--model", name, *a.check_args, "--json"]
        hub = [py, "-m", "hwbench", "check", "--model", a.hub_repo, *a.check_args, "--json"]
        run(base), run(bundled, env), run(hub, env)  # warm the page cache; fails loudly if the Hub path does
        tb, tn, th = [], [], []
        for _ in range(a.n):
            tb.append(run(base))
            tn.append(run(bundled, env))
            th.append(run(hub, env))
    mb, mn, mh = (statistics.median(x) * 1000 for x in (tb, tn, th))
    print(f"bare 'import click':                 median {mb:6.1f} ms")
    print(f"check --model {name} --json:  median {mn:6.1f} ms  = {mn / mb:.1f}x")
    print(f"check --model {a.hub_repo} --json (cached config, no network):  median {mh:6.1f} ms  = {mh / mb:.1f}x")
    print(f"args: {' '.join(a.check_args)}; n={a.n}; load average before/after: see `uptime`")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=15)
    ap.add_argument("--hub-repo", help="time `check --model ORG/NAME` with its config.json cached (see the docstring)")
    ap.add_argument("check_args", nargs="*", default=None)
    a = ap.parse_args()
    if a.hub_repo:
        a.check_args = a.check_args or []
        return hub_main(a)
    a.check_args = a.check_args or ["--params", "32b", "--quant", "q5"]
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
