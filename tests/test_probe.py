"""The quick CPU probe (hwbench/probe.py): measured once per machine, cached with its date, used by `check`.

Real measurements on a small array (no mock of numpy or the clock); the figures are only checked for
being positive and plausible, since this machine's speed is not known to the test.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from tests_helpers_cli import run_cli

from hwbench import probe as P
from hwbench.schema import CpuInfo, HostInfo, MemoryInfo

GiB = 2**30


def _host() -> HostInfo:
    return HostInfo(cpu=CpuInfo(model="Probe CPU", logical_cores=2, physical_cores=2, max_mhz=3000.0, flags=["avx2", "fma"], arch="x86_64"), memory=MemoryInfo(total_bytes=8 * GiB))


def test_run_probe_measures_positive_figures_quickly() -> None:
    t0 = time.perf_counter()
    pr = P.run_probe("k", array_bytes=16 * 2**20, budget_s=0.3)
    wall = time.perf_counter() - t0
    assert pr.cpu_bandwidth_gbps > 0.1  # even a loaded machine reads 16 MiB faster than 0.1 GB/s
    assert pr.sgemm_tflops > 1e-4
    assert pr.threads >= 1 and pr.array_bytes == 16 * 2**20 and pr.matmul_n in (1024, 2048)
    assert pr.created_at[:4].isdigit() and "T" in pr.created_at
    assert wall < 10  # the budget stops the loops early; generous for a loaded CI machine


def test_probe_figures_are_the_median_of_their_passes_not_the_best() -> None:
    """A sustained figure: the best of many short passes catches a shared VM's quiet moments (module doc)."""
    import statistics

    pr = P.run_probe("k", array_bytes=16 * 2**20, budget_s=0.2)
    reads, mms = pr.read_samples_gbps, pr.matmul_samples_tflops
    assert reads is not None and mms is not None
    assert P.MIN_PASSES <= len(reads) <= P.MAX_PASSES and P.MIN_PASSES <= len(mms) <= P.MAX_PASSES
    assert pr.cpu_bandwidth_gbps == pytest.approx(statistics.median(reads), abs=0.011)
    assert pr.sgemm_tflops == pytest.approx(statistics.median(mms), abs=1e-4)


def test_passes_fill_the_window_within_bounds() -> None:
    calls = []
    rates = P._passes(lambda: calls.append(1), 1.0, time.perf_counter() - 1)  # deadline passed: the minimum
    assert len(rates) == len(calls) == P.MIN_PASSES
    rates = P._passes(lambda: time.sleep(0.001), 1.0, time.perf_counter() + 10)  # far deadline: the maximum
    assert len(rates) == P.MAX_PASSES and all(r > 0 for r in rates)


def test_probe_once_measures_once_then_reuses(tmp_path: Path) -> None:
    path = tmp_path / "probe.json"
    first = P.probe_once("machine-a", path=path)
    assert first is not None and path.exists()
    stamp = path.stat().st_mtime_ns
    again = P.probe_once("machine-a", path=path)
    assert again == first  # read back, not measured again
    assert path.stat().st_mtime_ns == stamp


def test_probe_of_another_machine_or_version_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "probe.json"
    pr = P.Probe(machine_key="machine-a", created_at="2026-12-01T00:00:00+00:00", cpu_bandwidth_gbps=20.0, sgemm_tflops=0.1, threads=2, array_bytes=2**20, matmul_n=1024, seconds=0.4)
    P.save_probe(pr, path)
    assert P.load_probe("machine-a", path) == pr
    assert P.load_probe("machine-b", path) is None
    data = json.loads(path.read_text())
    data["probe_version"] = P.PROBE_VERSION - 1
    path.write_text(json.dumps(data))
    assert P.load_probe("machine-a", path) is None
    path.write_text("{not json")
    assert P.load_probe("machine-a", path) is None


