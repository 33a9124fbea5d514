"""The estimator as the benchmark uses it: the settings of a test, a prediction, a memory refusal.

A failing estimator never stops a measurement: :func:`estimate` returns None then (bad input
still raises, as everywhere).
"""

from __future__ import annotations

from typing import Any

from hwbench.arch import TensorSpec
from hwbench.errors import BadInput
from hwbench.quant import Quant
from hwbench.schema import EstimateSettings, FitEstimate, HardwareTarget, ModelSpec

DEFAULT_SLICE_LAYERS = 4  # layers of a slice chosen automatically when the whole model does not fit


def _fa_on(fa: str) -> bool:
    return fa.lower() not in ("off", "0", "false")


def settings_for(context: int, inst: Any) -> EstimateSettings:
    """The estimator's settings for a llama.cpp test instance at ``context`` tokens."""
    return EstimateSettings(
        context=max(1, context),
        kv_type=inst.type_k,
        flash_attn=_fa_on(inst.flash_attn),
        batch=inst.n_batch,
        ubatch=inst.n_ubatch,
        gpu_layers=inst.n_gpu_layers if inst.n_gpu_layers < 999 else None,
    )


def estimate(
    spec: ModelSpec, quant: Quant, settings: EstimateSettings, hw: HardwareTarget, tensors: list[TensorSpec]
) -> FitEstimate | None:
    """The fit and speed estimate for exactly ``tensors`` (no follow-up questions), or None if it failed."""
    from hwbench.estimate import estimate_fit

    try:
        return estimate_fit(spec, quant, settings, hw, tensors=tensors, follow_ups=False)
    except BadInput:
        raise
    except Exception:  # noqa: BLE001 - a failing estimator must not stop a measurement
        return None


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def memory_refusal(est: FitEstimate) -> str:
    """Why a model does not fit, in one line with the memory breakdown."""
    m = est.memory
    cap = sum(d.capacity_bytes for d in m.per_device) or est.hardware.ram_bytes
    return (
        f"{est.model.name} at {est.model.quant} needs about {_gib(m.total_bytes)} "
        f"(weights {_gib(m.weights_bytes)}, KV cache {_gib(m.kv_cache_bytes)}, compute {_gib(m.compute_bytes)}, "
        f"overhead {_gib(m.overhead_bytes + m.output_bytes)}) but this machine has {_gib(cap)} usable"
    )


def auto_slice_layers(spec: ModelSpec, quant: Quant, inst: Any, ctx: int, hw: HardwareTarget) -> int | None:
    """The largest slice (DEFAULT_SLICE_LAYERS, 2 or 1 layers) the estimator says fits, or None."""
    from hwbench.bench import synth

    for k in (DEFAULT_SLICE_LAYERS, 2, 1):
        if k >= spec.n_layer:
            continue
        sspec, stensors = synth.synth_tensors(spec, quant.name, k)
        e = estimate(sspec, quant, settings_for(ctx, inst), hw, stensors)
        if e is None or e.verdict != "none":
            return k
    return None
