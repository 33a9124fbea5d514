"""Child-process entry point: ``python -m hwbench.bench.child`` runs one measurement job.

The job (JSON) arrives on stdin. Events go back as JSON lines on the original stdout, one per
repetition, so the parent keeps what was measured if this process dies; native code's own
stdout output is redirected to stderr so it cannot corrupt the stream.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def _event_writer() -> Any:
    out_fd = os.dup(1)
    os.dup2(2, 1)  # anything native code prints to stdout goes to stderr
    stream = os.fdopen(out_fd, "w", buffering=1, encoding="utf-8")
    sys.stdout = sys.stderr

    def emit(event: str, **data: Any) -> None:
        stream.write(json.dumps({"event": event, **data}) + "\n")
        stream.flush()

    return emit


def peak_rss_bytes() -> int | None:
    try:
        import resource

        ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(ru) if sys.platform == "darwin" else int(ru) * 1024
    except Exception:  # noqa: BLE001 - not available on this platform
        return None


def run_job(job: dict[str, Any], emit: Any) -> None:
    kind = job.get("kind")
    debug = job.get("debug") or {}
    if debug.get("abort_after_samples") is not None:
        emit = _aborting_emit(emit, int(debug["abort_after_samples"]))
    if kind == "llamacpp":
        from hwbench.bench.runner_llamacpp import run_llamacpp_job

        run_llamacpp_job(job, emit)
    elif kind in ("torch_micro", "torch_decode"):
        from hwbench.bench.runner_torch import run_torch_job

        run_torch_job(job, emit)
    elif kind == "fake":
        _fake_job(job, emit)
    else:
        raise ValueError(f"unknown job kind {kind!r}")
    emit("done", peak_rss_bytes=peak_rss_bytes())


def _aborting_emit(emit: Any, n: int) -> Any:
    """Test hook: abort the process (SIGABRT, like a native assertion) after ``n`` samples."""
    count = {"n": 0}

    def wrapped(event: str, **data: Any) -> None:
        emit(event, **data)
        if event == "sample" and not data.get("warmup"):
            count["n"] += 1
            if count["n"] >= n:
                emit("phase", phase="running (about to abort: test hook)")
                os.abort()

    return wrapped


def _fake_job(job: dict[str, Any], emit: Any) -> None:
    """Deterministic job for tests of the isolation layer (no llama.cpp needed)."""
    import time

    emit("phase", phase="loading")
    emit("loaded", load_time_ns=1000)
    for t in job.get("tests", []):
        emit("phase", phase=f"running {t['name']}")
        for rep in range(int(job.get("reps", 3))):
            time.sleep(float(job.get("sleep_s", 0.0)))
            emit("sample", test=t["name"], rep=rep, ns=int(t.get("ns", 1_000_000)), warmup=False)
        emit("test_done", test=t["name"])


def main() -> int:
    emit = _event_writer()
    try:
        job = json.loads(sys.stdin.read())
    except ValueError as e:
        emit("error", message=f"bad job: {e}")
        return 2
    try:
        run_job(job, emit)
    except KeyboardInterrupt:
        emit("error", message="interrupted")
        return 130
    except Exception as e:  # noqa: BLE001 - reported to the parent as one line
        emit("error", message=f"{type(e).__name__}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
