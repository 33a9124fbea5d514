"""No surprises on the user's machine (issue 6): no implicit downloads, no writes outside hwbench's
cache/data dirs and the paths it is given, and no benchmark the estimator says would not fit
unless --force.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests_helpers_audit import AuditLog, audit_env, read_audit
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


def test_commands_work_with_the_network_blocked_in_process(no_network: list[str], record: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fast, in this process (the benchmark child faked): see test_commands_as_real_processes_open_no_connection for the real one."""
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


# ----------------------------------------------------------------------------- real processes, watched
#
# Every command runs as `python -m hwbench` with HOME, the XDG folders, TMPDIR and the working directory
# pointed at fresh folders, and an audit hook (tests/helpers/tests_helpers_audit.py) armed in every Python
# process, the benchmark child included: it refuses and logs any network call and logs every file or folder
# opened for writing. `bench` runs for real: a synthetic model (written to the cache, then measured by
# llama.cpp in the child) and a GGUF file given with --gguf.


@dataclass
class Watched:
    base: Path
    home: Path
    work: Path
    tmp: Path
    before: dict[str, set[str]]
    after: dict[str, set[str]]
    dirs_before: set[str]
    audit: AuditLog
    given: set[Path]  # -o files and --out folders
    allowed: tuple[Path, ...]  # hwbench's own cache and data dirs


def _tree(root: Path) -> tuple[set[str], set[str]]:
    files, dirs = set(), set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirs.update(str(Path(dirpath) / d) for d in dirnames)
        files.update(str(Path(dirpath) / f) for f in filenames)
    return files, dirs


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Watched:
    pytest.importorskip("llama_cpp", reason="bench needs llama-cpp-python (pip install -e '.[llamacpp]'; make test installs it)")
    from hwbench.bench.synth import tiny_spec, write_synthetic

    base = tmp_path_factory.mktemp("watched")
    home, work, tmp = base / "home", base / "work", base / "tmp"
    for d in (home, work, tmp):
        d.mkdir()
    inputs = base / "inputs"  # read, never written
    inputs.mkdir()
    rec = new_record(minimal_host())
    rec.model = {"name": "m", "quant": "Q4_K_M", "params": 10**9}
    from hwbench.schema import BenchResult

    rec.results = [BenchResult(test="tg128", n_gen=128, tokens_per_s=10.0, stddev_tokens_per_s=0.1, samples_ns=[10**9], predicted_tokens_per_s=12.0)]
    record = write_record(rec, inputs)
    tiny = write_tiny(inputs / "m.gguf")  # header-only use (check)
    loadable = write_synthetic(tiny_spec(n_layer=2), "Q4_K_M", path=inputs / "tiny-q4.gguf").path  # llama.cpp loads this one
    log = base / "audit.log"
    env = {
        **os.environ,
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "HWBENCH_CACHE_DIR": str(home / "hwcache"),
        "HWBENCH_DATA_DIR": str(home / "hwdata"),
        **audit_env(base / "site", log),
    }
    env.pop("MPLCONFIGDIR", None)
    small = ["-p", "8", "-n", "4", "-r", "1", "-t", "1"]
    runs = [
        ["detect", "--json"],
        ["check", "--params", "8b"],
        ["check", "--gguf", str(tiny), "--json"],
        ["profiles", "list", "gpus"],
        ["recommend", "--params", "8b"],
        ["report", str(record), "-o", str(work / "r.html")],
        ["report", str(record), "-o", str(work / "r.csv")],
        ["report", "-o", str(work / "r2.html"), "--models", "8b"],
        ["bench", "--layers", "1", *small, "--out", str(work / "res")],  # synthetic: writer + child
        ["bench", "--gguf", str(loadable), *small, "--out", str(work / "res-gguf")],
    ]
    given = {work / "r.html", work / "r.csv", work / "r2.html", work / "res", work / "res-gguf"}
    if command_exists("compare"):
        runs.append(["compare", str(record), "-o", str(work / "c.html")])
        given.add(work / "c.html")
    before = {name: _tree(d)[0] for name, d in (("home", home), ("work", work), ("tmp", tmp), ("inputs", inputs))}
    dirs_before = set().union(*(_tree(d)[1] for d in (home, work, tmp, inputs))) | {str(d) for d in (home, work, tmp, inputs)}
    for args in runs:
        proc = subprocess.run([sys.executable, "-m", "hwbench", *args], cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, (args, proc.stderr[-1500:])
    after = {name: _tree(d)[0] for name, d in (("home", home), ("work", work), ("tmp", tmp), ("inputs", inputs))}
    return Watched(base, home, work, tmp, before, after, dirs_before, read_audit(log), given, (home / "hwcache", home / "hwdata"))


@pytest.mark.slow
def test_commands_as_real_processes_open_no_connection(watched: Watched) -> None:
    """README "No implicit downloads": every command, bench on a synthetic model and on a GGUF included."""
    argvs = list(watched.audit.armed.values())
    assert sum("-m hwbench.bench.child" in a for a in argvs) >= 2, argvs  # the hook ran in each benchmark child too
    assert sum("-m hwbench " in a for a in argvs) >= 10, argvs
    assert watched.audit.net == []


def _inside(path: Path, roots: tuple[Path, ...] | set[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def _is_given_or_its_temp(path: Path, given: set[Path]) -> bool:
    """A given -o path, inside a given --out folder, or the atomic writer's temp file beside a given file."""
    if _inside(path, given):
        return True
    return any(path.parent == g.parent and path.name.startswith(f".{g.name}.") and path.name.endswith(".tmp") for g in given)


@pytest.mark.slow
def test_writes_only_to_its_dirs_and_given_paths(watched: Watched) -> None:
    """README "Where it writes": what each process opened for writing, and what changed in HOME, TMPDIR and the working folder."""
    w = watched
    stray = []
    for pid, detail in w.audit.writes:
        path = Path(detail.removeprefix("anonymous-in ").removeprefix("mkdir "))
        if str(path) == os.devnull:
            continue
        if detail.startswith("mkdir ") and str(path) in w.dirs_before:
            continue  # an existing folder "made" again (mkdir -p of a given path's parent): nothing written
        if _inside(path, w.allowed) or _is_given_or_its_temp(path, w.given):
            continue
        stray.append(f"{w.audit.armed.get(pid, pid)}: {detail}")
    assert stray == [], "opened for writing outside the cache/data dirs and the given paths:\n" + "\n".join(stray)
    assert w.audit.writes, "the audit hook logged no write at all: is it armed?"
    assert any(_inside(Path(p), (w.allowed[0] / "synthetic",)) for _, p in w.audit.writes)  # the synthetic model went to the cache
    # and what is left on disk (native code included)
    assert w.after["tmp"] == w.before["tmp"], f"left files in $TMPDIR: {sorted(w.after['tmp'] - w.before['tmp'])}"
    assert w.after["inputs"] == w.before["inputs"]
    new_work = {Path(p) for p in w.after["work"] - w.before["work"]}
    assert all(_inside(p, w.given) for p in new_work), f"wrote in the working directory: {sorted(map(str, new_work))}"
    new_home = {Path(p) for p in w.after["home"] - w.before["home"]}
    assert all(_inside(p, w.allowed) for p in new_home), f"wrote outside its cache/data dirs: {sorted(map(str, new_home))}"
    assert {p.name for p in new_work} >= {"r.html", "r.csv", "r2.html"} and any(p.parent.name == "res" for p in new_work)


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
