#!/usr/bin/env python
"""Does the CPU kernel probe's row term predict a real model shape? (issue 13, docs/accuracy.md)

Measures this machine's kernel tables (hwbench/bench/kernels.py: both probe shapes, the model's own weight types),
then the model itself, written synthetically, measured the way the probe measures (hwbench's batched decode in a child
process, N = 1, 2, 4, 8, the repetitions interleaved), right after; prints the estimate from those tables with and
without the row term against each measured step. `--vocab 1024` also measures the same shape with a small vocabulary
(the output matrix then negligible). TIMING: run it on an IDLE machine; about 5 minutes for a 0.5b model.

    python scripts/kernel_rows_check.py [--model qwen2.5-0.5b] [--quant Q4_K_M] [--vocab 1024]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path


def _steps(path: Path, threads: int, reps: int) -> dict[int, float]:
    from hwbench.bench import kernels as K

    steps, error, _ = K.measure_steps(path, threads, reps, timeout_s=900)
    if error:
        raise SystemExit(f"{path.name}: {error}")
    return steps


def main() -> int:
    from hwbench.bench import kernels as K
    from hwbench.bench.synth import write_tensors
    from hwbench.estimate.fit import speed_inputs, tensors_for
    from hwbench.machine import this_machine
    from hwbench.profiles import get_model
    from hwbench.quant import parse_quant
    from hwbench.schema import EstimateSettings

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="qwen2.5-0.5b")
    ap.add_argument("--quant", default="Q4_K_M")
    ap.add_argument("--vocab", type=int, help="also the same shape with this vocabulary size")
    ap.add_argument("--reps", type=int, default=K.KERNEL_REPS)
    a = ap.parse_args()
    hw = this_machine().target
    base = get_model(a.model)
    quant = parse_quant(a.quant)
    variants = {a.model: base}
    if a.vocab:
        variants[f"{a.model}, vocab {a.vocab}"] = base.model_copy(update={"vocab": a.vocab})
    types = sorted({t.type_name for t in tensors_for(base, quant) if len(t.shape) > 1} - {"F32"})  # a tied output too
    print(f"load average before: {os.getloadavg()[0]:.2f}; {hw.cpu_cores} threads; types {', '.join(types)}", flush=True)
    kp = K.measure_kernels(hw, types, reps=a.reps)
    for q in kp.table:
        ps = ", ".join(f"{v * 1e12:.1f}" for _, v in sorted(kp.table[q].items()))
        ns = ", ".join(f"{v * 1e9:.1f}" for _, v in sorted(kp.rows.get(q, {}).items())) or "none"
        print(f"{q:5s} ps per weight (N = {', '.join(map(str, K.KERNEL_NPL))}): {ps}; ns per row: {ns}", flush=True)
    with_rows = hw.model_copy(update={"cpu_kernel_step_s": kp.table, "cpu_kernel_row_s": kp.rows or None, "cpu_attn_s": kp.attention or None})
    st = EstimateSettings(context=K.KERNEL_CONTEXT, kv_type="f16", flash_attn=True, batch=512, ubatch=512, gpu_layers=0)
    with tempfile.TemporaryDirectory(prefix="kernel-rows-") as d:
        for name, spec in variants.items():
            tensors = tensors_for(spec, quant)
            path = Path(d) / "model.gguf"
            write_tensors(spec, a.quant, tensors, path, name=name)
            measured = _steps(path, max(1, hw.cpu_cores), a.reps)
            path.unlink()
            inp = speed_inputs(spec, quant, st, with_rows, tensors=tensors)
            assert inp is not None
            print(f"{name} {a.quant}: aggregate tok/s, measured vs estimated with the row term")
            for n, s in measured.items():
                est = inp.step_time_s(n)
                print(f"  N = {n}: measured {n / s:.1f}, estimated {n / est:.1f} ({s / est - 1:+.1%})", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
