"""ggml block layouts and llama.cpp's quantization mix, checked against the gguf package and known files."""

import gguf
import pytest

from hwbench.arch import model_tensors
from hwbench.errors import BadInput
from hwbench.profiles import get_model
from hwbench.quant import EXTERNAL_FORMATS, FILE_TYPES, GGML_TYPES, parse_quant


def test_block_layouts_match_ggml():
    """Every type's (elements, bytes) per block equals gguf's copy of ggml's table."""
    for name, t in GGML_TYPES.items():
        if name == "Q8_1":
            # ggml-common.h: block_q8_1 is 2 halves + 32 int8 = 36 bytes (static_assert there);
            # gguf-py's table still says 40. Q8_1 is only an activation type, never a weight type.
            assert t.block_bytes == 36
            continue
        gt = gguf.GGMLQuantizationType[name]
        assert int(gt) == t.type_id, name
        assert gguf.GGML_QUANT_SIZES[gt] == (t.block_elems, t.block_bytes), name


def test_file_type_ids_match_llama_h():
    for name, ft in FILE_TYPES.items():
        key = "ALL_F32" if name == "F32" else f"MOSTLY_{name}"
        assert int(gguf.LlamaFileType[key]) == ft.ftype_id, name


@pytest.mark.parametrize(
    "name,bpw",
    [("Q4_0", 4.5), ("Q8_0", 8.5), ("Q4_K", 4.5), ("Q5_K", 5.5), ("Q6_K", 6.5625), ("Q2_K", 2.625), ("IQ4_XS", 4.25), ("IQ2_XXS", 2.0625), ("MXFP4", 4.25), ("F16", 16.0)],
)
def test_bits_per_weight(name, bpw):
    assert GGML_TYPES[name].bits_per_weight == pytest.approx(bpw)


@pytest.mark.parametrize(
    "typed,canonical",
    [("q2", "Q2_K"), ("q3", "Q3_K_M"), ("q4", "Q4_K_M"), ("q5", "Q5_K_M"), ("q6", "Q6_K"), ("q8", "Q8_0"), ("Q4_K_S", "Q4_K_S"), ("iq4_xs", "IQ4_XS"), ("IQ2_XXS", "IQ2_XXS"), ("f16", "F16"), ("bf16", "BF16"), ("fp16", "F16"), ("mxfp4", "MXFP4_MOE")],
)
def test_parse_quant_gguf(typed, canonical):
    q = parse_quant(typed)
    assert q.name == canonical and q.is_gguf


@pytest.mark.parametrize("typed,name", [("gptq", "gptq-4bit"), ("AWQ", "awq-4bit"), ("nf4", "nf4"), ("fp8", "fp8"), ("int8", "int8")])
def test_parse_quant_external(typed, name):
    q = parse_quant(typed)
    assert q.name == name and not q.is_gguf


def test_gptq_group_overhead():
    # 4 bits + (fp16 scale + 4-bit zero) per 128 weights = 4.15625 bits
    assert EXTERNAL_FORMATS["gptq-4bit"].bits_per_weight == pytest.approx(4.15625)
    # NF4 blocksize 64 with double-quantized absmax: 4 + (8 + 32/256)/64
    assert EXTERNAL_FORMATS["nf4"].bits_per_weight == pytest.approx(4.127, abs=1e-3)


@pytest.mark.parametrize("bad", ["q9", "q1", "Q4_K_X", "", "int3", "<script>"])
def test_parse_quant_rejects(bad):
    with pytest.raises(BadInput) as e:
        parse_quant(bad)
    assert "accepted" in str(e.value)


def _types(model: str, ftype: str) -> dict[str, str]:
    return {t.name: t.type_name for t in model_tensors(get_model(model), ftype)}


def test_q4_k_m_mix_llama3_8b():
    """Q4_K_M: attn_v/ffn_down get Q6_K on the use_more_bits layers, output Q6_K, embedding Q4_K."""
    t = _types("llama-3-8b", "Q4_K_M")
    assert t["output.weight"] == "Q6_K"
    assert t["token_embd.weight"] == "Q4_K"
    assert t["blk.0.attn_norm.weight"] == "F32"
    q6_layers = [i for i in range(32) if t[f"blk.{i}.ffn_down.weight"] == "Q6_K"]
    # use_more_bits(i, 32): i < 4, i >= 28, or (i - 4) % 3 == 2
    assert q6_layers == [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]
    assert [i for i in range(32) if t[f"blk.{i}.attn_v.weight"] == "Q6_K"] == q6_layers
    assert t["blk.4.attn_q.weight"] == "Q4_K"


def test_known_file_sizes():
    """Weights of well-known GGUF files (sizes as llama-bench reports them, GiB)."""
    def gib(model, ft):
        return sum(t.n_bytes for t in model_tensors(get_model(model), ft)) / 2**30

    assert gib("llama-3-8b", "Q4_K_M") == pytest.approx(4.58, abs=0.01)
    assert gib("llama-3-8b", "F16") == pytest.approx(14.96, abs=0.01)
    assert gib("llama-3-70b", "Q4_K_M") == pytest.approx(39.59, abs=0.01)
    assert gib("llama-3-70b", "F16") == pytest.approx(131.42, abs=0.01)


def test_70b_attn_v_bump_and_fallback():
    t = _types("llama-3-70b", "Q4_K_M")
    # LLM_TYPE_70B: attn_v that would be Q4_K becomes Q5_K (layer 11: not a use_more_bits layer of 80)
    assert t["blk.11.attn_v.weight"] == "Q5_K"
    assert t["blk.5.attn_v.weight"] == "Q6_K"
    # Qwen2.5-72B: n_ff 29568 is not a multiple of 256 -> ffn_down (ne0 = n_ff) falls back from Q4_K to Q5_0
    q = _types("qwen2.5-72b", "Q4_K_M")
    assert q["blk.11.ffn_down.weight"] == "Q5_0"
    assert q["blk.0.ffn_down.weight"] == "Q8_0"  # Q6_K falls back to Q8_0


def test_moe_8_experts_attn_bumps():
    t = _types("mixtral-8x7b", "Q4_K_M")
    assert t["blk.3.attn_v.weight"] == "Q8_0"
    assert t["blk.3.attn_k.weight"] == "Q8_0"
    assert t["blk.3.ffn_gate_inp.weight"] == "F32"
    assert t["blk.3.ffn_up_exps.weight"] == "Q4_K"
