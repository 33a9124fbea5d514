"""Memory probe: /proc/meminfo plus the cgroup (v1 or v2) limit of this process."""

from __future__ import annotations

from pathlib import Path

from hwbench.detect._util import read_text
from hwbench.schema import MemoryInfo

# cgroup v1 writes "no limit" as a page-rounded LONG_MAX (9223372036854771712); treat anything
# this large as unlimited.
_NO_LIMIT_THRESHOLD = 1 << 60


def parse_meminfo(text: str) -> dict[str, int]:
    """'MemTotal:  24684092 kB' -> {'MemTotal': 25276510208} (bytes)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        parts = rest.split()
        if not sep or not parts:
            continue
        try:
            value = int(parts[0])
        except ValueError:
            continue
        if len(parts) > 1 and parts[1].lower() == "kb":
            value *= 1024
        out[key.strip()] = value
    return out


def _parse_limit(text: str | None, path: Path, warnings: list[str]) -> int | None:
    if text is None or text == "" or text == "max":
        return None
    try:
        value = int(text.split()[0])
    except ValueError:
        warnings.append(f"unexpected content in {path}: {text[:40]!r}")
        return None
    if value <= 0 or value >= _NO_LIMIT_THRESHOLD:
        return None
    return value


def _walk_limits(base: Path, rel: str, filename: str, warnings: list[str]) -> list[int]:
    """Limits from the cgroup folder and every ancestor up to the mount (the tightest one wins).

    Inside a cgroup namespace the mount itself is the container's cgroup, so when the path from
    /proc/self/cgroup does not exist under the mount only the mount root is read.
    """
    limits: list[int] = []
    parts = [p for p in rel.strip().split("/") if p and p != ".."]
    leaf = base.joinpath(*parts) if parts else base
    if not leaf.is_dir():
        parts = []
    for depth in range(len(parts), -1, -1):
        folder = base.joinpath(*parts[:depth]) if depth else base
        path = folder / filename
        limit = _parse_limit(read_text(path, warnings), path, warnings)
        if limit is not None:
            limits.append(limit)
    return limits


def cgroup_memory_limit(proc_root: str = "/proc", sys_root: str = "/sys") -> tuple[int | None, list[str]]:
    """The tightest cgroup memory limit (bytes) of this process, or None when unlimited/unknown."""
    warnings: list[str] = []
    text = read_text(Path(proc_root) / "self" / "cgroup", warnings)
    if not text:
        return None, warnings
    cg_root = Path(sys_root) / "fs" / "cgroup"
    limits: list[int] = []
    for line in text.splitlines():
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        hier, controllers, rel = fields
        if hier == "0" and controllers == "":
            # cgroup v2 (unified). On hybrid hosts it lives under /sys/fs/cgroup/unified.
            for base in (cg_root, cg_root / "unified"):
                if (base / "cgroup.controllers").exists():
                    limits += _walk_limits(base, rel, "memory.max", warnings)
                    break
        elif "memory" in controllers.split(","):
            limits += _walk_limits(cg_root / "memory", rel, "memory.limit_in_bytes", warnings)
    return (min(limits) if limits else None), warnings


def probe_memory(proc_root: str = "/proc", sys_root: str = "/sys") -> tuple[MemoryInfo, list[str]]:
    """RAM, swap and cgroup limit. Returns (MemoryInfo, warnings)."""
    warnings: list[str] = []
    path = Path(proc_root) / "meminfo"
    text = read_text(path, warnings)
    info = parse_meminfo(text) if text else {}
    if text is not None and "MemTotal" not in info:
        warnings.append(f"no MemTotal in {path}")
    total = info.get("MemTotal")
    available = info.get("MemAvailable")
    if available is None and "MemFree" in info:  # kernels before 3.14
        available = info["MemFree"] + info.get("Buffers", 0) + info.get("Cached", 0)
    limit, cg_warnings = cgroup_memory_limit(proc_root, sys_root)
    warnings += cg_warnings
    effective = total
    if limit is not None:
        effective = min(total, limit) if total is not None else limit
        if available is not None:
            available = min(available, limit)
    return (
        MemoryInfo(
            total_bytes=total,
            available_bytes=available,
            swap_total_bytes=info.get("SwapTotal"),
            swap_free_bytes=info.get("SwapFree"),
            cgroup_limit_bytes=limit,
            effective_bytes=effective,
        ),
        warnings,
    )
