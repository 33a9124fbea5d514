"""Every figure hwbench assumes when nothing was detected, measured or looked up: one table.

Each entry has its value, unit, why that value, and where it comes from. The code reads the
values from here (never a literal of its own), `--help` texts quote them, and the report's
"Assumptions" section lists the table. Changing a value here changes it everywhere.

Not here: llama.cpp's own numbers (estimate/memory.py cites the source file each one mirrors) and
the speed model's fitted constants (estimate/speed.py, fitted on published and local measurements,
docs/accuracy.md). Pure data: importable from estimate/ (no I/O).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Assumption:
    key: str
    value: float
    unit: str
    why: str
    source: str

    def text(self) -> str:
        return f"{self.value:g} {self.unit}"


_TABLE: tuple[Assumption, ...] = (
    Assumption(
        "target_tokens_per_s",
        10.0,
        "tokens/s",
        "about reading speed for one person (the generation speed a recommendation must reach unless told otherwise)",
        "hwbench default (people read ~4-8 words/s; a token is ~0.75 word)",
    ),
    # --- CPU memory bandwidth (one rule for this machine, rented VMs and what-if hosts) ---------------
    Assumption(
        "cpu_bandwidth_gbps",
        40.0,
        "GB/s",
        "CPU memory read bandwidth when nothing was measured (and the least a cloud VM is assumed to get): "
        "a dual-channel DDR4/DDR5 desktop streams 40-90 GB/s; a small cloud VM about as much, since a core streams "
        "from all of its server's channels (one vCPU of a VPS measured 31 GB/s)",
        "measured on this project's 2-vCPU AMD EPYC VPS as `hwbench bench --micro` does: 47.3 GB/s with 2 threads "
        "(docs/accuracy.md), 30.9 GB/s with 1 (its earlier 1-thread run); DDR4-3200 / DDR5-5600 dual channel = 51 / 90 GB/s peak",
    ),
    Assumption(
        "vm_bandwidth_per_vcpu_gbps",
        2.5,
        "GB/s per vCPU",
        "a large VM's share of its server's memory channels: used when vCPUs x this exceeds cpu_bandwidth_gbps",
        "a server socket streams ~300-500 GB/s over 96-192 vCPUs (12-channel DDR5-4800 = 461 GB/s peak); hwbench estimate",
    ),
    Assumption(
        "vm_bandwidth_max_gbps",
        250.0,
        "GB/s",
        "the most CPU memory bandwidth one VM is assumed to reach: llama.cpp streams from one socket's channels "
        "well, across sockets (NUMA) poorly",
        "about half of a 2-socket server's 12-channel DDR5 peak; hwbench estimate",
    ),
    Assumption(
        "unified_cpu_bandwidth_share",
        0.5,
        "x the GPU's bandwidth",
        "unified memory (Apple, GH200 ...): the CPU cores reach about half of the memory bandwidth the GPU does",
        "hwbench estimate: the CPU clusters of unified-memory chips do not saturate the memory bus the GPU does",
    ),
    # --- CPU FLOPS ----------------------------------------------------------------------------------
    Assumption(
        "cpu_mhz_unknown",
        2500.0,
        "MHz",
        "CPU clock for the FLOPS peak when the OS reports none",
        "hwbench estimate: a typical all-core clock",
    ),
    Assumption(
        "cloud_cpu_mhz",
        3000.0,
        "MHz",
        "clock of a rented vCPU for the FLOPS peak (the catalogs give no clock)",
        "hwbench estimate: server cores run at about 2.5-3.5 GHz on all cores",
    ),
    Assumption(
        "cloud_x86_vcpus_per_core",
        2.0,
        "vCPUs per core",
        "an x86 vCPU is one SMT thread, so a VM has half as many cores as vCPUs (Arm vCPUs, e.g. Graviton, are whole cores)",
        "AWS and GCP document an x86 vCPU as one hardware thread of a core",
    ),
    Assumption(
        "cloud_vcpus_unknown",
        4.0,
        "vCPUs",
        "vCPU count of an instance whose catalog row gives none",
        "hwbench default",
    ),
    # --- RAM ----------------------------------------------------------------------------------------
    Assumption(
        "ram_unknown_gib",
        8.0,
        "GiB",
        "this machine's RAM when detection finds no size",
        "hwbench estimate: a small laptop or VPS, erring on the side of 'does not fit'",
    ),
    Assumption(
        "cloud_ram_min_gib",
        32.0,
        "GiB",
        "host RAM of a rented instance whose catalog row gives none: the larger of this and the instance's total GPU memory",
        "GPU instances come with at least as much RAM as VRAM; hwbench estimate",
    ),
    # --- a box built around GPUs to buy -------------------------------------------------------------
    Assumption(
        "buy_host_ram_min_gib",
        64.0,
        "GiB",
        "RAM of a machine built around purchased GPUs: the larger of this and buy_host_ram_per_vram x total VRAM",
        "hwbench estimate",
    ),
    Assumption(
        "buy_host_ram_per_vram",
        1.5,
        "x total VRAM",
        "RAM of a machine built around purchased GPUs, per GiB of GPU memory (loading goes through RAM)",
        "hwbench estimate: loading a model passes through RAM",
    ),
    Assumption(
        "buy_host_cpu_bandwidth_gbps",
        60.0,
        "GB/s",
        "CPU memory bandwidth of a machine built around purchased GPUs",
        "dual/quad-channel DDR5 desktop or workstation; hwbench estimate",
    ),
    Assumption(
        "buy_host_cpu_tflops",
        1.5,
        "TFLOPS (fp32)",
        "CPU FLOPS peak of a machine built around purchased GPUs",
        "16 cores x 3 GHz x 32 FLOP/cycle (AVX2 FMA) = 1.5 TFLOPS; hwbench estimate",
    ),
    Assumption(
        "buy_host_cpu_cores",
        16.0,
        "cores",
        "CPU cores of a machine built around purchased GPUs",
        "hwbench estimate: a mainstream workstation CPU",
    ),
    # --- GPUs ---------------------------------------------------------------------------------------
    Assumption(
        "gpu_bandwidth_unknown_gbps",
        100.0,
        "GB/s",
        "memory bandwidth of a GPU with no spec figure (no profile matches its name); the output says it was assumed",
        "the low end of discrete GPUs (entry cards 100-300 GB/s): errs on the slow side; hwbench estimate",
    ),
    Assumption(
        "gpu_tflops_unknown",
        10.0,
        "TFLOPS (FP16)",
        "FP16 throughput of a GPU with no spec figure; the output says it was assumed",
        "the low end of current discrete GPUs; hwbench estimate",
    ),
    Assumption(
        "gpus_per_node",
        8.0,
        "GPUs",
        "the most GPUs one server holds; more take several nodes (llama.cpp RPC or another server)",
        "HGX/DGX and most cloud GPU servers hold 8",
    ),
    Assumption(
        "pcie_gbps",
        25.0,
        "GB/s",
        "host-to-GPU copy rate: with partial offload llama.cpp copies the CPU layers' weights to the GPU once per prompt micro-batch",
        "PCIe 4.0 x16 is 32 GB/s raw, ~25 GB/s effective; hwbench estimate",
    ),
    # --- memory overheads llama.cpp does not log ----------------------------------------------------
    Assumption(
        "gpu_context_cuda_mib",
        400.0,
        "MiB per GPU",
        "CUDA context + cuBLAS handles + ggml's memory pool, which llama.cpp never logs (also used for a backend not listed here)",
        "what nvidia-smi typically shows for a llama.cpp process before its buffers exist (the CUDA context alone is "
        "250-500 MiB by driver and GPU); estimate/memory.py",
    ),
    Assumption(
        "gpu_context_rocm_mib",
        450.0,
        "MiB per GPU",
        "HIP context + hipBLAS/rocBLAS workspaces + ggml's memory pool",
        "hwbench estimate (not measured)",
    ),
    Assumption(
        "gpu_context_sycl_mib",
        400.0,
        "MiB per GPU",
        "SYCL/Level Zero context + oneMKL workspaces",
        "hwbench estimate (not measured)",
    ),
    Assumption(
        "gpu_context_vulkan_mib",
        250.0,
        "MiB per GPU",
        "Vulkan device + pipelines (no vendor BLAS library)",
        "hwbench estimate (not measured)",
    ),
    Assumption(
        "host_process_mib",
        200.0,
        "MiB",
        "host memory the llama.cpp process itself needs besides its buffers (code, libraries, allocator)",
        "hwbench estimate (not measured)",
    ),
    Assumption(
        "os_reserve_fraction",
        0.05,
        "x RAM",
        "RAM left to the OS and other processes, bounded by os_reserve_min_gib and os_reserve_max_gib",
        "hwbench estimate",
    ),
    Assumption(
        "os_reserve_min_gib",
        1.0,
        "GiB",
        "the least RAM left to the OS and other processes",
        "hwbench estimate",
    ),
    Assumption(
        "os_reserve_max_gib",
        4.0,
        "GiB",
        "the most RAM left to the OS and other processes",
        "hwbench estimate",
    ),
    Assumption(
        "metal_working_set_small",
        0.67,
        "x RAM",
        "share of unified memory Metal lets the GPU use (recommendedMaxWorkingSetSize) on Macs up to metal_working_set_threshold_gib",
        "hwbench estimate of macOS's recommendedMaxWorkingSetSize (Apple does not document the rule)",
    ),
    Assumption(
        "metal_working_set_large",
        0.75,
        "x RAM",
        "share of unified memory Metal lets the GPU use on Macs above metal_working_set_threshold_gib",
        "hwbench estimate of macOS's recommendedMaxWorkingSetSize (Apple does not document the rule)",
    ),
    Assumption(
        "metal_working_set_threshold_gib",
        36.0,
        "GiB",
        "unified memory size above which Metal's larger working-set share applies",
        "hwbench estimate of macOS's recommendedMaxWorkingSetSize (Apple does not document the rule)",
    ),
    # --- how much headroom a fit needs to be more than tight -----------------------------------------
    Assumption(
        "tight_fit_margin_gib",
        0.5,
        "GiB",
        "headroom below which `check` calls a fit tight and says what gives room: a GPU that also drives a display "
        "holds VRAM for the desktop compositor and browser, some drivers reserve more (Windows WDDM), and the "
        "allocator fragments; the estimate counts none of these (in RAM: other programs and the page cache)",
        "hwbench judgement, not measured by hwbench: nvidia-smi on a Linux desktop commonly lists a few hundred MiB "
        "for Xorg/Wayland, the compositor and a browser; the low end, so that only real tight fits are flagged",
    ),
    # --- buying: what a GPU box costs beyond its GPUs, to run, and how long it is written off ----------
    Assumption(
        "buy_host_system_usd",
        1500.0,
        "USD",
        "the machine around bought GPUs (CPU, board, the assumed host RAM, power supply, case, disk), added to the GPUs' price; "
        "not added where the price is already a complete system (Mac Studio, DGX Spark, Jetson kit). Change it with --host-usd",
        "hwbench judgement, not a looked-up price: a desktop host for 1-2 cards; a multi-GPU server host costs several times more",
    ),
    Assumption(
        "buy_host_power_w",
        150.0,
        "W",
        "power the host (CPU, RAM, fans, disks, power-supply losses) draws under load beside the GPUs' board power; "
        "not added for complete systems, whose one figure covers the machine",
        "hwbench judgement, not measured by hwbench: a desktop CPU under llama.cpp load draws ~65-150 W, plus ~10% supply losses",
    ),
    Assumption(
        "electricity_usd_per_kwh",
        0.16,
        "USD/kWh",
        "electricity price for the power an owned machine draws (change it with --kwh-price)",
        "US average residential retail price 2023, about 16 cents/kWh: EIA analysis of 2024-09-11 as summarised at "
        "https://jepic-usa.org/digests/2024/9/12/usa-retail-electricity-prices-closely-tracked-inflation-over-the-last-10-years",
    ),
    Assumption(
        "buy_hours_per_day",
        8.0,
        "hours/day",
        "hours a bought machine runs the model each day (utilisation): spreads the purchase over used hours and turns "
        "break-even hours into months (change it with --hours-per-day)",
        "hwbench default: one working day of use; 24 for a server that is busy around the clock",
    ),
    Assumption(
        "buy_writeoff_years",
        3.0,
        "years",
        "period over which a purchase is spread to give an owned cost per hour and per million tokens (no resale value counted)",
        "hwbench judgement: the common 3-year depreciation of computer hardware in company accounts; GPUs often serve longer",
    ),
    Assumption(
        "price_stale_days",
        90.0,
        "days",
        "a price older than this is flagged in the report and in `recommend` (prices, above all rental and street prices, move)",
        "issue 12 of this project: prices older than 90 days are flagged",
    ),
    Assumption(
        "cpu_sgemm_share_of_peak",
        1.73,
        "x fp32 peak",
        "the quick CPU probe's numpy fp32 matmul rate (hwbench/probe.py: median of its runs, n = 1024-2048) over the "
        "'fp32 peak' llama.cpp's CPU kernels imply on the same machine (their measured prompt rate / CPU_KERNELS.gemm): "
        "the probe's rate / this = the peak the speed formulas take before `bench` has calibrated the machine",
        "measured 2026-12-02 with `scripts/accuracy_speed.py --sgemm-share --threads 2 --reps 2` (the matmul-only "
        "kernel-probe model, no shape an accuracy bar scores) on this project's 2-vCPU Intel Xeon VM (llama.cpp built "
        "without AMX), load average 0.0-1.1: geometric mean 1.73 of 20 (10 weight types x 2; per type 1.34 Q4_1 to "
        "2.96 BF16). Above 1: numpy's BLAS outruns the peak llama.cpp's kernels imply here (CPU_KERNELS were measured on "
        "an AMD EPYC VM). One machine: not yet checked on another CPU",
    ),
    Assumption(
        "batch_decode_p",
        3.0,
        "p-norm exponent",
        "how sharply batched decoding (--concurrency N) turns from memory-bound (weights read once per step) to "
        "compute-bound (N x the matmul time of one token): the weight term is (t_mem^p + (N t_f)^p - t_f^p)^(1/p) "
        "(hwbench/estimate/speed.py, step_time_s); larger p = a sharper corner",
        "hwbench judgement: the same p as the fitted memory/dispatch and memory/ALU overlaps in speed.py (3); not fitted "
        "on batched measurements (none made on an idle machine yet, docs/accuracy.md)",
    ),
)

ASSUMPTIONS: dict[str, Assumption] = {a.key: a for a in _TABLE}


def value(key: str) -> float:
    """The assumed figure ``key`` (KeyError for a key not in the table: a typo must not pass silently)."""
    return ASSUMPTIONS[key].value


def get(key: str) -> Assumption:
    return ASSUMPTIONS[key]


def table() -> list[Assumption]:
    """Every entry, in table order, for the report's "Assumptions" section (``a.text()``, ``a.why``, ``a.source``)."""
    return [ASSUMPTIONS[a.key] for a in _TABLE]


TARGET_TOKENS_PER_S = value("target_tokens_per_s")
