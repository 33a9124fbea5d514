"""Crashes and kills during benchmarks (issue 6, "Crashes and kills during benchmarks").

The child is a real process (``python -m hwbench.bench.child``, the deterministic "fake" job) killed
from outside with a real signal, the way the kernel's OOM killer or a native crash would:
SIGABRT, SIGSEGV, SIGKILL, a hang past the timeout, Ctrl-C. tests/bench covers an abort inside a
real llama.cpp run; here every way of dying is checked at the isolation layer, through
``run_bench`` and through the ``hwbench bench`` command, and the results file is checked to be
all-or-nothing (atomic write then rename) even when the writing process dies.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest
from tests_helpers_cli import error_lines, run_cli
from tests_helpers_gguf import write_tiny

from hwbench.bench import isolation, records
from hwbench.bench.isolation import run_child
from hwbench.schema import HardwareTarget

REAL_RUN_CHILD = isolation.run_child


def _child_procs() -> list[psutil.Process]:
    out = []
    for c in psutil.Process().children(recursive=True):
        try:
            if "hwbench.bench.child" in " ".join(c.cmdline()):
                out.append(c)
        except psutil.Error:
            pass
    return out


def killer(sig: int | None, after_samples: int, interrupt: bool = False) -> Callable[[dict[str, Any]], None]:
    """An on_event hook: after N timed samples, send ``sig`` to the child (or press Ctrl-C in the parent)."""
    seen = {"n": 0, "done": False}

    def on_event(ev: dict[str, Any]) -> None:
        if ev.get("event") == "sample" and not ev.get("warmup"):
            seen["n"] += 1
            if seen["n"] >= after_samples and not seen["done"]:
                seen["done"] = True
                if interrupt:
                    raise KeyboardInterrupt
                for c in _child_procs():
                    c.send_signal(sig)

    return on_event


def _fake_job(reps: int = 6, tests: tuple[str, ...] = ("pp32", "tg8"), sleep_s: float = 0.05) -> dict[str, Any]:
    return {"kind": "fake", "reps": reps, "sleep_s": sleep_s, "tests": [{"name": t, "ns": 1_000_000} for t in tests]}


SIGNALS = [
    (signal.SIGABRT, "killed by signal 6 (SIGABRT)"),
    (signal.SIGSEGV, "killed by signal 11 (SIGSEGV)"),
    (signal.SIGKILL, "killed by signal 9 (SIGKILL)"),
    (signal.SIGBUS, "killed by signal 7 (SIGBUS)"),
]


@pytest.mark.parametrize("sig,text", SIGNALS, ids=[s.name for s, _ in SIGNALS])
def test_child_killed_by_signal_is_recorded_and_samples_kept(sig: int, text: str) -> None:
    out = run_child(_fake_job(), timeout_s=60, on_event=killer(sig, 3))
    assert out.returncode == -sig
    assert out.error is not None and out.error.startswith(text) and "while running pp32" in out.error
    assert "\n" not in out.error
    assert len([e for e in out.events if e["event"] == "sample"]) >= 3
    if sig == signal.SIGKILL:
        assert "out of memory" in out.error  # the OOM killer's signal is explained
    assert not _child_procs()


def test_hung_child_is_killed_at_the_timeout() -> None:
    out = run_child(_fake_job(reps=1000, sleep_s=0.1), timeout_s=1.5)  # the child would run ~100 s
    assert out.error is not None and out.error.startswith("timed out after 1.5s")
    assert out.wall_ns < 30 * 10**9, "run_child waited for the hung child instead of killing it"
    assert out.returncode == -signal.SIGKILL
    assert not _child_procs()  # nothing left running


def test_ctrl_c_stops_the_child_and_keeps_samples() -> None:
    out = run_child(_fake_job(reps=50, sleep_s=0.05), timeout_s=60, on_event=killer(None, 2, interrupt=True))
    assert out.interrupted and out.error is not None and out.error.startswith("interrupted")
    assert len([e for e in out.events if e["event"] == "sample"]) >= 2
    assert not _child_procs()


# ----------------------------------------------------------------------------- through run_bench and the CLI


@pytest.fixture
def tiny_gguf(tmp_path: Path) -> Path:
    return write_tiny(tmp_path / "tiny.gguf")


def _crashing_run_child(sig: int | None, after: int, interrupt: bool = False) -> Callable[..., Any]:
    """Stands in for isolation.run_child: runs the real child, on the fake job with the same tests, and kills it."""

    def run(
        job: dict[str, Any],
        *,
        timeout_s: float | None = None,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        python: str | None = None,
        vram_reader: Callable[[int], int | None] | None = None,
    ) -> Any:
        fake = {"kind": "fake", "reps": job["reps"], "sleep_s": 0.05, "tests": job["tests"]}
        kill = killer(sig, after, interrupt)

        def both(ev: dict[str, Any]) -> None:
            if on_event is not None:
                on_event(ev)
            kill(ev)

        return REAL_RUN_CHILD(fake, timeout_s=timeout_s, on_event=both, vram_reader=vram_reader)

    return run


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGKILL], ids=["SIGSEGV", "SIGKILL"])
def test_run_bench_keeps_finished_reps_and_writes_a_partial_record(monkeypatch: pytest.MonkeyPatch, tiny_gguf: Path, tmp_path: Path, sig: int) -> None:
    from hwbench.bench import BenchOptions, run_bench

    monkeypatch.setattr("hwbench.bench.isolation.run_child", _crashing_run_child(sig, 4))
    out_dir = tmp_path / "results"
    hw = HardwareTarget(label="roomy", ram_bytes=16 * 2**30, cpu_bandwidth_gbps=20.0, cpu_tflops=0.5, cpu_cores=2)
    opts = BenchOptions(gguf=tiny_gguf, threads=[1], reps=3, n_prompt=[32], n_gen=[8], out=out_dir, save_calibration=False, timeout_s=60)
    rec = run_bench(opts, host=records.minimal_host(), hw=hw)
    assert rec.partial and rec.error and f"({signal.Signals(sig).name})" in rec.error
    by = {r.test: r for r in rec.results}
    assert len(by["pp32"].samples_ns) == 3 and by["pp32"].error is None and by["pp32"].tokens_per_s
    assert len(by["tg8"].samples_ns) == 1 and "after 1 of 3 repetitions" in (by["tg8"].error or "")
    files = list(out_dir.iterdir())
    assert len(files) == 1 and files[0].suffix == ".json"  # no temp file left behind
    saved = json.loads(files[0].read_text())
    assert saved["partial"] is True and saved["error"] == rec.error


def test_cli_crash_is_one_line_exit_1_and_record_kept(monkeypatch: pytest.MonkeyPatch, tiny_gguf: Path, tmp_path: Path) -> None:
    monkeypatch.setattr("hwbench.bench.isolation.run_child", _crashing_run_child(signal.SIGKILL, 2))
    out_dir = tmp_path / "results"
    code, out, err = run_cli(["bench", "--gguf", str(tiny_gguf), "--reps", "3", "-p", "32", "-n", "8", "-t", "1", "--out", str(out_dir), "--json"])
    assert code == 1, err
    assert "Traceback" not in err
    errs = [ln for ln in error_lines(err) if ln.startswith("hwbench: error")]
    assert len(errs) == 1 and "killed by signal 9" in errs[0] and "kept" in errs[0]
    rec = json.loads(out)
    assert rec["partial"] is True
    assert [len(r["samples_ns"]) for r in rec["results"] if r["test"] == "pp32"] == [2]
    assert len(list(out_dir.glob("*.json"))) == 1


def test_interrupted_run_is_reported_as_partial(monkeypatch: pytest.MonkeyPatch, tiny_gguf: Path, tmp_path: Path) -> None:
    from hwbench.bench import BenchOptions, run_bench

    monkeypatch.setattr("hwbench.bench.isolation.run_child", _crashing_run_child(None, 2, interrupt=True))
    out_dir = tmp_path / "results"
    hw = HardwareTarget(label="roomy", ram_bytes=16 * 2**30, cpu_bandwidth_gbps=20.0, cpu_tflops=0.5, cpu_cores=2)
    opts = BenchOptions(gguf=tiny_gguf, threads=[1, 2], reps=3, n_prompt=[32], n_gen=[8], out=out_dir, save_calibration=False, timeout_s=60)
    rec = run_bench(opts, host=records.minimal_host(), hw=hw)
    assert rec.partial and rec.error and "interrupted" in rec.error
    assert {r.threads for r in rec.results} == {1}  # the second sweep point was not started
    assert sum(len(r.samples_ns) for r in rec.results if r.test == "pp32") == 2
    assert len(list(out_dir.glob("*.json"))) == 1


# ----------------------------------------------------------------------------- atomic results files


def _record() -> Any:
    from hwbench.schema import BenchResult

    rec = records.new_record(records.minimal_host())
    rec.results.append(BenchResult(test="tg128", n_gen=128, tokens_per_s=10.0, stddev_tokens_per_s=0.1, samples_ns=[1, 2] * 10_000))
    return rec


def test_failure_while_writing_leaves_no_half_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    earlier = records.write_record(_record(), tmp_path)
    before = earlier.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        records.write_record(_record(), tmp_path)
    assert sorted(tmp_path.iterdir()) == [earlier]  # no partial file, no temp file
    assert earlier.read_bytes() == before  # earlier records untouched


def test_process_killed_while_writing_leaves_no_half_file(tmp_path: Path) -> None:
    """SIGKILL in the middle of write_record (after half the bytes): no *.json appears, complete or not."""
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from hwbench.bench import records
        from hwbench.schema import BenchResult
        rec = records.new_record(records.minimal_host())
        rec.results.append(BenchResult(test="tg128", n_gen=128, samples_ns=[1, 2] * 100000))
        real_fdopen = os.fdopen
        class Half:
            def __init__(self, f): self.f = f
            def __enter__(self): return self
            def __exit__(self, *a): return False
            def write(self, text):
                self.f.write(text[: len(text) // 2]); self.f.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            def __getattr__(self, n): return getattr(self.f, n)
        os.fdopen = lambda fd, *a, **k: Half(real_fdopen(fd, *a, **k))
        records.write_record(rec, {str(tmp_path)!r})
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    files = sorted(tmp_path.iterdir())
    assert [f for f in files if f.suffix == ".json"] == []  # readers never see a record, complete or not
    # the writer did die half-way: all that is left is its hidden temp file, holding half a record
    assert len(files) == 1 and files[0].name.startswith(".") and files[0].suffix == ".tmp", files
    half = files[0].read_text()
    assert len(half) > 1000 and not half.rstrip().endswith("}")
    from hwbench.report.records import load_records

    ok, errors = load_records(files)  # even given the leftover by name, nothing half-written is read
    assert ok == [] and len(errors) == 1 and "malformed JSON" in errors[0].reason


def test_never_overwrites_an_existing_record(tmp_path: Path) -> None:
    rec = _record()
    first = records.write_record(rec, tmp_path)
    first.write_text("precious")
    second = records.write_record(rec, tmp_path)
    assert first.read_text() == "precious" and second != first
