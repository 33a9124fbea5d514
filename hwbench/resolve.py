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
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hwbench.arch import TensorSpec, count_params
from hwbench.errors import BadInput
from hwbench.profiles import get_model, load_models
from hwbench.quant import FILE_TYPES, Quant, parse_quant
from hwbench.schema import ModelSpec
from hwbench.units import fmt_params, parse_count, parse_params

if TYPE_CHECKING:
    from hwbench.gguf_header import GgufInfo

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


def _from_gguf_info(info: GgufInfo, quant: str | None, gguf_path: str | None, source: str = "gguf") -> ResolvedModel:
    from hwbench.gguf_header import model_from_gguf

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
    return ResolvedModel(spec, q, source, tensors=info.tensors, gguf_path=gguf_path)


def _resolve_gguf(gguf: str, quant: str | None) -> ResolvedModel:
    if gguf.startswith(("http://", "https://", "hf://")):
        return _resolve_remote_gguf(gguf, quant)
    from pathlib import Path

    from hwbench.gguf_header import read_gguf_any

    if Path(gguf).is_dir():
        raise BadInput(f"--gguf {gguf!r} is a directory; give a .gguf file (or its first -00001-of-N shard)")
    return _from_gguf_info(read_gguf_any(gguf), quant, str(gguf))


def _quant_name(quant: str | None) -> str | None:
    if not quant:
        return None
    q = parse_quant(quant)
    return q.name if q.is_gguf else None


REMOTE_NOTE = "the GGUF file was not downloaded: `bench` measures a synthetic model of its shape"


def _resolve_remote_gguf(url: str, quant: str | None) -> ResolvedModel:
    """A GGUF over HTTP(S) or on the Hub (hf://, a Hub URL): its header only, read with range requests."""
    from hwbench.models import hub

    if url.startswith("hf://") or urlsplit(url).netloc in hub._hub_hosts():
        ref = hub.parse_ref(url)
        if ref.filename is None:
            raise BadInput(f"--gguf {url}: names a repo, not a GGUF file; use --model {ref.label} (with --quant to pick its file)")
        answer = hub.fetch(ref, _quant_name(quant))
        assert answer.gguf is not None
        r = _from_gguf_info(answer.gguf, quant, None, answer.source)
        r.notes += [*answer.notes, REMOTE_NOTE]
        return r
    from hwbench.models.remote_gguf import FetchStats, read_remote_gguf

    stats = FetchStats()
    info = read_remote_gguf(url, None, stats)
    r = _from_gguf_info(info, quant, None, f"GGUF header of {info.path}")
    r.notes += [
        f"GGUF header read over HTTP: {stats.bytes_fetched:,} bytes in {stats.requests} range request(s) of a {info.file_size:,}-byte model",
        REMOTE_NOTE,
    ]
    return r


def _catalog_entry_for(repo_id: str, extra_dir: str | None) -> ModelSpec | None:
    """The bundled entry whose source is this repo's config.json (so an offline machine still knows the model)."""
    key = repo_id.lower()
    for m in load_models(extra_dir).values():
        if m.source and m.source.split()[0].lower() == key:
            return m
    return None


def _resolve_hub(text: str, quant: str | None, extra_dir: str | None) -> ResolvedModel:
    from hwbench.models import hub

    ref = hub.parse_ref(text)
    if ref.filename is not None:
        return _resolve_remote_gguf(f"hf://{ref.label}/{ref.filename}", quant)
    try:
        answer = hub.fetch(ref, _quant_name(quant))
    except hub.HubUnavailable as e:
        known = _catalog_entry_for(ref.repo_id, extra_dir) if ref.revision is None else None
        if known is None:
            raise
        q = parse_quant(quant if quant is not None else DEFAULT_QUANT)
        return ResolvedModel(known, q, "profile", notes=[f"{e}; using the bundled entry {known.name} ({known.source})"])
    if answer.gguf is not None:
        r = _from_gguf_info(answer.gguf, quant, None, answer.source)
        r.notes += [*answer.notes, REMOTE_NOTE]
        return r
    from hwbench.models.hf_config import spec_from_config

    assert answer.config is not None
    spec = spec_from_config(answer.config, name=ref.label, source=answer.source)
    q = parse_quant(quant if quant is not None else DEFAULT_QUANT)
    return ResolvedModel(spec, q, answer.source, notes=[*answer.notes, f"shape read from {answer.source}"])


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
    """The model the user named: exactly one of ``model``, ``params`` (a size) or ``gguf`` (a file).

    ``model``: a bundled profile name, else a Hugging Face repo id (``org/name[@rev]``) or Hub URL, read
    through :mod:`hwbench.models.hub` (config.json, or the GGUF header of a GGUF repo's file chosen by
    ``quant``). ``gguf``: a local path, an http(s) URL or ``hf://org/name/file.gguf`` (header by byte ranges).

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
        if model.strip().lower() not in load_models(extra_dir) and _looks_remote(model):
            return _resolve_hub(model, quant, extra_dir)
        return ResolvedModel(get_model(model, extra_dir), q, "profile")
    assert params is not None
    return _resolve_params(params, active_params, q, extra_dir)


def _looks_remote(text: str) -> bool:
    """A Hub repo id (org/name[@rev]) or an address: bundled profile names have no '/'."""
    t = text.strip()
    return "/" in t or t.startswith(("https://", "http://", "hf://"))


def resolve_named(text: str, *, quant: str | None = None, extra_dir: str | None = None) -> ResolvedModel:
    """A model named in one word, as in ``report --models``: a known profile name, else a size (``--params`` syntax)."""
    key = text.strip().lower()
    if key in load_models(extra_dir) or _looks_remote(key):
        return resolve_model(model=text.strip(), quant=quant, extra_dir=extra_dir)
    return resolve_model(params=key, quant=quant, extra_dir=extra_dir)
