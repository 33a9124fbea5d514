"""The fit matrix: model sizes x quants -> fully on GPU / partial / CPU / does not fit, with speed and
the longest context that still runs."""

from __future__ import annotations

from pydantic import BaseModel, Field

from hwbench.errors import BadInput
from hwbench.resolve import ResolvedModel, resolve_model, resolve_named
from hwbench.schema import EstimateSettings, HardwareTarget

MATRIX_QUANTS = ["Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "F16"]
# The sizes people ask about, each backed by a real architecture from profiles/models.yaml.
SIZE_MODELS = {
    "1b": "llama-3.2-1b",
    "3b": "llama-3.2-3b",
    "8b": "llama-3.1-8b",
    "14b": "qwen2.5-14b",
    "32b": "qwen2.5-32b",
    "70b": "llama-3.1-70b",
    "405b": "llama-3.1-405b",
    "moe": "deepseek-v3",
}
DEFAULT_MATRIX_MODELS = ["1b", "3b", "8b", "14b", "32b", "70b", "405b", "mixtral-8x7b", "deepseek-v3"]


class MatrixCell(BaseModel):
    quant: str
    verdict: str  # gpu, partial, cpu, none
    gen_tokens_per_s: float | None = None
    prompt_tokens_per_s: float | None = None
    max_context: int | None = None  # longest context that still runs (any mode), multiple of 256
    gpu_layers: int = 0
    total_layers: int = 0
    total_bytes: int = 0


class MatrixRow(BaseModel):
    label: str  # what the user asked for: "70b", "deepseek-v3"
    model: str  # the architecture used
    params: int
    active_params: int
    source: str
    trained_context: int | None = None
    cells: list[MatrixCell] = Field(default_factory=list)


def resolve_size(name: str, extra_dir: str | None = None) -> ResolvedModel:
    key = name.strip().lower()
    if not key:
        raise BadInput("--models: empty model name")
    if key in SIZE_MODELS:
        return resolve_model(model=SIZE_MODELS[key], extra_dir=extra_dir)
    return resolve_named(name.strip(), extra_dir=extra_dir)  # Hub ids keep their case


def _runs(r: ResolvedModel, quant, hw: HardwareTarget, context: int) -> bool:  # type: ignore[no-untyped-def]
    from hwbench.estimate.fit import verdict_only

    settings = EstimateSettings(context=context)
    return verdict_only(r.spec, quant, settings, hw, tensors=r.tensors, size_factor=r.size_factor) != "none"


def longest_context(r: ResolvedModel, quant, hw: HardwareTarget, top: int) -> int | None:  # type: ignore[no-untyped-def]
    """Largest context (multiple of 256, at most ``top``) at which the model still runs on ``hw``
    (the estimator's own search, :func:`hwbench.estimate.fit.max_context`)."""
    from hwbench.estimate.fit import max_context

    return max_context(lambda c: _runs(r, quant, hw, c), top)


def fit_matrix(
    models: list[str],
    hw: HardwareTarget,
    *,
    context: int = 8192,
    quants: list[str] | None = None,
    extra_dir: str | None = None,
) -> list[MatrixRow]:
    from hwbench.estimate import estimate_fit
    from hwbench.quant import parse_quant

    rows: list[MatrixRow] = []
    for name in models:
        r = resolve_size(name, extra_dir)
        top = r.spec.context_length or 131072
        row = MatrixRow(
            label=name,
            model=r.spec.name,
            params=r.spec.params,
            active_params=0,
            source=r.source,
            trained_context=r.spec.context_length,
        )
        for qn in quants or MATRIX_QUANTS:
            q = parse_quant(qn)
            e = estimate_fit(
                r.spec,
                q,
                EstimateSettings(context=context),
                hw,
                tensors=r.tensors,
                size_factor=r.size_factor,
                model_source=r.source,
                follow_ups=False,
            )
            row.active_params = e.model.active_params
            sp = e.speed if e.verdict != "none" else None
            row.cells.append(
                MatrixCell(
                    quant=q.name,
                    verdict=e.verdict,
                    gen_tokens_per_s=sp.generation_tokens_per_s if sp else None,
                    prompt_tokens_per_s=sp.prompt_tokens_per_s if sp else None,
                    max_context=longest_context(r, q, hw, top),
                    gpu_layers=e.gpu_layers,
                    total_layers=e.total_layers,
                    total_bytes=e.memory.total_bytes,
                )
            )
        rows.append(row)
    return rows
