"""Bad arguments to every command: one line on stderr saying what is wrong and what is accepted,
exit status 2, no traceback (issue 6, "Bad input, everywhere").

Everything runs through the real entry point, ``hwbench.cli.main``: in-process with CliRunner for
the table, and as ``python -m hwbench`` subprocesses for a sample (the console script's behaviour).
A guard makes sure no bad input ever reaches a real benchmark (a bug would otherwise run one).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests_helpers_cli import command_exists, error_lines, run_cli
from tests_helpers_gguf import write_tiny

# (args, words the one error line must contain (case-insensitive)); {placeholders} are files made per test
DETECT = [
    (["detect", "--bogus"], ["no such option"]),
    (["detect", "--disk-path", "{file}"], ["--disk-path", "is a file"]),
    (["detect", "--disk-path", ""], ["--disk-path"]),
    (["detect", "--json", "extra-arg"], ["unexpected extra argument"]),
]

CHECK = [
    (["check", "--params", "abc"], ["--params", "accepted"]),
    (["check", "--params", "7"*400], ["--params"]),  # overflows a float: still one line, exit 2
    (["check", "--params", "1e9"], ["--params", "accepted"]),
    (["check", "--params", "nan"], ["--params", "accepted"]),
    (["check", "--params", "inf"], ["--params", "accepted"]),
    (["check", "--params", "0.0000001b"], ["--params"]),
    (["check", "--params", "200t"], ["--params", "100t"]),
    (["check", "--params", "1x7b"], ["expert count"]),
    (["check", "--params", "8x7b", "--active-params", "900b"], ["--active-params"]),
    (["check", "--params", "30b", "--active-params", "abc"], ["--active-params", "accepted"]),
    (["check", "--params", "7b", "--quant", ""], ["--quant", "accepted"]),
    (["check", "--params", "7b", "--quant", "q4_k_q"], ["unknown quantization", "accepted"]),
    (["check", "--params", "7b", "--quant", "Q4_K_M;rm -rf /"], ["unknown quantization"]),
    (["check", "--params", "7b", "--context", "99999999999999999999"], ["--context"]),
    (["check", "--params", "7b", "--context", "1.5"], ["--context"]),
    (["check", "--params", "7b", "--batch", "-1"], ["--batch"]),
    (["check", "--params", "7b", "--ubatch", "0"], ["--ubatch"]),
    (["check", "--params", "7b", "--kv-type", "q3"], ["--kv-type", "accepted"]),
    (["check", "--params", "7b", "--gpu", ""], ["gpu"]),
    (["check", "--params", "7b", "--gpu", "   "], ["gpu"]),
    (["check", "--params", "7b", "--gpu", "<script>alert(1)</script>"], ["unknown gpu"]),
    (["check", "--params", "7b", "--gpu", "rtx 3090", "--gpus", "-2"], ["--gpus"]),
    (["check", "--params", "7b", "--gpu", "rtx 3090", "--gpus", "100000"], ["--gpus"]),
    (["check", "--params", "7b", "--ram", "9" * 400 + "PB"], ["--ram"]),
    (["check", "--params", "7b", "--ram", "-64GB"], ["--ram", "accepted"]),
    (["check", "--params", "7b", "--ram", "64XB"], ["--ram", "accepted"]),
    (["check", "--params", "7b", "--cpu-bandwidth", "nan"], ["--cpu-bandwidth"]),
    (["check", "--params", "7b", "--cpu-bandwidth", "-80GB/s"], ["--cpu-bandwidth"]),
    (["check", "--params", "7b", "--gpu-layers", "-3"], ["--gpu-layers"]),
    (["check", "--gguf", "{missing}"], ["no such file"]),
    (["check", "--gguf", "{dir}"], ["--gguf", "directory"]),
    (["check", "--gguf", "{file}"], ["not a gguf file"]),
    (["check", "--gguf", "{gguf}", "--quant", "q4"], ["contradicts"]),
    (["check", "--gguf", "{gguf}", "--params", "7b"], ["only one of"]),
    (["check", "--params", "7b", "--profiles-dir", "{missing}"], ["profiles directory", "does not exist"]),
    (["check", "--params", "7b", "--profiles-dir", "{bad_profiles}"], ["gpus.yaml", "field"]),
]

BENCH = [
    (["bench", "--params", "abc"], ["--params", "accepted"]),
    (["bench", "--params", "7b", "--quant", "q9"], ["unknown quantization", "accepted"]),
    (["bench", "--params", "7b", "--quant", "nf4"], ["--quant", "gguf type"]),
    (["bench", "--model", "llama-9-1b"], ["unknown model"]),
    (["bench", "--model", "llama-3-8b", "--params", "7b"], ["only one of"]),
    (["bench", "--gguf", "{missing}"], ["no such file"]),
    (["bench", "--gguf", "{dir}"], ["--gguf", "directory"]),
    (["bench", "--gguf", "{file}"], ["not a gguf file"]),
    (["bench", "--gguf", "{gguf}", "--layers", "2"], ["--layers"]),
    (["bench", "--params", "7b", "--layers", "0"], ["--layers"]),
    (["bench", "--reps", "0"], ["--reps"]),
    (["bench", "--reps", "many"], ["--reps"]),
    (["bench", "--threads", "0"], ["--threads"]),
    (["bench", "--threads", "1,x"], ["--threads", "whole number"]),
    (["bench", "--threads", ""], ["--threads"]),
    (["bench", "--n-prompt", "-5"], ["--n-prompt"]),
    (["bench", "--n-prompt", "0", "--n-gen", "0"], ["nothing to measure"]),
    (["bench", "--depth", "x"], ["--depth"]),
    (["bench", "--gpu-layers", "-1"], ["--gpu-layers"]),
    (["bench", "--batch", "0"], ["--batch"]),
    (["bench", "--ubatch", "0"], ["--ubatch"]),
    (["bench", "--flash-attn", "maybe"], ["--flash-attn", "accepted"]),
    (["bench", "--kv-type", "q3"], ["--kv-type", "accepted"]),
    (["bench", "--timeout", "0"], ["--timeout"]),
    (["bench", "--timeout", "nan"], ["--timeout"]),
    (["bench", "--out", "{file}"], ["--out", "is a file"]),
    (["bench", "--micro-only", "--gguf", "{missing}"], ["--gguf"]),
]

REPORT = [
    (["report", "-o", "{tmp}/r.exe"], ["-o", ".html"]),
    (["report", "-o", "{tmp}/r.html", "--context", "10"], ["--context"]),
    (["report", "-o", "{tmp}/r.html", "--target-tokens-per-s", "-1"], ["--target-tokens-per-s"]),
    (["report", "-o", "{tmp}/r.html", "--target-tokens-per-s", "nan"], ["--target-tokens-per-s"]),
    (["report", "-o", "{tmp}/r.html", "--models", ",,"], ["--models"]),
    (["report", "-o", "{tmp}/r.html", "--models", "abc"], ["abc"]),
    (["report", "-o", "{tmp}/r.html", "{missing}"], ["{missing}"]),
    (["report", "-o", "{tmp}/r.html", "{bad_json}"], ["{bad_json}", "json"]),
    (["report", "-o", "{tmp}/r.html", "{newer_record}"], ["{newer_record}", "schema_version"]),
    (["report", "-o", "{tmp}/r.csv"], [".csv"]),
    (["report", "-o", "{tmp}/r.html", "--profiles-dir", "{missing}"], ["profiles directory"]),
]

RECOMMEND = [
    (["recommend"], ["say which model"]),
    (["recommend", "--params", "abc"], ["--params", "accepted"]),
    (["recommend", "--params", "7b", "--quant", "q9"], ["unknown quantization"]),
    (["recommend", "--params", "7b", "--context", "0"], ["--context"]),
    (["recommend", "--params", "7b", "--tokens-per-s", "-1"], ["--tokens-per-s"]),
    (["recommend", "--params", "7b", "--tokens-per-s", "nan"], ["--tokens-per-s"]),
    (["recommend", "--params", "7b", "--tokens-per-s", "inf"], ["--tokens-per-s"]),
    (["recommend", "--params", "7b", "--max-usd-hour", "0"], ["--max-usd-hour"]),
    (["recommend", "--params", "7b", "--max-usd-hour", "nan"], ["--max-usd-hour"]),
    (["recommend", "--params", "7b", "--provider", "nosuchcloud"], ["--provider", "known"]),
    (["recommend", "--params", "7b", "--provider", ",,,"], ["--provider"]),
    (["recommend", "--params", "7b", "--max-gpus", "0"], ["--max-gpus"]),
    (["recommend", "--params", "7b", "--limit", "-1"], ["--limit"]),
    (["recommend", "--gguf", "{file}"], ["not a gguf file"]),
    (["recommend", "--params", "7b", "--model", "llama-3-8b"], ["only one of"]),
]

COMPARE = [
    (["compare"], ["result"]),
    (["compare", "{missing}"], ["{missing}"]),
    (["compare", "{bad_json}"], ["{bad_json}"]),
    (["compare", "{record}", "--price-per-hour", "a=abc"], ["--price-per-hour"]),
    (["compare", "{record}", "--price-per-hour", "{record_label}=-1"], ["--price-per-hour"]),
    (["compare", "{record}", "--price-per-hour", "nosuchlabel=1.0"], ["--price-per-hour", "nosuchlabel"]),
    (["compare", "{record}", "-o", "{tmp}/c.exe"], ["-o"]),
    (["compare", "{record}", "--json", "--csv"], ["--json", "--csv"]),
]

PROFILES = [
    (["profiles", "list", "nonsense"], ["gpus", "models", "instances"]),
    (["profiles", "list", "instances", "--provider", "nosuchcloud"], ["--provider", "known"]),
    (["profiles", "show", "zzz qqq"], ["no gpu, model or instance profile"]),
    (["profiles", "show", ""], ["profile"]),
    (["profiles", "validate", "{missing}"], ["does not exist"]),
    (["profiles", "validate", "{file}"], ["is a file"]),
    (["profiles", "validate", "{bad_profiles}"], ["error", "gpus.yaml"]),
    (["profiles", "list", "--profiles-dir", "{missing}"], ["does not exist"]),
    (["profiles", "list", "gpus", "--profiles-dir", "{bad_profiles}"], ["gpus.yaml", "field"]),
    (["profiles", "bogus"], ["no such command"]),
]

SYNTH = [
    (["synth", "-o", "{missing}.gguf"], ["say which model"]),
    (["synth", "--model", "no-such-model", "-o", "{missing}.gguf"], ["unknown model"]),
    (["synth", "--model", "llama-3.2-1b", "--quant", "awq-4bit", "-o", "{missing}.gguf"], ["gguf type"]),
    (["synth", "--model", "llama-3.2-1b", "--layers", "-3", "-o", "{missing}.gguf"], ["--layers"]),
    (["synth", "--model", "llama-3.2-1b", "-o", "{file}"], [".gguf"]),
    (["synth", "--model", "llama-3.2-1b", "-o", "{missing}/x.gguf"], ["does not exist"]),
    (["synth", "--model", "llama-3.2-1b"], ["--output"]),
]

FLEET = [
    (["fleet", "bench"], ["no hosts"]),
    (["fleet", "bench", "a", "--jobs", "0"], ["--jobs"]),
    (["fleet", "bench", "-oProxyCommand=x"], ["no such option"]),
    (["fleet", "bench", "--inventory", "{file}"], ["--inventory"]),
    (["fleet", "bogus"], ["no such command"]),
]

GLOBAL = [
    (["nosuchcommand"], ["no such command"]),
    (["--bogus"], ["no such option"]),
]

TABLE = [("detect", a, w) for a, w in DETECT]
TABLE += [("check", a, w) for a, w in CHECK]
TABLE += [("bench", a, w) for a, w in BENCH]
TABLE += [("report", a, w) for a, w in REPORT]
TABLE += [("recommend", a, w) for a, w in RECOMMEND]
TABLE += [("compare", a, w) for a, w in COMPARE]
TABLE += [("profiles", a, w) for a, w in PROFILES]
TABLE += [("synth", a, w) for a, w in SYNTH]
TABLE += [("fleet", a, w) for a, w in FLEET]
TABLE += [("detect", a, w) for a, w in GLOBAL]


def _params():
    out = []
    for cmd, args, words in TABLE:
        marks = []
        if not command_exists(cmd):
            marks.append(pytest.mark.xfail(strict=False, reason=f"waiting for {cmd}"))
        out.append(pytest.param(args, words, id=" ".join(a if len(a) < 30 else a[:27] + "..." for a in args), marks=marks))
    return out


def newer_record_json() -> str:
    from hwbench.bench.records import minimal_host, new_record
    from hwbench.schema import SCHEMA_VERSION

    d = new_record(minimal_host()).model_dump(mode="json")
    d["schema_version"] = SCHEMA_VERSION + 1
    return json.dumps(d)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    from hwbench.bench.records import minimal_host, new_record, write_record

    f = tmp_path / "notes.txt"
    f.write_text("hello\n")
    d = tmp_path / "adir"
    d.mkdir()
    bad_json = tmp_path / "broken-result.json"
    bad_json.write_text('{"schema_version": 1, "results": [')
    newer = tmp_path / "newer-result.json"
    newer.write_text(newer_record_json())
    rec = write_record(new_record(minimal_host()), tmp_path / "results")
    prof = tmp_path / "myprofiles"
    prof.mkdir()
    (prof / "gpus.yaml").write_text("gpus:\n  - name: X\n    vendor: nvidia\n    memory_gib: lots\n    source: me\n    as_of: '2025-01-01'\n")
    return {
        "tmp": str(tmp_path),
        "file": str(f),
        "dir": str(d),
        "missing": str(tmp_path / "does-not-exist.gguf"),
        "gguf": str(write_tiny(tmp_path / "tiny.gguf")),
        "bad_json": str(bad_json),
        "newer_record": str(newer),
        "record": str(rec),
        "record_label": rec.stem,
        "bad_profiles": str(prof),
    }


@pytest.fixture(autouse=True)
def _no_real_benchmark(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bad input must be refused before any model is written or measured."""

    def refuse(*a: object, **k: object) -> None:
        raise AssertionError("bad input reached a real benchmark")

    if command_exists("bench"):
        monkeypatch.setattr("hwbench.bench.isolation.run_child", refuse)
        monkeypatch.setattr("hwbench.bench.synth.write_synthetic", refuse)
        monkeypatch.setattr("hwbench.bench.torch_part.run_torch_part", refuse)


