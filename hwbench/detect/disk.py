"""Disk probe: free space where models will be stored, and whether that disk spins."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hwbench.detect._util import exists, read_int, read_text
from hwbench.schema import DiskInfo


def _existing(path: Path) -> Path:
    """The path itself or its nearest existing ancestor (the cache dir may not exist yet)."""
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _disk_of(block_dir: Path) -> Path:
    """A partition's folder (…/nvme0n1/nvme0n1p2) -> its disk's (…/nvme0n1); disks map to themselves."""
    if (block_dir / "partition").exists():
        return block_dir.parent
    return block_dir


def device_from_devnum(major: int, minor: int, sys_root: str = "/sys") -> str | None:
    """'259:2' -> 'nvme0n1' via /sys/dev/block/MAJ:MIN (a symlink into /sys/devices)."""
    link = Path(sys_root) / "dev" / "block" / f"{major}:{minor}"
    if not exists(link):
        return None
    try:
        target = link.resolve()
    except OSError:
        return None
    return _disk_of(target).name


def device_from_mountinfo(path: Path, proc_root: str = "/proc") -> str | None:
    """The block device named as the source of the mount holding path (/dev/sda1 -> 'sda1')."""
    text = read_text(Path(proc_root) / "self" / "mountinfo")
    if not text:
        return None
    best: tuple[int, str] | None = None
    target = str(path)
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields = left.split()
        rfields = right.split()
        if not sep or len(fields) < 5 or len(rfields) < 2:
            continue
        mount_point = fields[4].replace("\\040", " ")
        source = rfields[1]
        mp = mount_point.rstrip("/") or "/"
        covers = target == mp or target.startswith(mp.rstrip("/") + "/") or mp == "/"
        if covers and (best is None or len(mp) >= best[0]):
            best = (len(mp), source)
    if best is None or not best[1].startswith("/dev/"):
        return None
    return os.path.basename(best[1])


def disk_name(name: str, sys_root: str = "/sys") -> str:
    """Partition name -> disk name using /sys/class/block (nvme0n1p2 -> nvme0n1, sda1 -> sda)."""
    entry = Path(sys_root) / "class" / "block" / name
    if exists(entry):
        try:
            return _disk_of(entry.resolve()).name
        except OSError:
            return name
    return name


def probe_disk(
    path: str | os.PathLike[str],
    sys_root: str = "/sys",
    proc_root: str = "/proc",
) -> tuple[DiskInfo, list[str]]:
    """Total/free bytes of the filesystem holding ``path`` and its block device. Returns (DiskInfo, warnings)."""
    warnings: list[str] = []
    p = _existing(Path(path).expanduser())
    total: int | None = None
    free: int | None = None
    try:
        usage = shutil.disk_usage(p)
        total, free = usage.total, usage.free
    except OSError as e:
        warnings.append(f"cannot stat disk at {p}: {e.strerror or e}")

    device: str | None = None
    try:
        st = os.stat(p)
        major, minor = os.major(st.st_dev), os.minor(st.st_dev)
        if major != 0:  # 0 = anonymous device (overlayfs, tmpfs, btrfs subvolume): no block entry
            device = device_from_devnum(major, minor, sys_root)
    except (OSError, AttributeError):
        pass
    if device is None:
        name = device_from_mountinfo(p, proc_root)
        if name:
            device = disk_name(name, sys_root)

    rotational: bool | None = None
    if device:
        rot_path = Path(sys_root) / "block" / device / "queue" / "rotational"
        rot = read_int(rot_path, warnings)
        if rot is not None:
            rotational = rot == 1
    return DiskInfo(path=str(path), total_bytes=total, free_bytes=free, rotational=rotational, device=device), warnings
