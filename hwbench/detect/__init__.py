"""Hardware inventory: one probe per vendor/kind, combined by :func:`detect_all`.

The interface every probe follows: a plain function that takes the root folders it reads
(``proc_root``, ``sys_root``, ``dev_root``, ``etc_root``) or an injected library/runner, and
returns ``(result, warnings)``. Probes never raise for missing hardware; :func:`detect_all` also
catches anything unexpected, so one broken vendor becomes a line in ``HostInfo.warnings`` and
detection carries on (the glances approach).
"""

from __future__ import annotations

import importlib
import os
import platform
import socket
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from hwbench.detect._util import read_text
from hwbench.detect.accel import probe_accelerators, probe_jetson
from hwbench.detect.amd import probe_amd
from hwbench.detect.apple import Runner, probe_apple
from hwbench.detect.cpu import probe_cpu, usable_cpus
from hwbench.detect.disk import probe_disk
from hwbench.detect.intel import probe_intel
from hwbench.detect.memory import probe_memory
from hwbench.detect.nvidia import pci_nvidia_gpus, probe_nvidia
from hwbench.detect.virt import probe_virt
from hwbench.schema import GpuInfo, HostInfo

__all__ = [
    "detect_all",
    "probe_accelerators",
    "probe_amd",
    "probe_apple",
    "probe_cpu",
    "probe_disk",
    "probe_intel",
    "probe_jetson",
    "probe_memory",
    "probe_nvidia",
    "probe_virt",
]

T = TypeVar("T")


def _guard(name: str, fn: Callable[[], tuple[T, list[str]]], warnings: list[str]) -> T | None:
    """Run one probe; its warnings join the host's, an exception becomes one warning."""
    try:
        result, w = fn()
    except Exception as e:  # noqa: BLE001 - detection must never crash
        warnings.append(f"{name} probe failed: {type(e).__name__}: {e}")
        return None
    warnings.extend(w)
    return result


def os_name(etc_root: str = "/etc", system: str | None = None) -> str:
    """'Linux (Ubuntu 22.04.4 LTS)', 'macOS 14.5', 'Windows 11' ..."""
    system = system or platform.system()
    if system == "Linux":
        text = read_text(Path(etc_root) / "os-release") or ""
        for line in text.splitlines():
            if line.startswith("PRETTY_NAME="):
                return f"Linux ({line.split('=', 1)[1].strip().strip(chr(34))})"
        return "Linux"
    if system == "Darwin":
        ver = platform.mac_ver()[0]
        return f"macOS {ver}" if ver else "macOS"
    return f"{system} {platform.release()}".strip()


def _version() -> str | None:
    try:
        from hwbench import __version__

        return __version__
    except ImportError:
        return None


