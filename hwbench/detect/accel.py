"""NPUs, TPUs and other accelerators, and the NVIDIA Jetson iGPU.

Each finder reads only the folders it is given (``sys_root``, ``dev_root``, ``proc_root``,
``etc_root``). The verdict on llama.cpp / PyTorch use is stated honestly: most NPUs need their
vendor's SDK and cannot run a GGUF model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hwbench.detect._util import exists, link_name, read_hex, read_text, sorted_glob
from hwbench.schema import AcceleratorInfo, GpuInfo

GOOGLE_VENDOR = 0x1AE0
# Cloud TPU chips by PCI device id (as tpu-info reads them); v2/v3 share 0x0027.
TPU_IDS: dict[int, str] = {
    0x0027: "TPU v2/v3",
    0x005E: "TPU v4",
    0x0063: "TPU v5e",
    0x0062: "TPU v5p",
    0x006F: "TPU v6e",
    0x0076: "TPU7x",
}
INTEL_NPU_IDS: dict[int, str] = {
    0x7D1D: "Intel NPU (Meteor Lake)",
    0xAD1D: "Intel NPU (Arrow Lake)",
    0x643E: "Intel NPU (Lunar Lake)",
    0xB03E: "Intel NPU (Panther Lake)",
}
AMD_XDNA_IDS: dict[int, str] = {
    0x1502: "AMD XDNA NPU (Phoenix / Hawk Point)",
    0x17F0: "AMD XDNA 2 NPU (Strix)",
}
CORAL_USB_IDS = {(0x1A6E, 0x089A), (0x18D1, 0x9302)}

_NO_GGUF = "cannot run a GGUF LLM with llama.cpp"


def _accel_class(sys_root: str, warnings: list[str]) -> list[AcceleratorInfo]:
    """Devices of the kernel's compute-accelerator class (/sys/class/accel/accel*)."""
    found: list[AcceleratorInfo] = []
    for node in sorted_glob(Path(sys_root) / "class" / "accel", "accel*"):
        dev = node / "device"
        driver = link_name(dev / "driver")
        vendor = read_hex(dev / "vendor", warnings)
        did = read_hex(dev / "device", warnings)
        path = f"/dev/accel/{node.name}"
        if driver == "intel_vpu" or (vendor == 0x8086 and did in INTEL_NPU_IDS):
            found.append(
                AcceleratorInfo(
                    kind="npu",
                    vendor="Intel",
                    name=INTEL_NPU_IDS.get(did or -1, f"Intel NPU [8086:{did or 0:04x}]"),
                    driver=driver,
                    path=path,
                    note=f"needs the vendor SDK (OpenVINO GenAI); {_NO_GGUF}",
                )
            )
        elif driver == "amdxdna" or (vendor == 0x1022 and did in AMD_XDNA_IDS):
            found.append(
                AcceleratorInfo(
                    kind="npu",
                    vendor="AMD",
                    name=AMD_XDNA_IDS.get(did or -1, f"AMD XDNA NPU [1022:{did or 0:04x}]"),
                    driver=driver,
                    path=path,
                    note=f"needs the vendor SDK (Ryzen AI / ONNX Runtime); {_NO_GGUF}",
                )
            )
        elif driver == "qaic" or vendor == 0x17CB:
            found.append(
                AcceleratorInfo(
                    kind="npu",
                    vendor="Qualcomm",
                    name="Qualcomm Cloud AI 100" if driver == "qaic" else f"Qualcomm accelerator [17cb:{did or 0:04x}]",
                    driver=driver,
                    path=path,
                    note=f"needs the vendor SDK (Qualcomm AIC SDK); {_NO_GGUF}",
                )
            )
        elif vendor == GOOGLE_VENDOR:
            continue  # TPUs are found on the PCI bus below
        elif driver or vendor is not None:
            name = f"accelerator {node.name}" + (f" [{vendor:04x}:{did or 0:04x}]" if vendor is not None else "")
            found.append(AcceleratorInfo(kind="accel", name=name, driver=driver, path=path, note="unknown accelerator"))
    return found


