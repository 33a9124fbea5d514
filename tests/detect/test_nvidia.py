"""NVIDIA probe against a faked pynvml, one scenario per test (the gpustat approach)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hwbench.detect.nvidia import pci_nvidia_gpus, probe_nvidia

GIB = 1 << 30


def test_no_gpu(make_nvml: Callable[..., Any]) -> None:
    nvml = make_nvml([])
    gpus, warnings = probe_nvidia(nvml)
    assert gpus == []
    assert warnings == []
    assert nvml.shutdown_called


def test_one_rtx_3090(make_nvml: Callable[..., Any], gpu: Any) -> None:
    nvml = make_nvml([gpu()])
    gpus, warnings = probe_nvidia(nvml)
    assert warnings == []
    (g,) = gpus
    assert g.vendor == "NVIDIA"
    assert g.name == "NVIDIA GeForce RTX 3090"
    assert g.backend == "cuda"
    assert g.memory_total_bytes == 24 * GIB
    assert g.memory_free_bytes == 23 * GIB
    assert g.compute_capability == "8.6"
    assert g.driver_version == "550.54.14"
    assert g.cuda_version == "12.4"
    assert (g.pcie_gen, g.pcie_width) == (4, 16)
    assert g.power_limit_w == 350.0
    assert g.nvlink_links == 0  # NotSupported: no NVLink on this card
    assert g.mig_enabled is False
    assert g.uuid == "GPU-8d2c8f5e-0000-1111-2222-333344445555"
    assert g.serial is None  # NotSupported on GeForce
    assert g.pci_bus_id == "00000000:01:00.0"
    assert g.unified_memory is False
    assert nvml.shutdown_called


def test_two_gpus_with_nvlink(make_nvml: Callable[..., Any], gpu: Any) -> None:
    a100 = dict(
        name="NVIDIA A100-SXM4-80GB",
        total=80 * GIB,
        free=79 * GIB,
        cc=(8, 0),
        power_mw=400_000,
        nvlinks=[1] * 12,
        mig=(0, 0),
        serial="1324521000001",
    )
    nvml = make_nvml([gpu(**a100, bus_id="00000000:07:00.0"), gpu(**a100, bus_id="00000000:0F:00.0")])
    gpus, warnings = probe_nvidia(nvml)
    assert warnings == []
    assert [g.index for g in gpus] == [0, 1]
    assert [g.pci_bus_id for g in gpus] == ["00000000:07:00.0", "00000000:0F:00.0"]
    assert all(g.nvlink_links == 12 for g in gpus)
    assert all(g.memory_total_bytes == 80 * GIB for g in gpus)
    assert gpus[0].compute_capability == "8.0"
    assert gpus[0].serial == "1324521000001"
    assert gpus[0].power_limit_w == 400.0
    assert gpus[0].mig_enabled is False


def test_nvlink_partially_active(make_nvml: Callable[..., Any], gpu: Any) -> None:
    gpus, _ = probe_nvidia(make_nvml([gpu(nvlinks=[1, 0, 1, 1])]))
    assert gpus[0].nvlink_links == 3


def test_one_of_two_fails_on_every_call(make_nvml: Callable[..., Any], gpu: Any) -> None:
    nvml = make_nvml([gpu(fail_all=15), gpu(name="NVIDIA GeForce RTX 4090", bus_id="00000000:02:00.0")])
    gpus, warnings = probe_nvidia(nvml)
    assert [g.name for g in gpus] == ["NVIDIA GeForce RTX 4090"]
    assert gpus[0].index == 1  # keeps its NVML index (CUDA_VISIBLE_DEVICES)
    assert len(warnings) == 1
    assert "NVIDIA GPU 0" in warnings[0] and "GPU is lost" in warnings[0]


def test_handle_fails(make_nvml: Callable[..., Any], gpu: Any) -> None:
    bad = gpu(fail_all=15, fail={"handle": 15})
    gpus, warnings = probe_nvidia(make_nvml([gpu(), bad]))
    assert len(gpus) == 1 and gpus[0].index == 0
    assert warnings == ["NVIDIA GPU 1: cannot open (GPU is lost); not reported"]


def test_library_not_found(make_nvml: Callable[..., Any]) -> None:
    gpus, warnings = probe_nvidia(make_nvml(init_error=12))
    assert gpus == []
    assert warnings == ["no NVIDIA driver (NVML library not found)"]


def test_driver_not_loaded(make_nvml: Callable[..., Any]) -> None:
    gpus, warnings = probe_nvidia(make_nvml(init_error=9))
    assert gpus == []
    assert warnings == ["no NVIDIA driver (driver not loaded)"]


def test_other_init_error(make_nvml: Callable[..., Any]) -> None:
    gpus, warnings = probe_nvidia(make_nvml(init_error=4))
    assert gpus == []
    assert warnings == ["NVML init failed: NVML Error with code 4"]


def test_pynvml_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` raise ImportError
    monkeypatch.setattr("hwbench.detect.nvidia.nvidia_driver_present", lambda *a: True)  # a driver, but no package
    gpus, warnings = probe_nvidia()
    assert gpus == []
    assert warnings == ["NVML not installed (pip install nvidia-ml-py)"]


def test_real_pynvml_without_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed nvidia-ml-py on a machine without libnvidia-ml: a warning, never a crash."""
    pynvml = pytest.importorskip("pynvml")
    # go past the driver-presence shortcut, so the real library is initialised and fails
    monkeypatch.setattr("hwbench.detect.nvidia.nvidia_driver_present", lambda *a: True)
    try:
        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
        pytest.skip("an NVIDIA driver is present")
    except pynvml.NVMLError:
        pass
    gpus, warnings = probe_nvidia()
    assert gpus == []
    assert len(warnings) == 1 and warnings[0].startswith(("no NVIDIA driver", "NVML init failed"))


