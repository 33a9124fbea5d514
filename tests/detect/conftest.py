"""Fakes for the detect tests: a pynvml look-alike and a builder for fake /proc, /sys, /dev, /etc trees."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "detect"
GIB = 1 << 30

# ----------------------------------------------------------------------------- fake pynvml

# The real numeric values from nvidia-ml-py's pynvml.py.
NVML_ERRORS: dict[str, int] = {
    "Uninitialized": 1,
    "InvalidArgument": 2,
    "NotSupported": 3,
    "NoPermission": 4,
    "AlreadyInitialized": 5,
    "NotFound": 6,
    "InsufficientSize": 7,
    "InsufficientPower": 8,
    "DriverNotLoaded": 9,
    "Timeout": 10,
    "IrqIssue": 11,
    "LibraryNotFound": 12,
    "FunctionNotFound": 13,
    "CorruptedInforom": 14,
    "GpuIsLost": 15,
    "ResetRequired": 16,
    "OperatingSystem": 17,
    "LibRmVersionMismatch": 18,
    "Unknown": 999,
}
ERR = {name: code for name, code in NVML_ERRORS.items()}
_MESSAGES = {3: "Not Supported", 9: "Driver Not Loaded", 12: "NVML Shared Library Not Found", 15: "GPU is lost"}


class NVMLError(Exception):
    """Mirrors pynvml.NVMLError: NVMLError(code) returns the subclass for that code."""

    _valClassMapping: dict[int, type[NVMLError]] = {}
    value: int

    def __new__(cls, value: int = 999) -> NVMLError:  # noqa: PYI034
        if cls is NVMLError:
            cls = NVMLError._valClassMapping.get(value, cls)
        obj = Exception.__new__(cls)
        obj.value = value
        return obj

    def __str__(self) -> str:
        return _MESSAGES.get(self.value, f"NVML Error with code {self.value}")


def _make_error_class(name: str, code: int) -> type[NVMLError]:
    def new(typ: type[NVMLError], *args: Any) -> NVMLError:
        return NVMLError.__new__(typ, code)

    cls = type(f"NVMLError_{name}", (NVMLError,), {"__new__": new})
    NVMLError._valClassMapping[code] = cls
    return cls


ERROR_CLASSES: dict[str, type[NVMLError]] = {name: _make_error_class(name, code) for name, code in NVML_ERRORS.items()}


def nvml_error(code: int) -> NVMLError:
    return NVMLError(code)


@dataclass
class FakeGpu:
    name: str = "NVIDIA GeForce RTX 3090"
    total: int = 24 * GIB
    free: int = 23 * GIB
    cc: tuple[int, int] = (8, 6)
    pcie: tuple[int, int] = (4, 16)  # current gen, width
    max_pcie: tuple[int, int] = (4, 16)
    power_mw: int = 350_000
    nvlinks: list[int] | None = None  # per-link state (1 = active); None = NotSupported
    mig: tuple[int, int] | None = None  # (current, pending); None = NotSupported
    mig_instances: list[int] = field(default_factory=list)  # memory of each MIG instance
    uuid: str = "GPU-8d2c8f5e-0000-1111-2222-333344445555"
    serial: str | None = None  # None = NotSupported (GeForce)
    bus_id: str = "00000000:01:00.0"
    fail_all: int | None = None  # every device call raises this code
    fail: dict[str, int] = field(default_factory=dict)  # function name -> error code


class FakeNVML:
    """Module-like object with the pynvml functions hwbench calls."""

    NVML_NVLINK_MAX_LINKS = 18

    def __init__(
        self,
        gpus: list[FakeGpu] | None = None,
        *,
        init_error: int | None = None,
        driver: str = "550.54.14",
        cuda: int = 12040,
        legacy_bytes: bool = False,
        missing: tuple[str, ...] = (),
    ) -> None:
        self.gpus = gpus or []
        self.init_error = init_error
        self.driver = driver
        self.cuda = cuda
        self.legacy_bytes = legacy_bytes
        self.initialized = False
        self.shutdown_called = False
        self.NVMLError = NVMLError
        for name, cls in ERROR_CLASSES.items():
            setattr(self, f"NVMLError_{name}", cls)
        for fn in missing:  # simulate an older pynvml without this function
            setattr(self, fn, None)

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if value is None and name.startswith("nvml"):
            raise AttributeError(name)
        return value

    # --- helpers
    def _str(self, s: str) -> str | bytes:
        return s.encode() if self.legacy_bytes else s

    def _gpu(self, handle: Any, fn: str) -> FakeGpu:
        if not self.initialized:
            raise NVMLError(ERR["Uninitialized"])
        gpu: FakeGpu = handle.gpu
        if gpu.fail_all is not None:
            raise NVMLError(gpu.fail_all)
        if fn in gpu.fail:
            raise NVMLError(gpu.fail[fn])
        return gpu

    # --- system
    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise NVMLError(self.init_error)
        self.initialized = True

    def nvmlShutdown(self) -> None:
        self.shutdown_called = True
        self.initialized = False

    def nvmlSystemGetDriverVersion(self) -> str | bytes:
        return self._str(self.driver)

    def nvmlSystemGetCudaDriverVersion_v2(self) -> int:
        return self.cuda

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        return self.cuda

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> Any:
        if index >= len(self.gpus):
            raise NVMLError(ERR["InvalidArgument"])
        gpu = self.gpus[index]
        if gpu.fail_all is not None and "handle" in gpu.fail:
            raise NVMLError(gpu.fail_all)
        return SimpleNamespace(gpu=gpu, index=index, mig=None)

    # --- device
    def nvmlDeviceGetName(self, h: Any) -> str | bytes:
        return self._str(self._gpu(h, "nvmlDeviceGetName").name)

    def nvmlDeviceGetMemoryInfo(self, h: Any, version: int | None = None) -> Any:
        if h.mig is not None:
            return SimpleNamespace(total=h.mig, free=h.mig, used=0)
        g = self._gpu(h, "nvmlDeviceGetMemoryInfo")
        return SimpleNamespace(total=g.total, free=g.free, used=g.total - g.free)

    def nvmlDeviceGetCudaComputeCapability(self, h: Any) -> tuple[int, int]:
        return self._gpu(h, "nvmlDeviceGetCudaComputeCapability").cc

    def nvmlDeviceGetCurrPcieLinkGeneration(self, h: Any) -> int:
        return self._gpu(h, "nvmlDeviceGetCurrPcieLinkGeneration").pcie[0]

    def nvmlDeviceGetCurrPcieLinkWidth(self, h: Any) -> int:
        return self._gpu(h, "nvmlDeviceGetCurrPcieLinkWidth").pcie[1]

    def nvmlDeviceGetMaxPcieLinkGeneration(self, h: Any) -> int:
        return self._gpu(h, "nvmlDeviceGetMaxPcieLinkGeneration").max_pcie[0]

    def nvmlDeviceGetMaxPcieLinkWidth(self, h: Any) -> int:
        return self._gpu(h, "nvmlDeviceGetMaxPcieLinkWidth").max_pcie[1]

    def nvmlDeviceGetEnforcedPowerLimit(self, h: Any) -> int:
        return self._gpu(h, "nvmlDeviceGetEnforcedPowerLimit").power_mw

    def nvmlDeviceGetPowerManagementLimit(self, h: Any) -> int:
        return self._gpu(h, "nvmlDeviceGetPowerManagementLimit").power_mw

    def nvmlDeviceGetNvLinkState(self, h: Any, link: int) -> int:
        g = self._gpu(h, "nvmlDeviceGetNvLinkState")
        if g.nvlinks is None:
            raise NVMLError(ERR["NotSupported"])
        if link >= len(g.nvlinks):
            raise NVMLError(ERR["InvalidArgument"])
        return g.nvlinks[link]

    def nvmlDeviceGetMigMode(self, h: Any) -> list[int]:
        g = self._gpu(h, "nvmlDeviceGetMigMode")
        if g.mig is None:
            raise NVMLError(ERR["NotSupported"])
        return list(g.mig)

    def nvmlDeviceGetMaxMigDeviceCount(self, h: Any) -> int:
        g = self._gpu(h, "nvmlDeviceGetMaxMigDeviceCount")
        if g.mig is None:
            raise NVMLError(ERR["NotSupported"])
        return 7

    def nvmlDeviceGetMigDeviceHandleByIndex(self, h: Any, i: int) -> Any:
        g = self._gpu(h, "nvmlDeviceGetMigDeviceHandleByIndex")
        if i >= len(g.mig_instances):
            raise NVMLError(ERR["NotFound"])
        return SimpleNamespace(gpu=g, index=i, mig=g.mig_instances[i])

    def nvmlDeviceGetUUID(self, h: Any) -> str | bytes:
        return self._str(self._gpu(h, "nvmlDeviceGetUUID").uuid)

    def nvmlDeviceGetSerial(self, h: Any) -> str | bytes:
        g = self._gpu(h, "nvmlDeviceGetSerial")
        if g.serial is None:
            raise NVMLError(ERR["NotSupported"])
        return self._str(g.serial)

    def nvmlDeviceGetPciInfo(self, h: Any) -> Any:
        g = self._gpu(h, "nvmlDeviceGetPciInfo")
        return SimpleNamespace(busId=g.bus_id.encode(), busIdLegacy=g.bus_id[4:].encode(), pciDeviceId=0x220410DE)


# ----------------------------------------------------------------------------- fake trees


class FakeTree:
    """A fake filesystem root: ``tree.proc``, ``tree.sys``, ``tree.dev``, ``tree.etc`` are its folders."""

    def __init__(self, base: Path) -> None:
        self.base = base
        for d in ("proc", "sys", "dev", "etc", "root"):
            (base / d).mkdir(parents=True, exist_ok=True)

    @property
    def proc(self) -> str:
        return str(self.base / "proc")

    @property
    def sys(self) -> str:
        return str(self.base / "sys")

    @property
    def dev(self) -> str:
        return str(self.base / "dev")

    @property
    def etc(self) -> str:
        return str(self.base / "etc")

    @property
    def root(self) -> str:
        return str(self.base / "root")

    def write(self, rel: str, text: str | bytes = "") -> Path:
        p = self.base / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text)
        return p

    def link(self, rel: str, target: str) -> Path:
        """Symlink base/rel -> base/target (relative, like sysfs)."""
        p = self.base / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        t = self.base / target
        t.mkdir(parents=True, exist_ok=True)
        p.symlink_to(os.path.relpath(t, p.parent))
        return p

    def fixture(self, rel: str, name: str) -> Path:
        return self.write(rel, (FIXTURES / name).read_text())

    # --- building blocks
    def pci_device(
        self,
        bdf: str,
        vendor: int,
        device: int,
        cls: int,
        driver: str | None = None,
        files: dict[str, str] | None = None,
    ) -> str:
        """A PCI device under sys/devices/pci0000:00/<bdf>, linked from sys/bus/pci/devices. Returns its rel path."""
        rel = f"sys/devices/pci0000:00/{bdf}"
        self.write(f"{rel}/vendor", f"0x{vendor:04x}\n")
        self.write(f"{rel}/device", f"0x{device:04x}\n")
        self.write(f"{rel}/class", f"0x{cls:06x}\n")
        if driver:
            self.link(f"{rel}/driver", f"sys/bus/pci/drivers/{driver}")
        for name, text in (files or {}).items():
            self.write(f"{rel}/{name}", text)
        self.link(f"sys/bus/pci/devices/{bdf}", rel)
        return rel

    def drm_card(
        self,
        n: int,
        bdf: str,
        vendor: int,
        device: int,
        cls: int = 0x030000,
        driver: str | None = None,
        files: dict[str, str] | None = None,
        render_minor: int | None = None,
    ) -> str:
        rel = self.pci_device(bdf, vendor, device, cls, driver, files)
        self.link(f"sys/class/drm/card{n}", f"{rel}/drm/card{n}")
        self.link(f"{rel}/drm/card{n}/device", rel)
        self.write(f"sys/class/drm/card{n}-DP-1/status", "disconnected\n")  # connector: must be skipped
        if render_minor is not None:
            self.write(f"{rel}/drm/renderD{render_minor}/dev", f"226:{render_minor}\n")
        return rel

    def cpu_topology(self, layout: list[tuple[int, int]]) -> None:
        """layout[i] = (package, core) of logical CPU i."""
        self.write("sys/devices/system/cpu/online", f"0-{len(layout) - 1}\n")
        for i, (pkg, core) in enumerate(layout):
            self.write(f"sys/devices/system/cpu/cpu{i}/topology/physical_package_id", f"{pkg}\n")
            self.write(f"sys/devices/system/cpu/cpu{i}/topology/core_id", f"{core}\n")

    def cpu_caches(self, caches: list[tuple[int, str, str]]) -> None:
        """(level, type, size) for cpu0's cache/index*."""
        for i, (level, ctype, size) in enumerate(caches):
            base = f"sys/devices/system/cpu/cpu0/cache/index{i}"
            self.write(f"{base}/level", f"{level}\n")
            self.write(f"{base}/type", f"{ctype}\n")
            self.write(f"{base}/size", f"{size}\n")


@pytest.fixture
def tree(tmp_path: Path) -> FakeTree:
    return FakeTree(tmp_path / "root_fs")


@pytest.fixture
def make_nvml() -> Callable[..., FakeNVML]:
    return FakeNVML


@pytest.fixture
def gpu() -> type[FakeGpu]:
    return FakeGpu
