from __future__ import annotations

from rich.console import Console

from hwbench.detect.render import render_host
from hwbench.schema import AcceleratorInfo, CpuInfo, DiskInfo, GpuInfo, HostInfo, MemoryInfo, VirtInfo

GIB = 1 << 30


def test_render_inventory() -> None:
    host = HostInfo(
        hwbench_version="0.1.0",
        os="Linux (Ubuntu 24.04 LTS)",
        cpu=CpuInfo(
            vendor="GenuineIntel",
            model="Xeon 8480+",
            arch="x86_64",
            physical_cores=56,
            logical_cores=112,
            flags=["avx2", "amx_int8"],
            l2_cache_bytes=2 * 2**20,
            l3_cache_bytes=105 * 2**20,
        ),
        memory=MemoryInfo(total_bytes=64 * GIB, available_bytes=50 * GIB, cgroup_limit_bytes=16 * GIB, effective_bytes=16 * GIB),
        disk=DiskInfo(path="/home/u/.cache/hwbench", total_bytes=1000 * GIB, free_bytes=400 * GIB, rotational=False, device="nvme0n1"),
        gpus=[
            GpuInfo(
                index=0,
                vendor="NVIDIA",
                name="NVIDIA GeForce RTX 3090",
                backend="cuda",
                memory_total_bytes=24 * GIB,
                memory_free_bytes=23 * GIB,
                driver_version="550.54.14",
                cuda_version="12.4",
                pcie_gen=4,
                pcie_width=16,
                compute_capability="8.6",
            )
        ],
        accelerators=[AcceleratorInfo(kind="npu", vendor="Intel", name="Intel NPU (Meteor Lake)", note="needs OpenVINO")],
        virt=VirtInfo(hypervisor=True, container=False, cloud="Hetzner"),
        warnings=["no NVIDIA driver [sic]"],
    )
    console = Console(record=True, width=200, color_system=None)
    render_host(host, console)
    text = console.export_text()
    for expected in (
        "Xeon 8480+",
        "56 physical / 112 logical",
        "avx2 amx_int8",
        "L2 2 MiB, L3 105 MiB",
        "64.0 GiB total",
        "16.0 GiB",
        "400.0 GiB free of 1000.0 GiB",
        "nvme0n1, solid state",
        "NVIDIA GeForce RTX 3090",
        "24.0 GiB (23.0 GiB free)",
        "550.54.14 (CUDA 12.4)",
        "PCIe 4 x16",
        "usable by llama.cpp?",
        "Intel NPU (Meteor Lake)",
        "Hetzner",
        "no NVIDIA driver [sic]",
    ):
        assert expected in text, expected


def test_render_empty_host() -> None:
    console = Console(record=True, width=120, color_system=None)
    render_host(HostInfo(), console)
    text = console.export_text()
    assert "no GPU found" in text
    assert "Accelerators" not in text


def test_render_virtual_disk_type_unknown() -> None:
    host = HostInfo(disk=DiskInfo(path="/root", total_bytes=100 * GIB, free_bytes=50 * GIB, device="vda", virtual_disk="virtio-blk"))
    console = Console(record=True, width=200, color_system=None)
    render_host(host, console)
    text = console.export_text()
    assert "vda, virtual disk (type unknown; virtio-blk)" in text
    assert "rotational" not in text and "solid state" not in text