def test_no_driver_skips_nvml_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hwbench.detect.nvidia.nvidia_driver_present", lambda *a: False)
    monkeypatch.setitem(sys.modules, "pynvml", None)  # importing it would fail: it must not be tried
    assert probe_nvidia() == ([], ["no NVIDIA driver (no /proc/driver/nvidia, /dev/nvidiactl or /dev/dxg)"])


def test_legacy_bytes_strings(make_nvml: Callable[..., Any], gpu: Any) -> None:
    gpus, _ = probe_nvidia(make_nvml([gpu(serial="0323")], legacy_bytes=True, driver="470.82.01", cuda=11040))
    g = gpus[0]
    assert g.name == "NVIDIA GeForce RTX 3090"
    assert g.driver_version == "470.82.01"
    assert g.cuda_version == "11.4"
    assert g.uuid == "GPU-8d2c8f5e-0000-1111-2222-333344445555"
    assert g.serial == "0323"


def test_old_pynvml_missing_functions(make_nvml: Callable[..., Any], gpu: Any) -> None:
    nvml = make_nvml(
        [gpu()],
        missing=("nvmlSystemGetCudaDriverVersion_v2", "nvmlDeviceGetEnforcedPowerLimit", "nvmlDeviceGetMigMode"),
        cuda=12020,
    )
    gpus, warnings = probe_nvidia(nvml)
    g = gpus[0]
    assert g.cuda_version == "12.2"  # fell back to nvmlSystemGetCudaDriverVersion
    assert g.power_limit_w == 350.0  # fell back to nvmlDeviceGetPowerManagementLimit
    assert g.mig_enabled is None  # unknown, not False
    assert warnings == []


def test_gh200_unified(make_nvml: Callable[..., Any], gpu: Any) -> None:
    gh = gpu(name="NVIDIA GH200 480GB", total=95 * GIB + 512 * 2**20, free=94 * GIB, cc=(9, 0), power_mw=900_000)
    gpus, _ = probe_nvidia(make_nvml([gh]))
    g = gpus[0]
    assert g.unified_memory is True
    assert g.memory_total_bytes == 95 * GIB + 512 * 2**20  # NVML's HBM figure kept, nothing invented
    assert g.compute_capability == "9.0"
    assert any("NVLink-C2C" in n for n in g.notes)


def test_memory_info_not_supported_is_unified(make_nvml: Callable[..., Any], gpu: Any) -> None:
    """DGX Spark (GB10) / Jetson Thor: NVML has no memory info; the GPU uses system RAM."""
    spark = gpu(name="NVIDIA GB10", cc=(12, 1), fail={"nvmlDeviceGetMemoryInfo": 3})
    gpus, warnings = probe_nvidia(make_nvml([spark]))
    g = gpus[0]
    assert g.unified_memory is True
    assert g.memory_total_bytes is None and g.memory_free_bytes is None
    assert any("unified memory" in n for n in g.notes)
    assert warnings == []