def _tpus(sys_root: str, warnings: list[str]) -> list[AcceleratorInfo]:
    counts: dict[str, int] = {}
    for dev in sorted_glob(Path(sys_root) / "bus" / "pci" / "devices", "*"):
        if read_hex(dev / "vendor") != GOOGLE_VENDOR:  # every PCI device: unrelated garbage is not ours
            continue
        did = read_hex(dev / "device", warnings)
        cls = read_hex(dev / "class", warnings)
        if did in TPU_IDS:
            name = TPU_IDS[did or 0]
            if did == 0x0027:
                sub = read_hex(dev / "subsystem_device", warnings)
                name = {0x004E: "TPU v2", 0x004F: "TPU v3"}.get(sub or -1, name)
        elif cls is not None and cls >> 16 == 0x12:  # processing accelerator (gVNIC is 0x02 network)
            name = f"Google TPU [1ae0:{did or 0:04x}]"
        else:
            continue
        counts[name] = counts.get(name, 0) + 1
    return [
        AcceleratorInfo(
            kind="tpu",
            vendor="Google",
            name=f"Cloud {name}" + (f" x{n}" if n > 1 else ""),
            driver="vfio/accel",
            usable_by_llamacpp=False,
            usable_by_torch=True,
            note="PyTorch only through torch_xla (JAX also works); llama.cpp has no TPU backend",
        )
        for name, n in counts.items()
    ]


def _dev_nodes(dev_root: str, pattern: str) -> list[Path]:
    return sorted_glob(dev_root, pattern)


def _coral(sys_root: str, dev_root: str, warnings: list[str]) -> list[AcceleratorInfo]:
    found: list[AcceleratorInfo] = []
    note = f"Edge TPU runs small int8 TFLite models only (8 MB SRAM); {_NO_GGUF}"
    for node in _dev_nodes(dev_root, "apex_*"):
        found.append(
            AcceleratorInfo(
                kind="edge_tpu", vendor="Google", name="Coral Edge TPU (PCIe/M.2)", driver="apex", path=f"/dev/{node.name}", note=note
            )
        )
    for dev in sorted_glob(Path(sys_root) / "bus" / "usb" / "devices", "*"):
        vid = read_hex(dev / "idVendor")
        pid = read_hex(dev / "idProduct")
        if vid is not None and pid is not None and (vid, pid) in CORAL_USB_IDS:
            found.append(
                AcceleratorInfo(
                    kind="edge_tpu", vendor="Google", name="Coral USB Accelerator (Edge TPU)", path=f"usb {dev.name}", note=note
                )
            )
    return found


def _hailo(dev_root: str) -> list[AcceleratorInfo]:
    return [
        AcceleratorInfo(
            kind="npu",
            vendor="Hailo",
            name="Hailo AI accelerator",
            driver="hailo_pci",
            path=f"/dev/{node.name}",
            note=f"needs the vendor SDK (HailoRT, compiled HEF models); {_NO_GGUF}",
        )
        for node in _dev_nodes(dev_root, "hailo*")
    ]


def _rknpu(sys_root: str, dev_root: str, proc_root: str) -> list[AcceleratorInfo]:
    hit: str | None = None
    if exists(Path(sys_root) / "kernel" / "debug" / "rknpu"):
        hit = "/sys/kernel/debug/rknpu"
    elif exists(Path(dev_root) / "rknpu"):
        hit = "/dev/rknpu"
    else:
        for base in (Path(proc_root) / "device-tree", Path(sys_root) / "firmware" / "devicetree" / "base"):
            for comp in sorted_glob(base, "*/compatible"):
                text = read_text(comp) or ""
                if "rknpu" in text:
                    hit = str(comp)
                    break
            if hit:
                break
    if not hit:
        return []
    return [
        AcceleratorInfo(
            kind="npu",
            vendor="Rockchip",
            name="Rockchip RKNPU",
            driver="rknpu",
            path=hit,
            note=f"needs the vendor SDK (RKLLM / RKNN-Toolkit, converted models); {_NO_GGUF}",
        )
    ]


def _qualcomm_dsp(dev_root: str) -> list[AcceleratorInfo]:
    nodes = _dev_nodes(dev_root, "fastrpc-*")
    if not nodes:
        return []
    return [
        AcceleratorInfo(
            kind="npu",
            vendor="Qualcomm",
            name="Qualcomm Hexagon NPU/DSP",
            driver="fastrpc",
            path=", ".join(f"/dev/{n.name}" for n in nodes),
            note=f"needs the vendor SDK (QNN / Qualcomm AI Engine Direct); {_NO_GGUF} on the NPU (CPU and Adreno via OpenCL only)",
        )
    ]