def detect_all(
    *,
    proc_root: str = "/proc",
    sys_root: str = "/sys",
    dev_root: str = "/dev",
    etc_root: str = "/etc",
    disk_path: str | os.PathLike[str] | None = None,
    nvml: Any = None,
    amdsmi: Any = None,
    include_torch: bool = False,
    quick: bool = False,
    apple_runner: Runner | None = None,
    root: str = "/",
    include_gpus: bool = True,
) -> HostInfo:
    """Inventory this machine. Never raises: probe failures land in ``HostInfo.warnings``.

    ``quick=True`` (``hwbench check``) adds no slow work: no torch, no amdsmi, no py-cpuinfo and no
    subprocess except ``sysctl`` on macOS. ``disk_path`` defaults to the home folder.
    """
    warnings: list[str] = []
    host = HostInfo(
        hwbench_version=_version(),
        detected_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        python=platform.python_version(),
        kernel=platform.release() or None,
    )
    try:
        host.hostname = socket.gethostname() or None
        host.os = os_name(etc_root)
    except Exception as e:  # noqa: BLE001
        warnings.append(f"os probe failed: {e}")
    is_mac = sys.platform == "darwin"

    cpu = _guard("cpu", lambda: probe_cpu(proc_root, sys_root, use_py_cpuinfo=not quick and not is_mac), warnings)
    if cpu is not None:
        host.cpu = cpu
        usable = usable_cpus(proc_root)
        if usable and cpu.logical_cores and usable < cpu.logical_cores:
            warnings.append(f"this process may use only {usable} of {cpu.logical_cores} CPUs (affinity/cpuset)")
    mem = _guard("memory", lambda: probe_memory(proc_root, sys_root), warnings)
    if mem is not None:
        host.memory = mem
    ram = host.memory.effective_bytes or host.memory.total_bytes

    disk_at = Path(disk_path) if disk_path is not None else Path.home()
    host.disk = _guard("disk", lambda: probe_disk(disk_at, sys_root, proc_root), warnings)

    gpus: list[GpuInfo] = []
    # what-if GPUs replace the real ones: then skip the GPU probes (and NVML's import)
    nv = _guard("nvidia", lambda: probe_nvidia(nvml, host_ram_bytes=host.memory.total_bytes, proc_root=proc_root, dev_root=dev_root), warnings) if include_gpus else None
    gpus += nv or []
    if not nv and include_gpus:
        pci = _guard("nvidia pci", lambda: (pci_nvidia_gpus(sys_root), []), warnings) or []
        if pci:
            warnings.append(
                f"{len(pci)} NVIDIA GPU(s) on the PCI bus ({', '.join(pci)}) but NVML reported none: install or load the NVIDIA driver"
            )

    smi = amdsmi
    if smi is None and not quick and sys_root == "/sys":
        try:
            smi = importlib.import_module("amdsmi")
        except Exception:  # noqa: BLE001 - ImportError, or a broken ROCm install
            smi = None
    if include_gpus:
        gpus += _guard("amd", lambda: probe_amd(sys_root, smi), warnings) or []
        gpus += _guard("intel", lambda: probe_intel(sys_root), warnings) or []

    apple = None
    try:
        apple = probe_apple(apple_runner, quick=quick)
    except Exception as e:  # noqa: BLE001
        warnings.append(f"apple probe failed: {type(e).__name__}: {e}")
    if apple is not None and apple.gpus:
        warnings += apple.warnings
        gpus += apple.gpus
        host.accelerators += apple.accelerators
        host.cpu.model = host.cpu.model or apple.brand
        host.cpu.vendor = host.cpu.vendor or "Apple"
        host.cpu.physical_cores = host.cpu.physical_cores or apple.physical_cores
        host.cpu.logical_cores = host.cpu.logical_cores or apple.logical_cores
        if host.memory.total_bytes is None and apple.memsize_bytes:
            host.memory.total_bytes = apple.memsize_bytes
            host.memory.effective_bytes = apple.memsize_bytes

    jetson = _guard("jetson", lambda: probe_jetson(proc_root, etc_root, sys_root, ram_bytes=ram), warnings) or []
    if jetson and not any(g.vendor == "NVIDIA" for g in gpus):
        gpus += jetson

    host.accelerators += _guard("accelerator", lambda: probe_accelerators(sys_root, dev_root, proc_root), warnings) or []
    virt = _guard("virt", lambda: probe_virt(proc_root, sys_root, root), warnings)
    if virt is not None:
        host.virt = virt

    if include_torch and not quick:
        from hwbench.detect.torch_probe import probe_torch

        host.torch = _guard("torch", probe_torch, warnings)

    host.gpus = gpus if include_gpus else []
    warnings = list(dict.fromkeys(warnings))  # same file read by two probes: say it once
    # "no NVIDIA driver" is news only where an NVIDIA GPU sits on the bus (then a warning says so)
    on_bus = any("on the PCI bus" in w for w in warnings)
    info = [] if on_bus else [w for w in warnings if w.startswith("no NVIDIA driver")]
    host.warnings = [w for w in warnings if w not in info]
    host.notes = info
    return host

