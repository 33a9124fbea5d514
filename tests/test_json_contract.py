"""`hwbench check --json`: the README's "JSON contract" table, field by field with its type, for each verdict.

The table is the promise scripts rely on; a field dropped, renamed or retyped fails here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests_helpers_cli import run_cli

MEMORY_PARTS = ("weights_bytes", "kv_cache_bytes", "compute_bytes", "output_bytes", "overhead_bytes")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _canonical_quant(v: Any) -> bool:
    from hwbench.quant import parse_quant

    return isinstance(v, str) and parse_quant(v).name == v


def assert_contract(d: dict[str, Any]) -> None:
    """Every row of the README table: present, and of the stated type."""
    assert _is_int(d["schema_version"]) and d["schema_version"] >= 1
    assert d["verdict"] in ("gpu", "partial", "cpu", "none")
    assert _is_int(d["gpu_layers"]) and _is_int(d["total_layers"])
    assert 0 <= d["gpu_layers"] <= d["total_layers"]
    assert _is_int(d["headroom_bytes"])
    m = d["model"]
    assert _is_int(m["params"]) and _is_int(m["active_params"]) and 0 < m["active_params"] <= m["params"]
    assert _canonical_quant(m["quant"])
    assert isinstance(m["bits_per_weight"], float) and 1.0 < m["bits_per_weight"] < 33.0
    mem = d["memory"]
    for k in (*MEMORY_PARTS, "total_bytes"):
        assert _is_int(mem[k]) and mem[k] >= 0, k
    assert mem["total_bytes"] == sum(mem[k] for k in MEMORY_PARTS)
    assert isinstance(mem["per_device"], list) and mem["per_device"]
    for dev in mem["per_device"]:  # "memory.per_device has the same per GPU and for RAM"
        assert isinstance(dev["device"], str)
        for k in (*MEMORY_PARTS, "total_bytes"):
            assert _is_int(dev[k]) and dev[k] >= 0, (dev["device"], k)
        assert dev["total_bytes"] == sum(dev[k] for k in MEMORY_PARTS)
    assert sum(dev["total_bytes"] for dev in mem["per_device"]) == mem["total_bytes"]
    assert any(dev["device"] == "RAM" for dev in mem["per_device"])
    # "spare bytes in the tightest memory pool; negative = shortfall"
    assert d["headroom_bytes"] == min(dev["capacity_bytes"] - dev["total_bytes"] for dev in mem["per_device"])
    sp = d["speed"]
    assert isinstance(sp["generation_tokens_per_s"], float) and isinstance(sp["prompt_tokens_per_s"], float)
    assert isinstance(sp["inputs"], dict)
    assert sp["engine"] == "llama.cpp"  # "the engine the speeds are for"
    for k in ("best_quant_gpu", "best_quant_any"):
        assert d[k] is None or _canonical_quant(d[k]), (k, d[k])
    assert isinstance(d["max_context"], dict) and d["max_context"]
    for mode, ctx in d["max_context"].items():
        assert mode in ("gpu", "partial", "cpu") and (ctx is None or _is_int(ctx) and ctx > 0), (mode, ctx)
    assert isinstance(d["gpus_needed"], dict) and d["gpus_needed"]
    for gpu, n in d["gpus_needed"].items():
        assert isinstance(gpu, str) and _is_int(n) and n >= 1, (gpu, n)


def _check(*args: str) -> dict[str, Any]:
    code, out, err = run_cli(["check", *args, "--json"])
    assert code == 0, err  # "exit status 0 whatever the verdict"
    d = json.loads(out)
    assert isinstance(d, dict)
    assert_contract(d)
    return d


def test_gpu_verdict() -> None:
    d = _check("--model", "llama-3-8b", "--quant", "q4_k_m", "--gpu", "RTX 3090", "--context", "512")
    assert d["verdict"] == "gpu"
    assert d["gpu_layers"] == d["total_layers"] == 33  # 32 blocks + the output layer, as llama.cpp's -ngl counts
    assert d["model"]["quant"] == "Q4_K_M" and d["model"]["params"] == d["model"]["active_params"]
    assert d["headroom_bytes"] > 0
    assert any(dev["device"].startswith("GPU0") for dev in d["memory"]["per_device"])
    assert d["speed"]["generation_tokens_per_s"] > 0 and d["speed"]["prompt_tokens_per_s"] > 0
    assert d["speed"]["inputs"]["devices"]
    assert isinstance(d["best_quant_gpu"], str) and isinstance(d["best_quant_any"], str)
    assert _is_int(d["max_context"]["gpu"])


def test_partial_verdict() -> None:
    d = _check("--model", "llama-3-70b", "--quant", "q4", "--gpu", "RTX 3090", "--ram", "64GB")
    assert d["verdict"] == "partial"
    assert 0 < d["gpu_layers"] < d["total_layers"] == 81
    assert d["headroom_bytes"] >= 0
    assert {dev["device"].split()[0] for dev in d["memory"]["per_device"]} == {"GPU0", "RAM"}
    assert d["speed"]["generation_tokens_per_s"] > 0
    assert d["gpus_needed"]["NVIDIA GeForce RTX 3090"] >= 2


def test_cpu_verdict() -> None:
    d = _check("--params", "8b", "--no-gpu", "--ram", "64GB")
    assert d["verdict"] == "cpu" and d["gpu_layers"] == 0
    assert [dev["device"] for dev in d["memory"]["per_device"]] == ["RAM"]
    assert d["best_quant_gpu"] is None
    assert d["speed"]["generation_tokens_per_s"] > 0


def test_none_verdict_is_exit_0_with_a_shortfall() -> None:
    d = _check("--model", "llama-3.1-405b", "--no-gpu", "--ram", "16GB")
    assert d["verdict"] == "none" and d["gpu_layers"] == 0
    assert d["headroom_bytes"] < 0  # negative = shortfall
    ram = d["memory"]["per_device"][0]
    assert d["headroom_bytes"] == ram["capacity_bytes"] - ram["total_bytes"] == 16 * 10**9 - d["memory"]["total_bytes"]
    assert d["speed"]["generation_tokens_per_s"] == 0.0 and d["speed"]["prompt_tokens_per_s"] == 0.0  # "0.0 when it does not fit"
    assert d["best_quant_gpu"] is None and d["best_quant_any"] is None
    assert d["gpus_needed"]["NVIDIA H100 SXM5 80 GB"] >= 3


@pytest.mark.parametrize(
    "args", [["--params", "8b", "--quant", "q5", "--no-gpu", "--ram", "64GB"], ["--params", "8x7b", "--gpu", "H100 SXM5"]]
)
def test_contract_holds_for_other_shapes(args: list[str]) -> None:
    d = _check(*args)
    if "8x7b" in args:
        assert d["model"]["active_params"] < d["model"]["params"]  # a MoE: fewer parameters per token
    else:
        assert d["model"]["quant"] == "Q5_K_M"


def test_concurrency_rows() -> None:
    """The README's `settings.concurrency` / `concurrency.*` rows, with `--concurrency N`, and absent without it."""
    assert "concurrency" not in _check("--model", "llama-3-8b", "--gpu", "RTX 3090", "--context", "4096")
    d = _check("--model", "llama-3-8b", "--gpu", "RTX 3090", "--context", "4096", "--concurrency", "4", "--kv-unified")
    assert d["settings"]["concurrency"] == 4 and d["settings"]["kv_unified"] is True
    c = d["concurrency"]
    assert _is_int(c["n_seq"]) and c["n_seq"] == 4 and c["kv_unified"] is True
    for k in ("aggregate_generation_tokens_per_s", "per_user_generation_tokens_per_s", "prompt_tokens_per_s", "target_tokens_per_s"):
        assert isinstance(c[k], float) and c[k] > 0, k
    assert c["bound"] in ("memory", "compute")
    for k in ("max_concurrency_fits", "max_concurrency_meeting_target"):
        assert c[k] is None or _is_int(c[k]) and 1 <= c[k] <= c["limit"] == 256, k
