"""Quantization formats: ggml block layouts, llama.cpp file types and their per-tensor mix.

Pure data and pure functions. No imports beyond the standard library, so that `hwbench check`
stays fast.

Bits per weight come from ggml's block layouts (elements per block, bytes per block). The
``_S/_M/_L`` file types are *mixes*: llama.cpp's quantizer picks a type per tensor depending on
its role, its layer and the model's shape. :func:`tensor_type` reproduces that choice (logic
learned from llama.cpp ``src/llama-quant.cpp``, ``llama_tensor_get_type_impl``), so weight sizes
are computed per tensor rather than with an average bits-per-weight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hwbench.errors import BadInput


@dataclass(frozen=True)
class GgmlType:
    name: str
    type_id: int  # ggml_type enum value, as stored in GGUF files
    block_elems: int  # elements per block
    block_bytes: int  # bytes per block

    @property
    def bits_per_weight(self) -> float:
        return self.block_bytes * 8 / self.block_elems

    def row_bytes(self, n_elems: int) -> int:
        """Bytes of ``n_elems`` elements (ggml_row_size); ``n_elems`` must be a whole number of blocks."""
        return (n_elems // self.block_elems) * self.block_bytes


# (name, ggml type id, elements per block, bytes per block) -- ggml/include/ggml.h + ggml/src/ggml-common.h
_TYPES = [
    ("F32", 0, 1, 4),
    ("F16", 1, 1, 2),
    ("Q4_0", 2, 32, 18),
    ("Q4_1", 3, 32, 20),
    ("Q5_0", 6, 32, 22),
    ("Q5_1", 7, 32, 24),
    ("Q8_0", 8, 32, 34),
    ("Q8_1", 9, 32, 36),
    ("Q2_K", 10, 256, 84),
    ("Q3_K", 11, 256, 110),
    ("Q4_K", 12, 256, 144),
    ("Q5_K", 13, 256, 176),
    ("Q6_K", 14, 256, 210),
    ("Q8_K", 15, 256, 292),
    ("IQ2_XXS", 16, 256, 66),
    ("IQ2_XS", 17, 256, 74),
    ("IQ3_XXS", 18, 256, 98),
    ("IQ1_S", 19, 256, 50),
    ("IQ4_NL", 20, 32, 18),
    ("IQ3_S", 21, 256, 110),
    ("IQ2_S", 22, 256, 82),
    ("IQ4_XS", 23, 256, 136),
    ("I8", 24, 1, 1),
    ("I16", 25, 1, 2),
    ("I32", 26, 1, 4),
    ("I64", 27, 1, 8),
    ("F64", 28, 1, 8),
    ("IQ1_M", 29, 256, 56),
    ("BF16", 30, 1, 2),
    ("TQ1_0", 34, 256, 54),
    ("TQ2_0", 35, 256, 66),
    ("MXFP4", 39, 32, 17),
]

GGML_TYPES: dict[str, GgmlType] = {n: GgmlType(n, i, e, b) for n, i, e, b in _TYPES}
GGML_TYPES_BY_ID: dict[int, GgmlType] = {t.type_id: t for t in GGML_TYPES.values()}

FLOAT_TYPES = {"F32", "F16", "BF16", "F64"}


@dataclass(frozen=True)
class FileType:
    """A llama.cpp file type (``llama_ftype``): a default tensor type plus a mixing rule."""

    name: str  # canonical, e.g. "Q5_K_M"
    ftype_id: int  # LLAMA_FTYPE_* value (general.file_type in GGUF)
    base: str  # default ggml type for quantizable tensors
    nominal_bpw: float  # base type's bits per weight (the mix is computed per tensor)


# LLAMA_FTYPE_* values from include/llama.h
_FILE_TYPES = [
    ("F32", 0, "F32"),
    ("F16", 1, "F16"),
    ("Q4_0", 2, "Q4_0"),
    ("Q4_1", 3, "Q4_1"),
    ("Q8_0", 7, "Q8_0"),
    ("Q5_0", 8, "Q5_0"),
    ("Q5_1", 9, "Q5_1"),
    ("Q2_K", 10, "Q2_K"),
    ("Q3_K_S", 11, "Q3_K"),
    ("Q3_K_M", 12, "Q3_K"),
    ("Q3_K_L", 13, "Q3_K"),
    ("Q4_K_S", 14, "Q4_K"),
    ("Q4_K_M", 15, "Q4_K"),
    ("Q5_K_S", 16, "Q5_K"),
    ("Q5_K_M", 17, "Q5_K"),
    ("Q6_K", 18, "Q6_K"),
    ("IQ2_XXS", 19, "IQ2_XXS"),
    ("IQ2_XS", 20, "IQ2_XS"),
    ("Q2_K_S", 21, "Q2_K"),
    ("IQ3_XS", 22, "IQ3_S"),
    ("IQ3_XXS", 23, "IQ3_XXS"),
    ("IQ1_S", 24, "IQ1_S"),
    ("IQ4_NL", 25, "IQ4_NL"),
    ("IQ3_S", 26, "IQ3_S"),
    ("IQ3_M", 27, "IQ3_S"),
    ("IQ2_S", 28, "IQ2_XS"),
    ("IQ2_M", 29, "IQ2_S"),
    ("IQ4_XS", 30, "IQ4_XS"),
    ("IQ1_M", 31, "IQ1_M"),
    ("BF16", 32, "BF16"),
    ("TQ1_0", 36, "TQ1_0"),
    ("TQ2_0", 37, "TQ2_0"),
    ("MXFP4_MOE", 38, "MXFP4"),
]

FILE_TYPES: dict[str, FileType] = {
    n: FileType(n, i, b, GGML_TYPES[b].bits_per_weight) for n, i, b in _FILE_TYPES
}
FILE_TYPES_BY_ID: dict[int, FileType] = {f.ftype_id: f for f in FILE_TYPES.values()}

# What users type -> canonical file type. "q5" means the usual K-quant a user downloads.
SHORT_FORMS = {
    "Q2": "Q2_K",
    "Q3": "Q3_K_M",
    "Q4": "Q4_K_M",
    "Q5": "Q5_K_M",
    "Q6": "Q6_K",
    "Q8": "Q8_0",
    "Q4_K": "Q4_K_M",
    "Q5_K": "Q5_K_M",
    "Q3_K": "Q3_K_M",
    "FP16": "F16",
    "FP32": "F32",
    "MXFP4": "MXFP4_MOE",
}


@dataclass(frozen=True)
class ExternalFormat:
    """A non-GGUF weight format users compare against (transformers, vLLM, TGI ...).

    ``bits_per_weight`` includes the format's per-group scale overhead; ``embed_bits`` is what the
    embedding and output layers are usually kept in (these formats leave them unquantized).
    """

    name: str
    bits_per_weight: float
    embed_bits: float
    description: str


EXTERNAL_FORMATS: dict[str, ExternalFormat] = {
    f.name: f
    for f in [
        ExternalFormat("fp16", 16.0, 16.0, "16-bit floats (transformers/vLLM default)"),
        ExternalFormat("bf16", 16.0, 16.0, "bfloat16"),
        ExternalFormat("fp32", 32.0, 32.0, "32-bit floats"),
        ExternalFormat("fp8", 8.0 + 32 / 4096, 16.0, "FP8 E4M3 weights with per-tensor/channel scales"),
        # int8 per-channel (LLM.int8 / W8A16): one fp16 scale per output row, negligible
        ExternalFormat("int8", 8.0 + 16 / 4096, 16.0, "8-bit integer weights, per-channel scales"),
        # GPTQ/AWQ 4-bit, group size 128: fp16 scale + packed 4-bit zero per group
        ExternalFormat("gptq-4bit", 4.0 + (16 + 4) / 128, 16.0, "GPTQ 4-bit, group size 128"),
        ExternalFormat("awq-4bit", 4.0 + (16 + 4) / 128, 16.0, "AWQ 4-bit, group size 128"),
        ExternalFormat("gptq-4bit-g32", 4.0 + (16 + 4) / 32, 16.0, "GPTQ 4-bit, group size 32"),
        ExternalFormat("gptq-8bit", 8.0 + (16 + 8) / 128, 16.0, "GPTQ 8-bit, group size 128"),
        # bitsandbytes NF4: blocks of 64 with an absmax; double-quantized absmax (8 bit + 32/256)
        ExternalFormat("nf4", 4.0 + (8 + 32 / 256) / 64, 16.0, "bitsandbytes NF4, blocksize 64, double quant"),
        ExternalFormat("nf4-noquant", 4.0 + 32 / 64, 16.0, "bitsandbytes NF4, blocksize 64, fp32 absmax"),
    ]
}

_EXTERNAL_ALIASES = {
    "FP8": "fp8",
    "E4M3": "fp8",
    "INT8": "int8",
    "W8A16": "int8",
    "GPTQ": "gptq-4bit",
    "GPTQ4": "gptq-4bit",
    "GPTQ-4BIT": "gptq-4bit",
    "GPTQ-INT4": "gptq-4bit",
    "GPTQ-4BIT-G32": "gptq-4bit-g32",
    "GPTQ8": "gptq-8bit",
    "GPTQ-8BIT": "gptq-8bit",
    "AWQ": "awq-4bit",
    "AWQ4": "awq-4bit",
    "AWQ-4BIT": "awq-4bit",
    "NF4": "nf4",
    "BNB-NF4": "nf4",
    "BNB4": "nf4",
    "NF4-NOQUANT": "nf4-noquant",
}


@dataclass(frozen=True)
class Quant:
    """A resolved ``--quant``: either a llama.cpp file type or an external format."""

    name: str  # canonical name: "Q5_K_M", "IQ4_XS", "F16", "gptq-4bit" ...
    file_type: FileType | None
    external: ExternalFormat | None

    @property
    def is_gguf(self) -> bool:
        return self.file_type is not None

    @property
    def nominal_bits_per_weight(self) -> float:
        if self.file_type is not None:
            return self.file_type.nominal_bpw
        assert self.external is not None
        return self.external.bits_per_weight


def accepted_quants_text() -> str:
    return (
        "q2..q8 (q4 = Q4_K_M, q5 = Q5_K_M, q8 = Q8_0), any GGUF type such as "
        "Q4_0, Q4_K_S, Q5_K_M, Q6_K, IQ4_XS, IQ2_XXS, F16, BF16, F32, MXFP4, "
        "or fp16, bf16, fp8, int8, gptq-4bit, awq-4bit, nf4"
    )


def parse_quant(text: str) -> Quant:
    """Resolve what a user typed for ``--quant`` (case-insensitive)."""
    raw = text.strip()
    key = raw.upper().replace(" ", "").replace(".", "_")
    if not key:
        raise BadInput(f"--quant is empty; accepted: {accepted_quants_text()}")
    key = SHORT_FORMS.get(key, key)
    if key in FILE_TYPES:
        return Quant(key, FILE_TYPES[key], None)
    ext = _EXTERNAL_ALIASES.get(key) or (raw.lower() if raw.lower() in EXTERNAL_FORMATS else None)
    if key in ("BF16",):
        return Quant("BF16", FILE_TYPES["BF16"], None)
    if ext is not None:
        return Quant(ext, None, EXTERNAL_FORMATS[ext])
    raise BadInput(f"unknown quantization {raw!r}; accepted: {accepted_quants_text()}")


# --------------------------------------------------------------------------------------------
# The per-tensor mix (llama.cpp src/llama-quant.cpp, llama_tensor_get_type_impl + fallback)
# --------------------------------------------------------------------------------------------

_FALLBACK = {
    "IQ1_S": "IQ4_NL",
    "IQ1_M": "IQ4_NL",
    "IQ2_XXS": "IQ4_NL",
    "IQ2_XS": "IQ4_NL",
    "IQ2_S": "IQ4_NL",
    "IQ3_XXS": "IQ4_NL",
    "IQ3_S": "IQ4_NL",
    "IQ4_XS": "IQ4_NL",
    "Q2_K": "Q4_0",
    "Q3_K": "Q4_0",
    "TQ1_0": "Q4_0",
    "TQ2_0": "Q4_0",
    "Q4_K": "Q5_0",
    "Q5_K": "Q5_1",
    "Q6_K": "Q8_0",
}

_IQ_LOW = {"IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"}


def _use_more_bits(i_layer: int, n_layers: int) -> bool:
    return i_layer < n_layers // 8 or i_layer >= 7 * n_layers // 8 or (i_layer - n_layers // 8) % 3 == 2


@dataclass(frozen=True)
class MixContext:
    """Model facts the quantizer's choice depends on."""

    arch: str
    n_layer: int
    n_gqa: int  # n_head / n_head_kv
    n_expert: int
    tied_embeddings: bool
    is_70b: bool = False  # llama.cpp's LLM_TYPE_70B bump of attn_v


