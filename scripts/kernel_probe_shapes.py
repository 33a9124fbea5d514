#!/usr/bin/env python
"""Does llama.cpp's CPU decode time per weight depend on the row length? The kernel probe (hwbench/bench/kernels.py)
on its own shape (4 layers of 2048 x 8192) and on a narrow one (qwen2.5-0.5b's rows: 24 layers of 896 x 4864,
vocab 1024), interleaved, per type, at N = 1, 2, 4, 8 (docs/accuracy.md, batched decoding on this machine).

Prints, per round, shape and type, picoseconds per weight element per decode step (the table `bench` stores) and
the probe model's median step in ms. TIMING: run it on an IDLE machine.

`--sizes` asks instead whether the total size matters: the probe's own shape at 4 and at 16 layers, and llama-3.2-1b's
layers (12 of them, as `--params 1b` writes) with its 128,256-row output matrix.

    python scripts/kernel_probe_shapes.py [--types Q5_0,Q8_0] [--rounds 2] [--reps 3] [--big-vocab | --sizes]
"""

from __future__ import annotations

import argparse
import os
from typing import Any


def main() -> int:
    from hwbench.bench import kernels as K
    from hwbench.bench.synth import tiny_spec
    from hwbench.machine import this_machine

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--types", default="Q5_0,Q8_0")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--reps", type=int, default=K.KERNEL_REPS)
    ap.add_argument("--big-vocab", action="store_true", help="also a narrow shape with qwen2.5's 151,936-row output matrix")
    ap.add_argument("--sizes", action="store_true", help="the probe's shape at 4 and 16 layers, and a 1b shape (see above)")
    a = ap.parse_args()
    hw = this_machine().target
    types = a.types.split(",")
    if a.sizes:
        shapes = {
            "wide, 4 layers (the probe)": K.probe_spec(),
            "wide, 16 layers": K.probe_spec(dict(K.PROBE_SHAPE, n_layer=16), name="wide16-probe"),
            "1b: 12 layers, vocab 128256": tiny_spec(12, 2048, 8192, 128256, "llama", n_head=32, n_head_kv=8).model_copy(
                update={"name": "1b-probe"}
            ),
        }
        return _measure(hw, types, shapes, a.rounds, a.reps)
    shapes = {
        "wide (probe, 2048 x 8192)": K.probe_spec(),
        "narrow (896 x 4864, 24 layers)": tiny_spec(24, 896, 4864, 1024, "llama", n_head=14, n_head_kv=2).model_copy(
            update={"name": "narrow-probe"}
        ),
    }
    if a.big_vocab:
        # qwen2.5-0.5b's output matrix: 151,936 rows of 896 (with 8 narrow layers it holds 70% of the weights)
        shapes["narrow, vocab 151936 (8 layers)"] = tiny_spec(8, 896, 4864, 151936, "llama", n_head=14, n_head_kv=2).model_copy(
            update={"name": "narrow-vocab-probe"}
        )
    return _measure(hw, types, shapes, a.rounds, a.reps)


def _measure(hw: Any, types: list[str], shapes: dict[str, Any], rounds: int, reps: int) -> int:
    from hwbench.bench import kernels as K

    print(f"load average before: {os.getloadavg()[0]:.2f}; {hw.cpu_cores} threads")
    for rnd in range(rounds):
        for name, spec in shapes.items():
            kp = K.measure_kernels(hw, types, spec=spec, reps=reps, rows=False)
            for q, t in kp.table.items():
                ps = ", ".join(f"N={n}: {v * 1e12:.1f}" for n, v in sorted(t.items()))
                ms = ", ".join(f"{v * 1e3:.1f}" for _, v in sorted(kp.step_s[q].items()))
                print(f"round {rnd} {name:32s} {q:5s} ps/weight {ps}   step ms {ms}", flush=True)
            for q, why in kp.errors.items():
                print(f"round {rnd} {name} {q}: not measured: {why}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
