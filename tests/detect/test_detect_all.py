from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import hwbench
import hwbench.detect as detect
from hwbench.detect import detect_all
from hwbench.schema import HostInfo

GIB = 1 << 30
KIB = 1024


def _fake_machine(tree: Any) -> None:
    """A Hetzner-like VM with an RTX 3090 (NVML), an Intel iGPU, an Intel NPU and a 16 GiB cgroup."""
    tree.fixture("proc/cpuinfo", "cpuinfo_xeon_spr")
    tree.fixture("proc/meminfo", "meminfo_64g")
    tree.cpu_topology([(0, 0), (0, 0), (0, 1), (0, 1), (1, 0), (1, 0), (1, 1), (1, 1)])
    tree.write("proc/self/cgroup", "0::/hwbench\n")
    tree.write("sys/fs/cgroup/cgroup.controllers", "memory\n")
    tree.write("sys/fs/cgroup/hwbench/memory.max", f"{16 * GIB}\n")
    tree.write("sys/class/dmi/id/sys_vendor", "Hetzner\n")
    tree.write("sys/class/dmi/id/product_name", "vServer\n")
    tree.write("etc/os-release", 'NAME="Ubuntu"\nPRETTY_NAME="Ubuntu 24.04 LTS"\n')
    tree.drm_card(0, "0000:00:02.0", 0x8086, 0x7D55, driver="i915")
    rel = tree.pci_device("0000:00:0b.0", 0x8086, 0x7D1D, 0x120000, driver="intel_vpu")
    tree.link("sys/class/accel/accel0", f"{rel}/accel/accel0")
    tree.link(f"{rel}/accel/accel0/device", rel)


def test_fake_machine(tree: Any, tmp_path: Path, make_nvml: Callable[..., Any], gpu: Any) -> None:
    _fake_machine(tree)
    host = detect_all(
        proc_root=tree.proc,
        sys_root=tree.sys,
        dev_root=tree.dev,
        etc_root=tree.etc,
        root=tree.root,
        disk_path=tmp_path,
        nvml=make_nvml([gpu()]),
        amdsmi=None,
        quick=True,
    )
    assert isinstance(host, HostInfo)
    assert host.hwbench_version == hwbench.__version__
    assert host.detected_at is not None and host.detected_at.endswith("+00:00")
    assert host.cpu.model == "Intel(R) Xeon(R) Platinum 8480+ @ 2.00GHz"
    assert (host.cpu.physical_cores, host.cpu.logical_cores) == (4, 8)
    assert "amx_int8" in host.cpu.flags
    assert host.memory.total_bytes == 65536000 * KIB
    assert host.memory.cgroup_limit_bytes == 16 * GIB
    assert host.memory.effective_bytes == 16 * GIB
    assert host.disk is not None and host.disk.path == str(tmp_path) and host.disk.total_bytes
    assert [(g.vendor, g.name) for g in host.gpus] == [
        ("NVIDIA", "NVIDIA GeForce RTX 3090"),
        ("Intel", "Intel Arc Graphics (Meteor Lake)"),
    ]
    assert [a.name for a in host.accelerators] == ["Intel NPU (Meteor Lake)"]
    assert host.virt.cloud == "Hetzner" and host.virt.hypervisor is True
    assert host.torch is None
    if sys.platform == "linux":
        assert host.os == "Linux (Ubuntu 24.04 LTS)"
    # round-trips through JSON (what `hwbench detect --json` writes)
    assert HostInfo.model_validate_json(host.model_dump_json()) == host


def test_probe_that_raises_becomes_warning(tree: Any, monkeypatch: pytest.MonkeyPatch, make_nvml: Callable[..., Any]) -> None:
    _fake_machine(tree)

    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("sysfs exploded")

    monkeypatch.setattr(detect, "probe_intel", boom)
    monkeypatch.setattr(detect, "probe_cpu", boom)
    host = detect_all(
        proc_root=tree.proc,
        sys_root=tree.sys,
        dev_root=tree.dev,
        etc_root=tree.etc,
        root=tree.root,
        nvml=make_nvml(init_error=12),
        quick=True,
    )
    assert "intel probe failed: RuntimeError: sysfs exploded" in host.warnings
    assert "cpu probe failed: RuntimeError: sysfs exploded" in host.warnings
    # no driver and no NVIDIA card on the bus: information, not a warning
    assert "no NVIDIA driver (NVML library not found)" in host.notes
    assert not any(w.startswith("no NVIDIA driver") for w in host.warnings)
    assert host.memory.effective_bytes == 16 * GIB  # the other probes still ran
    assert [a.name for a in host.accelerators] == ["Intel NPU (Meteor Lake)"]
    assert host.gpus == []


