"""Resolve what the user named (--model / --params / --gguf, --quant) into a model to estimate.

Shared by check, bench, report and recommend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hwbench.arch import TensorSpec, count_params
from hwbench.errors import BadInput
from hwbench.profiles import get_model, load_models
from hwbench.quant import FILE_TYPES, Quant, parse_quant
from hwbench.schema import ModelSpec
from hwbench.units import fmt_params, parse_count, parse_params


@dataclass
class ResolvedModel:
    spec: ModelSpec
    quant: Quant
    source: str  # "profile", "gguf", "reference shape of X"
    tensors: list[TensorSpec] | None = None  # exact tensors (GGUF) or None = derive from spec
    size_factor: float = 1.0  # a bare --params scales a reference shape's tensor sizes
    gguf_path: str | None = None


def reference_for(params: int, extra_dir: str | None = None) -> ModelSpec:
    """The known dense model whose size is closest (in ratio) to ``params``."""
    dense = [m for m in load_models(extra_dir).values() if not m.is_moe and m.arch in ("llama", "qwen2")]
    return min(dense, key=lambda m: (abs(math.log(m.params / params)), "distill" in m.name, m.name))


def moe_from_reference(n_expert: int, per_expert_params: int, n_used: int, extra_dir: str | None) -> ModelSpec:
    """An N x M MoE: the attention of an M-sized dense model and N copies of its FFN (Mixtral-style)."""
    ref = reference_for(per_expert_params, extra_dir)
    spec = ref.model_copy(
        update={
            "name": f"{n_expert}x{fmt_params(per_expert_params)} MoE (shape of {ref.name})",
            "n_expert": n_expert,
            "n_expert_used": n_used,
            "n_ff_exp": ref.n_ff,
            "assumed_from": ref.name,
            "source": f"reference shape of {ref.name}",
        }
    )
    spec = spec.model_copy(update={"params": count_params(spec)})
    return spec


def resolve_model(
    *,
    model: str | None = None,
    params: str | None = None,
    active_params: str | None = None,
    gguf: str | None = None,
    quant: str | None = None,
    extra_dir: str | None = None,
) -> ResolvedModel:
    given = [x for x in (model, params, gguf) if x]
    if len(given) > 1:
        raise BadInput("give only one of --model, --params and --gguf")
    if not given:
        raise BadInput("say which model: --params 32b, --model llama-3.1-8b or --gguf FILE")
    if gguf:
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
    q = parse_quant(quant if quant is not None else "Q4_K_M")
    if model:
        spec = get_model(model, extra_dir)
        return ResolvedModel(spec, q, "profile")
    assert params is not None
    total, n_expert, per = parse_params(params)
    if n_expert:
        assert per is not None
        n_used = 2
        per_b = per / 1e9
        per_txt = f"{per_b:g}b"
        known = load_models(extra_dir).get(f"mixtral-{n_expert}x{per_txt}")
        if known is not None and active_params:
            act = parse_count(active_params, "--active-params")
            if act > known.params:
                raise BadInput(f"--active-params {active_params} is larger than the whole model ({fmt_params(known.params)} for --params {params})")
            known = known.model_copy(update={"active_params": act})
        if known is not None:
            return ResolvedModel(known, q, "profile")
        spec = moe_from_reference(n_expert, per, n_used, extra_dir)
        if active_params:
            act = parse_count(active_params, "--active-params")
            if act > spec.params:
                raise BadInput(f"--active-params {active_params} is larger than the whole model ({fmt_params(spec.params)} for --params {params})")
            spec = spec.model_copy(update={"active_params": act})
        return ResolvedModel(spec, q, spec.source or "reference shape")
    ref = reference_for(total, extra_dir)
    update: dict[str, object] = {
        "name": f"{fmt_params(total)} model (shape of {ref.name})",
        "params": total,
        "assumed_from": ref.name,
        "source": f"reference shape of {ref.name}",
    }
    if active_params:
        act = parse_count(active_params, "--active-params")
        if act > total:
            raise BadInput(f"--active-params {active_params} is larger than --params {params}")
        update["active_params"] = act
    spec = ref.model_copy(update=update)
    return ResolvedModel(spec, q, f"reference shape of {ref.name}", size_factor=total / ref.params)
