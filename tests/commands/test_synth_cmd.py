"""`hwbench synth` (issue 10): the synthetic GGUF bench would use, written where the user asks.

The written header must read back (hwbench's own GGUF reader, the one `check --gguf` uses) as the
shape that was asked for, with the per-architecture facts llama.cpp derives from it: gemma3's 5:1
window pattern, Llama 4's chunked layers and interleaved MoE, gpt-oss's sinks and biased experts,
DeepSeek's MLA head sizes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hwbench.arch import model_tensors
from hwbench.bench.synth import tiny_spec, write_synthetic
from hwbench.estimate import memory as mem
from hwbench.gguf_header import model_from_gguf, read_gguf
from tests.helpers.tests_helpers_cli import error_lines, run_cli

pytest.importorskip("gguf")


def test_synth_writes_the_file_check_reads(tmp_path: Path) -> None:
    out = tmp_path / "phi.gguf"
    rc, stdout, stderr = run_cli(["synth", "--model", "phi-3-mini", "--quant", "q4", "--layers", "2", "-o", str(out)])
    assert rc == 0, stderr
    assert "2 of 32 layers" in stdout and "Q4_K_M" in stdout
    assert "random weights" in stderr
    info = read_gguf(out)
    spec = model_from_gguf(info)
    assert (spec.arch, spec.n_layer, spec.n_embd, spec.vocab) == ("phi3", 2, 3072, 32064)
    got = {t.name: (t.shape, t.type_name) for t in info.tensors}
    from hwbench.bench.synth import synth_tensors
    from hwbench.profiles import get_model

    _, want = synth_tensors(get_model("phi-3-mini"), "Q4_K_M", 2)
    assert got == {t.name: (t.shape, t.type_name) for t in want}
    rc, stdout, _ = run_cli(["check", "--gguf", str(out)])
    assert rc == 0 and "phi-3-mini" in stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--quant", "q4"], "say which model"),
        (["--model", "no-such-model"], "unknown model"),
        (["--model", "phi-3-mini", "--quant", "fp8"], "GGUF type"),
        (["--model", "phi-3-mini", "--quant", "q77"], "unknown quantization"),
        (["--model", "phi-3-mini", "--layers", "0"], "at least 1"),
        (["--model", "phi-3-mini", "--layers", "x"], "--layers"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    rc, stdout, stderr = run_cli(["synth", *args, "-o", str(tmp_path / "x.gguf")])
    assert rc == 2
    lines = error_lines(stderr)
    assert len(lines) == 1 and needle in lines[0], stderr
    assert not (tmp_path / "x.gguf").exists()


def test_output_path_errors(tmp_path: Path) -> None:
    rc, _, stderr = run_cli(["synth", "--model", "llama-3.2-1b", "-o", str(tmp_path / "no" / "x.gguf")])
    assert rc == 2 and "does not exist" in stderr
    rc, _, stderr = run_cli(["synth", "--model", "llama-3.2-1b", "-o", str(tmp_path / "x.bin")])
    assert rc == 2 and ".gguf" in stderr
    f = tmp_path / "x.gguf"
    f.write_bytes(b"keep me")
    rc, _, stderr = run_cli(["synth", "--model", "llama-3.2-1b", "--layers", "1", "-o", str(f)])
    assert rc == 2 and "--force" in stderr and f.read_bytes() == b"keep me"
    rc, _, stderr = run_cli(["synth", "--model", "llama-3.2-1b", "--layers", "1", "--force", "-o", str(f)])
    assert rc == 0, stderr
    assert f.read_bytes()[:4] == b"GGUF"


def test_mla_model_without_q_lora_must_keep_llama_cpps_lite_layer_count(tmp_path: Path) -> None:
    spec = tiny_spec(arch="deepseek2", n_layer=4, head_dim=96, head_dim_v=64, qk_rope_dim=32, kv_lora_rank=128)
    from hwbench.errors import BadInput

    with pytest.raises(BadInput, match="26 or 27 layers"):
        write_synthetic(spec, "Q4_K_M", path=tmp_path / "ds.gguf")


def _roundtrip(tmp_path: Path, arch: str, ftype: str = "Q4_K_M", **kw: object):  # type: ignore[no-untyped-def]
    spec = tiny_spec(arch=arch, **kw)
    m = write_synthetic(spec, ftype, path=tmp_path / f"{arch}.gguf")
    info = read_gguf(m.path)
    back = model_from_gguf(info)
    assert {t.name: t.n_bytes for t in info.tensors} == {t.name: t.n_bytes for t in model_tensors(spec, ftype)}
    return spec, back


def test_header_roundtrip_gemma3_window_pattern(tmp_path: Path) -> None:
    spec, back = _roundtrip(tmp_path, "gemma3", n_layer=7, head_dim=64, tied_embeddings=True, sliding_window=64)
    assert back.sliding_window == 64 and mem.swa_layout(back) == (64, 6)
    from hwbench.schema import EstimateSettings

    s = EstimateSettings(context=4096, ubatch=512, batch=2048)
    assert [mem.kv_cells(back, s, i) for i in range(7)] == [768] * 5 + [4096, 768]


def test_header_roundtrip_llama4_chunks_and_interleave(tmp_path: Path) -> None:
    spec, back = _roundtrip(tmp_path, "llama4", n_layer=4, n_head_kv=2, n_expert=4, n_expert_used=1, n_ff_exp=256, moe_every=2)
    assert back.moe_every == 2 and mem.swa_layout(back) == (8192, 4)


def test_header_roundtrip_gpt_oss(tmp_path: Path) -> None:
    spec, back = _roundtrip(
        tmp_path, "gpt-oss", "MXFP4_MOE", head_dim=64, n_head_kv=2, n_expert=4, n_expert_used=2, n_ff_exp=256, sliding_window=32
    )
    assert back.attn_sinks and back.moe_bias
    assert back.head_dim == 64 and mem.swa_layout(back) == (32, 2)


def test_header_roundtrip_deepseek2_mla(tmp_path: Path) -> None:
    spec, back = _roundtrip(
        tmp_path,
        "deepseek2",
        head_dim=96,
        head_dim_v=64,
        qk_rope_dim=32,
        kv_lora_rank=128,
        q_lora_rank=256,
        n_expert=8,
        n_expert_used=2,
        n_ff_exp=128,
        n_expert_shared=1,
        n_dense_lead=1,
    )
    # the GGUF's key/value_length describe the cached latent; the per-head sizes come from *_mla
    assert (back.head_dim, back.head_dim_v, back.kv_lora_rank, back.q_lora_rank, back.qk_rope_dim) == (96, 64, 128, 256, 32)
    assert mem.kv_row_dims(back) == (160, 0)


def test_header_roundtrip_llama4_chunking_off(tmp_path: Path) -> None:
    # sliding_window = 0 in a llama4 header turns chunked attention off in llama.cpp: every layer full
    spec, back = _roundtrip(tmp_path, "llama4", n_layer=4, n_head_kv=2, n_expert=4, n_expert_used=1, n_ff_exp=256, attn_chunk=0)
    assert back.attn_chunk == 0 and mem.swa_layout(back) is None
