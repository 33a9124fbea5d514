"""AMD GPUs: amdsmi when the caller passes it, else the amdgpu driver's sysfs files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hwbench.detect._drm import DrmCard, drm_cards
from hwbench.detect._util import read_int, read_text, sorted_glob
from hwbench.schema import GpuInfo

AMD_VENDOR = 0x1002
_GIB = 1 << 30

# A few PCI device ids (lspci / pci.ids) for cards whose sysfs has no product_name.
PCI_NAMES: dict[int, str] = {
    0x744C: "Radeon RX 7900 XTX / 7900 XT",
    0x7448: "Radeon PRO W7900",
    0x7480: "Radeon RX 7600 / 7700S",
    0x747E: "Radeon RX 7800 XT / 7700 XT",
    0x7550: "Radeon RX 9070 XT / 9070",
    0x73BF: "Radeon RX 6900 XT / 6800 XT / 6800",
    0x73DF: "Radeon RX 6700 XT",
    0x73FF: "Radeon RX 6600 / 6600 XT",
    0x740C: "Instinct MI250X / MI250",
    0x740F: "Instinct MI210",
    0x74A0: "Instinct MI300A",
    0x74A1: "Instinct MI300X",
    0x74A5: "Instinct MI325X",
    0x1636: "Radeon Graphics (Renoir APU)",
    0x1638: "Radeon Graphics (Cezanne APU)",
    0x164E: "Radeon Graphics (Raphael iGPU)",
    0x1681: "Radeon 680M (Rembrandt APU)",
    0x15BF: "Radeon 780M (Phoenix APU)",
    0x150E: "Radeon 890M (Strix Point APU)",
    0x1586: "Radeon 8060S (Strix Halo APU)",
}
APU_IDS = {0x1636, 0x1638, 0x164E, 0x1681, 0x15BF, 0x150E, 0x1586, 0x74A0}


def _gfx_target(version: int) -> str | None:
    """KFD gfx_target_version 110000 -> 'gfx1100', 90010 -> 'gfx90a', 90402 -> 'gfx942'."""
    if version <= 0:
        return None
    major, minor, step = version // 10000, (version // 100) % 100, version % 100
    return f"gfx{major}{minor:x}{step:x}"


def _kfd_nodes(sys_root: str, warnings: list[str]) -> dict[int, dict[str, int]]:
    """KFD topology nodes keyed by drm_render_minor: gfx target, and whether the node is an APU."""
    out: dict[int, dict[str, int]] = {}
    for node in sorted_glob(Path(sys_root) / "class" / "kfd" / "kfd" / "topology" / "nodes", "*"):
        text = read_text(node / "properties", warnings)
        if not text:
            continue
        props: dict[str, int] = {}
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].lstrip("-").isdigit():
                props[parts[0]] = int(parts[1])
        minor = props.get("drm_render_minor")
        if minor is not None and props.get("simd_count", 0) > 0:
            out[minor] = props
    return out


def _render_minor(card: DrmCard) -> int | None:
    for r in sorted_glob(card.device / "drm", "renderD*"):
        digits = r.name.removeprefix("renderD")
        if digits.isdigit():
            return int(digits)
    return None


def _name(card: DrmCard, vram: int | None, warnings: list[str]) -> str:
    product = read_text(card.device / "product_name", warnings)
    if product:
        return product
    did = card.device_id
    if did == 0x744C and vram:  # same die, told apart by memory size
        if vram >= 23 * _GIB:
            return "Radeon RX 7900 XTX"
        if vram >= 19 * _GIB:
            return "Radeon RX 7900 XT"
    if did is not None and did in PCI_NAMES:
        return PCI_NAMES[did]
    return f"AMD GPU [1002:{did:04x}]" if did is not None else "AMD GPU"


def probe_amd_sysfs(sys_root: str = "/sys") -> tuple[list[GpuInfo], list[str]]:
    """AMD GPUs from /sys/class/drm (amdgpu). Returns (gpus, warnings)."""
    warnings: list[str] = []
    gpus: list[GpuInfo] = []
    kfd = _kfd_nodes(sys_root, warnings)
    for index, card in enumerate(drm_cards(sys_root, AMD_VENDOR, warnings)):
        dev = card.device
        vram = read_int(dev / "mem_info_vram_total", warnings)
        used = read_int(dev / "mem_info_vram_used", warnings)
        gtt = read_int(dev / "mem_info_gtt_total", warnings)
        node = kfd.get(_render_minor(card) or -1, {})
        notes: list[str] = []
        is_apu = (
            (card.device_id in APU_IDS)
            or node.get("cpu_cores_count", 0) > 0
            or (vram is not None and gtt is not None and vram < 2 * _GIB and gtt > 2 * vram)
        )
        total = vram
        free = vram - used if vram is not None and used is not None else None
        if is_apu:
            notes.append(
                f"APU: shares system RAM; dedicated carve-out {vram / _GIB:.1f} GiB"
                + (f", GTT {gtt / _GIB:.1f} GiB (system RAM the GPU can map)" if gtt else "")
                if vram is not None
                else "APU: shares system RAM"
            )
            if vram is not None and gtt is not None:
                total = vram + gtt
                free = None
        if card.driver and card.driver != "amdgpu":
            notes.append(f"kernel driver {card.driver} (ROCm needs amdgpu)")
        if vram is None and not is_apu:
            notes.append("VRAM size not exposed in sysfs")
        gpus.append(
            GpuInfo(
                index=index,
                vendor="AMD",
                name=_name(card, vram, warnings),
                backend="rocm",
                memory_total_bytes=total,
                memory_free_bytes=free,
                unified_memory=is_apu,
                compute_capability=_gfx_target(node.get("gfx_target_version", 0)),
                driver_version=read_text(Path(sys_root) / "module" / "amdgpu" / "version") or None,
                pci_bus_id=card.pci_bus_id,
                uuid=read_text(dev / "unique_id") or None,
                notes=notes,
            )
        )
    return gpus, warnings


def _amdsmi_call(smi: Any, fn: str, *args: Any) -> Any:
    func = getattr(smi, fn, None)
    if func is None:
        return None
    try:
        return func(*args)
    except Exception:  # noqa: BLE001 - amdsmi raises AmdSmiException subclasses; unsupported -> None
        return None


def probe_amd_smi(smi: Any) -> tuple[list[GpuInfo], list[str]]:
    """AMD GPUs through the amdsmi Python API. Raises if amdsmi itself cannot start."""
    smi.amdsmi_init()
    gpus: list[GpuInfo] = []
    warnings: list[str] = []
    try:
        vram_type = getattr(getattr(smi, "AmdSmiMemoryType", None), "VRAM", 0)
        driver = _amdsmi_call(smi, "amdsmi_get_gpu_driver_info", None)
        for index, h in enumerate(smi.amdsmi_get_processor_handles()):
            asic = _amdsmi_call(smi, "amdsmi_get_gpu_asic_info", h) or {}
            total = _amdsmi_call(smi, "amdsmi_get_gpu_memory_total", h, vram_type)
            used = _amdsmi_call(smi, "amdsmi_get_gpu_memory_usage", h, vram_type)
            drv = _amdsmi_call(smi, "amdsmi_get_gpu_driver_info", h) or driver or {}
            name = asic.get("market_name") or (
                f"AMD GPU [1002:{int(str(asic['device_id']), 0):04x}]" if asic.get("device_id") else "AMD GPU"
            )
            gfx = asic.get("target_graphics_version")
            gpus.append(
                GpuInfo(
                    index=index,
                    vendor="AMD",
                    name=str(name),
                    backend="rocm",
                    memory_total_bytes=int(total) if isinstance(total, int) and total > 0 else None,
                    memory_free_bytes=int(total - used) if isinstance(total, int) and isinstance(used, int) else None,
                    compute_capability=str(gfx) if gfx else None,
                    driver_version=str(drv.get("driver_version")) if isinstance(drv, dict) and drv.get("driver_version") else None,
                    pci_bus_id=_amdsmi_call(smi, "amdsmi_get_gpu_device_bdf", h),
                    uuid=_amdsmi_call(smi, "amdsmi_get_gpu_device_uuid", h),
                )
            )
    finally:
        _amdsmi_call(smi, "amdsmi_shut_down")
    return gpus, warnings


def probe_amd(sys_root: str = "/sys", amdsmi: Any = None) -> tuple[list[GpuInfo], list[str]]:
    """AMD GPUs: through ``amdsmi`` (a module-like object) when given, else sysfs. Returns (gpus, warnings)."""
    if amdsmi is not None:
        try:
            gpus, warnings = probe_amd_smi(amdsmi)
            if gpus:
                return gpus, warnings
        except Exception as e:  # noqa: BLE001
            gpus_s, warnings_s = probe_amd_sysfs(sys_root)
            return gpus_s, [f"amdsmi failed ({type(e).__name__}: {e}); used sysfs", *warnings_s]
    return probe_amd_sysfs(sys_root)
