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
  assumes (HardwareTarget.cpu_cores), median over KERNEL_REPS repetitions, each in its own pass over every probe
  file (a spell of the shared machine lasting a whole child then spoils one repetition, not the median);
- a second, narrow probe of the same type (NARROW_SHAPE: 20 layers of 768 x 4864, about as many weights):
  short rows cost more per weight at N > 1 (each row is one dot product per sequence, with its own setup
  and horizontal sum), so a table measured on 2048-long rows alone over-estimated a model of 896-long rows
  (qwen2.5-0.5b) by 17-28% at N = 2..8 (docs/accuracy.md);
- stored per type as seconds per weight element and seconds per weight row, per decode step of N
  sequences: each probe's step time with the estimator's own per-token, per-layer and KV terms taken out
  (:func:`weight_seconds`) is elements x s + rows x r, two probes give s and r (:func:`split_rows`), so that
  the estimator reproduces each measured step of both probe models exactly (tests/bench/test_kernels.py).
  Where the narrow probe is not slower per weight than the row term allows (r < 0, noise) or fails, r is 0 and
  s is the wide probe's alone.

- first, decode attention: two small attention probes (ATTN_SHAPES, heads of 64 and 128) decoded after KERNEL_DEPTH
  and ATTN_DEPTH prompt tokens; the step's growth per sequence, query head, layer and context position, per head size
  (:func:`measure_attention`), is taken out of the weight probes' steps with the other terms.

`hwbench/estimate/speed.py` then uses, for a CPU share's weights of a measured type, elements x s + rows x r
(each interpolated between measured N, extended past the largest by the last slope; rows = elements / row
length) instead of bandwidth and CPU_KERNELS; other types keep the formulas. The tables are kept in the
calibration file (hwbench/calibration.py) with the threads and llama-cpp-python version they were measured with.
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
# The narrow probe: rows of 768 (attention, ffn up/gate; a multiple of 256, so every K-quant can be written) and
# 4864 (ffn down), 1,024 weights per row on average against the wide probe's 2,516; 20 layers keep its weights
# (250 M) as many as the wide probe's, so neither fits in a server CPU's last-level cache.
NARROW_SHAPE: dict[str, Any] = dict(arch="llama", n_layer=20, n_embd=768, n_head=12, n_head_kv=2, n_ff=4864, vocab=1024)
# Measured by default: what common GGUF files hold (Q4_K_M = Q4_K + Q6_K, Q5_K_M = Q5_K + Q6_K, qwen2.5's
# small models fall back to Q5_0/Q8_0 where rows are not a multiple of 256) and the bench model's own types.
KERNEL_TYPES: tuple[str, ...] = ("Q4_0", "Q4_K", "Q5_0", "Q5_K", "Q6_K", "Q8_0", "F16")
KERNEL_NPL: tuple[int, ...] = (1, 2, 4, 8)
KERNEL_GEN = 24  # decode steps per repetition
KERNEL_DEPTH = 8  # prompt tokens per sequence before them (KV reads stay negligible and are taken out anyway)
KERNEL_REPS = 3  # repetitions of every probe, one per pass over all of them (_measure_passes)
# the context the estimator is given for a probe's steps: bench's rule for a tg@npN test (llamacpp_part), so that its
# average depth (context / 2) is the probe's, prompt + half the generated tokens
KERNEL_CONTEXT = 2 * KERNEL_DEPTH + KERNEL_GEN
# The attention probes: decode attention on the CPU is not bound by the KV bytes it reads. llama.cpp's CPU flash
# attention takes each (query head, context position) pair one after the other: a dot product with the K row, an
# exponential, a multiply-add into V, so its cost grows with heads x depth at a rate the bandwidth does not give.
# Measured (docs/accuracy.md): llama-3.2-1b's shape (32 heads of 64, 16 layers) took 17-30% longer per step at N = 8
# after 64 prompt tokens than after 8, where the KV-bytes term added under 2%. Two small models (one per head size,
# the sizes most models use; small weights so that their prompts are quick), each decoded after KERNEL_DEPTH and
# after ATTN_DEPTH prompt tokens: the growth per sequence, query head, layer and context position is the cost the
# estimator takes (hwbench/estimate/speed.py, cpu_kv_time_s). On the 2-vCPU VM: 85-92 ns with heads of 64 whether
# 8, 16 or 32 of them, 14-54 ns with heads of 128; the same with 16x the FFN weights (81 against 89 ns), so small
# weights do not flatter it.
ATTN_SHAPES: dict[int, dict[str, Any]] = {
    64: dict(arch="llama", n_layer=16, n_embd=1024, n_head=16, n_head_kv=4, n_ff=256, vocab=1024),
    128: dict(arch="llama", n_layer=16, n_embd=1024, n_head=8, n_head_kv=2, n_ff=256, vocab=1024),
}
ATTN_DEPTH = 128
ATTN_TYPE = "Q8_0"  # the probes' weights: any type; their time is the same at both depths and drops out


