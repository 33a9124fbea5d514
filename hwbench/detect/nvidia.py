"""NVIDIA GPUs through NVML (pynvml from the nvidia-ml-py package).

Every NVML call goes through :func:`_q`, so a query a GPU or driver does not support degrades to
None instead of crashing (the nvitop approach); a GPU whose every query fails becomes one warning
while the other GPUs are still reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hwbench.detect._util import exists, isdir, read_hex, sorted_glob
from hwbench.schema import GpuInfo

_NOT_SUPPORTED = 3
_NO_PERMISSION = 4
_DRIVER_NOT_LOADED = 9
_LIBRARY_NOT_FOUND = 12
_FUNCTION_NOT_FOUND = 13
_GPU_IS_LOST = 15
_MAX_NVLINKS = 18

# Names of parts whose GPU shares (or can directly address) the CPU's memory.
_UNIFIED_NAMES = ("GH200", "GB200", "GB10", "Grace", "Orin", "Xavier", "Thor", "Tegra", "Jetson")


class _Failed:
    """Sentinel for a query that raised (kept apart from a query that returned None)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _s(value: Any) -> str:
    """Older pynvml returns bytes, newer returns str."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip("\x00").strip()
    return str(value).strip()


def _code(error: BaseException) -> int | None:
    value = getattr(error, "value", None)
    return value if isinstance(value, int) else None


class _Gpu:
    """Wraps one NVML handle; remembers which queries failed and why."""

    def __init__(self, nvml: Any, handle: Any) -> None:
        self.nvml = nvml
        self.handle = handle
        self.calls = 0
        self.failures: list[BaseException] = []

    def q(self, fn: str, *args: Any) -> Any:
        self.calls += 1
        func = getattr(self.nvml, fn, None)
        if func is None:  # an older pynvml without this function
            return _Failed(AttributeError(fn))
        try:
            return func(self.handle, *args)
        except self.nvml.NVMLError as e:
            if _code(e) not in (_NOT_SUPPORTED, _FUNCTION_NOT_FOUND):
                self.failures.append(e)
            return _Failed(e)

    @staticmethod
    def ok(value: Any) -> bool:
        return not isinstance(value, _Failed)

    def not_supported(self, value: Any) -> bool:
        return isinstance(value, _Failed) and _code(value.error) in (_NOT_SUPPORTED, _FUNCTION_NOT_FOUND)


def _system(nvml: Any, fn: str) -> Any:
    func = getattr(nvml, fn, None)
    if func is None:
        return None
    try:
        return func()
    except nvml.NVMLError:
        return None


def _cuda_version(nvml: Any) -> str | None:
    v = _system(nvml, "nvmlSystemGetCudaDriverVersion_v2")
    if not isinstance(v, int) or v <= 0:
        v = _system(nvml, "nvmlSystemGetCudaDriverVersion")
    if not isinstance(v, int) or v <= 0:
        return None
    return f"{v // 1000}.{(v % 1000) // 10}"  # 12040 -> "12.4"


def pci_nvidia_gpus(sys_root: str = "/sys") -> list[str]:
    """PCI addresses of NVIDIA display/3D controllers (vendor 0x10de, class 0x03xxxx), from sysfs."""
    found: list[str] = []
    for dev in sorted_glob(Path(sys_root) / "bus" / "pci" / "devices", "*"):
        if read_hex(dev / "vendor") == 0x10DE:
            cls = read_hex(dev / "class")
            if cls is not None and cls >> 16 == 0x03:
                found.append(dev.name)
    return found


def _probe_one(nvml: Any, index: int, driver: str | None, cuda: str | None, host_ram_bytes: int | None) -> tuple[GpuInfo | None, list[str]]:
    warnings: list[str] = []
    try:
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
    except nvml.NVMLError as e:
        return None, [f"NVIDIA GPU {index}: cannot open ({e}); not reported"]
    g = _Gpu(nvml, handle)
    notes: list[str] = []

    name = g.q("nvmlDeviceGetName")
    mem = g.q("nvmlDeviceGetMemoryInfo")
    if not g.ok(name) and not g.ok(mem):
        errors = sorted({str(f) for f in g.failures}) or ["not supported"]
        return None, [f"NVIDIA GPU {index}: NVML queries fail ({'; '.join(errors)}); not reported"]
    gpu_name = _s(name) if g.ok(name) else f"NVIDIA GPU {index}"
    if not g.ok(name):
        warnings.append(f"NVIDIA GPU {index}: name unavailable ({name.error})")

    total: int | None = None
    free: int | None = None
    unified = any(u.lower() in gpu_name.lower() for u in _UNIFIED_NAMES)
    if g.ok(mem):
        total = int(mem.total) if getattr(mem, "total", None) else None
        free = int(mem.free) if getattr(mem, "free", None) is not None and total else None
        if total and host_ram_bytes and abs(total - host_ram_bytes) <= 0.03 * host_ram_bytes:
            unified = True
            notes.append("NVML memory equals system RAM: the GPU shares host memory (unified memory)")
        if not total:
            unified = True
            notes.append("NVML reports no dedicated GPU memory: the GPU shares host memory (unified memory)")
    elif g.not_supported(mem):
        unified = True
        notes.append("NVML memory info not supported: the GPU shares host memory (unified memory); size it from RAM")
    else:
        warnings.append(f"NVIDIA GPU {index} ({gpu_name}): memory info failed ({mem.error})")
    if unified and any(n in gpu_name for n in ("GH200", "GB200")):
        notes.append("Grace superchip: NVML counts only the GPU's HBM; the GPU can also reach the Grace CPU's LPDDR over NVLink-C2C")

    cc = g.q("nvmlDeviceGetCudaComputeCapability")
    compute = f"{cc[0]}.{cc[1]}" if g.ok(cc) and isinstance(cc, (tuple, list)) and len(cc) == 2 else None

    pcie_gen = g.q("nvmlDeviceGetCurrPcieLinkGeneration")
    pcie_width = g.q("nvmlDeviceGetCurrPcieLinkWidth")
    max_gen = g.q("nvmlDeviceGetMaxPcieLinkGeneration")
    max_width = g.q("nvmlDeviceGetMaxPcieLinkWidth")
    gen = int(pcie_gen) if g.ok(pcie_gen) and pcie_gen else None
    width = int(pcie_width) if g.ok(pcie_width) and pcie_width else None
    if g.ok(max_gen) and g.ok(max_width) and max_gen and max_width:
        notes.append(f"PCIe link now gen{gen or '?'} x{width or '?'}, max gen{int(max_gen)} x{int(max_width)}")
        if gen is None:
            gen = int(max_gen)
        if width is None:
            width = int(max_width)

    power = g.q("nvmlDeviceGetEnforcedPowerLimit")
    if not g.ok(power):
        power = g.q("nvmlDeviceGetPowerManagementLimit")
    power_w = round(int(power) / 1000, 1) if g.ok(power) and power else None  # mW -> W

    nvlinks: int | None = 0
    for link in range(int(getattr(nvml, "NVML_NVLINK_MAX_LINKS", _MAX_NVLINKS))):
        state = g.q("nvmlDeviceGetNvLinkState", link)
        if not g.ok(state):
            if link == 0 and not g.not_supported(state):
                nvlinks = None
            if g.failures and g.failures[-1] is getattr(state, "error", None):
                g.failures.pop()  # running past the last link is how the loop ends, not a failure
            break
        if int(state) == 1:
            nvlinks = (nvlinks or 0) + 1

    mig = g.q("nvmlDeviceGetMigMode")
    mig_enabled: bool | None = None
    if g.ok(mig) and isinstance(mig, (tuple, list)) and mig:
        mig_enabled = int(mig[0]) == 1
        if len(mig) > 1 and int(mig[1]) != int(mig[0]):
            notes.append(f"MIG mode change pending ({'on' if int(mig[1]) == 1 else 'off'} after GPU reset)")
    elif g.not_supported(mig):
        mig_enabled = False
    if mig_enabled:
        notes.append(_mig_note(nvml, g))

    uuid = g.q("nvmlDeviceGetUUID")
    serial = g.q("nvmlDeviceGetSerial")
    pci = g.q("nvmlDeviceGetPciInfo")
    bus_id: str | None = None
    if g.ok(pci):
        raw = getattr(pci, "busId", None) or getattr(pci, "busIdLegacy", None)
        bus_id = _s(raw) if raw else None

    if g.failures and g.calls and len(g.failures) == g.calls:
        return None, [f"NVIDIA GPU {index}: NVML queries fail ({g.failures[0]}); not reported"]

    return (
        GpuInfo(
            index=index,
            vendor="NVIDIA",
            name=gpu_name,
            backend="cuda",
            memory_total_bytes=total,
            memory_free_bytes=free,
            unified_memory=unified,
            compute_capability=compute,
            driver_version=driver,
            cuda_version=cuda,
            pcie_gen=gen,
            pcie_width=width,
            power_limit_w=power_w,
            nvlink_links=nvlinks,
            mig_enabled=mig_enabled,
            uuid=_s(uuid) if g.ok(uuid) and uuid else None,
            serial=_s(serial) if g.ok(serial) and serial else None,
            pci_bus_id=bus_id,
            notes=notes,
        ),
        warnings,
    )


def _mig_note(nvml: Any, g: _Gpu) -> str:
    """Count MIG instances and their memory: with MIG on, a process sees one instance, not the GPU."""
    sizes: list[int] = []
    count = g.q("nvmlDeviceGetMaxMigDeviceCount")
    if g.ok(count) and isinstance(count, int):
        for i in range(count):
            h = g.q("nvmlDeviceGetMigDeviceHandleByIndex", i)
            if not g.ok(h):
                if g.failures:
                    g.failures.pop()  # empty MIG slots answer NotFound
                continue
            try:
                sizes.append(int(nvml.nvmlDeviceGetMemoryInfo(h).total))
            except nvml.NVMLError:
                continue
    text = "MIG enabled: a process sees only its MIG instance, not the whole GPU memory"
    if sizes:
        gib = ", ".join(f"{s / 2**30:.1f}" for s in sizes)
        text += f"; {len(sizes)} instance(s) of {gib} GiB"
    return text


def nvidia_driver_present(proc_root: str = "/proc", dev_root: str = "/dev") -> bool:
    """Whether an NVIDIA kernel driver could answer NVML here, judged only from ``proc_root`` and ``dev_root``.

    Lets a machine without one skip importing and initialising NVML (~7 ms of `hwbench check`).
    The driver's /proc entry and control device show inside GPU containers too; WSL2 exposes /dev/dxg.
    Where there is no proc folder at all (macOS, Windows) nothing can be judged: assume it could.
    """
    if not isdir(proc_root):
        return True
    proc, dev = Path(proc_root), Path(dev_root)
    return any(exists(p) for p in (proc / "driver" / "nvidia", dev / "nvidiactl", dev / "dxg"))


def probe_nvidia(
    nvml: Any = None,
    *,
    host_ram_bytes: int | None = None,
    proc_root: str = "/proc",
    dev_root: str = "/dev",
) -> tuple[list[GpuInfo], list[str]]:
    """All NVIDIA GPUs NVML can see. Returns (gpus, warnings); never raises for a missing driver.

    ``nvml`` is a module-like object with the pynvml API; by default ``pynvml`` is imported here,
    and only when ``proc_root``/``dev_root`` show an NVIDIA driver (:func:`nvidia_driver_present`).
    ``host_ram_bytes`` lets a GPU whose NVML memory equals system RAM be flagged as unified memory.
    """
    if nvml is None:
        if not nvidia_driver_present(proc_root, dev_root):
            return [], ["no NVIDIA driver (no /proc/driver/nvidia, /dev/nvidiactl or /dev/dxg)"]
        try:
            import pynvml
        except ImportError:
            return [], ["NVML not installed (pip install nvidia-ml-py)"]
        nvml = pynvml
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as e:
        code = _code(e)
        if code == _LIBRARY_NOT_FOUND:
            return [], ["no NVIDIA driver (NVML library not found)"]
        if code == _DRIVER_NOT_LOADED:
            return [], ["no NVIDIA driver (driver not loaded)"]
        return [], [f"NVML init failed: {e}"]
    except OSError as e:  # a broken libnvidia-ml.so
        return [], [f"NVML init failed: {e}"]

    gpus: list[GpuInfo] = []
    warnings: list[str] = []
    try:
        driver_raw = _system(nvml, "nvmlSystemGetDriverVersion")
        driver = _s(driver_raw) if driver_raw else None
        cuda = _cuda_version(nvml)
        try:
            count = int(nvml.nvmlDeviceGetCount())
        except nvml.NVMLError as e:
            return [], [f"NVML cannot count GPUs: {e}"]
        for i in range(count):
            try:
                gpu, w = _probe_one(nvml, i, driver, cuda, host_ram_bytes)
            except Exception as e:  # noqa: BLE001 - one broken GPU must not hide the others
                gpu, w = None, [f"NVIDIA GPU {i}: probe failed ({type(e).__name__}: {e}); not reported"]
            warnings += w
            if gpu is not None:
                gpus.append(gpu)
    finally:
        try:
            nvml.nvmlShutdown()
        except Exception:  # noqa: BLE001, S110
            pass
    return gpus, warnings
