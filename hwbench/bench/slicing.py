"""Slice extrapolation: time measured on K of a model's N layers, scaled to the full depth.

A repetition's time is split into a per-layer part and a non-layer part (the output matrix and
its norm; the token embedding is a row lookup) in proportion to the work each does: weight bytes
read for generation, matmul elements for prompt processing (experts counted at their used share).
The per-layer part is then scaled from the slice's layers to the full model's:

    t_full = t_slice * (other + layers_full) / (other + layers_slice)
"""

from __future__ import annotations

from hwbench.arch import TensorSpec
from hwbench.schema import BenchResult, ModelSpec


def _work(tensors: list[TensorSpec], spec: ModelSpec, by: str) -> tuple[float, float]:
    layer = other = 0.0
    moe = (spec.n_expert_used / spec.n_expert) if spec.is_moe else 1.0
    for t in tensors:
        if t.name == "token_embd.weight" and not spec.tied_embeddings:
            continue  # a row lookup per token
        w = float(t.n_bytes if by == "bytes" else t.n_elements)
        if t.is_expert:
            w *= moe
        if t.layer is None:
            other += w
        else:
            layer += w
    return layer, other


def extrapolation_factors(
    full: list[TensorSpec],
    sliced: list[TensorSpec],
    spec: ModelSpec,
    *,
    bandwidth_gbps: float | None = None,
    layer_overhead_s: float = 20e-6,
    token_overhead_s: float = 0.2e-3,
) -> dict[str, float]:
    """Multipliers from slice time to full-model time: 'tg' (by bytes) and 'pp' (by matmul elements).

    With ``bandwidth_gbps``, generation work also counts the fixed per-layer and per-token costs of
    the estimator's CPU model (they dominate small models), each layer's bytes as time at that
    bandwidth.
    """
    out = {}
    n_full = len({t.layer for t in full if t.layer is not None})
    n_slice = len({t.layer for t in sliced if t.layer is not None})
    for key, by in (("tg", "bytes"), ("pp", "elements")):
        lf, of = _work(full, spec, by)
        ls, os_ = _work(sliced, spec, by)
        if key == "tg" and bandwidth_gbps:
            bps = bandwidth_gbps * 1e9
            lf, ls = lf / bps + n_full * layer_overhead_s, ls / bps + n_slice * layer_overhead_s
            of = os_ = of / bps + token_overhead_s
        out[key] = (of + lf) / (os_ + ls) if (os_ + ls) > 0 else 1.0
    return out


def extrapolate(r: BenchResult, factor: float, k: int, n: int) -> BenchResult:
    """The full-depth result from a slice result; raw slice samples are kept in settings."""
    samples = [int(round(ns * factor)) for ns in r.samples_ns]
    n_tokens = (r.n_prompt + r.n_gen) * int(r.settings.get("n_parallel") or 1)  # tg@npN: all N sequences' tokens
    ts = [n_tokens * 1e9 / ns for ns in samples if ns > 0]
    mean = sum(ts) / len(ts) if ts else None
    sd = None
    if len(ts) > 1 and mean is not None:
        sd = (sum((x - mean) ** 2 for x in ts) / (len(ts) - 1)) ** 0.5
    elif ts:
        sd = 0.0
    settings = dict(r.settings)
    settings.update(
        slice_samples_ns=list(r.samples_ns),
        slice_tokens_per_s=r.tokens_per_s,
        extrapolation_factor=round(factor, 6),
        extrapolation=f"extrapolated from {k} of {n} layers",
    )
    return r.model_copy(
        update={
            "samples_ns": samples,
            "tokens_per_s": round(mean, 3) if mean is not None else None,
            "stddev_tokens_per_s": round(sd, 3) if sd is not None else None,
            "extrapolated_from_layers": k,
            "total_layers": n,
            "settings": settings,
        }
    )