def test_target_uses_probe_and_says_so() -> None:
    from hwbench import assumptions as A
    from hwbench.hardware import target_from_host

    pr = P.Probe(machine_key="k", created_at="2026-12-01T10:00:00+00:00", cpu_bandwidth_gbps=23.5, sgemm_tflops=0.2, threads=2, array_bytes=2**20, matmul_n=1024, seconds=0.4)
    assumed = target_from_host(_host(), None)
    probed = target_from_host(_host(), None, probe=pr)
    assert assumed.cpu_bandwidth_source == "assumed" and assumed.cpu_tflops_source == "assumed"
    assert probed.cpu_bandwidth_gbps == 23.5 and probed.cpu_bandwidth_source == "probed"
    assert probed.cpu_tflops == pytest.approx(0.2 / A.value("cpu_sgemm_share_of_peak"))
    assert probed.cpu_tflops_source == "probed"
    assert any("CPU probed 2026-12-01" in n for n in probed.notes)


def test_calibration_takes_precedence_over_probe() -> None:
    from hwbench.calibration import Calibration
    from hwbench.hardware import target_from_host

    pr = P.Probe(machine_key="k", created_at="2026-12-01T10:00:00+00:00", cpu_bandwidth_gbps=23.5, sgemm_tflops=0.2, threads=2, array_bytes=2**20, matmul_n=1024, seconds=0.4)
    cal = Calibration(run_id="r1", created_at="2026-12-02", machine_key="k", cpu_bandwidth_gbps=41.0, cpu_pp_tflops=0.3)
    t = target_from_host(_host(), cal, probe=pr)
    assert (t.cpu_bandwidth_gbps, t.cpu_bandwidth_source) == (41.0, "measured")
    assert (t.cpu_tflops, t.cpu_tflops_source) == (0.3, "measured")


def test_check_probes_once_then_reads_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """First `check` on a machine (fresh data dir) measures and says 'probed'; the next reuses the file."""
    from hwbench.paths import data_dir

    monkeypatch.setenv("HWBENCH_PROBE", "1")
    rc, out, err = run_cli(["check", "--params", "1b", "--quant", "q4", "--no-gpu"])
    assert rc == 0, err
    path = data_dir() / "probe.json"
    assert path.exists()
    assert "probed" in out
    stamp = path.stat().st_mtime_ns
    rc, out2, err = run_cli(["check", "--params", "1b", "--quant", "q4", "--no-gpu"])
    assert rc == 0, err
    assert path.stat().st_mtime_ns == stamp  # not measured again
    assert "probed" in out2


def test_check_without_probe_says_assumed() -> None:
    from hwbench.paths import data_dir

    rc, out, err = run_cli(["check", "--params", "1b", "--quant", "q4", "--no-gpu"])  # HWBENCH_PROBE=0 (conftest)
    assert rc == 0, err
    assert not (data_dir() / "probe.json").exists()
    assert "assumed" in out and "probed" not in out


def test_detect_probe_measures_and_saves() -> None:
    from hwbench.paths import data_dir

    rc, out, err = run_cli(["detect", "--probe", "--json"])
    assert rc == 0, err
    data = json.loads(out)
    assert data["cpu_probe"]["source"] == "probed" and data["cpu_probe"]["cpu_bandwidth_gbps"] > 0
    saved = json.loads((data_dir() / "probe.json").read_text())
    assert saved["created_at"] == data["cpu_probe"]["created_at"]


def test_a_probe_made_on_a_busy_machine_says_so() -> None:
    from hwbench.hardware import target_from_host

    kw = dict(machine_key="k", created_at="2026-12-01T10:00:00+00:00", cpu_bandwidth_gbps=6.4, sgemm_tflops=0.02, threads=2, array_bytes=2**20, matmul_n=1024, seconds=2.5)
    busy = P.Probe(**kw, load_avg=9.4, logical_cores=2)  # type: ignore[arg-type]
    idle = P.Probe(**kw, load_avg=0.1, logical_cores=2)  # type: ignore[arg-type]
    assert busy.busy() and not idle.busy()
    assert any("busy" in n for n in target_from_host(_host(), None, probe=busy).notes)
    assert not any("busy" in n for n in target_from_host(_host(), None, probe=idle).notes)
    assert P.run_probe("k", array_bytes=8 * 2**20, budget_s=0.1).logical_cores
