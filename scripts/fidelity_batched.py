#!/usr/bin/env python
"""`hwbench bench --parallel` vs llama.cpp's own `llama-batched-bench`, same GGUF, same threads (issue 13).

The bar: hwbench's aggregate generation tokens/s at each N (tg<n>@np<N>: N sequences, each after its own
prompt of --depth tokens, decoded together) within +-5% of llama-batched-bench's S_TG (N*TG / T_TG) for
the same prompt (-npp), generation (-ntg) and N (-npl), built from the SAME llama.cpp release as the
installed llama-cpp-python (its sdist vendors llama.cpp; this script builds `llama-batched-bench` from it).

Rounds interleave the two tools (order alternating), so a load change hits both; per N the figure is the
median of hwbench's aggregate over the rounds against the median of llama-batched-bench's (the bar), and, printed
beside it, the median of the rounds' own ratios (noisier: each is one short run of each tool). hwbench runs one timed repetition per round
(after its warm-up), llama-batched-bench runs each N once per round (after its 16-token warm-up): the
same number of timed decodes per round on each side.

    python scripts/fidelity_batched.py [--rounds 5] [--model qwen2.5-0.5b --quant Q4_K_M] [--threads 2]
        [--pp 128] [--tg 32] [--npl 1,2,4,8] [--llama-src DIR | --batched-bench PATH] [--save FILE.json]

Building: without --batched-bench, the binary is looked for in <cache>/build/bin; if missing, the
llama-cpp-python sdist of the installed version is taken from --llama-src (an unpacked sdist or a
llama.cpp checkout) or downloaded with `pip download --no-binary` into the cache, and
`cmake --build ... --target llama-batched-bench` builds it (default options, as llama-cpp-python builds
its library on Linux: native CPU flags, OpenMP where available). Several minutes on 2 cores, once.

TIMING: run it on an idle machine; the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BAR = 0.05


def _llama_cpp_tree(src: Path | None, cache: Path) -> Path:
    """The llama.cpp source tree of the installed llama-cpp-python release."""
    if src is not None:
        for cand in (src / "vendor" / "llama.cpp", src):
            if (cand / "tools" / "batched-bench").is_dir():
                return cand
        raise SystemExit(f"--llama-src {src}: no tools/batched-bench in it (give an unpacked llama-cpp-python sdist or a llama.cpp tree)")
    version = metadata.version("llama_cpp_python")
    unpacked = cache / f"llama_cpp_python-{version}"
    if not unpacked.is_dir():
        dl = cache / "sdist"
        dl.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "-d", str(dl), f"llama-cpp-python=={version}"],
            check=True,
        )
        (tgz,) = dl.glob(f"llama_cpp_python-{version}.tar.gz")
        with tarfile.open(tgz) as tf:
            tf.extractall(cache, filter="data")
    return unpacked / "vendor" / "llama.cpp"


def _no_amx_flags() -> str:
    """The compiler flags that keep AMX out, when the installed llama.cpp was built without it on a CPU that lists it."""
    from llama_cpp import llama_cpp as L

    info = L.llama_print_system_info().decode()
    cpu_has_amx = "amx_int8" in Path("/proc/cpuinfo").read_text(errors="replace") if Path("/proc/cpuinfo").exists() else False
    return "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" if cpu_has_amx and "AMX_INT8 = 1" not in info else ""


def batched_bench_binary(src: Path | None, cache: Path) -> Path:
    exe = cache / "build" / "bin" / "llama-batched-bench"
    if exe.exists():
        return exe
    tree = _llama_cpp_tree(src, cache)
    build = cache / "build"
    cfg = [
        "cmake",
        "-S",
        str(tree),
        "-B",
        str(build),
        "-DCMAKE_BUILD_TYPE=Release",
        "-DLLAMA_CURL=OFF",
        "-DLLAMA_BUILD_TESTS=OFF",
        "-DLLAMA_BUILD_SERVER=OFF",
    ]
    env = dict(os.environ)
    flags = _no_amx_flags()
    if flags:  # build as the installed library was built (Makefile: AMX off where the CPU lists it)
        env["CFLAGS"] = env["CXXFLAGS"] = flags
    subprocess.run(cfg, check=True, env=env)
    subprocess.run(["cmake", "--build", str(build), "--target", "llama-batched-bench", "-j", str(os.cpu_count() or 1)], check=True)
    return exe


def run_batched_bench(exe: Path, gguf: Path, pp: int, tg: int, npl: list[int], threads: int) -> dict[int, dict[str, float]]:
    """llama-batched-bench's JSONL lines per N: S_TG (aggregate generation tokens/s), S_PP, T_TG, T_PP."""
    n_ctx = max(npl) * (pp + tg) + 16
    cmd = [str(exe), "-m", str(gguf), "-c", str(n_ctx), "-b", "2048", "-ub", "512", "-ngl", "0", "-t", str(threads), "-tb", str(threads)]
    cmd += ["-fa", "auto", "-npp", str(pp), "-ntg", str(tg), "-npl", ",".join(map(str, npl)), "--output-format", "jsonl"]
    p = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=3600)
    if p.returncode != 0:
        raise SystemExit(f"llama-batched-bench failed ({p.returncode}): {p.stderr.strip()[-800:]}")
    out: dict[int, dict[str, float]] = {}
    for line in (p.stdout + "\n" + p.stderr).splitlines():
        line = line.strip()
        if line.startswith("{") and '"speed_tg"' in line:
            d = json.loads(line)
            out[int(d["pl"])] = {
                "s_tg": float(d["speed_tg"]),
                "s_pp": float(d["speed_pp"]),
                "t_tg": float(d["t_tg"]),
                "t_pp": float(d["t_pp"]),
            }
    missing = [n for n in npl if n not in out]
    if missing:
        raise SystemExit(f"llama-batched-bench printed no result for N = {missing}: {p.stderr.strip()[-800:]}")
    return out


