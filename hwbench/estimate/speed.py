"""Tokens/s: what really limits llama.cpp's generation and prompt processing. Pure, no I/O.

Generation (one token, batch 1). Each device does two things that overlap: it streams its weights
(and the KV cache up to the current depth) through the memory bus, and its host thread dispatches
the per-layer kernels. On a slow bus the bytes dominate; on a fast GPU with a small model the
dispatch floor does (that is why a 4090 and an A100 give an 8B Q4 model nearly the same tokens/s).
Both are combined with a smooth maximum (a p-norm), since neither hides the other completely:

    bw_d      = min(bandwidth_d, bytes_per_sm_clock * SM_GHz_d)
    t_mem_d   = weight_bytes_d / (bw_efficiency * bw_d)
    t_floor_d = layers_d * layer_overhead_s
    t_kv_d    = kv_bytes_per_ctx_token_d * depth / (kv_efficiency * bw_d)
    t_token   = sum_d [(t_mem_d^p + t_floor_d^p)^(1/p) + t_kv_d] + token_overhead_s(first device's backend)

On the backends without ``kv_separate`` (CPU, ROCm, SYCL, Vulkan) t_kv_d joins t_mem_d instead. The
CPU's t_mem_d is further combined (p-norm, ``decode_alu_p``) with its mat-vec kernels' compute time
per weight type (CPU_KERNELS.gemv); on Metal, quantized weights take at least their dequantization ALU
time, per weight family (quant_family: K-quants/IQ ~3x the legacy block quants per weight; fitted on
llama.cpp's Apple scoreboard, docs/accuracy.md). GENERATION_FORMULA below says the same in words.

The KV-cache read at depth is added after the p-norm on the GPU backends (``kv_separate``): without
flash attention, decode attention runs as its own kernels (KQ mat-vec, softmax, KQV mat-vec) after
the weight mat-vecs; it neither overlaps with them nor hides under the dispatch floor or an ALU-bound
K-quant mat-vec (Metal). (The estimator does this whatever the flash-attention setting: the published
GPU rows it was fitted on ran without.) This is what fixed Apple M1 Max 8B Q4_K_M tg8192 (+54% -> +4%): inside the max/p-norm
the KV time vanished under the ALU-bound weights.

Layers on different devices run one after the other (llama.cpp's default layer split), so
device times add: two GPUs do not read twice as fast, they hold twice as much. The bandwidth cap
``bytes_per_sm_clock * SM_GHz`` models how many bytes the mat-vec kernels keep in flight per
streaming multiprocessor (Little's law): GPUs with very fast HBM but comparatively few SM-cycles
(A100, H100) reach a smaller share of their spec bandwidth than GDDR cards. SM x GHz is derived
from the profile's TFLOPS with the architecture rules in :func:`gpu_arch`.

Prompt processing (micro-batches of n_ubatch tokens) is bound by matrix throughput:

    t_prompt_token = weight_flops / (eff_matmul * matrix_tflops) + attn_flops / (eff_attn * matrix_tflops)
                     [+ attn_flops * attn_bytes_per_flop / bandwidth]   (CUDA, Metal: KQ scores through memory)
                     [+ CPU-resident weight bytes / PCIe rate / n_ubatch] (partial offload)

with different matmul efficiencies for float weights (cuBLAS/BLAS GEMM) and quantized weights
(llama.cpp's MMQ / dequantize kernels; on Metal split again into legacy quants and K-quants), and the attention's own (lower) efficiency, which is what
makes pp8192 slower than pp512. ``matrix_tflops`` is the dense FP16 tensor-core rate for NVIDIA
(derived, see :func:`matrix_tflops`) and the profile's FP16/FP32 ALU rate elsewhere; on the CPU, the
fp32 peak x the kernel factor of each weight type (CPU_KERNELS.gemm). PROMPT_FORMULA says it in words.

All efficiencies are a few global constants per backend, fitted on published llama-bench results;
scripts/accuracy_speed.py also refits them leaving one GPU model out at a time and scores the GPU
left out (docs/accuracy.md); no per-GPU factors. The CPU constants were measured on a 2-core x86 VPS (docs/accuracy.md).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from hwbench import assumptions as A

# Which speed formulas are in force. A calibration (hwbench/calibration.py) is back-solved through
# them and is only used under the same version, so BUMP THIS whenever the numbers the formulas give
# change: a formula here or in fit.speed_inputs, BACKENDS, CPU_KERNELS, the GPU architecture rules.
# Never for comments or refactors that keep every result (tests/estimate/test_speed.py pins results
# per version and fails when they move without a bump). Form: the date of the change, .N if several.
SPEED_MODEL_VERSION = "2026-12-03.1"  # 12-03.1: CUDA prompt GEMMs capped by board power, CUDA/Metal refitted on 16 + 13 GPUs; 12-02.4: sliding-window layers read their window of KV (not the whole depth); .3: concurrency

@dataclass(frozen=True)
class BackendConstants:
    bw_efficiency: float  # fraction of the (capped) memory bandwidth a decode step reaches
    layer_overhead_s: float  # dispatch floor per layer per generated token
    flops_efficiency: float  # fraction of matrix_tflops prompt processing reaches, float weights
    token_overhead_s: float = 0.0  # fixed time per generated token (sampling, graph setup, sync)
    flops_efficiency_quant: float = 0.0  # same for quantized weights (0: as float weights)
    attn_efficiency: float = 0.0  # fraction of matrix_tflops the attention reaches (0: as matmul)
    bytes_per_sm_clock: float = 0.0  # in-flight bytes per SM per clock (0: no cap)
    overlap_p: float = 1.0  # p of the p-norm combining memory time and dispatch floor (1: they add)
    kv_efficiency: float = 0.0  # fraction of the bandwidth decode attention reaches on the KV cache (0: as weights)
    dequant_flops_per_byte: float = 0.0  # ALU work per quantized weight byte in decode (0: never compute-bound)
    attn_bytes_per_flop: float = 0.0  # prompt attention memory traffic (KQ scores) per attention flop
    decode_alu_p: float = 0.0  # CPU: p of the p-norm combining memory time and kernel ALU time in decode (0: no ALU term)
    kv_separate: bool = False  # GPU: decode attention runs as its own kernels, its KV time adds after the p-norm (module doc)
    # GPU weight-type families (quant_family): K-quants/IQ unpack 6-bit scales or lookup tables per block, the
    # legacy block quants (Q4_0, Q8_0, ...) one scale per 32 weights. Where set, they replace the single figures above:
    flops_efficiency_kquant: float = 0.0  # prompt matmul efficiency for K-quant/IQ weights (0: flops_efficiency_quant)
    dequant_flops_per_elem_kquant: float = 0.0  # decode ALU work per K-quant/IQ weight (0: dequant_flops_per_byte rule)
    dequant_flops_per_elem_legacy: float = 0.0  # decode ALU work per legacy-quant weight (0: dequant_flops_per_byte rule)
    # the dense matrix rate (TFLOPS) a board sustains per watt of its power limit (0: no cap): big tensor-core GPUs
    # with a low board power (RTX 6000 Ada, L40S, H100 PCIe) clock down under prompt GEMMs long before their listed peak
    matrix_tflops_per_watt: float = 0.0


BACKENDS: dict[str, BackendConstants] = {
    # CUDA: fitted (in-sample, from scripts/accuracy_speed.py's neutral start) on 16 NVIDIA GPUs, llama-bench of May
    # 2024 (XiongjieDai/GPU-Benchmarks-on-LLM-Inference: RTX 3070 ... 4090, A40, RTX 4000/5000/6000 Ada, A6000, L40S,
    # A100 PCIe/SXM, H100 PCIe; Llama-3 8B/70B Q4_K_M/F16). The decode constants are those fitted on the first 7 of
    # them (refitted on all 16 they moved by < 10% and scored no better in-sample: 4.7% vs 4.6%). Prompt GEMMs reach flops_efficiency of the tensor peak
    # or of power_w x matrix_tflops_per_watt, whichever is lower: ~0.83 dense TFLOPS per watt of board power, so a
    # 300 W RTX 6000 Ada or a 350 W H100 PCIe is power-bound, a 450 W RTX 4090 is not (docs/accuracy.md).
    "cuda": BackendConstants(
        bw_efficiency=0.80,
        layer_overhead_s=210e-6,
        flops_efficiency=0.47,
        flops_efficiency_quant=0.37,
        attn_efficiency=0.22,
        bytes_per_sm_clock=7.0,
        overlap_p=3.0,
        kv_efficiency=0.50,
        attn_bytes_per_flop=0.05,
        kv_separate=True,
        matrix_tflops_per_watt=0.83,
    ),
    "rocm": BackendConstants(
        bw_efficiency=0.70, layer_overhead_s=250e-6, flops_efficiency=0.40, flops_efficiency_quant=0.30, attn_efficiency=0.10, overlap_p=3.0
    ),
    # Metal: fitted (in-sample, from scripts/accuracy_speed.py's neutral start) on 13 Apple chips: llama.cpp
    # discussion #4167 (Llama-2 7B F16/Q8_0/Q4_0, M1 ... M4 Max, Ultras) and the dev rows (M1, M1 Max, M2 Ultra, M3 Max;
    # Llama-3 8B/70B Q4_K_M/F16; the M2 Ultra and M3 Max rows added 2026-12-03 moved the prompt constants; the decode
    # constants are those fitted before them, which score better on all the Metal rows: 3.8% vs 5.1% refitted).
    # Decode ALU work per weight by family: K-quants ~34 flops/weight (fits the M1 Max Q4_K_M rows); legacy quants 10,
    # the fit's start, never binding on these chips (Q8_0/Q4_0 decode is memory-bound), so an upper bound rather than
    # a measured cost. attn_bytes_per_flop fitted to ~0: dropped.
    "metal": BackendConstants(
        bw_efficiency=0.84,
        layer_overhead_s=312e-6,
        flops_efficiency=0.75,
        flops_efficiency_quant=0.656,
        attn_efficiency=0.313,
        overlap_p=3.0,
        kv_efficiency=0.067,
        kv_separate=True,
        flops_efficiency_kquant=0.625,
        dequant_flops_per_elem_kquant=33.6,
        dequant_flops_per_elem_legacy=10.0,
    ),
    "sycl": BackendConstants(
        bw_efficiency=0.55, layer_overhead_s=300e-6, flops_efficiency=0.30, flops_efficiency_quant=0.25, attn_efficiency=0.10, overlap_p=3.0
    ),
    "vulkan": BackendConstants(
        bw_efficiency=0.65, layer_overhead_s=250e-6, flops_efficiency=0.35, flops_efficiency_quant=0.30, attn_efficiency=0.10, overlap_p=3.0
    ),
    # CPU: against the *measured* (or assumed) memory read bandwidth and the fp32 peak of the cores used.
    # Prompt: per-type kernel factors (CPU_KERNELS.gemm, measured on a matmul-only probe) x flops_efficiency,
    # the share of the probe's rate real layer shapes reach (norms, RoPE, activation quantization, smaller
    # tiles, thread barriers): 0.78 from this project's 2-core AMD EPYC VPS, 1 and 2 threads (docs/accuracy.md).
    # Decode: bytes / (bw_efficiency x bandwidth) and the mat-vec kernels' ALU time (CPU_KERNELS.gemv) combined
    # with a p-norm (p = 3 as for the GPU backends' memory/dispatch overlap); the previous 0.82 efficiency kept.
    "cpu": BackendConstants(bw_efficiency=0.82, layer_overhead_s=20e-6, flops_efficiency=0.78, token_overhead_s=0.2e-3, decode_alu_p=3.0),
}


@dataclass(frozen=True)
class CpuKernel:
    """Throughput of llama.cpp's CPU matmul kernels for one ggml weight type, per unit of fp32 peak.

    ``gemm``: prompt-processing matmul flops/s per fp32-peak flop/s (``cpu_tflops``: cores x clock x
    SIMD FMA width); above 1 for int8 dot-product kernels (AVX512-VNNI / AVX-VNNI do 4 int8 MACs per
    fp32 lane) and BF16 dot products. ``gemv``: decode weights/s (elements) per fp32-peak flop/s: the
    dequantize + dot-product rate of the mat-vec kernel, which bounds decode when it is slower than the
    memory bus (one thread, or types with costly unpacking such as Q4_1/Q5_0).
    """

    gemm: float
    gemv: float
    path: str  # which llama.cpp kernel runs it on x86 AVX2/AVX512 (ggml/src/ggml-cpu)


# Which kernel llama.cpp's CPU backend uses per weight type on x86 (read in ggml/src/ggml-cpu):
# - repack.cpp, ggml_repack_get_optimal_repack_type(): weights re-laid out at load into interleaved
#   8x8 blocks (CPU_REPACK buffer) for Q4_0, Q4_K, IQ4_NL, MXFP4 when AVX2 (Q2_K with AVX512), rows % 8 == 0;
#   Q5_K/Q6_K/Q8_0 are repacked only on ARM (NEON dotprod/i8mm) and RISC-V;
# - llamafile/sgemm.cpp, llamafile_sgemm(): tinyBLAS tiles for F32/F16/BF16 (AVX512-BF16 dot products)
#   and tinyBLAS_Q0_AVX for Q8_0/Q4_0/Q5_0/IQ4_NL x Q8_0 activations;
# - everything else: ggml_compute_forward_mul_mat's row-by-row vec_dot (quants.c / arch/x86/quants.c,
#   e.g. ggml_vec_dot_q5_K_q8_K, ggml_vec_dot_q4_1_q8_1).
# The factors were measured once (scripts/accuracy_speed.py --kernels: a matmul-only synthetic llama,
# 4 layers of 2048 x 8192, vocab 1024, pp256 and tg16, 1 and 2 threads, best of 5) on an AMD EPYC
# (Zen 5, AVX512-VNNI/BF16) with llama.cpp as bundled in llama-cpp-python 0.3.36; they are properties
# of these kernels on an AVX512 core, assumed to carry over (relative to the fp32 peak) to other x86
# CPUs. That run's output was not saved; a re-measurement on an Intel Xeon VM (docs/cpu_kernels_probe_*.json,
# docs/accuracy.md) keeps the types' order but not the scale. Types not listed use CPU_KERNEL_DEFAULT.
CPU_KERNELS: dict[str, CpuKernel] = {
    "Q4_0": CpuKernel(2.15, 0.335, "repack q4_0_8x8 (AVX2/AVX512)"),
    "Q4_K": CpuKernel(1.74, 0.345, "repack q4_K_8x8 (AVX2)"),
    "IQ4_NL": CpuKernel(2.1, 0.345, "repack iq4_nl_8x8 (AVX2)"),
    "Q5_K": CpuKernel(3.15, 0.245, "vec_dot q5_K x q8_K (AVX512)"),
    "Q6_K": CpuKernel(2.65, 0.31, "vec_dot q6_K x q8_K (AVX512)"),
    "Q8_0": CpuKernel(1.12, 0.225, "tinyBLAS_Q0_AVX q8_0 x q8_0"),
    "Q5_0": CpuKernel(0.85, 0.19, "tinyBLAS_Q0_AVX q5_0 x q8_0"),
    "Q4_1": CpuKernel(0.47, 0.2, "vec_dot q4_1 x q8_1"),
    "F16": CpuKernel(1.39, 0.165, "tinyBLAS f16 (F16C convert + fp32 FMA)"),
    "BF16": CpuKernel(2.0, 0.14, "tinyBLAS bf16 (AVX512-BF16 dot products)"),
}
CPU_KERNEL_DEFAULT = CpuKernel(0.85, 0.19, "vec_dot (other types; as the slowest measured, Q5_0)")


def quant_family(type_name: str) -> str:
    """'float' (F16/BF16/F32), 'kquant' (Q2_K..Q6_K and the IQ types) or 'legacy' (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, MXFP4...)."""
    t = type_name.upper()
    if t in ("F16", "BF16", "F32"):
        return "float"
    if t.endswith("_K") or "_K_" in t or t.startswith("IQ") or t.startswith("TQ"):
        return "kquant"
    return "legacy"


def family_elements(sh: DeviceShare, *, with_output: bool) -> dict[str, float]:
    """Matmul weight elements per quant_family on this device (layers, and the output matrix if asked)."""
    out: dict[str, float] = {}
    for d in (sh.weight_types, sh.output_types) if with_output else (sh.weight_types,):
        for k, v in d.items():
            f = quant_family(k)
            out[f] = out.get(f, 0.0) + v
    return out


def cpu_kernel(type_name: str) -> CpuKernel:
    return CPU_KERNELS.get(type_name, CPU_KERNELS["F16"] if type_name == "F32" else CPU_KERNEL_DEFAULT)


def backend_constants(backend: str, backends: Mapping[str, BackendConstants] | None = None) -> BackendConstants:
    """The constants of ``backend`` (unknown backends: Vulkan's). ``backends``: another set of constants
    to evaluate with instead of BACKENDS (scripts/accuracy_speed.py refits them)."""
    b = BACKENDS if backends is None else backends
    return b.get(backend, b["vulkan"])


@dataclass(frozen=True)
class GpuArch:
    """What the profile's TechPowerUp 'FP16 (half)' figure means for a GPU family.

    ``matrix_per_fp16``: dense FP16 matrix (tensor-core, FP16 accumulate) rate / the listed FP16 rate.
    ``sm_ghz_per_fp16``: streaming multiprocessors x boost GHz per listed FP16 TFLOPS.
    """

    family: str
    matrix_per_fp16: float
    sm_ghz_per_fp16: float


# NVIDIA rules (per SM per clock, from NVIDIA's architecture whitepapers: Volta/Turing/GA10x/Ada
# tensor cores do 1024 dense FP16 FLOP/clk/SM, GA100 2048, Hopper 4096; FP32 lanes per SM: 64 on
# Volta/Turing/GA100, 128 on GA10x/Ada/Hopper/Blackwell). TechPowerUp lists FP16 as 1x FP32 on
# GA10x/Ada/Blackwell-consumer, 2x on Volta/Turing, 4x on GA100/Hopper, hence (e.g. 3090: 35.6
# listed -> 142 TFLOPS tensor; A100: 78.0 -> 312; H100 SXM: 267.6 -> 1070, NVIDIA says 989 at its
# lower sustained clock). T4 is listed at its tensor rate already (65 TFLOPS).
_NVIDIA_RULES: list[tuple[str, GpuArch]] = [
    (r"\bT4\b", GpuArch("turing-t4", 1.0, 1000 / 1024 / 1.0)),
    (r"GTX 16", GpuArch("turing-gtx16 (no tensor cores)", 1.0, 1000 / (2 * 2 * 64))),
    (r"GTX 10|TITAN X|TITAN XP|Quadro P|\bP40\b|\bP4\b", GpuArch("pascal (no tensor cores; FP16 at 1/64)", 64.0, 1000 * 64 / (2 * 128))),
    (r"P100", GpuArch("pascal-p100 (no tensor cores)", 1.0, 1000 / (2 * 2 * 64))),
    (r"V100|TITAN V", GpuArch("volta", 4.0, 1000 / (2 * 2 * 64))),
    (r"\bB100\b|\bB200\b|GB200|\bB300\b", GpuArch("blackwell-dc", 2.0, 1000 / (16 * 2 * 128))),
    (r"H100|H200|H800|GH200|H20\b", GpuArch("hopper", 4.0, 1000 / (4 * 2 * 128))),
    (r"A100|A800|\bA30\b", GpuArch("ampere-ga100", 4.0, 1000 / (4 * 2 * 64))),
    (r"RTX 20\d\d|TITAN RTX|Quadro RTX", GpuArch("turing", 4.0, 1000 / (2 * 2 * 64))),
]
_NVIDIA_DEFAULT = GpuArch("ampere-ga10x/ada/blackwell (FP16 listed = FP32)", 4.0, 1000 / (2 * 128))


def gpu_arch(name: str, backend: str) -> GpuArch | None:
    """The family rule for an NVIDIA GPU name; None for other vendors (listed FP16 used as is)."""
    if backend != "cuda":
        return None
    for pat, arch in _NVIDIA_RULES:
        if re.search(pat, name, re.IGNORECASE):
            return arch
    return _NVIDIA_DEFAULT


def matrix_tflops(name: str, backend: str, fp16_tflops: float) -> float:
    """Dense FP16 matrix throughput prompt processing can use (TFLOPS)."""
    arch = gpu_arch(name, backend)
    return fp16_tflops * (arch.matrix_per_fp16 if arch else 1.0)


def matrix_peak_tflops(sh: DeviceShare, c: BackendConstants) -> float:
    """The dense matrix rate prompt GEMMs can reach on this GPU: matrix_tflops, capped where the board's power limit
    holds it lower (power_w x c.matrix_tflops_per_watt, where both are known)."""
    peak = matrix_tflops(sh.name, sh.backend, sh.tflops)
    if c.matrix_tflops_per_watt and sh.power_w > 0:
        return min(peak, sh.power_w * c.matrix_tflops_per_watt)
    return peak


def effective_bandwidth_gbps(
    name: str, backend: str, bandwidth_gbps: float, fp16_tflops: float, backends: Mapping[str, BackendConstants] | None = None
) -> float:
    """Spec bandwidth, capped by the bytes the mat-vec kernels keep in flight per SM (CUDA)."""
    c = backend_constants(backend, backends)
    arch = gpu_arch(name, backend)
    if arch is None or not c.bytes_per_sm_clock or fp16_tflops <= 0:
        return bandwidth_gbps
    sm_ghz = fp16_tflops * arch.sm_ghz_per_fp16
    return min(bandwidth_gbps, c.bytes_per_sm_clock * sm_ghz)


@dataclass
class DeviceShare:
    """What one device does per token."""

    name: str
    backend: str  # cuda, rocm, metal, cpu ...
    bandwidth_gbps: float
    tflops: float  # fp16 for GPUs (as listed in the profile), fp32 for CPUs
    layers: int
    weight_bytes_read: int  # active weight bytes read per generated token
    kv_bytes_per_ctx_token: int  # KV bytes read per token of context, for this device's layers
    flops_per_token: float  # matmul flops per prompt token on this device (weights; attention if attn_flops_per_token is 0)
    attn_flops_per_token: float = 0.0  # attention flops per prompt token at the average depth
    quantized: bool = True  # quantized weights (MMQ/dequant kernels) rather than F16/BF16/F32
    # ggml type -> matmul weight elements of that type read per token on this device (layers only,
    # active experts); used by the CPU backend's per-kernel throughput (CPU_KERNELS). Empty: unknown
    weight_types: dict[str, float] = field(default_factory=dict)
    # the same for the output (logits) matrix, which decode computes every token and prompt
    # processing only for the last token
    output_types: dict[str, float] = field(default_factory=dict)
    # MoE: bytes of ALL routed experts on this device, and the share one token uses (n_expert_used / n_expert).
    # A batch of N tokens touches more distinct experts than one: step_time_s reads 1 - (1 - share)^N of them.
    expert_bytes: int = 0
    expert_share: float = 1.0
    # CPU only: this machine's llama.cpp decode kernels, MEASURED per ggml type (hwbench/bench/kernels.py): seconds
    # per weight element per decode step of n sequences, {type: {n: s}}. Types in it replace the bandwidth and
    # CPU_KERNELS.gemv terms for their weights (measured_weight_time_s); None: every type by those formulas.
    kernel_step_s: Mapping[str, Mapping[int, float]] | None = None
    # and seconds per weight ROW per step, {type: {n: s}} (two probe shapes): rows of fewer weights cost more per
    # weight; with weight_rows / output_rows, the rows of weight_types / output_types (elements / row length)
    kernel_row_s: Mapping[str, Mapping[int, float]] | None = None
    weight_rows: dict[str, float] = field(default_factory=dict)
    output_rows: dict[str, float] = field(default_factory=dict)
    # CPU only: decode attention MEASURED on this machine (hwbench/bench/kernels.py, attention probes): seconds per
    # (sequence, query head, layer, context position), {head size: s}; with the share's query heads per token of depth
    # (sum over its layers of n_head, a sliding-window layer at its share of the depth) and the model's head size
    attn_s: Mapping[int, float] | None = None
    attn_heads: float = 0.0
    head_dim: int = 0
    power_w: float = 0.0  # GPU: the board power limit (a detected GPU's enforced limit, else the profile's TDP; 0: unknown, no cap)


def _pnorm(a: float, b: float, p: float) -> float:
    if p <= 1.0:
        return a + b
    if a <= 0 or b <= 0:
        return max(a, b)
    m = max(a, b)
    return float(m * ((a / m) ** p + (b / m) ** p) ** (1.0 / p))


def cpu_decode_alu_time_s(sh: DeviceShare) -> float:
    """Time the CPU mat-vec kernels need for one token's weights at their ALU rate (CPU_KERNELS.gemv)."""
    n = sum(v / cpu_kernel(k).gemv for k, v in sh.weight_types.items())
    n += sum(v / cpu_kernel(k).gemv for k, v in sh.output_types.items())
    return n / (sh.tflops * 1e12)


def cpu_gemm_inverse_factor(weight_types: dict[str, float]) -> float:
    """Element-weighted mean of 1 / CPU_KERNELS.gemm over a device's matmul weights."""
    total = sum(weight_types.values())
    return sum(v / cpu_kernel(k).gemm for k, v in weight_types.items()) / total if total > 0 else 1.0


def kernel_time_per_element_s(table: Mapping[int, float], n_seq: int) -> float:
    """Seconds per weight element of one decode step of ``n_seq`` sequences, from one type's measured kernel
    times ``table`` ({n: s}): exact at a measured n, linear between the two measured n around it, and past the
    largest measured n growing by the last measured segment's slope per extra sequence (each extra row adds its
    kernel work; llama.cpp's CPU matmuls take the same kernels for more rows)."""
    pts = sorted((int(k), float(v)) for k, v in table.items())
    if not pts:
        raise ValueError("empty kernel table")
    if n_seq <= pts[0][0]:
        return pts[0][1]
    for (n0, t0), (n1, t1) in itertools.pairwise(pts):
        if n_seq <= n1:
            return t0 + (t1 - t0) * (n_seq - n0) / (n1 - n0)
    if len(pts) == 1:
        return pts[0][1] * n_seq / pts[0][0]
    (n0, t0), (n1, t1) = pts[-2], pts[-1]
    return t1 + max(0.0, (t1 - t0) / (n1 - n0)) * (n_seq - n1)


def split_measured(sh: DeviceShare) -> tuple[dict[str, float], DeviceShare]:
    """A CPU share's weight elements whose kernels were measured ({type: elements}, layers and output), and the
    share of what is left (its bytes and types without them), for the bandwidth and CPU_KERNELS formulas."""
    from hwbench.quant import GGML_TYPES

    if not sh.kernel_step_s:
        return {}, sh
    meas: dict[str, float] = {}
    for d in (sh.weight_types, sh.output_types):
        for k, v in d.items():
            if k in sh.kernel_step_s and v > 0:
                meas[k] = meas.get(k, 0.0) + v
    if not meas:
        return {}, sh
    gone = sum(v * GGML_TYPES[k].bits_per_weight / 8 for k, v in meas.items() if k in GGML_TYPES)
    rest = replace(
        sh,
        weight_bytes_read=max(0, int(sh.weight_bytes_read - gone)),
        weight_types={k: v for k, v in sh.weight_types.items() if k not in meas},
        output_types={k: v for k, v in sh.output_types.items() if k not in meas},
        weight_rows={k: v for k, v in sh.weight_rows.items() if k not in meas},
        output_rows={k: v for k, v in sh.output_rows.items() if k not in meas},
        kernel_step_s=None,
        kernel_row_s=None,
    )
    return meas, rest


def measured_weight_time_s(sh: DeviceShare, meas: Mapping[str, float], n_seq: int) -> float:
    """Seconds the measured kernels take for one decode step of ``n_seq`` sequences over ``meas``'s elements:
    elements x seconds per element, plus, where a row term was measured, the share's rows of that type x seconds
    per row (both interpolated in n_seq alike, kernel_time_per_element_s)."""
    assert sh.kernel_step_s is not None
    t = sum(v * kernel_time_per_element_s(sh.kernel_step_s[k], n_seq) for k, v in meas.items())
    for k in meas:
        row_s = (sh.kernel_row_s or {}).get(k)
        rows = sh.weight_rows.get(k, 0.0) + sh.output_rows.get(k, 0.0)
        if row_s and rows > 0:
            t += rows * kernel_time_per_element_s(row_s, n_seq)
    return t


def _cpu_weight_times_s(sh: DeviceShare, c: BackendConstants, n_seq: int = 1) -> tuple[float, float] | None:
    """A CPU share's weight time per step of ``n_seq`` sequences and of one (no KV reads) where some of its kernels
    were measured, else None. The measured types take their measured time; the rest go through the bandwidth /
    CPU_KERNELS formulas as before (at ``n_seq``: the batched transition, _batched_weight_time_s)."""
    meas, rest = split_measured(sh)
    if not meas:
        return None
    bw = effective_bandwidth_gbps(rest.name, rest.backend, rest.bandwidth_gbps, rest.tflops)
    t_mem = rest.weight_bytes_read / (c.bw_efficiency * bw * 1e9)
    w1 = _decode_alu_bound(rest, c, t_mem) if rest.weight_types or rest.output_types else t_mem
    t_1 = measured_weight_time_s(sh, meas, 1)
    if n_seq <= 1:
        return t_1 + w1, t_1 + w1
    wn = w1
    if w1 > 0 and rest.weight_types:
        wn = _batched_weight_time_s(w1, _matmul_time_per_token_s(rest, c), n_seq)
    return measured_weight_time_s(sh, meas, n_seq) + wn, t_1 + w1


def cpu_kv_time_s(sh: DeviceShare, depth: int, backends: Mapping[str, BackendConstants] | None = None) -> float:
    """Seconds one sequence's attention over its KV cache at ``depth`` takes on this device per decode step: the KV
    bytes read at the KV efficiency of the bandwidth or, where this machine's CPU attention was measured
    (DeviceShare.attn_s), that measured time when it is longer (on the CPU the exponentials and dot products per query
    head and context position take longer than reading the bytes: docs/accuracy.md)."""
    c = backend_constants(sh.backend, backends)
    bw = effective_bandwidth_gbps(sh.name, sh.backend, sh.bandwidth_gbps, sh.tflops, backends)
    t_bytes = sh.kv_bytes_per_ctx_token * depth / ((c.kv_efficiency or c.bw_efficiency) * bw * 1e9)
    if not sh.attn_s or sh.attn_heads <= 0:
        return t_bytes
    return max(t_bytes, sh.attn_heads * depth * attention_s_per_head_position(sh.attn_s, sh.head_dim))


def attention_s_per_head_position(table: Mapping[int, float], head_dim: int) -> float:
    """A measured attention table's seconds per (sequence, query head, layer, context position) at ``head_dim``:
    linear in the head size between the measured sizes; outside them, the nearest measured size's figure (on the
    2-vCPU x86 VM heads of 128 cost less per head than heads of 64, so no trend is carried beyond what was measured)."""
    pts = sorted(table.items())
    if head_dim <= pts[0][0]:
        return pts[0][1]
    if head_dim >= pts[-1][0]:
        return pts[-1][1]
    (k0, v0), (k1, v1) = next((a, b) for a, b in itertools.pairwise(pts) if head_dim <= b[0])
    return v0 + (v1 - v0) * (head_dim - k0) / (k1 - k0)


def generation_time_s(shares: list[DeviceShare], depth: int, *, backends: Mapping[str, BackendConstants] | None = None) -> float:
    """Seconds per generated token at KV depth ``depth`` (module doc). ``backends``: see backend_constants."""
    t = 0.0
    for sh in shares:
        if sh.layers == 0 and sh.weight_bytes_read == 0:
            continue
        c = backend_constants(sh.backend, backends)
        eff = c.bw_efficiency
        bw = effective_bandwidth_gbps(sh.name, sh.backend, sh.bandwidth_gbps, sh.tflops, backends)
        t_mem = sh.weight_bytes_read / (eff * bw * 1e9)
        t_kv = cpu_kv_time_s(sh, depth, backends)
        measured = _cpu_weight_times_s(sh, c) if sh.kernel_step_s else None
        if measured is not None:
            t += _pnorm(measured[0] + t_kv, sh.layers * c.layer_overhead_s, c.overlap_p)
            continue
        if not c.kv_separate:
            t_mem, t_kv = t_mem + t_kv, 0.0
        t += _pnorm(_decode_alu_bound(sh, c, t_mem), sh.layers * c.layer_overhead_s, c.overlap_p) + t_kv
    main = shares[0].backend if shares else "cpu"
    return t + backend_constants(main, backends).token_overhead_s


def _decode_alu_bound(sh: DeviceShare, c: BackendConstants, t_mem: float) -> float:
    """A device's decode memory time ``t_mem`` where the kernels' ALU work per weight can bind instead."""
    if c.decode_alu_p and sh.weight_types and sh.tflops > 0:
        # CPU: the mat-vec kernels' dequantize + dot-product rate can be slower than the bus
        return _pnorm(t_mem, cpu_decode_alu_time_s(sh), c.decode_alu_p)
    if (c.dequant_flops_per_elem_kquant or c.dequant_flops_per_elem_legacy) and sh.weight_types and sh.tflops > 0:
        # decode ALU work per weight by type family: K-quants unpack more per weight than Q4_0/Q8_0 (Apple GPUs)
        fam = family_elements(sh, with_output=True)
        alu = fam.get("kquant", 0.0) * c.dequant_flops_per_elem_kquant + fam.get("legacy", 0.0) * c.dequant_flops_per_elem_legacy
        return max(t_mem, alu / (sh.tflops * 1e12))
    if c.dequant_flops_per_byte and sh.quantized and sh.tflops > 0:
        # decode of quantized weights can be ALU-bound (e.g. K-quants on Apple GPUs)
        return max(t_mem, sh.weight_bytes_read * c.dequant_flops_per_byte / (sh.tflops * 1e12))
    return t_mem


# Batched decoding (issue 13: llama.cpp -np N, llama-batched-bench). One decode step advances all N sequences by one
# token: the weights are streamed once for the step (MoE: the experts the N tokens are routed to, 1 - (1 - k/E)^N of
# them if routing is independent, an assumption), each sequence reads its own KV cache, the dispatch floor is paid
# once, and the matmuls do N rows of work instead of one. The weight term therefore moves smoothly from memory-bound
# (N small: the time of one token) to compute-bound (N large: N x the matmul time of one token):
#
#     t_w(N)  = (t_w(1)^p + (N t_f)^p - t_f^p)^(1/p)        t_f = (layer + output matmul flops per token) / (eff x peak)
#     t_step  = sum_d [p-norm(t_w_d(N) (+ N t_kv_d off the GPU), layers_d x layer_overhead) + N t_kv_d (GPU)] + token_overhead
#
# t_w(1) is the single-stream weight time of generation_time_s (memory, or ALU where that binds), so N = 1 gives exactly
# the fitted batch-1 result; t_f uses the prompt-processing matmul efficiencies of the backend (MMQ / GEMM kernels),
# p = batch_p() (hwbench/assumptions.py, batch_decode_p). The p-norm shape and the reuse of the prompt efficiencies are
# ASSUMED (not fitted on batched measurements: none were made on an idle machine, see docs/accuracy.md); aggregate
# tokens/s = N / t_step, per user 1 / t_step.


def batch_p() -> float:
    """The p of the memory -> compute transition of batched decoding (assumed: assumptions.batch_decode_p)."""
    return A.value("batch_decode_p")


def _batched_weight_time_s(w1: float, t_f: float, n_seq: int) -> float:
    """t_w(N) of the comment above: the batch-1 weight time ``w1`` moving to ``n_seq`` x the matmul time ``t_f`` of
    one token (p = batch_p()); ``w1`` where there is no matmul time."""
    if t_f <= 0:
        return w1
    p = batch_p()
    return max(w1, (w1**p + (n_seq * t_f) ** p - t_f**p) ** (1.0 / p))


def _matmul_time_per_token_s(sh: DeviceShare, c: BackendConstants) -> float:
    """Seconds of matmul compute for one decoded token on this device at the prompt kernels' efficiency (weights + output)."""
    flops = sh.flops_per_token + 2.0 * sum(sh.output_types.values())
    if flops <= 0 or sh.tflops <= 0:
        return 0.0
    if sh.backend == "cpu":
        inv = cpu_gemm_inverse_factor(sh.weight_types) if sh.weight_types else 1.0
        return flops * inv / (c.flops_efficiency * sh.tflops * 1e12)
    e = _gpu_weight_efficiency(sh, c)
    return flops / (e * matrix_peak_tflops(sh, c) * 1e12)


def step_time_s(
    shares: list[DeviceShare], depth: int, n_seq: int = 1, *, backends: Mapping[str, BackendConstants] | None = None
) -> tuple[float, str]:
    """Seconds per decode step advancing ``n_seq`` sequences by one token each at KV depth ``depth`` (comment above),
    and which term binds at n_seq ("memory" or "compute"). ``n_seq`` = 1: exactly generation_time_s."""
    if n_seq <= 1:
        return generation_time_s(shares, depth, backends=backends), "memory"
    t = 0.0
    mem_part = comp_part = 0.0
    for sh in shares:
        if sh.layers == 0 and sh.weight_bytes_read == 0:
            continue
        c = backend_constants(sh.backend, backends)
        eff = c.bw_efficiency
        bw = effective_bandwidth_gbps(sh.name, sh.backend, sh.bandwidth_gbps, sh.tflops, backends)
        t_kv = cpu_kv_time_s(sh, depth, backends)
        moe = bool(sh.expert_bytes and 0 < sh.expert_share < 1 and sh.weight_bytes_read > 0)
        if sh.kernel_step_s and not moe:
            # CPU with this machine's kernels measured at 1..N rows: their time per step, the rest by the formulas
            times = _cpu_weight_times_s(sh, c, n_seq)
            if times is not None:
                w_n, w_1 = times
                measured = w_n + n_seq * t_kv
                t += _pnorm(measured, sh.layers * c.layer_overhead_s, c.overlap_p)
                mem_part += w_1
                comp_part += measured - n_seq * t_kv - w_1
                continue
        # generation_time_s's batch-1 weight term, without the KV reads (memory, or the kernels' ALU rate where it binds;
        # a MoE share's measured kernels at one row, where they were measured: the routing below is not in the table)
        times = _cpu_weight_times_s(sh, c) if sh.kernel_step_s else None
        w1 = (times[1] if times else 0.0) or _decode_alu_bound(sh, c, sh.weight_bytes_read / (eff * bw * 1e9))
        if moe:
            # MoE: N tokens routed independently touch 1 - (1 - k/E)^N of the experts, each read once per step
            touched = 1.0 - (1.0 - sh.expert_share) ** n_seq
            w1 *= (sh.weight_bytes_read + sh.expert_bytes * (touched - sh.expert_share)) / sh.weight_bytes_read
        t_f = _matmul_time_per_token_s(sh, c)
        wn = _batched_weight_time_s(w1, t_f, n_seq)
        mem_part += w1
        comp_part += n_seq * t_f
        floor = sh.layers * c.layer_overhead_s
        if c.kv_separate:
            t += _pnorm(wn, floor, c.overlap_p) + n_seq * t_kv
        else:
            t += _pnorm(wn + n_seq * t_kv, floor, c.overlap_p)
    main = shares[0].backend if shares else "cpu"
    return t + backend_constants(main, backends).token_overhead_s, ("compute" if comp_part > mem_part else "memory")


def _gpu_weight_efficiency(sh: DeviceShare, c: BackendConstants) -> float:
    """The backend's prompt matmul efficiency for this share's weights as one kind (quantized or float)."""
    return (c.flops_efficiency_quant or c.flops_efficiency) if sh.quantized else c.flops_efficiency


def gpu_matmul_efficiency(sh: DeviceShare, c: BackendConstants) -> float:
    """The share of the matrix peak a GPU's prompt matmuls reach for this share's weights: per weight-type family
    where the backend separates them (each family at its own efficiency, weighted by its share of the matmul
    weights), else the quantized or float figure."""
    fam = family_elements(sh, with_output=False) if c.flops_efficiency_kquant else {}
    total = sum(fam.values())
    if total <= 0:
        return _gpu_weight_efficiency(sh, c)
    e_q = c.flops_efficiency_quant or c.flops_efficiency
    inv = (fam.get("float", 0.0) / c.flops_efficiency + fam.get("legacy", 0.0) / e_q + fam.get("kquant", 0.0) / c.flops_efficiency_kquant) / total
    return 1.0 / inv


def prompt_time_per_token_s(
    shares: list[DeviceShare],
    *,
    cpu_offloaded_weight_bytes: int = 0,
    ubatch: int = 512,
    backends: Mapping[str, BackendConstants] | None = None,
) -> float:
    """Seconds per prompt token (module doc); the host-to-GPU copy rate is assumed (hwbench/assumptions.py,
    pcie_gbps). ``backends``: see backend_constants."""
    t = 0.0
    for sh in shares:
        if sh.flops_per_token <= 0 and sh.attn_flops_per_token <= 0:
            continue
        c = backend_constants(sh.backend, backends)
        if sh.backend == "cpu" and sh.weight_types and sh.tflops > 0:
            # per-type kernel throughput (CPU_KERNELS); attention (flash attention's f16 dot products) at flops_efficiency
            peak = sh.tflops * 1e12
            t += sh.flops_per_token * cpu_gemm_inverse_factor(sh.weight_types) / (c.flops_efficiency * peak)
            t += sh.attn_flops_per_token / ((c.attn_efficiency or c.flops_efficiency) * peak)
            continue
        peak = matrix_peak_tflops(sh, c) * 1e12
        t += sh.flops_per_token / (gpu_matmul_efficiency(sh, c) * peak)
        e_attn = c.attn_efficiency or _gpu_weight_efficiency(sh, c)
        t += sh.attn_flops_per_token / (e_attn * peak)
        if c.attn_bytes_per_flop and sh.bandwidth_gbps > 0:
            # without flash attention the KQ score matrix goes through memory: bandwidth-bound at depth
            t += sh.attn_flops_per_token * c.attn_bytes_per_flop / (sh.bandwidth_gbps * 1e9)
    if cpu_offloaded_weight_bytes:
        # llama.cpp copies CPU-resident weights to the GPU once per micro-batch for large batches
        t += cpu_offloaded_weight_bytes / (A.value("pcie_gbps") * 1e9) / max(1, ubatch)
    return t


@dataclass(frozen=True)
class SpeedInputs:
    """Everything the speed formulas read for one estimate: per-device shares and the settings they run at.

    Built by :func:`hwbench.estimate.fit.speed_inputs` (and inside ``estimate_fit``); scripts and tests
    evaluate it with other constants through ``backends`` (scripts/accuracy_speed.py refits them).
    """

    generation: list[DeviceShare]  # devices in generation order (GPUs, then the CPU if it holds layers)
    depth: int  # KV depth generation is evaluated at (the average over the context)
    prompt: list[DeviceShare]  # devices prompt processing runs on (CPU layers' matmuls moved to the GPU when one is used)
    cpu_offloaded_weight_bytes: int = 0  # CPU-resident layer weights copied to the GPU per micro-batch (partial offload)
    ubatch: int = 512

    def generation_time_s(self, backends: Mapping[str, BackendConstants] | None = None) -> float:
        return generation_time_s(self.generation, self.depth, backends=backends)

    def step_time_s(self, n_seq: int, backends: Mapping[str, BackendConstants] | None = None) -> float:
        """Seconds per decode step of ``n_seq`` sequences together (aggregate tokens/s = n_seq / this)."""
        return step_time_s(self.generation, self.depth, n_seq, backends=backends)[0]

    def prompt_time_per_token_s(self, backends: Mapping[str, BackendConstants] | None = None) -> float:
        return prompt_time_per_token_s(
            self.prompt, cpu_offloaded_weight_bytes=self.cpu_offloaded_weight_bytes, ubatch=self.ubatch, backends=backends
        )


# What the formulas above compute, in words, for users (`check`'s basis line, the report's Formulas).
GENERATION_FORMULA = (
    "Generation: seconds per token = sum over devices (layers split across devices run one after the other) of "
    "[a smooth maximum (p-norm) of weight bytes read per token / (efficiency x effective bandwidth) and "
    "layers x a per-layer dispatch time] + KV-cache bytes read at the average depth / (KV efficiency x effective bandwidth) "
    "+ a fixed time per token (CPU backend). Effective bandwidth: the spec figure, capped on NVIDIA GPUs by the bytes in flight per SM. "
    "On the CPU the KV bytes join the weights and that memory time is combined (p-norm) with the mat-vec kernels' compute "
    "time per weight type; on Apple GPUs quantized weights take at least their dequantization compute time. "
    "Where `bench` measured this machine's llama.cpp CPU decode kernels, the weights of each measured type take "
    "elements x the measured seconds per weight per step (at the number of sequences decoded together), plus rows x "
    "the measured seconds per row where short rows cost more, instead of that memory and compute time; and where it "
    "measured decode attention, each sequence's attention takes query heads x layers x depth x the measured seconds "
    "per head and context position (at the model's head size) where that is longer than reading the KV bytes. "
    "Tokens/s = 1 / seconds per token."
)
PROMPT_FORMULA = (
    "Prompt: seconds per token = sum over devices of matmul FLOPs / (efficiency x peak) + attention FLOPs at the average "
    "depth / (attention efficiency x peak), plus on NVIDIA and Apple GPUs the attention scores' memory traffic / bandwidth; "
    "peak = dense FP16 tensor throughput by architecture on NVIDIA (capped at the board power x a fitted TFLOPS per watt, "
    "which binds on 300-350 W cards such as the RTX 6000 Ada, L40S and H100 PCIe), the profile's FP16 rate on other GPUs, and on the CPU "
    "the fp32 peak (cores x clock x SIMD) x a per-weight-type kernel factor. With partial offload the CPU layers' matmuls "
    "run on the GPU and their weights are copied over PCIe once per micro-batch. Efficiencies are per backend, fitted on "
    "measurements (docs/accuracy.md)."
)


# Said with every estimate whose layers sit on more than one device (check, report).
LAYER_SPLIT_NOTE = (
    "layer split over {n} devices: llama.cpp's default split (-sm layer) runs the devices one after another for each "
    "token, so generation is not faster than on one device with the same memory (their times add: more GPUs hold a "
    "bigger model, they do not read it faster); prompt batches also pass the devices in turn (pipelined across "
    "micro-batches only with several sequences)"
)


def basis_text(context: int, depth: int) -> str:
    """GENERATION_FORMULA and PROMPT_FORMULA in short, with the depth an estimate was evaluated at (`check`)."""
    return (
        "generation: per device, a smooth maximum of weight bytes read / (efficiency x bandwidth) and layers x dispatch time, "
        f"plus KV-cache bytes read at depth {depth} (the average over a {context}-token context) / bandwidth, devices added up, "
        "plus a fixed time per token (CPU); the CPU also limited by its kernels' compute rate per weight type "
        "(or their measured time per weight, after `bench` measured them); "
        "prompt: matmul and attention FLOPs / (efficiency x peak FLOPS; on NVIDIA the tensor peak, capped at the board's "
        "power limit x a fitted TFLOPS per watt)"
    )


def formula_lines() -> list[str]:
    """The speed formulas in words (GENERATION_FORMULA, PROMPT_FORMULA), for reports."""
    return [GENERATION_FORMULA, PROMPT_FORMULA]
