"""A tight fit says so, with the reason, and what gives room: hand-checked against the memory formulas."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from hwbench import assumptions as A
from hwbench.cli import main
from hwbench.estimate import estimate_fit
from hwbench.estimate import memory as mem
from hwbench.estimate.advice import margin_bytes, tight_fit_advice
from hwbench.estimate.fit import _Ctx, tensors_for
from hwbench.hardware import gpu_target_from_profile
from hwbench.profiles import find_gpu, get_model
from hwbench.quant import parse_quant
from hwbench.schema import EstimateSettings, FitEstimate, HardwareTarget

GiB = 2**30
MiB = 2**20


def hw(gpus: tuple[str, ...] = (), ram_bytes: int = 64 * GiB) -> HardwareTarget:
    targets = [gpu_target_from_profile(find_gpu(g)) for g in gpus]
    return HardwareTarget(label="test", gpus=targets, ram_bytes=ram_bytes, cpu_bandwidth_gbps=50.0, cpu_tflops=1.0, cpu_cores=8)


def fit(model: str, quant: str, target: HardwareTarget, **kw: object) -> FitEstimate:
    s = EstimateSettings(**{"context": 8192, **kw})  # type: ignore[arg-type]
    return estimate_fit(get_model(model), parse_quant(quant), s, target, follow_ups=False)


def advise(model: str, quant: str, est: FitEstimate, **kw: object):  # type: ignore[no-untyped-def]
    return tight_fit_advice(est, get_model(model), parse_quant(quant), **kw)  # type: ignore[arg-type]


def kv_total(model: str, **kw: object) -> int:
    m = get_model(model)
    s = EstimateSettings(**{"context": 8192, **kw})  # type: ignore[arg-type]
    return sum(mem.kv_bytes_layer(m, s, i) for i in range(m.n_layer))


def gpu_weights(est: FitEstimate) -> int:
    return est.memory.per_device[0].weights_bytes


# ----------------------------------------------------------------------------- the case from the issue


def test_qwen32b_q5_on_a_3090_is_tight_and_says_what_gives_room() -> None:
    target = hw(("RTX 3090",))
    est = fit("qwen2.5-32b", "Q5_K_M", target)
    assert est.verdict == "gpu" and 0 < est.headroom_bytes < 512 * MiB  # the issue's "143 MiB of headroom"
    tight = advise("qwen2.5-32b", "Q5_K_M", est)
    assert tight is not None
    assert tight.margin_bytes == margin_bytes() == int(A.value("tight_fit_margin_gib") * GiB)
    assert tight.pool == "GPU0 NVIDIA GeForce RTX 3090"
    assert "display" in tight.reason and "margin (assumed)" in tight.reason
    by_change = {s.change: s for s in tight.suggestions}
    assert list(by_change) == ["--quant Q4_K_M", "--context 4096", "--kv-type q8_0"]

    # KV q8_0: 64 layers x 8192 cells x (K + V: 8 heads x 128) x (2 bytes - 34/32 bytes) = 960 MiB, nothing else moves
    kv_f16 = 64 * 8192 * 2048 * 2
    kv_q8 = 64 * 8192 * 2 * (1024 // 32 * 34)
    assert kv_total("qwen2.5-32b") == kv_f16 and kv_total("qwen2.5-32b", kv_type="q8_0") == kv_q8
    assert by_change["--kv-type q8_0"].frees_bytes == kv_f16 - kv_q8 == 960 * MiB
    # context 4096: half the KV cache (1 GiB), the compute buffer of a 4096 context is no larger
    assert by_change["--context 4096"].frees_bytes == kv_f16 // 2 == GiB
    # Q4_K_M: the GPU holds the Q4_K_M weights instead of the Q5_K_M ones (same KV, same compute buffer)
    q4 = fit("qwen2.5-32b", "Q4_K_M", target, gpu_layers=65)
    assert by_change["--quant Q4_K_M"].frees_bytes == gpu_weights(est) - gpu_weights(q4)
    assert 3 * GiB < by_change["--quant Q4_K_M"].frees_bytes < 3.2 * GiB
    for s in tight.suggestions:
        assert s.headroom_bytes == est.headroom_bytes + s.frees_bytes


def test_roomy_fit_has_no_advice() -> None:
    est = fit("llama-3.1-8b", "Q4_K_M", hw(("RTX 3090",)))
    assert est.verdict == "gpu" and est.headroom_bytes > 10 * GiB
    assert advise("llama-3.1-8b", "Q4_K_M", est) is None


def test_margin_is_the_boundary() -> None:
    est = fit("qwen2.5-32b", "Q5_K_M", hw(("RTX 3090",)))
    assert advise("qwen2.5-32b", "Q5_K_M", est, margin=est.headroom_bytes) is None
    assert advise("qwen2.5-32b", "Q5_K_M", est, margin=est.headroom_bytes + 1) is not None


def test_does_not_fit_gets_no_tight_fit_advice() -> None:
    est = fit("llama-3.1-70b", "Q8_0", hw(ram_bytes=16 * GiB))
    assert est.verdict == "none"
    assert advise("llama-3.1-70b", "Q8_0", est) is None


def test_kv_q8_needs_flash_attention_and_is_not_offered_twice() -> None:
    target = hw(("RTX 3090",))
    est = fit("qwen2.5-32b", "Q5_K_M", target, flash_attn=False)
    tight = advise("qwen2.5-32b", "Q5_K_M", est, margin=est.headroom_bytes + GiB)
    assert tight is not None
    assert "--flash-attn on --kv-type q8_0" in [s.change for s in tight.suggestions]
    est = fit("qwen2.5-32b", "Q5_K_M", target, kv_type="q8_0")
    tight = advise("qwen2.5-32b", "Q5_K_M", est, margin=est.headroom_bytes + GiB)
    assert tight is not None
    assert not any("--kv-type" in s.change for s in tight.suggestions)


def test_no_context_suggestion_below_512() -> None:
    est = fit("qwen2.5-32b", "Q5_K_M", hw(("RTX 3090",)), context=512)
    tight = advise("qwen2.5-32b", "Q5_K_M", est, margin=est.headroom_bytes + GiB)
    assert tight is not None
    assert not any(s.change.startswith("--context") for s in tight.suggestions)


def test_smallest_quant_has_no_smaller_one_and_non_gguf_gets_none() -> None:
    target = hw(("RTX 3090",))
    est = fit("qwen2.5-32b", "IQ1_M", target)
    tight = advise("qwen2.5-32b", "IQ1_M", est, margin=est.headroom_bytes + GiB)
    assert tight is not None and not any(s.change.startswith("--quant") for s in tight.suggestions)
    est = fit("llama-3.1-8b", "awq-4bit", target)
    tight = advise("llama-3.1-8b", "awq-4bit", est, margin=est.headroom_bytes + GiB)
    assert tight is not None and not any(s.change.startswith("--quant") for s in tight.suggestions)


def test_a_quant_off_the_ladder_steps_to_the_next_smaller_rung() -> None:
    est = fit("qwen2.5-32b", "Q5_K_S", hw(("RTX 3090",)))
    tight = advise("qwen2.5-32b", "Q5_K_S", est, margin=est.headroom_bytes + GiB)
    assert tight is not None and tight.suggestions[0].change == "--quant Q4_K_M"


def test_partial_offload_offers_one_layer_fewer_on_the_gpu() -> None:
    target = hw(("RTX 3090",))
    est = fit("llama-3.1-70b", "Q4_K_M", target)
    assert est.verdict == "partial"
    tight = advise("llama-3.1-70b", "Q4_K_M", est)
    assert tight is not None and tight.pool.startswith("GPU0")
    by_change = {s.change: s for s in tight.suggestions}
    # a smaller quant, compared at the same layer split (auto would fill the room with more layers again)
    iq4 = fit("llama-3.1-70b", "IQ4_XS", target, gpu_layers=est.gpu_layers)
    assert iq4.gpu_layers == est.gpu_layers
    gpu_total = est.memory.per_device[0].total_bytes
    assert by_change["--quant IQ4_XS"].frees_bytes == gpu_total - iq4.memory.per_device[0].total_bytes > 2 * GiB
    fewer = by_change[f"--gpu-layers {est.gpu_layers - 1}"]
    # one repeating layer leaves the GPU: its weights and its KV cache (the first offloaded layer)
    m = get_model("llama-3.1-70b")
    ctx = _Ctx(m, tensors_for(m, parse_quant("Q4_K_M")), EstimateSettings(context=8192), target)
    first = m.n_layer - est.gpu_layers
    assert fewer.frees_bytes == ctx.layout.per_layer[first] + ctx.kv[first]


def test_tight_ram_says_why_ram() -> None:
    est = fit("llama-3.1-8b", "Q4_K_M", hw(ram_bytes=12 * GiB))
    need = est.memory.per_device[-1].total_bytes
    est = fit("llama-3.1-8b", "Q4_K_M", hw(ram_bytes=need + 100 * MiB))
    assert est.verdict == "cpu" and est.headroom_bytes == 100 * MiB
    tight = advise("llama-3.1-8b", "Q4_K_M", est)
    assert tight is not None and tight.pool == "RAM"
    assert "other programs" in tight.reason
    assert [s.change for s in tight.suggestions] == ["--quant IQ4_XS", "--context 4096", "--kv-type q8_0"]
    assert {s.change: s.frees_bytes for s in tight.suggestions}["--kv-type q8_0"] == kv_total("llama-3.1-8b") - kv_total(
        "llama-3.1-8b", kv_type="q8_0"
    )


# ----------------------------------------------------------------------------- through `hwbench check`


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def _entry(ctx: click.Context) -> None:
    main(list(ctx.args))


ISSUE_ARGS = ["check", "--model", "qwen2.5-32b", "--quant", "q5", "--gpu", "RTX 3090", "--ram", "64GiB"]


def test_check_json_carries_tight_fit() -> None:
    result = CliRunner().invoke(_entry, [*ISSUE_ARGS, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    d = json.loads(result.stdout)
    t = d["tight_fit"]
    assert t["margin_bytes"] == margin_bytes()
    assert t["pool"] == "GPU0 NVIDIA GeForce RTX 3090"
    assert [s["change"] for s in t["suggestions"]] == ["--quant Q4_K_M", "--context 4096", "--kv-type q8_0"]
    assert {s["change"]: s["frees_bytes"] for s in t["suggestions"]}["--kv-type q8_0"] == 960 * MiB
    roomy = CliRunner().invoke(_entry, ["check", "--model", "llama-3.1-8b", "--gpu", "RTX 3090", "--ram", "64GiB", "--json"])
    assert roomy.exit_code == 0 and json.loads(roomy.stdout)["tight_fit"] is None


def test_check_text_says_tight_and_what_frees_room() -> None:
    result = CliRunner().invoke(_entry, ISSUE_ARGS, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    out = " ".join(result.stdout.split())  # rich wraps long lines
    assert "tight fit: 142.65 MiB left in GPU0 NVIDIA GeForce RTX 3090 is less than the 512.00 MiB margin (assumed)" in out
    assert "what gives room in GPU0 RTX 3090 (estimated, same layer split):" in out
    assert "--quant Q4_K_M frees 3.09 GiB" in out
    assert "--context 4096 frees 1.00 GiB" in out
    assert "--kv-type q8_0 frees 960.00 MiB" in out


@pytest.mark.parametrize("args", [["--model", "llama-3.1-8b", "--gpu", "RTX 3090"], ["--model", "llama-3.1-70b", "--ram", "16GiB", "--no-gpu"]])
def test_check_text_is_quiet_when_not_tight(args: list[str]) -> None:
    result = CliRunner().invoke(_entry, ["check", *args], catch_exceptions=False)
    assert result.exit_code == 0
    assert "tight fit" not in result.stdout
