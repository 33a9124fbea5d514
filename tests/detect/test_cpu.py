from __future__ import annotations

from typing import Any

from hwbench.detect.cpu import probe_cpu, select_flags


def _xeon(tree: Any) -> None:
    tree.fixture("proc/cpuinfo", "cpuinfo_xeon_spr")
    tree.cpu_topology([(0, 0), (0, 0), (0, 1), (0, 1), (1, 0), (1, 0), (1, 1), (1, 1)])
    tree.cpu_caches([(1, "Data", "48K"), (1, "Instruction", "32K"), (2, "Unified", "2048K"), (3, "Unified", "107520K")])
    tree.write("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "3800000\n")
    tree.write("sys/devices/system/cpu/cpu0/cpufreq/base_frequency", "2000000\n")
    tree.write("sys/devices/system/node/node0/cpulist", "0-3\n")
    tree.write("sys/devices/system/node/node1/cpulist", "4-7\n")
    tree.write("sys/devices/system/node/possible", "0-1\n")


def test_x86_xeon_sapphire_rapids(tree: Any) -> None:
    _xeon(tree)
    cpu, warnings = probe_cpu(tree.proc, tree.sys, arch="x86_64")
    assert warnings == []
    assert cpu.vendor == "GenuineIntel"
    assert cpu.model == "Intel(R) Xeon(R) Platinum 8480+ @ 2.00GHz"
    assert cpu.arch == "x86_64"
    assert (cpu.physical_cores, cpu.logical_cores, cpu.sockets) == (4, 8, 2)
    assert cpu.base_mhz == 2000.0
    assert cpu.max_mhz == 3800.0
    assert cpu.l2_cache_bytes == 2 * 1024 * 1024
    assert cpu.l3_cache_bytes == 105 * 1024 * 1024
    assert cpu.numa_nodes == 2
    assert cpu.flags == [
        "sse3",
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
    ]


def test_x86_topology_from_cpuinfo_when_sysfs_missing(tree: Any) -> None:
    tree.fixture("proc/cpuinfo", "cpuinfo_xeon_spr")
    cpu, warnings = probe_cpu(tree.proc, tree.sys, arch="x86_64")
    assert warnings == []
    assert (cpu.physical_cores, cpu.logical_cores, cpu.sockets) == (4, 8, 2)
    assert cpu.base_mhz == 2000.0  # from the model name's "@ 2.00GHz"
    assert cpu.max_mhz is None
    assert cpu.l2_cache_bytes is None and cpu.numa_nodes is None


def test_arm_grace(tree: Any) -> None:
    tree.fixture("proc/cpuinfo", "cpuinfo_grace_arm64")
    tree.cpu_topology([(0, 0), (0, 1), (0, 2), (0, 3)])
    tree.cpu_caches([(1, "Data", "64K"), (1, "Instruction", "64K"), (2, "Unified", "1024K"), (3, "Unified", "114M")])
    cpu, warnings = probe_cpu(tree.proc, tree.sys, arch="aarch64")
    assert warnings == []
    assert cpu.vendor == "ARM"
    assert cpu.model == "Neoverse-V2"
    assert (cpu.physical_cores, cpu.logical_cores, cpu.sockets) == (4, 4, 1)
    assert cpu.flags == ["neon", "asimd", "asimddp", "asimdhp", "fphp", "i8mm", "bf16", "sve", "sve2"]
    assert cpu.l3_cache_bytes == 114 * 1024 * 1024


def test_raspberry_pi_model_from_board_block(tree: Any) -> None:
    tree.fixture("proc/cpuinfo", "cpuinfo_rpi4")
    cpu, _ = probe_cpu(tree.proc, tree.sys, arch="aarch64")
    assert cpu.model == "Raspberry Pi 4 Model B Rev 1.4"
    assert cpu.vendor == "ARM"
    assert cpu.logical_cores == 4
    assert cpu.flags == ["neon", "asimd"]


def test_arm_model_from_device_tree(tree: Any) -> None:
    tree.write("proc/cpuinfo", "processor\t: 0\nFeatures\t: fp asimd\nCPU implementer\t: 0x99\nCPU part\t: 0x001\n")
    tree.write("proc/device-tree/model", b"Radxa ROCK 5B\x00")
    cpu, _ = probe_cpu(tree.proc, tree.sys, arch="aarch64")
    assert cpu.model == "Radxa ROCK 5B"
    assert cpu.vendor == "ARM implementer 0x99"


def test_vm_without_cpufreq_uses_cpu_mhz(tree: Any) -> None:
    tree.write(
        "proc/cpuinfo",
        "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\ncpu MHz\t\t: 2596.118\nflags\t\t: avx avx2 hypervisor\n",
    )
    cpu, _ = probe_cpu(tree.proc, tree.sys, arch="x86_64")
    assert cpu.base_mhz == 2596.1
    assert cpu.flags == ["avx", "avx2"]


def test_garbage_sysfs_becomes_warnings(tree: Any) -> None:
    tree.fixture("proc/cpuinfo", "cpuinfo_xeon_spr")
    tree.write("sys/devices/system/cpu/online", "zero-seven\n")
    tree.write("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "fast\n")
    tree.cpu_caches([(2, "Unified", "lots")])
    (tree.base / "sys/devices/system/cpu/cpu0/cache/index1").mkdir(parents=True)
    tree.write("sys/devices/system/cpu/cpu0/cache/index1/level", "3\n")
    tree.write("sys/devices/system/cpu/cpu0/cache/index1/type", "Unified\n")
    (tree.base / "sys/devices/system/cpu/cpu0/cache/index1/size").mkdir()  # unreadable: a directory
    cpu, warnings = probe_cpu(tree.proc, tree.sys, arch="x86_64")
    assert cpu.logical_cores == 8  # fell back to counting processors
    assert cpu.max_mhz is None and cpu.l2_cache_bytes is None and cpu.l3_cache_bytes is None
    text = "\n".join(warnings)
    assert "zero-seven" in text
    assert "'fast'" in text
    assert "'lots'" in text
    assert "index1/size" in text
    assert len(warnings) == 4


def test_no_proc_cpuinfo(tree: Any, monkeypatch: Any) -> None:
    """A fake tree without cpuinfo: the CPU count is unknown, never the count of the machine running the test."""
    monkeypatch.setattr("hwbench.detect.cpu.os.cpu_count", lambda: 999)
    cpu, warnings = probe_cpu(tree.proc, tree.sys, arch="arm64")
    assert cpu.arch == "arm64"
    assert cpu.logical_cores is None
    assert warnings == []


def test_no_proc_cpuinfo_on_the_live_system_counts_cpus(tree: Any, monkeypatch: Any) -> None:
    """On the real /proc and /sys (macOS, Windows: no cpuinfo), os.cpu_count() is the fallback."""
    monkeypatch.setattr("hwbench.detect.cpu.os.cpu_count", lambda: 999)
    monkeypatch.setattr("hwbench.detect.cpu.is_live", lambda root, live: True)
    cpu, _ = probe_cpu(tree.proc, tree.sys, arch="arm64")
    assert cpu.logical_cores == 999


def test_fake_tree_without_online_or_processors_is_not_the_real_cpu_count(tree: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("hwbench.detect.cpu.os.cpu_count", lambda: 999)
    tree.write("proc/cpuinfo", "Hardware\t: some board\n")
    cpu, _ = probe_cpu(tree.proc, tree.sys, arch="aarch64")
    assert cpu.logical_cores is None


def test_arch_comes_from_the_fake_tree_not_the_machine(tree: Any, monkeypatch: Any) -> None:
    """Without ``arch``, a fake tree's cpuinfo decides it: an ARM tree on an x86 test machine keeps its ARM flags."""
    monkeypatch.setattr("hwbench.detect.cpu.platform.machine", lambda: "x86_64")
    tree.fixture("proc/cpuinfo", "cpuinfo_grace_arm64")
    cpu, _ = probe_cpu(tree.proc, tree.sys)
    assert cpu.arch == "aarch64"
    assert "sve2" in cpu.flags and "neon" in cpu.flags

    monkeypatch.setattr("hwbench.detect.cpu.platform.machine", lambda: "aarch64")
    tree.fixture("proc/cpuinfo", "cpuinfo_xeon_spr")
    cpu, _ = probe_cpu(tree.proc, tree.sys)
    assert cpu.arch == "x86_64"
    assert "amx_int8" in cpu.flags


def test_py_cpuinfo_fallback_only_when_asked(tree: Any, monkeypatch: Any) -> None:
    import cpuinfo

    calls: list[int] = []

    def fake() -> dict[str, Any]:
        calls.append(1)
        return {
            "vendor_id_raw": "Apple",
            "brand_raw": "Apple M2 Max",
            "count": 12,
            "flags": ["asimd", "asimddp"],
            "hz_advertised": [3_500_000_000, 0],
            "l2_cache_size": 4194304,
        }

    monkeypatch.setattr(cpuinfo, "get_cpu_info", fake)
    probe_cpu(tree.proc, tree.sys, arch="arm64")
    assert calls == []
    # py-cpuinfo asks the running machine: never for a fake tree, even when allowed
    cpu, _ = probe_cpu(tree.proc, tree.sys, arch="arm64", use_py_cpuinfo=True)
    assert calls == [] and cpu.model is None
    monkeypatch.setattr("hwbench.detect.cpu.is_live", lambda root, live: True)
    cpu, _ = probe_cpu(tree.proc, tree.sys, arch="arm64", use_py_cpuinfo=True)
    assert calls == [1]
    assert cpu.model == "Apple M2 Max"
    assert cpu.logical_cores == 12
    assert cpu.base_mhz == 3500.0
    assert cpu.l2_cache_bytes == 4194304
    assert cpu.flags == ["neon", "asimd", "asimddp"]


def test_select_flags_aliases() -> None:
    assert select_flags({"pni", "ssse3", "avx512_vnni"}, "x86_64") == ["sse3", "ssse3", "avx512_vnni"]
    assert select_flags({"neon", "vfpv4"}, "armv7l") == ["neon"]
