"""Tokens/s: generation is bound by bytes moved per token, prompt processing by compute.

Generation (one token, batch 1): every active weight byte of a layer is read once, plus the KV
cache up to the current depth, plus a fixed per-layer cost (kernel launches and synchronisation,
which dominate small models on fast GPUs). Layers on different devices run one after the other
(llama.cpp's layer split), so their times add:

    t_token = sum over devices [ bytes_read_d / (eff_bw_d * bandwidth_d) + layers_d * t_layer_d ]

Prompt processing (a micro-batch of n_ubatch tokens) is bound by matrix throughput:

    t_ubatch = flops_per_token * n_ubatch / (eff_flops_d * peak_flops_d)   (summed over devices)

plus, in partial offload, the host->GPU copy of the CPU-resident weights that llama.cpp ships to
the GPU for large batches.

All efficiencies are single global constants per backend (no per-GPU fudge factors); they were
fitted on published llama-bench results, see docs/accuracy.md and scripts/accuracy_speed.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BackendConstants:
    bw_efficiency: float  # fraction of the spec memory bandwidth a decode step reaches
    layer_overhead_s: float  # fixed time per layer per generated token
    flops_efficiency: float  # fraction of the profile's FP16 TFLOPS prompt processing reaches
    token_overhead_s: float = 0.0  # fixed time per generated token (sampling, graph setup)


BACKENDS: dict[str, BackendConstants] = {
    "cuda": BackendConstants(bw_efficiency=0.85, layer_overhead_s=80e-6, flops_efficiency=1.35, token_overhead_s=0.3e-3),
    "rocm": BackendConstants(bw_efficiency=0.70, layer_overhead_s=100e-6, flops_efficiency=0.60, token_overhead_s=0.3e-3),
    "metal": BackendConstants(bw_efficiency=0.75, layer_overhead_s=100e-6, flops_efficiency=0.90, token_overhead_s=0.5e-3),
    "sycl": BackendConstants(bw_efficiency=0.55, layer_overhead_s=150e-6, flops_efficiency=0.40, token_overhead_s=0.5e-3),
    "vulkan": BackendConstants(bw_efficiency=0.65, layer_overhead_s=120e-6, flops_efficiency=0.50, token_overhead_s=0.5e-3),
    # CPU: efficiency against the *measured or assumed* memory bandwidth and fp32 peak
    "cpu": BackendConstants(bw_efficiency=0.75, layer_overhead_s=20e-6, flops_efficiency=0.50, token_overhead_s=0.2e-3),
}

PCIE_GBPS_DEFAULT = 25.0  # effective host->device copy (PCIe 4.0 x16), assumed


def backend_constants(backend: str) -> BackendConstants:
    return BACKENDS.get(backend, BACKENDS["vulkan"])


@dataclass
class DeviceShare:
    """What one device does per token."""

    name: str
    backend: str  # cuda, rocm, metal, cpu ...
    bandwidth_gbps: float
    tflops: float  # fp16 for GPUs, fp32 for CPUs
    layers: int
    weight_bytes_read: int  # active weight bytes read per generated token
    kv_bytes_per_ctx_token: int  # KV bytes read per token of context, for this device's layers
    flops_per_token: float  # matmul flops per prompt token on this device


def generation_time_s(shares: list[DeviceShare], depth: int, bw_eff_override: float | None = None) -> float:
    t = 0.0
    for sh in shares:
        if sh.layers == 0 and sh.weight_bytes_read == 0:
            continue
        c = backend_constants(sh.backend)
        eff = bw_eff_override if (bw_eff_override is not None and sh.backend == "cpu") else c.bw_efficiency
        bytes_read = sh.weight_bytes_read + sh.kv_bytes_per_ctx_token * depth
        t += bytes_read / (eff * sh.bandwidth_gbps * 1e9) + sh.layers * c.layer_overhead_s
    main = shares[0].backend if shares else "cpu"
    return t + backend_constants(main).token_overhead_s


def prompt_time_per_token_s(
    shares: list[DeviceShare],
    *,
    cpu_offloaded_weight_bytes: int = 0,
    ubatch: int = 512,
    pcie_gbps: float = PCIE_GBPS_DEFAULT,
    cpu_flops_override: float | None = None,
) -> float:
    t = 0.0
    for sh in shares:
        if sh.flops_per_token <= 0:
            continue
        c = backend_constants(sh.backend)
        flops = sh.tflops * 1e12
        if sh.backend == "cpu" and cpu_flops_override:
            t += sh.flops_per_token / (cpu_flops_override * 1e12)
        else:
            t += sh.flops_per_token / (c.flops_efficiency * flops)
    if cpu_offloaded_weight_bytes:
        # llama.cpp copies CPU-resident weights to the GPU once per micro-batch for large batches
        t += cpu_offloaded_weight_bytes / (pcie_gbps * 1e9) / max(1, ubatch)
    return t