def test_memory_equal_to_host_ram_is_unified(make_nvml: Callable[..., Any], gpu: Any) -> None:
    ram = 128 * GIB
    g = gpu(name="NVIDIA Some iGPU", total=ram - 200 * 2**20, free=100 * GIB)
    gpus, _ = probe_nvidia(make_nvml([g]), host_ram_bytes=ram)
    assert gpus[0].unified_memory is True
    gpus, _ = probe_nvidia(make_nvml([gpu()]), host_ram_bytes=ram)
    assert gpus[0].unified_memory is False


def test_memory_info_error_is_warning(make_nvml: Callable[..., Any], gpu: Any) -> None:
    gpus, warnings = probe_nvidia(make_nvml([gpu(fail={"nvmlDeviceGetMemoryInfo": 4})]))
    assert gpus[0].memory_total_bytes is None
    assert gpus[0].unified_memory is False
    assert warnings == ["NVIDIA GPU 0 (NVIDIA GeForce RTX 3090): memory info failed (NVML Error with code 4)"]


def test_mig_enabled(make_nvml: Callable[..., Any], gpu: Any) -> None:
    h100 = gpu(name="NVIDIA H100 80GB HBM3", total=80 * GIB, cc=(9, 0), mig=(1, 1), mig_instances=[40 * GIB, 20 * GIB, 10 * GIB])
    gpus, warnings = probe_nvidia(make_nvml([h100]))
    g = gpus[0]
    assert g.mig_enabled is True
    note = next(n for n in g.notes if n.startswith("MIG enabled"))
    assert "3 instance(s) of 40.0, 20.0, 10.0 GiB" in note
    assert warnings == []


def test_mig_pending(make_nvml: Callable[..., Any], gpu: Any) -> None:
    gpus, _ = probe_nvidia(make_nvml([gpu(mig=(0, 1))]))
    assert gpus[0].mig_enabled is False
    assert any("pending" in n for n in gpus[0].notes)


def test_pcie_downtrained_link(make_nvml: Callable[..., Any], gpu: Any) -> None:
    gpus, _ = probe_nvidia(make_nvml([gpu(pcie=(1, 16), max_pcie=(4, 16))]))
    assert gpus[0].pcie_gen == 1  # idle GPUs drop to gen1; the current value is what NVML says
    assert "max gen4 x16" in " ".join(gpus[0].notes)


def test_pci_nvidia_gpus_from_sysfs(tree: Any) -> None:
    tree.pci_device("0000:01:00.0", 0x10DE, 0x2204, 0x030000, driver="nouveau")
    tree.pci_device("0000:01:00.1", 0x10DE, 0x1AEF, 0x040300)  # its HDMI audio function
    tree.pci_device("0000:02:00.0", 0x8086, 0x56A0, 0x030000)
    assert pci_nvidia_gpus(tree.sys) == ["0000:01:00.0"]