@dataclass
class KernelProbe:
    """What :func:`measure_kernels` measured."""

    threads: int
    step_s: dict[str, dict[int, float]] = field(default_factory=dict)  # median seconds per decode step, by type and N
    narrow_step_s: dict[str, dict[int, float]] = field(default_factory=dict)  # the same on the narrow probe
    table: dict[str, dict[int, float]] = field(default_factory=dict)  # seconds per weight element per step
    rows: dict[str, dict[int, float]] = field(default_factory=dict)  # seconds per weight row per step
    # seconds per (sequence, query head, layer, context position) of decode attention, by head size
    attention: dict[int, float] = field(default_factory=dict)
    attn_step_s: dict[int, dict[int, dict[int, float]]] = field(default_factory=dict)  # head size -> depth -> N -> step
    errors: dict[str, str] = field(default_factory=dict)  # type -> why it was not measured
    seconds: float = 0.0  # wall time of the whole probe

    def summary(self) -> str:
        parts = []
        for t, d in self.step_s.items():
            ratio = "/".join(f"{d[n] / d[1]:.2f}" for n in sorted(d)) if d.get(1) else "?"
            parts.append(f"{t} {d.get(1, 0) * 1e3:.1f} ms (x{ratio} at N={','.join(map(str, sorted(d)))})")
        return "; ".join(parts)


def probe_spec(shape: dict[str, Any] | None = None, name: str = "hwbench-kernel-probe") -> ModelSpec:
    """The probe model of ``shape`` (PROBE_SHAPE by default; NARROW_SHAPE: :func:`narrow_probe_spec`)."""
    return _shape_spec(shape or PROBE_SHAPE, name)


def _shape_spec(shape: dict[str, Any], name: str) -> ModelSpec:
    """A synthetic llama of ``shape`` (n_layer, n_embd, n_ff, vocab, arch, and tiny_spec's keywords) named ``name``."""
    from hwbench.bench.synth import tiny_spec

    kw = dict(shape)
    spec = tiny_spec(kw.pop("n_layer"), kw.pop("n_embd"), kw.pop("n_ff"), kw.pop("vocab"), kw.pop("arch"), **kw)
    return spec.model_copy(update={"name": name})


def narrow_probe_spec() -> ModelSpec:
    return _shape_spec(NARROW_SHAPE, "hwbench-kernel-probe-narrow")


def probe_tensors(spec: ModelSpec, type_name: str) -> list[TensorSpec]:
    """The probe model's tensors with every 2-D weight (layers and output) of ``type_name``."""
    from hwbench.arch import model_tensors

    out = []
    for t in model_tensors(spec, "F16"):
        matmul = len(t.shape) > 1 and (t.layer is not None or t.name == "output.weight")
        out.append(TensorSpec(t.name, t.shape, type_name, t.layer) if matmul else t)
    return out


def _matmul_sum(tensors: list[TensorSpec], per_tensor: Callable[[TensorSpec], float]) -> dict[str, float]:
    """``per_tensor`` summed per type over the weights a decode step reads through matmuls (layers and the output)."""
    acc: dict[str, float] = {}
    for t in tensors:
        if len(t.shape) > 1 and (t.layer is not None or t.name == "output.weight"):
            acc[t.type_name] = acc.get(t.type_name, 0.0) + per_tensor(t)
    return acc


