"""Tensor lists of model architectures, as llama.cpp's GGUF converter writes them.

Shapes are in ggml order (``ne[0]`` first: the input dimension of a weight matrix). The same list
drives the memory estimate (exact bytes per tensor with the quantizer's per-tensor type choice)
and the synthetic GGUF writer used by ``hwbench bench``.
"""

from __future__ import annotations

from dataclasses import dataclass

from hwbench.errors import BadInput
from hwbench.quant import GGML_TYPES, MixContext, choose_types
from hwbench.schema import ModelSpec


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int, ...]  # ggml order, ne[0] first
    type_name: str
    layer: int | None  # None: not in a repeating block (token_embd, output ...)

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def n_rows(self) -> int:
        """Rows of ne[0] weights (one dot product per row and token in a matmul)."""
        return self.n_elements // self.shape[0]

    @property
    def n_bytes(self) -> int:
        t = GGML_TYPES[self.type_name]
        return (self.n_elements // t.block_elems) * t.block_bytes

    @property
    def is_expert(self) -> bool:
        return "_exps." in self.name


SUPPORTED_ARCHS = (
    "llama",
    "llama4",
    "qwen2",
    "qwen3",
    "qwen3moe",
    "mistral",
    "mistral3",
    "gemma2",
    "gemma3",
    "phi3",
    "deepseek2",
    "gpt-oss",
)


def is_moe_layer(m: ModelSpec, i: int) -> bool:
    """Whether layer ``i`` has the expert FFN (llama.cpp: leading dense blocks, Llama 4's interleave step)."""
    if not m.is_moe or i < m.n_dense_lead:
        return False
    step = m.moe_every or 1
    return (i + 1) % step == 0


def n_shared_experts(m: ModelSpec) -> int:
    # Llama 4 always has one shared expert as wide as a routed one (llama.cpp creates it unconditionally)
    return m.n_expert_shared or (1 if m.arch == "llama4" else 0)


def _layer_tensors(m: ModelSpec, i: int) -> list[tuple[str, tuple[int, ...], str]]:
    E = m.n_embd
    hd, hdv = m.k_head_dim, m.v_head_dim
    q_out = m.n_head * hd
    kv_out = m.n_head_kv * hd
    v_out = m.n_head_kv * hdv
    p = f"blk.{i}."
    t: list[tuple[str, tuple[int, ...], str]] = [(p + "attn_norm.weight", (E,), "F32")]
    if m.arch == "deepseek2":
        if not (m.kv_lora_rank and m.qk_rope_dim):
            raise BadInput(f"{m.name}: a deepseek2 (MLA) model needs kv_lora_rank and qk_rope_dim")
        rope = m.qk_rope_dim
        nope = hd - rope
        if m.q_lora_rank:
            t += [
                (p + "attn_q_a_norm.weight", (m.q_lora_rank,), "F32"),
                (p + "attn_q_a.weight", (E, m.q_lora_rank), "F16"),
                (p + "attn_q_b.weight", (m.q_lora_rank, m.n_head * hd), "F16"),
            ]
        else:
            t.append((p + "attn_q.weight", (E, m.n_head * hd), "F16"))
        t += [
            (p + "attn_kv_a_norm.weight", (m.kv_lora_rank,), "F32"),
            (p + "attn_kv_a_mqa.weight", (E, m.kv_lora_rank + rope), "F16"),
            (p + "attn_k_b.weight", (nope, m.kv_lora_rank, m.n_head), "F16"),
            (p + "attn_v_b.weight", (m.kv_lora_rank, hdv, m.n_head), "F16"),
            (p + "attn_output.weight", (m.n_head * hdv, E), "F16"),
        ]
    elif m.arch == "phi3":
        t += [
            (p + "attn_qkv.weight", (E, q_out + kv_out + v_out), "F16"),
            (p + "attn_output.weight", (q_out, E), "F16"),
        ]
    else:
        t += [
            (p + "attn_q.weight", (E, q_out), "F16"),
            (p + "attn_k.weight", (E, kv_out), "F16"),
            (p + "attn_v.weight", (E, v_out), "F16"),
            (p + "attn_output.weight", (m.n_head * hdv, E), "F16"),
        ]
        if m.qkv_bias or m.arch == "gpt-oss":
            t += [
                (p + "attn_q.bias", (q_out,), "F32"),
                (p + "attn_k.bias", (kv_out,), "F32"),
                (p + "attn_v.bias", (v_out,), "F32"),
            ]
        if m.arch == "gpt-oss":
            t.append((p + "attn_output.bias", (E,), "F32"))
        if m.arch in ("qwen3", "qwen3moe", "gemma3"):
            t += [(p + "attn_q_norm.weight", (hd,), "F32"), (p + "attn_k_norm.weight", (hd,), "F32")]
    if m.attn_sinks or m.arch == "gpt-oss":
        t.append((p + "attn_sinks.weight", (m.n_head,), "F32"))
    if m.arch in ("gemma2", "gemma3", "gpt-oss"):
        t.append((p + "post_attention_norm.weight", (E,), "F32"))  # gpt-oss: its only pre-FFN norm
    if m.arch != "gpt-oss":
        t.append((p + "ffn_norm.weight", (E,), "F32"))
    if is_moe_layer(m, i):
        ffe = m.n_ff_exp or m.n_ff
        X = m.n_expert
        t += [
            (p + "ffn_gate_inp.weight", (E, X), "F32"),
            (p + "ffn_gate_exps.weight", (E, ffe, X), "F16"),
            (p + "ffn_up_exps.weight", (E, ffe, X), "F16"),
            (p + "ffn_down_exps.weight", (ffe, E, X), "F16"),
        ]
        if m.moe_bias or m.arch == "gpt-oss":
            t += [
                (p + "ffn_gate_inp.bias", (X,), "F32"),
                (p + "ffn_gate_exps.bias", (ffe, X), "F32"),
                (p + "ffn_up_exps.bias", (ffe, X), "F32"),
                (p + "ffn_down_exps.bias", (E, X), "F32"),
            ]
        if m.arch == "deepseek2":
            t.append((p + "exp_probs_b.bias", (X,), "F32"))
        if n_shared_experts(m):
            sh = (m.n_ff_shexp or ffe) * n_shared_experts(m)
            t += [
                (p + "ffn_gate_shexp.weight", (E, sh), "F16"),
                (p + "ffn_up_shexp.weight", (E, sh), "F16"),
                (p + "ffn_down_shexp.weight", (sh, E), "F16"),
            ]
    elif m.arch == "phi3":
        t += [(p + "ffn_up.weight", (E, 2 * m.n_ff), "F16"), (p + "ffn_down.weight", (m.n_ff, E), "F16")]
    else:
        t += [
            (p + "ffn_gate.weight", (E, m.n_ff), "F16"),
            (p + "ffn_up.weight", (E, m.n_ff), "F16"),
            (p + "ffn_down.weight", (m.n_ff, E), "F16"),
        ]
    if m.arch in ("gemma2", "gemma3"):
        t.append((p + "post_ffw_norm.weight", (E,), "F32"))
    return t


def source_tensors(m: ModelSpec) -> list[tuple[str, tuple[int, ...], str]]:
    """(name, shape, type) of an F16 conversion of the model, in file order."""
    E = m.n_embd
    out: list[tuple[str, tuple[int, ...], str]] = [("token_embd.weight", (E, m.vocab), "F16")]
    for i in range(m.n_layer):
        out += _layer_tensors(m, i)
    out.append(("output_norm.weight", (E,), "F32"))
    if not m.tied_embeddings:
        out.append(("output.weight", (E, m.vocab), "F16"))
    return out


def mix_context(m: ModelSpec) -> MixContext:
    return MixContext(
        arch=m.arch,
        n_layer=m.n_layer,
        n_gqa=max(1, m.n_head // max(1, m.n_head_kv)),
        n_expert=m.n_expert,
        tied_embeddings=m.tied_embeddings,
        is_70b=m.arch == "llama" and m.n_layer == 80 and not m.is_moe,
    )


_TENSOR_CACHE: dict[tuple[str, str], list[TensorSpec]] = {}


def model_tensors(m: ModelSpec, file_type: str) -> list[TensorSpec]:
    """The tensors of ``m`` quantized to ``file_type`` ("Q4_K_M", "F16" ...), with per-tensor types."""
    key = (m.model_dump_json(include=_SHAPE_FIELDS), file_type)
    hit = _TENSOR_CACHE.get(key)
    if hit is None:
        if len(_TENSOR_CACHE) > 256:
            _TENSOR_CACHE.clear()
        hit = _TENSOR_CACHE[key] = _model_tensors(m, file_type)
    return hit  # shared: callers must not mutate it (TensorSpec itself is frozen)


_SHAPE_FIELDS = {
    "arch",
    "n_layer",
    "n_embd",
    "n_head",
    "n_head_kv",
    "head_dim",
    "head_dim_v",
    "n_ff",
    "vocab",
    "tied_embeddings",
    "qkv_bias",
    "n_expert",
    "n_expert_used",
    "n_ff_exp",
    "n_expert_shared",
    "n_ff_shexp",
    "n_dense_lead",
    "q_lora_rank",
    "kv_lora_rank",
    "qk_rope_dim",
    "moe_every",
    "attn_sinks",
    "moe_bias",
}


def _model_tensors(m: ModelSpec, file_type: str) -> list[TensorSpec]:
    src = source_tensors(m)
    types = choose_types(src, file_type, mix_context(m))
    out = []
    for (name, shape, _), ty in zip(src, types, strict=True):
        layer = int(name.split(".")[1]) if name.startswith("blk.") else None
        out.append(TensorSpec(name, shape, ty, layer))
    return out


def count_params(m: ModelSpec) -> int:
    return sum(TensorSpec(n, s, "F32", None).n_elements for n, s, _ in source_tensors(m))


def active_params(m: ModelSpec) -> int:
    """Parameters touched per token: all but the unused experts (and the embedding lookup counts as 1 row)."""
    if not m.is_moe:
        return m.params
    total = 0
    for name, shape, _ in source_tensors(m):
        n = TensorSpec(name, shape, "F32", None).n_elements
        if "_exps." in name:
            n = n * m.n_expert_used // m.n_expert
        total += n
    return total
