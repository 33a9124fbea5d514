"""`hwbench fleet bench` against a real OpenSSH server on 127.0.0.1 (see tests/helpers/tests_helpers_sshd.py).

The SSH client, the host-key checks, the remote shell, SFTP, the results folder and the
comparison are all real. Only the remote *benchmark* is a stand-in (the wrapper's `bench` writes a
committed fixture record); ``test_real_remote_bench`` runs the real one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests_helpers_cli import error_lines, run_cli
from tests_helpers_sshd import RECORDS, REPO, Fleet, free_port, start_sshd


def inventory(path: Path, entries: list[dict[str, object]]) -> Path:
    import yaml

    path.write_text(yaml.safe_dump({"hosts": entries}))
    return path


def fleet_bench(*args: str) -> tuple[int, str, str]:
    return run_cli(["fleet", "bench", *args])


def summary(out: Path) -> dict[str, dict[str, object]]:
    data = json.loads((out / "fleet.json").read_text())
    return {h["label"]: h for h in data["hosts"]}


def failure_lines(err: str) -> list[str]:
    return [ln for ln in error_lines(err) if ln.startswith("hwbench: fleet: ")]


def no_traceback(err: str) -> None:
    assert "Traceback" not in err and "internal error" not in err, err


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith("."))


# ----------------------------------------------------------------------------- the good path


def test_two_hosts_records_copied_home_and_compared(fleet: Fleet, tmp_path: Path) -> None:
    inv = inventory(
        tmp_path / "hosts.yaml",
        [
            {"host": "box-a", "usd_per_hour": 0.5, "hwbench": str(fleet.wrapper("ok", "aws-c8g-4xlarge.json"))},
            {"host": "box-b", "name": "gpu-b", "hwbench": str(fleet.wrapper("ok", "aws-g5-2xlarge.json", name="hw-g5"))},
        ],
    )
    code, out, err = fleet_bench("--inventory", str(inv), "--out", "res", "-r", "2", "-p", "64", "-n", "16")
    no_traceback(err)
    assert code == 0, err
    res = tmp_path / "res"
    for label, fixture in (("box-a", "aws-c8g-4xlarge.json"), ("gpu-b", "aws-g5-2xlarge.json")):
        meta = json.loads((res / label / "host.json").read_text())
        assert meta["status"] == "ok" and meta["hwbench_version"].startswith("hwbench, version")
        assert meta["bench_args"] == ["--reps", "2", "--n-prompt", "64", "--n-gen", "16"]
        [name] = meta["records"]
        rec = json.loads((res / label / name).read_text())
        want = json.loads((RECORDS / fixture).read_text())
        assert rec["run_id"] == name[:-5] != want["run_id"]
        assert {k: v for k, v in rec.items() if k != "run_id"} == {k: v for k, v in want.items() if k != "run_id"}
        detected = json.loads((res / label / "detect.json").read_text())
        assert detected["cpu"]["logical_cores"] == os.cpu_count()  # the real `hwbench detect --json`, run over SSH
    # the remote side was asked for exactly what the command line said
    bench_calls = [ln for ln in fleet.calls.read_text().splitlines() if " bench " in ln]
    assert len(bench_calls) == 2 and all(
        "bench --reps 2 --n-prompt 64 --n-gen 16 --out /" in ln and ln.endswith(" --json") for ln in bench_calls
    )
    # the comparison of both hosts, priced from the inventory (box-a) and the instance profile (gpu-b)
    cmp = json.loads((res / "compare.json").read_text())
    machines = {m["label"]: m for m in cmp["machines"]}
    assert set(machines) == {"box-a", "gpu-b"}
    assert machines["box-a"]["usd_per_hour"] == 0.5 and machines["box-a"]["price_source"] == "inventory hosts.yaml"
    assert machines["gpu-b"]["price_source"].startswith("profile aws/g5.2xlarge")
    assert "box-a" in (res / "compare.html").read_text() and "gpu-b" in (res / "compare.csv").read_text()
    # final table and summary: host, status, tokens/s, USD/hour, USD per million tokens
    s = summary(res)
    a = s["box-a"]
    assert a["status"] == "ok" and a["test"] == "tg128"
    tps = next(r["tokens_per_s"] for r in json.loads((RECORDS / "aws-c8g-4xlarge.json").read_text())["results"] if r["test"] == "tg128")
    assert a["tokens_per_s"] == pytest.approx(tps)
    assert a["usd_per_million_tokens"] == pytest.approx(0.5 / (tps * 3600) * 1e6, rel=1e-3)
    row = next(ln for ln in out.splitlines() if "box-a" in ln)
    assert "ok" in row and f"{tps:.2f}" in row and "0.5" in row and "inventory hosts.yaml" in row
    assert leftovers(res) == []
    # progress a person can follow, per host
    for step in (
        "connecting to box-a",
        "using ",
        "benchmarking: hwbench bench --reps 2",
        "repetition 2/2",
        "copied back 1 record",
        "done in",
    ):
        assert any(ln.startswith("[box-a] ") and step in ln for ln in err.splitlines()), step


def test_json_summary_on_stdout(fleet: Fleet) -> None:
    code, out, err = fleet_bench("box-a", "--remote-hwbench", str(fleet.wrapper()), "--out", "res", "--json")
    assert code == 0, err
    data = json.loads(out)
    [h] = data["hosts"]
    assert h["label"] == "box-a" and h["status"] == "ok" and h["tokens_per_s"] > 0 and h["records"][0].startswith("box-a/")
    assert "measured" in data["sources"]["tokens_per_s"]


# ----------------------------------------------------------------------------- faults, one line each


def test_unreachable_host_fails_alone(fleet: Fleet, tmp_path: Path) -> None:
    closed = free_port()
    code, out, err = fleet_bench("box-a", f"127.0.0.1:{closed}", "--remote-hwbench", str(fleet.wrapper()), "--out", "res")
    no_traceback(err)
    assert code == 1
    assert failure_lines(err) == [
        f"hwbench: fleet: 127.0.0.1_{closed}: connection refused by 127.0.0.1:{closed} (is sshd running there, on this port?)"
    ]
    assert (tmp_path / "res" / "box-a" / "host.json").is_file()  # the other host's records are kept
    assert not (tmp_path / "res" / f"127.0.0.1_{closed}").exists()
    assert summary(tmp_path / "res")[f"127.0.0.1_{closed}"]["status"] == "failed"
    assert set(m["label"] for m in json.loads((tmp_path / "res" / "compare.json").read_text())["machines"]) == {"box-a"}


def test_wrong_key_is_refused(fleet: Fleet, tmp_path: Path) -> None:
    inv = inventory(
        tmp_path / "hosts.yaml",
        [{"name": "wrongkey", "host": "127.0.0.1", "port": fleet.server.port, "identity_file": str(fleet.wrong_key)}],
    )
    code, out, err = fleet_bench("--inventory", str(inv), "--remote-hwbench", str(fleet.wrapper()), "--out", "res")
    no_traceback(err)
    assert code == 1
    [line] = failure_lines(err)
    assert line.startswith("hwbench: fleet: wrongkey: authentication refused for ") and str(fleet.wrong_key) in line
    assert fleet.call_count("") == 0  # nothing ran remotely
    assert str(fleet.wrong_key.read_text().splitlines()[1]) not in err + out  # no key material in the output


def test_unknown_host_key_refused_then_accepted_and_changed_key_always_refused(fleet: Fleet, tmp_path: Path) -> None:
    kh = fleet.home / ".ssh" / "known_hosts"
    kh.write_text("")
    wrapper = str(fleet.wrapper())
    code, out, err = fleet_bench("box-a", "--remote-hwbench", wrapper, "--out", "res")
    no_traceback(err)
    assert code == 1
    [line] = failure_lines(err)
    assert line.startswith("hwbench: fleet: box-a: unknown host key (its fingerprint: SHA256:") and "--accept-new-host-keys" in line
    assert kh.read_text() == "" and fleet.call_count("") == 0

    code, out, err = fleet_bench("box-a", "--remote-hwbench", wrapper, "--out", "res", "--accept-new-host-keys")
    assert code == 0, err
    assert kh.read_text() == fleet.server.known_hosts_line()  # OpenSSH's own format, for this port
    assert any("new host key SHA256:" in ln for ln in err.splitlines())

    # the same name and port now answers with another key: refused, even with --accept-new-host-keys
    fleet.server.stop()
    other = start_sshd(tmp_path / "sshd2", [fleet.client_key.with_suffix(".pub")], port=fleet.server.port)
    try:
        code, out, err = fleet_bench("box-a", "--remote-hwbench", wrapper, "--out", "res2", "--accept-new-host-keys")
    finally:
        other.stop()
    no_traceback(err)
    assert code == 1
    [line] = failure_lines(err)
    assert line.startswith("hwbench: fleet: box-a: host key CHANGED")
    assert kh.read_text() == fleet.server.known_hosts_line()  # not replaced


def test_crashing_remote_benchmark(fleet: Fleet, tmp_path: Path) -> None:
    inv = inventory(
        tmp_path / "hosts.yaml",
        [{"host": "box-a", "hwbench": str(fleet.wrapper("ok"))}, {"host": "box-b", "hwbench": str(fleet.wrapper("crash"))}],
    )
    code, out, err = fleet_bench("--inventory", str(inv), "--out", "res")
    no_traceback(err)
    assert code == 1
    assert failure_lines(err) == [
        "hwbench: fleet: box-b: remote `hwbench bench` exited with status 134 (SIGABRT: it crashed); "
        "last message: GGML_ASSERT(ctx->mem_buffer != NULL) failed (stand-in crash) (while benchmarking)"
    ]
    res = tmp_path / "res"
    assert (res / "box-a" / "host.json").is_file() and not (res / "box-b").exists()
    assert leftovers(res) == []
    assert "failed (benchmarking)" in next(ln for ln in out.splitlines() if "box-b" in ln)


def test_invalid_remote_inventory_is_a_host_failure(fleet: Fleet) -> None:
    code, out, err = fleet_bench("box-a", "--remote-hwbench", str(fleet.wrapper("bad-detect")), "--out", "res")
    assert code == 1
    [line] = failure_lines(err)
    assert line.startswith("hwbench: fleet: box-a: remote `hwbench detect --json` printed no valid inventory")


def test_failed_install(fleet: Fleet, tmp_path: Path) -> None:
    # pip is given a wheel that is not there: the install fails on the host without any network
    code, out, err = fleet_bench(
        "box-a", "--install", "pip", "--install-spec", str(tmp_path / "missing" / "hwbench-0.1.0-py3-none-any.whl"), "--out", "res"
    )
    no_traceback(err)
    assert code == 1
    [line] = failure_lines(err)
    assert line.startswith("hwbench: fleet: box-a: install failed: ") and line.endswith("(while installing hwbench)")
    assert not (tmp_path / "res" / "box-a").exists()


def test_per_host_timeout_stops_the_remote_benchmark(fleet: Fleet, tmp_path: Path) -> None:
    inv = inventory(
        tmp_path / "hosts.yaml",
        [{"host": "box-a", "hwbench": str(fleet.wrapper("ok"))}, {"host": "box-b", "hwbench": str(fleet.wrapper("hang"))}],
    )
    t0 = time.monotonic()
    # long enough for box-a on a busy machine (its whole run counts), short for a test
    code, out, err = fleet_bench("--inventory", str(inv), "--out", "res", "--timeout", "20")
    assert time.monotonic() - t0 < 60
    assert code == 1
    assert failure_lines(err) == ["hwbench: fleet: box-b: timed out after 20 s (--timeout) while benchmarking"]
    assert (tmp_path / "res" / "box-a" / "host.json").is_file()
    [pid] = [int(p) for p in (tmp_path / "pids").read_text().split()]
    assert _gone(pid), "the hanging remote benchmark was left running"


def test_dropped_connection(fleet: Fleet, tmp_path: Path) -> None:
    inv = inventory(
        tmp_path / "hosts.yaml",
        [{"host": "box-a", "hwbench": str(fleet.wrapper("ok"))}, {"host": "box-b", "hwbench": str(fleet.wrapper("drop"))}],
    )
    code, out, err = fleet_bench("--inventory", str(inv), "--out", "res")
    no_traceback(err)
    assert code == 1
    [line] = failure_lines(err)
    assert line.startswith("hwbench: fleet: box-b: connection lost") and line.endswith("(while benchmarking)")
    assert (tmp_path / "res" / "box-a" / "host.json").is_file() and not (tmp_path / "res" / "box-b").exists()
    assert leftovers(tmp_path / "res") == []


def _gone(pid: int, wait_s: float = 10.0) -> bool:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as f:  # a zombie waiting for its parent counts as gone
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        time.sleep(0.1)
    return False


# ----------------------------------------------------------------------------- resume and --force


def test_resume_skips_complete_hosts_and_force_reruns(fleet: Fleet, tmp_path: Path) -> None:
    w = str(fleet.wrapper())
    res = tmp_path / "res"
    code, _, err = fleet_bench("box-a", "box-b", "--remote-hwbench", w, "--out", "res")
    assert code == 0, err
    assert fleet.call_count("bench") == 2
    first = json.loads((res / "box-a" / "host.json").read_text())["records"]

    code, out, err = fleet_bench("box-a", "box-b", "--remote-hwbench", w, "--out", "res")
    assert code == 0, err
    assert fleet.call_count("bench") == 2  # nothing re-ran
    assert {h: s["status"] for h, s in summary(res).items()} == {"box-a": "skipped", "box-b": "skipped"}
    assert "[box-a] complete in res/box-a: skipped (--force re-runs it)" in err.splitlines()
    assert {m["label"] for m in json.loads((res / "compare.json").read_text())["machines"]} == {"box-a", "box-b"}

    code, out, err = fleet_bench("box-a", "--remote-hwbench", w, "--out", "res", "--force")
    assert code == 0, err
    assert fleet.call_count("bench") == 3
    meta = json.loads((res / "box-a" / "host.json").read_text())
    assert meta["records"] != first and sorted(p.name for p in (res / "box-a").iterdir()) == sorted(
        ["host.json", "detect.json", *meta["records"]]
    )
    assert leftovers(res) == []


def test_incomplete_host_folder_is_rerun(fleet: Fleet, tmp_path: Path) -> None:
    w = str(fleet.wrapper())
    res = tmp_path / "res"
    assert fleet_bench("box-a", "--remote-hwbench", w, "--out", "res")[0] == 0
    meta = json.loads((res / "box-a" / "host.json").read_text())
    (res / "box-a" / meta["records"][0]).write_text('{"schema_version": 1, "run_id": "trunc')  # damaged by hand
    code, out, err = fleet_bench("box-a", "--remote-hwbench", w, "--out", "res")
    assert code == 0, err
    assert fleet.call_count("bench") == 2 and summary(res)["box-a"]["status"] == "ok"


def test_failed_force_rerun_keeps_the_old_complete_results(fleet: Fleet, tmp_path: Path) -> None:
    res = tmp_path / "res"
    assert fleet_bench("box-a", "--remote-hwbench", str(fleet.wrapper()), "--out", "res")[0] == 0
    before = {p.name: p.read_bytes() for p in (res / "box-a").iterdir()}
    code, out, err = fleet_bench("box-a", "--remote-hwbench", str(fleet.wrapper("crash")), "--out", "res", "--force")
    assert code == 1
    assert {p.name: p.read_bytes() for p in (res / "box-a").iterdir()} == before
    assert leftovers(res) == []


# ----------------------------------------------------------------------------- Ctrl-C


def test_ctrl_c_keeps_finished_hosts(fleet: Fleet, tmp_path: Path) -> None:
    inv = inventory(
        tmp_path / "hosts.yaml",
        [{"host": "box-a", "hwbench": str(fleet.wrapper("ok"))}, {"host": "box-b", "hwbench": str(fleet.wrapper("hang"))}],
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "hwbench", "fleet", "bench", "--inventory", str(inv), "--out", "res"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not ((tmp_path / "res" / "box-a" / "host.json").exists() and (tmp_path / "pids").exists()):
            time.sleep(0.2)
        assert (tmp_path / "pids").exists(), "box-b never started its benchmark"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    no_traceback(err)
    assert proc.returncode == 130, err
    assert failure_lines(err) == ["hwbench: fleet: box-b: interrupted (Ctrl-C) while benchmarking"]
    res = tmp_path / "res"
    assert (res / "box-a" / "host.json").is_file() and not (res / "box-b").exists()
    assert summary(res)["box-a"]["status"] == "ok" and summary(res)["box-b"]["status"] == "interrupted"
    assert {m["label"] for m in json.loads((res / "compare.json").read_text())["machines"]} == {"box-a"}
    assert leftovers(res) == []
    [pid] = [int(p) for p in (tmp_path / "pids").read_text().split()]
    assert _gone(pid), "the remote benchmark kept running after Ctrl-C"


# ----------------------------------------------------------------------------- the real thing, once


@pytest.mark.slow
def test_real_remote_bench(fleet: Fleet, tmp_path: Path) -> None:
    """No stand-in: the remote `hwbench bench` runs llama.cpp on a tiny synthetic GGUF made here."""
    pytest.importorskip("llama_cpp")
    from hwbench.bench.synth import tiny_spec, write_synthetic

    gguf = write_synthetic(tiny_spec(n_layer=2), "Q4_K_M", path=tmp_path / "tiny.gguf").path
    code, out, err = fleet_bench(
        "box-a",
        "--remote-hwbench",
        str(fleet.wrapper("real")),
        "--gguf",
        str(gguf),
        "-r",
        "2",
        "-p",
        "16",
        "-n",
        "4",
        "-t",
        "1",
        "--out",
        "res",
    )
    no_traceback(err)
    assert code == 0, err
    meta = json.loads((tmp_path / "res" / "box-a" / "host.json").read_text())
    rec = json.loads((tmp_path / "res" / "box-a" / meta["records"][0]).read_text())
    timed = [r for r in rec["results"] if r["test"] in ("pp16", "tg4")]
    assert sorted(r["test"] for r in timed) == ["pp16", "tg4"]
    assert all(r["tokens_per_s"] > 0 and len(r["samples_ns"]) == 2 for r in timed)
    assert any("repetition 2/2" in ln for ln in err.splitlines())  # the real bench's progress, relayed
    assert summary(tmp_path / "res")["box-a"]["tokens_per_s"] == pytest.approx(
        next(r["tokens_per_s"] for r in rec["results"] if r["test"] == "tg4")
    )
