from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hwbench.arch import model_tensors
from hwbench.bench.synth import SYNTH_ARCHS, pattern, slice_layers, synth_tensors, tiny_spec, write_synthetic
from hwbench.quant import FILE_TYPES, GGML_TYPES


def test_written_file_matches_tensor_list(tiny_llama) -> None:  # type: ignore[no-untyped-def]
    import gguf

    r = gguf.GGUFReader(str(tiny_llama.path))
    want = {t.name: t for t in model_tensors(tiny_llama.spec, "Q4_K_M")}
    got = {t.name: t for t in r.tensors}
    assert set(got) == set(want)
    for name, t in want.items():
        g = got[name]
        assert tuple(int(x) for x in g.shape) == t.shape
        assert g.tensor_type.name == t.type_name
        assert int(g.n_bytes) == t.n_bytes
    ft = r.fields["general.file_type"]
    assert int(ft.parts[ft.data[0]][0]) == FILE_TYPES["Q4_K_M"].ftype_id
    toks = r.fields["tokenizer.ggml.tokens"]
    words = [bytes(toks.parts[i]).decode() for i in toks.data]
    assert len(words) == tiny_llama.spec.vocab
    assert len(set(words)) == len(words), "vocab tokens must be unique"


@pytest.mark.parametrize("type_name", sorted(t for t in GGML_TYPES if t not in ("Q8_K", "I8", "I16", "I32", "I64", "F64")))
def test_pattern_scales_are_finite_and_small(type_name: str) -> None:
    buf = pattern(type_name, n_bytes=1 << 16)
    t = GGML_TYPES[type_name]
    assert len(buf) % t.block_bytes == 0
    blocks = buf.reshape(-1, t.block_bytes)
    if type_name == "F16":
        assert np.isfinite(buf.view(np.float16)).all()
    elif type_name in ("Q4_K", "Q5_K", "Q4_0", "Q8_0"):
        d = blocks[:, 0:2].copy().view(np.float16).ravel()
        assert np.isfinite(d).all() and (np.abs(d) < 0.01).all()
    elif type_name == "Q6_K":
        d = blocks[:, 208:210].copy().view(np.float16).ravel()
        assert np.isfinite(d).all() and (np.abs(d) < 0.01).all()


def test_cache_reuse_and_force(tmp_path: Path) -> None:
    spec = tiny_spec(n_layer=2)
    a = write_synthetic(spec, "Q8_0", cache=tmp_path)
    assert not a.cached and a.path.exists() and a.path.parent == tmp_path
    b = write_synthetic(spec, "Q8_0", cache=tmp_path)
    assert b.cached and b.path == a.path
    c = write_synthetic(spec, "Q4_K_M", cache=tmp_path)
    assert c.path != a.path
    assert not list(tmp_path.glob(".*.tmp"))


def test_slice_keeps_full_model_types_and_renumbers() -> None:
    spec = tiny_spec(n_layer=16)
    assert slice_layers(16, 4) == [0, 5, 10, 15]
    sliced, tensors = synth_tensors(spec, "Q4_K_M", 4)
    assert sliced.n_layer == 4
    full = {t.name: t for t in model_tensors(spec, "Q4_K_M")}
    layers = sorted({t.layer for t in tensors if t.layer is not None})
    assert layers == [0, 1, 2, 3]
    # blk.1 of the slice is blk.5 of the full model, with the full model's type choice
    got = {t.name: t.type_name for t in tensors}
    assert got["blk.1.ffn_down.weight"] == full["blk.5.ffn_down.weight"].type_name
    assert got["blk.3.attn_v.weight"] == full["blk.15.attn_v.weight"].type_name


def test_unknown_arch_refused() -> None:
    from hwbench.errors import BadInput

    spec = tiny_spec(n_layer=2).model_copy(update={"arch": "rwkv6"})
    with pytest.raises(BadInput, match="not supported"):
        write_synthetic(spec, "Q4_K_M")
    assert "llama" in SYNTH_ARCHS
    # deepseek2 is written now (issue 10), but only with its MLA ranks
    bad = tiny_spec(n_layer=2).model_copy(update={"arch": "deepseek2"})
    with pytest.raises(BadInput, match="kv_lora_rank"):
        write_synthetic(bad, "Q4_K_M")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arch", "ftype", "kw"),
    [
        ("llama", "Q4_K_M", {}),
        ("llama", "IQ2_XXS", {}),
        ("llama", "F16", {}),
        ("llama", "Q4_K_M", {"n_expert": 4, "n_expert_used": 2, "n_ff_exp": 256}),  # mixtral-like
        ("qwen2", "Q5_K_M", {"qkv_bias": True, "tied_embeddings": True}),
        ("gemma2", "Q4_K_M", {"head_dim": 64, "tied_embeddings": True, "sliding_window": 64}),
        ("qwen3moe", "Q4_K_M", {"n_expert": 8, "n_expert_used": 2, "n_ff_exp": 128, "head_dim": 64}),
        # issue 10: the architectures people run now
        ("qwen3", "Q4_K_M", {"head_dim": 128, "tied_embeddings": True}),
        ("gemma3", "Q4_K_M", {"head_dim": 64, "tied_embeddings": True, "sliding_window": 64, "n_layer": 7}),
        ("phi3", "Q4_K_M", {}),
        ("mistral3", "Q4_K_M", {}),
        (
            "deepseek2",
            "Q4_K_M",
            {"head_dim": 96, "head_dim_v": 64, "qk_rope_dim": 32, "kv_lora_rank": 128, "q_lora_rank": 256, "n_expert": 8,
             "n_expert_used": 2, "n_ff_exp": 128, "n_expert_shared": 1, "n_dense_lead": 1},
        ),
        ("gpt-oss", "MXFP4_MOE", {"head_dim": 64, "n_head_kv": 2, "n_expert": 4, "n_expert_used": 2, "n_ff_exp": 256, "sliding_window": 32}),
        ("llama4", "Q4_K_M", {"n_head_kv": 2, "n_expert": 4, "n_expert_used": 1, "n_ff_exp": 256, "moe_every": 2, "n_layer": 4}),
    ],
)
def test_llamacpp_loads_and_decodes(tmp_path: Path, arch: str, ftype: str, kw: dict) -> None:  # type: ignore[type-arg]
    from hwbench.bench.isolation import run_child
    from hwbench.bench.runner_llamacpp import LlamaInstance, LlamaTest, instance_job

    kw = {"n_layer": 2, **kw}
    m = write_synthetic(tiny_spec(arch=arch, **kw), ftype, path=tmp_path / f"{arch}.gguf")
    inst = LlamaInstance(2, 0, 64, 64, "auto", "f16", "f16", (LlamaTest("pp16", 16, 0, 0), LlamaTest("tg4", 0, 4, 0)))
    out = run_child(instance_job(str(m.path), inst, reps=1), timeout_s=120)
    assert out.ok, (out.error, out.stderr_tail[-2000:])
    assert [e["test"] for e in out.events if e["event"] == "sample"] == ["pp16", "tg4"]
