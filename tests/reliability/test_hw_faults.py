"""Hardware faults degrade to warnings and partial data; nothing crashes (issue 6, "Hardware faults").

tests/detect already covers: NVML missing / driver not loaded / init errors, one of two GPUs failing on
every call, a GPU whose handle cannot be opened, garbage in single sysfs files, a probe that raises.
Added here: a GPU lost half-way through its queries, NVML raising non-NVML exceptions, the device
count changing under us, every sysfs/procfs file garbage (or a directory, or binary), and the
partial inventory flowing on into `check`'s hardware target and the report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests_helpers_cli import run_cli

import hwbench.detect as detect
from hwbench.detect import detect_all
from hwbench.detect.nvidia import probe_nvidia
from hwbench.hardware import target_from_host
from hwbench.schema import HostInfo

GIB = 1 << 30


def _machine(tree: Any) -> None:
    tree.fixture("proc/cpuinfo", "cpuinfo_xeon_spr")
    tree.fixture("proc/meminfo", "meminfo_64g")
    tree.cpu_topology([(0, 0), (0, 1), (1, 0), (1, 1)])
    tree.write("proc/self/cgroup", "0::/hwbench\n")
    tree.write("sys/fs/cgroup/cgroup.controllers", "memory\n")
    tree.write("sys/fs/cgroup/hwbench/memory.max", f"{16 * GIB}\n")
    tree.write("sys/class/dmi/id/sys_vendor", "Hetzner\n")
    tree.write("etc/os-release", 'NAME="Ubuntu"\n')
    tree.drm_card(0, "0000:00:02.0", 0x8086, 0x7D55, driver="i915")
    tree.drm_card(1, "0000:03:00.0", 0x1002, 0x744C, driver="amdgpu")
    tree.write("sys/bus/pci/devices/0000:03:00.0/mem_info_vram_total", f"{24 * GIB}\n")


def _detect(tree: Any, nvml: Any, tmp_path: Path) -> HostInfo:
    return detect_all(
        proc_root=tree.proc, sys_root=tree.sys, dev_root=tree.dev, etc_root=tree.etc, root=tree.root,
        disk_path=tmp_path, nvml=nvml, amdsmi=None, quick=True,
    )  # fmt: skip


def test_gpu_lost_half_way_through_its_queries(make_nvml: Callable[..., Any], gpu: Any) -> None:
    """Name and UUID were read, then the GPU fell off the bus: partial data and a warning, the other GPU intact."""
    lost = {fn: 15 for fn in ("nvmlDeviceGetMemoryInfo", "nvmlDeviceGetCudaComputeCapability", "nvmlDeviceGetEnforcedPowerLimit")}
    nvml = make_nvml([gpu(), gpu(name="NVIDIA GeForce RTX 4090", bus_id="00000000:02:00.0", fail=lost)])
    gpus, warnings = probe_nvidia(nvml)
    assert gpus[0].name == "NVIDIA GeForce RTX 3090" and gpus[0].memory_total_bytes == 24 * GIB
    if len(gpus) == 2:  # reported with what could be read...
        assert gpus[1].memory_total_bytes is None
    assert any("GPU is lost" in w for w in warnings)  # ...and says what could not
    assert nvml.shutdown_called


class _Boom(Exception):
    pass


@pytest.mark.parametrize("exc", [OSError("ctypes: undefined symbol"), AttributeError("nvmlDeviceGetUUID"), _Boom("weird")])
def test_nvml_raising_foreign_exceptions_on_one_gpu(make_nvml: Callable[..., Any], gpu: Any, exc: Exception) -> None:
    nvml = make_nvml([gpu(), gpu(name="NVIDIA GeForce RTX 4090", bus_id="00000000:02:00.0")])
    real = nvml.nvmlDeviceGetMemoryInfo

    def flaky(h: Any, *a: Any) -> Any:
        if h.index == 1:
            raise exc
        return real(h, *a)

    nvml.nvmlDeviceGetMemoryInfo = flaky
    gpus, warnings = probe_nvidia(nvml)
    assert gpus and gpus[0].memory_total_bytes == 24 * GIB
    assert warnings


def test_device_count_larger_than_the_gpus_present(make_nvml: Callable[..., Any], gpu: Any) -> None:
    """A GPU disappearing between the count and the handle (hot-unplug, Xid 79)."""
    nvml = make_nvml([gpu()])
    nvml.nvmlDeviceGetCount = lambda: 2
    gpus, warnings = probe_nvidia(nvml)
    assert [g.index for g in gpus] == [0]
    assert any("1" in w for w in warnings)


def test_device_count_raises(make_nvml: Callable[..., Any], gpu: Any) -> None:
    nvml = make_nvml([gpu()])

    def count() -> int:
        raise fakes_error(15)

    nvml.nvmlDeviceGetCount = count
    gpus, warnings = probe_nvidia(nvml)
    assert gpus == [] and warnings


def fakes_error(code: int) -> Exception:
    import sys

    return sys.modules["_hwbench_detect_fakes"].nvml_error(code)


GARBAGE: list[bytes | None] = [b"", b"\xff\xfe\x00\x01binary", b"-1\n", b"9" * 400 + b"\n", b"nan\n", b"max max\n", None]


@pytest.mark.parametrize("garbage", GARBAGE, ids=["empty", "binary", "minus1", "huge", "nan", "words", "directory"])
def test_every_file_garbage_never_crashes(tree: Any, tmp_path: Path, make_nvml: Callable[..., Any], gpu: Any, garbage: bytes | None) -> None:
    """Every regular file under the fake /proc, /sys and /etc replaced by garbage (None: by a directory)."""
    _machine(tree)
    clean = _detect(tree, make_nvml([gpu(fail_all=15)]), tmp_path)
    # what the intact tree gives: so each of these going missing below shows the garbled file was read
    assert clean.cpu.model and "Xeon" in clean.cpu.model and clean.cpu.logical_cores == 4
    assert clean.memory.total_bytes and clean.memory.total_bytes > 60 * GIB
    assert any(g.memory_total_bytes == 24 * GIB for g in clean.gpus)
    files = [p for p in tree.base.rglob("*") if p.is_file() and not p.is_symlink()]
    assert {"cpuinfo", "meminfo", "mem_info_vram_total", "os-release"} <= {f.name for f in files}
    for f in files:
        if garbage is None:
            f.unlink()
            f.mkdir()
        else:
            f.write_bytes(garbage)
    host = _detect(tree, make_nvml([gpu(fail_all=15)]), tmp_path)
    assert isinstance(host, HostInfo)
    assert host.cpu.model != clean.cpu.model
    assert host.memory.total_bytes != clean.memory.total_bytes
    assert not any(g.memory_total_bytes == 24 * GIB for g in host.gpus)
    assert any(str(tree.base) in w for w in host.warnings), host.warnings  # a warning names a file it could not use
    HostInfo.model_validate_json(host.model_dump_json())
    target_from_host(host, None)  # what `check` builds from it must not crash either


ONE_FILE = [
    # (file in the fake tree, what comes from it: everything else must still be read)
    ("proc/meminfo", "ram"),
    ("sys/devices/system/cpu/online", "logical_cores"),
    ("sys/devices/system/cpu/cpu0/topology/core_id", "physical_cores"),
    ("sys/fs/cgroup/hwbench/memory.max", "cgroup"),
    ("sys/devices/pci0000:00/0000:03:00.0/mem_info_vram_total", "vram"),  # (the model name, told apart by VRAM, may widen)
]


def _facts(host: HostInfo) -> dict[str, Any]:
    amd = next((g for g in host.gpus if g.vendor.lower().startswith("amd")), None)
    return {
        "cpu_model": host.cpu.model,
        "ram": host.memory.total_bytes,
        "logical_cores": host.cpu.logical_cores,
        "physical_cores": host.cpu.physical_cores,
        "cgroup": host.memory.cgroup_limit_bytes,
        "amd_gpu": amd.name if amd else None,
        "vram": amd.memory_total_bytes if amd else None,
    }


@pytest.mark.parametrize("garbage", [b"\xff\xfe\x00\x01binary", None], ids=["binary", "directory"])
@pytest.mark.parametrize("rel,fact", ONE_FILE, ids=[f for _, f in ONE_FILE])
def test_one_garbage_file_is_a_warning_naming_it_and_the_rest_is_kept(
    tree: Any, tmp_path: Path, make_nvml: Callable[..., Any], rel: str, fact: str, garbage: bytes | None
) -> None:
    """Partial data: the garbled file's own value is lost, with a warning that names the file; nothing else is."""
    _machine(tree)
    clean = _facts(_detect(tree, make_nvml([]), tmp_path))
    assert all(v is not None for v in clean.values()), clean
    f = tree.base / rel
    if garbage is None:
        f.unlink()
        f.mkdir()
    else:
        f.write_bytes(garbage)
    host = _detect(tree, make_nvml([]), tmp_path)
    got = _facts(host)
    assert got[fact] != clean[fact], f"{rel} garbled, but {fact} did not change: was the file read?"
    lost = {fact, "amd_gpu"} if fact == "vram" else {fact}
    assert {k: v for k, v in got.items() if k not in lost} == {k: v for k, v in clean.items() if k not in lost}
    assert any(f.name in w and str(tree.base) in w for w in host.warnings), host.warnings
    assert not any("probe failed" in w for w in host.warnings), host.warnings  # handled per file, not by losing the probe


