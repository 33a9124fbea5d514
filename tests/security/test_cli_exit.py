"""Exit statuses of the last-resort handlers in ``hwbench.cli.main`` (README, "Safety and limits"):
1 and one line for any other failure (a traceback only with --debug), 130 when interrupted.

No command fails this way on purpose, so a failure is injected: in-process through CliRunner, and in a
real ``python -m hwbench`` process (a real SIGINT for Ctrl-C) where the exit status is the process's own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest
from tests_helpers_cli import error_lines, run_cli

import hwbench


def _boom(*a: Any, **k: Any) -> Any:
    raise RuntimeError("probe table\ncorrupted")


def test_unexpected_exception_is_one_line_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hwbench.detect.detect_all", _boom)
    code, out, err = run_cli(["detect", "--json"])
    assert code == 1, err
    lines = error_lines(err)
    assert lines == ["hwbench: internal error: RuntimeError: probe table corrupted (run with --debug for the traceback)"], err
    assert out == ""


def test_debug_lets_the_traceback_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hwbench.detect.detect_all", _boom)
    with pytest.raises(RuntimeError, match="probe table"):
        run_cli(["--debug", "detect", "--json"])
    with pytest.raises(RuntimeError, match="probe table"):
        run_cli(["detect", "--json"], env={"HWBENCH_DEBUG": "1"})


def test_keyboard_interrupt_is_exit_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*a: Any, **k: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("hwbench.detect.detect_all", interrupted)
    code, out, err = run_cli(["detect", "--json"])
    assert code == 130
    assert error_lines(err) == ["hwbench: interrupted"]


# ----------------------------------------------------------------------------- real processes

# Runs `hwbench ARGS` as `python -m hwbench` would, with detect_all replaced by SLOW_OR_FAILING.
_SCRIPT = """
import runpy, sys, time
import hwbench.detect

def slow(*a, **k):
    print("READY", file=sys.stderr, flush=True)
    time.sleep(120)

def failing(*a, **k):
    raise RuntimeError("probe table corrupted")

hwbench.detect.detect_all = {fn}
sys.argv = ["hwbench", *{args!r}]
runpy.run_module("hwbench", run_name="__main__", alter_sys=True)
"""


def _spawn(fn: str, args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_SCRIPT.format(fn=fn, args=args))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # the hwbench under test, wherever the child starts
        env={**os.environ, "HWBENCH_DEBUG": "0", "PYTHONPATH": os.path.dirname(os.path.dirname(hwbench.__file__))},
        # as from a terminal: a test runner started in the background inherits SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def test_internal_error_in_a_real_process_is_exit_1_without_traceback() -> None:
    proc = _spawn("failing", ["detect", "--json"])
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    assert error_lines(err) == ["hwbench: internal error: RuntimeError: probe table corrupted (run with --debug for the traceback)"]

    proc = _spawn("failing", ["--debug", "detect", "--json"])
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "Traceback" in err and "RuntimeError: probe table corrupted" in err


def test_ctrl_c_in_a_real_process_is_exit_130() -> None:
    proc = _spawn("slow", ["detect", "--json"])
    assert proc.stderr is not None
    t0 = time.monotonic()
    line = proc.stderr.readline()  # the command is running (imports done, detection under way)
    assert line.strip() == "READY", line
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 60, "SIGINT did not stop the command"
    assert proc.returncode == 130, err
    assert error_lines(err) == ["hwbench: interrupted"]
    assert out == ""
