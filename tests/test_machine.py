""""This machine" is built once (hwbench.machine.this_machine): check and bench both use it, with --profiles-dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests_helpers_cli import run_cli

from hwbench.machine import minimal_host, this_machine
from hwbench.schema import GpuInfo, HardwareTarget, HostInfo

MY_GPU = """gpus:
  - {name: Acme Tensor X1, vendor: Acme, memory_gib: 48, bandwidth_gbps: 1234, fp16_tflops: 99, backend: vulkan,
     source: "test", as_of: "2026-12-01"}
"""


@pytest.fixture
def user_profiles(tmp_path: Path) -> Path:
    d = tmp_path / "profiles"
    d.mkdir()
    (d / "gpus-mine.yaml").write_text(MY_GPU)
    return d


@pytest.fixture
def acme_host(monkeypatch: pytest.MonkeyPatch) -> HostInfo:
    """Detection finds one GPU that only the user's profile knows."""
    gpu = GpuInfo(index=0, vendor="Acme", name="Acme Tensor X1", memory_total_bytes=48 * 2**30, backend="vulkan")
    host = minimal_host().model_copy(update={"gpus": [gpu], "warnings": []})
    monkeypatch.setattr("hwbench.detect.detect_all", lambda **kw: host)
    return host


def test_this_machine_uses_the_users_gpu_profiles(user_profiles: Path, acme_host: HostInfo) -> None:
    without = this_machine(None).target
    mine = this_machine(str(user_profiles)).target
    assert without.gpus[0].bandwidth_gbps is None
    assert mine.gpus[0].bandwidth_gbps == 1234 and mine.gpus[0].fp16_tflops == 99
    assert this_machine(str(user_profiles), host=acme_host).target == mine


def test_check_builds_this_machine_with_profiles_dir(user_profiles: Path, acme_host: HostInfo) -> None:
    code, out, err = run_cli(["check", "--params", "7b", "--json", "--profiles-dir", str(user_profiles)])
    assert code == 0, err
    assert json.loads(out)["hardware"]["gpus"][0]["bandwidth_gbps"] == 1234


def test_bench_builds_this_machine_with_profiles_dir(
    user_profiles: Path, acme_host: HostInfo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`bench --profiles-dir` reaches this_machine, so the user's GPU profile sizes the prediction."""
    seen: list[HardwareTarget] = []
    monkeypatch.setattr("hwbench.bench.llamacpp_part.run_llamacpp_part", lambda opts, target, inst, hw, rec: seen.append(hw))
    code, _, err = run_cli(["bench", "--params", "1b", "--profiles-dir", str(user_profiles), "--out", str(tmp_path / "r"), "-r", "1"])
    assert code == 0, err
    assert seen and seen[0].gpus[0].bandwidth_gbps == 1234


def test_detection_failure_is_a_warning_only_where_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**kw: object) -> HostInfo:
        raise OSError("no /proc here")

    monkeypatch.setattr("hwbench.detect.detect_all", broken)
    m = this_machine(tolerate_detection_failure=True)
    assert any("detection failed: OSError: no /proc here" in w for w in m.host.warnings)
    assert m.target.ram_bytes > 0
    with pytest.raises(OSError):
        this_machine()


def test_a_bad_calibration_file_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    from hwbench import calibration

    def bad(*a: object, **k: object) -> None:
        raise ValueError("garbled")

    monkeypatch.setattr(calibration, "load_calibration", bad)
    m = this_machine(host=minimal_host())
    assert m.calibration is None and m.target.cpu_bandwidth_source == "assumed"


def test_a_full_calibration_is_not_probed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """With `bench`'s calibration holding both CPU figures, check measures no probe (it would be overridden)."""
    from hwbench.calibration import Calibration, machine_key, save_calibration, speed_model_id

    host = minimal_host().model_copy(update={"warnings": []})
    key = machine_key(host.cpu.model, host.cpu.logical_cores, host.memory.total_bytes)
    ran: list[str] = []
    monkeypatch.setattr("hwbench.probe.run_probe", lambda k: ran.append(k))
    monkeypatch.setenv("HWBENCH_PROBE", "1")

    this_machine(host=host)  # no calibration yet: the first check probes
    assert ran == [key]
    ran.clear()
    save_calibration(
        Calibration(run_id="r1", created_at="2026-12-02", machine_key=key, cpu_bandwidth_gbps=40.0, cpu_pp_tflops=0.5, speed_model=speed_model_id())
    )
    m = this_machine(host=host)
    assert ran == [], "a probe was measured although the calibration replaces its figures"
    assert m.target.cpu_bandwidth_source == "measured" and m.target.cpu_bandwidth_gbps == 40.0