def test_nvidia_on_pci_but_no_driver(tree: Any, make_nvml: Callable[..., Any]) -> None:
    tree.pci_device("0000:01:00.0", 0x10DE, 0x2684, 0x030000)
    host = detect_all(
        proc_root=tree.proc,
        sys_root=tree.sys,
        dev_root=tree.dev,
        etc_root=tree.etc,
        root=tree.root,
        nvml=make_nvml(init_error=9),
        quick=True,
    )
    assert host.gpus == []
    assert any("1 NVIDIA GPU(s) on the PCI bus (0000:01:00.0)" in w for w in host.warnings)
    assert any(w.startswith("no NVIDIA driver") for w in host.warnings) and host.notes == []


def test_jetson_machine(tree: Any, make_nvml: Callable[..., Any]) -> None:
    tree.fixture("proc/meminfo", "meminfo_64g")
    tree.fixture("etc/nv_tegra_release", "nv_tegra_release_r36")
    tree.write("proc/device-tree/model", b"NVIDIA Jetson AGX Orin Developer Kit\x00")
    host = detect_all(
        proc_root=tree.proc,
        sys_root=tree.sys,
        dev_root=tree.dev,
        etc_root=tree.etc,
        root=tree.root,
        nvml=make_nvml(init_error=12),
        quick=True,
    )
    (g,) = host.gpus
    assert g.unified_memory is True and g.memory_total_bytes == 65536000 * KIB
    assert g.compute_capability == "8.7"


def test_amd_and_no_gpu_machine(tree: Any, make_nvml: Callable[..., Any]) -> None:
    tree.drm_card(
        1, "0000:03:00.0", 0x1002, 0x744C, driver="amdgpu", files={"mem_info_vram_total": f"{24 * GIB}\n", "mem_info_vram_used": "0\n"}
    )
    host = detect_all(
        proc_root=tree.proc, sys_root=tree.sys, dev_root=tree.dev, etc_root=tree.etc, root=tree.root, nvml=make_nvml([]), quick=True
    )
    assert [(g.name, g.memory_total_bytes) for g in host.gpus] == [("Radeon RX 7900 XTX", 24 * GIB)]
    assert host.warnings == []


def test_quick_does_no_slow_work(tree: Any, monkeypatch: pytest.MonkeyPatch, make_nvml: Callable[..., Any]) -> None:
    # detect_all turns a probe's exception into a warning, so the calls are recorded, not only refused
    slow_calls: list[str] = []

    def refuse(what: str) -> Callable[..., Any]:
        def no_slow_work(*a: Any, **k: Any) -> Any:
            slow_calls.append(f"{what}{a[:1]!r}")
            raise AssertionError(f"quick detection must not call {what} on Linux")

        return no_slow_work

    import cpuinfo  # its import itself runs `file` via platform.architecture(): import before patching

    monkeypatch.setattr(subprocess, "run", refuse("subprocess.run"))
    monkeypatch.setattr(subprocess, "Popen", refuse("subprocess.Popen"))
    monkeypatch.setitem(sys.modules, "amdsmi", None)

    monkeypatch.setattr(cpuinfo, "get_cpu_info", refuse("cpuinfo.get_cpu_info"))
    before = "torch" in sys.modules
    host = detect_all(nvml=make_nvml([]), quick=True, include_torch=True)
    assert slow_calls == []
    assert not any("quick detection must not" in w for w in host.warnings), host.warnings
    assert ("torch" in sys.modules) == before


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc and /sys")
def test_real_machine_smoke() -> None:
    host = detect_all(quick=True)
    assert host.cpu.logical_cores is not None and host.cpu.logical_cores > 0
    assert host.cpu.arch
    assert host.memory.total_bytes is not None and host.memory.total_bytes > 0
    assert host.memory.effective_bytes is not None and 0 < host.memory.effective_bytes <= host.memory.total_bytes
    assert host.disk is not None and host.disk.total_bytes is not None and host.disk.total_bytes > 0
    assert host.python and host.kernel and host.hostname
    for w in host.warnings:
        assert "probe failed" not in w, w


def test_real_machine_full_with_torch() -> None:
    pytest.importorskip("torch")
    host = detect_all(include_torch=True)
    assert host.torch is not None and host.torch.version
    assert host.cpu.logical_cores and host.cpu.logical_cores > 0


def test_include_gpus_false_skips_gpu_probes(tree: Any, make_nvml: Callable[..., Any]) -> None:
    """check --gpu X replaces the real GPUs: detection then neither calls NVML nor reports GPUs."""
    tree.fixture("proc/meminfo", "meminfo_64g")
    calls: list[str] = []

    class Spy:
        def __getattr__(self, name: str) -> Any:
            calls.append(name)
            raise AssertionError("NVML must not be touched")

    host = detect_all(proc_root=tree.proc, sys_root=tree.sys, dev_root=tree.dev, etc_root=tree.etc, root=tree.root, nvml=Spy(), quick=True, include_gpus=False)
    assert calls == [] and host.gpus == []
    assert host.memory.total_bytes == 65536000 * 1024  # the other probes still ran
