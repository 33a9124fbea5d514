"""Turn a detected inventory (or what-if flags) into the HardwareTarget the estimator takes.

Every figure carries where it came from: detected, profile (with source), measured
(calibration), assumed, or given by the user.
"""

from __future__ import annotations

from hwbench import assumptions as A
from hwbench.calibration import Calibration
from hwbench.errors import BadInput
from hwbench.probe import Probe
from hwbench.profiles import GpuProfile, find_gpu, match_gpu
from hwbench.schema import GpuTarget, HardwareTarget, HostInfo

GiB = 2**30


def assumed_cpu_bandwidth(logical_cores: int | None, virtualized: bool | None) -> float:
    """CPU memory bandwidth when nothing was measured: the one rule for this machine and rented VMs.

    ``cpu_bandwidth_gbps`` (assumptions table); a VM gets ``vm_bandwidth_per_vcpu_gbps`` x vCPUs when
    that is more (a large VM's share of its server's channels), at most ``vm_bandwidth_max_gbps``.
    """
    base = A.value("cpu_bandwidth_gbps")
    if virtualized and logical_cores:
        share = A.value("vm_bandwidth_per_vcpu_gbps") * logical_cores
        return float(min(A.value("vm_bandwidth_max_gbps"), max(base, share)))
    return float(base)


def cpu_bandwidth_rule_text() -> str:
    """The rule of :func:`assumed_cpu_bandwidth` in words, with the table's figures."""
    return (
        f"CPU memory bandwidth when not measured: {A.get('cpu_bandwidth_gbps').text()}; a VM gets "
        f"{A.get('vm_bandwidth_per_vcpu_gbps').text()} x vCPUs when that is more, at most {A.get('vm_bandwidth_max_gbps').text()} (assumed)"
    )


def cpu_peak_tflops(physical_cores: int | None, max_mhz: float | None, flags: list[str], arch: str | None) -> float:
    """FP32 peak: cores x clock x FLOPs/cycle (2 FMA units x SIMD width x 2); clock assumed when unknown."""
    cores = physical_cores or 1
    ghz = (max_mhz or A.value("cpu_mhz_unknown")) / 1000.0
    f = set(flags)
    if "avx512f" in f:
        per_cycle = 64
    elif "avx2" in f and "fma" in f:
        per_cycle = 32
    elif arch and arch.startswith(("aarch64", "arm")):
        per_cycle = 32 if "sve" in f else 16
    else:
        per_cycle = 16
    return cores * ghz * per_cycle / 1000.0


def unified_memory_note() -> str:
    return f"unified memory: RAM = the GPU's memory pool; CPU bandwidth assumed {A.get('unified_cpu_bandwidth_share').text()}"


def gpu_target_from_profile(p: GpuProfile, source: str = "profile", memory_bytes: int | None = None) -> GpuTarget:
    """The GPU a spec profile describes; ``memory_bytes`` (e.g. a cloud catalog's per-instance figure) replaces the
    profile's memory size."""
    memory_bytes = memory_bytes or p.memory_bytes
    if memory_bytes is None:
        raise BadInput(f"GPU profile {p.name!r} has no memory size; pass --ram for unified-memory parts")
    return GpuTarget(
        name=p.name,
        memory_bytes=memory_bytes,
        bandwidth_gbps=p.bandwidth_gbps,
        fp16_tflops=p.fp16_tflops or p.fp32_tflops,
        power_w=p.tdp_w,
        backend=p.backend,
        unified_memory=p.unified_memory,
        source=source,  # type: ignore[arg-type]
        profile_source=f"{p.source} (as of {p.as_of})",
    )


def probed_cpu_tflops(probe: Probe) -> float:
    """The fp32 peak the speed formulas take, from the probe's numpy matmul rate: sgemm / its assumed share of the peak."""
    return probe.sgemm_tflops / A.value("cpu_sgemm_share_of_peak")


