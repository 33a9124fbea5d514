"""The parent side of the llama.cpp benchmark with a fake child: what lands in the record, job by job (fast)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hwbench.bench import run_bench
from hwbench.bench.isolation import ChildOutcome
from hwbench.bench.synth import tiny_spec
from hwbench.machine import minimal_host

MODEL_KEYS = {"name", "arch", "quant", "params", "n_layer", "layers_run", "file", "synthetic", "source", "assumed_from", "file_bytes"}
NS = 10**8  # every fake repetition takes 0.1 s


def fake_child(fail_after: int | None = None) -> Any:
    """A stand-in for isolation.run_child: ``reps`` samples per test; optionally dies after ``fail_after`` samples."""
    jobs: list[dict[str, Any]] = []

    def run(job: dict[str, Any], *, timeout_s: float | None = None, on_event: Any = None, vram_reader: Any = None) -> ChildOutcome:
        jobs.append(job)
        out = ChildOutcome(returncode=0)

        def emit(ev: dict[str, Any]) -> None:
            out.events.append(ev)
            on_event(ev)

        emit({"event": "loaded", "load_time_ns": 5 * 10**6})
        n = 0
        for t in job["tests"]:
            for rep in range(job["reps"]):
                if fail_after is not None and n >= fail_after:
                    out.error, out.returncode = "killed by signal 6 (SIGABRT)", -6
                    return out
                emit({"event": "sample", "test": t["name"], "rep": rep, "ns": NS, "warmup": False})
                n += 1
        emit({"event": "done", "peak_rss_bytes": 123 * 2**20})
        return out

    run.jobs = jobs  # type: ignore[attr-defined]
    return run


def test_record_of_a_gguf_run(tiny_llama, roomy_hw, opts_factory, out_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    child = fake_child()
    monkeypatch.setattr("hwbench.bench.isolation.run_child", child)
    rec = run_bench(opts_factory(gguf=tiny_llama.path, out=out_dir, reps=3, threads=[1, 2]), host=minimal_host(), hw=roomy_hw)
    assert set(rec.model) == MODEL_KEYS
    assert rec.model["synthetic"] is False and rec.model["layers_run"] == rec.model["n_layer"] == 4
    assert rec.model["source"] == f"gguf file {tiny_llama.path}" and rec.model["quant"] == "Q4_K_M"
    assert [(r.test, r.threads) for r in rec.results] == [(t, th) for th in (1, 2) for t in ("pp32", "ttft_pp32", "tg8")]
    pp, ttft, tg = rec.results[:3]
    assert pp.samples_ns == [NS] * 3 and pp.tokens_per_s == pytest.approx(320.0) and pp.stddev_tokens_per_s == 0.0
    assert tg.tokens_per_s == pytest.approx(80.0) and tg.device == "CPU" and tg.error is None
    assert ttft.value == pytest.approx(100.0) and ttft.unit == "ms"
    for r in (pp, tg):
        assert r.predicted_tokens_per_s and r.prediction_error_pct is not None
        assert r.settings["estimate_settings"]["context"] == (32 if r is pp else 8) and r.settings["prediction_basis"]
    assert rec.load_time_ns == 5 * 10**6 and rec.peak_rss_bytes == 123 * 2**20
    assert len(child.jobs) == 2 and rec.error is None and not rec.partial


def test_a_dying_child_keeps_what_it_measured(tiny_llama, roomy_hw, opts_factory, out_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("hwbench.bench.isolation.run_child", fake_child(fail_after=4))
    rec = run_bench(opts_factory(gguf=tiny_llama.path, out=out_dir, reps=3), host=minimal_host(), hw=roomy_hw)
    by = {r.test: r for r in rec.results}
    assert rec.partial and rec.error == "killed by signal 6 (SIGABRT)"
    assert len(by["pp32"].samples_ns) == 3 and by["pp32"].error is None
    assert by["tg8"].samples_ns == [NS] and by["tg8"].error == "killed by signal 6 (SIGABRT) (after 1 of 3 repetitions)"


def test_synthetic_slice_is_described_and_extrapolated(tiny_hw, opts_factory, out_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("hwbench.bench.isolation.run_child", fake_child())
    spec = tiny_spec(n_layer=8, n_embd=512, n_ff=1536)
    opts = opts_factory(spec=spec, out=out_dir, layers=2, n_prompt=[16], n_gen=[4], cache_dir=tmp_path / "cache")
    rec = run_bench(opts, host=minimal_host(), hw=tiny_hw.model_copy(update={"ram_bytes": 16 * 2**30}))
    assert set(rec.model) == MODEL_KEYS
    assert rec.model["synthetic"] is True and rec.model["layers_run"] == 2 and rec.model["n_layer"] == 8
    assert rec.model["file_bytes"] == Path(rec.model["file"]).stat().st_size
    assert any("extrapolated from 2 of 8 layers" in n for n in rec.notes)
    assert [r.test for r in rec.results] == ["pp16", "tg4"]  # no time-to-first-token from a slice
    for r in rec.results:
        assert r.extrapolated_from_layers == 2 and r.total_layers == 8
        assert r.tokens_per_s < r.settings["slice_tokens_per_s"]
    assert "synthetic_write_s" in rec.settings
