from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hwbench.detect.amd import probe_amd

GIB = 1 << 30
MIB = 1 << 20


def _rx7900xtx(tree: Any, n: int = 1, bdf: str = "0000:03:00.0", minor: int = 128) -> None:
    tree.drm_card(
        n,
        bdf,
        0x1002,
        0x744C,
        driver="amdgpu",
        render_minor=minor,
        files={
            "mem_info_vram_total": f"{24 * GIB}\n",
            "mem_info_vram_used": f"{512 * MIB}\n",
            "mem_info_gtt_total": f"{31 * GIB}\n",
            "unique_id": "a1b2c3d4e5f60708\n",
        },
    )
    tree.write(
        "sys/class/kfd/kfd/topology/nodes/1/properties",
        f"cpu_cores_count 0\nsimd_count 192\ngfx_target_version 110000\ndrm_render_minor {minor}\nlocation_id 768\n",
    )
    tree.write("sys/class/kfd/kfd/topology/nodes/0/properties", "cpu_cores_count 16\nsimd_count 0\ngfx_target_version 0\n")


def test_rx_7900_xtx_sysfs(tree: Any) -> None:
    _rx7900xtx(tree)
    gpus, warnings = probe_amd(tree.sys)
    assert warnings == []
    (g,) = gpus
    assert g.vendor == "AMD"
    assert g.name == "Radeon RX 7900 XTX"
    assert g.backend == "rocm"
    assert g.memory_total_bytes == 24 * GIB
    assert g.memory_free_bytes == 24 * GIB - 512 * MIB
    assert g.unified_memory is False
    assert g.compute_capability == "gfx1100"
    assert g.pci_bus_id == "0000:03:00.0"
    assert g.uuid == "a1b2c3d4e5f60708"


def test_product_name_wins(tree: Any) -> None:
    tree.drm_card(
        0,
        "0000:c1:00.0",
        0x1002,
        0x74A1,
        cls=0x038000,
        driver="amdgpu",
        files={"product_name": "AMD Instinct MI300X\n", "mem_info_vram_total": f"{192 * GIB}\n"},
    )
    gpus, _ = probe_amd(tree.sys)
    assert gpus[0].name == "AMD Instinct MI300X"
    assert gpus[0].memory_total_bytes == 192 * GIB


def test_unknown_device_id(tree: Any) -> None:
    tree.drm_card(0, "0000:05:00.0", 0x1002, 0x1234, driver="amdgpu", files={"mem_info_vram_total": f"{8 * GIB}\n"})
    gpus, _ = probe_amd(tree.sys)
    assert gpus[0].name == "AMD GPU [1002:1234]"


def test_apu_small_vram_large_gtt(tree: Any) -> None:
    tree.drm_card(
        0,
        "0000:c4:00.0",
        0x1002,
        0x15BF,
        driver="amdgpu",
        render_minor=128,
        files={"mem_info_vram_total": f"{512 * MIB}\n", "mem_info_vram_used": f"{100 * MIB}\n", "mem_info_gtt_total": f"{30 * GIB}\n"},
    )
    tree.write(
        "sys/class/kfd/kfd/topology/nodes/0/properties",
        "cpu_cores_count 16\nsimd_count 24\ngfx_target_version 110003\ndrm_render_minor 128\n",
    )
    gpus, warnings = probe_amd(tree.sys)
    assert warnings == []
    g = gpus[0]
    assert g.name == "Radeon 780M (Phoenix APU)"
    assert g.unified_memory is True
    assert g.memory_total_bytes == 512 * MIB + 30 * GIB
    assert g.memory_free_bytes is None
    assert g.compute_capability == "gfx1103"
    assert "carve-out 0.5 GiB" in g.notes[0] and "GTT 30.0 GiB" in g.notes[0]


