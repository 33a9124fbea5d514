"""`hwbench check` through the real entry point: JSON contract, what-if, bad input -> one line, exit 2."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from hwbench.cli import main


def run(args, monkeypatch=None):
    """Invoke hwbench.cli.main the way the console script does; return (code, stdout, stderr)."""
    runner = CliRunner()
    result = runner.invoke(_entry, args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


import click  # noqa: E402


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def _entry(ctx):
    main(list(ctx.args))


CONTRACT = [
    ("verdict",),
    ("gpu_layers",),
    ("total_layers",),
    ("model", "params"),
    ("model", "quant"),
    ("model", "bits_per_weight"),
    ("memory", "weights_bytes"),
    ("memory", "kv_cache_bytes"),
    ("memory", "compute_bytes"),
    ("memory", "overhead_bytes"),
    ("memory", "total_bytes"),
    ("speed", "generation_tokens_per_s"),
    ("speed", "prompt_tokens_per_s"),
]


def _get(d, path):
    for k in path:
        d = d[k]
    return d


def test_json_contract_params_32b_q5():
    code, out, err = run(["check", "--params", "32b", "--quant", "q5", "--json", "--no-gpu", "--ram", "64GiB"])
    assert code == 0, err
    d = json.loads(out)
    for path in CONTRACT:
        _get(d, path)
    assert d["verdict"] == "cpu"
    assert d["model"]["params"] == 32_000_000_000
    assert d["model"]["quant"] == "Q5_K_M"
    assert 5.5 < d["model"]["bits_per_weight"] < 5.8
    for k in ("weights_bytes", "kv_cache_bytes", "compute_bytes", "overhead_bytes", "total_bytes"):
        assert isinstance(d["memory"][k], int)
    assert isinstance(d["speed"]["generation_tokens_per_s"], float)
    assert d["model"]["assumed_from"] == "qwen2.5-32b"
    assert any("assumed from qwen2.5-32b" in n for n in d["notes"])


def test_what_if_gpu_json():
    code, out, err = run(["check", "--model", "llama-3-8b", "--quant", "q4_k_m", "--gpu", "rtx 3090", "--context", "512", "--json"])
    assert code == 0, err
    d = json.loads(out)
    assert d["verdict"] == "gpu" and d["gpu_layers"] == 33 == d["total_layers"]
    assert d["hardware"]["gpus"][0]["name"] == "NVIDIA GeForce RTX 3090"
    assert 80 < d["speed"]["generation_tokens_per_s"] < 160


def test_405b_over_8_h100():
    code, out, _ = run(["check", "--model", "llama-3.1-405b", "--quant", "q4", "--gpu", "H100 SXM5", "--gpus", "8", "--ram", "1TiB", "--json"])
    d = json.loads(out)
    assert code == 0 and d["verdict"] == "gpu"
    assert len([x for x in d["memory"]["per_device"] if x["device"].startswith("GPU")]) == 8


def test_human_output_mentions_sources():
    code, out, _ = run(["check", "--params", "8b", "--no-gpu", "--ram", "32GB"])
    assert code == 0
    assert "Verdict: CPU" in out
    assert "estimated" in out
    assert "assumed" in out  # CPU bandwidth not measured here


def test_moe_forms():
    code, out, _ = run(["check", "--params", "8x7b", "--json", "--no-gpu", "--ram", "64GiB"])
    d = json.loads(out)
    assert code == 0 and d["model"]["name"] == "mixtral-8x7b"
    assert d["model"]["active_params"] < d["model"]["params"] / 3
    code, out, _ = run(["check", "--params", "30b", "--active-params", "3b", "--json", "--no-gpu", "--ram", "64GiB"])
    d = json.loads(out)
    assert code == 0 and d["model"]["active_params"] == 3_000_000_000


def test_gguf_input(tmp_path):
    from tests_helpers_gguf import write_tiny  # noqa: F401 - see conftest path insert

    p = write_tiny(tmp_path / "m.gguf")
    code, out, err = run(["check", "--gguf", str(p), "--json", "--no-gpu"])
    assert code == 0, err
    d = json.loads(out)
    assert d["model"]["source"] == "gguf" and d["model"]["quant"] == "F16"
    assert d["memory"]["weights_bytes"] == 174336


BAD = [
    (["check", "--params", "abc"], "--params"),
    (["check", "--params", "0"], "--params"),
    (["check", "--params", "-5b"], "--params"),
    (["check", "--params", "7b", "--quant", "q9"], "unknown quantization"),
    (["check", "--params", "7b", "--context", "-1"], "--context"),
    (["check", "--params", "7b", "--context", "0"], "--context"),
    (["check", "--params", "7b", "--context", "lots"], "--context"),
    (["check", "--gguf", "/nonexistent/model.gguf"], "no such file"),
    (["check", "--params", "7b", "--gpu", "RTX 9999 Mega"], "unknown GPU"),
    (["check", "--params", "7b", "--gpu", "rtx 3090", "--no-gpu"], "contradict"),
    (["check", "--params", "7b", "--model", "llama-3-8b"], "only one of"),
    (["check"], "say which model"),
    (["check", "--model", "llama-9-1b"], "unknown model"),
    (["check", "--params", "7b", "--kv-type", "q8_0", "--flash-attn", "off"], "flash-attn"),
    (["check", "--params", "7b", "--gpu-layers", "many"], "--gpu-layers"),
    (["check", "--params", "7b", "--gpus", "0", "--gpu", "rtx 3090"], "--gpus"),
    (["check", "--params", "7b", "--ram", "lots"], "--ram"),
    (["check", "--params", "7b", "--cpu-bandwidth", "fast"], "--cpu-bandwidth"),
    (["check", "--params", "7b", "--flash-attn", "maybe"], "--flash-attn"),
    (["check", "--bogus"], "No such option"),
    (["nosuchcommand"], "No such command"),
]


@pytest.mark.parametrize("args,needle", BAD)
def test_bad_input_one_line_exit_2(args, needle):
    code, out, err = run(args)
    assert code == 2, (out, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert needle.lower() in lines[0].lower()
    assert "Traceback" not in err


def test_not_gguf_and_truncated(tmp_path):
    txt = tmp_path / "notes.gguf"
    txt.write_text("hello, this is not a model")
    code, _, err = run(["check", "--gguf", str(txt)])
    assert code == 2 and "not a GGUF file" in err and len(err.strip().splitlines()) == 1
    from tests_helpers_gguf import write_tiny

    p = write_tiny(tmp_path / "t.gguf")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 3])
    code, _, err = run(["check", "--gguf", str(p)])
    assert code == 2 and "truncated" in err


def test_debug_shows_traceback():
    proc = subprocess.run([sys.executable, "-m", "hwbench", "--debug", "check", "--params", "abc"], capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_python_m_and_help_are_fast_paths():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "hwbench", "check", "--params", "7b", "--no-gpu", "--json"], capture_output=True, text=True)
    assert proc.returncode == 0
    imported = proc.stderr
    for heavy in ("torch", "llama_cpp", "matplotlib", "cpuinfo", "numpy"):
        assert f" {heavy}\n" not in imported and f"| {heavy}\n" not in imported, heavy
