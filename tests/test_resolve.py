"""One resolver: `check` and `bench` turn the same words into the same model; a bare --params is scaled.

`bench` here runs through its real entry point with the llama.cpp part replaced by a spy, so nothing
is written or measured: the spy receives the target `bench` would measure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests_helpers_cli import run_cli

import hwbench.resolve
from hwbench.arch import _SHAPE_FIELDS, active_params, count_params, model_tensors
from hwbench.bench.options import BenchOptions
from hwbench.bench.target import Target, resolve_target
from hwbench.errors import BadInput
from hwbench.machine import Machine, minimal_host
from hwbench.profiles import load_models
from hwbench.resolve import MAX_LAYERS, resolve_model
from hwbench.schema import HardwareTarget

ROOMY = HardwareTarget(label="roomy", ram_bytes=2**40, cpu_bandwidth_gbps=20.0, cpu_tflops=0.5, cpu_cores=2)


@pytest.fixture
def bench_spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Target, HardwareTarget]]:
    """`hwbench bench` on a fixed machine, with the measurement replaced by a spy that keeps (target, hw)."""
    seen: list[tuple[Target, HardwareTarget]] = []
    monkeypatch.setattr("hwbench.bench.orchestrate.this_machine", lambda *a, **k: Machine(minimal_host(), ROOMY, None))
    monkeypatch.setattr("hwbench.bench.llamacpp_part.run_llamacpp_part", lambda opts, target, inst, hw, rec: seen.append((target, hw)))
    return seen


def _bench_target(args: list[str], tmp_path: Path, spy: list[tuple[Target, HardwareTarget]]) -> Target:
    code, out, err = run_cli(["bench", *args, "--out", str(tmp_path / "res"), "-p", "16", "-n", "4", "-r", "1", "-t", "1"])
    assert code == 0, err
    assert len(spy) == 1
    return spy[0][0]


def _check(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], hwbench.resolve.ResolvedModel]:
    """`hwbench check ARGS --json` and the model its resolver call returned."""
    seen: list[hwbench.resolve.ResolvedModel] = []
    real = hwbench.resolve.resolve_model

    def spy(**kw: Any) -> hwbench.resolve.ResolvedModel:
        seen.append(real(**kw))
        return seen[-1]

    monkeypatch.setattr("hwbench.resolve.resolve_model", spy)
    code, out, err = run_cli(["check", *args, "--json", "--no-gpu", "--ram", "1TiB"])
    monkeypatch.setattr("hwbench.resolve.resolve_model", real)
    assert code == 0, err
    assert len(seen) == 1
    return json.loads(out), seen[0]


SAME_INPUTS = [
    ["--params", "7b"],
    ["--params", "32b"],
    ["--params", "70b"],
    ["--params", "8x7b"],
    ["--params", "8x22b"],
    ["--params", "20b", "--quant", "q8_0"],
    ["--model", "llama-3.1-8b"],
    ["--model", "qwen2.5-14b", "--quant", "Q5_K_M"],
]


@pytest.mark.parametrize("args", SAME_INPUTS, ids=lambda a: " ".join(a))
def test_bench_and_check_resolve_the_same_model(args: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bench_spy) -> None:  # type: ignore[no-untyped-def]
    d, checked = _check(args, monkeypatch)
    target = _bench_target(args, tmp_path, bench_spy)
    # the resolver answered bench exactly as it answered check ...
    assert target.resolved == checked
    assert target.quant == checked.quant and d["model"]["quant"] == target.quant.name
    # ... and bench writes exactly the shape check estimates (every field that decides a tensor)
    for f in sorted(_SHAPE_FIELDS):
        assert getattr(target.spec, f) == getattr(checked.spec, f), f
    assert target.tensors == model_tensors(checked.spec, checked.quant.name)
    assert d["model"]["n_layer"] == target.spec.n_layer and d["model"]["name"] == target.spec.name
    assert d["model"]["assumed_from"] == target.spec.assumed_from
    # the file holds what check sized (whole layers: within 1%)
    assert target.spec.params == pytest.approx(checked.spec.params, rel=0.01)
    assert target.spec.params == count_params(target.spec)


def test_bench_params_8x22b_is_the_8x22b_shape(tmp_path: Path, bench_spy) -> None:  # type: ignore[no-untyped-def]
    """Mixtral-8x22B: 8 experts, 2 per token, 140.6B parameters in all, 39.2B active."""
    t = _bench_target(["--params", "8x22b"], tmp_path, bench_spy)
    s = t.spec
    assert s.is_moe and s.n_expert == 8 and s.n_expert_used == 2
    assert s.params == pytest.approx(141e9, rel=0.03)
    assert active_params(s) == pytest.approx(39.2e9, rel=0.08)
    assert s.arch == "llama"  # llama.cpp loads experts in the llama architecture (Mixtral)
    exps = [x for x in t.tensors if x.name == "blk.0.ffn_up_exps.weight"]
    assert len(exps) == 1 and exps[0].shape[-1] == 8
    # the catalog has Mixtral-8x22B's own config.json shape since issue 10: that, not a borrowed one
    assert t.gguf is None and t.resolved is not None and t.resolved.source == "profile" and s.name == "mixtral-8x22b"


def test_bare_params_scale_the_borrowed_shape_by_depth() -> None:
    models = load_models()
    for text, total in (("7b", 7e9), ("20b", 20e9), ("32b", 32e9), ("70b", 70e9), ("120b", 120e9), ("1t", 1e12)):
        r = resolve_model(params=text)
        ref = models[r.spec.assumed_from or ""]
        shape_params = count_params(r.spec)
        per_layer = count_params(r.spec.model_copy(update={"n_layer": 2})) - count_params(r.spec.model_copy(update={"n_layer": 1}))
        assert r.spec.params == total
        assert abs(shape_params - total) <= per_layer / 2 + 1, text  # the nearest whole number of layers
        assert r.size_factor * shape_params == pytest.approx(total)
        # width, heads and vocabulary are the reference's
        for f in ("n_embd", "n_head", "n_head_kv", "n_ff", "vocab", "arch"):
            assert getattr(r.spec, f) == getattr(ref, f)
        assert any(ref.name in n for n in r.notes)


def test_depth_is_capped_at_llama_cpps_layer_limit() -> None:
    r = resolve_model(params="2t")
    assert r.spec.n_layer == MAX_LAYERS and r.spec.params == 2 * 10**12
    assert r.size_factor > 1.1  # the rest of the size is scaled, not dropped


def test_no_reference_shape_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    only_moe = {k: v for k, v in load_models().items() if v.is_moe}
    monkeypatch.setattr(hwbench.resolve, "load_models", lambda extra_dir=None: only_moe)
    with pytest.raises(BadInput, match="no dense llama/qwen2 model"):
        resolve_model(params="7b")


def test_check_shows_what_the_resolver_assumed(monkeypatch: pytest.MonkeyPatch) -> None:
    # 8x13b: a MoE with no profile of its own, so the resolver assumes a shape and says so (8x22b has a profile now)
    d, r = _check(["--params", "8x13b"], monkeypatch)
    assert r.notes and d["notes"][: len(r.notes)] == r.notes
    assert d["model"]["params"] == r.spec.params and d["model"]["n_layer"] == r.spec.n_layer


# ----------------------------------------------------------------------------- --profiles-dir

MY_MODEL = """models:
  - {name: my-13b, arch: llama, params: 13015864320, n_layer: 40, n_embd: 5120, n_head: 40, n_head_kv: 40, n_ff: 13824,
     vocab: 32000, context_length: 4096, source: "test"}