def matmul_elements(tensors: list[TensorSpec]) -> dict[str, float]:
    """Weight elements per type that a decode step reads through matmuls (layers and the output matrix)."""
    return _matmul_sum(tensors, lambda t: t.n_elements)


def matmul_rows(tensors: list[TensorSpec]) -> dict[str, float]:
    """Weight rows per type that a decode step reads through matmuls: elements / row length (ggml's ne[0])."""
    return _matmul_sum(tensors, lambda t: t.n_rows)


def weight_seconds(step_s: float, n_seq: int, layers: int, kv_s: float) -> float:
    """Invert the estimator's CPU step time (speed.generation_time_s / step_time_s with a measured table):

        step = p-norm(W + n_seq x kv_s, layers x layer_overhead) + token_overhead

    for W, the seconds the weights' matmuls take per step (0 if the step is all overhead)."""
    from hwbench.estimate.speed import backend_constants

    c = backend_constants("cpu")
    x = step_s - c.token_overhead_s
    floor = layers * c.layer_overhead_s
    p = c.overlap_p
    w = (x**p - floor**p) ** (1.0 / p) if x > floor else 0.0
    return max(0.0, w - n_seq * kv_s)


def split_rows(wide: tuple[float, float, float], narrow: tuple[float, float, float] | None) -> tuple[float, float]:
    """Seconds per weight element s and per weight row r from two probes' (elements, rows, weight seconds), solving
    W = elements x s + rows x r for both. Without a narrow probe, or where the solution has r < 0 or s <= 0 (the
    narrow probe no slower per weight than the wide one, within noise): r = 0 and s from the wide probe alone."""
    e_w, r_w, w_w = wide
    plain = (w_w / e_w, 0.0)
    if narrow is None:
        return plain
    e_n, r_n, w_n = narrow
    det = e_w * r_n - e_n * r_w
    if det == 0:
        return plain
    s = (w_w * r_n - w_n * r_w) / det
    r = (e_w * w_n - e_n * w_w) / det
    return (s, r) if s > 0 and r >= 0 else plain


def kv_seconds_per_sequence(spec: ModelSpec, tensors: list[TensorSpec], hw: HardwareTarget, context: int) -> float:
    """The estimator's KV-read time per sequence per step for the probe model at ``context`` (CPU only)."""
    from hwbench.estimate.fit import speed_inputs
    from hwbench.estimate.speed import cpu_kv_time_s
    from hwbench.quant import parse_quant
    from hwbench.schema import EstimateSettings

    st = EstimateSettings(context=context, kv_type="f16", flash_attn=True, batch=512, ubatch=512, gpu_layers=0)
    cpu_only = hw.without_measured_cpu(keep_attention=True, gpus=[])
    inputs = speed_inputs(spec, parse_quant("F16"), st, cpu_only, tensors=tensors)
    if inputs is None:
        return 0.0
    return sum(cpu_kv_time_s(sh, inputs.depth) for sh in inputs.generation if sh.backend == "cpu")


def _job(path: Path, threads: int, reps: int, depths: tuple[int, ...] = (KERNEL_DEPTH,)) -> dict[str, Any]:
    """The child's job: every N (and depth) once per repetition, the repetitions one after another (N = 1, 2, 4, 8,
    then again), so that a pause of the machine lasting a few seconds spoils one sample of a few N, not every sample
    of one N (the median of the repetitions then drops it; on this project's shared VMs single runs jump by up to
    2.4x)."""
    from hwbench.bench import runner_llamacpp as rl

    tests = tuple(
        rl.LlamaTest(_test_name(n, d), 0, KERNEL_GEN, d, n, True) for _ in range(reps) for n in KERNEL_NPL for d in depths
    )
    inst = rl.LlamaInstance(threads, 0, 512, 512, "auto", "f16", "f16", tests)
    return rl.instance_job(str(path), inst, 1)