def tensor_category(name: str) -> str:
    if name == "output.weight":
        return "output"
    if name in ("token_embd.weight", "per_layer_token_embd.weight"):
        return "token_embd"
    for key, cat in (
        ("attn_qkv.weight", "attn_qkv"),
        ("attn_kv_b.weight", "attn_kv_b"),
        ("attn_v.weight", "attn_v"),
        ("attn_k.weight", "attn_k"),
        ("attn_q.weight", "attn_q"),
        ("attn_output.weight", "attn_output"),
        ("ffn_up", "ffn_up"),
        ("ffn_gate", "ffn_gate"),
        ("ffn_down", "ffn_down"),
    ):
        if key in name:
            return cat
    return "other"


def is_quantizable(name: str, n_dims: int) -> bool:
    """Whether llama.cpp's quantizer touches this tensor at all (2D/3D weights, not norms/routers)."""
    if n_dims < 2 or not name.endswith("weight"):
        return False
    return "_norm.weight" not in name and "ffn_gate_inp.weight" not in name


class MixState:
    """Counters the quantizer keeps while walking tensors in file order."""

    def __init__(self, n_attention_wv: int, n_ffn_down: int) -> None:
        self.n_attention_wv = n_attention_wv
        self.n_ffn_down = n_ffn_down
        self.i_attention_wv = 0
        self.i_ffn_down = 0


