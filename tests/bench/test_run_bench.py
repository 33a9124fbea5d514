"""End-to-end: real llama.cpp on tiny synthetic models, in child processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hwbench.bench import run_bench
from hwbench.bench.records import read_record
from hwbench.bench.synth import tiny_spec
from hwbench.errors import BenchError
from hwbench.machine import minimal_host
from hwbench.schema import RunRecord

pytestmark = pytest.mark.slow


def test_gguf_run_records_everything(tiny_llama, roomy_hw, opts_factory, out_dir: Path) -> None:  # type: ignore[no-untyped-def]
    opts = opts_factory(gguf=tiny_llama.path, out=out_dir, reps=3)
    rec = run_bench(opts, host=minimal_host(), hw=roomy_hw)
    assert rec.error is None and not rec.partial
    by = {r.test: r for r in rec.results}
    assert {"pp32", "tg8", "ttft_pp32"} <= set(by)
    for name, n in (("pp32", 32), ("tg8", 8)):
        r = by[name]
        assert len(r.samples_ns) == 3 and all(ns > 0 for ns in r.samples_ns)
        ts = [n * 1e9 / ns for ns in r.samples_ns]
        assert r.tokens_per_s == pytest.approx(sum(ts) / 3, rel=1e-3)
        assert r.stddev_tokens_per_s is not None and r.stddev_tokens_per_s >= 0
        assert r.predicted_tokens_per_s and r.prediction_error_pct is not None
        assert r.error is None and r.threads == 2
    assert rec.load_time_ns and rec.peak_rss_bytes
    files = list(out_dir.glob("*.json"))
    assert len(files) == 1 and opts.record_path == files[0]
    assert read_record(files[0]) == rec
    assert RunRecord.model_validate_json(rec.model_dump_json()) == rec


def test_sweep_and_depth(tiny_llama, roomy_hw, opts_factory, out_dir: Path) -> None:  # type: ignore[no-untyped-def]
    opts = opts_factory(gguf=tiny_llama.path, out=out_dir, threads=[1, 2], n_prompt=[0], n_gen=[4], depth=[0, 64], reps=1)
    rec = run_bench(opts, host=minimal_host(), hw=roomy_hw)
    tests = [(r.test, r.threads) for r in rec.results]
    assert tests == [("tg4", 1), ("tg4@d64", 1), ("tg4", 2), ("tg4@d64", 2)]
    assert all(r.error is None for r in rec.results)


def test_crash_keeps_earlier_results(tiny_llama, roomy_hw, opts_factory, out_dir: Path) -> None:  # type: ignore[no-untyped-def]
    opts = opts_factory(gguf=tiny_llama.path, out=out_dir, reps=3, debug={"abort_after_samples": 4})
    rec = run_bench(opts, host=minimal_host(), hw=roomy_hw)
    assert rec.partial and rec.error and rec.error.startswith("killed by signal 6 (SIGABRT)")
    by = {r.test: r for r in rec.results}
    assert len(by["pp32"].samples_ns) == 3 and by["pp32"].error is None
    assert len(by["tg8"].samples_ns) == 1 and "after 1 of 3 repetitions" in (by["tg8"].error or "")
    saved = read_record(next(out_dir.glob("*.json")))
    assert saved.partial and len(saved.results) == len(rec.results)


def test_refuses_gguf_that_does_not_fit(tiny_llama, tiny_hw, opts_factory, out_dir: Path) -> None:  # type: ignore[no-untyped-def]
    big = tiny_hw.model_copy(update={"ram_bytes": 2 * 2**20})
    with pytest.raises(BenchError, match=r"refused: .* needs about .* GiB .* this machine has"):
        run_bench(opts_factory(gguf=tiny_llama.path, out=out_dir), host=minimal_host(), hw=big)
    assert not out_dir.exists() or not list(out_dir.glob("*.json"))


def test_synthetic_that_does_not_fit_switches_to_slice(tiny_hw, opts_factory, out_dir: Path) -> None:  # type: ignore[no-untyped-def]
    from hwbench.estimate import estimate_fit
    from hwbench.quant import parse_quant
    from hwbench.schema import EstimateSettings

    spec = tiny_spec(n_layer=48, n_embd=512, n_ff=1536)
    q = parse_quant("Q4_K_M")
    s = EstimateSettings(context=64)
    ram = None
    for mib in range(8, 16384, 8):  # the smallest fake RAM where a 4-layer slice fits but the model does not
        hw = tiny_hw.model_copy(update={"ram_bytes": mib * 2**20})
        from hwbench.bench.synth import synth_tensors

        sl_spec, sl_t = synth_tensors(spec, "Q4_K_M", 4)
        if estimate_fit(sl_spec, q, s, hw, tensors=sl_t).verdict != "none":
            ram = mib
            break
    assert ram is not None
    hw = tiny_hw.model_copy(update={"ram_bytes": ram * 2**20})
    assert estimate_fit(spec, q, s, hw).verdict == "none"
    rec = run_bench(opts_factory(spec=spec, out=out_dir, n_prompt=[16], n_gen=[4]), host=minimal_host(), hw=hw)
    assert rec.model["layers_run"] == 4 and rec.model["n_layer"] == 48
    assert any("slice of 4 of 48 layers" in n for n in rec.notes)
    for r in rec.results:
        assert r.extrapolated_from_layers == 4 and r.total_layers == 48
        assert r.settings["extrapolation"] == "extrapolated from 4 of 48 layers"
        assert r.tokens_per_s < r.settings["slice_tokens_per_s"]


def test_explicit_layers_slice(roomy_hw, opts_factory, out_dir: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tiny_spec(n_layer=8, n_embd=512, n_ff=1536)
    kw = dict(spec=spec, out=out_dir, n_prompt=[0], n_gen=[32], reps=3, threads=[1])  # 1 thread: robust on a busy box
    # Full model and slice alternate, three runs each: a stall of the shared machine during one run (CI once measured
    # the full model 3.8x below its own estimate while the slice ran normally) spoils that run only, and the fastest
    # run of each, the least disturbed, is what is compared.
    fulls, slices = [], []
    for _ in range(3):
        fulls.append(run_bench(opts_factory(**kw), host=minimal_host(), hw=roomy_hw).results[0])
        slices.append(run_bench(opts_factory(layers=2, **kw), host=minimal_host(), hw=roomy_hw).results[0])
    assert all(s.extrapolated_from_layers == 2 and s.total_layers == 8 for s in slices)
    assert all(f.extrapolated_from_layers is None for f in fulls)
    f_best = max(f.tokens_per_s or 0.0 for f in fulls)
    s_best = max(s.tokens_per_s or 0.0 for s in slices)
    # The extrapolation lands in the right range of the full measurement. Loose bound: this model is tiny, and per layer
    # the full model runs 2-3x slower than its slices here (measured 2026-12-03 with one thread: 0.24 ms per added
    # layer from 1 to 2 layers, 0.65 ms from 4 to 8), since a slice's 2-4 MB of weights stay near the core's 2 MiB L2
    # and the full model's 16 MB do not; the ratio came out at 2.2-2.3. Models big enough to need a slice have layers
    # far beyond any cache.
    assert 0.33 < s_best / f_best < 3.0, ([s.tokens_per_s for s in slices], [f.tokens_per_s for f in fulls])


def test_cli_json(tiny_llama, opts_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from hwbench.commands.bench import bench

    r = CliRunner().invoke(
        bench, ["--gguf", str(tiny_llama.path), "-p", "16", "-n", "4", "-r", "2", "-t", "2", "--out", str(tmp_path), "--json"]
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["schema_version"] >= 1 and data["results"][0]["test"] == "pp16"
    assert {"test", "tokens_per_s", "stddev_tokens_per_s", "samples_ns", "error"} <= set(data["results"][0])


def test_cli_bad_input_is_exit_2(tmp_path: Path) -> None:
    from hwbench.cli import main

    with pytest.raises(SystemExit) as e:
        main(["bench", "--threads", "a,b", "--out", str(tmp_path)])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["bench", "--gguf", str(tmp_path / "missing.gguf")])
    assert e.value.code == 2