def _fill(args: list[str], files: dict[str, str]) -> list[str]:
    return [a.format(**files) if "{" in a and "}" in a and "<" not in a else a for a in args]


def assert_one_line_exit_2(code: int, out: str, err: str, words: list[str]) -> None:
    lines = error_lines(err)
    assert code == 2, f"exit {code}, stdout={out[-500:]!r} stderr={err[-1500:]!r}"
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
    assert "Traceback" not in err and "Traceback" not in out
    line = lines[0].lower()
    assert line.startswith("hwbench"), line
    for w in words:
        assert w.lower() in line, f"{w!r} not in {lines[0]!r}"
    assert len(lines[0]) < 2000


@pytest.mark.parametrize("args,words", _params())
def test_bad_argument_is_one_line_exit_2(args: list[str], words: list[str], files: dict[str, str]) -> None:
    args = _fill(args, files)
    words = [w.format(**files) if "{" in w else w for w in words]
    code, out, err = run_cli(args)
    assert_one_line_exit_2(code, out, err, words)


# A sample through the console-script path (a separate Python process), including --debug.
SUBPROCESS = [
    ["check", "--params", "abc"],
    ["check", "--params", "7b", "--quant", "q9"],
    ["bench", "--reps", "0"],
    ["profiles", "show", "zzz qqq"],
    ["recommend", "--params", "7b", "--context", "0"],
    ["detect", "--disk-path", "{file}"],
]


@pytest.mark.parametrize("args", SUBPROCESS, ids=lambda a: " ".join(a))
def test_bad_argument_through_python_m(args: list[str], files: dict[str, str]) -> None:
    args = _fill(args, files)
    proc = subprocess.run([sys.executable, "-m", "hwbench", *args], capture_output=True, text=True, timeout=120)
    assert_one_line_exit_2(proc.returncode, proc.stdout, proc.stderr, [])
    dbg = subprocess.run([sys.executable, "-m", "hwbench", "--debug", *args], capture_output=True, text=True, timeout=120)
    assert dbg.returncode != 0
    assert "Traceback" in dbg.stderr  # tracebacks only with --debug


def test_every_command_has_bad_argument_rows() -> None:
    from hwbench.cli import COMMANDS

    covered = {cmd for cmd, _, _ in TABLE}
    assert set(COMMANDS) <= covered
