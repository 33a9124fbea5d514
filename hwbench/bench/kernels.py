"""This machine's llama.cpp CPU decode kernels, measured per weight type (`hwbench bench`, issue 13).

Why: on the CPU, how a decode step's time grows with the number of sequences decoded together depends on
the kernel each ggml type runs through, and that differs by CPU, not only by bandwidth. On x86 with AVX2,
Q4_0/Q4_K are repacked and take a 4-row GEMM tile for every 4 sequences and a mat-vec for each one left
over (a staircase in N); Q5_K/Q6_K go row by row through vec_dot (linear in N); Q8_0/F16 go through
tinyBLAS tiles (nearly free up to a few rows). The constants fitted on one CPU do not carry over to
another (docs/accuracy.md). So `bench` measures them once per machine, on a model no estimate scores:

- a matmul-only llama (PROBE_SHAPE: 4 layers of 2048 x 8192, vocab 1024; all 2-D weights of ONE type,
  the output matrix too), written synthetically, one file per type;
- decoded like llama-batched-bench in a child process (hwbench.bench.runner_llamacpp: N sequences each
  after a short prompt, n_gen steps of N tokens), at N = 1, 2, 4, 8 and the threads the estimator
  assumes (HardwareTarget.cpu_cores), median over repetitions;
- stored per type as seconds per weight element per decode step of N sequences (the step time with the
  estimator's own per-token, per-layer and KV terms taken out, :func:`seconds_per_element`), so that the
  estimator reproduces each measured step of the probe model exactly (tests/bench/test_kernels.py).

`hwbench/estimate/speed.py` then uses, for a CPU share's weights of a measured type, elements x that
figure (interpolated between measured N, extended past the largest by the last slope) instead of
bandwidth and CPU_KERNELS; other types keep the formulas. The table is kept in the calibration file
(hwbench/calibration.py) with the threads and llama-cpp-python version it was measured with.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwbench.arch import TensorSpec
from hwbench.schema import HardwareTarget, ModelSpec

# The probe model: big enough that its weights stream from memory (150-550 MB by type), small in everything
# else (4 layers, vocab 1024): > 99% of a step's weight bytes are the layer matmuls.
PROBE_SHAPE: dict[str, Any] = dict(arch="llama", n_layer=4, n_embd=2048, n_head=16, n_head_kv=16, n_ff=8192, vocab=1024)
# Measured by default: what common GGUF files hold (Q4_K_M = Q4_K + Q6_K, Q5_K_M = Q5_K + Q6_K, qwen2.5's
# small models fall back to Q5_0/Q8_0 where rows are not a multiple of 256) and the bench model's own types.
KERNEL_TYPES: tuple[str, ...] = ("Q4_0", "Q4_K", "Q5_0", "Q5_K", "Q6_K", "Q8_0", "F16")
KERNEL_NPL: tuple[int, ...] = (1, 2, 4, 8)
KERNEL_GEN = 24  # decode steps per repetition
KERNEL_DEPTH = 8  # prompt tokens per sequence before them (KV reads stay negligible and are taken out anyway)
KERNEL_REPS = 3


@dataclass
class KernelProbe:
    """What :func:`measure_kernels` measured."""

    threads: int
    step_s: dict[str, dict[int, float]] = field(default_factory=dict)  # median seconds per decode step, by type and N
    table: dict[str, dict[int, float]] = field(default_factory=dict)  # seconds per weight element per step
    errors: dict[str, str] = field(default_factory=dict)  # type -> why it was not measured
    seconds: float = 0.0  # wall time of the whole probe

    def summary(self) -> str:
        parts = []
        for t, d in self.step_s.items():
            ratio = "/".join(f"{d[n] / d[1]:.2f}" for n in sorted(d)) if d.get(1) else "?"
            parts.append(f"{t} {d.get(1, 0) * 1e3:.1f} ms (x{ratio} at N={','.join(map(str, sorted(d)))})")
        return "; ".join(parts)


def probe_spec() -> ModelSpec:
    from hwbench.bench.synth import tiny_spec

    kw = dict(PROBE_SHAPE)
    spec = tiny_spec(kw.pop("n_layer"), kw.pop("n_embd"), kw.pop("n_ff"), kw.pop("vocab"), kw.pop("arch"), **kw)
    return spec.model_copy(update={"name": "hwbench-kernel-probe"})


def probe_tensors(spec: ModelSpec, type_name: str) -> list[TensorSpec]:
    """The probe model's tensors with every 2-D weight (layers and output) of ``type_name``."""
    from hwbench.arch import model_tensors

    out = []
    for t in model_tensors(spec, "F16"):
        matmul = len(t.shape) > 1 and (t.layer is not None or t.name == "output.weight")
        out.append(TensorSpec(t.name, t.shape, type_name, t.layer) if matmul else t)
    return out


def matmul_elements(tensors: list[TensorSpec]) -> dict[str, float]:
    """Weight elements per type that a decode step reads through matmuls (layers and the output matrix)."""
    acc: dict[str, float] = {}
    for t in tensors:
        if len(t.shape) > 1 and (t.layer is not None or t.name == "output.weight"):
            acc[t.type_name] = acc.get(t.type_name, 0.0) + t.n_elements
    return acc