def target_from_host(
    host: HostInfo,
    calibration: Calibration | None = None,
    extra_dir: str | None = None,
    probe: Probe | None = None,
) -> HardwareTarget:
    """``probe`` (hwbench/probe.py) replaces the assumed CPU figures; a ``calibration`` (from `bench`) replaces both."""
    notes: list[str] = []
    gpus: list[GpuTarget] = []
    for g in host.gpus:
        prof = match_gpu(g.name, extra_dir)
        mem = g.memory_total_bytes
        if g.memory_free_bytes is not None and g.memory_total_bytes and g.memory_free_bytes < g.memory_total_bytes - GiB // 2:
            notes.append(f"GPU{g.index} has {(g.memory_total_bytes - g.memory_free_bytes) / GiB:.1f} GiB in use by other processes; using free memory")
            mem = g.memory_free_bytes
        if mem is None and g.unified_memory:
            mem = host.memory.effective_bytes or host.memory.total_bytes
        if mem is None:
            notes.append(f"GPU{g.index} {g.name}: memory size unknown; left out of the estimate")
            continue
        backend = g.backend or {"NVIDIA": "cuda", "AMD": "rocm", "Intel": "sycl", "Apple": "metal"}.get(g.vendor, "vulkan")
        if prof is None:
            # the estimator says which figures it then assumes (estimate/fit.py)
            notes.append(f"GPU{g.index} {g.name}: no spec profile matches this name")
        # the board power limit that caps prompt GEMMs (estimate/speed.py): the driver's enforced limit where it was
        # detected (a card can be power-limited below its rating), else the profile's TDP
        power_w = g.power_limit_w or (prof.tdp_w if prof else None)
        if g.power_limit_w and prof and prof.tdp_w and g.power_limit_w < 0.9 * prof.tdp_w:
            notes.append(
                f"GPU{g.index} {g.name}: power limit {g.power_limit_w:g} W (detected; the profile's TDP is {prof.tdp_w:g} W): "
                "the prompt estimate uses the detected limit"
            )
        gpus.append(
            GpuTarget(
                name=g.name,
                memory_bytes=mem,
                bandwidth_gbps=prof.bandwidth_gbps if prof else None,
                fp16_tflops=(prof.fp16_tflops or prof.fp32_tflops) if prof else None,
                power_w=power_w,
                backend=backend,
                unified_memory=g.unified_memory,
                source="detected",
                profile_source=f"{prof.name}: {prof.source} (as of {prof.as_of})" if prof else None,
            )
        )
    ram = host.memory.effective_bytes or host.memory.total_bytes
    ram_src = "detected"
    if not ram:
        ram, ram_src = int(A.value("ram_unknown_gib") * GiB), "assumed"
        notes.append(f"RAM size not detected; assumed {A.get('ram_unknown_gib').text()}")
    cpu = host.cpu
    bw = assumed_cpu_bandwidth(cpu.logical_cores, host.virt.hypervisor)
    bw_src = "assumed"
    tflops = cpu_peak_tflops(cpu.physical_cores or cpu.logical_cores, cpu.max_mhz or cpu.base_mhz, cpu.flags, cpu.arch)
    tflops_src = "assumed"
    cal_text = None
    if probe is not None:
        bw, bw_src = probe.cpu_bandwidth_gbps, "probed"
        tflops, tflops_src = probed_cpu_tflops(probe), "probed"
        notes.append(
            f"CPU probed {probe.created_at[:10]}: read {probe.cpu_bandwidth_gbps:g} GB/s ({probe.threads} threads), "
            f"fp32 matmul {probe.sgemm_tflops:g} TFLOPS -> peak {tflops:.3g} TFLOPS (/ {A.get('cpu_sgemm_share_of_peak').text()}, assumed); "
            "`hwbench detect --probe` measures again"
            + (f"; measured while the machine was busy (load average {probe.load_avg:g}): the figures are low, probe again when idle" if probe.busy() else "")
        )
    if calibration is not None:
        if calibration.cpu_bandwidth_gbps:
            bw, bw_src = calibration.cpu_bandwidth_gbps, "measured"
        if calibration.cpu_pp_tflops:
            tflops, tflops_src = calibration.cpu_pp_tflops, "measured"
        cal_text = f"calibrated from run {calibration.run_id} ({calibration.created_at})"
    cores = cpu.physical_cores or cpu.logical_cores or 1
    kernels = rows = attn = None
    if calibration is not None and calibration.cpu_kernels:
        llama_now = _llama_cpp_version()
        fit = calibration.kernels_fit(cores, llama_now)
        if fit == "other llama-cpp-python":
            notes.append(
                f"CPU decode kernels were measured with llama-cpp-python {calibration.cpu_kernels_llama}, {llama_now or 'none'} is "
                "installed now: not used (`hwbench bench --kernels` measures them again)"
            )
        elif fit == "older probe":
            notes.append(
                f"CPU decode kernels of run {calibration.cpu_kernels_run_id} were measured by an older probe (one row length): "
                "not used (`hwbench bench --kernels` measures them again)"
            )
        elif fit == "apply":
            kernels = _by_type_and_n(calibration.cpu_kernels)
            rows = _by_type_and_n(calibration.cpu_kernel_rows or {}) or None
            attn = {int(k): float(v) for k, v in (calibration.cpu_attention or {}).items()} or None
            cal_text = (cal_text or "") + (
                f"; llama.cpp CPU decode kernels measured per weight type ({', '.join(sorted(kernels))}; "
                f"1..{max(max(d) for d in kernels.values())} sequences, {cores} threads"
                + (f"; per weight row too for {', '.join(sorted(rows))}" if rows else "")
                + (f"; decode attention per head and context position for head sizes {', '.join(map(str, sorted(attn)))}" if attn else "")
                + f") in run {calibration.cpu_kernels_run_id}"
            )
    if host.memory.cgroup_limit_bytes and host.memory.total_bytes and host.memory.cgroup_limit_bytes < host.memory.total_bytes:
        notes.append(f"container/cgroup memory limit {host.memory.cgroup_limit_bytes / GiB:.1f} GiB is below the host's RAM; using the limit")
    return HardwareTarget(
        label="this machine",
        gpus=gpus,
        ram_bytes=ram,
        ram_source=ram_src,  # type: ignore[arg-type]
        cpu_bandwidth_gbps=bw,
        cpu_bandwidth_source=bw_src,  # type: ignore[arg-type]
        cpu_tflops=tflops,
        cpu_tflops_source=tflops_src,  # type: ignore[arg-type]
        cpu_cores=cores,
        calibration=cal_text,
        cpu_kernel_step_s=kernels,
        cpu_kernel_row_s=rows,
        cpu_attn_s=attn,
        notes=notes,
    )


