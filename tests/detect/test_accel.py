from __future__ import annotations

from typing import Any

from hwbench.detect.accel import probe_accelerators, probe_jetson

GIB = 1 << 30


def _accel_node(tree: Any, n: int, bdf: str, vendor: int, device: int, driver: str) -> None:
    rel = tree.pci_device(bdf, vendor, device, 0x120000, driver=driver)
    tree.link(f"sys/class/accel/accel{n}", f"{rel}/accel/accel{n}")
    tree.link(f"{rel}/accel/accel{n}/device", rel)


def test_nothing(tree: Any) -> None:
    assert probe_accelerators(tree.sys, tree.dev, tree.proc) == ([], [])


def test_intel_npu(tree: Any) -> None:
    _accel_node(tree, 0, "0000:00:0b.0", 0x8086, 0x7D1D, "intel_vpu")
    found, warnings = probe_accelerators(tree.sys, tree.dev, tree.proc)
    assert warnings == []
    (a,) = found
    assert (a.kind, a.vendor, a.name, a.driver, a.path) == ("npu", "Intel", "Intel NPU (Meteor Lake)", "intel_vpu", "/dev/accel/accel0")
    assert a.usable_by_llamacpp is False and a.usable_by_torch is False
    assert a.note is not None and "OpenVINO" in a.note and "cannot run a GGUF LLM" in a.note


def test_amd_xdna(tree: Any) -> None:
    _accel_node(tree, 0, "0000:c5:00.1", 0x1022, 0x17F0, "amdxdna")
    (a,), _ = probe_accelerators(tree.sys, tree.dev, tree.proc)
    assert (a.vendor, a.name, a.driver) == ("AMD", "AMD XDNA 2 NPU (Strix)", "amdxdna")
    assert a.usable_by_llamacpp is False
    assert a.note is not None and "Ryzen AI" in a.note


def test_coral_pcie_and_usb(tree: Any) -> None:
    tree.write("dev/apex_0", "")
    tree.write("sys/bus/usb/devices/2-1/idVendor", "18d1\n")
    tree.write("sys/bus/usb/devices/2-1/idProduct", "9302\n")
    tree.write("sys/bus/usb/devices/1-1/idVendor", "046d\n")  # a mouse
    tree.write("sys/bus/usb/devices/1-1/idProduct", "c077\n")
    found, _ = probe_accelerators(tree.sys, tree.dev, tree.proc)
    assert [(a.kind, a.name, a.path) for a in found] == [
        ("edge_tpu", "Coral Edge TPU (PCIe/M.2)", "/dev/apex_0"),
        ("edge_tpu", "Coral USB Accelerator (Edge TPU)", "usb 2-1"),
    ]
    assert all(not a.usable_by_llamacpp and not a.usable_by_torch for a in found)


def test_coral_usb_unprogrammed_id(tree: Any) -> None:
    tree.write("sys/bus/usb/devices/3-2/idVendor", "1a6e\n")
    tree.write("sys/bus/usb/devices/3-2/idProduct", "089a\n")
    (a,), _ = probe_accelerators(tree.sys, tree.dev, tree.proc)
    assert a.name == "Coral USB Accelerator (Edge TPU)"


def test_hailo(tree: Any) -> None:
    tree.write("dev/hailo0", "")
    (a,), _ = probe_accelerators(tree.sys, tree.dev, tree.proc)
    assert (a.vendor, a.path, a.usable_by_llamacpp) == ("Hailo", "/dev/hailo0", False)
    assert a.note is not None and "HailoRT" in a.note


def test_tpu_vm_v5e(tree: Any) -> None:
    for i in range(4):
        tree.pci_device(f"0000:00:0{i + 4}.0", 0x1AE0, 0x0063, 0x120000, driver="vfio-pci")
    tree.pci_device("0000:00:03.0", 0x1AE0, 0x0042, 0x020000, driver="gve")  # gVNIC, not a TPU
    (a,), _ = probe_accelerators(tree.sys, tree.dev, tree.proc)
    assert (a.kind, a.vendor, a.name) == ("tpu", "Google", "Cloud TPU v5e x4")
    assert a.usable_by_torch is True and a.usable_by_llamacpp is False
    assert a.note is not None and "torch_xla" in a.note


