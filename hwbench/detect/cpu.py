"""CPU probe: /proc/cpuinfo and /sys/devices/system read directly (a few ms).

py-cpuinfo's ``get_cpu_info()`` takes about a second (it spawns a process), so it is used only as
an opt-in fallback where there is no /proc/cpuinfo (macOS, Windows).
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path
from typing import Any

from hwbench.detect._util import is_live, parse_size, read_int, read_text, sorted_glob
from hwbench.schema import CpuInfo

# ISA features llama.cpp / ggml dispatch on, in the kernel's /proc/cpuinfo spelling.
X86_FLAGS: tuple[str, ...] = (
    "sse3",  # reported as "pni" by the kernel
    "ssse3",
    "fma",
    "f16c",
    "avx",
    "avx2",
    "avx_vnni",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512vbmi",
    "avx512_vnni",
    "avx512_bf16",
    "amx_tile",
    "amx_int8",
    "amx_bf16",
)
ARM_FLAGS: tuple[str, ...] = (
    "neon",
    "asimd",
    "asimddp",  # dot product
    "asimdhp",
    "fphp",
    "i8mm",
    "bf16",
    "sve",
    "sve2",
    "sme",
)
_KERNEL_ALIASES = {"pni": "sse3"}

# CPU implementer ids (ARM MIDR) -> vendor, and a few well-known part numbers.
_ARM_IMPLEMENTERS = {
    0x41: "ARM",
    0x42: "Broadcom",
    0x43: "Cavium",
    0x46: "Fujitsu",
    0x48: "HiSilicon",
    0x4E: "NVIDIA",
    0x51: "Qualcomm",
    0x53: "Samsung",
    0x61: "Apple",
    0x6D: "Microsoft",
    0xC0: "Ampere",
}
_ARM_PARTS = {
    (0x41, 0xD03): "Cortex-A53",
    (0x41, 0xD05): "Cortex-A55",
    (0x41, 0xD07): "Cortex-A57",
    (0x41, 0xD08): "Cortex-A72",
    (0x41, 0xD0B): "Cortex-A76",
    (0x41, 0xD0C): "Neoverse-N1",
    (0x41, 0xD40): "Neoverse-V1",
    (0x41, 0xD41): "Cortex-A78",
    (0x41, 0xD42): "Cortex-A78AE",
    (0x41, 0xD49): "Neoverse-N2",
    (0x41, 0xD4F): "Neoverse-V2",
    (0x41, 0xD84): "Neoverse-V3",
    (0xC0, 0xAC3): "Ampere-1",
    (0xC0, 0xAC4): "Ampere-1a",
}


def _parse_cpuinfo(text: str) -> list[dict[str, str]]:
    """Blocks of 'key : value' lines separated by blank lines."""
    blocks: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if cur:
                blocks.append(cur)
                cur = {}
            continue
        key, sep, value = line.partition(":")
        if sep:
            cur[key.strip()] = value.strip()
    if cur:
        blocks.append(cur)
    return blocks


def _parse_cpu_list(text: str) -> list[int]:
    """'0-3,8,10-11' -> [0, 1, 2, 3, 8, 10, 11]."""
    cpus: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        cpus.extend(range(int(lo), int(hi or lo) + 1))
    return cpus


def select_flags(raw: set[str], arch: str | None) -> list[str]:
    """The llama.cpp-relevant subset of a CPU's flags, in a stable order."""
    norm = {_KERNEL_ALIASES.get(f, f) for f in raw}
    if arch and (arch.startswith(("aarch64", "arm"))):
        if "asimd" in norm:
            norm.add("neon")  # AArch64 Advanced SIMD is NEON
        return [f for f in ARM_FLAGS if f in norm]
    return [f for f in X86_FLAGS if f in norm]


