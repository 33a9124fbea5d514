from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from hwbench.arch import model_tensors
from hwbench.bench import records
from hwbench.bench.slicing import extrapolate, extrapolation_factors
from hwbench.bench.synth import synth_tensors, tiny_spec
from hwbench.machine import minimal_host
from hwbench.schema import BenchResult, RunRecord


def test_stats_match_llama_bench_definition() -> None:
    samples = [1_000_000_000, 2_000_000_000, 4_000_000_000]
    mean, sd = records.tokens_per_s_stats(100, samples)
    ts = [100.0, 50.0, 25.0]
    assert mean == pytest.approx(statistics.fmean(ts))
    assert sd == pytest.approx(statistics.stdev(ts))
    assert records.tokens_per_s_stats(10, []) == (None, None)
    assert records.tokens_per_s_stats(10, [10**9]) == (10.0, 0.0)


def test_prediction_error_sign() -> None:
    assert records.prediction_error_pct(100.0, 110.0) == 10.0
    assert records.prediction_error_pct(100.0, 90.0) == -10.0
    assert records.prediction_error_pct(None, 90.0) is None


def _record() -> RunRecord:
    rec = records.new_record(minimal_host())
    rec.results.append(BenchResult(test="tg128", n_gen=128, tokens_per_s=10.0, stddev_tokens_per_s=0.1, samples_ns=[1, 2]))
    return rec


def test_write_is_atomic_unique_and_round_trips(tmp_path: Path) -> None:
    rec = _record()
    p1 = records.write_record(rec, tmp_path)
    p2 = records.write_record(rec, tmp_path)  # same run id: must not overwrite
    assert p1 != p2 and p1.exists() and p2.exists()
    assert not list(tmp_path.glob(".*"))
    back = records.read_record(p1)
    assert back == rec
    data = json.loads(p1.read_text())
    assert data["schema_version"] >= 1
    for key in ("test", "tokens_per_s", "stddev_tokens_per_s", "samples_ns", "error"):
        assert key in data["results"][0]


def test_run_ids_unique() -> None:
    assert len({records.new_run_id() for _ in range(200)}) == 200


def test_default_results_dir_is_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HWBENCH_DATA_DIR", str(tmp_path))
    p = records.write_record(_record())
    assert p.parent == tmp_path / "results"


def test_slice_extrapolation_math() -> None:
    spec = tiny_spec(n_layer=16)
    full = model_tensors(spec, "Q4_K_M")
    _, sl = synth_tensors(spec, "Q4_K_M", 4)
    f = extrapolation_factors(full, sl, spec)
    # 16 layers instead of 4 plus a shared output matrix: between 1x and 4x
    assert 1.0 < f["tg"] < 4.0 and 1.0 < f["pp"] < 4.0
    r = BenchResult(test="tg8", n_gen=8, samples_ns=[10**8, 10**8], tokens_per_s=80.0, stddev_tokens_per_s=0.0)
    e = extrapolate(r, f["tg"], 4, 16)
    assert e.extrapolated_from_layers == 4 and e.total_layers == 16
    assert e.tokens_per_s == pytest.approx(80.0 / f["tg"], rel=1e-3)
    assert e.settings["slice_samples_ns"] == [10**8, 10**8]
    assert "extrapolated from 4 of 16 layers" in e.settings["extrapolation"]


def test_slice_extrapolation_of_a_parallel_result_counts_every_sequence() -> None:
    """tg8@np4 from a slice: the aggregate counts all 4 sequences' tokens (it used to count one), and the prompt
    phase (4 x 16 tokens) is scaled by the prompt factor, per-sequence and total figures from the scaled times."""
    from hwbench.bench.llamacpp_part import add_batched_figures
    from hwbench.bench.runner_llamacpp import LlamaTest

    spec = tiny_spec(n_layer=16)
    f = extrapolation_factors(model_tensors(spec, "Q4_K_M"), synth_tensors(spec, "Q4_K_M", 4)[1], spec)
    t = LlamaTest("tg8@d16@np4", 0, 8, 16, 4, True)
    r = BenchResult(test=t.name, n_gen=8, depth=16, settings={"n_parallel": 4}, samples_ns=[10**8, 10**8], tokens_per_s=320.0)
    e = extrapolate(r, f["tg"], 4, 16)
    assert e.tokens_per_s == pytest.approx(4 * 8 * 1e9 / (10**8 * f["tg"]), rel=1e-3)
    add_batched_figures(e, t, [2 * 10**7, 2 * 10**7], f["pp"])
    s = e.settings
    assert s["prompt_tokens"] == 64 and s["slice_prompt_samples_ns"] == [2 * 10**7] * 2
    assert s["prompt_samples_ns"] == [round(2 * 10**7 * f["pp"])] * 2
    assert s["prompt_tokens_per_s"] == pytest.approx(64 * 1e9 / (2 * 10**7 * f["pp"]), rel=1e-3)
    assert s["prompt_time_ms"] == pytest.approx(20 * f["pp"], rel=1e-3)
    assert s["per_sequence_tokens_per_s"] == pytest.approx(e.tokens_per_s / 4, rel=1e-3)
    both = (64 + 32) * 1e9 / (2 * 10**7 * f["pp"] + 10**8 * f["tg"])
    assert s["total_tokens_per_s"] == pytest.approx(both, rel=1e-3)
