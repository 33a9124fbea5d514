"""Human-readable inventory for ``hwbench detect`` (rich tables)."""

from __future__ import annotations

from typing import Any

from hwbench.schema import HostInfo


def _gib(n: int | None) -> str:
    return f"{n / 2**30:.1f} GiB" if n is not None else "?"


def _yn(v: bool | None) -> str:
    return "?" if v is None else ("yes" if v else "no")


def render_host(host: HostInfo, console: Any) -> None:
    """Print ``host`` as tables on a rich ``Console``."""
    from rich.table import Table

    c = host.cpu
    t = Table(title="CPU", show_header=False, title_justify="left")
    t.add_column("field", style="bold")
    t.add_column("value")
    t.add_row("model", f"{c.model or '?'} ({c.vendor or '?'}, {c.arch or '?'})")
    t.add_row(
        "cores",
        f"{c.physical_cores or '?'} physical / {c.logical_cores or '?'} logical, "
        f"{c.sockets or '?'} socket(s), {c.numa_nodes or '?'} NUMA node(s)",
    )
    clocks = []
    if c.base_mhz:
        clocks.append(f"base {c.base_mhz:.0f} MHz")
    if c.max_mhz:
        clocks.append(f"max {c.max_mhz:.0f} MHz")
    t.add_row("clock", ", ".join(clocks) or "?")
    t.add_row("cache", f"L2 {_kib(c.l2_cache_bytes)}, L3 {_kib(c.l3_cache_bytes)} (as seen by cpu0)")
    t.add_row("ISA (llama.cpp)", " ".join(c.flags) or "none detected")
    console.print(t)

    m = host.memory
    t = Table(title="Memory", show_header=False, title_justify="left")
    t.add_column("field", style="bold")
    t.add_column("value")
    t.add_row("RAM", f"{_gib(m.total_bytes)} total, {_gib(m.available_bytes)} available")
    t.add_row("swap", f"{_gib(m.swap_total_bytes)} total, {_gib(m.swap_free_bytes)} free")
    t.add_row("cgroup limit", _gib(m.cgroup_limit_bytes) if m.cgroup_limit_bytes else "none")
    t.add_row("usable by a process", _gib(m.effective_bytes))
    console.print(t)

    if host.disk is not None:
        d = host.disk
        t = Table(title="Disk", show_header=False, title_justify="left")
        t.add_column("field", style="bold")
        t.add_column("value")
        t.add_row("path", d.path)
        t.add_row("space", f"{_gib(d.free_bytes)} free of {_gib(d.total_bytes)}")
        if d.virtual_disk:
            kind = f"virtual disk (type unknown; {d.virtual_disk})"  # the kernel cannot see what backs it
        else:
            kind = {True: "rotational (HDD)", False: "solid state", None: "?"}[d.rotational]
        t.add_row("device", f"{d.device or '?'}, {kind}")
        console.print(t)

    t = Table(title="GPUs", title_justify="left")
    for col in ("#", "vendor", "name", "backend", "memory", "compute", "driver", "link", "notes"):
        t.add_column(col)
    for g in host.gpus:
        mem = _gib(g.memory_total_bytes)
        if g.memory_free_bytes is not None:
            mem += f" ({_gib(g.memory_free_bytes)} free)"
        if g.unified_memory:
            mem += " unified"
        link = []
        if g.pcie_gen:
            link.append(f"PCIe {g.pcie_gen} x{g.pcie_width or '?'}")
        if g.nvlink_links:
            link.append(f"NVLink x{g.nvlink_links}")
        driver = g.driver_version or ""
        if g.cuda_version:
            driver += f" (CUDA {g.cuda_version})"
        notes = list(g.notes)
        if g.mig_enabled:
            notes.insert(0, "MIG on")
        if g.gpu_cores:
            notes.insert(0, f"{g.gpu_cores} GPU cores")
        t.add_row(
            str(g.index),
            g.vendor,
            g.name,
            g.backend or "",
            mem,
            g.compute_capability or "",
            driver,
            ", ".join(link),
            "; ".join(notes),
        )
    if not host.gpus:
        t.add_row("-", "", "no GPU found", "", "", "", "", "", "")
    console.print(t)

    if host.accelerators:
        t = Table(title="Accelerators", title_justify="left")
        for col in ("kind", "vendor", "name", "usable by llama.cpp?", "usable by PyTorch?", "note"):
            t.add_column(col)
        for a in host.accelerators:
            t.add_row(a.kind, a.vendor or "", a.name, _yn(a.usable_by_llamacpp), _yn(a.usable_by_torch), a.note or "")
        console.print(t)

    if host.torch is not None:
        tt = host.torch
        console.print(
            f"[bold]PyTorch[/bold] {tt.version or '?'}: cuda={_yn(tt.cuda)} mps={_yn(tt.mps)} xpu={_yn(tt.xpu)}"
            + (f" — {', '.join(tt.devices)}" if tt.devices else "")
        )

    v = host.virt
    t = Table(title="Virtualization", show_header=False, title_justify="left")
    t.add_column("field", style="bold")
    t.add_column("value")
    t.add_row("hypervisor", _yn(v.hypervisor))
    t.add_row("container", _yn(v.container))
    t.add_row("cloud", v.cloud or "none detected")
    if v.sys_vendor or v.product_name:
        t.add_row("DMI", f"{v.sys_vendor or '?'} / {v.product_name or '?'}")
    console.print(t)

    for n in host.notes:
        console.print(f"[dim]note: {n}[/dim]", highlight=False)
    if host.warnings:
        console.print("[bold yellow]Warnings[/bold yellow]")
        for w in host.warnings:
            console.print(f"  - {w}", markup=False, highlight=False)
    console.print(
        f"[dim]{host.os or '?'}, kernel {host.kernel or '?'}, Python {host.python or '?'}, "
        f"hwbench {host.hwbench_version or '?'}, detected {host.detected_at or '?'}[/dim]"
    )


def _kib(n: int | None) -> str:
    if n is None:
        return "?"
    return f"{n / 2**20:.0f} MiB" if n >= 2**20 else f"{n // 1024} KiB"
