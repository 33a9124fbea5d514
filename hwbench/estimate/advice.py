"""When a fit is tight, say so and say what gives room, with the estimator's own numbers.

Pure: takes a :class:`FitEstimate` and what it was computed from, re-runs :func:`estimate_fit`
for each change a careful person would try (a smaller quant, a shorter context, a q8_0 KV cache,
one layer fewer on the GPU), and returns how much headroom each change gains in the tightest
memory pool. The layer split is kept as it is, so the numbers compare like with like.
"""

from __future__ import annotations

from hwbench import assumptions as A
from hwbench.arch import TensorSpec
from hwbench.estimate.fit import QUANT_LADDER, estimate_fit
from hwbench.estimate.memory import GiB
from hwbench.quant import FILE_TYPES, Quant
from hwbench.schema import EstimateSettings, FitEstimate, FitSuggestion, ModelSpec, TightFit
from hwbench.units import fmt_bytes

MIN_CONTEXT_SUGGESTED = 512  # a shorter context than this is no longer a useful suggestion
_FLOAT_KV = ("f16", "f32", "bf16")


def margin_bytes() -> int:
    """The headroom a fit should leave (assumed, see hwbench/assumptions.py)."""
    return int(A.value("tight_fit_margin_gib") * GiB)


def _tightest(est: FitEstimate) -> tuple[int, str]:
    """Index and name of the memory pool with the least headroom."""
    devs = est.memory.per_device
    i = min(range(len(devs)), key=lambda k: devs[k].capacity_bytes - devs[k].total_bytes)
    return i, devs[i].device


def _reason(pool: str, headroom: int, margin: int) -> str:
    if pool == "RAM":
        why = "other programs and the page cache need RAM too; with less to spare the system swaps or kills the process"
    else:
        why = (
            "a GPU that also drives a display holds VRAM for the desktop and browser, some drivers reserve more, "
            "and the allocator fragments: none of that is in the estimate"
        )
    return f"{fmt_bytes(headroom)} left in {pool} is less than the {fmt_bytes(margin)} margin (assumed): {why}"


def _smaller_quant(quant: Quant) -> str | None:
    """The next rung below ``quant`` on the quant ladder (GGUF only)."""
    if quant.file_type is None:
        return None
    if quant.name in QUANT_LADDER:
        i = QUANT_LADDER.index(quant.name)
        return QUANT_LADDER[i + 1] if i + 1 < len(QUANT_LADDER) else None
    bpw = quant.file_type.nominal_bpw
    return next((q for q in QUANT_LADDER if FILE_TYPES[q].nominal_bpw < bpw), None)


def tight_fit_advice(
    est: FitEstimate,
    model: ModelSpec,
    quant: Quant,
    *,
    tensors: list[TensorSpec] | None = None,
    size_factor: float = 1.0,
    margin: int | None = None,
) -> TightFit | None:
    """A :class:`TightFit` when ``est`` fits with less headroom than the margin, else None.

    ``model``, ``quant``, ``tensors`` and ``size_factor`` are what ``est`` was computed from
    (``tensors``: a GGUF file's own, used for the same quant only). Each suggestion is kept only
    when it gains headroom.
    """
    margin = margin_bytes() if margin is None else margin
    if est.verdict == "none" or est.headroom_bytes >= margin or not est.memory.per_device:
        return None
    s = est.settings
    pinned = s.model_copy(update={"gpu_layers": est.gpu_layers})  # the same layer split as the verdict
    pool_i, pool = _tightest(est)
    before = est.memory.per_device[pool_i].capacity_bytes - est.memory.per_device[pool_i].total_bytes

    def headroom(q: Quant, settings: EstimateSettings) -> int | None:
        same = q.name == quant.name
        alt = estimate_fit(
            model, q, settings, est.hardware, tensors=tensors if same else None, size_factor=size_factor, follow_ups=False
        )
        if alt.verdict == "none":
            return None
        d = alt.memory.per_device[pool_i]
        return d.capacity_bytes - d.total_bytes

    changes: list[tuple[str, Quant, EstimateSettings]] = []
    smaller = _smaller_quant(quant)
    if smaller is not None:
        changes.append((f"--quant {smaller}", Quant(smaller, FILE_TYPES[smaller], None), pinned))
    if s.context // 2 >= MIN_CONTEXT_SUGGESTED:
        shorter = s.context // 2
        changes.append((f"--context {shorter}", quant, pinned.model_copy(update={"context": shorter})))
    if s.kv_type.lower() in _FLOAT_KV:
        flag = "--kv-type q8_0" if s.flash_attn else "--flash-attn on --kv-type q8_0"
        changes.append((flag, quant, pinned.model_copy(update={"kv_type": "q8_0", "flash_attn": True})))
    if est.verdict == "partial" and est.gpu_layers > 1 and pool != "RAM":
        fewer = est.gpu_layers - 1
        changes.append((f"--gpu-layers {fewer}", quant, pinned.model_copy(update={"gpu_layers": fewer})))

    suggestions: list[FitSuggestion] = []
    for change, q, settings in changes:
        after = headroom(q, settings)
        if after is not None and after > before:
            suggestions.append(FitSuggestion.model_construct(change=change, frees_bytes=after - before, headroom_bytes=after))
    return TightFit.model_construct(margin_bytes=margin, pool=pool, reason=_reason(pool, before, margin), suggestions=suggestions)
