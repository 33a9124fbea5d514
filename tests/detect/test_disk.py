from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from hwbench.detect.disk import device_from_mountinfo, disk_name, probe_disk, virtual_disk


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


# ----------------------------------------------------------------------------- virtual disks
# Each tree is built from what the kernel shows on that kind of machine; the disk's rotational flag is
# set to the value its driver reports by default (virtio-blk: 1, NVMe: 0), which must not be believed.


def _disk_on(tree: Any, tmp_path: Path, disk: str, device_rel: str, rotational: int, files: dict[str, str], driver: str | None = None) -> None:
    """/sys/block/<disk> whose device/ is ``device_rel`` (with ``files`` and a driver link); tmp_path lies on it."""
    disk_rel = f"{device_rel}/block/{disk}"
    tree.write(f"{disk_rel}/queue/rotational", f"{rotational}\n")
    tree.link(f"sys/block/{disk}", disk_rel)
    tree.link(f"sys/class/block/{disk}", disk_rel)
    tree.link(f"{disk_rel}/device", device_rel)
    for name, text in files.items():
        tree.write(f"{device_rel}/{name}", text)
    if driver:
        tree.link(f"{device_rel}/driver", f"sys/bus/x/drivers/{driver}")
    st = os.stat(tmp_path)
    if os.major(st.st_dev) != 0:
        tree.link(f"sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}", disk_rel)
    tree.write("proc/self/mountinfo", f"27 1 252:1 / / rw - ext4 /dev/{disk} rw\n")


VIRTUAL_CASES = {
    # name: (disk, device folder under sys/devices, rotational flag, attribute files, driver, expected label)
    "kvm virtio-blk": ("vda", "sys/devices/pci0000:00/0000:00:04.0/virtio2", 1, {}, "virtio_blk", "virtio-blk"),
    "xen pv": ("xvda", "sys/devices/vbd-51712", 1, {}, "vbd", "Xen virtual block device"),
    "gce virtio-scsi": (
        "sda",
        "sys/devices/pci0000:00/0000:00:03.0/virtio0/host0/target0:0:1/0:0:1:0",
        1,
        {"vendor": "Google  \n", "model": "PersistentDisk  \n"},
        "sd",
        "Google Persistent Disk",
    ),
    "virtio-scsi, unknown vendor": (
        "sdc",
        "sys/devices/pci0000:00/0000:00:05.0/virtio3/host1/target1:0:0/1:0:0:0",
        1,
        {"vendor": "ACME    \n", "model": "VOL-7           \n"},
        "sd",
        "virtio-scsi",
    ),
    "hyper-v storvsc": (
        "sdb",
        "sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00/f8b3781b-1e82-4818-a1c3-63d806ec15bb/host0/target0:0:0/0:0:0:0",
        1,
        {"vendor": "Msft    \n", "model": "Virtual Disk    \n"},
        "sd",
        "Hyper-V",
    ),
    "hyper-v bus only": (
        "sdd",
        "sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00/00000000-0001-8899-0000-000000000000/host3/target3:0:0/3:0:0:0",
        1,
        {},
        "sd",
        "Hyper-V",
    ),
    "vmware pvscsi": (
        "sda",
        "sys/devices/pci0000:00/0000:00:15.0/0000:03:00.0/host2/target2:0:0/2:0:0:0",
        1,
        {"vendor": "VMware  \n", "model": "Virtual disk    \n"},
        "sd",
        "VMware",
    ),
    "qemu emulated sata": (
        "sda",
        "sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0",
        1,
        {"vendor": "ATA     \n", "model": "QEMU HARDDISK   \n"},
        "sd",
        "QEMU",
    ),
    "aws ebs nvme": (
        "nvme1n1",
        "sys/devices/pci0000:00/0000:00:1f.0/nvme/nvme1",
        0,
        {"model": "Amazon Elastic Block Store              \n"},
        None,
        "Amazon EBS",
    ),
}


@pytest.mark.parametrize("case", list(VIRTUAL_CASES))
def test_virtual_disk_type_is_unknown(case: str, tree: Any, tmp_path: Path) -> None:
    disk_dev, device_rel, rot, files, driver, label = VIRTUAL_CASES[case]
    _disk_on(tree, tmp_path, disk_dev, device_rel, rot, files, driver)
    assert virtual_disk(disk_dev, tree.sys) == label
    disk, warnings = probe_disk(tmp_path, tree.sys, tree.proc)
    assert warnings == []
    assert disk.device == disk_dev
    assert disk.virtual_disk == label
    assert disk.rotational is None  # the driver's default, not a fact about the disk


REAL_CASES = {
    "sata hdd": ("sda", "sys/devices/pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0", 1,
                 {"vendor": "ATA     \n", "model": "WDC WD40EFRX-68N\n"}, "sd", True),
    "nvme ssd": ("nvme0n1", "sys/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0", 0,
                 {"model": "Samsung SSD 980 PRO 2TB\n"}, None, False),
    "aws instance store": ("nvme1n1", "sys/devices/pci0000:00/0000:00:1e.0/nvme/nvme1", 0,
                           {"model": "Amazon EC2 NVMe Instance Storage\n"}, None, False),
}


@pytest.mark.parametrize("case", list(REAL_CASES))
def test_real_disk_keeps_its_rotational_flag(case: str, tree: Any, tmp_path: Path) -> None:
    disk_dev, device_rel, rot, files, driver, rotational = REAL_CASES[case]
    _disk_on(tree, tmp_path, disk_dev, device_rel, rot, files, driver)
    disk, warnings = probe_disk(tmp_path, tree.sys, tree.proc)
    assert warnings == []
    assert disk.virtual_disk is None
    assert disk.rotational is rotational


def test_virtual_disk_ignores_where_the_fake_tree_lives(tree: Any, tmp_path: Path) -> None:
    """A tree stored under a folder named like a virtio bus is still read only below its sys root."""
    tree = type(tree)(tmp_path / "virtio0" / "vmbus")
    _disk_on(tree, tmp_path, "sda", "sys/devices/pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0", 1, {"vendor": "ATA\n"}, "sd")
    assert virtual_disk("sda", tree.sys) is None
