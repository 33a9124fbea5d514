"""Synthetic GGUF files: random weights in exactly a model's tensor shapes and quantization mix.

Nothing is downloaded. The tensor list (names, shapes, per-tensor ggml types) comes from
:func:`hwbench.arch.model_tensors`, i.e. the same mix llama.cpp's quantizer would produce. Weight
bytes are random, but every block's scale fields (the fp16 ``d``/``dmin``, the E8M0 exponent of
MXFP4, the packed scale of IQ1_M) are set to small finite values so llama.cpp computes finite
numbers. Files are streamed to disk: one pattern buffer per ggml type (a few MiB) is generated
once and written repeatedly from random block-aligned offsets, so writing is bound by the disk.

Slice mode writes ``K`` of the model's ``N`` layers (spread evenly over the depth, keeping each
chosen layer's tensor types from the full model's mix) so per-layer time can be measured on a
machine the full model does not fit, then extrapolated to ``N`` layers.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwbench.arch import TensorSpec, model_tensors
from hwbench.errors import BadInput
from hwbench.quant import FILE_TYPES, GGML_TYPES
from hwbench.schema import ModelSpec

SYNTH_VERSION = 1  # bump when the written bytes change (invalidates the cache)
_PATTERN_BYTES = 8 * 2**20  # pattern buffer per type
_ALIGN = 32  # GGUF default alignment

# llama.cpp architecture written for each arch name hwbench knows
_GGUF_ARCH = {"mistral": "llama"}
SYNTH_ARCHS = (
    "llama",
    "llama4",
    "mistral",
    "mistral3",
    "qwen2",
    "qwen3",
    "qwen3moe",
    "gemma2",
    "gemma3",
    "phi3",
    "deepseek2",
    "gpt-oss",
)

# Offsets of the fp16 scale fields inside one block, and a typical magnitude for them chosen so the
# dequantized weights are of order 0.01-0.05 (ggml-common.h block layouts).
_FP16_SCALES: dict[str, tuple[tuple[int, ...], float]] = {
    "Q4_0": ((0,), 3e-3),
    "Q4_1": ((0, 2), 3e-3),
    "Q5_0": ((0,), 1.5e-3),
    "Q5_1": ((0, 2), 1.5e-3),
    "Q8_0": ((0,), 2e-4),
    "Q8_1": ((0, 2), 2e-4),
    "Q2_K": ((80, 82), 5e-4),
    "Q3_K": ((108,), 2e-4),
    "Q4_K": ((0, 2), 3e-5),
    "Q5_K": ((0, 2), 1.5e-5),
    "Q6_K": ((208,), 5e-6),
    "IQ2_XXS": ((0,), 1e-4),
    "IQ2_XS": ((0,), 1e-4),
    "IQ2_S": ((0,), 1e-4),
    "IQ3_XXS": ((0,), 1e-4),
    "IQ3_S": ((0,), 1e-4),
    "IQ1_S": ((0,), 1e-3),
    "IQ4_NL": ((0,), 2e-4),
    "IQ4_XS": ((0,), 2e-4),
    "TQ1_0": ((52,), 2e-2),
    "TQ2_0": ((64,), 2e-2),
}


@dataclass(frozen=True)
class SynthModel:
    path: Path
    spec: ModelSpec  # the spec actually written (n_layer = K in slice mode)
    full_spec: ModelSpec
    file_type: str
    tensors: list[TensorSpec]
    layers_written: int
    total_layers: int
    cached: bool
    write_seconds: float
    file_bytes: int

    @property
    def is_slice(self) -> bool:
        return self.layers_written < self.total_layers


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _f16_scales(rng: np.random.Generator, n: int, mag: float) -> np.ndarray:
    return (rng.uniform(0.5, 1.5, n) * mag).astype(np.float16)


def pattern(type_name: str, seed: int = 0, n_bytes: int = _PATTERN_BYTES) -> np.ndarray:
    """A uint8 buffer of whole valid random blocks of ``type_name`` (scales finite and small)."""
    t = GGML_TYPES[type_name]
    rng = _rng(seed + t.type_id)
    if type_name == "F32":
        return (rng.standard_normal(n_bytes // 4).astype(np.float32) * 0.02).view(np.uint8)
    if type_name == "F16":
        return (rng.standard_normal(n_bytes // 2).astype(np.float16) * np.float16(0.02)).view(np.uint8)
    if type_name == "BF16":
        f = rng.standard_normal(n_bytes // 2).astype(np.float32) * 0.02
        return (f.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8)
    n_blocks = max(1, n_bytes // t.block_bytes)
    buf = rng.integers(0, 256, size=(n_blocks, t.block_bytes), dtype=np.uint8)
    if type_name in _FP16_SCALES:
        offsets, mag = _FP16_SCALES[type_name]
        for off in offsets:
            buf[:, off : off + 2] = _f16_scales(rng, n_blocks, mag).view(np.uint8).reshape(n_blocks, 2)
    elif type_name == "MXFP4":
        buf[:, 0] = rng.integers(117, 121, size=n_blocks, dtype=np.uint8)  # E8M0 exponent: 2^-10..2^-6
    elif type_name == "IQ1_M":
        # the block scale is an fp16 spread over the top nibbles of the 4 u16 scales at offset 48
        sc = buf[:, 48:56].copy().view(np.uint16).reshape(n_blocks, 4)
        d = _f16_scales(rng, n_blocks, 1e-3).view(np.uint16)
        for j in range(4):
            nib = (d >> (4 * j)) & 0xF
            sc[:, j] = (sc[:, j] & 0x0FFF) | (nib << 12).astype(np.uint16)
        buf[:, 48:56] = sc.view(np.uint8).reshape(n_blocks, 8)
    else:
        raise BadInput(f"synthetic weights for ggml type {type_name} are not supported")
    return buf.reshape(-1)


def _norm_data(t: TensorSpec) -> bytes:
    n = t.n_elements
    if t.name.endswith("norm.weight"):
        # gemma stores norm weights as (w - 1); either way 1.0 / 0.0 keeps activations finite
        return np.ones(n, np.float32).tobytes()
    return (np.random.default_rng(n).standard_normal(n).astype(np.float32) * 0.02).tobytes()


def slice_layers(n_layer: int, k: int) -> list[int]:
    """``k`` layer indices spread evenly over ``0..n_layer-1`` (first and last included)."""
    if k >= n_layer:
        return list(range(n_layer))
    if k <= 1:
        return [n_layer // 2]
    return sorted({round(i * (n_layer - 1) / (k - 1)) for i in range(k)})


def synth_tensors(spec: ModelSpec, file_type: str, layers: int | None = None) -> tuple[ModelSpec, list[TensorSpec]]:
    """(spec written, tensors) for the full model or a slice of ``layers`` layers."""
    full = model_tensors(spec, file_type)
    if layers is None or layers >= spec.n_layer:
        return spec, full
    if layers < 1:
        raise BadInput("--layers must be at least 1")
    keep = slice_layers(spec.n_layer, layers)
    renum = {old: new for new, old in enumerate(keep)}
    out: list[TensorSpec] = []
    for t in full:
        if t.layer is None:
            out.append(t)
        elif t.layer in renum:
            new = renum[t.layer]
            name = f"blk.{new}." + t.name.split(".", 2)[2]
            out.append(TensorSpec(name, t.shape, t.type_name, new))
    # keep file order: non-layer head, layers, tail (model_tensors order is already that)
    sliced = spec.model_copy(update={"n_layer": len(keep)})
    return sliced, out


def spec_hash(spec: ModelSpec, file_type: str, layers: int | None) -> str:
    data = spec.model_dump(exclude={"name", "source", "assumed_from"})
    data.update(file_type=file_type, layers=layers, v=SYNTH_VERSION)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _tokenizer(vocab: int, arch: str = "llama") -> tuple[list[str], list[float], list[int]]:
    if vocab < 300:
        raise BadInput(f"vocab {vocab} too small for a synthetic tokenizer (need >= 300)")
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [2, 3, 3] + [6] * 256  # UNKNOWN, CONTROL, CONTROL, BYTE
    if arch == "phi3":
        # llama-vocab.cpp sets per-token attributes of Phi-3's special tokens by name (token_to_id.at):
        # a Phi-3 vocabulary without <|endoftext|> fails to load
        tokens.append("<|endoftext|>")
        types.append(3)
    n_rest = vocab - len(tokens)
    tokens += [f"tok{i}" for i in range(n_rest)]  # all unique: duplicates make llama.cpp abort
    types += [1] * n_rest  # NORMAL
    scores = [0.0] * len(tokens)
    scores[len(types) - n_rest :] = [-float(i) for i in range(n_rest)]
    return tokens, scores, types


def _metadata(w: object, spec: ModelSpec, arch: str, file_type: str, name: str) -> None:
    import gguf

    assert isinstance(w, gguf.GGUFWriter)
    a = arch
    w.add_name(name)
    w.add_file_type(FILE_TYPES[file_type].ftype_id)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.add_uint32(f"{a}.context_length", int(spec.context_length or 4096))
    w.add_uint32(f"{a}.embedding_length", spec.n_embd)
    w.add_uint32(f"{a}.block_count", spec.n_layer)
    n_ff = spec.n_ff
    if arch == "llama" and spec.is_moe and spec.n_ff_exp:
        n_ff = spec.n_ff_exp  # llama (Mixtral) sizes its experts by feed_forward_length
    w.add_uint32(f"{a}.feed_forward_length", n_ff)
    w.add_uint32(f"{a}.attention.head_count", spec.n_head)
    w.add_float32(f"{a}.attention.layer_norm_rms_epsilon", 1e-6 if arch.startswith("gemma") else 1e-5)
    w.add_float32(f"{a}.rope.freq_base", 10000.0 if arch.startswith("gemma") else 500000.0)
    if arch == "deepseek2":
        _mla_metadata(w, spec)
    else:
        w.add_uint32(f"{a}.attention.head_count_kv", spec.n_head_kv)
        if spec.head_dim is not None or spec.head_dim_v is not None:
            w.add_uint32(f"{a}.attention.key_length", spec.k_head_dim)
            w.add_uint32(f"{a}.attention.value_length", spec.v_head_dim)
        w.add_uint32(f"{a}.rope.dimension_count", spec.k_head_dim)
    if spec.is_moe:
        w.add_uint32(f"{a}.expert_count", spec.n_expert)
        w.add_uint32(f"{a}.expert_used_count", spec.n_expert_used)
        if spec.n_ff_exp:
            w.add_uint32(f"{a}.expert_feed_forward_length", spec.n_ff_exp)
    if arch == "llama4":
        w.add_uint32(f"{a}.interleave_moe_layer_step", int(spec.moe_every or 1))
        if spec.attn_chunk == 0:
            w.add_uint32(f"{a}.attention.sliding_window", 0)  # llama.cpp: 0 turns chunked attention off
    if arch == "gpt-oss":
        w.add_uint32(f"{a}.attention.sliding_window", int(spec.sliding_window or 128))
    if arch in ("gemma2", "gemma3"):
        w.add_uint32(f"{a}.attention.sliding_window", int(spec.sliding_window or 4096))
        if arch == "gemma2":
            w.add_float32(f"{a}.attn_logit_softcapping", 50.0)
            w.add_float32(f"{a}.final_logit_softcapping", 30.0)
    w.add_uint32(f"{a}.vocab_size", spec.vocab)
    tokens, scores, types = _tokenizer(spec.vocab, arch)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(False)
    w.add_add_eos_token(False)


def _mla_metadata(w: object, spec: ModelSpec) -> None:
    """DeepSeek-V2/V3 keys as convert_hf_to_gguf.py writes them for MLA (one latent KV head).

    The cache holds the compressed latent: key_length = kv_lora_rank + rope dims, value_length =
    kv_lora_rank, one KV head; the per-head sizes of the decompressed attention go under *_mla.
    """
    import gguf

    assert isinstance(w, gguf.GGUFWriter)
    a = "deepseek2"
    kv_lora, rope = int(spec.kv_lora_rank or 0), int(spec.qk_rope_dim or 0)
    w.add_uint32(f"{a}.attention.head_count_kv", 1)
    w.add_uint32(f"{a}.attention.key_length", kv_lora + rope)
    w.add_uint32(f"{a}.attention.value_length", kv_lora)
    w.add_uint32(f"{a}.attention.key_length_mla", spec.k_head_dim)
    w.add_uint32(f"{a}.attention.value_length_mla", spec.v_head_dim)
    w.add_uint32(f"{a}.rope.dimension_count", rope)
    w.add_uint32(f"{a}.attention.kv_lora_rank", kv_lora)
    if spec.q_lora_rank:
        w.add_uint32(f"{a}.attention.q_lora_rank", spec.q_lora_rank)
    w.add_uint32(f"{a}.leading_dense_block_count", spec.n_dense_lead)
    w.add_uint32(f"{a}.expert_shared_count", spec.n_expert_shared)
    w.add_float32(f"{a}.expert_weights_scale", 1.0)
    w.add_bool(f"{a}.expert_weights_norm", True)
    w.add_uint32(f"{a}.expert_gating_func", 2)  # sigmoid with the exp_probs_b bias (V3, R1, Kimi-K2)


def _write(
    path: Path,
    spec: ModelSpec,
    file_type: str,
    tensors: list[TensorSpec],
    name: str,
    progress: Callable[[int, int], None] | None,
    seed: int,
) -> None:
    import gguf

    arch = _GGUF_ARCH.get(spec.arch, spec.arch)
    w = gguf.GGUFWriter(None, arch)
    _metadata(w, spec, arch, file_type, name)
    for t in tensors:
        w.add_tensor_info(
            t.name,
            tuple(reversed(t.shape)),
            np.dtype(np.float32),
            t.n_bytes,
            raw_dtype=gguf.GGMLQuantizationType(GGML_TYPES[t.type_name].type_id),
        )
    w.write_header_to_file(path)
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    assert w.fout is not None
    f = w.fout[0]
    f.write(b"\0" * (-f.tell() % _ALIGN))
    patterns: dict[str, np.ndarray] = {}
    rng = _rng(seed)
    total = sum(t.n_bytes for t in tensors)
    done = 0
    for t in tensors:
        n = t.n_bytes
        if len(t.shape) == 1 or t.name.endswith("ffn_gate_inp.weight"):
            if t.type_name == "F32":
                data = _norm_data(t)
                assert len(data) == n
                f.write(data)
            else:
                f.write(pattern(t.type_name, seed, n).tobytes()[:n])
        else:
            pat = patterns.get(t.type_name)
            if pat is None:
                pat = patterns[t.type_name] = pattern(t.type_name, seed)
            bb = GGML_TYPES[t.type_name].block_bytes
            n_pat_blocks = len(pat) // bb
            left = n
            while left > 0:
                start = int(rng.integers(0, max(1, n_pat_blocks // 2))) * bb
                chunk = min(left, len(pat) - start)
                f.write(memoryview(pat[start : start + chunk]))  # type: ignore[arg-type]
                left -= chunk
        f.write(b"\0" * (-n % _ALIGN))
        done += n
        if progress is not None:
            progress(done, total)
    w.close()


def synth_path(spec: ModelSpec, file_type: str, layers: int | None, cache: Path | None = None) -> Path:
    from hwbench.paths import cache_dir

    base = cache or (cache_dir() / "synthetic")
    tag = f"-L{layers}" if layers is not None and layers < spec.n_layer else ""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in spec.name)[:60]
    return base / f"{safe}-{file_type}{tag}-{spec_hash(spec, file_type, layers)}.gguf"


def write_synthetic(
    spec: ModelSpec,
    file_type: str,
    *,
    layers: int | None = None,
    path: Path | None = None,
    cache: Path | None = None,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
    seed: int = 1234,
) -> SynthModel:
    """Write (or reuse from the cache) a synthetic GGUF of ``spec`` quantized as ``file_type``.

    ``layers``: write only that many layers (slice mode). ``path``: write exactly there (no cache).
    """
    ft = file_type.upper()
    if ft not in FILE_TYPES:
        raise BadInput(f"unknown GGUF file type {file_type!r}")
    if spec.arch not in SYNTH_ARCHS:
        raise BadInput(f"synthetic models of arch {spec.arch!r} are not supported (supported: {', '.join(SYNTH_ARCHS)}); use --gguf")
    if layers is not None and layers >= spec.n_layer:
        layers = None
    written, tensors = synth_tensors(spec, ft, layers)
    if written.arch == "deepseek2" and not written.q_lora_rank and written.n_layer not in (26, 27):
        # llama.cpp (load_hparams) skips the q_lora_rank key only for its V2-Lite layer counts
        raise BadInput(
            f"llama.cpp loads a DeepSeek-V2 model without q_lora_rank only with 26 or 27 layers, not {written.n_layer}; "
            "write all layers (no --layers)"
        )
    out = path or synth_path(spec, ft, layers, cache)
    file_bytes = sum(t.n_bytes for t in tensors)
    if out.exists() and not force and path is None:
        return SynthModel(out, written, spec, ft, tensors, written.n_layer, spec.n_layer, True, 0.0, out.stat().st_size)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    t0 = time.perf_counter()
    try:
        _write(tmp, written, ft, tensors, f"{spec.name} (synthetic {ft})", progress, seed)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    dt = time.perf_counter() - t0
    return SynthModel(out, written, spec, ft, tensors, written.n_layer, spec.n_layer, False, dt, out.stat().st_size or file_bytes)


def write_tensors(spec: ModelSpec, file_type: str, tensors: list[TensorSpec], path: Path, *, name: str, seed: int = 1234) -> Path:
    """Write exactly ``tensors`` (types chosen by the caller, e.g. hwbench/bench/kernels.py's one-type probe models)
    as a synthetic GGUF at ``path``, with ``spec``'s metadata and ``file_type`` as its declared file type."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        _write(tmp, spec, file_type.upper(), tensors, name, None, seed)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def tiny_spec(n_layer: int = 2, n_embd: int = 256, n_ff: int = 512, vocab: int = 1024, arch: str = "llama", **kw: object) -> ModelSpec:
    """A small model shape for tests and the quick default bench."""
    n_head = kw.pop("n_head", max(1, n_embd // 64))
    n_head_kv = kw.pop("n_head_kv", n_head)
    fields: dict[str, object] = dict(
        name=f"tiny-{arch}-{n_layer}x{n_embd}",
        arch=arch,
        params=0,
        n_layer=n_layer,
        n_embd=n_embd,
        n_head=n_head,
        n_head_kv=n_head_kv,
        n_ff=n_ff,
        vocab=vocab,
        context_length=4096,
    )
    fields.update(kw)
    spec = ModelSpec(**fields)  # type: ignore[arg-type]
    from hwbench.arch import count_params

    return spec.model_copy(update={"params": count_params(spec)})