def seconds_per_element(step_s: float, n_seq: int, elements: float, layers: int, kv_s: float) -> float:
    """Invert the estimator's CPU step time (speed.generation_time_s / step_time_s with a measured table):

        step = p-norm(elements x s + n_seq x kv_s, layers x layer_overhead) + token_overhead

    for s, the seconds per weight element per step (0 if the step is all overhead)."""
    from hwbench.estimate.speed import backend_constants

    c = backend_constants("cpu")
    x = step_s - c.token_overhead_s
    floor = layers * c.layer_overhead_s
    p = c.overlap_p
    w = (x**p - floor**p) ** (1.0 / p) if x > floor else 0.0
    return max(0.0, w - n_seq * kv_s) / elements


def kv_seconds_per_sequence(spec: ModelSpec, tensors: list[TensorSpec], hw: HardwareTarget, context: int) -> float:
    """The estimator's KV-read time per sequence per step for the probe model at ``context`` (CPU only)."""
    from hwbench.estimate.fit import speed_inputs
    from hwbench.estimate.speed import cpu_kv_time_s
    from hwbench.quant import parse_quant
    from hwbench.schema import EstimateSettings

    st = EstimateSettings(context=context, kv_type="f16", flash_attn=True, batch=512, ubatch=512, gpu_layers=0)
    cpu_only = hw.model_copy(update={"gpus": [], "cpu_kernel_step_s": None})
    inputs = speed_inputs(spec, parse_quant("F16"), st, cpu_only, tensors=tensors)
    if inputs is None:
        return 0.0
    return sum(cpu_kv_time_s(sh, inputs.depth) for sh in inputs.generation if sh.backend == "cpu")


def _job(path: Path, threads: int, reps: int) -> dict[str, Any]:
    from hwbench.bench import runner_llamacpp as rl

    tests = tuple(rl.LlamaTest(rl.test_name(0, KERNEL_GEN, KERNEL_DEPTH, n), 0, KERNEL_GEN, KERNEL_DEPTH, n, True) for n in KERNEL_NPL)
    inst = rl.LlamaInstance(threads, 0, 512, 512, "auto", "f16", "f16", tests)
    return rl.instance_job(str(path), inst, reps)


def measure_kernels(
    hw: HardwareTarget,
    types: tuple[str, ...] | list[str] = KERNEL_TYPES,
    *,
    reps: int = KERNEL_REPS,
    timeout_s: float | None = 600.0,
    progress: Callable[[str], None] | None = None,
    workdir: Path | None = None,
    spec: ModelSpec | None = None,
) -> KernelProbe:
    """Measure each type's decode step on the probe model at N = KERNEL_NPL, ``hw.cpu_cores`` threads (module doc).
    A type that fails (not writable, llama.cpp refuses it, the child dies) is left out with its reason.
    ``spec``: another probe shape (tests use a small one; its weights then fit in cache and measure nothing real)."""
    import time

    from hwbench.bench import isolation
    from hwbench.bench.synth import write_tensors

    t0 = time.perf_counter()
    threads = max(1, hw.cpu_cores)
    out = KernelProbe(threads=threads)
    spec = spec or probe_spec()
    if workdir is None:
        from hwbench.paths import cache_dir

        workdir = cache_dir()  # hwbench writes nowhere else (not $TMPDIR); the probe files are deleted after use
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kernel-probe-", dir=workdir) as d:
        for q in types:
            if progress:
                progress(f"kernel probe {q}: {len(KERNEL_NPL)} batch sizes, {threads} threads")
            tensors = probe_tensors(spec, q)
            path = Path(d) / f"probe-{q}.gguf"
            try:
                write_tensors(spec, "F16", tensors, path, name=f"hwbench kernel probe ({q})")
            except Exception as e:  # noqa: BLE001 - one type failing must not stop the others
                out.errors[q] = f"not written: {type(e).__name__}: {e}"
                continue
            samples: dict[str, list[int]] = {}

            def on_event(ev: dict[str, Any], samples: dict[str, list[int]] = samples) -> None:
                if ev.get("event") == "sample" and not ev.get("warmup"):
                    samples.setdefault(str(ev["test"]), []).append(int(ev["ns"]))

            outcome = isolation.run_child(_job(path, threads, reps), timeout_s=timeout_s, on_event=on_event)
            path.unlink(missing_ok=True)
            if outcome.error:
                out.errors[q] = outcome.error
            if outcome.interrupted:
                break
            steps = {}
            for n in KERNEL_NPL:
                s = samples.get(f"tg{KERNEL_GEN}@d{KERNEL_DEPTH}@np{n}") or []
                if len(s) == reps:
                    steps[n] = statistics.median(s) / 1e9 / KERNEL_GEN
            if 1 not in steps:
                out.errors.setdefault(q, "no decode step measured")
                continue
            elements = matmul_elements(tensors)[q]
            kv = kv_seconds_per_sequence(spec, tensors, hw, KERNEL_DEPTH + KERNEL_GEN + 1)
            out.step_s[q] = steps
            out.table[q] = {n: seconds_per_element(st, n, elements, spec.n_layer, kv) for n, st in steps.items()}
    out.seconds = time.perf_counter() - t0
    return out


def types_to_measure(tensors: list[TensorSpec] | None) -> list[str]:
    """KERNEL_TYPES and the benchmarked model's own matmul weight types (the synthetic writer's known ones)."""
    from hwbench.quant import GGML_TYPES

    extra = sorted({t for t in matmul_elements(tensors or [])} - set(KERNEL_TYPES) - {"F32"})
    return list(KERNEL_TYPES) + [t for t in extra if t in GGML_TYPES]