def _test_name(n_seq: int, depth: int = KERNEL_DEPTH) -> str:
    """The probe job's test of ``n_seq`` sequences after ``depth`` prompt tokens (its samples come back under this name)."""
    from hwbench.bench.runner_llamacpp import test_name

    return test_name(0, KERNEL_GEN, depth, n_seq)


def measure_kernels(
    hw: HardwareTarget,
    types: tuple[str, ...] | list[str] = KERNEL_TYPES,
    *,
    reps: int = KERNEL_REPS,
    timeout_s: float | None = 600.0,
    progress: Callable[[str], None] | None = None,
    workdir: Path | None = None,
    spec: ModelSpec | None = None,
    narrow_spec: ModelSpec | None = None,
    rows: bool = True,
    attn_shapes: dict[int, dict[str, Any]] | None = None,
    attention: bool = True,
) -> KernelProbe:
    """Measure each type's decode step on the wide and the narrow probe model at N = KERNEL_NPL, ``hw.cpu_cores``
    threads, and solve each N for seconds per weight and per row (module doc). Every probe file is measured ``reps``
    times, one repetition per pass over all of them (:func:`_measure_passes`). A type whose wide probe fails (not
    writable, llama.cpp refuses it, the child dies) is left out with its reason; one whose narrow probe fails keeps
    the wide probe's table with no row term (errors["<type> narrow"] says why).
    ``spec`` / ``narrow_spec``: other probe shapes (tests use small ones; their weights then fit in cache and measure
    nothing real). ``rows=False``: the wide probe alone (no row term). Unless ``attention=False``, the attention
    probes too (ATTN_SHAPES; ``attn_shapes``: other shapes, for tests): their table is taken out of the weight probes'
    steps like every other term of the estimator."""
    import time

    t0 = time.perf_counter()
    threads = max(1, hw.cpu_cores)
    out = KernelProbe(threads=threads)
    spec = spec or probe_spec()
    narrow = (narrow_spec or narrow_probe_spec()) if rows else None
    if workdir is None:
        from hwbench.paths import cache_dir

        workdir = cache_dir()  # hwbench writes nowhere else (not $TMPDIR); the probe files are deleted after use
    workdir.mkdir(parents=True, exist_ok=True)
    shapes = (attn_shapes or ATTN_SHAPES) if attention else {}
    plan: list[_ProbeFile] = []
    for hd, shape in shapes.items():
        a_spec = attention_spec(hd, shape)
        plan.append(_ProbeFile(f"attention {hd}", a_spec, ATTN_TYPE, (KERNEL_DEPTH, ATTN_DEPTH), f"attention, heads of {hd}, depths {KERNEL_DEPTH} and {ATTN_DEPTH}"))
    for q in types:
        plan.append(_ProbeFile(q, spec, q, (KERNEL_DEPTH,), f"{q}, wide rows"))
        if narrow is not None:
            plan.append(_ProbeFile(f"{q} narrow", narrow, q, (KERNEL_DEPTH,), f"{q}, narrow rows", after=q))
    with tempfile.TemporaryDirectory(prefix="kernel-probe-", dir=workdir) as d:
        steps = _measure_passes(plan, threads, reps, timeout_s, Path(d), out.errors, progress)
    for hd, shape in shapes.items():
        key, a_spec = f"attention {hd}", attention_spec(hd, shape)
        if key in steps:
            out.attn_step_s[hd] = steps[key]
        a = attention_seconds(a_spec, steps.get(key, {}), ATTN_DEPTH)
        if a is not None:
            out.attention[hd] = a
        else:
            out.errors.setdefault(key, "the step did not grow with depth (noise)" if key in steps else "no decode step measured")
    hw = hw.model_copy(update={"cpu_attn_s": out.attention or None})
    ctx = KERNEL_CONTEXT
    for q in types:
        wide_steps = steps.get(q, {}).get(KERNEL_DEPTH, {})
        if 1 not in wide_steps:
            out.errors.setdefault(q, "no decode step measured")
            continue
        tensors = probe_tensors(spec, q)
        wide = _weight_seconds_per_n(spec, tensors, q, wide_steps, hw, ctx)
        out.step_s[q] = wide_steps
        narrow_w: dict[int, tuple[float, float, float]] = {}
        n_steps = steps.get(f"{q} narrow", {}).get(KERNEL_DEPTH, {})
        if narrow is not None and n_steps:
            narrow_w = _weight_seconds_per_n(narrow, probe_tensors(narrow, q), q, n_steps, hw, ctx)
            out.narrow_step_s[q] = n_steps
        solved = {n: split_rows(w, narrow_w.get(n)) for n, w in wide.items()}
        out.table[q] = {n: sr[0] for n, sr in solved.items()}
        if any(sr[1] > 0 for sr in solved.values()):
            out.rows[q] = {n: sr[1] for n, sr in solved.items()}
    out.seconds = time.perf_counter() - t0
    return out