def test_tpu_v3_by_subsystem(tree: Any) -> None:
    tree.pci_device("0000:00:04.0", 0x1AE0, 0x0027, 0x120000, files={"subsystem_device": "0x004f\n"})
    (a,), _ = probe_accelerators(tree.sys, tree.dev, tree.proc)
    assert a.name == "Cloud TPU v3"


def test_rknpu_debugfs_and_device_tree(tree: Any) -> None:
    tree.write("proc/device-tree/npu@fdab0000/compatible", b"rockchip,rk3588-rknpu\x00")
    (a,), _ = probe_accelerators(tree.sys, tree.dev, tree.proc)
    assert (a.vendor, a.name, a.usable_by_llamacpp) == ("Rockchip", "Rockchip RKNPU", False)
    assert a.note is not None and "RKLLM" in a.note


def test_qualcomm_fastrpc(tree: Any) -> None:
    tree.write("dev/fastrpc-cdsp", "")
    tree.write("dev/fastrpc-adsp", "")
    (a,), _ = probe_accelerators(tree.sys, tree.dev, tree.proc)
    assert a.vendor == "Qualcomm"
    assert a.path == "/dev/fastrpc-adsp, /dev/fastrpc-cdsp"
    assert a.usable_by_llamacpp is False


def test_ascend_is_usable(tree: Any) -> None:
    for n in ("davinci0", "davinci1", "davinci_manager"):
        tree.write(f"dev/{n}", "")
    (a,), _ = probe_accelerators(tree.sys, tree.dev, tree.proc)
    assert a.name == "Huawei Ascend NPU x2"
    assert a.usable_by_llamacpp is True and a.usable_by_torch is True


def test_garbage_accel_vendor_file(tree: Any) -> None:
    _accel_node(tree, 0, "0000:00:0b.0", 0x8086, 0x7D1D, "intel_vpu")
    tree.write("sys/devices/pci0000:00/0000:00:0b.0/vendor", "\xff\xfe\n")
    found, warnings = probe_accelerators(tree.sys, tree.dev, tree.proc)
    assert [a.name for a in found] == ["Intel NPU (Meteor Lake)"]  # the driver link still identifies it
    assert len(warnings) == 1 and "unexpected content" in warnings[0]


def test_jetson_orin(tree: Any) -> None:
    tree.fixture("etc/nv_tegra_release", "nv_tegra_release_r36")
    tree.write("proc/device-tree/model", b"NVIDIA Jetson AGX Orin Developer Kit\x00")
    gpus, warnings = probe_jetson(tree.proc, tree.etc, tree.sys, ram_bytes=64 * GIB)
    assert warnings == []
    (g,) = gpus
    assert g.vendor == "NVIDIA"
    assert g.name == "NVIDIA Jetson AGX Orin Developer Kit (integrated GPU)"
    assert g.backend == "cuda"
    assert g.unified_memory is True
    assert g.memory_total_bytes == 64 * GIB
    assert g.compute_capability == "8.7"
    assert g.driver_version == "L4T R36.3.0"


def test_jetson_model_only(tree: Any) -> None:
    tree.write("sys/firmware/devicetree/base/model", b"NVIDIA Jetson Xavier NX Developer Kit\x00")
    gpus, _ = probe_jetson(tree.proc, tree.etc, tree.sys)
    assert gpus[0].compute_capability == "7.2"
    assert gpus[0].memory_total_bytes is None


def test_not_a_jetson(tree: Any) -> None:
    tree.write("proc/device-tree/model", b"Raspberry Pi 5 Model B Rev 1.0\x00")
    assert probe_jetson(tree.proc, tree.etc, tree.sys, ram_bytes=8 * GIB) == ([], [])
