from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from hwbench.detect.disk import device_from_mountinfo, disk_name, probe_disk


def _block(tree: Any, disk: str, part: str | None, rotational: int) -> str:
    """sys/devices/.../block/<disk>[/<part>] with queue/rotational; returns the rel path of the leaf."""
    disk_rel = f"sys/devices/pci0000:00/0000:03:00.0/block/{disk}"
    tree.write(f"{disk_rel}/queue/rotational", f"{rotational}\n")
    tree.link(f"sys/block/{disk}", disk_rel)
    tree.link(f"sys/class/block/{disk}", disk_rel)
    if part is None:
        return disk_rel
    part_rel = f"{disk_rel}/{part}"
    tree.write(f"{part_rel}/partition", "2\n")
    tree.link(f"sys/class/block/{part}", part_rel)
    return part_rel


def test_partition_maps_to_disk_via_dev_numbers(tree: Any, tmp_path: Path) -> None:
    """The real st_dev of tmp_path is linked in the fake /sys/dev/block to an NVMe partition."""
    st = os.stat(tmp_path)
    major, minor = os.major(st.st_dev), os.minor(st.st_dev)
    leaf = _block(tree, "nvme0n1", "nvme0n1p2", 0)
    if major != 0:
        tree.link(f"sys/dev/block/{major}:{minor}", leaf)
    else:  # tmpfs/overlay: exercised through mountinfo instead
        tree.write("proc/self/mountinfo", f"27 1 259:2 / {tmp_path} rw - ext4 /dev/nvme0n1p2 rw\n")
    disk, warnings = probe_disk(tmp_path, tree.sys, tree.proc)
    assert warnings == []
    usage = shutil.disk_usage(tmp_path)
    assert disk.path == str(tmp_path)
    assert disk.total_bytes == usage.total
    assert disk.free_bytes is not None and abs(disk.free_bytes - usage.free) < 256 * 2**20
    assert disk.device == "nvme0n1"
    assert disk.rotational is False


def test_missing_path_uses_existing_parent(tree: Any, tmp_path: Path) -> None:
    target = tmp_path / "not" / "yet" / "created"
    disk, _ = probe_disk(target, tree.sys, tree.proc)
    assert disk.path == str(target)
    assert disk.total_bytes == shutil.disk_usage(tmp_path).total


def test_mountinfo_fallback_sda(tree: Any) -> None:
    _block(tree, "sda", "sda1", 1)
    tree.write(
        "proc/self/mountinfo",
        "22 27 0:21 / /proc rw - proc proc rw\n"
        "27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
        "40 27 0:40 / /data/models rw - tmpfs tmpfs rw\n",
    )
    assert device_from_mountinfo(Path("/home/user/.cache/hwbench"), tree.proc) == "sda1"
    assert device_from_mountinfo(Path("/data/models/x"), tree.proc) is None  # tmpfs: no block device
    assert disk_name("sda1", tree.sys) == "sda"
    assert disk_name("nvme9n9", tree.sys) == "nvme9n9"  # unknown: left as is


def test_rotational_garbage_is_warning(tree: Any, tmp_path: Path) -> None:
    st = os.stat(tmp_path)
    leaf = _block(tree, "sdb", None, 1)
    tree.write(f"{leaf}/queue/rotational", "spinning\n")
    tree.link(f"sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}", leaf)
    tree.write("proc/self/mountinfo", "27 1 8:16 / / rw - ext4 /dev/sdb rw\n")
    disk, warnings = probe_disk(tmp_path, tree.sys, tree.proc)
    assert disk.device == "sdb"
    assert disk.rotational is None
    assert len(warnings) == 1 and "'spinning'" in warnings[0]
