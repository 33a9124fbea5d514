"""A Hugging Face ``config.json`` -> the :class:`ModelSpec` llama.cpp would build after converting it.

One function per architecture family, chosen by ``model_type`` (the names
``convert_hf_to_gguf.py`` registers its converters under map the HF classes to llama.cpp
architectures: MistralForCausalLM and MixtralForCausalLM become ``llama``, Qwen3MoeForCausalLM
becomes ``qwen3moe``...). Multimodal wrappers (Gemma 3, Mistral 3, Llama 4) keep the language
model's fields in ``text_config``: those are read first, so nested MoE or window fields are not
missed. An architecture without a function here, or a config lacking a field its function needs,
is refused with one line naming the architecture and what is missing — never guessed.

Extend: add ``def _family(c: _Cfg) -> dict`` and one line in :data:`FAMILIES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hwbench.errors import BadInput
from hwbench.schema import ModelSpec

# architectures whose tensors hwbench's estimator does not list yet:
# refused with this reason instead of being sized as something they are not
NOT_YET: dict[str, str] = {
    "qwen2_moe": "Qwen2-MoE (shared experts with a gate)",
    "phimoe": "Phi-3.5-MoE",
}


class _Cfg:
    """config.json with ``text_config`` merged over the top level, and field access that names what is missing."""

    def __init__(self, raw: dict[str, Any], label: str) -> None:
        self.label = label
        merged = dict(raw)
        text = raw.get("text_config")
        if isinstance(text, dict):
            merged.update(text)
        self.d = merged
        self.model_type = str(merged.get("model_type") or raw.get("model_type") or "")

    def need(self, *keys: str) -> int:
        for k in keys:
            v = self.d.get(k)
            if v is not None:
                return _int(v, k, self.label)
        raise BadInput(f"{self.label}: config.json of architecture {self.model_type!r} lacks {' / '.join(keys)}; cannot size it")

    def opt(self, key: str, default: int | None = None) -> int | None:
        v = self.d.get(key)
        return default if v is None else _int(v, key, self.label)

    def flag(self, key: str, default: bool) -> bool:
        v = self.d.get(key)
        return default if v is None else bool(v)


def _int(v: Any, key: str, label: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
        raise BadInput(f"{label}: config.json field {key!r} is {v!r}; expected a whole number")
    n = int(v)
    if not 0 <= n <= 1 << 40:
        raise BadInput(f"{label}: config.json field {key!r} is {n}, outside any plausible model")
    return n


def _common(c: _Cfg, *, tied_default: bool) -> dict[str, Any]:
    n_head = c.need("num_attention_heads")
    out: dict[str, Any] = {
        "n_layer": c.need("num_hidden_layers"),
        "n_embd": c.need("hidden_size"),
        "n_head": n_head,
        "n_head_kv": c.opt("num_key_value_heads", n_head) or n_head,
        "n_ff": c.need("intermediate_size"),
        "vocab": c.need("vocab_size"),
        "tied_embeddings": c.flag("tie_word_embeddings", tied_default),
        "context_length": c.opt("max_position_embeddings"),
    }
    hd = c.opt("head_dim")
    if hd and hd != out["n_embd"] // n_head:
        out["head_dim"] = hd
    return out


def _llama(c: _Cfg) -> dict[str, Any]:
    # LlamaForCausalLM, MistralForCausalLM: llama.cpp's `llama` (Mistral's sliding window is not used there)
    out = _common(c, tied_default=False)
    out.update(arch="llama", qkv_bias=c.flag("attention_bias", False))
    return out


def _mixtral(c: _Cfg) -> dict[str, Any]:
    out = _llama(c)
    out.update(n_expert=c.need("num_local_experts"), n_expert_used=c.need("num_experts_per_tok"), n_ff_exp=out["n_ff"])
    return out


def _qwen2(c: _Cfg) -> dict[str, Any]:
    out = _common(c, tied_default=False)
    out.update(arch="qwen2", qkv_bias=True)  # Qwen2 always has q/k/v biases
    return out


def _qwen3(c: _Cfg) -> dict[str, Any]:
    out = _common(c, tied_default=False)
    out.update(arch="qwen3", qkv_bias=c.flag("attention_bias", False))
    return out


def _qwen3_moe(c: _Cfg) -> dict[str, Any]:
    out = _common(c, tied_default=False)
    if c.d.get("mlp_only_layers") or (c.opt("decoder_sparse_step", 1) or 1) != 1:
        raise BadInput(f"{c.label}: qwen3_moe config.json with dense layers between the MoE layers (mlp_only_layers / decoder_sparse_step) is not sized by hwbench")
    out.update(
        arch="qwen3moe",
        qkv_bias=c.flag("attention_bias", False),
        n_expert=c.need("num_experts"),
        n_expert_used=c.need("num_experts_per_tok"),
        n_ff_exp=c.need("moe_intermediate_size"),
    )
    return out


def _gemma2(c: _Cfg) -> dict[str, Any]:
    out = _common(c, tied_default=True)
    out.update(arch="gemma2", sliding_window=c.need("sliding_window"), swa_period=2)  # local and global layers alternate
    return out


# Gemma 3's tokenizer has 262144 tokens in every size (MaxText src/maxtext/configs/models/gemma3-*.yml vocab_size
# 262_144; litgpt's Gemma-3-* entries; keras-hub's gemma3 text presets count exactly that many embedding rows).
# llama.cpp's converter cuts token_embd to the tokenizer ("remove OOV rows", Gemma3Model.modify_tensors), so the
# multimodal configs' 262208 (or a text_config with no vocab_size at all, as gemma-3-4b/12b/27b-it publish it) load
# as 262144 rows.
GEMMA3_TOKENIZER_VOCAB = 262144


def _gemma3(c: _Cfg) -> dict[str, Any]:
    if c.d.get("vocab_size") is None:
        c.d["vocab_size"] = GEMMA3_TOKENIZER_VOCAB
    out = _common(c, tied_default=True)
    out["vocab"] = min(out["vocab"], GEMMA3_TOKENIZER_VOCAB)
    # llama.cpp fixes Gemma 3's pattern at 5 windowed : 1 global (set_swa_pattern(6)) and the converter
    # writes no period: a config saying otherwise would be loaded with 6 anyway, so it is refused
    period = c.opt("sliding_window_pattern", 6)
    if period != 6:
        raise BadInput(f"{c.label}: gemma3 config.json with sliding_window_pattern {period}: llama.cpp loads Gemma 3 with 6 (5 windowed : 1 global); not sized")
    out.update(arch="gemma3", sliding_window=c.need("sliding_window"))
    return out


def _phi3(c: _Cfg) -> dict[str, Any]:
    # Phi-3 / Phi-3.5 / Phi-4: llama.cpp's `phi3`; its sliding_window is ignored (full cache on every layer)
    out = _common(c, tied_default=False)
    out.update(arch="phi3")
    return out


def _llama4(c: _Cfg) -> dict[str, Any]:
    # Llama-4 Scout/Maverick (text_config): the converter writes intermediate_size_mlp as the dense FFN width and
    # intermediate_size as the expert width; every `interleave_moe_layer_step`-th layer is MoE with one shared
    # expert. Chunked attention (3 chunked : 1 full, 8192 tokens) is llama.cpp's fixed rule for the architecture.
    out = _common(c, tied_default=False)
    out.update(
        arch="llama4",
        n_ff=c.need("intermediate_size_mlp"),
        n_ff_exp=c.need("intermediate_size"),
        n_expert=c.need("num_local_experts"),
        n_expert_used=c.need("num_experts_per_tok"),
        moe_every=c.opt("interleave_moe_layer_step", 1) or 1,  # 1: every layer MoE (Scout), 2: Maverick
    )
    return out


def _gpt_oss(c: _Cfg) -> dict[str, Any]:
    # gpt-oss-20b/120b: every layer MoE (experts as wide as intermediate_size), attention sinks, q/k/v/o and expert
    # biases, windowed and full layers alternating (llama.cpp: set_swa_pattern(2)); the arch implies sinks and biases
    out = _common(c, tied_default=False)
    ff = c.need("intermediate_size")
    out.update(
        arch="gpt-oss",
        n_ff_exp=ff,
        n_expert=c.need("num_local_experts"),
        n_expert_used=c.need("num_experts_per_tok", "experts_per_token"),
        sliding_window=c.need("sliding_window"),
    )
    return out


def _mistral3_text(c: _Cfg) -> dict[str, Any]:
    # Ministral 3 text backbone (text_config model_type 'ministral3'): llama.cpp's `mistral3`, llama's tensors
    out = _llama(c)
    out.update(arch="mistral3")
    return out


def _deepseek(c: _Cfg) -> dict[str, Any]:
    # DeepSeek-V2/V3/R1 and Kimi-K2: llama.cpp's `deepseek2` (multi-head latent attention, shared + routed experts)
    out = _common(c, tied_default=False)
    nope, rope = c.need("qk_nope_head_dim"), c.need("qk_rope_head_dim")
    out.update(
        arch="deepseek2",
        head_dim=nope + rope,
        head_dim_v=c.need("v_head_dim"),
        q_lora_rank=c.opt("q_lora_rank") or None,
        kv_lora_rank=c.need("kv_lora_rank"),
        qk_rope_dim=rope,
        n_expert=c.need("n_routed_experts"),
        n_expert_used=c.need("num_experts_per_tok"),
        n_ff_exp=c.need("moe_intermediate_size"),
        n_expert_shared=c.opt("n_shared_experts", 0) or 0,
        n_ff_shexp=c.need("moe_intermediate_size"),
        n_dense_lead=c.opt("first_k_dense_replace", 0) or 0,
    )
    if (c.opt("moe_layer_freq", 1) or 1) != 1:
        raise BadInput(f"{c.label}: deepseek config.json with moe_layer_freq != 1 is not sized by hwbench")
    return out


FAMILIES: dict[str, Callable[[_Cfg], dict[str, Any]]] = {
    "llama": _llama,
    "mistral": _llama,
    "mixtral": _mixtral,
    "qwen2": _qwen2,
    "qwen3": _qwen3,
    "qwen3_moe": _qwen3_moe,
    "gemma2": _gemma2,
    "gemma3": _gemma3,
    "gemma3_text": _gemma3,
    "phi3": _phi3,
    "llama4": _llama4,
    "llama4_text": _llama4,
    "gpt_oss": _gpt_oss,
    "ministral3": _mistral3_text,
    "mistral3": _llama,  # a Mistral3 wrapper whose text_config names no model_type: Mistral-Small-3.x is converted as llama
    "deepseek_v2": _deepseek,
    "deepseek_v3": _deepseek,
    "kimi_k2": _deepseek,
}


def spec_from_config(config: dict[str, Any], *, name: str, source: str) -> ModelSpec:
    """The ModelSpec of a Hugging Face ``config.json`` (already parsed); ``name`` labels messages and the model."""
    from hwbench.arch import count_params

    if not isinstance(config, dict):
        raise BadInput(f"{name}: config.json is not a JSON object")
    c = _Cfg(config, name)
    mt = c.model_type
    archs = config.get("architectures") or []
    what = f"{mt!r}" + (f" ({', '.join(map(str, archs))})" if archs else "")
    if mt in NOT_YET:
        raise BadInput(f"{name}: architecture {what} — {NOT_YET[mt]} — cannot be sized by this hwbench yet; use a GGUF of it (--gguf) for exact sizes")
    fn = FAMILIES.get(mt)
    if fn is None:
        if not mt:
            raise BadInput(f"{name}: config.json has no model_type; cannot tell its architecture")
        raise BadInput(f"{name}: hwbench cannot size architecture {what}; known: {', '.join(sorted(FAMILIES))} (or use --gguf with a GGUF of it)")
    fields = fn(c)
    if fields["n_head"] < 1 or fields["n_layer"] < 1 or fields["n_embd"] < 1:
        raise BadInput(f"{name}: config.json has zero layers, heads or width")
    if fields["n_head_kv"] > fields["n_head"] or fields["n_head"] % max(1, fields["n_head_kv"]):
        raise BadInput(f"{name}: config.json num_key_value_heads {fields['n_head_kv']} does not divide num_attention_heads {fields['n_head']}")
    spec = ModelSpec(name=name, params=0, source=source, **fields)
    return spec.model_copy(update={"params": count_params(spec)})