def _arch_from_cpuinfo(first: dict[str, str]) -> str | None:
    """The architecture a cpuinfo block shows (for a fake tree, where ``platform.machine()`` would be wrong)."""
    arm = first.get("CPU architecture")
    if arm is not None:
        return "aarch64" if arm.strip() in ("8", "AArch64") else "armv7l"
    if "flags" in first:
        return "x86_64" if "lm" in first["flags"].split() else "i686"
    if first.get("isa", "").startswith("rv64"):
        return "riscv64"
    return None


def _caches(cpu0: Path, warnings: list[str]) -> tuple[int | None, int | None]:
    l2: int | None = None
    l3: int | None = None
    for idx in sorted_glob(cpu0 / "cache", "index*"):
        level = read_int(idx / "level", warnings)
        ctype = read_text(idx / "type", warnings)
        size_text = read_text(idx / "size", warnings)
        if level is None or size_text is None or ctype == "Instruction":
            continue
        size = parse_size(size_text)
        if size is None:
            warnings.append(f"unexpected cache size in {idx / 'size'}: {size_text[:20]!r}")
            continue
        if level == 2:
            l2 = size
        elif level == 3:
            l3 = size
    return l2, l3


def _from_py_cpuinfo(arch: str | None) -> CpuInfo:
    import cpuinfo  # py-cpuinfo: slow (~1 s), only for non-Linux fallback

    info: dict[str, Any] = cpuinfo.get_cpu_info()
    hz = info.get("hz_advertised") or info.get("hz_actual")
    base = float(hz[0]) / 1e6 if isinstance(hz, (list, tuple)) and hz and hz[0] else None
    return CpuInfo(
        vendor=info.get("vendor_id_raw") or None,
        model=info.get("brand_raw") or None,
        arch=arch,
        logical_cores=info.get("count") or os.cpu_count(),
        base_mhz=base,
        flags=select_flags(set(info.get("flags", [])), arch),
        l2_cache_bytes=info.get("l2_cache_size") if isinstance(info.get("l2_cache_size"), int) else None,
        l3_cache_bytes=info.get("l3_cache_size") if isinstance(info.get("l3_cache_size"), int) else None,
    )


