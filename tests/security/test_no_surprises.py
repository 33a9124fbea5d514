"""No surprises on the user's machine (issue 6): no implicit downloads, no writes outside hwbench's
cache/data dirs and the paths it is given, and no benchmark the estimator says would not fit
unless --force.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests_helpers_cli import command_exists, error_lines, run_cli
from tests_helpers_gguf import write_tiny

from hwbench.bench.records import minimal_host, new_record, write_record
from hwbench.machine import Machine
from hwbench.schema import HardwareTarget


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    attempts: list[str] = []

    def refuse(*a: Any, **k: Any) -> Any:
        attempts.append(repr(a[1:] if len(a) > 1 else a))
        raise NetworkUsed(f"network access attempted: {a!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.fixture
def record(tmp_path: Path) -> Path:
    from hwbench.schema import BenchResult

    rec = new_record(minimal_host())
    rec.model = {"name": "m", "quant": "Q4_K_M", "params": 10**9}
    rec.results = [
        BenchResult(test="pp512", n_prompt=512, tokens_per_s=100.0, stddev_tokens_per_s=1.0, samples_ns=[10**9], predicted_tokens_per_s=90.0),
        BenchResult(test="tg128", n_gen=128, tokens_per_s=10.0, stddev_tokens_per_s=0.1, samples_ns=[10**9], predicted_tokens_per_s=12.0),
    ]
    return write_record(rec, tmp_path / "results")  # with results, so the report draws charts


def _fake_child(job: dict[str, Any], *, timeout_s: float | None = None, on_event: Any = None, python: str | None = None, vram_reader: Any = None) -> Any:
    from hwbench.bench.isolation import ChildOutcome

    out = ChildOutcome()
    for t in job["tests"]:
        for rep in range(job["reps"]):
            ev = {"event": "sample", "test": t["name"], "rep": rep, "ns": 10**8, "warmup": False}
            out.events.append(ev)
            if on_event:
                on_event(ev)
    out.events.append({"event": "done"})
    out.returncode = 0
    return out


def test_commands_work_with_the_network_blocked(no_network: list[str], record: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gguf = write_tiny(tmp_path / "m.gguf")
    runs = [
        ["detect", "--json"],
        ["check", "--params", "8b", "--json"],
        ["check", "--gguf", str(gguf), "--gpu", "rtx 3090", "--json"],
        ["profiles", "list"],
        ["recommend", "--params", "8b", "--json"],
        ["report", str(record), "-o", str(tmp_path / "r.html")],
        ["report", "-o", str(tmp_path / "r2.html"), "--models", "8b"],
    ]
    if command_exists("compare"):
        runs.append(["compare", str(record), "-o", str(tmp_path / "c.html")])
    monkeypatch.setattr("hwbench.bench.isolation.run_child", _fake_child)
    runs.append(["bench", "--gguf", str(gguf), "--reps", "2", "-p", "16", "-n", "4", "-t", "1", "--out", str(tmp_path / "res")])
    for args in runs:
        code, out, err = run_cli(args)
        assert code == 0, (args, err[-1000:])
    assert no_network == []


def _snapshot(root: Path) -> dict[str, int]:
    out = {}
    for dirpath, _dirnames, filenames in os.walk(root):
        for f in filenames:
            p = Path(dirpath) / f
            try:
                out[str(p.relative_to(root))] = p.stat().st_mtime_ns
            except OSError:
                pass
    return out


@pytest.mark.slow
def test_writes_only_to_its_dirs_and_given_paths(tmp_path: Path, record: Path) -> None:
    """Every command as a real process with HOME/XDG pointed at a fresh folder: what changed afterwards."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    for d in (home, work):
        d.mkdir()
    gguf = write_tiny(work / "m.gguf")
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "HWBENCH_CACHE_DIR": str(home / "hwcache"),
        "HWBENCH_DATA_DIR": str(home / "hwdata"),
    }
    env.pop("MPLCONFIGDIR", None)
    given = {"r.html", "r.csv", "c.html"}
    before_home, before_work = _snapshot(home), _snapshot(work)
    runs = [
        ["detect", "--json"],
        ["check", "--params", "8b"],
        ["check", "--gguf", str(gguf), "--json"],
        ["profiles", "list", "gpus"],
        ["recommend", "--params", "8b"],
        ["report", str(record), "-o", str(work / "r.html")],
        ["report", str(record), "-o", str(work / "r.csv")],
    ]
    if command_exists("compare"):
        runs.append(["compare", str(record), "-o", str(work / "c.html")])
    for args in runs:
        proc = subprocess.run([sys.executable, "-m", "hwbench", *args], cwd=work, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, (args, proc.stderr[-1000:])
    new_home = set(_snapshot(home)) - set(before_home)
    new_work = set(_snapshot(work)) - set(before_work)
    assert new_work <= given, f"wrote in the working directory: {sorted(new_work - given)}"
    stray = sorted(p for p in new_home if not p.startswith(("hwcache/", "hwdata/")))
    assert stray == [], f"wrote outside its cache/data dirs: {stray}"


# ----------------------------------------------------------------------------- memory refusal


@pytest.fixture
def tiny_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine as the bench sees it: 2 MiB of RAM, so even the tiny GGUF does not fit."""
    hw = HardwareTarget(label="tiny", ram_bytes=2 * 2**20, cpu_bandwidth_gbps=20.0, cpu_tflops=0.5, cpu_cores=2)
    monkeypatch.setattr("hwbench.bench.orchestrate.this_machine", lambda *a, **k: Machine(minimal_host(), hw, None))


def test_bench_refuses_a_model_that_does_not_fit(tiny_machine: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[dict[str, Any]] = []
    monkeypatch.setattr("hwbench.bench.isolation.run_child", lambda job, **k: started.append(job) or _fake_child(job, **k))
    gguf = write_tiny(tmp_path / "m.gguf")
    out_dir = tmp_path / "res"
    code, out, err = run_cli(["bench", "--gguf", str(gguf), "--reps", "2", "-p", "16", "-n", "4", "-t", "1", "--out", str(out_dir)])
    assert code == 1, err
    lines = error_lines(err)
    assert len(lines) == 1 and "refused" in lines[0] and "--force" in lines[0] and "GiB" in lines[0], err
    assert started == [] and not out_dir.exists()
    code, out, err = run_cli(["bench", "--gguf", str(gguf), "--reps", "2", "-p", "16", "-n", "4", "-t", "1", "--out", str(out_dir), "--force"])
    assert code == 0, err
    assert started and len(list(out_dir.glob("*.json"))) == 1
