"""pydantic models of everything that crosses a boundary or a file.

Units are in the field names (``_bytes``, ``_gbps`` = 10^9 bytes/s, ``_ns``, ``tokens_per_s``).
Bytes are ints. Bump :data:`SCHEMA_VERSION` and note it in CHANGELOG.md whenever a stored
record's shape changes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

SCHEMA_VERSION = 1

Source = Literal["measured", "estimated", "profile", "detected", "assumed", "user", "probed"]


class _Model(BaseModel):
    # Records written by newer hwbench versions may carry extra fields: keep reading them.
    model_config = ConfigDict(extra="ignore", protected_namespaces=(), defer_build=True)


# ----------------------------------------------------------------------------- inventory


class CpuInfo(_Model):
    vendor: str | None = None
    model: str | None = None
    arch: str | None = None  # x86_64, aarch64 ...
    physical_cores: int | None = None
    logical_cores: int | None = None
    sockets: int | None = None
    base_mhz: float | None = None
    max_mhz: float | None = None
    flags: list[str] = Field(default_factory=list)  # the ISA features llama.cpp cares about
    l2_cache_bytes: int | None = None
    l3_cache_bytes: int | None = None
    numa_nodes: int | None = None


class MemoryInfo(_Model):
    total_bytes: int | None = None
    available_bytes: int | None = None
    swap_total_bytes: int | None = None
    swap_free_bytes: int | None = None
    cgroup_limit_bytes: int | None = None  # memory.max / memory.limit_in_bytes when set
    effective_bytes: int | None = None  # min(total, cgroup limit): what a process may really use


class DiskInfo(_Model):
    path: str
    total_bytes: int | None = None
    free_bytes: int | None = None
    rotational: bool | None = None  # None where unknown, also for a virtual disk (the kernel's flag means nothing there)
    device: str | None = None
    virtual_disk: str | None = None  # what shows the disk is virtual ("virtio-blk", "Amazon EBS" ...); None: not seen as virtual


class GpuInfo(_Model):
    index: int
    vendor: str  # NVIDIA, AMD, Intel, Apple
    name: str
    backend: str | None = None  # cuda, rocm, sycl, metal, vulkan
    memory_total_bytes: int | None = None
    memory_free_bytes: int | None = None
    unified_memory: bool = False  # shares system RAM (Apple, GH200, Jetson, iGPU)
    compute_capability: str | None = None
    driver_version: str | None = None
    cuda_version: str | None = None
    pcie_gen: int | None = None
    pcie_width: int | None = None
    power_limit_w: float | None = None
    nvlink_links: int | None = None
    mig_enabled: bool | None = None
    gpu_cores: int | None = None
    uuid: str | None = None  # redacted in shared reports
    serial: str | None = None  # redacted in shared reports
    pci_bus_id: str | None = None
    notes: list[str] = Field(default_factory=list)


class AcceleratorInfo(_Model):
    kind: str  # npu, tpu, edge_tpu, ...
    vendor: str | None = None
    name: str
    driver: str | None = None
    path: str | None = None
    usable_by_llamacpp: bool = False
    usable_by_torch: bool = False
    note: str | None = None


class TorchInfo(_Model):
    version: str | None = None
    cuda: bool = False
    mps: bool = False
    xpu: bool = False
    devices: list[str] = Field(default_factory=list)


class VirtInfo(_Model):
    hypervisor: bool | None = None
    container: bool | None = None
    sys_vendor: str | None = None
    product_name: str | None = None
    cloud: str | None = None  # "Amazon EC2", "Google Compute Engine", "Hetzner" ...


class HostInfo(_Model):
    schema_version: int = SCHEMA_VERSION
    hwbench_version: str | None = None
    detected_at: str | None = None
    hostname: str | None = None  # redacted in shared reports
    os: str | None = None
    kernel: str | None = None
    python: str | None = None
    cpu: CpuInfo = Field(default_factory=CpuInfo)
    memory: MemoryInfo = Field(default_factory=MemoryInfo)
    disk: DiskInfo | None = None
    gpus: list[GpuInfo] = Field(default_factory=list)
    accelerators: list[AcceleratorInfo] = Field(default_factory=list)
    torch: TorchInfo | None = None
    virt: VirtInfo = Field(default_factory=VirtInfo)
    warnings: list[str] = Field(default_factory=list)  # a probe failed or found something wrong
    notes: list[str] = Field(default_factory=list)  # informational: e.g. no NVIDIA driver on a CPU-only box


# ----------------------------------------------------------------------------- models


class ModelSpec(_Model):
    """A model's architecture: enough to list its tensors and size its KV cache."""

    name: str
    arch: str = "llama"  # llama.cpp architecture name: llama, qwen2, gemma2, phi3, deepseek2 ...
    params: int  # total parameters
    active_params: int | None = None  # per token (MoE); None = params
    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    head_dim: int | None = None  # default n_embd / n_head
    head_dim_v: int | None = None  # default head_dim
    n_ff: int
    vocab: int
    tied_embeddings: bool = False
    qkv_bias: bool = False
    # mixture of experts
    n_expert: int = 0
    n_expert_used: int = 0
    n_ff_exp: int | None = None
    n_expert_shared: int = 0
    n_ff_shexp: int | None = None
    n_dense_lead: int = 0  # leading layers with a dense FFN (DeepSeek)
    # multi-head latent attention (DeepSeek V2/V3)
    q_lora_rank: int | None = None
    kv_lora_rank: int | None = None
    qk_rope_dim: int | None = None
    # sliding-window attention (Gemma 2/3): every `swa_period`-th layer is global, the others windowed
    sliding_window: int | None = None
    swa_period: int | None = None
    context_length: int | None = None  # trained maximum
    source: str | None = None
    assumed_from: str | None = None  # set when a bare --params borrowed a reference shape
    # issue 10 (architectures), appended: optional, None/False/0 = the architecture's llama.cpp default
    attn_chunk: int | None = None  # Llama 4 chunked attention: tokens per chunk (llama.cpp: 8192) on swa layers
    moe_every: int | None = None  # Llama 4 interleave_moe_layer_step: every k-th layer MoE, the others dense
    attn_sinks: bool = False  # gpt-oss: learned per-head attention sink logits (blk.N.attn_sinks)
    moe_bias: bool = False  # gpt-oss: biases on the router and on every expert matrix

    @property
    def k_head_dim(self) -> int:
        return self.head_dim or self.n_embd // self.n_head

    @property
    def v_head_dim(self) -> int:
        return self.head_dim_v or self.k_head_dim

    @property
    def is_moe(self) -> bool:
        return self.n_expert > 1


