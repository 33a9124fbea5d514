"""Will it fit, and how: placement of layers on GPUs and RAM, verdict, follow-up answers.

Pure: takes a ModelSpec, a Quant, settings and a HardwareTarget; returns a FitEstimate.
"""

from __future__ import annotations

from dataclasses import dataclass

from hwbench import assumptions as A
from hwbench.arch import TensorSpec, model_tensors, source_tensors
from hwbench.errors import BadInput
from hwbench.estimate import memory as mem
from hwbench.estimate import speed as spd
from hwbench.quant import FILE_TYPES, GGML_TYPES, Quant, is_quantizable
from hwbench.schema import (
    ConcurrencyEstimate,
    DeviceMemory,
    EstimateSettings,
    FitEstimate,
    GpuTarget,
    HardwareTarget,
    MemoryEstimate,
    ModelSpec,
    ModelSummary,
    SpeedEstimate,
)

# Quants tried for "the best quant that fits", best first.
QUANT_LADDER = ["F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "IQ4_XS", "Q3_K_M", "IQ3_XXS", "Q2_K", "IQ2_XXS", "IQ1_M"]
# file types whose mix puts some tensors below the base type (llama-quant.cpp): the lowest type used
_MIX_FLOOR = {"IQ3_XS": "IQ3_XXS", "IQ3_XXS": "IQ2_S"}
MAX_CONTEXT = 10_000_000  # the longest context hwbench estimates for (validate_settings)


def external_tensors(m: ModelSpec, q: Quant) -> list[TensorSpec]:
    """Tensor sizes for a non-GGUF format: quantizable weights at the format's bits, embeddings at embed_bits."""
    assert q.external is not None
    out: list[TensorSpec] = []
    for name, shape, _src in source_tensors(m):
        layer = int(name.split(".")[1]) if name.startswith("blk.") else None
        n = 1
        for d in shape:
            n *= d
        if name in ("token_embd.weight", "output.weight"):
            bits = q.external.embed_bits
        elif is_quantizable(name, len(shape)):
            bits = q.external.bits_per_weight
        else:
            bits = 32.0
        out.append(_SizedTensor(name, shape, "F32", layer, int(n * bits / 8)))
    return out


class _SizedTensor(TensorSpec):
    """A TensorSpec whose byte size is given rather than derived from a ggml type."""

    def __init__(self, name: str, shape: tuple[int, ...], type_name: str, layer: int | None, n_bytes: int) -> None:
        super().__init__(name, shape, type_name, layer)
        object.__setattr__(self, "_n_bytes", n_bytes)

    @property
    def n_bytes(self) -> int:  # type: ignore[override]
        return self._n_bytes  # type: ignore[attr-defined,no-any-return]


def tensors_for(m: ModelSpec, q: Quant) -> list[TensorSpec]:
    if q.file_type is not None:
        return model_tensors(m, q.file_type.name)
    return external_tensors(m, q)


@dataclass
class Placement:
    gpu_layers: int  # llama.cpp -ngl: n_layer + 1 = everything incl. the output layer
    devices: list[DeviceMemory]
    fits: bool
    headroom: int  # smallest (capacity - need) over devices
    gpu_layer_counts: list[int]
    output_on_gpu: bool


_LAYOUTS: dict[tuple[int, int, float], tuple[list[TensorSpec], mem.WeightLayout]] = {}


def _layout(tensors: list[TensorSpec], n_layer: int, size_factor: float) -> mem.WeightLayout:
    """weight_layout, memoised for the same tensor list (the follow-up searches reuse it many times)."""
    key = (id(tensors), n_layer, size_factor)
    hit = _LAYOUTS.get(key)
    if hit is not None and hit[0] is tensors:
        return hit[1]
    if len(_LAYOUTS) > 64:
        _LAYOUTS.clear()
    layout = mem.weight_layout(tensors, n_layer, size_factor)
    _LAYOUTS[key] = (tensors, layout)  # holding the list keeps its id from being reused
    return layout


class _Ctx:
    """Everything placement needs, computed once per (model, quant, settings)."""

    def __init__(self, m: ModelSpec, tensors: list[TensorSpec], s: EstimateSettings, hw: HardwareTarget, size_factor: float = 1.0) -> None:
        self.m, self.s, self.hw = m, s, hw
        self.layout = _layout(tensors, m.n_layer, size_factor)
        by_cells: dict[int, int] = {}  # layers with the same cell count (full / windowed) cost the same
        self.kv = []
        for i in range(m.n_layer):
            cells = mem.kv_cells(m, s, i)
            if cells not in by_cells:
                by_cells[cells] = mem.kv_bytes_layer(m, s, i)
            self.kv.append(by_cells[cells])
        self.n_kv = mem.full_cells_per_stream(s)  # cells one stream's attention sees (N=1: pad(context, 256))
        self.out_buf = mem.output_buffer_bytes(m, max(1, s.concurrency))  # logits per sequence (llama-context.cpp, output_reserve(n_seq_max))
        self.os_reserve = mem.os_reserve_bytes(hw.ram_bytes)
        self.host_process = mem.host_process_bytes()
        self._compute: dict[tuple[bool, bool], int] = {}

    def gpu_capacity(self, g: GpuTarget) -> int:
        if g.unified_memory and g.backend == "metal":
            # Metal's recommended working-set limit: a share of RAM, larger on big Macs (assumed)
            big = g.memory_bytes > A.value("metal_working_set_threshold_gib") * mem.GiB
            frac = A.value("metal_working_set_large" if big else "metal_working_set_small")
            return int(g.memory_bytes * frac)
        return g.memory_bytes

    def compute(self, *, with_output: bool, with_layers: bool) -> int:
        """compute_bytes for this model and settings, memoised: placement asks for the same few cases."""
        key = (with_output, with_layers)
        hit = self._compute.get(key)
        if hit is None:
            hit = self._compute[key] = mem.compute_bytes(self.m, self.s, n_kv=self.n_kv, with_output=with_output, with_layers=with_layers)
        return hit

    def place(self, ngl: int) -> Placement:
        m, hw = self.m, self.hw
        L = m.n_layer
        gpus = hw.gpus
        ngl = max(0, min(ngl, L + 1)) if gpus else 0
        n_rep = min(ngl, L)  # repeating layers on GPUs: the last n_rep layers
        output_on_gpu = ngl > L
        first_gpu_layer = L - n_rep
        # split offloaded layers across GPUs proportionally to capacity (llama.cpp's default split)
        counts = [0] * len(gpus)
        if gpus and n_rep:
            caps = [self.gpu_capacity(g) for g in gpus]
            total_cap = sum(caps)
            acc = 0.0
            assigned = 0
            for i, c in enumerate(caps):
                acc += c / total_cap * n_rep
                k = round(acc) - assigned if i < len(caps) - 1 else n_rep - assigned
                counts[i] = max(0, k)
                assigned += counts[i]
        devices: list[DeviceMemory] = []
        layer = first_gpu_layer
        unified_used = 0
        for gi, g in enumerate(gpus):
            k = counts[gi]
            w = sum(self.layout.per_layer[layer : layer + k])
            kv = sum(self.kv[layer : layer + k])
            layer += k
            last = gi == len(gpus) - 1
            has_out = output_on_gpu and last
            if has_out:
                w += self.layout.output_bytes(on_gpu=True)
            uses = k > 0 or has_out
            comp = self.compute(with_output=has_out, with_layers=k > 0) if uses else 0
            ovh = mem.gpu_context_bytes(g.backend) if uses else 0
            total = w + kv + comp + ovh
            cap = self.gpu_capacity(g)
            if g.unified_memory:
                unified_used += total
            devices.append(
                DeviceMemory.model_construct(
                    device=f"GPU{gi} {g.name}",
                    weights_bytes=w,
                    kv_cache_bytes=kv,
                    compute_bytes=comp,
                    overhead_bytes=ovh,
                    total_bytes=total,
                    capacity_bytes=cap,
                    layers=k + (1 if has_out else 0),
                )
            )
        # host
        cpu_layers = first_gpu_layer
        hw_w = self.layout.input_bytes + sum(self.layout.per_layer[:cpu_layers])
        if not output_on_gpu:
            hw_w += self.layout.output_bytes(on_gpu=False)
        hw_kv = sum(self.kv[:cpu_layers])
        hw_comp = self.compute(with_output=not output_on_gpu, with_layers=cpu_layers > 0)
        hw_ovh = self.host_process + self.os_reserve
        host_total = hw_w + hw_kv + hw_comp + self.out_buf + hw_ovh
        host_cap = hw.ram_bytes
        # unified memory: GPU allocations come out of the same RAM (weights mapped once, not copied)
        host_total += unified_used
        devices.append(
            DeviceMemory.model_construct(
                device="RAM",
                weights_bytes=hw_w,
                kv_cache_bytes=hw_kv,
                compute_bytes=hw_comp,
                output_bytes=self.out_buf,
                overhead_bytes=hw_ovh,
                total_bytes=host_total,
                capacity_bytes=host_cap,
                layers=cpu_layers + (0 if output_on_gpu else 1),
            )
        )
        headroom = min(d.capacity_bytes - d.total_bytes for d in devices)
        return Placement(ngl, devices, headroom >= 0, headroom, counts, output_on_gpu)


def _choose(ctx: _Ctx, gpu_layers: int | None) -> tuple[str, Placement]:
    L = ctx.m.n_layer
    if gpu_layers is not None:
        p = ctx.place(gpu_layers)
        if not p.fits:
            return "none", p
        if p.gpu_layers > L:
            return "gpu", p
        return ("partial" if p.gpu_layers > 0 else "cpu"), p
    if ctx.hw.gpus:
        full = ctx.place(L + 1)
        if full.fits:
            return "gpu", full
        best = _most_gpu_layers(ctx)
        if best is not None:
            return "partial", best
    cpu = ctx.place(0)
    if cpu.fits:
        return "cpu", cpu
    return "none", (ctx.place(L + 1) if ctx.hw.gpus else cpu)


def _gpus_hold(p: Placement) -> bool:
    return all(d.total_bytes <= d.capacity_bytes for d in p.devices[:-1])  # the last device is RAM


def _most_gpu_layers(ctx: _Ctx) -> Placement | None:
    """The partial offload with the most repeating layers on the GPUs that fits, or None.

    GPU memory grows with every offloaded layer, so the largest count the GPUs hold is found by
    bisection. RAM need shrinks as layers move to the GPUs: if RAM does not hold the rest at that
    count it holds it at no smaller count, except with unified memory (GPU allocations come out
    of RAM too), where smaller counts are tried one by one.
    """
    L = ctx.m.n_layer
    if not _gpus_hold(ctx.place(1)):
        return None
    lo, hi = 1, L
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _gpus_hold(ctx.place(mid)):
            lo = mid
        else:
            hi = mid - 1
    p = ctx.place(lo)
    if p.fits:
        return p
    if any(g.unified_memory for g in ctx.hw.gpus):
        for n in range(lo - 1, 0, -1):
            p = ctx.place(n)
            if p.fits:
                return p
    return None


def _speed_inputs(ctx: _Ctx, p: Placement, tensors: list[TensorSpec]) -> tuple[spd.SpeedInputs, list[list[str]]]:
    """The speed formulas' inputs for placement ``p``, and per generation device the figures that were assumed."""
    m, s, hw = ctx.m, ctx.s, ctx.hw
    L = m.n_layer
    moe_frac = (m.n_expert_used / m.n_expert) if m.is_moe else 1.0
    read_per_layer = [
        ctx.layout.per_layer[i] - ctx.layout.expert_bytes_per_layer[i] * (1 - moe_frac) for i in range(L)
    ]
    if not m.is_moe and m.active_params and m.active_params < m.params:
        # a MoE given only as --params/--active-params: read the active share of each layer
        read_per_layer = [b * m.active_params / m.params for b in read_per_layer]
    # the output matrix is read once per token; its norm is negligible
    out_read = ctx.layout.output_bytes(on_gpu=True)
    active = _active_nonembed_params(m)
    flops_layer = 2 * active / L  # matmul flops per token per layer
    flops_out = 0.0  # prompt processing computes logits for the last token only (llama-bench, servers)
    depth = max(1, s.context // 2)
    # context tokens each layer attends to at that depth: a sliding-window (or chunked) layer reads at most its
    # window of KV cells per sequence (llama.cpp's iSWA cache keeps and masks to n_swa), the others the whole depth
    swa = mem.swa_layout(m)
    seen = [min(depth, swa[0]) if swa is not None and mem.is_swa_layer(m, i) else depth for i in range(L)]
    attn_flops = [4 * seen[i] * m.n_head * m.k_head_dim for i in range(L)]  # per token, per layer
    # KV bytes read per token of (average) depth, per sequence: windowed layers scaled to what they read
    kv_tok = [ctx.kv[i] / max(1, mem.kv_cells(m, s, i) * mem.kv_streams(s)) * seen[i] / depth for i in range(L)]
    # float weights run through GEMM, quantized ones through llama.cpp's own kernels (speed.py)
    quantized = any(t.type_name not in ("F16", "BF16", "F32") for t in tensors if t.layer is not None and len(t.shape) > 1)
    # matmul weight elements per ggml type, per layer (active experts only) and for the output matrix:
    # the CPU backend's throughput depends on the kernel each type runs through (speed.CPU_KERNELS)
    # and their rows (elements / row length): with measured CPU kernels, short rows cost more per weight (speed.py)
    types_layer: list[dict[str, float]] = [{} for _ in range(L)]
    rows_layer: list[dict[str, float]] = [{} for _ in range(L)]
    out_types: dict[str, float] = {}
    out_rows: dict[str, float] = {}
    has_output = not ctx.layout.tied
    for t in tensors:
        if len(t.shape) < 2:
            continue
        if t.layer is not None and 0 <= t.layer < L:
            share = moe_frac if len(t.shape) > 2 else 1.0
            types_layer[t.layer][t.type_name] = types_layer[t.layer].get(t.type_name, 0.0) + t.n_elements * share
            rows_layer[t.layer][t.type_name] = rows_layer[t.layer].get(t.type_name, 0.0) + t.n_rows * share
        elif t.name == ("output.weight" if has_output else "token_embd.weight"):
            out_types[t.type_name] = out_types.get(t.type_name, 0.0) + t.n_elements
            out_rows[t.type_name] = out_rows.get(t.type_name, 0.0) + t.n_rows

    def experts_of(first: int, last: int) -> int:
        """Bytes of all routed experts in layers first..last-1 (0 for a dense model)."""
        return int(sum(ctx.layout.expert_bytes_per_layer[first:last])) if m.is_moe else 0

    def types_of(first: int, last: int, per_layer: list[dict[str, float]] = types_layer) -> dict[str, float]:
        acc: dict[str, float] = {}
        for d in per_layer[first:last]:
            for k, v in d.items():
                acc[k] = acc.get(k, 0.0) + v
        return acc

    shares: list[spd.DeviceShare] = []
    assumed: list[list[str]] = []  # per share: which of its figures are assumed (no spec figure)
    first_gpu_layer = L - min(p.gpu_layers, L)
    layer = first_gpu_layer
    for gi, g in enumerate(hw.gpus):
        k = p.gpu_layer_counts[gi] if gi < len(p.gpu_layer_counts) else 0
        has_out = p.output_on_gpu and gi == len(hw.gpus) - 1
        if not k and not has_out:
            layer += k
            continue
        rd = sum(read_per_layer[layer : layer + k]) + (out_read if has_out else 0)
        kvt = sum(kv_tok[layer : layer + k])
        fl = k * flops_layer + (flops_out if has_out else 0)
        bw, tf = g.bandwidth_gbps, g.fp16_tflops
        assumed.append(([] if bw else ["bandwidth_gbps"]) + ([] if tf else ["tflops"]))
        bw = bw or A.value("gpu_bandwidth_unknown_gbps")
        tf = tf or A.value("gpu_tflops_unknown")
        shares.append(
            spd.DeviceShare(
                g.name, g.backend, bw, tf, k, int(rd), int(kvt), fl, sum(attn_flops[layer : layer + k]), quantized,
                types_of(layer, layer + k), (out_types if has_out else {}),
                expert_bytes=experts_of(layer, layer + k), expert_share=moe_frac, power_w=g.power_w or 0.0,
            )
        )
        layer += k
    cpu_layers = first_gpu_layer
    cpu_rd = sum(read_per_layer[:cpu_layers]) + (0 if p.output_on_gpu else out_read)
    cpu_fl = cpu_layers * flops_layer + (0 if p.output_on_gpu else flops_out)
    cpu_share = spd.DeviceShare(
        "CPU", "cpu", hw.cpu_bandwidth_gbps, hw.cpu_tflops, cpu_layers, int(cpu_rd), int(sum(kv_tok[:cpu_layers])), cpu_fl,
        sum(attn_flops[:cpu_layers]), quantized, types_of(0, cpu_layers), ({} if p.output_on_gpu else out_types),
        expert_bytes=experts_of(0, cpu_layers), expert_share=moe_frac, kernel_step_s=hw.cpu_kernel_step_s,
        kernel_row_s=hw.cpu_kernel_row_s, weight_rows=types_of(0, cpu_layers, rows_layer),
        output_rows=({} if p.output_on_gpu else out_rows),
        attn_s=hw.cpu_attn_s, attn_heads=sum(m.n_head * seen[i] / depth for i in range(cpu_layers)), head_dim=m.k_head_dim,
    )
    gen_shares = shares + ([cpu_share] if cpu_rd > 0 else [])
    assumed += [[]] * (len(gen_shares) - len(shares))
    # prompt processing: with a GPU present llama.cpp runs large-batch matmuls of CPU layers on the GPU
    if shares and cpu_layers > 0:
        g0 = shares[-1]
        moved = spd.DeviceShare(
            g0.name, g0.backend, g0.bandwidth_gbps, g0.tflops, 0, 0, 0, cpu_fl, cpu_share.attn_flops_per_token, quantized,
            cpu_share.weight_types, cpu_share.output_types, power_w=g0.power_w,
        )
        inputs = spd.SpeedInputs(
            gen_shares,
            depth,
            shares + [moved],
            cpu_offloaded_weight_bytes=int(sum(ctx.layout.per_layer[:cpu_layers])),
            ubatch=min(s.ubatch, s.context),
        )
    else:
        inputs = spd.SpeedInputs(gen_shares, depth, gen_shares if shares else [cpu_share])
    return inputs, assumed


def _assumed_gpu_notes(inputs: spd.SpeedInputs, assumed: list[list[str]]) -> list[str]:
    """One note per GPU kind whose bandwidth or FLOPS the estimate had to assume."""
    notes: list[str] = []
    for sh, what in zip(inputs.generation, assumed, strict=True):
        if not what:
            continue
        parts = []
        if "bandwidth_gbps" in what:
            parts.append(f"memory bandwidth {A.get('gpu_bandwidth_unknown_gbps').text()}")
        if "tflops" in what:
            parts.append(f"FP16 throughput {A.get('gpu_tflops_unknown').text()}")
        note = f"{sh.name}: no spec figure for it; {' and '.join(parts)} assumed (hwbench/assumptions.py): its speed is a guess"
        if note not in notes:
            notes.append(note)
    return notes


def _speed(ctx: _Ctx, p: Placement, tensors: list[TensorSpec]) -> tuple[SpeedEstimate, list[str]]:
    """The speed estimate for placement ``p`` and the notes on figures it assumed."""
    s, hw = ctx.s, ctx.hw
    inputs, assumed = _speed_inputs(ctx, p, tensors)
    gen_shares, depth = inputs.generation, inputs.depth
    t_gen = inputs.generation_time_s()
    t_pp = inputs.prompt_time_per_token_s()
    devices = []
    for sh, what in zip(gen_shares, assumed, strict=True):
        d: dict[str, object] = {
            "device": sh.name,
            "backend": sh.backend,
            "layers": sh.layers,
            "bandwidth_gbps": round(sh.bandwidth_gbps, 1),
            "bw_efficiency": spd.backend_constants(sh.backend).bw_efficiency,
            "tflops": round(sh.tflops, 2),
            "flops_efficiency": spd.backend_constants(sh.backend).flops_efficiency,
            "weight_bytes_per_token": sh.weight_bytes_read,
        }
        if sh.backend != "cpu":
            # the dense matrix rate prompt processing is estimated against: the tensor peak by architecture, capped at
            # the board power (speed.matrix_peak_tflops); "power_capped" says when that cap is what binds
            c = spd.backend_constants(sh.backend)
            peak, tensor = spd.matrix_peak_tflops(sh, c), spd.matrix_tflops(sh.name, sh.backend, sh.tflops)
            d["matrix_tflops"] = round(peak, 1)
            d["flops_efficiency"] = round(spd.gpu_matmul_efficiency(sh, c), 3)  # for these weights (quantized or not)
            if sh.power_w:
                d["power_w"] = sh.power_w
                d["power_capped"] = peak < tensor
        if what:
            d["assumed"] = what
        devices.append(d)
    info = {
        "depth_tokens": depth,
        "bytes_per_token": int(sum(sh.weight_bytes_read + sh.kv_bytes_per_ctx_token * depth for sh in gen_shares)),
        "devices": devices,
        "cpu_bandwidth_source": hw.cpu_bandwidth_source,
    }
    notes = _assumed_gpu_notes(inputs, assumed)
    n_dev = sum(1 for sh in gen_shares if sh.layers)
    if n_dev > 1:
        notes.append(spd.LAYER_SPLIT_NOTE.format(n=n_dev))
    basis = spd.basis_text(s.context, depth)
    if hw.calibration:
        basis += f"; {hw.calibration}"
    est = SpeedEstimate.model_construct(
        generation_tokens_per_s=round(1.0 / t_gen, 2) if t_gen > 0 else 0.0,
        prompt_tokens_per_s=round(1.0 / t_pp, 2) if t_pp > 0 else 0.0,
        source="estimated",
        basis=basis,
        inputs=info,
    )
    return est, notes


def speed_inputs(
    model: ModelSpec,
    quant: Quant,
    settings: EstimateSettings,
    hw: HardwareTarget,
    *,
    tensors: list[TensorSpec] | None = None,
    size_factor: float = 1.0,
) -> spd.SpeedInputs | None:
    """The per-device inputs of the speed formulas for the placement :func:`estimate_fit` chooses (None
    when the model does not fit): ``inputs.generation_time_s()`` and ``inputs.prompt_time_per_token_s()``
    give what the estimate reports (before rounding), and accept other backend constants to refit them."""
    validate_settings(model, settings)
    if tensors is None:
        tensors = tensors_for(model, quant)
    else:
        size_factor = 1.0  # exact tensors (a GGUF file) are never scaled
    ctx = _Ctx(model, tensors, settings, hw, size_factor)
    verdict, p = _choose(ctx, settings.gpu_layers)
    if verdict == "none":
        return None
    return _speed_inputs(ctx, p, tensors)[0]


MAX_SEQ = 256  # llama.cpp's LLAMA_MAX_SEQ (src/llama-cparams.h): llama_context refuses a larger n_seq_max


def _largest(ok, top: int) -> int | None:  # type: ignore[no-untyped-def]
    """Largest n in 1..top with ok(n), ok being monotone (true then false); None when ok(1) fails."""
    if not ok(1):
        return None
    lo, hi = 1, top
    if ok(hi):
        return hi
    while hi - lo > 1:  # ok(lo), not ok(hi)
        mid = (lo + hi) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo


def max_concurrency(
    model: ModelSpec,
    quant: Quant,
    settings: EstimateSettings,
    hw: HardwareTarget,
    mode: str = "cpu",
    *,
    tensors: list[TensorSpec] | None = None,
    size_factor: float = 1.0,
) -> int | None:
    """Largest number of parallel sequences of ``settings.context`` tokens that fits ``hw`` in placement ``mode``
    (gpu: all on the GPUs; partial: GPUs + RAM; cpu: anywhere), at most MAX_SEQ; None when not even one does."""

    def fits(k: int) -> bool:
        s2 = settings.model_copy(update={"concurrency": k})
        return _mode_ok(verdict_only(model, quant, s2, hw, tensors=tensors, size_factor=size_factor), mode)

    return _largest(fits, MAX_SEQ)


def concurrency_estimate(
    model: ModelSpec,
    quant: Quant,
    settings: EstimateSettings,
    hw: HardwareTarget,
    verdict: str,
    target_tokens_per_s: float | None,
    *,
    tensors: list[TensorSpec] | None = None,
    size_factor: float = 1.0,
) -> ConcurrencyEstimate | None:
    """Serving ``settings.concurrency`` sequences: aggregate and per-user generation speed, and the largest
    concurrency that fits (in the same placement mode) and that still gives every user ``target_tokens_per_s``."""
    n = max(1, settings.concurrency)
    inputs = speed_inputs(model, quant, settings, hw, tensors=tensors, size_factor=size_factor)
    if inputs is None:
        return None
    t_step, bound = spd.step_time_s(inputs.generation, inputs.depth, n)
    t_pp = inputs.prompt_time_per_token_s()
    mode = verdict if verdict in ("gpu", "partial") else "cpu"

    def at(k: int) -> EstimateSettings:
        return settings.model_copy(update={"concurrency": k})

    max_fit = max_concurrency(model, quant, settings, hw, mode, tensors=tensors, size_factor=size_factor)
    max_target = None
    if target_tokens_per_s and max_fit:

        def meets(k: int) -> bool:
            si = speed_inputs(model, quant, at(k), hw, tensors=tensors, size_factor=size_factor)
            return si is not None and 1.0 / si.step_time_s(k) >= target_tokens_per_s

        max_target = _largest(meets, max_fit)
    unified = "one KV buffer shared by the sequences (--kv-unified)" if settings.kv_unified else "one KV buffer per sequence (llama.cpp's default, no --kv-unified)"
    return ConcurrencyEstimate.model_construct(
        n_seq=n,
        kv_unified=settings.kv_unified,
        aggregate_generation_tokens_per_s=round(n / t_step, 2) if t_step > 0 else 0.0,
        per_user_generation_tokens_per_s=round(1.0 / t_step, 2) if t_step > 0 else 0.0,
        prompt_tokens_per_s=round(1.0 / t_pp, 2) if t_pp > 0 else 0.0,
        bound=bound,
        max_concurrency_fits=max_fit,
        max_concurrency_meeting_target=max_target,
        target_tokens_per_s=target_tokens_per_s,
        limit=MAX_SEQ,
        source="estimated",
        basis=(
            f"{n} sequences of {settings.context} tokens decoded together, {unified}: weights read once per step, "
            "each sequence's KV cache read per step, matmul work x sequences; memory-bound -> compute-bound by a smooth "
            f"maximum (p = {spd.batch_p():g}, assumed: hwbench/assumptions.py batch_decode_p; not fitted on batched measurements)"
        ),
    )


def _active_nonembed_params(m: ModelSpec) -> float:
    from hwbench.arch import active_params

    act = active_params(m) if m.is_moe else (m.active_params or m.params)
    embd = m.vocab * m.n_embd * (1 if m.tied_embeddings else 2)
    return max(act - embd, act * 0.5)


def validate_settings(m: ModelSpec, s: EstimateSettings) -> None:
    if s.context < 1:
        raise BadInput(f"--context {s.context} must be at least 1")
    if s.context > MAX_CONTEXT:
        raise BadInput(f"--context {s.context} is larger than {MAX_CONTEXT:,} tokens")
    if s.ubatch < 1 or s.batch < 1:
        raise BadInput("--batch and --ubatch must be at least 1")
    if s.kv_type.lower() not in mem.KV_TYPES:
        raise BadInput(f"--kv-type {s.kv_type!r} unknown; accepted: {', '.join(mem.KV_TYPES)}")
    if s.kv_type.lower() not in ("f16", "f32", "bf16") and not s.flash_attn:
        raise BadInput(f"--kv-type {s.kv_type} needs --flash-attn on (llama.cpp refuses a quantized V cache without flash attention)")
    if s.gpu_layers is not None and s.gpu_layers < 0:
        raise BadInput(f"--gpu-layers {s.gpu_layers} must be 0 or more (or 'auto')")
    if s.concurrency < 1 or s.concurrency > MAX_SEQ:
        raise BadInput(f"--concurrency {s.concurrency} must be between 1 and {MAX_SEQ} (llama.cpp's most parallel sequences)")
    if s.context * s.concurrency > MAX_CONTEXT * MAX_SEQ:
        raise BadInput(f"--context {s.context} x --concurrency {s.concurrency} is beyond any llama.cpp context")


# Results are built with model_construct: they are computed here, not read from outside, and
# skipping validation spares `hwbench check` pydantic's schema build (~14 ms) on the table path.
# tests/estimate/test_fit.py::test_results_validate round-trips them through validation.
def estimate_fit(
    model: ModelSpec,
    quant: Quant,
    settings: EstimateSettings,
    hw: HardwareTarget,
    *,
    tensors: list[TensorSpec] | None = None,
    model_source: str = "profile",
    size_factor: float = 1.0,
    reference_gpus: list[GpuTarget] | None = None,
    follow_ups: bool = True,
    concurrency_answers: bool = False,
    target_tokens_per_s: float | None = None,
) -> FitEstimate:
    """Fit verdict, memory breakdown and speed for ``model`` at ``quant`` on ``hw``. ``concurrency_answers``: also
    serving ``settings.concurrency`` sequences at once (est.concurrency; always when concurrency > 1)."""
    validate_settings(model, settings)
    given_tensors = tensors
    if tensors is None:
        tensors = tensors_for(model, quant)
    else:
        size_factor = 1.0  # exact tensors (a GGUF file) are never scaled
    ctx = _Ctx(model, tensors, settings, hw, size_factor)
    verdict, p = _choose(ctx, settings.gpu_layers)
    L = model.n_layer
    weights = ctx.layout.total
    if p.output_on_gpu and ctx.layout.tied:
        weights += ctx.layout.output_matrix_bytes  # the GPU holds its own copy of the tied embedding
    kv_total = sum(ctx.kv)
    comp = sum(d.compute_bytes for d in p.devices)
    ovh = sum(d.overhead_bytes for d in p.devices)
    outb = sum(d.output_bytes for d in p.devices)
    memory = MemoryEstimate.model_construct(
        weights_bytes=weights,
        kv_cache_bytes=kv_total,
        compute_bytes=comp,
        output_bytes=outb,
        overhead_bytes=ovh,
        total_bytes=weights + kv_total + comp + outb + ovh,
        per_device=p.devices,
    )
    n_params = model.params  # a scaled reference shape already carries the requested total
    act = model.active_params or model.params
    if model.is_moe and model.active_params is None:
        from hwbench.arch import active_params

        act = active_params(model)
    bpw = ctx.layout.total * 8 / max(1, n_params)
    summary = ModelSummary.model_construct(
        name=model.name,
        arch=model.arch,
        params=n_params,
        active_params=int(act),
        quant=quant.name,
        bits_per_weight=round(bpw, 3),
        n_layer=L,
        source=model_source,
        assumed_from=model.assumed_from,
    )
    speed_notes: list[str] = []
    if verdict != "none":
        speed, speed_notes = _speed(ctx, p, tensors)
    else:
        speed = SpeedEstimate.model_construct(
            generation_tokens_per_s=0.0, prompt_tokens_per_s=0.0, source="estimated", basis="does not fit: no speed"
        )
    est = FitEstimate.model_construct(
        verdict=verdict,  # type: ignore[arg-type]
        verdict_text=_verdict_text(verdict, p, L, hw),
        gpu_layers=min(p.gpu_layers, L + 1),
        total_layers=L + 1,
        headroom_bytes=p.headroom,
        model=summary,
        settings=settings,
        hardware=hw,
        memory=memory,
        speed=speed,
    )
    est.notes.extend(speed_notes)
    if verdict == "none":
        est.headroom_bytes = _shortfall(ctx)
    if verdict != "none" and (concurrency_answers or settings.concurrency > 1):
        est.concurrency = concurrency_estimate(
            model, quant, settings, hw, verdict, target_tokens_per_s, tensors=given_tensors, size_factor=size_factor
        )
    if follow_ups:
        _follow_ups(est, model, quant, settings, hw, size_factor, reference_gpus or [], exact_tensors=given_tensors)
    return est


def _shortfall(ctx: _Ctx) -> int:
    """Negative: how much memory is missing for the best arrangement (all of GPUs + RAM)."""
    best = None
    for n in ([ctx.m.n_layer + 1] if ctx.hw.gpus else []) + [0]:
        p = ctx.place(n)
        need = sum(max(0, d.total_bytes - d.capacity_bytes) for d in p.devices)
        best = need if best is None else min(best, need)
    return -(best or 0)


def _verdict_text(verdict: str, p: Placement, L: int, hw: HardwareTarget) -> str:
    n_gpu = len(hw.gpus)
    gpus = f"{n_gpu} GPU{'s' if n_gpu != 1 else ''}"
    if verdict == "gpu":
        return f"fits fully on {gpus} ({L + 1}/{L + 1} layers offloaded)"
    if verdict == "partial":
        return f"partial offload: {p.gpu_layers} of {L + 1} layers on {gpus}, the rest on the CPU"
    if verdict == "cpu":
        return "runs on the CPU only (fits in RAM)" if not n_gpu else "does not fit on the GPU at all; runs on the CPU from RAM"
    return "does not fit in this machine's memory"


def _follow_ups(
    est: FitEstimate,
    model: ModelSpec,
    quant: Quant,
    settings: EstimateSettings,
    hw: HardwareTarget,
    size_factor: float,
    reference_gpus: list[GpuTarget],
    exact_tensors: list[TensorSpec] | None = None,
) -> None:
    """Best quants, longest context per mode, GPUs needed. ``exact_tensors``: a GGUF's own tensors."""

    def verdict_for(q: str | Quant, ctx_len: int, target: HardwareTarget, ngl: int | None = None) -> str:
        qq = q if isinstance(q, Quant) else Quant(q, FILE_TYPES[q], None)
        s2 = settings.model_copy(update={"context": ctx_len, "gpu_layers": ngl})
        same = qq.name == quant.name
        return verdict_only(model, qq, s2, target, tensors=exact_tensors if same else None, size_factor=size_factor)

    if quant.is_gguf:
        ladder = QUANT_LADDER
        if hw.gpus:
            est.best_quant_gpu = next((q for q in ladder if verdict_for(q, settings.context, hw) == "gpu"), None)
        est.best_quant_any = next((q for q in ladder if verdict_for(q, settings.context, hw) != "none"), None)
    # longest context per mode
    top = min(model.context_length or 131072, MAX_CONTEXT)
    modes = ["gpu", "partial", "cpu"] if hw.gpus else ["cpu"]
    for mode in modes:
        est.max_context[mode] = max_context(lambda c, mode=mode: _mode_ok(verdict_for(quant, c, hw), mode), top)
    # how many GPUs of a kind would hold it fully
    kinds: list[GpuTarget] = []
    if hw.gpus:
        kinds.append(hw.gpus[0])
    kinds += [g for g in reference_gpus if all(g.name != k.name for k in kinds)]
    for g in kinds:
        n = _gpus_needed(model, quant, settings, hw, g, size_factor, exact_tensors)
        est.gpus_needed[g.name] = n
        per_node = int(A.value("gpus_per_node"))
        if n and n > per_node:
            nodes = -(-n // per_node)
            est.notes.append(f"{n} x {g.name} = {nodes} nodes of {per_node} GPUs (multi-node: llama.cpp RPC or another server)")


def _mode_ok(verdict: str, mode: str) -> bool:
    order = {"gpu": 3, "partial": 2, "cpu": 1, "none": 0}
    if mode == "gpu":
        return verdict == "gpu"
    if mode == "partial":
        return order[verdict] >= 2
    return order[verdict] >= 1


def max_context(ok, top: int) -> int | None:  # type: ignore[no-untyped-def]
    """Largest context (multiple of 256, at most ``top``) for which ok(context) holds."""
    if not ok(min(256, top)):
        return None
    if ok(top):
        return top
    lo, hi = 256, top  # ok(lo), not ok(hi)
    while hi - lo > 256:
        mid = ((lo + hi) // 2) // 256 * 256
        if mid <= lo:
            break
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _gpus_needed(
    model: ModelSpec,
    quant: Quant,
    settings: EstimateSettings,
    hw: HardwareTarget,
    g: GpuTarget,
    size_factor: float,
    exact_tensors: list[TensorSpec] | None = None,
) -> int | None:
    for n in (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64):
        target = hw.model_copy(update={"gpus": [g] * n, "label": f"{n} x {g.name}"})
        s2 = settings.model_copy(update={"gpu_layers": None})
        if verdict_only(model, quant, s2, target, tensors=exact_tensors, size_factor=size_factor) == "gpu":
            return n
    return None


def verdict_only(
    model: ModelSpec,
    quant: Quant,
    settings: EstimateSettings,
    hw: HardwareTarget,
    *,
    tensors: list[TensorSpec] | None = None,
    size_factor: float = 1.0,
) -> str:
    """Just the verdict of :func:`estimate_fit` (no speed, no records): for the follow-up searches."""
    validate_settings(model, settings)
    if tensors is None and quant.file_type is not None:
        # every tensor of a llama.cpp mix is at least its floor type (bumps and fallbacks only add
        # bits; IQ3_XS/IQ3_XXS move some tensors one type down), so weights >= params x floor
        # bits: beyond all memory there is nothing to place
        floor = _MIX_FLOOR.get(quant.file_type.name)
        floor_bpw = GGML_TYPES[floor].bits_per_weight if floor else quant.file_type.nominal_bpw
        lower_bound = model.params * floor_bpw / 8
        unified = any(g.unified_memory for g in hw.gpus)
        capacity = hw.ram_bytes + (0 if unified else sum(g.memory_bytes for g in hw.gpus))
        if lower_bound > capacity:
            return "none"
    if tensors is None:
        tensors = tensors_for(model, quant)
    else:
        size_factor = 1.0
    return _choose(_Ctx(model, tensors, settings, hw, size_factor), settings.gpu_layers)[0]