def test_driver_presence_check(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from hwbench.detect.nvidia import nvidia_driver_present

    proc, dev = tmp_path / "proc", tmp_path / "dev"
    proc.mkdir()
    dev.mkdir()
    assert not nvidia_driver_present(str(proc), str(dev))
    (proc / "driver" / "nvidia").mkdir(parents=True)
    assert nvidia_driver_present(str(proc), str(dev))
    (proc / "driver" / "nvidia").rmdir()
    (dev / "dxg").write_text("")  # WSL2
    assert nvidia_driver_present(str(proc), str(dev))


# ----------------------------------------------------------------------------- roots: only the given folders count
# The real machine may or may not have an NVIDIA driver; these tests must give the same answer on both.


@pytest.mark.parametrize("marker", ["proc/driver/nvidia/version", "dev/nvidiactl", "dev/dxg"])
def test_driver_in_fake_root_makes_probe_try_nvml(
    marker: str, tree: Any, monkeypatch: pytest.MonkeyPatch, make_nvml: Callable[..., Any], gpu: Any
) -> None:
    tree.write(marker, "")
    fake = make_nvml([gpu()])
    monkeypatch.setitem(sys.modules, "pynvml", fake)  # what `import pynvml` inside the probe gets
    gpus, warnings = probe_nvidia(proc_root=tree.proc, dev_root=tree.dev)
    assert [g.name for g in gpus] == ["NVIDIA GeForce RTX 3090"]
    assert warnings == []
    assert fake.shutdown_called  # NVML was initialised and shut down


def test_no_driver_in_fake_root_never_touches_nvml(tree: Any, monkeypatch: pytest.MonkeyPatch, make_nvml: Callable[..., Any], gpu: Any) -> None:
    fake = make_nvml([gpu()])
    monkeypatch.setitem(sys.modules, "pynvml", fake)  # a GPU NVML would report, if it were asked
    assert probe_nvidia(proc_root=tree.proc, dev_root=tree.dev) == (
        [],
        ["no NVIDIA driver (no /proc/driver/nvidia, /dev/nvidiactl or /dev/dxg)"],
    )
    assert not fake.initialized and not fake.shutdown_called


def test_no_proc_folder_at_all_assumes_a_driver_could_answer(tmp_path: Path) -> None:
    """macOS/Windows have no /proc: nothing can be judged, so NVML is asked (as before, off Linux)."""
    from hwbench.detect.nvidia import nvidia_driver_present

    assert nvidia_driver_present(str(tmp_path / "no-proc"), str(tmp_path / "no-dev"))


@pytest.mark.parametrize("with_driver", [True, False])
def test_detect_all_passes_its_roots_to_the_nvidia_probe(
    with_driver: bool, tree: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_nvml: Callable[..., Any], gpu: Any
) -> None:
    from hwbench.detect import detect_all

    if with_driver:
        tree.write("proc/driver/nvidia/version", "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14\n")
    fake = make_nvml([gpu()])
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    host = detect_all(
        proc_root=tree.proc, sys_root=tree.sys, dev_root=tree.dev, etc_root=tree.etc, root=tree.root, disk_path=tmp_path, quick=True
    )
    nvidia = [g.name for g in host.gpus if g.vendor == "NVIDIA"]
    if with_driver:
        assert nvidia == ["NVIDIA GeForce RTX 3090"]
    else:
        assert nvidia == [] and not fake.initialized
        assert "no NVIDIA driver (no /proc/driver/nvidia, /dev/nvidiactl or /dev/dxg)" in host.notes


def test_detected_power_limit_caps_the_prompt_estimate(make_nvml: Callable[..., Any], gpu: Any) -> None:
    # a power-limited RTX 4090 (many run at 300 W): the driver's enforced limit, not the 450 W rating, is what caps
    # prompt GEMMs (estimate/speed.py matrix_tflops_per_watt); a card at its rating keeps the profile's TDP
    from hwbench.estimate.fit import speed_inputs
    from hwbench.hardware import target_from_host
    from hwbench.profiles import get_model
    from hwbench.quant import parse_quant
    from hwbench.schema import CpuInfo, EstimateSettings, HostInfo, MemoryInfo

    def prompt_s(power_mw: int) -> tuple[float, Any]:
        gpus, _ = probe_nvidia(make_nvml([gpu(name="NVIDIA GeForce RTX 4090", power_mw=power_mw)]))
        host = HostInfo(cpu=CpuInfo(model="x", logical_cores=8, physical_cores=8, flags=["avx2", "fma"]), memory=MemoryInfo(total_bytes=64 * GIB))
        host.gpus = gpus
        target = target_from_host(host, None)
        inputs = speed_inputs(get_model("llama-3-8b"), parse_quant("F16"), EstimateSettings(context=512), target)
        assert inputs is not None
        return inputs.prompt_time_per_token_s(), target

    t_rated, rated = prompt_s(450_000)
    t_limited, limited = prompt_s(250_000)
    assert rated.gpus[0].power_w == 450.0 and limited.gpus[0].power_w == 250.0
    assert t_limited > t_rated * 1.15  # 250 W x 0.83 TFLOPS/W is well under the 330 TFLOPS tensor peak
    assert any("power limit 250 W (detected" in n for n in limited.notes)
    assert not any("power limit" in n for n in rated.notes)
