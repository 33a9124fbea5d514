"""`hwbench bench --parallel` (issue 13): N sequences decoded together, like llama-batched-bench, in the child process.

Timings on the shared test machine are invalid: these tests check the mechanics (the record's shape, that N sequences
really were decoded, the arithmetic of aggregate and per-sequence figures, the estimate beside each), never speeds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hwbench.bench import run_bench
from hwbench.bench import runner_llamacpp as rl
from hwbench.machine import minimal_host

pytestmark = pytest.mark.slow


def test_plan_names_and_context_room() -> None:
    (inst,) = rl.plan_instances(
        threads=[2],
        gpu_layers=[0],
        batch=[2048],
        ubatch=[512],
        flash_attn=["auto"],
        kv_type=["f16"],
        n_prompt=[0],
        n_gen=[8],
        depth=[0, 32],
        parallel=[1, 4],
    )
    names = [t.name for t in inst.tests]
    assert names == ["tg8", "tg8@np1", "tg8@np4", "tg8@d32", "tg8@d32@np1", "tg8@d32@np4"]
    assert inst.n_seq_max == 4
    # each of the 4 sequences needs its prompt + 8 generated tokens in its share of n_ctx (split evenly by llama.cpp)
    assert inst.n_ctx // 4 >= 32 + 8
    by = {t.name: t for t in inst.tests}
    assert by["tg8@np4"].n_tokens == 32 and by["tg8"].n_tokens == 8


def test_parallel_decodes_every_sequence(tiny_llama, roomy_hw, opts_factory, out_dir: Path) -> None:  # type: ignore[no-untyped-def]
    opts = opts_factory(gguf=tiny_llama.path, out=out_dir, reps=2, n_prompt=[0], n_gen=[8], depth=[16], parallel=[1, 3], batch=[16])
    rec = run_bench(opts, host=minimal_host(), hw=roomy_hw)
    assert rec.error is None and not rec.partial
    by = {r.test: r for r in rec.results}
    assert {"tg8@d16", "tg8@d16@np1", "tg8@d16@np3"} <= set(by)
    for n in (1, 3):
        r = by[f"tg8@d16@np{n}"]
        s = r.settings
        # every sequence holds its 16-token prompt and its 8 generated tokens: last position 23
        assert s["sequence_last_positions"] == [16 + 8 - 1] * n
        assert s["n_parallel"] == n and s["prompt_per_sequence"] == 16
        assert len(r.samples_ns) == 2
        agg = [n * 8 * 1e9 / ns for ns in r.samples_ns]  # all sequences' tokens / generation time
        assert r.tokens_per_s == pytest.approx(sum(agg) / 2, rel=1e-3)
        assert s["per_sequence_tokens_per_s"] == pytest.approx(r.tokens_per_s / n, rel=1e-3)
        assert r.predicted_tokens_per_s and r.prediction_error_pct is not None  # the estimate beside it
        assert s["predicted_per_sequence_tokens_per_s"] == pytest.approx(r.predicted_tokens_per_s / n, rel=0.01)
        assert s["estimate_settings"].get("concurrency", 1) == n  # 1 is left out of the JSON
        # the prompt phase, timed as llama-batched-bench times it: n x 16 prompt tokens per repetition, S_PP = those / T_PP
        assert s["prompt_tokens"] == n * 16
        pp_ns = s["prompt_samples_ns"]
        assert len(pp_ns) == 2 and all(ns > 0 for ns in pp_ns)
        assert s["prompt_tokens_per_s"] == pytest.approx(sum(n * 16 * 1e9 / ns for ns in pp_ns) / 2, rel=1e-3)
        assert s["prompt_tokens_per_s"] > 0 and s["prompt_stddev_tokens_per_s"] is not None
        assert s["prompt_time_ms"] == pytest.approx(sum(pp_ns) / 2 / 1e6, rel=1e-3)
        both = [(n * 16 + n * 8) * 1e9 / (p + g) for p, g in zip(pp_ns, r.samples_ns, strict=True)]
        assert s["total_tokens_per_s"] == pytest.approx(sum(both) / 2, rel=1e-3)
        # n_batch 16: the n x 16 prompt tokens went to llama_decode in n batches of 16, as batched-bench cuts them
        assert s["prompt_batches"] == n
        # the estimator's prompt side beside it: n x 16 tokens at its seconds per prompt token
        pred = s["predicted_prompt_tokens_per_s"]
        assert pred > 0 and s["predicted_prompt_time_ms"] == pytest.approx(n * 16 / pred * 1e3, rel=0.01)
        assert s["prompt_prediction_error_pct"] == pytest.approx(
            100 * (pred - s["prompt_tokens_per_s"]) / s["prompt_tokens_per_s"], abs=0.01
        )
        assert (
            s["prompt_prediction_basis"].startswith("estimated:") and "optimistic" not in s["prompt_prediction_basis"]
        )  # ubatch 16 filled


def test_cli_parallel_json_and_bad_input(tiny_llama, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from hwbench.commands.bench import bench

    r = CliRunner().invoke(
        bench,
        ["--gguf", str(tiny_llama.path), "-p", "0", "-n", "4", "-r", "1", "-t", "2", "--parallel", "2", "--out", str(tmp_path), "--json"],
    )
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    np2 = next(x for x in d["results"] if x["test"] == "tg4@np2")
    assert np2["settings"]["sequence_last_positions"] == [4, 4]  # 1-token prompt + 4 generated, per sequence
    s = np2["settings"]
    assert s["prompt_per_sequence"] == 1 and s["prompt_tokens"] == 2 and s["prompt_batches"] == 1 and s["prompt_tokens_per_s"] > 0
    # 2 prompt tokens are far from a 512-token micro-batch: the prompt estimate says it is optimistic there
    assert "optimistic" in s["prompt_prediction_basis"]


@pytest.mark.parametrize(
    ("bad", "needle"), [("0", "at least 1"), ("-1", "at least 1"), ("abc", "not a whole number"), ("300", "at most 256")]
)
def test_cli_bad_parallel_is_one_line_exit_2(tiny_llama, bad: str, needle: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from hwbench.cli import main

    with pytest.raises(SystemExit) as e:
        main(["bench", "--gguf", str(tiny_llama.path), f"--parallel={bad}", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert e.value.code == 2 and needle in err and len(err.strip().splitlines()) == 1, err