def _layer_of(name: str) -> int | None:
    m = re.match(r"blk\.(\d+)\.", name)
    return int(m.group(1)) if m else None


def _impl(ftype: str, base: str, name: str, cat: str, ncols: int, n_dims3: bool, ctx: MixContext, st: MixState) -> str:
    new = base
    n_gqa = ctx.n_gqa
    is_attn_v = cat in ("attn_v", "attn_qkv", "attn_kv_b")
    if cat == "output" or (ctx.tied_embeddings and cat == "token_embd"):
        blk = GGML_TYPES[new].block_elems
        if ftype == "MXFP4_MOE":
            return "Q8_0"
        if ctx.arch == "falcon" or ncols % blk != 0:
            return "Q8_0"
        if ftype in ("IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"):
            return "Q5_K"
        return new if new == "Q8_0" else "Q6_K"
    if ftype == "MXFP4_MOE":
        return "MXFP4" if n_dims3 else "Q8_0"
    if cat == "token_embd":
        if ftype in ("IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ1_M"):
            return "Q2_K"
        if ftype in ("IQ2_S", "IQ2_M", "IQ3_XXS"):
            return "IQ3_S"
        if ftype in ("TQ1_0", "TQ2_0"):
            return "Q4_K"
        return new
    if ftype in _IQ_LOW:
        if is_attn_v:
            if n_gqa >= 4 or ctx.n_expert >= 4:
                new = "Q4_K"
            else:
                new = "IQ3_S" if ftype in ("IQ2_S", "IQ2_M") else "Q2_K"
            st.i_attention_wv += 1
        elif ctx.n_expert == 8 and cat == "attn_k":
            new = "Q4_K"
        elif cat == "ffn_down":
            if st.i_ffn_down < st.n_ffn_down // 8:
                new = "IQ3_S" if ftype in ("IQ2_S", "IQ2_M") else "Q2_K"
            st.i_ffn_down += 1
        elif cat == "attn_output":
            if ctx.n_expert == 8:
                new = "Q5_K"
            elif ftype in ("IQ1_S", "IQ1_M"):
                new = "IQ2_XXS"
            elif ftype in ("IQ2_S", "IQ2_M"):
                new = "IQ3_S"
        return new
    if is_attn_v:
        i, n = st.i_attention_wv, st.n_attention_wv
        if ftype == "Q2_K":
            new = "Q4_K" if n_gqa >= 4 else "Q3_K"
        elif ftype == "Q2_K_S" and n_gqa >= 4:
            new = "Q4_K"
        elif ftype == "IQ3_XXS":
            new = "Q4_K" if n_gqa >= 4 else "IQ3_S"
        elif ftype in ("IQ3_XS", "IQ3_S") and n_gqa >= 4:
            new = "Q4_K"
        elif ftype == "IQ3_M":
            new = "Q4_K"
        elif ftype == "Q3_K_M":
            new = "Q5_K" if i < 2 else "Q4_K"
        elif ftype == "Q3_K_L":
            new = "Q5_K"
        elif ftype in ("IQ4_NL", "IQ4_XS") and n_gqa >= 4:
            new = "Q5_K"
        elif ftype in ("Q4_K_M", "Q5_K_M") and _use_more_bits(i, n):
            new = "Q6_K"
        elif ftype == "Q4_K_S" and i < 4:
            new = "Q5_K"
        if ctx.is_70b and new in ("Q3_K", "Q4_K"):
            new = "Q5_K"
        if ctx.n_expert == 8:
            new = "Q8_0"
        st.i_attention_wv += 1
        return new
    if cat == "attn_k":
        if ctx.n_expert == 8:
            return "Q8_0"
        if ftype == "IQ3_XS":
            return "IQ3_XXS"
        if ftype == "IQ3_XXS":
            return "IQ2_S"
        return new
    if cat == "attn_q":
        if ftype == "IQ3_XS":
            return "IQ3_XXS"
        if ftype == "IQ3_XXS":
            return "IQ2_S"
        return new
    if cat == "ffn_down":
        if ctx.n_expert > 1:
            i_layer, n_layer = (_layer_of(name) or 0), ctx.n_layer
        else:
            i_layer, n_layer = st.i_ffn_down, st.n_ffn_down
        falcon = ctx.arch == "falcon"
        if ftype == "Q2_K":
            new = "Q3_K"
        elif ftype == "Q2_K_S":
            if i_layer < n_layer // 8:
                new = "Q4_K"
        elif ftype == "IQ3_XXS":
            new = "Q4_K" if i_layer < n_layer // 8 else "Q3_K"
        elif ftype == "Q3_K_M":
            if i_layer < n_layer // 16:
                new = "Q5_K"
            elif not falcon or _use_more_bits(i_layer, n_layer):
                new = "Q4_K"
            else:
                new = "Q3_K"
        elif ftype == "IQ3_M" and (i_layer < n_layer // 8 or (ctx.n_expert == 8 and _use_more_bits(i_layer, n_layer))):
            new = "Q4_K"
        elif ftype == "Q3_K_L":
            new = "Q4_K" if falcon else "Q5_K"
        elif ftype == "Q4_K_M":
            if falcon:
                new = "Q6_K" if i_layer < n_layer // 16 else ("Q5_K" if _use_more_bits(i_layer, n_layer) else "Q4_K")
            elif _use_more_bits(i_layer, n_layer):
                new = "Q6_K"
        elif i_layer < n_layer // 8 and ftype in ("IQ4_NL", "IQ4_XS"):
            new = "Q5_K"
        elif ftype == "Q5_K_M" and _use_more_bits(i_layer, n_layer):
            new = "Q6_K"
        elif ftype == "Q4_K_S" and not falcon and i_layer < n_layer // 8:
            new = "Q5_K"
        st.i_ffn_down += 1
        return new
    if cat == "attn_output":
        if ctx.arch != "falcon":
            if ctx.n_expert == 8:
                if ftype in (
                    "Q2_K", "IQ3_XS", "IQ3_XXS", "Q3_K_S", "Q3_K_M", "IQ4_NL",
                    "Q4_K_S", "Q4_K_M", "IQ3_S", "IQ3_M", "IQ4_XS",
                ):
                    new = "Q5_K"
            else:
                new = {"Q2_K": "Q3_K", "IQ3_XXS": "IQ3_S", "Q3_K_M": "Q4_K", "Q3_K_L": "Q5_K", "IQ3_M": "Q4_K"}.get(ftype, new)
        elif ftype == "Q3_K_L":
            new = "Q4_K"
        return new
    if cat == "attn_qkv":
        if ftype in ("Q3_K_M", "Q3_K_L", "IQ3_M"):
            return "Q4_K"
        if ftype == "Q4_K_M":
            return "Q5_K"
        if ftype == "Q5_K_M":
            return "Q6_K"
        return new
    if cat in ("ffn_gate", "ffn_up"):
        i_layer, n_layer = (_layer_of(name) or 0), ctx.n_layer
        if ftype == "IQ3_XS" and n_layer // 8 <= i_layer < 7 * n_layer // 8:
            return "IQ3_XXS"
    return new


def choose_types(tensors: list[tuple[str, tuple[int, ...], str]], ftype_name: str, ctx: MixContext) -> list[str]:
    """The ggml type llama.cpp's quantizer would give each tensor, in file order.

    ``tensors``: (name, shape with ne[0] first, source type) as in a GGUF converted to F16/F32.
    """
    ft = FILE_TYPES[ftype_name]
    base = ft.base
    n_attention_wv = sum(1 for n, _, _ in tensors if tensor_category(n) in ("attn_v", "attn_qkv", "attn_kv_b"))
    n_ffn_down = sum(1 for n, _, _ in tensors if tensor_category(n) == "ffn_down")
    st = MixState(n_attention_wv, n_ffn_down)
    out: list[str] = []
    quantizing = base not in FLOAT_TYPES
    for name, shape, src in tensors:
        if not is_quantizable(name, len(shape)):
            out.append(src)
            continue
        if not quantizing:
            # F16/BF16/F32 files: every quantizable 2D tensor is converted to the base type
            out.append(base)
            continue
        cat = tensor_category(name)
        new = _impl(ftype_name, base, name, cat, shape[0], len(shape) >= 3 and shape[2] > 1, ctx, st)
        new = _fallback(new, shape[0])
        out.append(new)
    return out


def _fallback(type_name: str, ncols: int) -> str:
    blk = GGML_TYPES[type_name].block_elems
    if ncols % blk == 0:
        return type_name
    alt = _FALLBACK.get(type_name)
    if alt is None or ncols % GGML_TYPES[alt].block_elems != 0:
        return "F16"
    return alt
