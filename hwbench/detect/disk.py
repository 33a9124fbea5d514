"""Disk probe: free space where models will be stored, and whether that disk spins.

A virtual disk (virtio-blk, Xen, Hyper-V, a hypervisor's emulated SCSI disk, a cloud block volume)
reports whatever its driver defaults to: virtio-blk says "rotational" and NVMe says "not rotational"
whatever backs them. Such a disk is named as virtual and its type left unknown.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hwbench.detect._util import exists, link_name, read_int, read_text
from hwbench.schema import DiskInfo

# The block device's driver (/sys/block/X/device/driver) -> what it shows.
_VIRTUAL_DRIVERS: dict[str, str] = {
    "virtio_blk": "virtio-blk",
    "vbd": "Xen virtual block device",
    "xen_blkfront": "Xen virtual block device",
}
# A folder on the path from /sys/devices to the disk (the bus it hangs off) -> what it shows.
_VIRTUAL_BUSES: tuple[tuple[str, str], ...] = (
    ("virtio", "virtio-scsi"),  # .../virtio1/host0/target0:0:0/0:0:0:0
    ("vmbus", "Hyper-V"),  # .../VMBUS:00/... (storvsc)
    ("vbd-", "Xen virtual block device"),
)
# SCSI vendor (/sys/block/X/device/vendor, exact after strip) -> what it shows.
_VIRTUAL_VENDORS: dict[str, str] = {
    "QEMU": "QEMU",
    "VMWARE": "VMware",
    "MSFT": "Hyper-V",
    "GOOGLE": "Google Persistent Disk",
    "ORACLE": "Oracle Cloud block volume",
    "DO": "DigitalOcean volume",
    "HC": "Hetzner Cloud volume",
    "VBOX": "VirtualBox",
}
# Model (/sys/block/X/device/model: SCSI disk or NVMe controller), substring, lower case -> what it shows.
_VIRTUAL_MODELS: tuple[tuple[str, str], ...] = (
    ("amazon elastic block store", "Amazon EBS"),
    ("nvme_card-pd", "Google Persistent Disk"),
    ("persistentdisk", "Google Persistent Disk"),
    ("msft nvme accelerator", "Azure managed disk"),
    ("qemu harddisk", "QEMU"),
    ("qemu nvme", "QEMU"),
    ("vbox harddisk", "VirtualBox"),
    ("virtual disk", "virtual disk"),  # VMware "Virtual disk", Hyper-V/Azure "Virtual Disk"
    ("vmware virtual", "VMware"),
    ("blockvolume", "Oracle Cloud block volume"),
)


def virtual_disk(device: str, sys_root: str = "/sys") -> str | None:
    """What shows that block device ``device`` (a disk, not a partition) is virtual, or None.

    Read from ``sys_root/block/<device>/device``: its driver, its SCSI vendor, its model, and the
    bus it hangs off (first match wins, the most specific first). A real disk passed through to a VM
    looks real here, and is then named as real.
    """
    dev = Path(sys_root) / "block" / device / "device"
    driver = link_name(dev / "driver")
    if driver in _VIRTUAL_DRIVERS:
        return _VIRTUAL_DRIVERS[driver]
    vendor = (read_text(dev / "vendor") or "").upper()
    if vendor in _VIRTUAL_VENDORS:
        return _VIRTUAL_VENDORS[vendor]
    model = (read_text(dev / "model") or "").lower()
    for needle, label in _VIRTUAL_MODELS:
        if needle in model:
            return label
    try:  # only the folders below sys_root count (a fake tree's own location says nothing)
        parts = dev.resolve().relative_to(Path(sys_root).resolve()).parts if exists(dev) else ()
    except (OSError, ValueError):
        parts = ()
    for part in parts:
        for prefix, label in _VIRTUAL_BUSES:
            if part.lower().startswith(prefix):
                return label
    return None


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
    virtual: str | None = None
    if device:
        virtual = virtual_disk(device, sys_root)
        rot_path = Path(sys_root) / "block" / device / "queue" / "rotational"
        rot = read_int(rot_path, warnings)
        if rot is not None and virtual is None:  # a virtual disk's flag is its driver's default
            rotational = rot == 1
    return (
        DiskInfo(path=str(path), total_bytes=total, free_bytes=free, rotational=rotational, device=device, virtual_disk=virtual),
        warnings,
    )
