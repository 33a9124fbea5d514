"""`hwbench check --concurrency N` (issue 13) through the real entry point: answers, JSON, bad input -> one line, exit 2."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from hwbench.cli import main


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def _entry(ctx: click.Context) -> None:
    main(list(ctx.args))


def run(args: list[str]) -> tuple[int, str, str]:
    r = CliRunner().invoke(_entry, args, catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


BASE = ["check", "--model", "llama-3-8b", "--gpu", "RTX 3090", "--ram", "64GB", "--cpu-bandwidth", "50GB/s"]


def test_without_the_flag_nothing_changes_and_with_1_only_the_answers_are_added() -> None:
    code, plain, _ = run(BASE + ["--json"])
    assert code == 0
    d = json.loads(plain)
    assert "concurrency" not in d and set(d["settings"]) == {"context", "kv_type", "flash_attn", "batch", "ubatch", "gpu_layers"}
    code, out, _ = run(BASE + ["--json", "--concurrency", "1"])
    assert code == 0
    d1 = json.loads(out)
    c = d1.pop("concurrency")
    assert d1 == d
    assert c["n_seq"] == 1 and c["source"] == "estimated" and c["target_tokens_per_s"] == 10.0


def test_json_concurrency_block() -> None:
    code, out, _ = run(BASE + ["--json", "-np", "4", "--context", "4096", "--tokens-per-s", "30"])
    assert code == 0
    d = json.loads(out)
    assert d["settings"]["concurrency"] == 4
    c = d["concurrency"]
    assert c["n_seq"] == 4 and c["kv_unified"] is False and c["target_tokens_per_s"] == 30
    assert c["aggregate_generation_tokens_per_s"] > d["speed"]["generation_tokens_per_s"] > c["per_user_generation_tokens_per_s"]
    assert c["max_concurrency_fits"] >= 4 and 1 <= c["max_concurrency_meeting_target"] <= c["max_concurrency_fits"]
    assert c["bound"] in ("memory", "compute")


def test_human_output_says_aggregate_and_per_user() -> None:
    code, out, _ = run(BASE + ["-np", "8", "--context", "2048"])
    assert code == 0
    assert "Concurrency (estimated): 8 sequences x 2048 tokens" in out
    assert "per user" in out and "largest concurrency that fits" in out and ">= 10 tok/s" in out
    d = json.loads(run(BASE + ["-np", "8", "--context", "2048", "--json"])[1])
    # the prompt side too (issue 13: "aggregate generation and prompt tokens/s"), the figure the JSON holds
    assert f"aggregate prompt {d['concurrency']['prompt_tokens_per_s']:.1f} tok/s" in out


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--concurrency", "0"], "--concurrency 0 must be at least 1"),
        (["--concurrency", "-1"], "--concurrency -1 must be at least 1"),
        (["--concurrency", "abc"], "--concurrency 'abc' must be a whole number"),
        (["--concurrency", "2.5"], "must be a whole number"),
        (["--concurrency", "257"], "between 1 and 256"),
        (["--concurrency", "200", "--context", "32768"], "does not fit at --context 32768: at most"),
        (["--kv-unified"], "need --concurrency"),
        (["--concurrency", "2", "--tokens-per-s", "0"], "--tokens-per-s 0 must be a positive number"),
    ],
)
def test_bad_concurrency_one_line_exit_2(extra: list[str], needle: str) -> None:
    code, out, err = run(BASE + extra)
    assert code == 2, (out, err)
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and needle in lines[0], err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["report", "--concurrency", "0", "-o", "x.html"], "--concurrency 0 must be at least 1"),
        (["report", "--concurrency", "abc", "-o", "x.html"], "or auto"),
        (["report", "--concurrency", "auto", "--target-tokens-per-s", "0", "-o", "x.html"], "needs a per-user speed target"),
    ],
)
def test_report_bad_concurrency_one_line_exit_2(args: list[str], needle: str) -> None:
    code, out, err = run(args)
    assert code == 2, (out, err)
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and needle in lines[0], err