# ----------------------------------------------------------------------------- hardware to estimate for


class GpuTarget(_Model):
    name: str
    memory_bytes: int
    bandwidth_gbps: float | None = None
    fp16_tflops: float | None = None
    power_w: float | None = None  # board power limit (W): enforced limit where detected, else the profile TDP; caps prompt GEMMs (estimate/speed.py)
    backend: str = "cuda"  # cuda, rocm, metal, sycl, vulkan
    unified_memory: bool = False
    source: Source = "detected"
    profile_source: str | None = None


class HardwareTarget(_Model):
    """The machine an estimate is for: this one (detected) or a what-if one."""

    label: str
    gpus: list[GpuTarget] = Field(default_factory=list)
    ram_bytes: int
    ram_source: Source = "detected"
    cpu_bandwidth_gbps: float
    cpu_bandwidth_source: Source = "assumed"
    cpu_tflops: float  # fp32 peak of all cores, for prompt processing
    cpu_tflops_source: Source = "assumed"
    cpu_cores: int = 1
    calibration: str | None = None  # "calibrated from run ..." when measured figures replace assumptions
    # this machine's llama.cpp CPU decode kernels, measured by `bench` at cpu_cores threads (hwbench/bench/kernels.py):
    # seconds per weight element per decode step of n sequences, {ggml type: {n: s}}; the calibration text names them
    cpu_kernel_step_s: dict[str, dict[int, float]] | None = Field(default=None, exclude=True)
    # and seconds per weight row, {ggml type: {n: s}}, for the types where rows of fewer weights cost more per weight;
    # used only with cpu_kernel_step_s
    cpu_kernel_row_s: dict[str, dict[int, float]] | None = Field(default=None, exclude=True)
    # and decode attention, measured: seconds per (sequence, query head, layer, context position), {head size: s}
    cpu_attn_s: dict[int, float] | None = Field(default=None, exclude=True)
    nodes: int = 1
    notes: list[str] = Field(default_factory=list)

    def without_measured_cpu(self, *, keep_attention: bool = False, **update: Any) -> HardwareTarget:
        """A copy with ``update`` applied and this machine's measured CPU tables (the kernel probe's, above) dropped, so
        that the formulas (bandwidth, CPU_KERNELS, KV bytes) decide instead: the one list of those fields, for every
        caller that must not use them (a what-if machine, the calibration's bandwidth solve, the probe's own KV term,
        which keeps the attention table with ``keep_attention``)."""
        drop: dict[str, Any] = {"cpu_kernel_step_s": None, "cpu_kernel_row_s": None}
        if not keep_attention:
            drop["cpu_attn_s"] = None
        return self.model_copy(update={**update, **drop})