def test_empty_roots_never_crash(tmp_path: Path, make_nvml: Callable[..., Any]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    host = detect_all(
        proc_root=str(empty), sys_root=str(empty), dev_root=str(empty), etc_root=str(empty), root=str(empty),
        disk_path=tmp_path / "nope", nvml=make_nvml(init_error=12), amdsmi=None, quick=True,
    )  # fmt: skip
    assert isinstance(host, HostInfo) and host.gpus == []
    # missing NVML is said as such (a note: no NVIDIA GPU on the bus), handled by the probe, not caught as a
    # crash by detect_all's last resort
    assert any("no NVIDIA driver" in n for n in host.notes), (host.notes, host.warnings)
    assert not any("probe failed" in w for w in host.warnings), host.warnings
    target_from_host(host, None)


def test_partial_gpu_flows_into_check_target(make_nvml: Callable[..., Any], gpu: Any, tree: Any, tmp_path: Path) -> None:
    """A GPU whose memory could not be read is not counted as 0 bytes of VRAM that `check` fills."""
    _machine(tree)
    host = _detect(tree, make_nvml([gpu(fail={"nvmlDeviceGetMemoryInfo": 15})]), tmp_path)
    target = target_from_host(host, None)
    for g in target.gpus:
        assert g.memory_bytes is None or g.memory_bytes > 0


def test_detect_command_with_every_probe_failing(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("probe exploded")

    for name in ("probe_cpu", "probe_memory", "probe_disk", "probe_nvidia", "probe_amd", "probe_intel", "probe_apple", "probe_accelerators", "probe_jetson", "probe_virt"):
        monkeypatch.setattr(detect, name, boom)
    code, out, err = run_cli(["detect", "--json"])
    assert code == 0, err
    host = json.loads(out)
    assert sum("probe exploded" in w for w in host["warnings"]) >= 5
    code, out, err = run_cli(["detect"])
    assert code == 0 and "probe exploded" in out + err
    code, out, err = run_cli(["check", "--params", "7b", "--json"])
    assert code == 0, err
    assert any("probe exploded" in w for w in json.loads(out)["warnings"])
