#!/usr/bin/env python3
"""Show that `hwbench bench` adds no measurable overhead to generation tokens/s.

Measures, on the same synthetic GGUF and thread count, in alternating rounds:

- hwbench: ``run_bench`` (child process, llama-bench protocol), tg tokens/s (mean of reps);
- bare: a minimal llama-cpp-python loop in this process (low-level ``llama_decode`` of one token
  at a time, the fastest a Python caller can go);
- high-level: ``llama_cpp.Llama.eval`` one token at a time (what most users write).

Prints the medians and the ratio hwbench / bare (the issue asks for >= 0.95).

    .venv/bin/python scripts/bench_overhead.py [--model NAME|--params 1b] [--quant Q4_K_M] [--n-gen 128] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


_LOG_CB = None


def bare_tg(path: str, threads: int, n_gen: int, reps: int) -> float:
    from llama_cpp import llama_cpp as L

    global _LOG_CB
    _LOG_CB = L.llama_log_callback(lambda level, text, user: None)  # must outlive every llama.cpp call
    L.llama_log_set(_LOG_CB, None)
    L.llama_backend_init()
    model = L.llama_model_load_from_file(path.encode(), L.llama_model_default_params())
    cp = L.llama_context_default_params()
    cp.n_ctx = n_gen + 32
    cp.n_threads = cp.n_threads_batch = threads
    ctx = L.llama_init_from_model(model, cp)
    mem = L.llama_get_memory(ctx)
    tok = (L.llama_token * 1)(300)
    L.llama_decode(ctx, L.llama_batch_get_one(tok, 1))  # warm-up
    L.llama_memory_clear(mem, True)
    rates = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        for i in range(n_gen):
            tok[0] = 300 + i
            L.llama_decode(ctx, L.llama_batch_get_one(tok, 1))
            L.llama_synchronize(ctx)
        rates.append(n_gen * 1e9 / (time.perf_counter_ns() - t0))
        L.llama_memory_clear(mem, True)
    L.llama_free(ctx)
    L.llama_model_free(model)
    return statistics.fmean(rates)


def highlevel_tg(path: str, threads: int, n_gen: int, reps: int) -> float:
    from llama_cpp import Llama

    llm = Llama(path, n_threads=threads, n_threads_batch=threads, n_ctx=n_gen + 32, verbose=False)
    llm.eval([300])
    rates = []
    for _ in range(reps):
        llm.reset()
        t0 = time.perf_counter_ns()
        for i in range(n_gen):
            llm.eval([300 + i])
        rates.append(n_gen * 1e9 / (time.perf_counter_ns() - t0))
    del llm
    return statistics.fmean(rates)


def hwbench_tg(model: str | None, params: str | None, quant: str, threads: int, n_gen: int, reps: int, out: Path) -> float:
    from hwbench.bench import BenchOptions, run_bench

    opts = BenchOptions(
        model=model,
        params=params,
        quant=quant,
        threads=[threads],
        n_prompt=[0],
        n_gen=[n_gen],
        reps=reps,
        out=out,
        save_calibration=False,
    )
    rec = run_bench(opts)
    r = next(r for r in rec.results if r.test == f"tg{n_gen}")
    assert r.tokens_per_s is not None, r.error
    return r.tokens_per_s


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--params", default=None)
    ap.add_argument("--quant", default="Q4_K_M")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--n-gen", type=int, default=128)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    from hwbench.arch import model_tensors
    from hwbench.bench.options import BenchOptions
    from hwbench.bench.synth import write_synthetic
    from hwbench.bench.target import resolve_target

    spec = resolve_target(BenchOptions(model=a.model, params=a.params, quant=a.quant)).spec  # the shape `bench` writes
    sm = write_synthetic(spec, a.quant)
    path = str(sm.path)
    print(
        f"model: {spec.name} {a.quant} synthetic, {sm.file_bytes / 2**20:.0f} MiB, {len(model_tensors(spec, a.quant))} tensors; "
        f"threads {a.threads}, tg{a.n_gen} x{a.reps} reps, {a.rounds} alternating rounds",
        flush=True,
    )
    hw, bare, high = [], [], []
    with tempfile.TemporaryDirectory() as d:
        for i in range(a.rounds):
            hw.append(hwbench_tg(a.model if not a.params else None, a.params, a.quant, a.threads, a.n_gen, a.reps, Path(d)))
            bare.append(bare_tg(path, a.threads, a.n_gen, a.reps))
            high.append(highlevel_tg(path, a.threads, a.n_gen, a.reps))
            print(f"round {i + 1}: hwbench {hw[-1]:.2f}  bare {bare[-1]:.2f}  Llama.eval {high[-1]:.2f} tokens/s", flush=True)
    h, b, hl = statistics.median(hw), statistics.median(bare), statistics.median(high)
    print(f"median tokens/s: hwbench {h:.2f}, bare llama_decode loop {b:.2f}, Llama.eval loop {hl:.2f}")
    print(f"ratio hwbench / bare = {h / b:.3f}   hwbench / Llama.eval = {h / hl:.3f}   (>= 0.95 required)")
    return 0 if h / b >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
