"""Virtualization: hypervisor flag, container markers, and the cloud from DMI strings."""

from __future__ import annotations

from pathlib import Path

from hwbench.detect._util import exists, read_text
from hwbench.schema import VirtInfo

AZURE_ASSET_TAG = "7783-7084-3265-9085-8269-3286-77"
_CONTAINER_CGROUP_MARKERS = ("docker", "kubepods", "containerd", "lxc", "libpod", "crio")

# (field, substring (lower case), label); first match wins. Fields: sys_vendor, product_name,
# bios_vendor, bios_version, board_vendor, chassis_asset_tag.
_CLOUD_RULES: tuple[tuple[str, str, str], ...] = (
    ("chassis_asset_tag", AZURE_ASSET_TAG, "Microsoft Azure"),
    ("chassis_asset_tag", "oraclecloud.com", "Oracle Cloud"),
    ("sys_vendor", "amazon ec2", "Amazon EC2"),
    ("bios_vendor", "amazon ec2", "Amazon EC2"),
    ("bios_version", "amazon", "Amazon EC2"),  # older Xen-based instances
    ("product_name", "google compute engine", "Google Compute Engine"),
    ("sys_vendor", "google", "Google Compute Engine"),
    ("sys_vendor", "hetzner", "Hetzner"),
    ("sys_vendor", "digitalocean", "DigitalOcean"),
    ("sys_vendor", "ovh", "OVHcloud"),
    ("board_vendor", "ovh", "OVHcloud"),
    ("sys_vendor", "alibaba", "Alibaba Cloud"),
    ("product_name", "alibaba cloud", "Alibaba Cloud"),
    ("sys_vendor", "scaleway", "Scaleway"),
    ("product_name", "scw-", "Scaleway"),
    ("sys_vendor", "vultr", "Vultr"),
    ("sys_vendor", "linode", "Linode/Akamai"),
    ("sys_vendor", "akamai", "Linode/Akamai"),
    ("sys_vendor", "openstack", "OpenStack"),
    ("product_name", "openstack", "OpenStack"),
    ("sys_vendor", "vmware", "VMware"),
    ("sys_vendor", "innotek", "VirtualBox"),
    ("product_name", "virtualbox", "VirtualBox"),
    ("sys_vendor", "xen", "Xen"),
    ("sys_vendor", "qemu", "QEMU/KVM"),
    ("product_name", "kvm", "QEMU/KVM"),
    ("bios_vendor", "seabios", "QEMU/KVM"),
)


def cloud_from_dmi(dmi: dict[str, str]) -> str | None:
    """The cloud / hypervisor label for a set of DMI strings, or None for bare metal / unknown."""
    low = {k: v.lower() for k, v in dmi.items() if v}
    for field, needle, label in _CLOUD_RULES:
        if needle in low.get(field, ""):
            return label
    if "microsoft" in low.get("sys_vendor", "") and "virtual machine" in low.get("product_name", ""):
        return "Microsoft Hyper-V"  # Azure VMs also carry the Azure asset tag, matched above
    return None


def probe_virt(proc_root: str = "/proc", sys_root: str = "/sys", root: str = "/") -> tuple[VirtInfo, list[str]]:
    """Hypervisor / container / cloud. ``root`` is where /.dockerenv and /run/.containerenv live."""
    warnings: list[str] = []
    dmi_dir = Path(sys_root) / "class" / "dmi" / "id"
    dmi: dict[str, str] = {}
    for name in ("sys_vendor", "product_name", "bios_vendor", "bios_version", "board_vendor", "chassis_asset_tag"):
        value = read_text(dmi_dir / name)  # product_serial etc. are root-only; these are world-readable
        if value:
            dmi[name] = value

    hypervisor: bool | None = None
    cpuinfo = read_text(Path(proc_root) / "cpuinfo", warnings)
    if cpuinfo:
        for line in cpuinfo.splitlines():
            if line.startswith("flags"):
                hypervisor = "hypervisor" in line.split(":", 1)[-1].split()
                break
    if read_text(Path(sys_root) / "hypervisor" / "type"):
        hypervisor = True

    container = exists(Path(root) / ".dockerenv") or exists(Path(root) / "run" / ".containerenv")
    cgroup = read_text(Path(proc_root) / "self" / "cgroup") or ""
    if any(m in cgroup for m in _CONTAINER_CGROUP_MARKERS):
        container = True
    if not container:
        env = read_text(Path(proc_root) / "1" / "environ")  # usually root-only; best effort
        if env and "container=" in env:
            container = True

    cloud = cloud_from_dmi(dmi)
    if hypervisor is None and cloud is not None and cloud not in ("Amazon EC2",):
        hypervisor = True  # DMI says virtual machine even where cpuinfo has no flags line (arm64)
    return (
        VirtInfo(
            hypervisor=hypervisor,
            container=container,
            sys_vendor=dmi.get("sys_vendor"),
            product_name=dmi.get("product_name"),
            cloud=cloud,
        ),
        warnings,
    )
