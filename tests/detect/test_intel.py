from __future__ import annotations

from typing import Any

from hwbench.detect.intel import probe_intel

GIB = 1 << 30


def test_arc_a770_on_xe(tree: Any) -> None:
    tree.drm_card(1, "0000:03:00.0", 0x8086, 0x56A0, driver="xe", files={"tile0/physical_vram_size_bytes": f"{16 * GIB}\n"})
    gpus, warnings = probe_intel(tree.sys)
    assert warnings == []
    (g,) = gpus
    assert g.name == "Intel Arc A770"
    assert g.backend == "sycl"
    assert g.memory_total_bytes == 16 * GIB
    assert g.unified_memory is False
    assert g.pci_bus_id == "0000:03:00.0"
    assert "kernel driver xe" in g.notes


def test_arc_b580_on_i915_without_vram_file(tree: Any) -> None:
    tree.drm_card(0, "0000:03:00.0", 0x8086, 0xE20B, driver="i915")
    gpus, _ = probe_intel(tree.sys)
    assert gpus[0].name == "Intel Arc B580"
    assert gpus[0].unified_memory is False
    assert gpus[0].memory_total_bytes is None
    assert any("VRAM size not exposed" in n for n in gpus[0].notes)


def test_igpu_is_unified_and_non_gpu_functions_skipped(tree: Any) -> None:
    tree.drm_card(0, "0000:00:02.0", 0x8086, 0x7D55, driver="i915")
    tree.drm_card(1, "0000:00:0b.0", 0x8086, 0x7D1D, cls=0x120000, driver="intel_vpu")  # NPU, not a GPU
    gpus, _ = probe_intel(tree.sys)
    assert len(gpus) == 1
    assert gpus[0].name == "Intel Arc Graphics (Meteor Lake)"
    assert gpus[0].unified_memory is True
    assert gpus[0].memory_total_bytes is None


def test_unknown_igpu_and_dgpu_with_vram(tree: Any) -> None:
    tree.drm_card(0, "0000:00:02.0", 0x8086, 0x1111, driver="i915")
    tree.drm_card(1, "0000:04:00.0", 0x8086, 0x2222, driver="xe", files={"mem_info_vram_total": f"{12 * GIB}\n"})
    gpus, _ = probe_intel(tree.sys)
    assert [g.name for g in gpus] == ["Intel Graphics [8086:1111]", "Intel GPU [8086:2222]"]
    assert [g.index for g in gpus] == [0, 1]
    assert gpus[1].memory_total_bytes == 12 * GIB
