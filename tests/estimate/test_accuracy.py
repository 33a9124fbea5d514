"""Accuracy against reality (issue 5), as regression tests.

- fast: the published llama-bench rows (tests/fixtures/published_llamacpp_dev.csv: ../shared/data's copy plus
  the same README's other GPUs) must stay within the bars: median abs error <= 10% for generation, <= 20% for
  prompt processing; and the same bars for the leave-one-GPU-out cross-validation over the CUDA rows.
- slow: a small subset of the memory comparison with llama.cpp itself (synthetic GGUFs loaded in a
  child process): every case within 3% or 16 MiB on weights, KV cache, compute and total.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "published_llamacpp_dev.csv"


def _script(name: str) -> ModuleType:
    path = ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def published() -> list:  # type: ignore[type-arg]
    acc = _script("accuracy_speed")
    rows = acc.load_rows(FIXTURE)
    for r in rows:
        acc.predict(r)
    return rows


def test_published_generation_median_error_within_10pct(published: list) -> None:  # type: ignore[type-arg]
    errs = sorted(abs(r.err) for r in published if r.kind == "tg")
    assert len(errs) >= 40
    assert errs[len(errs) // 2] <= 0.10


def test_published_prompt_median_error_within_20pct(published: list) -> None:  # type: ignore[type-arg]
    errs = sorted(abs(r.err) for r in published if r.kind == "pp")
    assert len(errs) >= 40
    assert errs[len(errs) // 2] <= 0.20


def test_published_leave_one_gpu_out(published: list) -> None:  # type: ignore[type-arg]
    # generalisation, not just fit: refit the CUDA constants without each GPU model, predict that GPU
    acc = sys.modules["accuracy_speed"]
    lo = acc.leave_one_gpu_out(published)
    assert len(lo["per_gpu"]) >= 16
    assert len(lo["errors"]["tg"]) >= 80 and len(lo["errors"]["pp"]) >= 80
    assert lo["tg"] <= 0.10  # issue 14 bars: held-out median <= 10% generation, <= 15% prompt on CUDA
    assert lo["pp"] <= 0.15
    # the big, power-limited boards the issue names (prompt over-estimated by 33-81% held out before the power cap)
    for gpu in ("NVIDIA H100 PCIe 80 GB", "NVIDIA RTX 6000 Ada Generation", "NVIDIA L40S"):
        assert lo["per_gpu"][gpu]["pp"] <= 0.25, gpu


def test_published_rows_all_fit_on_their_gpus(published: list) -> None:  # type: ignore[type-arg]
    # every published configuration ran fully offloaded; the estimator must agree
    assert {r.verdict for r in published} == {"gpu"}


def test_beats_the_naive_bandwidth_rule(published: list) -> None:  # type: ignore[type-arg]
    acc = sys.modules["accuracy_speed"]
    ours = acc.med_abs([r.err for r in published if r.kind == "tg"])
    naive = acc.med_abs(acc.baseline_errors(published))
    assert ours < naive / 2


@pytest.mark.slow
def test_memory_matches_llama_cpp_quick_subset(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    pytest.importorskip("gguf")
    acc = _script("accuracy_memory")
    cases = acc.collect(True, tmp_path, log=lambda *_: None)
    assert len(cases) >= 15
    errors = [c for c in cases if c.error]
    assert not errors, errors[0].error
    bad = [acc.line(c) for c in cases if not c.ok]
    assert not bad, "\n".join(bad)


# --- issue 14: truly held-out CV, llama.cpp's scoreboards (Metal), weight-type families -----------------

SCOREBOARDS = ROOT / "tests" / "fixtures" / "published_llamacpp_scoreboards.csv"


@pytest.fixture(scope="module")
def all_rows() -> list:  # type: ignore[type-arg]
    acc = _script("accuracy_speed")
    rows = acc.load_rows(FIXTURE, "dev") + acc.load_rows(SCOREBOARDS, "scoreboard")
    for r in rows:
        acc.predict(r)
    return rows


def test_scoreboard_rows_have_a_source_and_fit_their_hardware(all_rows: list) -> None:  # type: ignore[type-arg]
    sb = [r for r in all_rows if r.dataset == "scoreboard"]
    assert len({r.profile for r in sb if r.backend == "Metal"}) >= 12  # many chips, not many rows per chip
    assert all(r.source.startswith("https://github.com/ggml-org/llama.cpp/discussions/") for r in sb)
    assert {r.verdict for r in sb} == {"gpu"}


def test_metal_leave_one_gpu_out_meets_the_bars(all_rows: list) -> None:  # type: ignore[type-arg]
    acc = sys.modules["accuracy_speed"]
    lo = acc.leave_one_gpu_out(all_rows, "metal")
    assert lo["gpus"] >= 12
    assert lo["tg"] <= 0.15  # issue 14 bars: held-out median <= 15% generation, <= 25% prompt on Metal
    assert lo["pp"] <= 0.25


def test_cv_refit_does_not_start_from_the_committed_constants(all_rows: list, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[type-arg]
    """The held-out refit must not read the committed values (fitted on all rows): change them, same result."""
    import dataclasses

    from hwbench.estimate import speed as spd

    acc = sys.modules["accuracy_speed"]
    sel = [r for r in acc.fit_rows(all_rows, "metal") if r.kind == "pp" and "Ultra" not in r.profile]
    before = acc.fit_constants(sel, "metal", "pp")
    c = spd.BACKENDS["metal"]
    skewed = dataclasses.replace(c, flops_efficiency=c.flops_efficiency * 0.37, flops_efficiency_quant=c.flops_efficiency_quant * 1.3)
    monkeypatch.setitem(spd.BACKENDS, "metal", skewed)
    assert acc.fit_constants(sel, "metal", "pp") == pytest.approx(before)


def test_k_quants_cost_more_alu_than_legacy_quants_on_metal() -> None:
    from hwbench.estimate import speed as spd

    assert [spd.quant_family(t) for t in ("F16", "BF16", "Q4_0", "Q8_0", "Q5_1", "Q4_K", "Q6_K", "IQ4_XS")] == [
        "float", "float", "legacy", "legacy", "legacy", "kquant", "kquant", "kquant",
    ]
    base = {"name": "Apple M1 Max (32-core GPU)", "backend": "metal", "bandwidth_gbps": 400.0, "tflops": 10.62, "layers": 32,
            "weight_bytes_read": int(4.5e9), "kv_bytes_per_ctx_token": 0, "flops_per_token": 1.4e10}
    k = spd.DeviceShare(**base, weight_types={"Q4_K": 7e9})  # type: ignore[arg-type]
    legacy = spd.DeviceShare(**base, weight_types={"Q4_0": 7e9})  # type: ignore[arg-type]
    assert spd.generation_time_s([k], 1) > spd.generation_time_s([legacy], 1)  # same bytes, K-quant ALU-bound
    assert spd.prompt_time_per_token_s([k]) > spd.prompt_time_per_token_s([legacy])


def test_multi_gpu_estimates_say_layers_run_one_after_another() -> None:
    from hwbench.estimate import estimate_fit
    from hwbench.hardware import apply_what_if
    from hwbench.profiles import get_model
    from hwbench.quant import parse_quant
    from hwbench.schema import EstimateSettings, HardwareTarget

    host = HardwareTarget(label="t", ram_bytes=256 * 2**30, cpu_bandwidth_gbps=40.0, cpu_tflops=0.5)
    four = estimate_fit(get_model("llama-3-70b"), parse_quant("Q4_K_M"), EstimateSettings(context=2048), apply_what_if(host, gpu="RTX 4090", gpus=4), follow_ups=False)
    one = estimate_fit(get_model("llama-3-8b"), parse_quant("Q4_K_M"), EstimateSettings(context=2048), apply_what_if(host, gpu="RTX 4090"), follow_ups=False)
    assert any("one after another" in n and "4 devices" in n for n in four.notes)
    assert not any("one after another" in n for n in one.notes)


def test_gpu_shares_carry_weight_types_for_the_family_rules() -> None:
    """speed_inputs hands each GPU its weight types, so Q4_K_M decodes slower than Q4_0 on Metal at similar size."""
    from hwbench.estimate.fit import speed_inputs
    from hwbench.hardware import apply_what_if
    from hwbench.profiles import get_model
    from hwbench.quant import parse_quant
    from hwbench.schema import EstimateSettings, HardwareTarget

    host = HardwareTarget(label="t", ram_bytes=64 * 2**30, cpu_bandwidth_gbps=40.0, cpu_tflops=0.5)
    hw = apply_what_if(host, gpu="Apple M1 Max (32-core GPU)")
    s = EstimateSettings(context=512, flash_attn=False)
    k = speed_inputs(get_model("llama-2-7b"), parse_quant("Q4_K_M"), s, hw)
    assert k is not None and k.generation[0].weight_types.get("Q4_K", 0) > 0
    assert k.generation[0].output_types


# --- issue 13: batched decoding vs published llama-batched-bench rows (out-of-sample) ---------------------

BATCHED = ROOT / "tests" / "fixtures" / "published_llamacpp_batched.csv"


@pytest.fixture(scope="module")
def batched() -> ModuleType:
    return _script("accuracy_concurrency_published")


def test_batched_rows_have_a_source_and_fit_their_hardware(batched: ModuleType) -> None:
    rows = batched.load_rows(BATCHED)
    assert len(rows) >= 150
    assert all(r.source.startswith("https://github.com/ggml-org/llama.cpp/blob/") and r.build for r in rows)
    pred = batched.predicted_rows(BATCHED)
    assert len(pred) >= 150 and len({r.hardware for r in pred}) >= 2
    assert {r.verdict for r in pred} == {"gpu"}  # every published run was fully on the GPU


def test_batched_errors_do_not_regress(batched: ModuleType) -> None:
    # regression guards at the committed figures, not targets: the batched model is out-of-sample here and its error
    # is reported in docs/accuracy.md, whatever it is. 2026-12-02.4 (S_TG scored at the depth batched-bench's
    # generation steps run at, PP + TG/2, no longer (PP+TG)/2; windowed layers read their window): B = 1 5.2%,
    # B > 1 26.4% (it was 6% / 21% at the too-shallow depth)
    sm = batched.summary(batched.predicted_rows(BATCHED))
    assert sm["B = 1"]["tg_med"] <= 0.06
    assert sm["B > 1"]["tg_med"] <= 0.27


def test_batched_doc_section_is_regenerated(batched: ModuleType) -> None:
    """docs/accuracy.md shows what the committed estimator gives on the committed rows."""
    rows = batched.predicted_rows(BATCHED)
    want = batched.markdown(rows, len(batched.load_rows(BATCHED)) - len(rows), "python scripts/accuracy_concurrency_published.py")
    doc = (ROOT / "docs" / "accuracy.md").read_text(encoding="utf-8")
    have = doc.split("<!-- concurrency-published:begin -->\n", 1)[1].split("<!-- concurrency-published:end -->", 1)[0]
    assert have == want, "docs/accuracy.md is stale: run python scripts/accuracy_concurrency_published.py"