def _by_type_and_n(table: dict[str, dict[int, float]]) -> dict[str, dict[int, float]]:
    """A stored kernel table with int N keys (JSON keeps them as strings) and float values."""
    return {k: {int(n): float(v) for n, v in d.items()} for k, d in table.items()}


def _llama_cpp_version() -> str | None:
    from hwbench.bench.runner_llamacpp import llama_cpp_version

    return llama_cpp_version()


def apply_what_if(
    base: HardwareTarget,
    *,
    gpu: str | None = None,
    gpus: int | None = None,
    ram_bytes: int | None = None,
    cpu_bandwidth_gbps: float | None = None,
    no_gpu: bool = False,
    extra_dir: str | None = None,
) -> HardwareTarget:
    """Replace parts of ``base`` with hardware that is not present."""
    t = base.model_copy(deep=True)
    parts = []
    if no_gpu:
        t.gpus = []
        parts.append("no GPU")
    if gpu:
        prof = find_gpu(gpu, extra_dir)
        n = gpus or 1
        if n < 1 or n > 1024:
            raise BadInput(f"--gpus {n} must be 1..1024")
        t.gpus = [gpu_target_from_profile(prof)] * n
        parts.append(f"{n} x {prof.name}")
        if prof.unified_memory and ram_bytes is None:
            t.ram_bytes = prof.memory_bytes or t.ram_bytes
            t.ram_source = "profile"
            t.cpu_bandwidth_gbps = (prof.bandwidth_gbps or t.cpu_bandwidth_gbps) * A.value("unified_cpu_bandwidth_share")
            t.cpu_bandwidth_source = "assumed"
            t.notes.append(unified_memory_note())
        elif ram_bytes is None:
            t.notes.append("what-if GPU with this machine's RAM and CPU (use --ram / --cpu-bandwidth to change)")
    elif gpus is not None:
        if not t.gpus:
            raise BadInput("--gpus needs --gpu NAME (no GPU detected here to multiply)")
        if gpus < 1 or gpus > 1024:
            raise BadInput(f"--gpus {gpus} must be 1..1024")
        t.gpus = [t.gpus[0]] * gpus
        parts.append(f"{gpus} x {t.gpus[0].name}")
    if ram_bytes is not None:
        t.ram_bytes = ram_bytes
        t.ram_source = "user"
        parts.append(f"{ram_bytes / GiB:.0f} GiB RAM")
    if cpu_bandwidth_gbps is not None:
        t.cpu_bandwidth_gbps = cpu_bandwidth_gbps
        t.cpu_bandwidth_source = "user"
        parts.append(f"CPU {cpu_bandwidth_gbps:g} GB/s")
    if parts:
        t.label = "what-if: " + ", ".join(parts)
        t.calibration = None if (gpu or cpu_bandwidth_gbps) else t.calibration
        if gpu or cpu_bandwidth_gbps:
            t = t.without_measured_cpu()  # measured with this machine's memory and no GPU beside it
    return t
