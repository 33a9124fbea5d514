"""Options of a benchmark run (what the CLI parsed), with llama-bench-like defaults."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hwbench.errors import BadInput
from hwbench.schema import ModelSpec

# The model `hwbench bench` measures when given none: a llama-shaped ~0.85B model (Q4_K_M, ~0.5 GB)
# big enough to be memory-bound in generation, small enough that pp512/tg128 x5 take about a
# minute on 2 cores.
DEFAULT_MODEL = "hwbench-small"


def default_model_spec() -> ModelSpec:
    """The synthetic model `hwbench bench` measures when given no model (about 0.85B, llama-shaped, 32k vocab)."""
    from hwbench.arch import count_params

    spec = ModelSpec(
        name=DEFAULT_MODEL,
        arch="llama",
        params=0,
        n_layer=16,
        n_embd=2048,
        n_head=32,
        n_head_kv=8,
        n_ff=5632,
        vocab=32000,
        context_length=8192,
        source="hwbench built-in small benchmark shape",
    )
    return spec.model_copy(update={"params": count_params(spec)})


def default_threads() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:
        n = os.cpu_count() or 1
    return max(1, n)


def parse_int_list(text: str | int | None, what: str, minimum: int = 0) -> list[int]:
    """'1,2,4' -> [1, 2, 4] (llama-bench style sweeps)."""
    if text is None:
        return []
    if isinstance(text, int):
        vals = [text]
    else:
        vals = []
        for part in str(text).split(","):
            part = part.strip()
            if not part:
                continue
            try:
                vals.append(int(part))
            except ValueError:
                raise BadInput(f"{what} {text!r}: {part!r} is not a whole number (use e.g. 1,2,4)") from None
    for v in vals:
        if v < minimum:
            raise BadInput(f"{what} {text!r}: values must be at least {minimum}")
    if not vals:
        raise BadInput(f"{what} is empty")
    return vals


def parse_str_list(text: str | None, what: str, allowed: tuple[str, ...]) -> list[str]:
    if text is None:
        return []
    vals = [p.strip().lower() for p in str(text).split(",") if p.strip()]
    for v in vals:
        for part in v.split("/"):
            if part not in allowed:
                raise BadInput(f"{what} {v!r} unknown; accepted: {', '.join(allowed)}")
    if not vals:
        raise BadInput(f"{what} is empty")
    return vals


@dataclass
class BenchOptions:
    gguf: Path | str | None = None  # a local file, or a URL / hf:// address (its header: a synthetic model of that shape)
    model: str | None = None
    params: str | None = None
    quant: str | None = None  # None: the GGUF file's own type, or resolve.DEFAULT_QUANT
    profiles_dir: str | None = None  # the user's own profile files (models for --model, GPUs for this machine)
    spec: ModelSpec | None = None  # programmatic: benchmark a synthetic model of this exact shape
    layers: int | None = None  # slice mode: K layers of the model, extrapolated
    force: bool = False
    threads: list[int] = field(default_factory=lambda: [default_threads()])
    reps: int = 5
    n_prompt: list[int] = field(default_factory=lambda: [512])
    n_gen: list[int] = field(default_factory=lambda: [128])
    depth: list[int] = field(default_factory=lambda: [0])
    parallel: list[int] = field(default_factory=list)  # --parallel: tg{n}@np{N} tests, N sequences decoded together
    gpu_layers: list[int] = field(default_factory=lambda: [99])
    batch: list[int] = field(default_factory=lambda: [2048])
    ubatch: list[int] = field(default_factory=lambda: [512])
    flash_attn: list[str] = field(default_factory=lambda: ["auto"])
    kv_type: list[str] = field(default_factory=lambda: ["f16"])
    micro: bool = False
    out: Path | None = None
    timeout_s: float | None = 1800.0  # per child process
    warmup: bool = True
    save_calibration: bool = True
    # --kernels / --no-kernels: measure this machine's llama.cpp CPU decode kernels per weight type (bench/kernels.py).
    # None (auto): on a CPU-only machine when the calibration has none for these threads and this llama-cpp-python
    # (so once per machine), unless HWBENCH_KERNELS=0 (the test suite sets it)
    kernels: bool | None = None
    llamacpp: bool = True  # run the llama.cpp tests (False: --micro only)
    torch_decode: bool = True  # with --micro: the PyTorch decode benchmark too
    progress: Callable[[str], None] | None = None  # one-line progress messages (stderr)
    write_progress: Callable[[int, int], None] | None = None  # synthetic file writing (bytes done, total)
    cache_dir: Path | None = None
    debug: dict[str, object] = field(default_factory=dict)  # test hooks passed to child jobs
    record_path: Path | None = None  # set by run_bench: where the record was written

    def validate(self) -> None:
        given = [x for x in (self.gguf, self.model, self.params, self.spec) if x]
        if len(given) > 1:
            raise BadInput("give only one of --gguf, --model, --params")
        if self.reps < 1:
            raise BadInput(f"--reps {self.reps} must be at least 1")
        if self.layers is not None and self.layers < 1:
            raise BadInput(f"--layers {self.layers} must be at least 1")
        remote = isinstance(self.gguf, str) and self.gguf.startswith(("http://", "https://", "hf://"))
        if self.gguf is not None and self.layers is not None and not remote:
            raise BadInput("--layers works on synthetic models only (--model / --params), not on --gguf")
        if any(t < 1 for t in self.threads):
            raise BadInput("--threads values must be at least 1")
        if self.timeout_s is not None and not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            raise BadInput(f"--timeout {self.timeout_s} must be a positive number of seconds")
        if self.gguf is not None and not remote and Path(self.gguf).is_dir():
            raise BadInput(f"--gguf {str(self.gguf)!r} is a directory; give a .gguf file")
        if self.gguf is not None and not remote and not Path(self.gguf).is_file():
            raise BadInput(f"--gguf {str(self.gguf)!r}: no such file")