def _ascend(dev_root: str) -> list[AcceleratorInfo]:
    nodes = [n for n in _dev_nodes(dev_root, "davinci*") if n.name.removeprefix("davinci").isdigit()]
    if not nodes:
        return []
    return [
        AcceleratorInfo(
            kind="npu",
            vendor="Huawei",
            name=f"Huawei Ascend NPU x{len(nodes)}" if len(nodes) > 1 else "Huawei Ascend NPU",
            driver="davinci",
            path=", ".join(f"/dev/{n.name}" for n in nodes),
            usable_by_llamacpp=True,
            usable_by_torch=True,
            note="llama.cpp needs a build with the CANN backend; PyTorch needs torch_npu",
        )
    ]


def probe_accelerators(sys_root: str = "/sys", dev_root: str = "/dev", proc_root: str = "/proc") -> tuple[list[AcceleratorInfo], list[str]]:
    """Every non-GPU accelerator found. Returns (accelerators, warnings); one failing finder is a warning."""
    warnings: list[str] = []
    found: list[AcceleratorInfo] = []
    finders: list[tuple[str, Callable[[], list[AcceleratorInfo]]]] = [
        ("accel class", lambda: _accel_class(sys_root, warnings)),
        ("tpu", lambda: _tpus(sys_root, warnings)),
        ("coral", lambda: _coral(sys_root, dev_root, warnings)),
        ("hailo", lambda: _hailo(dev_root)),
        ("rknpu", lambda: _rknpu(sys_root, dev_root, proc_root)),
        ("qualcomm", lambda: _qualcomm_dsp(dev_root)),
        ("ascend", lambda: _ascend(dev_root)),
    ]
    for label, finder in finders:
        try:
            found += finder()
        except Exception as e:  # noqa: BLE001
            warnings.append(f"{label} accelerator probe failed: {type(e).__name__}: {e}")
    return found, warnings


# ----------------------------------------------------------------------------- Jetson

_JETSON_CC = (("Thor", None), ("Orin", "8.7"), ("Xavier", "7.2"), ("TX2", "6.2"), ("Nano", "5.3"), ("TX1", "5.3"))


def probe_jetson(
    proc_root: str = "/proc",
    etc_root: str = "/etc",
    sys_root: str = "/sys",
    *,
    ram_bytes: int | None = None,
) -> tuple[list[GpuInfo], list[str]]:
    """An NVIDIA Jetson's integrated GPU (shares RAM; sized from ``ram_bytes``). Returns (gpus, warnings)."""
    warnings: list[str] = []
    release = read_text(Path(etc_root) / "nv_tegra_release", warnings)
    model = read_text(Path(proc_root) / "device-tree" / "model", warnings) or read_text(
        Path(sys_root) / "firmware" / "devicetree" / "base" / "model", warnings
    )
    is_jetson = bool(release) or bool(model and ("Jetson" in model or "NVIDIA" in model))
    if not is_jetson:
        return [], warnings
    l4t: str | None = None
    if release:
        # "# R36 (release), REVISION: 3.0, GCID: ..., BOARD: generic, EABI: aarch64, DATE: ..."
        head = release.splitlines()[0]
        major = head.split("(")[0].replace("#", "").strip()
        rev = head.split("REVISION:")[1].split(",")[0].strip() if "REVISION:" in head else ""
        l4t = f"{major}.{rev}" if major and rev else major or None
    board = model or "NVIDIA Jetson"
    cc = next((v for k, v in _JETSON_CC if k in board), None)
    notes = ["Jetson integrated GPU: shares system RAM with the CPU (unified memory); size shown is total RAM"]
    if l4t:
        notes.append(f"L4T {l4t}")
    return [
        GpuInfo(
            index=0,
            vendor="NVIDIA",
            name=f"{board} (integrated GPU)",
            backend="cuda",
            memory_total_bytes=ram_bytes,
            unified_memory=True,
            compute_capability=cc,
            driver_version=f"L4T {l4t}" if l4t else None,
            notes=notes,
        )
    ], warnings