@dataclass(frozen=True)
class _ProbeFile:
    """One probe model the kernel probe writes and measures: its key in KernelProbe.errors, shape, weight type, the
    prompt depths it is decoded after, what progress calls it, and the probe whose failure skips it (the narrow
    probe is not measured for a type whose wide probe failed)."""

    key: str
    spec: ModelSpec
    type_name: str
    depths: tuple[int, ...]
    label: str
    after: str | None = None


def _measure_passes(
    plan: list[_ProbeFile],
    threads: int,
    passes: int,
    timeout_s: float | None,
    d: Path,
    errors: dict[str, str],
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[int, dict[int, float]]]:
    """Each probe of ``plan`` written and measured in a child once per pass, the passes one after another over the
    whole plan: a probe's repetitions are then minutes apart, so that a spell of the machine longer than one child
    (on this project's shared VMs the speed jumps by 20-40% for 10-60 s at a time, docs/accuracy.md) spoils one of
    them, not all, and the median drops it. A probe that fails is not measured again (its reason goes to
    ``errors``), and a failed child's samples count only where that probe has no others. Interrupted: what was
    measured so far. Returns {key: {depth: {N: median step}}} over the N measured as often as the probe's most."""
    from hwbench.bench.synth import write_tensors

    samples: dict[str, dict[int, dict[int, list[float]]]] = {}
    stop = False
    for p in range(passes):
        for pf in plan:
            if pf.key in errors or (pf.after is not None and pf.after in errors):
                continue
            if progress:
                progress(f"kernel probe {p + 1}/{passes}: {pf.label}, N = {', '.join(map(str, KERNEL_NPL))}, {threads} threads")
            path = d / f"{pf.spec.name}-{pf.type_name}.gguf"
            try:
                write_tensors(pf.spec, "F16", probe_tensors(pf.spec, pf.type_name), path, name=f"hwbench kernel probe ({pf.key})")
                got, why, stop = measure_samples_at(path, threads, 1, timeout_s, pf.depths)
            except Exception as e:  # noqa: BLE001 - one probe failing must not stop the others
                got, why, stop = {}, f"not written: {type(e).__name__}: {e}", False
            finally:
                path.unlink(missing_ok=True)
            if why:
                errors[pf.key] = why
            if got and (not why or pf.key not in samples):
                for depth, per_n in got.items():
                    for n, xs in per_n.items():
                        samples.setdefault(pf.key, {}).setdefault(depth, {}).setdefault(n, []).extend(xs)
            if stop:
                break
        if stop:
            break
    out: dict[str, dict[int, dict[int, float]]] = {}
    for key, by_depth in samples.items():
        most = max(len(xs) for per_n in by_depth.values() for xs in per_n.values())
        for depth, per_n in by_depth.items():
            kept = {n: statistics.median(xs) for n, xs in per_n.items() if len(xs) == most}
            if kept:
                out.setdefault(key, {})[depth] = kept
    return out


def _weight_seconds_per_n(
    spec: ModelSpec, tensors: list[TensorSpec], q: str, steps: dict[int, float], hw: HardwareTarget, ctx: int
) -> dict[int, tuple[float, float, float]]:
    """Per measured N, one probe's (elements, rows, weight seconds) of type ``q``: what split_rows takes."""
    if not steps:
        return {}
    kv = kv_seconds_per_sequence(spec, tensors, hw, ctx)
    el, rw = matmul_elements(tensors)[q], matmul_rows(tensors)[q]
    return {n: (el, rw, weight_seconds(st, n, spec.n_layer, kv)) for n, st in steps.items()}


