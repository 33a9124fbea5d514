#!/usr/bin/env python
"""Per-layer and per-token CPU decode overhead on this machine, against the assumed speed.BACKENDS['cpu'] figures.

Two llama models with almost no weights (n_embd 64, n_ff 256, vocab 1024), 4 and 28 layers, decoded the way bench's
kernel probe decodes (hwbench.bench.kernels: N sequences, each after a short prompt, at N = 1, 2, 4, 8, in a child
process, median of the repetitions). Their weights take microseconds, so a step is overhead: graph nodes, thread
barriers, attention over a few cells. Per layer = (step(28) - step(4)) / 24; per token = step(4) - 4 x per layer.

    python scripts/cpu_decode_overhead.py [--rounds 2] [--threads 2]

TIMING: run it on an idle machine; rounds are printed separately so drift shows.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()

    from hwbench.bench.kernels import KERNEL_NPL, measure_kernels
    from hwbench.bench.synth import tiny_spec
    from hwbench.estimate.speed import backend_constants
    from hwbench.schema import HardwareTarget

    c = backend_constants("cpu")
    hw = HardwareTarget(label="this machine", ram_bytes=8 * 2**30, cpu_bandwidth_gbps=10.0, cpu_tflops=0.2, cpu_cores=a.threads)
    layers = (4, 28)
    steps: dict[int, list[dict[int, float]]] = {n: [] for n in layers}
    with tempfile.TemporaryDirectory(prefix="hwbench-overhead-") as d:
        for r in range(a.rounds):
            for n_layer in layers:  # interleaved within each round
                spec = tiny_spec(n_layer, 64, 256, 1024, "llama", n_head=4, n_head_kv=4)
                kp = measure_kernels(hw, ("F16",), reps=a.reps, spec=spec, workdir=Path(d), rows=False)
                if "F16" not in kp.step_s:
                    print(f"round {r + 1}, {n_layer} layers: not measured: {kp.errors}", file=sys.stderr)
                    return 1
                steps[n_layer].append(kp.step_s["F16"])
    print(f"assumed: {c.layer_overhead_s * 1e6:.0f} us per layer, {c.token_overhead_s * 1e6:.0f} us per token (speed.BACKENDS['cpu'])")
    print("| N | per layer (us), per round | per token (us), per round |")
    print("|---|---|---|")
    for n in KERNEL_NPL:
        per = [(b[n] - s[n]) / (layers[1] - layers[0]) for s, b in zip(steps[layers[0]], steps[layers[1]], strict=True)]
        tok = [s[n] - layers[0] * p for s, p in zip(steps[layers[0]], per, strict=True)]
        print(f"| {n} | {' / '.join(f'{x * 1e6:.0f}' for x in per)} | {' / '.join(f'{x * 1e6:.0f}' for x in tok)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
