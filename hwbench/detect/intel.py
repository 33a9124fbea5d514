"""Intel GPUs from sysfs (i915 / xe drivers): discrete Arc / Data Center GPUs and iGPUs."""

from __future__ import annotations

from hwbench.detect._drm import drm_cards
from hwbench.detect._util import read_int
from hwbench.schema import GpuInfo

INTEL_VENDOR = 0x8086

DGPU_NAMES: dict[int, str] = {
    0x56A0: "Arc A770",
    0x56A1: "Arc A750",
    0x56A2: "Arc A580",
    0x56A5: "Arc A380",
    0x56A6: "Arc A310",
    0xE20B: "Arc B580",
    0xE20C: "Arc B570",
    0x56C0: "Data Center GPU Flex 170",
    0x56C1: "Data Center GPU Flex 140",
    0x0BD5: "Data Center GPU Max 1550",
    0x0BDA: "Data Center GPU Max 1100",
}
IGPU_NAMES: dict[int, str] = {
    0x3E92: "UHD Graphics 630",
    0x9A49: "Iris Xe Graphics (Tiger Lake)",
    0x4680: "UHD Graphics 770 (Alder Lake-S)",
    0xA780: "UHD Graphics 770 (Raptor Lake-S)",
    0xA7A0: "Iris Xe Graphics (Raptor Lake-P)",
    0x7D55: "Arc Graphics (Meteor Lake)",
    0x64A0: "Arc 130V/140V (Lunar Lake)",
}

# Local-memory (VRAM) size files, by driver generation.
_VRAM_FILES = (
    ("device", "mem_info_vram_total"),
    ("device", "tile0", "physical_vram_size_bytes"),  # xe
    ("device", "tile0", "vram0", "physical_vram_size_bytes"),
    ("lmem_total_bytes",),  # i915 (DG1/DG2 with the backported driver)
)


def probe_intel(sys_root: str = "/sys") -> tuple[list[GpuInfo], list[str]]:
    """Intel display/3D controllers (class 0x03xxxx) under /sys/class/drm. Returns (gpus, warnings)."""
    warnings: list[str] = []
    gpus: list[GpuInfo] = []
    index = 0
    for card in drm_cards(sys_root, INTEL_VENDOR, warnings):
        if card.pci_class is None or card.pci_class >> 16 != 0x03:
            continue
        vram: int | None = None
        for parts in _VRAM_FILES:
            vram = read_int(card.card.joinpath(*parts), warnings)
            if vram:
                break
        did = card.device_id
        discrete = bool(vram) or (did is not None and did in DGPU_NAMES)
        if did is not None and did in DGPU_NAMES:
            name = f"Intel {DGPU_NAMES[did]}"
        elif did is not None and did in IGPU_NAMES:
            name = f"Intel {IGPU_NAMES[did]}"
        else:
            name = f"Intel {'GPU' if discrete else 'Graphics'} [8086:{did:04x}]" if did is not None else "Intel GPU"
        notes: list[str] = []
        if not discrete:
            notes.append("integrated GPU: shares system RAM")
        elif not vram:
            notes.append("discrete GPU: VRAM size not exposed in sysfs by this driver")
        if card.driver:
            notes.append(f"kernel driver {card.driver}")
        gpus.append(
            GpuInfo(
                index=index,
                vendor="Intel",
                name=name,
                backend="sycl",
                memory_total_bytes=vram or None,
                unified_memory=not discrete,
                pci_bus_id=card.pci_bus_id,
                notes=notes,
            )
        )
        index += 1
    return gpus, warnings