def test_apu_by_heuristic_only(tree: Any) -> None:
    tree.drm_card(
        0, "0000:c4:00.0", 0x1002, 0x9999, driver="amdgpu", files={"mem_info_vram_total": f"{GIB}\n", "mem_info_gtt_total": f"{16 * GIB}\n"}
    )
    gpus, _ = probe_amd(tree.sys)
    assert gpus[0].unified_memory is True


def test_nvidia_and_intel_cards_ignored(tree: Any) -> None:
    tree.drm_card(0, "0000:01:00.0", 0x10DE, 0x2204, driver="nvidia")
    tree.drm_card(1, "0000:00:02.0", 0x8086, 0x4680, driver="i915")
    assert probe_amd(tree.sys) == ([], [])


def test_garbage_vram_file(tree: Any) -> None:
    tree.drm_card(0, "0000:03:00.0", 0x1002, 0x73BF, driver="amdgpu", files={"mem_info_vram_total": "n/a\n"})
    gpus, warnings = probe_amd(tree.sys)
    assert gpus[0].memory_total_bytes is None
    assert gpus[0].name == "Radeon RX 6900 XT / 6800 XT / 6800"
    assert len(warnings) == 1 and "'n/a'" in warnings[0]


class FakeAmdSmi:
    """The amdsmi calls hwbench makes, with the shapes ROCm 6 returns."""

    AmdSmiMemoryType = SimpleNamespace(VRAM=0, VIS_VRAM=1, GTT=2)

    def __init__(self, fail_init: bool = False) -> None:
        self.fail_init = fail_init
        self.shut = False

    def amdsmi_init(self) -> None:
        if self.fail_init:
            raise RuntimeError("AMDSMI_STATUS_DRIVER_NOT_LOADED")

    def amdsmi_shut_down(self) -> None:
        self.shut = True

    def amdsmi_get_processor_handles(self) -> list[str]:
        return ["h0", "h1"]

    def amdsmi_get_gpu_asic_info(self, h: str) -> dict[str, Any]:
        return {"market_name": "AMD Instinct MI300X", "device_id": "0x74a1", "target_graphics_version": "gfx942"}

    def amdsmi_get_gpu_memory_total(self, h: str, kind: int) -> int:
        return 192 * GIB

    def amdsmi_get_gpu_memory_usage(self, h: str, kind: int) -> int:
        return GIB

    def amdsmi_get_gpu_driver_info(self, h: str | None) -> dict[str, str]:
        if h is None:
            raise TypeError("needs a handle")
        return {"driver_name": "amdgpu", "driver_version": "6.7.0"}

    def amdsmi_get_gpu_device_bdf(self, h: str) -> str:
        return {"h0": "0000:0c:00.0", "h1": "0000:22:00.0"}[h]

    def amdsmi_get_gpu_device_uuid(self, h: str) -> str:
        raise RuntimeError("AMDSMI_STATUS_NOT_SUPPORTED")


def test_amdsmi_path(tree: Any) -> None:
    smi = FakeAmdSmi()
    gpus, warnings = probe_amd(tree.sys, amdsmi=smi)
    assert warnings == []
    assert [g.pci_bus_id for g in gpus] == ["0000:0c:00.0", "0000:22:00.0"]
    g = gpus[0]
    assert g.name == "AMD Instinct MI300X"
    assert g.memory_total_bytes == 192 * GIB
    assert g.memory_free_bytes == 191 * GIB
    assert g.compute_capability == "gfx942"
    assert g.driver_version == "6.7.0"
    assert g.uuid is None
    assert smi.shut


def test_amdsmi_failure_falls_back_to_sysfs(tree: Any) -> None:
    _rx7900xtx(tree)
    gpus, warnings = probe_amd(tree.sys, amdsmi=FakeAmdSmi(fail_init=True))
    assert [g.name for g in gpus] == ["Radeon RX 7900 XTX"]
    assert warnings == ["amdsmi failed (RuntimeError: AMDSMI_STATUS_DRIVER_NOT_LOADED); used sysfs"]
