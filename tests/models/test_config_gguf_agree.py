"""A config.json and the GGUF of the same shape give the same memory estimate, architecture by architecture.

Each config below has the layout of the real config.json of its family (Llama 4 and Gemma 3 nest the
language model in ``text_config``, gpt-oss names its experts ``num_local_experts``, DeepSeek its MLA
ranks ...) at a tiny width. It goes through hwbench's config.json mapping (the Hub path), the
synthetic writer turns that spec into a GGUF, and the GGUF header is read back the way ``--gguf``
reads it. Weights (the header's own tensors vs the tensor list of the config's spec), KV cache and
compute buffer must agree exactly: the two halves of issue 10 (config.json mapping, GGUF sizing)
describe one model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hwbench.arch import model_tensors
from hwbench.bench.synth import write_synthetic
from hwbench.estimate import memory as mem
from hwbench.gguf_header import model_from_gguf, read_gguf
from hwbench.models.hf_config import spec_from_config
from hwbench.schema import EstimateSettings

_BASE = {"hidden_size": 256, "num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": 8, "vocab_size": 512,
         "max_position_embeddings": 32768}

CONFIGS: dict[str, dict[str, Any]] = {
    "llama4": {  # Llama-4-Maverick's layout: every 2nd layer MoE, dense layers intermediate_size_mlp wide
        "architectures": ["Llama4ForConditionalGeneration"], "model_type": "llama4", "tie_word_embeddings": False,
        "text_config": {**_BASE, "model_type": "llama4_text", "head_dim": 64, "intermediate_size": 128, "intermediate_size_mlp": 384,
                        "num_local_experts": 4, "num_experts_per_tok": 1, "interleave_moe_layer_step": 2,
                        "attention_chunk_size": 8192},
        "vision_config": {"hidden_size": 1408},
    },
    "gpt_oss": {**_BASE, "architectures": ["GptOssForCausalLM"], "model_type": "gpt_oss", "head_dim": 64, "intermediate_size": 256,
                "num_local_experts": 4, "num_experts_per_tok": 2, "experts_per_token": 2, "sliding_window": 128,
                "attention_bias": True, "tie_word_embeddings": False},
    "gemma3": {  # gemma-3-4b-it's layout: the language model in text_config
        "architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
        "text_config": {**_BASE, "model_type": "gemma3_text", "head_dim": 128, "intermediate_size": 512, "sliding_window": 1024,
                        "sliding_window_pattern": 6, "num_hidden_layers": 12},
        "vision_config": {"hidden_size": 1152},
    },
    "gemma3_text": {**_BASE, "architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "head_dim": 64,
                    "intermediate_size": 512, "sliding_window": 512, "tie_word_embeddings": True},
    "phi3": {**_BASE, "architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "intermediate_size": 512, "sliding_window": 2047,
             "tie_word_embeddings": False},
    "phi3_tied": {**_BASE, "architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "head_dim": 64, "intermediate_size": 512,
                  "partial_rotary_factor": 0.75, "tie_word_embeddings": True},  # Phi-4-mini's layout: GQA, tied
    "llama4_scout": {"architectures": ["Llama4ForConditionalGeneration"], "model_type": "llama4",
                     "text_config": {**_BASE, "model_type": "llama4_text", "head_dim": 64, "intermediate_size": 128,
                                     "intermediate_size_mlp": 384, "num_local_experts": 4, "num_experts_per_tok": 1,
                                     "interleave_moe_layer_step": 1}},
    "mistral3": {  # Mistral-Small-3.1's layout: a mistral text_config inside the vision wrapper
        "architectures": ["Mistral3ForConditionalGeneration"], "model_type": "mistral3",
        "text_config": {**_BASE, "model_type": "mistral", "head_dim": 128, "intermediate_size": 512, "sliding_window": None},
        "vision_config": {"hidden_size": 1024},
    },
    "deepseek_v3": {**_BASE, "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3", "num_key_value_heads": 4,
                    "intermediate_size": 512, "moe_intermediate_size": 64, "n_routed_experts": 8, "num_experts_per_tok": 2,
                    "n_shared_experts": 1, "first_k_dense_replace": 1, "q_lora_rank": 96, "kv_lora_rank": 64,
                    "qk_nope_head_dim": 32, "qk_rope_head_dim": 16, "v_head_dim": 32, "tie_word_embeddings": False},
    "deepseek_v2_lite": {**_BASE, "architectures": ["DeepseekV2ForCausalLM"], "model_type": "deepseek_v2", "num_key_value_heads": 4,
                         "num_hidden_layers": 27,  # llama.cpp reads V2 without q_lora_rank only at the Lite's 27 layers
                         "intermediate_size": 512, "moe_intermediate_size": 64, "n_routed_experts": 8, "num_experts_per_tok": 2,
                         "n_shared_experts": 2, "first_k_dense_replace": 1, "q_lora_rank": None, "kv_lora_rank": 64,
                         "qk_nope_head_dim": 32, "qk_rope_head_dim": 16, "v_head_dim": 32},
    "kimi_k2": {**_BASE, "architectures": ["DeepseekV3ForCausalLM"], "model_type": "kimi_k2", "num_key_value_heads": 4,
                "intermediate_size": 512, "moe_intermediate_size": 64, "n_routed_experts": 12, "num_experts_per_tok": 2,
                "n_shared_experts": 1, "first_k_dense_replace": 1, "q_lora_rank": 96, "kv_lora_rank": 64,
                "qk_nope_head_dim": 32, "qk_rope_head_dim": 16, "v_head_dim": 32},
    "qwen3_moe": {**_BASE, "model_type": "qwen3_moe", "head_dim": 64, "intermediate_size": 512, "moe_intermediate_size": 64,
                  "num_experts": 8, "num_experts_per_tok": 2},
}

EXPECTED_ARCH = {"llama4": "llama4", "gpt_oss": "gpt-oss", "gemma3": "gemma3", "gemma3_text": "gemma3", "phi3": "phi3",
                 "phi3_tied": "phi3", "llama4_scout": "llama4", "mistral3": "llama", "deepseek_v3": "deepseek2", "deepseek_v2_lite": "deepseek2", "kimi_k2": "deepseek2",
                 "qwen3_moe": "qwen3moe"}


def _S(ctx: int, fa: bool) -> EstimateSettings:
    return EstimateSettings(context=ctx, flash_attn=fa, ubatch=512, batch=2048, kv_type="f16")


@pytest.mark.parametrize("family", sorted(CONFIGS))
def test_config_json_and_its_gguf_size_the_same(family: str, tmp_path: Path) -> None:
    hub = spec_from_config(CONFIGS[family], name=f"org/{family}", source="t")
    assert hub.arch == EXPECTED_ARCH[family]
    ft = "Q8_0"
    path = tmp_path / f"{family}.gguf"
    write_synthetic(hub, ft, path=path)
    info = read_gguf(path)
    g = model_from_gguf(info)

    assert g.arch == hub.arch and g.n_layer == hub.n_layer
    assert g.params == hub.params  # the GGUF's element count = the config's count_params
    assert sum(t.n_bytes for t in info.tensors) == sum(t.n_bytes for t in model_tensors(hub, ft))
    assert sorted((t.name, t.shape, t.type_name) for t in info.tensors) == sorted((t.name, t.shape, t.type_name) for t in model_tensors(g, ft))
    assert mem.swa_layout(g) == mem.swa_layout(hub)
    for ctx in (4096, 32768):
        for fa in (True, False):
            s = _S(ctx, fa)
            assert [mem.kv_bytes_layer(g, s, i) for i in range(g.n_layer)] == [mem.kv_bytes_layer(hub, s, i) for i in range(hub.n_layer)]
            assert mem.compute_bytes(g, s) == mem.compute_bytes(hub, s), (ctx, fa)


def test_windowed_architectures_hold_only_the_window() -> None:
    s = _S(32768, True)
    full = mem.pad(32768, mem.KV_PAD)
    for family, windowed in (("gemma3", 10), ("gpt_oss", 4), ("llama4", 6), ("phi3", 0), ("mistral3", 0)):
        m = spec_from_config(CONFIGS[family], name=family, source="t")
        cells = [mem.kv_cells(m, s, i) for i in range(m.n_layer)]
        assert sum(c < full for c in cells) == windowed, (family, cells)


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(CONFIGS))
def test_llama_cpp_loads_the_config_json_shape(family: str, tmp_path: Path) -> None:
    # what the config.json mapping builds is a model llama.cpp itself loads and decodes (llama-cpp-python)
    pytest.importorskip("llama_cpp")
    from hwbench.bench.isolation import run_child
    from hwbench.bench.runner_llamacpp import LlamaInstance, LlamaTest, instance_job

    hub = spec_from_config(CONFIGS[family], name=f"org/{family}", source="t")
    ft = "MXFP4_MOE" if hub.arch == "gpt-oss" else "Q8_0"
    m = write_synthetic(hub, ft, path=tmp_path / f"{family}.gguf")
    inst = LlamaInstance(2, 0, 64, 64, "auto", "f16", "f16", (LlamaTest("pp16", 16, 0, 0), LlamaTest("tg4", 0, 4, 0)))
    out = run_child(instance_job(str(m.path), inst, reps=1), timeout_s=180)
    assert out.ok, (out.error, out.stderr_tail[-2000:])
