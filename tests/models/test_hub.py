"""`--model ORG/NAME`, Hub URLs and hf:// addresses against a local Hub stand-in behind HF_ENDPOINT.

huggingface_hub's own client does the talking (repo info, HEAD + GET of config.json into its cache,
token headers); hwbench runs as a real `python -m hwbench` process so HF_ENDPOINT, HF_HOME,
HF_TOKEN and HF_HUB_OFFLINE are read the way a user's shell sets them. No test reaches the internet.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests_helpers_hub import COMMIT, HubRepo, hub_server, write_sparse_gguf

from hwbench.gguf_header import read_gguf
from hwbench.models.hf_config import spec_from_config

ROOT = Path(__file__).resolve().parents[2]
# Qwen3-32B's shape as its config.json gives it (source: see hwbench/data/models.yaml, qwen3-32b)
QWEN3_32B = {
    "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": 5120, "intermediate_size": 25600,
    "num_attention_heads": 64, "num_hidden_layers": 64, "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 151936,
    "tie_word_embeddings": False, "max_position_embeddings": 40960, "attention_bias": False,
}
UNSIZABLE = {"architectures": ["MambaForCausalLM"], "model_type": "mamba", "hidden_size": 768, "num_hidden_layers": 24}
SHAPE = dict(n_layer=24, n_embd=896, n_ff=4864, n_head=14, n_head_kv=2, vocab=151936)
TOKEN = "hf_good_token"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("hubfiles")
    (d / "qwen.json").write_text(json.dumps(QWEN3_32B))
    (d / "mamba.json").write_text(json.dumps(UNSIZABLE))
    out = {"config": d / "qwen.json", "mamba": d / "mamba.json"}
    q4_shape = dict(n_layer=8, n_embd=1024, n_ff=3072, n_head=16, n_head_kv=8, vocab=151936)  # K-quant rows: multiples of 256
    out["q4"] = write_sparse_gguf(d / "Tiny-Q4_K_M.gguf", name="tiny-q4", file_type="Q4_K_M", **q4_shape)  # type: ignore[arg-type]
    out["f16"] = write_sparse_gguf(d / "Tiny-F16.gguf", name="tiny-f16", **SHAPE)  # type: ignore[arg-type]
    for i, layers in enumerate([range(0, 12), range(12, 24)], 1):
        out[f"s{i}"] = write_sparse_gguf(
            d / f"Tiny-Q8_0-{i:05d}-of-00002.gguf", split=(i, 2), layers=layers, file_type="Q8_0", **SHAPE  # type: ignore[arg-type]
        )
    return out


@pytest.fixture()
def hub(files: dict[str, Path]) -> Iterator[tuple[str, Any]]:
    repos = {
        "Qwen/Qwen3-32B": HubRepo({"config.json": files["config"], "model-00001-of-00017.safetensors": files["config"]}),
        "someone/Tiny-GGUF": HubRepo({
            "Tiny-Q4_K_M.gguf": files["q4"], "Tiny-F16.gguf": files["f16"], "README.md": files["config"],
            "Q8_0/Tiny-Q8_0-00001-of-00002.gguf": files["s1"], "Q8_0/Tiny-Q8_0-00002-of-00002.gguf": files["s2"],
        }),
        "meta-llama/Gated-8B": HubRepo({"config.json": files["config"]}, gated=True),
        "state-spaces/mamba-130m": HubRepo({"config.json": files["mamba"]}),
        "Qwen/Qwen2.5-7B": HubRepo({"config.json": files["config"]}),
    }
    with hub_server(repos, token=TOKEN) as srv:
        yield srv


def hwbench(args: list[str], endpoint: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE"))}
    e.update(HF_ENDPOINT=endpoint, HF_HOME=str(home), PYTHONPATH=str(ROOT), HF_HUB_DISABLE_TELEMETRY="1", **env)
    return subprocess.run([sys.executable, "-m", "hwbench", *args], env=e, capture_output=True, text=True, timeout=120)


def check(ref: str, endpoint: str, home: Path, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
    return hwbench(["check", "--model", ref, *extra, "--json", "--no-gpu", "--ram", "1TiB"], endpoint, home, **env)


def one_error_line(p: subprocess.CompletedProcess[str]) -> str:
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    return lines[0]


def test_config_json_from_the_hub_then_from_the_warm_cache_offline(hub: tuple[str, Any], tmp_path: Path) -> None:
    url, served = hub
    p = check("Qwen/Qwen3-32B", url, tmp_path, "--quant", "q5")
    assert p.returncode == 0, p.stderr
    model = json.loads(p.stdout)["model"]
    want = spec_from_config(QWEN3_32B, name="Qwen/Qwen3-32B", source="x")
    assert (model["arch"], model["params"], model["n_layer"], model["quant"]) == ("qwen3", want.params, 64, "Q5_K_M")
    assert 32.0e9 < model["params"] < 33.0e9  # Qwen3-32B: 32.8B with embeddings and output
    assert "config.json (Hub, revision" in model["source"]
    got = [path for m, path, _ in served.requests if "/resolve/" in path]
    assert got and all(path.endswith("/config.json") for path in got)  # config.json only, never a weights file
    n = len(served.requests)
    # warm cache, offline: the same answer and not one request
    p2 = check("Qwen/Qwen3-32B", url, tmp_path, "--quant", "q5", HF_HUB_OFFLINE="1")
    assert p2.returncode == 0, p2.stderr
    m2 = json.loads(p2.stdout)["model"]
    assert m2["params"] == model["params"] and "Hub cache" in m2["source"]
    assert len(served.requests) == n
    # warm cache, online: answered from the cache too (check stays fast)
    p3 = check("Qwen/Qwen3-32B", url, tmp_path)
    assert p3.returncode == 0 and len(served.requests) == n


def test_offline_with_a_cold_cache_says_it_is_not_cached(hub: tuple[str, Any], tmp_path: Path) -> None:
    url, served = hub
    # a repo the bundled catalog does not hold (Qwen/Qwen3-32B would fall back to its bundled entry)
    line = one_error_line(check("someone/Uncatalogued-7B", url, tmp_path, HF_HUB_OFFLINE="1"))
    assert "not in the local Hugging Face cache" in line and "HF_HUB_OFFLINE=1" in line
    assert served.requests == []


def test_offline_cold_cache_falls_back_to_the_bundled_entry_of_that_repo(hub: tuple[str, Any], tmp_path: Path) -> None:
    url, served = hub
    p = check("Qwen/Qwen2.5-7B", url, tmp_path, HF_HUB_OFFLINE="1")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["model"]["name"] == "qwen2.5-7b" and d["model"]["source"] == "profile"
    assert any("bundled entry qwen2.5-7b" in n for n in d["notes"])
    assert served.requests == []


def test_gated_model_without_access_then_with_a_token(hub: tuple[str, Any], tmp_path: Path) -> None:
    url, _ = hub
    line = one_error_line(check("meta-llama/Gated-8B", url, tmp_path))
    assert "gated" in line and "accept its licence" in line and "HF_TOKEN" in line
    line = one_error_line(check("meta-llama/Gated-8B", url, tmp_path, HF_TOKEN="hf_wrong"))
    assert "gated" in line
    p = check("meta-llama/Gated-8B", url, tmp_path, HF_TOKEN=TOKEN)
    assert p.returncode == 0, p.stderr


def test_unknown_repo_revision_and_architecture_are_one_line_each(hub: tuple[str, Any], tmp_path: Path) -> None:
    url, _ = hub
    line = one_error_line(check("nobody/no-such-model", url, tmp_path))
    assert "no model 'nobody/no-such-model' on the Hugging Face Hub" in line
    line = one_error_line(check("Qwen/Qwen3-32B@v9.9", url, tmp_path))
    assert "no revision 'v9.9'" in line
    line = one_error_line(check("state-spaces/mamba-130m", url, tmp_path))
    assert "'mamba'" in line and "MambaForCausalLM" in line and "cannot size" in line


def test_no_network_is_one_line(tmp_path: Path) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    line = one_error_line(check("someone/Uncatalogued-7B", f"http://127.0.0.1:{port}", tmp_path))
    assert "cannot reach the Hugging Face Hub" in line
    # a repo the catalog was taken from still answers, and says why it used the catalog
    p = check("Qwen/Qwen3-32B", f"http://127.0.0.1:{port}", tmp_path)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["model"]["name"] == "qwen3-32b" and any("cannot reach the Hugging Face Hub" in n for n in d["notes"])


def test_gguf_repo_quant_picks_the_file_and_only_the_header_is_read(hub: tuple[str, Any], tmp_path: Path, files: dict[str, Path]) -> None:
    url, served = hub
    p = check("someone/Tiny-GGUF", url, tmp_path, "--quant", "f16")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    local = read_gguf(files["f16"])
    assert d["model"]["params"] == sum(t.n_elements for t in local.tensors)
    assert d["model"]["quant"] == "F16" and "Tiny-F16.gguf" in d["model"]["source"]
    sent = sum(v for k, v in served.bytes_sent.items() if k.endswith("Tiny-F16.gguf"))
    assert 0 < sent < 0.02 * files["f16"].stat().st_size
    assert not any(k.endswith("Tiny-Q4_K_M.gguf") for k in served.bytes_sent)
    # the same file through hf:// and through a Hub URL gives the same memory answer
    p2 = hwbench(["check", "--gguf", "hf://someone/Tiny-GGUF/Tiny-F16.gguf", "--json", "--no-gpu", "--ram", "1TiB"], url, tmp_path)
    p3 = check(f"{url}/someone/Tiny-GGUF/blob/main/Tiny-F16.gguf", url, tmp_path)
    assert p2.returncode == 0 and p3.returncode == 0, (p2.stderr, p3.stderr)
    assert json.loads(p2.stdout)["memory"] == d["memory"] == json.loads(p3.stdout)["memory"]


def test_gguf_repo_default_quant_split_shards_and_a_missing_quant(hub: tuple[str, Any], tmp_path: Path, files: dict[str, Path]) -> None:
    url, served = hub
    p = check("someone/Tiny-GGUF", url, tmp_path)  # no --quant: Q4_K_M, as llama.cpp users expect
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert "Tiny-Q4_K_M.gguf" in d["model"]["source"] and d["model"]["quant"] == "Q4_K_M" and d["model"]["n_layer"] == 8
    p = check("someone/Tiny-GGUF", url, tmp_path, "--quant", "q8_0")  # a split file in a folder
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert "2 shards" in d["model"]["source"] and d["model"]["quant"] == "Q8_0"
    want = sum(t.n_elements for f in ("s1", "s2") for t in read_gguf(files[f]).tensors)
    assert d["model"]["params"] == want
    for i in (1, 2):
        assert served.bytes_sent[f"/someone/Tiny-GGUF/resolve/{COMMIT}/Q8_0/Tiny-Q8_0-0000{i}-of-00002.gguf"] > 0
    line = one_error_line(check("someone/Tiny-GGUF", url, tmp_path, "--quant", "q5_k_m"))
    assert "no Q5_K_M GGUF file" in line and "F16" in line and "Q4_K_M" in line and "Q8_0" in line


def test_bundled_names_never_import_huggingface_hub(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from hwbench.cli import main\n"
        "try:\n"
        "    main(['check', '--model', 'llama-3.1-8b', '--no-gpu', '--json'])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('huggingface_hub', 'httpx', 'httpx2') or m.startswith('hwbench.models')))\n"
    )
    e = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    e["PYTHONPATH"] = str(ROOT)
    p = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == "[]"


@pytest.fixture()
def inprocess_hub(hub: tuple[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Any]:
    """The Hub stand-in for in-process calls: HF_ENDPOINT (read per call by hwbench) and an empty Hub cache."""
    import huggingface_hub.constants as C

    monkeypatch.setenv("HF_ENDPOINT", hub[0])
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(C, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    return hub


def test_bench_report_and_recommend_resolve_a_hub_id_like_check(inprocess_hub: tuple[str, Any], tmp_path: Path) -> None:
    from hwbench.bench.options import BenchOptions
    from hwbench.bench.target import resolve_target
    from hwbench.report.matrix import resolve_size
    from hwbench.resolve import resolve_model

    checked = resolve_model(model="Qwen/Qwen3-32B", quant="q5")
    assert checked.spec.arch == "qwen3" and checked.spec.params == spec_from_config(QWEN3_32B, name="x", source="x").params
    target = resolve_target(BenchOptions(model="Qwen/Qwen3-32B", quant="q5"))  # bench: a synthetic file of this shape
    assert target.resolved is not None and target.gguf is None and target.quant == checked.quant
    # the same model; only where it was read differs (the Hub, then the warm cache)
    assert target.resolved.spec.model_dump(exclude={"source"}) == checked.spec.model_dump(exclude={"source"})
    assert "Hub cache" in (target.resolved.spec.source or "")
    row = resolve_size("Qwen/Qwen3-32B")  # report --models keeps the id's case
    assert row.spec.params == checked.spec.params
    # recommend: the same command-line path as check
    from tests_helpers_cli import run_cli

    code, out, err = run_cli(["recommend", "--model", "Qwen/Qwen3-32B", "--json"])
    assert code == 0, err
    # a remote GGUF in bench: its header's shape, measured as a synthetic model (the file is not downloaded)
    t = resolve_target(BenchOptions(gguf="hf://someone/Tiny-GGUF/Tiny-F16.gguf"))
    assert t.gguf is None and t.spec.n_layer == 24 and t.quant.name == "F16"
    assert any("not downloaded" in n for n in (t.resolved.notes if t.resolved else []))


def test_gated_gguf_via_cdn_redirect_keeps_range_and_drops_the_token(files: dict[str, Path], tmp_path: Path) -> None:
    """The Hub sends GGUF bytes from another host: the Range header follows the redirect, the token does not."""
    from tests_helpers_hub import file_server

    with file_server(files["f16"].parent) as (cdn, cdn_served):
        repos = {"org/Gated-GGUF": HubRepo({"Tiny-F16.gguf": files["f16"]}, gated=True, redirect_gguf_to=cdn)}
        with hub_server(repos, token=TOKEN) as (url, hub_served):
            line = one_error_line(check("org/Gated-GGUF", url, tmp_path, "--quant", "f16"))
            assert "gated" in line and "HF_TOKEN" in line
            p = check("org/Gated-GGUF", url, tmp_path, "--quant", "f16", HF_TOKEN=TOKEN)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["model"]["params"] == sum(t.n_elements for t in read_gguf(files["f16"]).tensors)
    assert cdn_served.requests and all(r[2] is not None for r in cdn_served.requests)  # every CDN request a range
    assert cdn_served.authorization and all(a is None for a in cdn_served.authorization)  # the token stayed home
    assert 0 < sum(cdn_served.bytes_sent.values()) < 0.02 * files["f16"].stat().st_size
