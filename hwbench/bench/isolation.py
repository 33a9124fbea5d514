"""Run a measurement job in a child process and stream its events back.

A native crash, an abort, an out-of-memory kill or a timeout in the child becomes an error
string ("killed by signal 6 (SIGABRT) while loading …"); the events received before that are
kept. Ctrl-C in the parent stops the child and returns what was finished.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Event = dict[str, Any]


@dataclass
class ChildOutcome:
    events: list[Event] = field(default_factory=list)
    error: str | None = None
    returncode: int | None = None
    interrupted: bool = False
    stderr_tail: str = ""
    wall_ns: int = 0
    peak_vram_bytes: int | None = None  # sampled through NVML while the child ran (None: not measurable)

    @property
    def ok(self) -> bool:
        return self.error is None


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _scratch_dir() -> str | None:
    """hwbench's cache dir, for the child's stderr buffer: hwbench writes nowhere else (not $TMPDIR).

    None (the system temp dir) only if the cache dir cannot be made."""
    from hwbench.paths import cache_dir

    d = cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return str(d)


AMX_HINT = (
    " (this CPU lists AMX: llama.cpp's AMX kernels crash in VMs that advertise AMX without giving the guest its state;"
    ' build llama-cpp-python without them: CFLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" CXXFLAGS="$CFLAGS"'
    " pip install --no-cache-dir --force-reinstall llama-cpp-python)"
)


def cpu_lists_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """The CPU flags in ``cpuinfo`` include amx_int8 (False when the file cannot be read)."""
    try:
        return any(line.startswith("flags") and " amx_int8" in line for line in cpuinfo.read_text(errors="replace").splitlines())
    except OSError:
        return False


def _describe_exit(rc: int, phase: str, stderr_tail: str, cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    where = f" while {phase}" if phase else ""
    if rc < 0:
        sig = -rc
        msg = f"killed by signal {sig} ({_signal_name(sig)}){where}"
        if sig == signal.SIGKILL:
            msg += " (out of memory? the kernel's OOM killer sends SIGKILL)"
        elif sig in (signal.SIGSEGV, signal.SIGILL) and cpu_lists_amx(cpuinfo):
            msg += AMX_HINT
    else:
        msg = f"exited with status {rc}{where}"
    last = _last_meaningful_line(stderr_tail)
    if last:
        msg += f": {last}"
    return msg


def _last_meaningful_line(text: str) -> str:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line and ("error" in line.lower() or "abort" in line.lower() or "assert" in line.lower()):
            return line[:300]
    return ""


def run_child(
    job: dict[str, Any],
    *,
    timeout_s: float | None = None,
    on_event: Callable[[Event], None] | None = None,
    python: str | None = None,
    vram_reader: Callable[[int], int | None] | None = None,
) -> ChildOutcome:
    """Run ``job`` in ``python -m hwbench.bench.child``; stream events to ``on_event``.

    ``vram_reader`` (see hwbench.bench.vram): sampled with the child's pid while it runs.
    """
    out = ChildOutcome()
    phase = "starting"
    errf = tempfile.TemporaryFile(dir=_scratch_dir())  # the child's stderr
    t0 = time.perf_counter_ns()
    proc = subprocess.Popen(
        [python or sys.executable, "-m", "hwbench.bench.child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errf,
        env=_child_env(),
        start_new_session=True,  # Ctrl-C reaches the parent only; it stops the child itself
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(json.dumps(job).encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    q: queue.Queue[bytes | None] = queue.Queue()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            q.put(line)
        q.put(None)

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    sampler = None
    if vram_reader is not None:
        from hwbench.bench.vram import PeakSampler

        sampler = PeakSampler(vram_reader, proc.pid).start()
    deadline = time.monotonic() + timeout_s if timeout_s else None
    child_error: str | None = None
    try:
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                line = q.get(timeout=wait if wait is None else min(wait, 0.5))
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    _kill(proc)
                    out.error = f"timed out after {timeout_s:g}s while {phase}"
                    break
                continue
            if line is None:
                break
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event") == "phase":
                phase = str(ev.get("phase", phase))
            if ev.get("event") == "error":
                child_error = str(ev.get("message"))
            out.events.append(ev)
            if on_event is not None:
                on_event(ev)
    except KeyboardInterrupt:
        _kill(proc, graceful=True)
        out.interrupted = True
        out.error = f"interrupted (Ctrl-C) while {phase}"
    rc = proc.wait()
    if sampler is not None:
        out.peak_vram_bytes = sampler.stop()
    out.returncode = rc
    out.wall_ns = time.perf_counter_ns() - t0
    errf.seek(0, os.SEEK_END)
    size = errf.tell()
    errf.seek(max(0, size - 8192))
    out.stderr_tail = errf.read().decode("utf-8", "replace")
    errf.close()
    if out.error is None:
        if child_error is not None:
            out.error = f"{child_error} (while {phase})"
        elif rc != 0:
            out.error = _describe_exit(rc, phase, out.stderr_tail)
        elif not any(e.get("event") == "done" for e in out.events):
            out.error = f"child ended without finishing while {phase}"
    return out


def _kill(proc: subprocess.Popen[bytes], graceful: bool = False) -> None:
    if proc.poll() is not None:
        return
    if graceful:
        try:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=3)
            return
        except (subprocess.TimeoutExpired, OSError):
            pass
    try:
        proc.kill()
    except OSError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
