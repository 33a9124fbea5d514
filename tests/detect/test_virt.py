from __future__ import annotations

from typing import Any

import pytest

from hwbench.detect.virt import AZURE_ASSET_TAG, cloud_from_dmi, probe_virt


def _dmi(tree: Any, **fields: str) -> None:
    for k, v in fields.items():
        tree.write(f"sys/class/dmi/id/{k}", v + "\n")


def test_bare_metal(tree: Any) -> None:
    tree.write("proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu avx2\n")
    tree.write("proc/self/cgroup", "0::/user.slice/user-1000.slice/session-3.scope\n")
    _dmi(tree, sys_vendor="ASUS", product_name="System Product Name", bios_vendor="American Megatrends Inc.")
    virt, warnings = probe_virt(tree.proc, tree.sys, tree.root)
    assert warnings == []
    assert virt.hypervisor is False
    assert virt.container is False
    assert virt.cloud is None
    assert (virt.sys_vendor, virt.product_name) == ("ASUS", "System Product Name")


def test_ec2(tree: Any) -> None:
    tree.write("proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu hypervisor avx2\n")
    _dmi(tree, sys_vendor="Amazon EC2", product_name="g5.xlarge", bios_vendor="Amazon EC2")
    virt, _ = probe_virt(tree.proc, tree.sys, tree.root)
    assert virt.cloud == "Amazon EC2"
    assert virt.hypervisor is True
    assert virt.product_name == "g5.xlarge"


def test_gce(tree: Any) -> None:
    _dmi(tree, sys_vendor="Google", product_name="Google Compute Engine", bios_vendor="Google")
    virt, _ = probe_virt(tree.proc, tree.sys, tree.root)
    assert virt.cloud == "Google Compute Engine"
    assert virt.hypervisor is True  # no cpuinfo flags line here: inferred from DMI


def test_hetzner(tree: Any) -> None:
    tree.write("proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu hypervisor\n")
    _dmi(tree, sys_vendor="Hetzner", product_name="vServer", bios_vendor="Hetzner")
    virt, _ = probe_virt(tree.proc, tree.sys, tree.root)
    assert virt.cloud == "Hetzner"


@pytest.mark.parametrize(
    ("dmi", "label"),
    [
        (
            {"sys_vendor": "Microsoft Corporation", "product_name": "Virtual Machine", "chassis_asset_tag": AZURE_ASSET_TAG},
            "Microsoft Azure",
        ),
        ({"sys_vendor": "Microsoft Corporation", "product_name": "Virtual Machine"}, "Microsoft Hyper-V"),
        (
            {"sys_vendor": "QEMU", "product_name": "Standard PC (i440FX + PIIX, 1996)", "chassis_asset_tag": "OracleCloud.com"},
            "Oracle Cloud",
        ),
        ({"sys_vendor": "DigitalOcean", "product_name": "Droplet"}, "DigitalOcean"),
        ({"sys_vendor": "OVH SAS", "product_name": "x"}, "OVHcloud"),
        ({"sys_vendor": "Alibaba Cloud", "product_name": "Alibaba Cloud ECS"}, "Alibaba Cloud"),
        ({"sys_vendor": "Scaleway", "product_name": "SCW-GPU-L4-1-24G"}, "Scaleway"),
        ({"sys_vendor": "Vultr", "product_name": "VC2"}, "Vultr"),
        ({"sys_vendor": "Linode", "product_name": "Compute Instance"}, "Linode/Akamai"),
        ({"sys_vendor": "Xen", "product_name": "HVM domU", "bios_version": "4.11.amazon"}, "Amazon EC2"),
        ({"sys_vendor": "QEMU", "product_name": "Standard PC (Q35 + ICH9, 2009)"}, "QEMU/KVM"),
        ({"sys_vendor": "Dell Inc.", "product_name": "PowerEdge R760xa"}, None),
    ],
)
def test_cloud_labels(dmi: dict[str, str], label: str | None) -> None:
    assert cloud_from_dmi(dmi) == label


def test_docker_container(tree: Any) -> None:
    tree.write("root/.dockerenv", "")
    virt, _ = probe_virt(tree.proc, tree.sys, tree.root)
    assert virt.container is True
    assert virt.hypervisor is None  # nothing says either way


def test_podman_container(tree: Any) -> None:
    tree.write("root/run/.containerenv", 'engine="podman-4.9"\n')
    virt, _ = probe_virt(tree.proc, tree.sys, tree.root)
    assert virt.container is True


def test_kubernetes_cgroup(tree: Any) -> None:
    tree.write("proc/self/cgroup", "0::/kubepods.slice/kubepods-burstable.slice/cri-containerd-abc.scope\n")
    virt, _ = probe_virt(tree.proc, tree.sys, tree.root)
    assert virt.container is True


def test_xen_hypervisor_type(tree: Any) -> None:
    tree.write("sys/hypervisor/type", "xen\n")
    virt, _ = probe_virt(tree.proc, tree.sys, tree.root)
    assert virt.hypervisor is True
