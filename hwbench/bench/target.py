"""What `hwbench bench` measures: the user's GGUF file, or a synthetic model of a resolved shape.

The model is resolved by :func:`hwbench.resolve.resolve_model`, the resolver `check` uses, so
``bench --params 32b`` writes exactly the shape ``check --params 32b`` estimates. Two inputs are
bench's own: no model at all (the small built-in shape) and ``BenchOptions.spec`` (a caller's exact
shape, for tests and scripts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hwbench.arch import TensorSpec, count_params, model_tensors
from hwbench.bench.options import BenchOptions, default_model_spec
from hwbench.errors import BadInput
from hwbench.quant import Quant, parse_quant
from hwbench.resolve import DEFAULT_QUANT, ResolvedModel, resolve_model
from hwbench.schema import ModelSpec
from hwbench.units import fmt_params


@dataclass
class Target:
    spec: ModelSpec  # the model measured: for a synthetic file, params = what the file holds
    quant: Quant
    tensors: list[TensorSpec]
    gguf: Path | None  # None: synthetic
    source: str
    notes: list[str] = field(default_factory=list)
    resolved: ResolvedModel | None = None  # what the shared resolver answered (None: default model or opts.spec)


def resolve_for_bench(opts: BenchOptions) -> ResolvedModel | None:
    """The shared resolver's answer for ``opts`` (--gguf / --model / --params), or None if none was given."""
    if not (opts.gguf or opts.model or opts.params):
        return None
    return resolve_model(
        model=opts.model,
        params=opts.params,
        gguf=str(opts.gguf) if opts.gguf is not None else None,
        quant=opts.quant,
        extra_dir=opts.profiles_dir,
    )


def _synthetic_quant(opts: BenchOptions, resolved: ResolvedModel | None) -> Quant:
    quant = resolved.quant if resolved is not None else parse_quant(opts.quant or DEFAULT_QUANT)
    if not quant.is_gguf:
        raise BadInput(f"--quant {opts.quant}: llama.cpp benchmarks need a GGUF type (e.g. Q4_K_M, Q8_0, F16)")
    return quant


def resolve_target(opts: BenchOptions) -> Target:
    resolved = resolve_for_bench(opts)
    if resolved is not None and resolved.gguf_path is not None:
        assert resolved.tensors is not None
        p = Path(resolved.gguf_path)
        return Target(resolved.spec, resolved.quant, list(resolved.tensors), p, f"gguf file {p}", resolved=resolved)
    quant = _synthetic_quant(opts, resolved)
    notes: list[str] = []
    if resolved is not None:
        spec = resolved.spec
        notes += resolved.notes
        source = f"synthetic {resolved.source}" if resolved.source != "profile" else f"synthetic {spec.name}"
        written = count_params(spec)
        if resolved.size_factor != 1.0:
            # whole layers of a borrowed shape: the file holds about, not exactly, the size asked for
            spec = spec.model_copy(update={"params": written})
            if abs(resolved.size_factor - 1.0) > 0.01:
                notes.append(f"--params {opts.params}: the synthetic model has {fmt_params(written)} parameters in whole layers of that shape")
    elif opts.spec is not None:
        spec = opts.spec
        source = f"synthetic {spec.name}"
    else:
        spec = default_model_spec()
        source = "synthetic built-in small model"
    return Target(spec, quant, model_tensors(spec, quant.name), None, source, notes, resolved)