def measure_steps(path: Path, threads: int, reps: int, timeout_s: float | None) -> tuple[dict[int, float], str | None, bool]:
    """A GGUF file's median decode step per N (KERNEL_NPL, the repetitions interleaved, :func:`_job`) in a child
    process: (steps of the N whose every repetition ran, error, interrupted)."""
    by_depth, error, stop = measure_steps_at(path, threads, reps, timeout_s, (KERNEL_DEPTH,))
    return by_depth.get(KERNEL_DEPTH, {}), error, stop


def measure_steps_at(
    path: Path, threads: int, reps: int, timeout_s: float | None, depths: tuple[int, ...]
) -> tuple[dict[int, dict[int, float]], str | None, bool]:
    """:func:`measure_steps` after each of ``depths`` prompt tokens per sequence, all in one child with the
    repetitions interleaved: ({depth: {N: median step}}, error, interrupted)."""
    got, error, stop = measure_samples_at(path, threads, reps, timeout_s, depths)
    return {d: {n: statistics.median(xs) for n, xs in per_n.items()} for d, per_n in got.items()}, error, stop


def measure_samples_at(
    path: Path, threads: int, reps: int, timeout_s: float | None, depths: tuple[int, ...]
) -> tuple[dict[int, dict[int, list[float]]], str | None, bool]:
    """One child decoding ``path`` at every N of KERNEL_NPL after each of ``depths`` prompt tokens, ``reps`` times
    interleaved (:func:`_job`): ({depth: {N: [seconds per step, one per repetition]}} for the N whose every
    repetition ran, error, interrupted)."""
    from hwbench.bench import isolation

    samples: dict[str, list[int]] = {}

    def on_event(ev: dict[str, Any]) -> None:
        if ev.get("event") == "sample" and not ev.get("warmup"):
            samples.setdefault(str(ev["test"]), []).append(int(ev["ns"]))

    outcome = isolation.run_child(_job(path, threads, reps, depths), timeout_s=timeout_s, on_event=on_event)
    out: dict[int, dict[int, list[float]]] = {}
    for d in depths:
        for n in KERNEL_NPL:
            s = samples.get(_test_name(n, d)) or []
            if len(s) == reps:
                out.setdefault(d, {})[n] = [x / 1e9 / KERNEL_GEN for x in s]
    return out, outcome.error, bool(outcome.interrupted)


def attention_spec(head_dim: int, shape: dict[str, Any] | None = None) -> ModelSpec:
    """The attention probe of head size ``head_dim`` (ATTN_SHAPES), or of ``shape`` (tests)."""
    return _shape_spec(shape or ATTN_SHAPES[head_dim], f"hwbench-attention-probe-{head_dim}")


def attention_seconds(spec: ModelSpec, steps: dict[int, dict[int, float]], deep: int, shallow: int = KERNEL_DEPTH) -> float | None:
    """Seconds per (sequence, query head, layer, context position) from one attention probe's steps after ``shallow``
    and ``deep`` prompt tokens: per N, the step's growth / (N x heads x layers x (deep - shallow)); the median over
    N (one spoiled N does not move it). None where nothing was measured or the growth is not positive (noise)."""
    per_n = [
        (steps[deep][n] - steps[shallow][n]) / (n * spec.n_head * spec.n_layer * (deep - shallow))
        for n in KERNEL_NPL
        if n in steps.get(deep, {}) and n in steps.get(shallow, {})
    ]
    if not per_n:
        return None
    a = statistics.median(per_n)
    return a if a > 0 else None


def types_to_measure(tensors: list[TensorSpec] | None) -> list[str]:
    """KERNEL_TYPES and the benchmarked model's own matmul weight types (the synthetic writer's known ones)."""
    from hwbench.quant import GGML_TYPES

    extra = sorted({t for t in matmul_elements(tensors or [])} - set(KERNEL_TYPES) - {"F32"})
    return list(KERNEL_TYPES) + [t for t in extra if t in GGML_TYPES]