"""


@pytest.fixture
def user_profiles(tmp_path: Path) -> Path:
    d = tmp_path / "profiles"
    d.mkdir()
    (d / "models-mine.yaml").write_text(MY_MODEL)
    return d


def test_bench_reads_models_from_profiles_dir_like_check(
    user_profiles: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bench_spy
) -> None:  # type: ignore[no-untyped-def]
    args = ["--model", "my-13b", "--profiles-dir", str(user_profiles)]
    d, checked = _check(args, monkeypatch)
    t = _bench_target(args, tmp_path, bench_spy)
    assert t.spec.name == "my-13b" == d["model"]["name"] and t.resolved == checked
    code, _, err = run_cli(["bench", "--model", "my-13b", "--out", str(tmp_path / "r2")])
    assert code == 2 and "unknown model" in err


def test_bench_resolves_like_check_without_the_cli() -> None:
    """The programmatic path (BenchOptions) goes through the same resolver."""
    for kw in ({"params": "32b"}, {"params": "8x22b"}, {"model": "mistral-7b", "quant": "q8_0"}):
        t = resolve_target(BenchOptions(**kw))  # type: ignore[arg-type]
        assert t.resolved == resolve_model(**kw)


def test_bench_gguf_quant_is_the_files_own(tmp_path: Path, bench_spy) -> None:  # type: ignore[no-untyped-def]
    from tests_helpers_gguf import write_tiny

    gguf = write_tiny(tmp_path / "m.gguf")
    t = _bench_target(["--gguf", str(gguf)], tmp_path, bench_spy)
    assert t.gguf == gguf and t.quant.name == "F16" and t.resolved is not None and t.resolved.source == "gguf"
    code, _, err = run_cli(["bench", "--gguf", str(gguf), "--quant", "q8_0", "--out", str(tmp_path / "r2")])
    assert code == 2 and "contradicts the GGUF file" in err


def test_one_word_names_a_profile_or_a_size() -> None:
    """`report --models` words: a profile name first, else a size, resolved as check resolves --model / --params."""
    from hwbench.resolve import resolve_named

    assert resolve_named(" Mixtral-8x7B ") == resolve_model(model="mixtral-8x7b")
    assert resolve_named("20b", quant="q8_0") == resolve_model(params="20b", quant="q8_0")
    assert resolve_named("8x22b").spec.params == pytest.approx(141e9, rel=0.03)
    with pytest.raises(BadInput, match="--params"):
        resolve_named("no-such-model")
