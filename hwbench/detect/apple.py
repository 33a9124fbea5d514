"""Apple Silicon (macOS on arm64): unified-memory GPU and the Neural Engine.

Commands go through an injected runner so tests need no Mac. Only ``sysctl`` is run on the quick
path; ``system_profiler`` (slow, ~0.5 s) only adds the GPU core count when ``quick`` is False.
"""

from __future__ import annotations

import json
import platform
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field

from hwbench.schema import AcceleratorInfo, GpuInfo

Runner = Callable[[list[str]], str]

_SYSCTL_KEYS = ("machdep.cpu.brand_string", "hw.memsize", "hw.physicalcpu", "hw.logicalcpu", "iogpu.wired_limit_mb")


def _run(cmd: list[str]) -> str:
    # sysctl exits non-zero when one key is unknown (iogpu.* on old macOS) but still prints the others.
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=15, check=False)
    if not done.stdout and done.returncode != 0:
        raise OSError(f"{cmd[0]} exited {done.returncode}: {done.stderr.strip()[:200]}")
    return done.stdout


@dataclass
class AppleInfo:
    brand: str | None = None
    memsize_bytes: int | None = None
    physical_cores: int | None = None
    logical_cores: int | None = None
    gpus: list[GpuInfo] = field(default_factory=list)
    accelerators: list[AcceleratorInfo] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def parse_sysctl(text: str) -> dict[str, str]:
    """'hw.memsize: 68719476736' lines -> dict."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def gpu_cores_from_profiler(text: str) -> tuple[str | None, int | None]:
    """(GPU model, core count) from ``system_profiler SPDisplaysDataType -json``."""
    data = json.loads(text)
    for entry in data.get("SPDisplaysDataType", []):
        cores = _int(str(entry.get("sppci_cores", "")).strip() or None)
        model = entry.get("sppci_model")
        if cores or (model and "Apple" in str(model)):
            return (str(model) if model else None), cores
    return None, None


def probe_apple(
    run: Runner | None = None,
    *,
    system: str | None = None,
    machine: str | None = None,
    quick: bool = False,
) -> AppleInfo:
    """Apple Silicon GPU + Neural Engine; empty on anything but Darwin arm64."""
    info = AppleInfo()
    system = system or platform.system()
    machine = machine or platform.machine()
    if system != "Darwin" or machine not in ("arm64", "aarch64"):
        return info
    run = run or _run
    try:
        values = parse_sysctl(run(["sysctl", *_SYSCTL_KEYS]))
    except Exception as e:  # noqa: BLE001
        info.warnings.append(f"sysctl failed: {e}")
        values = {}
    info.brand = values.get("machdep.cpu.brand_string") or None
    info.memsize_bytes = _int(values.get("hw.memsize"))
    info.physical_cores = _int(values.get("hw.physicalcpu"))
    info.logical_cores = _int(values.get("hw.logicalcpu"))
    wired_mb = _int(values.get("iogpu.wired_limit_mb"))

    gpu_model: str | None = None
    cores: int | None = None
    if not quick:
        try:
            gpu_model, cores = gpu_cores_from_profiler(run(["system_profiler", "SPDisplaysDataType", "-json"]))
        except Exception as e:  # noqa: BLE001
            info.warnings.append(f"system_profiler failed: {e}")

    chip = info.brand or gpu_model or "Apple Silicon"
    notes = [
        (
            "unified memory: the GPU uses system RAM. Metal's recommended working set is about 2/3 "
            "(up to ~36 GB RAM) to 3/4 (larger Macs) of RAM; llama.cpp can use only that much unless "
            "`sudo sysctl iogpu.wired_limit_mb=<MB>` raises it"
        )
    ]
    if wired_mb:
        notes.append(f"iogpu.wired_limit_mb is set to {wired_mb} MB (GPU wired-memory limit raised)")
    info.gpus.append(
        GpuInfo(
            index=0,
            vendor="Apple",
            name=f"{chip} GPU",
            backend="metal",
            memory_total_bytes=info.memsize_bytes,
            unified_memory=True,
            gpu_cores=cores,
            notes=notes,
        )
    )
    info.accelerators.append(
        AcceleratorInfo(
            kind="npu",
            vendor="Apple",
            name=f"{chip} Neural Engine",
            usable_by_llamacpp=False,
            usable_by_torch=False,
            note="Apple Neural Engine: reachable only through Core ML; llama.cpp and PyTorch use the GPU (Metal/MPS)",
        )
    )
    return info
