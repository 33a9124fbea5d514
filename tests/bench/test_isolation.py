from __future__ import annotations

import signal

from hwbench.bench.isolation import run_child


def test_events_stream_back() -> None:
    seen = []
    out = run_child({"kind": "fake", "reps": 3, "tests": [{"name": "tg8"}]}, timeout_s=60, on_event=seen.append)
    assert out.ok and out.returncode == 0
    assert [e["rep"] for e in out.events if e["event"] == "sample"] == [0, 1, 2]
    assert seen == out.events


def test_abort_becomes_error_and_keeps_earlier_samples() -> None:
    job = {"kind": "fake", "reps": 5, "tests": [{"name": "pp8"}], "debug": {"abort_after_samples": 2}}
    out = run_child(job, timeout_s=60)
    assert out.returncode == -signal.SIGABRT
    assert out.error is not None and out.error.startswith("killed by signal 6 (SIGABRT) while running")
    assert len([e for e in out.events if e["event"] == "sample"]) == 2


def test_timeout_kills_child_and_keeps_samples() -> None:
    job = {"kind": "fake", "reps": 100, "sleep_s": 0.2, "tests": [{"name": "tg1"}]}
    out = run_child(job, timeout_s=2.0)
    assert out.error is not None and out.error.startswith("timed out after 2s while running tg1")
    assert 1 <= len([e for e in out.events if e["event"] == "sample"]) < 100


def test_python_exception_in_child_is_one_line() -> None:
    out = run_child({"kind": "nonsense"}, timeout_s=60)
    assert out.error is not None and "unknown job kind" in out.error
    assert "\n" not in out.error


def test_a_segfault_on_a_cpu_listing_amx_says_how_to_build_llama_cpp_without_it(tmp_path):
    from hwbench.bench.isolation import AMX_HINT, _describe_exit

    amx = tmp_path / "cpuinfo-amx"
    amx.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f amx_bf16 amx_tile amx_int8\n")
    plain = tmp_path / "cpuinfo-plain"
    plain.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n")
    msg = _describe_exit(-11, "warm-up pp512", "", cpuinfo=amx)
    assert msg.startswith("killed by signal 11 (SIGSEGV) while warm-up pp512") and msg.endswith(AMX_HINT)
    assert "-mno-amx-int8" in msg
    assert AMX_HINT not in _describe_exit(-11, "warm-up pp512", "", cpuinfo=plain)
    assert AMX_HINT not in _describe_exit(-6, "loading", "", cpuinfo=amx)  # an abort is not the AMX crash
    assert AMX_HINT not in _describe_exit(-11, "loading", "", cpuinfo=tmp_path / "missing")