def probe_cpu(
    proc_root: str = "/proc",
    sys_root: str = "/sys",
    *,
    arch: str | None = None,
    use_py_cpuinfo: bool = False,
) -> tuple[CpuInfo, list[str]]:
    """Describe the CPU. Returns (CpuInfo, warnings).

    ``arch`` defaults to ``platform.machine()`` on the live /proc, else to what the cpuinfo shows.
    ``use_py_cpuinfo`` allows the slow py-cpuinfo fallback when ``proc_root/cpuinfo`` does not exist
    (macOS, Windows). That fallback and ``os.cpu_count()`` ask the running machine, so they are used
    only when ``proc_root`` and ``sys_root`` are the live /proc and /sys, never with a fake tree.
    """
    warnings: list[str] = []
    live = is_live(proc_root, "/proc") and is_live(sys_root, "/sys")
    if live:
        arch = arch or platform.machine() or None
    text = read_text(Path(proc_root) / "cpuinfo", warnings)
    if text is None:
        if use_py_cpuinfo and live:
            try:
                return _from_py_cpuinfo(arch), warnings
            except Exception as e:  # noqa: BLE001 - a fallback must never take detection down
                warnings.append(f"py-cpuinfo failed: {e}")
        return CpuInfo(arch=arch, logical_cores=os.cpu_count() if live else None), warnings

    blocks = _parse_cpuinfo(text)
    procs = [b for b in blocks if "processor" in b and b["processor"].isdigit()]
    first = procs[0] if procs else (blocks[0] if blocks else {})
    header = next((b for b in blocks if "processor" not in b or not b["processor"].isdigit()), {})
    arch = arch or _arch_from_cpuinfo(first)

    # flags: x86 "flags", arm "Features"
    raw_flags = set((first.get("flags") or first.get("Features") or "").split())
    vendor = first.get("vendor_id")
    model = first.get("model name") or header.get("model name") or header.get("Model")
    impl_text = first.get("CPU implementer")
    if impl_text:
        try:
            impl = int(impl_text, 16)
            part = int(first.get("CPU part", "0"), 16)
            vendor = vendor or _ARM_IMPLEMENTERS.get(impl, f"ARM implementer {impl_text}")
            model = model or _ARM_PARTS.get((impl, part))
        except ValueError:
            warnings.append(f"unexpected CPU implementer/part in cpuinfo: {impl_text!r}")
    if not model:
        dt_model = read_text(Path(proc_root) / "device-tree" / "model")
        model = dt_model or None

    cpu_sys = Path(sys_root) / "devices" / "system" / "cpu"
    online_text = read_text(cpu_sys / "online", warnings)
    logical: int | None = None
    online: list[int] = []
    if online_text:
        try:
            online = _parse_cpu_list(online_text)
            logical = len(online)
        except ValueError:
            warnings.append(f"unexpected content in {cpu_sys / 'online'}: {online_text[:40]!r}")
    if not logical:
        logical = len(procs) or (os.cpu_count() if live else None)
        online = [int(b["processor"]) for b in procs]

    # topology: (package, core) pairs from sysfs, else from cpuinfo
    cores: set[tuple[int, int]] = set()
    packages: set[int] = set()
    for n in online:
        topo = cpu_sys / f"cpu{n}" / "topology"
        pkg = read_int(topo / "physical_package_id", warnings)
        core = read_int(topo / "core_id", warnings)
        if pkg is None or core is None:
            continue
        packages.add(pkg)
        cores.add((pkg, core))
    if not cores:
        for b in procs:
            if "physical id" in b and "core id" in b and b["physical id"].isdigit() and b["core id"].isdigit():
                packages.add(int(b["physical id"]))
                cores.add((int(b["physical id"]), int(b["core id"])))
    physical = len(cores) or None
    sockets = len(packages) or None

    # frequencies (sysfs in kHz)
    freq = cpu_sys / "cpu0" / "cpufreq"
    max_khz = read_int(freq / "cpuinfo_max_freq", warnings)
    base_khz = read_int(freq / "base_frequency", warnings)
    base_mhz = base_khz / 1000 if base_khz else None
    if base_mhz is None and model:
        m = re.search(r"@\s*([\d.]+)\s*GHz", model)
        if m:
            base_mhz = float(m.group(1)) * 1000
    if base_mhz is None and max_khz is None and first.get("cpu MHz"):
        # no cpufreq driver (VMs): the kernel's "cpu MHz" is then the fixed nominal clock
        try:
            base_mhz = round(float(first["cpu MHz"]), 1)
        except ValueError:
            warnings.append(f"unexpected 'cpu MHz' in cpuinfo: {first['cpu MHz'][:20]!r}")
    max_mhz = max_khz / 1000 if max_khz else None

    l2, l3 = _caches(cpu_sys / "cpu0", warnings)
    numa = len(sorted_glob(Path(sys_root) / "devices" / "system" / "node", "node[0-9]*")) or None

    return (
        CpuInfo(
            vendor=vendor,
            model=model,
            arch=arch,
            physical_cores=physical,
            logical_cores=logical,
            sockets=sockets,
            base_mhz=base_mhz,
            max_mhz=max_mhz,
            flags=select_flags(raw_flags, arch),
            l2_cache_bytes=l2,
            l3_cache_bytes=l3,
            numa_nodes=numa,
        ),
        warnings,
    )


def usable_cpus(proc_root: str = "/proc") -> int | None:
    """CPUs this process may run on (affinity / cpuset), only meaningful for the real /proc."""
    if not is_live(proc_root, "/proc") or not hasattr(os, "sched_getaffinity"):
        return None
    try:
        return len(os.sched_getaffinity(0))
    except OSError:
        return None
