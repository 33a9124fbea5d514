"""Resolve what the user named (--model / --params / --gguf, --quant) into a model to estimate or measure.

The one resolver: `check`, `bench`, `report` and `recommend` all call :func:`resolve_model`, so the
same words name the same model everywhere (`bench` writes a synthetic GGUF of exactly the shape that
`check` estimates). New sources of a model (a Hub id, a GGUF URL) belong here, behind the same call.

A bare ``--params N`` borrows the closest known dense shape (llama/qwen2) and sets its depth (layer
count) so the shape has about N parameters; the small remainder left by rounding to whole layers is
carried as :attr:`ResolvedModel.size_factor`, which the estimator applies to the tensor sizes.
An ``N x M`` MoE with no profile of its own is Mixtral-style: the attention of an M-sized dense
llama-shaped model and N copies of its FFN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hwbench.arch import TensorSpec, count_params
from hwbench.errors import BadInput
from hwbench.profiles import get_model, load_models
from hwbench.quant import FILE_TYPES, Quant, parse_quant
from hwbench.schema import ModelSpec
from hwbench.units import fmt_params, parse_count, parse_params

# llama.cpp refuses a model with more layers than this (src/llama-hparams.h, LLAMA_MAX_LAYERS),
# so a shape scaled by depth stops there; the rest of the size goes into ``size_factor``.
MAX_LAYERS = 512

DENSE_REFERENCE_ARCHS = ("llama", "qwen2")  # shapes a bare --params may borrow
MOE_REFERENCE_ARCHS = ("llama",)  # Mixtral is a llama-architecture MoE; llama.cpp loads experts there
DEFAULT_QUANT = "Q4_K_M"  # when --quant is not given (and no GGUF file says otherwise)
MOE_EXPERTS_USED = 2  # experts per token of an N x M MoE with no profile (Mixtral's top-2 routing)


@dataclass
class ResolvedModel:
    spec: ModelSpec
    quant: Quant
    source: str  # "profile", "gguf", "reference shape of X"
    tensors: list[TensorSpec] | None = None  # exact tensors (GGUF) or None = derive from spec
    size_factor: float = 1.0  # weights of the shape x this = spec.params (a bare --params; ~1 after depth scaling)
    gguf_path: str | None = None
    notes: list[str] = field(default_factory=list)  # what was assumed, for the user to read


def reference_for(params: int, extra_dir: str | None = None, archs: tuple[str, ...] = DENSE_REFERENCE_ARCHS) -> ModelSpec:
    """The known dense model whose size is closest (in ratio) to ``params``."""
    dense = [m for m in load_models(extra_dir).values() if not m.is_moe and m.arch in archs]
    if not dense:
        raise BadInput(f"no dense {'/'.join(archs)} model in the profiles to borrow a shape from; use --model or --gguf")
    return min(dense, key=lambda m: (abs(math.log(m.params / params)), "distill" in m.name, m.name))


def depth_for(shape: ModelSpec, params: int) -> int:
    """The layer count (1..MAX_LAYERS) that brings ``shape`` closest to ``params`` parameters."""
    one = count_params(shape.model_copy(update={"n_layer": 1}))
    per_layer = count_params(shape.model_copy(update={"n_layer": 2})) - one
    outside = one - per_layer  # embeddings, output, final norm
    return max(1, min(MAX_LAYERS, round((params - outside) / per_layer)))


def scaled_shape(ref: ModelSpec, params: int) -> ModelSpec:
    """``ref`` with its depth set so it has about ``params`` parameters (its width, heads, vocab kept)."""
    return ref.model_copy(update={"n_layer": depth_for(ref, params)})


def _depth_note(ref: ModelSpec, shape: ModelSpec) -> str:
    if shape.n_layer == ref.n_layer:
        return ""
    return f"; depth scaled to {shape.n_layer} layer{'s' if shape.n_layer != 1 else ''} ({ref.name} has {ref.n_layer})"


def moe_from_reference(n_expert: int, per_expert_params: int, n_used: int, extra_dir: str | None) -> tuple[ModelSpec, str]:
    """An N x M MoE: the attention of an M-sized dense llama-shaped model and N copies of its FFN (Mixtral-style).

    Returns the shape and a note saying what was assumed.
    """
    ref = reference_for(per_expert_params, extra_dir, MOE_REFERENCE_ARCHS)
    dense = scaled_shape(ref, per_expert_params)
    spec = dense.model_copy(
        update={
            "name": f"{n_expert}x{fmt_params(per_expert_params)} MoE (shape of {ref.name})",
            "n_expert": n_expert,
            "n_expert_used": n_used,
            "n_ff_exp": dense.n_ff,
            "assumed_from": ref.name,
            "source": f"reference shape of {ref.name}",
        }
    )
    spec = spec.model_copy(update={"params": count_params(spec)})
    note = (
        f"a Mixtral-style MoE ({fmt_params(spec.params)} parameters, "
        f"{n_used} of {n_expert} experts per token): attention and FFN shape assumed from {ref.name}{_depth_note(ref, dense)}"
    )
    return spec, note


def _active(active_params: str | None, whole: int, what: str) -> int | None:
    if not active_params:
        return None
    act = parse_count(active_params, "--active-params")
    if act > whole:
        raise BadInput(f"--active-params {active_params} is larger than {what}")
    return act


def _resolve_gguf(gguf: str, quant: str | None) -> ResolvedModel:
    from hwbench.gguf_header import model_from_gguf, read_gguf

    info = read_gguf(gguf)
    spec = model_from_gguf(info)
    ft = info.file_type
    if quant:
        q = parse_quant(quant)
        if ft and q.name != ft:
            raise BadInput(f"--quant {quant} contradicts the GGUF file, which is {ft}; drop --quant")
    elif ft:
        q = Quant(ft, FILE_TYPES[ft], None)
    else:
        dominant = max({t.type_name for t in info.tensors}, key=lambda n: sum(t.n_bytes for t in info.tensors if t.type_name == n))
        q = Quant(dominant, FILE_TYPES.get(dominant), None) if dominant in FILE_TYPES else parse_quant("F16")
    return ResolvedModel(spec, q, "gguf", tensors=info.tensors, gguf_path=str(gguf))


def _resolve_params(params: str, active_params: str | None, q: Quant, extra_dir: str | None) -> ResolvedModel:
    total, n_expert, per = parse_params(params)
    if n_expert:
        assert per is not None
        known = load_models(extra_dir).get(f"mixtral-{n_expert}x{per / 1e9:g}b")
        if known is not None:
            act = _active(active_params, known.params, f"the whole model ({fmt_params(known.params)} for --params {params})")
            if act is not None:
                known = known.model_copy(update={"active_params": act})
            return ResolvedModel(known, q, "profile")
        spec, note = moe_from_reference(n_expert, per, MOE_EXPERTS_USED, extra_dir)
        act = _active(active_params, spec.params, f"the whole model ({fmt_params(spec.params)} for --params {params})")
        if act is not None:
            spec = spec.model_copy(update={"active_params": act})
        return ResolvedModel(spec, q, spec.source or "reference shape", notes=[f"--params {params}: {note}"])
    ref = reference_for(total, extra_dir)
    shape = scaled_shape(ref, total)
    update: dict[str, object] = {
        "name": f"{fmt_params(total)} model (shape of {ref.name})",
        "params": total,
        "assumed_from": ref.name,
        "source": f"reference shape of {ref.name}",
    }
    act = _active(active_params, total, f"--params {params}")
    if act is not None:
        update["active_params"] = act
    spec = shape.model_copy(update=update)
    note = f"--params alone: layer shape, heads and vocabulary assumed from {ref.name}{_depth_note(ref, shape)}"
    return ResolvedModel(spec, q, f"reference shape of {ref.name}", size_factor=total / count_params(shape), notes=[note])


def resolve_model(
    *,
    model: str | None = None,
    params: str | None = None,
    active_params: str | None = None,
    gguf: str | None = None,
    quant: str | None = None,
    extra_dir: str | None = None,
) -> ResolvedModel:
    """The model the user named: exactly one of ``model`` (a profile name), ``params`` (a size) or ``gguf`` (a file).

    ``quant`` defaults to :data:`DEFAULT_QUANT`, or to the file's own type for a GGUF (which it must not contradict).
    ``extra_dir``: the user's own profile files (``--profiles-dir``).
    """
    given = [x for x in (model, params, gguf) if x]
    if len(given) > 1:
        raise BadInput("give only one of --model, --params and --gguf")
    if not given:
        raise BadInput("say which model: --params 32b, --model llama-3.1-8b or --gguf FILE")
    if gguf:
        return _resolve_gguf(gguf, quant)
    q = parse_quant(quant if quant is not None else DEFAULT_QUANT)
    if model:
        return ResolvedModel(get_model(model, extra_dir), q, "profile")
    assert params is not None
    return _resolve_params(params, active_params, q, extra_dir)


def resolve_named(text: str, *, quant: str | None = None, extra_dir: str | None = None) -> ResolvedModel:
    """A model named in one word, as in ``report --models``: a known profile name, else a size (``--params`` syntax)."""
    key = text.strip().lower()
    if key in load_models(extra_dir):
        return resolve_model(model=key, quant=quant, extra_dir=extra_dir)
    return resolve_model(params=key, quant=quant, extra_dir=extra_dir)