# ----------------------------------------------------------------------------- estimates


class EstimateSettings(_Model):
    context: int
    kv_type: str = "f16"
    flash_attn: bool = True
    batch: int = 2048
    ubatch: int = 512
    gpu_layers: int | None = None  # None = auto
    # Optional (issue 13): parallel sequences served at once (llama.cpp -np), each with ``context`` tokens, and
    # whether they share one KV buffer (llama.cpp --kv-unified). Left out of the JSON at their defaults, so an
    # N=1 estimate's output is byte-identical to one made before these fields existed.
    concurrency: int = 1
    kv_unified: bool = False

    @model_serializer(mode="wrap")
    def _drop_defaults(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        d = handler(self)
        if d.get("concurrency") == 1:
            d.pop("concurrency", None)
        if d.get("kv_unified") is False:
            d.pop("kv_unified", None)
        return d  # type: ignore[no-any-return]


class ModelSummary(_Model):
    name: str
    arch: str
    params: int
    active_params: int
    quant: str
    bits_per_weight: float  # effective, from the per-tensor mix
    n_layer: int
    source: str  # "profile", "gguf", "reference shape of X"
    assumed_from: str | None = None


class DeviceMemory(_Model):
    device: str  # "GPU0 NVIDIA GeForce RTX 3090", "RAM"
    weights_bytes: int = 0
    kv_cache_bytes: int = 0
    compute_bytes: int = 0
    output_bytes: int = 0
    overhead_bytes: int = 0
    total_bytes: int = 0
    capacity_bytes: int = 0
    layers: int = 0


class MemoryEstimate(_Model):
    weights_bytes: int
    kv_cache_bytes: int
    compute_bytes: int
    output_bytes: int
    overhead_bytes: int
    total_bytes: int
    per_device: list[DeviceMemory] = Field(default_factory=list)
    source: Source = "estimated"


# The inference engine every speed estimate describes: llama.cpp (its CPU, CUDA, Metal backends; layer split across
# GPUs). vLLM/SGLang are not modelled: docs/accuracy.md says why.
ESTIMATE_ENGINE = "llama.cpp"


class SpeedEstimate(_Model):
    generation_tokens_per_s: float
    prompt_tokens_per_s: float
    source: Source = "estimated"
    engine: str = ESTIMATE_ENGINE  # which inference engine the speeds are for
    basis: str = ""
    inputs: dict[str, Any] = Field(default_factory=dict)


class ModeAnswer(_Model):
    mode: str  # gpu, partial, cpu
    max_context: int | None = None


class FitSuggestion(_Model):
    change: str  # the option that gives room, e.g. "--quant Q4_K_M", "--context 4096", "--kv-type q8_0"
    frees_bytes: int  # headroom gained in the tightest memory pool (estimated, same layer split)
    headroom_bytes: int  # headroom in that pool after the change (estimated)


class TightFit(_Model):
    margin_bytes: int  # the headroom a fit should leave (assumed: assumptions.tight_fit_margin_gib)
    pool: str  # the tightest memory pool: "GPU0 NVIDIA GeForce RTX 3090", "RAM"
    reason: str  # why that headroom may not be there on a real machine
    suggestions: list[FitSuggestion] = Field(default_factory=list)


class ConcurrencyEstimate(_Model):
    """Serving ``n_seq`` sequences at once (llama.cpp -np), each with the estimate's context. All estimated."""

    n_seq: int
    kv_unified: bool = False
    aggregate_generation_tokens_per_s: float  # all sequences together
    per_user_generation_tokens_per_s: float  # what each sequence sees
    prompt_tokens_per_s: float  # prompt processing is already batched (n_ubatch): the same rate, shared by the sequences
    bound: str  # "memory" or "compute": which term dominates a decode step at n_seq
    max_concurrency_fits: int | None = None  # largest n_seq that still fits (same placement mode) at this context
    max_concurrency_meeting_target: int | None = None  # largest n_seq at which each user gets >= target_tokens_per_s
    target_tokens_per_s: float | None = None
    limit: int = 256  # llama.cpp's LLAMA_MAX_SEQ: the searches stop there
    source: Source = "estimated"
    basis: str = ""


class FitEstimate(_Model):
    schema_version: int = SCHEMA_VERSION
    verdict: Literal["gpu", "partial", "cpu", "none"]
    verdict_text: str
    gpu_layers: int
    total_layers: int
    headroom_bytes: int  # >0: spare memory in the binding pool; <0: shortfall
    model: ModelSummary
    settings: EstimateSettings
    hardware: HardwareTarget
    memory: MemoryEstimate
    speed: SpeedEstimate | None
    best_quant_gpu: str | None = None  # best quant that fits fully on the GPU(s)
    best_quant_any: str | None = None  # best quant that runs at all here
    max_context: dict[str, int | None] = Field(default_factory=dict)  # per mode
    gpus_needed: dict[str, int | None] = Field(default_factory=dict)  # GPU name -> count for full offload
    notes: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    tight_fit: TightFit | None = None  # set by `check` when the headroom is below the margin
    concurrency: ConcurrencyEstimate | None = None  # issue 13: only when --concurrency was given (left out of the JSON otherwise)

    @model_serializer(mode="wrap")
    def _drop_unset_concurrency(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        d = handler(self)
        if d.get("concurrency", 0) is None:
            d.pop("concurrency")
        return d  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- benchmarks


class BenchResult(_Model):
    test: str  # "pp512", "tg128", "tg128@d4096", "membw_read", "matmul_bf16_cuda0" ...
    backend: str = "llama.cpp"  # llama.cpp, torch
    device: str | None = None
    n_prompt: int = 0
    n_gen: int = 0
    depth: int = 0
    threads: int | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    tokens_per_s: float | None = None  # mean; for micro-benchmarks see value/unit
    stddev_tokens_per_s: float | None = None
    samples_ns: list[int] = Field(default_factory=list)
    value: float | None = None  # micro-benchmarks: GB/s, TFLOP/s
    unit: str | None = None
    predicted_tokens_per_s: float | None = None
    prediction_error_pct: float | None = None
    extrapolated_from_layers: int | None = None  # "extrapolated from K of N layers"
    total_layers: int | None = None
    error: str | None = None


class RunRecord(_Model):
    schema_version: int = SCHEMA_VERSION
    run_id: str
    created_at: str
    hwbench_version: str
    llama_cpp_version: str | None = None
    torch_version: str | None = None
    host: HostInfo
    model: dict[str, Any] = Field(default_factory=dict)  # name, arch, quant, params, file, synthetic
    settings: dict[str, Any] = Field(default_factory=dict)
    results: list[BenchResult] = Field(default_factory=list)
    load_time_ns: int | None = None
    peak_rss_bytes: int | None = None
    peak_vram_bytes: int | None = None
    partial: bool = False
    error: str | None = None
    notes: list[str] = Field(default_factory=list)
    # what this run calibrated (hwbench.calibration.Calibration's fields), so a report rendered
    # elsewhere estimates this machine with the measured figures too
    calibration: dict[str, Any] | None = None
