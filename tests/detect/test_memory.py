from __future__ import annotations

from typing import Any

from hwbench.detect.memory import cgroup_memory_limit, parse_meminfo, probe_memory

KIB = 1024
GIB = 1 << 30


def _meminfo(tree: Any) -> None:
    tree.fixture("proc/meminfo", "meminfo_64g")


def test_meminfo_no_cgroup(tree: Any) -> None:
    _meminfo(tree)
    mem, warnings = probe_memory(tree.proc, tree.sys)
    assert warnings == []
    assert mem.total_bytes == 65536000 * KIB
    assert mem.available_bytes == 50000000 * KIB
    assert mem.swap_total_bytes == 8388604 * KIB
    assert mem.swap_free_bytes == 8000000 * KIB
    assert mem.cgroup_limit_bytes is None
    assert mem.effective_bytes == 65536000 * KIB


def test_cgroup_v2_limit(tree: Any) -> None:
    _meminfo(tree)
    tree.write("proc/self/cgroup", "0::/system.slice/docker-abc.scope\n")
    tree.write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n")
    tree.write("sys/fs/cgroup/system.slice/memory.max", "max\n")
    tree.write("sys/fs/cgroup/system.slice/docker-abc.scope/memory.max", f"{16 * GIB}\n")
    mem, warnings = probe_memory(tree.proc, tree.sys)
    assert warnings == []
    assert mem.cgroup_limit_bytes == 16 * GIB
    assert mem.effective_bytes == 16 * GIB
    assert mem.available_bytes == 16 * GIB  # capped by the limit
    assert mem.total_bytes == 65536000 * KIB


def test_cgroup_v2_parent_limit_is_tighter(tree: Any) -> None:
    _meminfo(tree)
    tree.write("proc/self/cgroup", "0::/user.slice/user-1000.slice/session-2.scope\n")
    tree.write("sys/fs/cgroup/cgroup.controllers", "memory\n")
    tree.write("sys/fs/cgroup/user.slice/memory.max", f"{8 * GIB}\n")
    tree.write("sys/fs/cgroup/user.slice/user-1000.slice/memory.max", "max\n")
    tree.write("sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/memory.max", f"{32 * GIB}\n")
    limit, warnings = cgroup_memory_limit(tree.proc, tree.sys)
    assert limit == 8 * GIB
    assert warnings == []


def test_cgroup_v2_namespace_root(tree: Any) -> None:
    """Inside a container's cgroup namespace /proc/self/cgroup says '/', the mount is the container's cgroup."""
    _meminfo(tree)
    tree.write("proc/self/cgroup", "0::/\n")
    tree.write("sys/fs/cgroup/cgroup.controllers", "memory\n")
    tree.write("sys/fs/cgroup/memory.max", "4294967296\n")
    mem, _ = probe_memory(tree.proc, tree.sys)
    assert mem.cgroup_limit_bytes == 4 * GIB
    assert mem.effective_bytes == 4 * GIB


def test_cgroup_v1_limit(tree: Any) -> None:
    _meminfo(tree)
    tree.write("proc/self/cgroup", "12:pids:/docker/abc\n4:memory:/docker/abc\n1:name=systemd:/docker/abc\n0::/\n")
    tree.write("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n")
    tree.write("sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", f"{2 * GIB}\n")
    mem, warnings = probe_memory(tree.proc, tree.sys)
    assert warnings == []
    assert mem.cgroup_limit_bytes == 2 * GIB
    assert mem.effective_bytes == 2 * GIB


def test_cgroup_v1_unlimited_sentinel(tree: Any) -> None:
    _meminfo(tree)
    tree.write("proc/self/cgroup", "4:memory:/process_api/xyz\n")
    tree.write("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n")
    tree.write("sys/fs/cgroup/memory/process_api/xyz/memory.limit_in_bytes", "9223372036854771712\n")
    mem, _ = probe_memory(tree.proc, tree.sys)
    assert mem.cgroup_limit_bytes is None
    assert mem.effective_bytes == 65536000 * KIB


def test_cgroup_v1_path_not_mounted_uses_mount_root(tree: Any) -> None:
    _meminfo(tree)
    tree.write("proc/self/cgroup", "4:memory:/kubepods/burstable/pod1/ctr\n")
    tree.write("sys/fs/cgroup/memory/memory.limit_in_bytes", f"{3 * GIB}\n")
    mem, _ = probe_memory(tree.proc, tree.sys)
    assert mem.cgroup_limit_bytes == 3 * GIB


def test_hybrid_unified_mount(tree: Any) -> None:
    _meminfo(tree)
    tree.write("proc/self/cgroup", "0::/app\n")
    tree.write("sys/fs/cgroup/unified/cgroup.controllers", "")
    tree.write("sys/fs/cgroup/unified/app/memory.max", f"{GIB}\n")
    mem, _ = probe_memory(tree.proc, tree.sys)
    assert mem.cgroup_limit_bytes == GIB


def test_limit_above_ram(tree: Any) -> None:
    _meminfo(tree)
    tree.write("proc/self/cgroup", "0::/big\n")
    tree.write("sys/fs/cgroup/cgroup.controllers", "memory\n")
    tree.write("sys/fs/cgroup/big/memory.max", f"{1024 * GIB}\n")
    mem, _ = probe_memory(tree.proc, tree.sys)
    assert mem.cgroup_limit_bytes == 1024 * GIB
    assert mem.effective_bytes == 65536000 * KIB


def test_garbage_limit_is_warning(tree: Any) -> None:
    _meminfo(tree)
    tree.write("proc/self/cgroup", "0::/x\n")
    tree.write("sys/fs/cgroup/cgroup.controllers", "memory\n")
    tree.write("sys/fs/cgroup/x/memory.max", "lots\n")
    mem, warnings = probe_memory(tree.proc, tree.sys)
    assert mem.cgroup_limit_bytes is None
    assert len(warnings) == 1 and "'lots'" in warnings[0]


def test_missing_meminfo(tree: Any) -> None:
    mem, warnings = probe_memory(tree.proc, tree.sys)
    assert mem.total_bytes is None and mem.effective_bytes is None
    assert warnings == []


def test_garbage_meminfo(tree: Any) -> None:
    tree.write("proc/meminfo", "hello world\n\x00\x01garbage\n")
    mem, warnings = probe_memory(tree.proc, tree.sys)
    assert mem.total_bytes is None
    assert any("no MemTotal" in w for w in warnings)


def test_old_kernel_without_memavailable() -> None:
    info = parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 50 kB\nHugePages_Total: 0\n")
    assert info == {"MemTotal": 1024000, "MemFree": 102400, "Buffers": 10240, "Cached": 51200, "HugePages_Total": 0}
