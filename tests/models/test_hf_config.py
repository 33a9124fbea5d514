"""config.json -> ModelSpec, one family at a time: nested text_config, refusals that name what is missing."""

from __future__ import annotations

from typing import Any

import pytest

from hwbench.errors import BadInput
from hwbench.models.hf_config import spec_from_config
from hwbench.profiles import load_models

QWEN3_MOE_TEXT = {  # Qwen3-30B-A3B's fields (scripts/model_configs.yaml), nested as a multimodal wrapper nests them
    "model_type": "qwen3_moe", "hidden_size": 2048, "intermediate_size": 6144, "moe_intermediate_size": 768, "num_experts": 128,
    "num_experts_per_tok": 8, "num_attention_heads": 32, "num_hidden_layers": 48, "num_key_value_heads": 4, "head_dim": 128,
    "vocab_size": 151936, "tie_word_embeddings": False, "max_position_embeddings": 40960,
}


def test_fields_nested_in_text_config_are_read() -> None:
    flat = spec_from_config(QWEN3_MOE_TEXT, name="flat", source="t")
    wrapped = spec_from_config({"architectures": ["SomeVLForConditionalGeneration"], "model_type": "qwen3_moe", "text_config": QWEN3_MOE_TEXT,
                                "vision_config": {"hidden_size": 1152}}, name="wrapped", source="t")
    assert wrapped.n_expert == 128 and wrapped.n_expert_used == 8 and wrapped.n_ff_exp == 768
    assert wrapped.model_dump(exclude={"name"}) == flat.model_dump(exclude={"name"})
    assert flat.params == load_models()["qwen3-30b-a3b"].params


def test_deepseek_v3_config_gives_the_catalog_entry() -> None:
    known = load_models()["deepseek-v3"]
    cfg = {"model_type": "deepseek_v3", "hidden_size": 7168, "intermediate_size": 18432, "moe_intermediate_size": 2048,
           "num_attention_heads": 128, "num_key_value_heads": 128, "num_hidden_layers": 61, "vocab_size": 129280,
           "n_routed_experts": 256, "num_experts_per_tok": 8, "n_shared_experts": 1, "first_k_dense_replace": 3,
           "q_lora_rank": 1536, "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
           "max_position_embeddings": 163840, "tie_word_embeddings": False}
    spec = spec_from_config(cfg, name="deepseek-ai/DeepSeek-V3", source="t")
    assert spec.model_dump(exclude={"name", "source", "active_params"}) == known.model_dump(exclude={"name", "source", "active_params"})


def test_gemma_3_27b_it_as_published_gives_the_catalog_entry() -> None:
    # the multimodal config.json's text_config names no vocab_size (transformers' default is 262208); llama.cpp's
    # GGUF holds the tokenizer's 262144 rows, as the catalog entry (MaxText, litgpt, keras-hub's count) does
    cfg = {"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
           "text_config": {"head_dim": 128, "hidden_size": 5376, "intermediate_size": 21504, "model_type": "gemma3_text",
                           "num_attention_heads": 32, "num_hidden_layers": 62, "num_key_value_heads": 16, "sliding_window": 1024},
           "vision_config": {"hidden_size": 1152}}
    known = load_models()["gemma-3-27b"]
    spec = spec_from_config(cfg, name="google/gemma-3-27b-it", source="t")
    assert spec.vocab == 262144 and spec.params == known.params and spec.tied_embeddings
    wider = spec_from_config({**cfg, "text_config": {**cfg["text_config"], "vocab_size": 262208}}, name="g", source="t")
    assert wider.vocab == 262144


def test_mistral_head_dim_wider_than_width_over_heads() -> None:
    # a Mistral-NeMo-style config: head_dim 128 while hidden_size / heads = 160
    cfg = {"model_type": "mistral", "hidden_size": 5120, "intermediate_size": 14336, "num_attention_heads": 32, "num_key_value_heads": 8,
           "num_hidden_layers": 40, "head_dim": 128, "vocab_size": 131072}
    spec = spec_from_config(cfg, name="m", source="t")
    assert spec.arch == "llama" and spec.k_head_dim == 128 and not spec.tied_embeddings


@pytest.mark.parametrize(
    ("cfg", "words"),
    [
        ({"model_type": "qwen2_moe", "architectures": ["Qwen2MoeForCausalLM"]}, ["'qwen2_moe'", "Qwen2MoeForCausalLM", "Qwen2-MoE"]),
        ({"model_type": "llama4", "text_config": {"model_type": "llama4_text", "hidden_size": 64, "num_attention_heads": 4,
          "num_hidden_layers": 2, "intermediate_size": 8, "vocab_size": 100, "num_local_experts": 4, "num_experts_per_tok": 1}},
         ["'llama4_text'", "intermediate_size_mlp"]),
        ({"model_type": "gpt_oss", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2, "intermediate_size": 8,
          "vocab_size": 100, "num_local_experts": 4, "num_experts_per_tok": 1}, ["'gpt_oss'", "sliding_window"]),
        ({"model_type": "gemma3_text", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2, "intermediate_size": 8,
          "vocab_size": 100, "sliding_window": 512, "sliding_window_pattern": 4}, ["sliding_window_pattern 4", "llama.cpp"]),
        ({"model_type": "mamba", "architectures": ["MambaForCausalLM"]}, ["cannot size architecture 'mamba'", "MambaForCausalLM"]),
        ({"architectures": ["X"]}, ["no model_type"]),
        ({"model_type": "qwen3", "hidden_size": 1024, "num_attention_heads": 16, "num_hidden_layers": 28, "vocab_size": 100}, ["intermediate_size"]),
        ({"model_type": "llama", "hidden_size": "big", "num_attention_heads": 16, "num_hidden_layers": 2, "intermediate_size": 8,
          "vocab_size": 100}, ["'hidden_size'", "whole number"]),
        ({"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 3, "num_hidden_layers": 2,
          "intermediate_size": 8, "vocab_size": 100}, ["num_key_value_heads 3"]),
        ({"model_type": "qwen3_moe", **{k: v for k, v in QWEN3_MOE_TEXT.items() if k != "model_type"}, "mlp_only_layers": [0, 1]},
         ["mlp_only_layers"]),
    ],
)
def test_unsizable_configs_are_one_line_naming_what_is_missing(cfg: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(BadInput) as e:
        spec_from_config(cfg, name="org/model", source="t")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("org/model")
    for w in words:
        assert w in msg, msg