def run_hwbench(gguf: Path, quant: str, pp: int, tg: int, npl: list[int], threads: int, data_dir: Path) -> dict[int, dict[str, float]]:
    """hwbench bench --parallel: per N the aggregate tokens/s (S_TG) and, where recorded, the prompt figures."""
    env = dict(os.environ, HWBENCH_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "hwbench", "bench", "--gguf", str(gguf), "--quant", quant, "-p", "0", "-n", str(tg), "-d", str(pp)]
    cmd += ["--parallel", ",".join(map(str, npl)), "-t", str(threads), "-r", "1", "-ngl", "0", "--json", "--out", str(data_dir / "results")]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=3600)
    if p.returncode != 0:
        raise SystemExit(f"hwbench bench failed ({p.returncode}): {p.stderr.strip()[-800:]}")
    rec = json.loads(p.stdout)
    out: dict[int, dict[str, float]] = {}
    for r in rec.get("results", []):
        s = r.get("settings") or {}
        if r.get("error") or "n_parallel" not in s or not r.get("tokens_per_s"):
            continue
        row = {"s_tg": float(r["tokens_per_s"])}
        for k in ("prompt_tokens_per_s", "prompt_time_s"):
            if s.get(k) is not None:
                row[k] = float(s[k])
        out[int(s["n_parallel"])] = row
    missing = [n for n in npl if n not in out]
    if missing:
        raise SystemExit(f"hwbench recorded no batched result for N = {missing}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--model", default="qwen2.5-0.5b")
    ap.add_argument("--quant", default="Q4_K_M")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--pp", type=int, default=128, help="prompt tokens per sequence (-npp; hwbench --depth)")
    ap.add_argument("--tg", type=int, default=32, help="generated tokens per sequence (-ntg; hwbench -n)")
    ap.add_argument("--npl", default="1,2,4,8")
    ap.add_argument("--llama-src", type=Path)
    ap.add_argument("--batched-bench", type=Path)
    ap.add_argument(
        "--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hwbench" / "batched-bench"
    )
    ap.add_argument("--save", type=Path)
    a = ap.parse_args()
    npl = [int(x) for x in a.npl.split(",")]
    exe = a.batched_bench or batched_bench_binary(a.llama_src, a.cache)

    from hwbench.bench.synth import write_synthetic
    from hwbench.resolve import resolve_model

    work = Path(tempfile.mkdtemp(prefix="hwbench-fidelity-"))
    spec = resolve_model(model=a.model).spec
    gguf = write_synthetic(spec, a.quant, path=work / f"{a.model}-{a.quant}.gguf").path
    load_before = os.getloadavg()[0]
    rounds = []
    for i in range(a.rounds):
        order = ["hwbench", "batched-bench"] if i % 2 == 0 else ["batched-bench", "hwbench"]
        res: dict[str, dict[int, dict[str, float]]] = {}
        for tool in order:
            if tool == "hwbench":
                res[tool] = run_hwbench(gguf, a.quant, a.pp, a.tg, npl, a.threads, work / f"data{i}")
            else:
                res[tool] = run_batched_bench(exe, gguf, a.pp, a.tg, npl, a.threads)
        rounds.append({"round": i, "order": order, "time": time.time(), **{k: {str(n): v for n, v in d.items()} for k, d in res.items()}})
        print(
            f"round {i + 1}/{a.rounds}: "
            + ", ".join(f"N={n} {res['hwbench'][n]['s_tg']:.1f} vs {res['batched-bench'][n]['s_tg']:.1f}" for n in npl),
            file=sys.stderr,
        )
    load_after = os.getloadavg()[0]
    shutil.rmtree(work, ignore_errors=True)

    ok = True
    summary = {}
    print(f"\n{a.model} {a.quant}, {a.threads} threads, prompt {a.pp} + {a.tg} generated per sequence, {a.rounds} interleaved rounds")
    print(
        "| N | hwbench S_TG (median) | llama-batched-bench S_TG (median) | difference of the medians | within 5% "
        "| median of the rounds' differences | S_PP hwbench / batched-bench (median) | S_PP difference |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n in npl:
        hw = [r["hwbench"][str(n)]["s_tg"] for r in rounds]
        bb = [r["batched-bench"][str(n)]["s_tg"] for r in rounds]
        err = statistics.median(hw) / statistics.median(bb) - 1  # the bar: median over the runs, tool against tool
        per_round = statistics.median(h / b - 1 for h, b in zip(hw, bb, strict=True))  # noisier: one short run each
        within = abs(err) <= BAR
        ok = ok and within
        hp = [r["hwbench"][str(n)].get("prompt_tokens_per_s") for r in rounds]
        bp = [r["batched-bench"][str(n)]["s_pp"] for r in rounds]
        pp_pairs = [(h, b) for h, b in zip(hp, bp, strict=True) if h]
        pp_err = statistics.median(h for h, _ in pp_pairs) / statistics.median(b for _, b in pp_pairs) - 1 if pp_pairs else None
        summary[n] = {
            "hwbench": statistics.median(hw),
            "batched_bench": statistics.median(bb),
            "median_error": err,
            "median_of_round_ratios": per_round,
            "within": within,
            "prompt_median_error": pp_err,
        }
        pp_txt = (
            f"{statistics.median(h for h, _ in pp_pairs):.1f} / {statistics.median(b for _, b in pp_pairs):.1f} | {pp_err:+.1%}"
            if pp_pairs and pp_err is not None
            else "- | -"
        )
        print(
            f"| {n} | {statistics.median(hw):.2f} | {statistics.median(bb):.2f} | {err:+.1%} | {'yes' if within else 'NO'} | {per_round:+.1%} | {pp_txt} |"
        )
    print(f"\nload average {load_before:.2f} before, {load_after:.2f} after ({os.cpu_count()} CPUs); llama-batched-bench: {exe}")
    if a.save:
        a.save.write_text(
            json.dumps(
                {
                    "model": a.model,
                    "quant": a.quant,
                    "threads": a.threads,
                    "pp": a.pp,
                    "tg": a.tg,
                    "rounds": rounds,
                    "summary": summary,
                    "load_before": load_before,
                    "load_after": load_after,
                    "cpus": os.cpu_count(),
                },
                indent=2,
            )
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
