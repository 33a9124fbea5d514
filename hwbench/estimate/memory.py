"""Memory a llama.cpp model instance needs, component by component. Pure functions, no I/O.

Components, as llama.cpp itself reports them when it loads a model:

- weights: the model buffer, per tensor with its real ggml type (see hwbench.arch / hwbench.quant);
  the input embedding always stays in host memory, the output layer goes to the GPU only when all
  layers are offloaded (``-ngl`` > n_layer), as in llama.cpp's layer placement.
- KV cache: per layer ``row_size(type_k, n_embd_k_gqa) * kv_size`` + the same for V, where
  kv_size is the context padded to 256 cells; sliding-window layers (Gemma 2/3) keep only
  ``n_swa + n_ubatch`` cells (llama.cpp's iSWA cache); MLA models (DeepSeek) cache the compressed
  latent (kv_lora_rank + rope dims) and no separate V.
- compute buffer: the peak of the graph allocator over the worst-case micro-batch (n_ubatch
  tokens): the larger of the attention phase (without flash attention the KQ score matrix
  ``n_kv x n_ubatch x n_head`` f32 dominates), the FFN phase and the output phase (logits
  ``n_vocab x n_ubatch`` f32).
- output buffer: logits for the sequences kept between calls (``n_vocab * 4`` bytes per sequence).
- overhead: per-GPU runtime context (CUDA/ROCm context + BLAS workspaces) and an OS reserve in RAM.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hwbench import assumptions as A
from hwbench.arch import TensorSpec, n_shared_experts
from hwbench.quant import GGML_TYPES
from hwbench.schema import EstimateSettings, ModelSpec

MiB = 2**20
GiB = 2**30

KV_PAD = 256  # llama.cpp pads the KV cache size to a multiple of 256 cells
KV_TYPES = {
    "f16": "F16",
    "f32": "F32",
    "bf16": "BF16",
    "q8_0": "Q8_0",
    "q4_0": "Q4_0",
    "q4_1": "Q4_1",
    "q5_0": "Q5_0",
    "q5_1": "Q5_1",
    "iq4_nl": "IQ4_NL",
}

# Runtime context per GPU, in device memory: not a llama.cpp buffer, so llama.cpp never logs it.
# ggml/src/ggml-cuda/ggml-cuda.cu creates one CUDA context per device it uses, a cuBLAS handle per
# device and stream (cublasCreate: workspace allocated lazily on first GEMM) and a memory pool
# (ggml_cuda_pool_vmm / _leg) that grows to the largest temporary a kernel asked for (dequantized
# weight tiles for cuBLAS GEMM with quantized weights). The sizes are assumed (hwbench/assumptions.py,
# gpu_context_<backend>_mib) from what nvidia-smi typically shows for a llama.cpp process before its
# buffers exist (the CUDA context alone is 250-500 MiB depending on driver and GPU). Metal: no separate
# context (the buffers are shared RAM).
#
# Per-device buffers with a layer split (src/llama-context.cpp, sched_reserve / graph_reserve): the
# scheduler splits the graph by the backend of each layer's weights and reserves one compute buffer
# per backend, sized by that backend's own splits: each GPU holding layers gets the per-layer peak
# (compute_bytes with_layers=True), the one holding the output layer also the logits phase; the host
# gets a "CUDA_Host" (pinned) compute buffer for the token-embedding lookup and graph inputs even
# when every layer is offloaded (compute_bytes with neither). The output buffer (logits kept between
# calls) is also allocated in pinned host memory when a GPU is used (llama-context.cpp,
# output_reserve: the host buffer type of the first GPU device) -- same size, it counts against RAM.
_CONTEXT_BACKENDS = ("cuda", "rocm", "sycl", "vulkan")


def gpu_context_bytes(backend: str) -> int:
    """Runtime context per GPU that holds part of the model (assumed; Metal: none; other backends: as CUDA)."""
    if backend == "metal":
        return 0
    return int(A.value(f"gpu_context_{backend if backend in _CONTEXT_BACKENDS else 'cuda'}_mib") * MiB)


def host_process_bytes() -> int:
    """Host memory the llama.cpp process itself needs besides its buffers (assumed)."""
    return int(A.value("host_process_mib") * MiB)


def os_reserve_bytes(ram_bytes: int) -> int:
    """RAM left to the OS and other processes: a share of RAM within bounds (assumed: os_reserve_*)."""
    lo, hi = A.value("os_reserve_min_gib") * GiB, A.value("os_reserve_max_gib") * GiB
    return int(min(hi, max(lo, A.value("os_reserve_fraction") * ram_bytes)))


def pad(n: int, to: int) -> int:
    return ((n + to - 1) // to) * to


def kv_type_name(kv_type: str) -> str:
    return KV_TYPES[kv_type.lower()]


# Windowed layers per architecture, as llama.cpp's load_hparams sets them (src/llama-model.cpp,
# hparams.set_swa_pattern(p): layer il is windowed when il % p < p - 1): Gemma 2 alternates, Gemma 3
# has 5 local : 1 global, gpt-oss alternates, Llama 4 has 3 chunked : 1 full (chunk 8192, hard-coded).
# Phi-3's sliding_window is ignored: llama.cpp disables Phi SWA and keeps a full cache on every layer.
SWA_PERIOD_DEFAULT = {"gemma2": 2, "gemma3": 6, "gpt-oss": 2, "llama4": 4}
_NO_SWA_ARCHS = frozenset({"phi3"})
LLAMA4_CHUNK = 8192


def swa_layout(m: ModelSpec) -> tuple[int, int] | None:
    """(window in tokens, period) of the windowed/chunked layers, or None when every layer is full."""
    if m.arch in _NO_SWA_ARCHS:
        return None
    window: int | None
    if m.arch == "llama4":  # chunked attention unless the model turned it off (attn_chunk=0)
        window = LLAMA4_CHUNK if m.attn_chunk is None else m.attn_chunk
    else:
        window = m.attn_chunk or m.sliding_window
    period = m.swa_period or SWA_PERIOD_DEFAULT.get(m.arch)
    if not window or not period or period < 2:
        return None
    return window, period


def is_swa_layer(m: ModelSpec, layer: int) -> bool:
    lay = swa_layout(m)
    return lay is not None and layer % lay[1] < lay[1] - 1


def kv_streams(s: EstimateSettings) -> int:
    """KV buffers ("streams") llama.cpp allocates: one per sequence, or one shared (--kv-unified).

    src/llama-model.cpp (create_memory) / src/llama-kv-cache.cpp: ``n_stream = kv_unified ? 1 : n_seq_max``.
    """
    return 1 if s.kv_unified else max(1, s.concurrency)


def full_cells_per_stream(s: EstimateSettings) -> int:
    """Cells of one KV stream on a full-attention layer for ``concurrency`` sequences of ``context`` tokens each.

    Serving N sequences of C tokens means llama.cpp's total -c is N x C. src/llama-context.cpp: n_ctx is padded
    to 256; unified, the one stream holds all of it (n_ctx_seq = n_ctx); otherwise each of the N streams holds
    n_ctx_seq = pad(n_ctx / N, 256) cells. With N = 1 both are pad(C, 256), as before.
    """
    n = max(1, s.concurrency)
    n_ctx = pad(s.context * n, KV_PAD)
    if s.kv_unified or n == 1:
        return n_ctx
    return pad(n_ctx // n, KV_PAD)


def kv_cells(m: ModelSpec, s: EstimateSettings, layer: int) -> int:
    """KV cache cells of ``layer`` per stream (after llama.cpp's padding and sliding-window sizing).

    llama.cpp's iSWA cache (src/llama-kv-cache-iswa.cpp) gives windowed layers
    ``min(full, pad(n_swa + n_ubatch))`` cells per stream (``n_swa x n_seq`` when the cache is unified);
    chunked attention (Llama 4) uses the same cache.
    """
    full = full_cells_per_stream(s)
    lay = swa_layout(m)
    if lay is not None and is_swa_layer(m, layer):
        window = lay[0] * (max(1, s.concurrency) if s.kv_unified else 1)
        return min(full, pad(window + s.ubatch, KV_PAD))
    return full


def kv_row_dims(m: ModelSpec) -> tuple[int, int]:
    """Elements cached per token per layer for K and for V."""
    if m.kv_lora_rank:  # MLA: compressed latent + rope part; V is a view of it
        return m.kv_lora_rank + (m.qk_rope_dim or 0), 0
    return m.n_head_kv * m.k_head_dim, m.n_head_kv * m.v_head_dim


def kv_bytes_layer(m: ModelSpec, s: EstimateSettings, layer: int) -> int:
    tk = GGML_TYPES[kv_type_name(s.kv_type)]
    tv = tk
    dk, dv = kv_row_dims(m)
    cells = kv_cells(m, s, layer) * kv_streams(s)  # every stream has its own cells (src/llama-kv-cache.cpp: [.., kv_size, n_stream])
    return cells * (_row_bytes(tk.name, dk) + (_row_bytes(tv.name, dv) if dv else 0))


def _row_bytes(type_name: str, n: int) -> int:
    t = GGML_TYPES[type_name]
    return -(-n // t.block_elems) * t.block_bytes


def kv_bytes_per_token(m: ModelSpec, s: EstimateSettings) -> int:
    """KV bytes one more token of context adds over all (full-attention) layers."""
    tk = kv_type_name(s.kv_type)
    dk, dv = kv_row_dims(m)
    return m.n_layer * (_row_bytes(tk, dk) + (_row_bytes(tk, dv) if dv else 0))


@dataclass
class WeightLayout:
    """Model weight bytes split the way llama.cpp places them."""

    per_layer: list[int]
    input_bytes: int  # token embedding (always in host memory)
    output_norm_bytes: int
    output_matrix_bytes: int  # output.weight, or the tied embedding's copy on the output device
    tied: bool  # tied embeddings: on the host the output reuses the mapped embedding
    total: int  # bytes in the file (each tensor once)
    expert_bytes_per_layer: list[int] = field(default_factory=list)

    def output_bytes(self, on_gpu: bool) -> int:
        if on_gpu or not self.tied:
            return self.output_norm_bytes + self.output_matrix_bytes
        return self.output_norm_bytes


def weight_layout(tensors: list[TensorSpec], n_layer: int, size_factor: float = 1.0) -> WeightLayout:
    """Bytes per placement unit; ``size_factor`` scales a reference shape to a requested size."""
    per_layer = [0] * n_layer
    experts = [0] * n_layer
    input_b = norm_b = matrix_b = embd_b = 0
    has_output_matrix = False
    for t in tensors:
        b = t.n_bytes if size_factor == 1.0 else int(t.n_bytes * size_factor)
        if t.layer is not None and 0 <= t.layer < n_layer:
            per_layer[t.layer] += b
            if t.is_expert:
                experts[t.layer] += b
        elif t.name == "token_embd.weight":
            input_b += b
            embd_b = b
        elif t.name == "output.weight":
            matrix_b += b
            has_output_matrix = True
        elif t.name.startswith("output"):
            norm_b += b
        else:
            input_b += b
    total = sum(per_layer) + input_b + norm_b + matrix_b
    tied = not has_output_matrix
    if tied:
        matrix_b = embd_b  # llama.cpp duplicates a tied embedding onto the output device
    return WeightLayout(per_layer, input_b, norm_b, matrix_b, tied, total, experts)


def kv_cells_by_kind(m: ModelSpec, s: EstimateSettings, n_kv: int | None = None) -> list[int]:
    """The distinct KV sizes (cells) the attention layers see: the full cache, plus the SWA cache."""
    full = n_kv if n_kv is not None else full_cells_per_stream(s)
    out = [full]
    lay = swa_layout(m)
    if lay is not None:
        window = lay[0] * (max(1, s.concurrency) if s.kv_unified else 1)
        out.append(min(full, pad(window + s.ubatch, KV_PAD)))
    return out


def compute_bytes(
    m: ModelSpec,
    s: EstimateSettings,
    *,
    n_kv: int | None = None,
    with_output: bool = True,
    with_layers: bool = True,
) -> int:
    """Peak of llama.cpp's graph allocator (ggml-alloc) for the worst-case micro-batch on one backend.

    ``with_layers``: this backend runs repeating layers; ``with_output``: it runs the output layer.
    Neither: the host stage of a fully offloaded model (token embedding lookup and graph inputs).

    The allocator reuses memory as tensors die, so the buffer is the peak of one phase of one layer,
    not a sum. With T = n_ubatch tokens, u = n_embd*T f32 (one hidden-state activation),
    q = n_head*head_dim*T f32, kc/vc = the new K/V rows, f = the FFN width*T f32:

    - attention with flash attention: the f16 KQ mask(s) [n_kv, T] + 2q + u + kc + vc
    - attention without: f32 mask(s) + the KQ scores [n_kv, T, n_head] f32 (softmax runs in place)
      + 3u + 2q + kc + vc
    - FFN: mask(s) + 3f (up, gate, their GLU product) + 4u (5u without flash attention)
    - output: logits [n_vocab, T] f32 + 2u (the masks are dead by then)

    The multiples of u/q include the holes the allocator's best-fit placement leaves below the big
    tensors: they were fitted on llama.cpp's own reported sizes (scripts/accuracy_memory.py,
    docs/accuracy.md) across llama, qwen2, gemma2 and qwen3moe shapes, not guessed. The formulas
    follow llama.cpp's graph: src/llama-graph.cpp (build_attn_mha: ggml_flash_attn_ext with an f16
    mask, or mul_mat + soft_max_ext with an f32 mask; build_ffn / build_moe_ffn), sized by
    ggml/src/ggml-alloc.c (in-place reuse for soft_max/rope/add/mul/norm, best-fit free blocks).

    For dense llama/qwen2 graphs on a backend with both layers and output, the result is at least the
    replay of ggml-alloc over the real node order (``_replay_dense_graph``): it finds where the logits
    land, which the per-phase sums cannot (placement, not live bytes). DeepSeek-2 MLA graphs on such a
    backend take their replay (``_replay_mla_graph``) alone.
    """
    f32 = 4
    # worst case reserved by src/llama-context.cpp (sched_reserve): n_tokens = min(n_ctx, n_ubatch), n_ctx being the
    # total over the sequences; without --kv-unified those tokens are split over n_seq streams of n_kv cells each, so
    # the score/mask tensors ([n_kv, n_tokens/n_stream, n_head, n_stream]) are as large as one stream's: n_kv is per stream
    n_ub = max(1, min(s.ubatch, s.batch, max(1, s.context * max(1, s.concurrency))))
    T = n_ub
    E = m.n_embd
    u = E * T * f32
    if not with_layers and not with_output:
        return u + T * 16  # embedding rows + token/position inputs
    peak = 0
    if with_layers:
        hd, hdv = m.k_head_dim, m.v_head_dim
        q = m.n_head * hd * T * f32
        kc = m.n_head_kv * hd * T * f32
        vc = m.n_head_kv * hdv * T * f32
        if m.kv_lora_rank:  # MLA: absorbed queries live in the latent space
            kv_dim = m.kv_lora_rank + (m.qk_rope_dim or 0)
            q = m.n_head * kv_dim * T * f32
            kc, vc = kv_dim * T * f32, 0
        cells = kv_cells_by_kind(m, s, n_kv)
        if s.flash_attn:
            masks = sum(c * T * 2 for c in cells)
            attn = masks + 2 * q + u + kc + vc
        else:
            masks = sum(c * T * f32 for c in cells)
            kq = max(cells) * T * m.n_head * f32
            attn = masks + kq + 3 * u + 2 * q + kc + vc
        if m.kv_lora_rank:
            attn = masks + _mla_attention_bytes(m, s, T, max(cells))
        if m.is_moe:
            ffe = m.n_ff_exp or m.n_ff
            f = ffe * m.n_expert_used * T * f32 + m.n_expert * T * f32
            if n_shared_experts(m):
                f += (m.n_ff_shexp or ffe) * n_shared_experts(m) * T * f32
            if m.n_dense_lead or (m.moe_every or 1) > 1:  # some layers have a dense FFN
                f = max(f, m.n_ff * T * f32)
        else:
            f = m.n_ff * T * f32
        ffn = masks + 3 * f + (4 if s.flash_attn else 5) * u
        peak = max(attn, ffn)
    if with_output:
        peak = max(peak, m.vocab * T * f32 + 2 * u)
        lay = swa_layout(m)
        if with_layers and m.arch in _REPLAYED_ARCHS and not (m.is_moe or m.kv_lora_rank or (lay and m.arch != "gemma3")):
            # where the logits land depends on where earlier phases left live tensors: replay the allocator
            # (gemma3: two periods of its window pattern, so the last global layer and all after it are seen)
            n_rep = min(m.n_layer, 2 * lay[1]) if lay else 2
            replay = _replay_dense_graph(m, s, T, kv_cells_by_kind(m, s, n_kv), n_layers=n_rep)
            # phi3's replay matches llama.cpp's logged size in every measured case, where the per-phase
            # sums over-count (they were fitted on llama/qwen2 graphs): take the replay alone there
            peak = replay if m.arch in _REPLAY_ALONE else max(peak, replay)
        elif with_layers and m.arch == "deepseek2" and m.kv_lora_rank:
            # MLA + MoE: the replay follows llama.cpp's node order and matches its logged size in every
            # measured case (docs/accuracy.md), where the per-phase sums miss where the logits land
            peak = _replay_mla_graph(m, s, T, max(kv_cells_by_kind(m, s, n_kv)))
    return int(peak)


def _mla_attention_bytes(m: ModelSpec, s: EstimateSettings, T: int, n_kv: int) -> int:
    """Attention phase of an MLA layer (src/models/deepseek2.cpp with absorbed K/V projections).

    Building the query is the peak: the q_b projection [n_head*head_dim] is alive while its no-rope
    part is absorbed into the latent space [n_head*kv_lora] and concatenated with the roped part
    into Q [n_head*(kv_lora+rope)]; beside it the compressed KV row, its norm and K (3 latent rows),
    the residual and the attention norm's output (still needed for the KV projection). Without flash
    attention the KQ scores [n_kv, T, n_head] f32 come on top, unless they fit the hole the absorbed
    query left (n_kv <= kv_lora).
    """
    f32 = 4
    lora, rope = m.kv_lora_rank or 0, m.qk_rope_dim or 0
    absorbed = m.n_head * lora * T * f32
    qbuild = m.n_head * T * f32 * (m.k_head_dim + rope + lora + rope) + absorbed + 3 * (lora + rope) * T * f32 + 2 * m.n_embd * T * f32
    if s.flash_attn:
        return qbuild
    kq = n_kv * T * m.n_head * f32
    return qbuild + (kq if kq > absorbed else 0)


# ---- a replay of ggml-alloc over the graph of a dense llama-style model ---------------------------
#
# The per-phase sums above miss one placement effect: the logits tensor ([n_vocab, T] f32) is larger
# than every free hole, so ggml-alloc puts it in the free block at the end of the buffer, i.e. just
# above the highest tensor still alive at that moment. Where that tensor sits depends on the holes the
# attention phase left (without flash attention, at short contexts, the last layer's residual stream
# ends up above the KQ-score hole), so the buffer is "that end offset + logits", not live bytes.
# The replay below follows ggml/src/ggml-alloc.c (ggml_gallocr_alloc_graph_impl, ggml_dyn_tallocr):
# graph inputs are allocated first and never freed; each node then gets, in graph order, either its
# parent's memory (ops that may run in place -- add, mul, rms_norm, rope, soft_max, ... -- when that
# parent has no other consumer and no views) or the best-fitting free block other than the last one,
# else the last (end) block; a tensor is freed when its last consumer (or the last view of it) has run.
# The node order is that of src/llama-graph.cpp / src/models/llama.cpp for one micro-batch (worst case,
# all tokens output): norm, Q/K/V projections, RoPE, K/V rows into the cache, KQ + soft_max + KQV (or
# flash attention), output projection, get_rows of the output tokens in the last layer, residual add,
# FFN (gate, up, SwiGLU, down), residual add; then the output norm and the logits. Inputs include the
# f32 [n_embd, T] embedding input llama.cpp always creates next to the token ids (llama-graph.cpp,
# build_inp_embd: both inputs exist so the graph topology does not depend on the batch).

# Only the graphs the replay follows node for node (qwen2 adds biases in place: same placement); the
# MLA + MoE graph of deepseek2 has its own node list (_replay_mla_graph). Others (Gemma 2's extra norms
# and SWA masks, other MoE routings) keep the per-phase model above.
_REPLAYED_ARCHS = frozenset({"llama", "qwen2", "qwen3", "mistral3", "phi3", "gemma3"})
_REPLAY_ALONE = frozenset({"phi3"})
_ALIGN = 32  # CPU buffer alignment (ggml-backend, TENSOR_ALIGNMENT)
# ops ggml-alloc may run in place (ggml-alloc.c, ggml_op_can_inplace; sigmoid is a GGML_OP_UNARY)
_INPLACE = frozenset({"add", "mul", "rms_norm", "rope", "soft_max", "scale", "sigmoid"})


@dataclass(eq=False)
class _Node:
    size: int
    op: str = ""
    srcs: list[_Node] = field(default_factory=list)
    view_of: _Node | None = None
    external: bool = False  # data outside the compute buffer (weights, KV cache)
    output: bool = False  # graph outputs are never freed
    # allocator state
    children: int = 0
    views: int = 0
    allocated: bool = False
    offset: int = -1


class _DynAlloc:
    """ggml_dyn_tallocr: free blocks sorted by offset, the last one unbounded; records the high mark."""

    def __init__(self) -> None:
        self.free: list[list[int]] = [[0, 1 << 62]]
        self.high = 0

    def alloc(self, size: int) -> int:
        size = pad(size, _ALIGN)
        best, best_size = -1, 0
        for i, (_, bsize) in enumerate(self.free[:-1]):
            if bsize >= size and (best < 0 or bsize <= best_size):
                best, best_size = i, bsize
        if best < 0:
            best = len(self.free) - 1
        off, bsize = self.free[best]
        if bsize == size:
            del self.free[best]
        else:
            self.free[best] = [off + size, bsize - size]
        self.high = max(self.high, off + size)
        return off

    def release(self, off: int, size: int) -> None:
        size = pad(size, _ALIGN)
        fb = self.free
        for i, b in enumerate(fb):
            if b[0] + b[1] == off:  # extends a block upwards, maybe joins the next one
                b[1] += size
                if i + 1 < len(fb) and b[0] + b[1] == fb[i + 1][0]:
                    b[1] += fb[i + 1][1]
                    del fb[i + 1]
                return
            if off + size == b[0]:  # extends a block downwards, maybe joins the previous one
                b[0], b[1] = off, b[1] + size
                if i > 0 and fb[i - 1][0] + fb[i - 1][1] == off:
                    fb[i - 1][1] += b[1]
                    del fb[i]
                return
        j = 0
        while j < len(fb) and fb[j][0] < off:
            j += 1
        fb.insert(j, [off, size])


def _replay(inputs: list[_Node], nodes: list[_Node]) -> int:
    """Peak offset ggml_gallocr reaches for ``nodes`` in order (``inputs`` allocated first)."""
    a = _DynAlloc()

    def allocate(t: _Node) -> None:
        if t.external or t.allocated or t.offset >= 0 or t.view_of is not None:
            return
        t.allocated = True
        if t.op in _INPLACE:
            for p in t.srcs:
                # a view is never the allocator's own tensor, so it is never reused in place
                if not p.allocated or p.output or p.size != t.size or p.children != 1 or p.views != 0:
                    continue
                t.offset, p.allocated = p.offset, False
                return
        t.offset = a.alloc(t.size)

    def free(t: _Node) -> None:
        if not t.output:
            a.release(t.offset, t.size)
            t.allocated = False

    for t in inputs:
        allocate(t)
    for n in nodes:
        if n.view_of is not None:
            n.view_of.views += 1
        for sn in n.srcs:
            sn.children += 1
    for n in nodes:
        for sn in n.srcs:
            allocate(sn)
        allocate(n)
        for p in n.srcs:
            p.children -= 1
            if p.children or p.views:
                continue
            if p.view_of is not None:
                v = p.view_of
                v.views -= 1
                if v.views == 0 and v.children == 0 and v.allocated:
                    free(v)
            elif p.allocated:
                free(p)
    return a.high


def _replay_dense_graph(m: ModelSpec, s: EstimateSettings, T: int, cells: list[int], n_layers: int = 2) -> int:
    """Compute buffer of a dense llama-style graph (``n_layers`` layers + output) by replaying ggml-alloc.

    Two layers are enough: every layer but the last repeats the same pattern from the same free list.
    """
    f32 = 4
    E, hd, hdv = m.n_embd, m.k_head_dim, m.v_head_dim
    u, q, qv = E * T * f32, m.n_head * hd * T * f32, m.n_head * hdv * T * f32
    kc, vc = m.n_head_kv * hd * T * f32, m.n_head_kv * hdv * T * f32
    fa = s.flash_attn
    ext = _Node(0, external=True)  # weights and the KV cache views: not in this buffer

    def n(size: int, op: str, *srcs: _Node, output: bool = False) -> _Node:
        node = _Node(size, op, list(srcs), output=output)
        nodes.append(node)
        return node

    def view(of: _Node) -> _Node:
        node = _Node(0, "view", [of], view_of=of.view_of or of)  # a view of a view points at the tensor
        nodes.append(node)
        return node

    tokens, pos, out_ids = _Node(T * 4), _Node(T * 4), _Node(T * 4)
    k_idxs = _Node(T * 8)
    v_idxs = _Node(T * 8 if fa else T * m.n_head_kv * hdv * 8)  # without FA V is stored transposed
    masks = [_Node(c * T * (2 if fa else f32)) for c in cells]
    inputs = [tokens, _Node(u), pos, k_idxs, v_idxs, *masks, out_ids]
    nodes: list[_Node] = []
    inp = n(u, "get_rows", ext, tokens)
    fused = m.arch == "phi3"  # one QKV projection (Q/K/V are views of it), one up projection of 2*n_ff
    gemma = m.arch == "gemma3"  # q/k norms, post-attention and post-FFN norms, scaled input, per-layer masks
    if gemma:
        inp = n(u, "scale", inp)
    # the layers replayed are the model's last n_layers (their window kinds matter, and the state repeats)
    first = max(0, m.n_layer - n_layers) if gemma else 0
    for il in range(n_layers):
        kind = 1 if gemma and len(cells) > 1 and is_swa_layer(m, first + il) else 0
        n_kv, mask = cells[kind], masks[kind]
        x = n(u, "mul", n(u, "rms_norm", inp), ext)
        if gemma:  # src/models/gemma3.cpp: norm of a view gets its own tensor; mul, rope, scale in place
            qr = n(q, "scale", n(q, "rope", n(q, "mul", n(q, "rms_norm", view(n(q, "mul_mat", ext, x))), ext), pos))
            vcur = n(vc, "mul_mat", ext, x)
            kr = n(kc, "rope", n(kc, "mul", n(kc, "rms_norm", view(n(kc, "mul_mat", ext, x))), ext), pos)
            vview = view(vcur)
        elif fused:  # src/models/phi3.cpp: rope of a view gets its own tensor, then Q is scaled in place
            qkv = n(q + kc + vc, "mul_mat", ext, x)
            qr = n(q, "scale", n(q, "rope", view(qkv), pos))
            kr = n(kc, "rope", view(qkv), pos)
            vview = view(qkv)
        else:
            qr = n(q, "rope", view(n(q, "mul_mat", ext, x)), pos)
            vcur = n(vc, "mul_mat", ext, x)
            kr = n(kc, "rope", view(n(kc, "mul_mat", ext, x)), pos)
            vview = view(vcur)
        n(0, "set_rows", view(kr), k_idxs, ext).external = True
        n(0, "set_rows", view(vview), v_idxs, ext).external = True
        qp = view(qr)
        if fa:
            att = view(n(qv, "flash_attn_ext", qp, ext, ext, mask))
        else:
            kq = n(n_kv * T * m.n_head * f32, "mul_mat", ext, qp)
            att = n(qv, "cont", view(n(qv, "mul_mat", ext, n(kq.size, "soft_max", kq, mask))))
        cur, res = n(u, "mul_mat", ext, att), inp
        if il == n_layers - 1:  # keep only the output tokens' rows (all of them in the worst case)
            cur, res = n(u, "get_rows", cur, out_ids), n(u, "get_rows", inp, out_ids)
        if gemma:
            cur = n(u, "mul", n(u, "rms_norm", cur), ext)
        ffn_inp = n(u, "add", cur, res)
        h = n(u, "mul", n(u, "rms_norm", ffn_inp), ext)
        if gemma:
            up = n(m.n_ff * T * f32, "mul_mat", ext, h)
            glu = n(m.n_ff * T * f32, "geglu", n(m.n_ff * T * f32, "mul_mat", ext, h), up)
        elif fused:
            glu = n(m.n_ff * T * f32, "swiglu", n(2 * m.n_ff * T * f32, "mul_mat", ext, h))
        else:
            glu = n(m.n_ff * T * f32, "swiglu", n(m.n_ff * T * f32, "mul_mat", ext, h), n(m.n_ff * T * f32, "mul_mat", ext, h))
        down = n(u, "mul_mat", ext, glu)
        if gemma:
            down = n(u, "mul", n(u, "rms_norm", down), ext)
        # phi3.cpp adds (residual, ffn_out): the in-place add then reuses the residual's memory
        inp = n(u, "add", ffn_inp, down) if fused else n(u, "add", down, ffn_inp)
    x = n(u, "mul", n(u, "rms_norm", inp), ext, output=True)
    n(m.vocab * T * f32, "mul_mat", ext, x, output=True)
    return _replay(inputs, nodes)


def _mla_replay_layers(m: ModelSpec) -> list[bool]:
    """Which layers the MLA replay follows (True: MoE FFN): up to two of the dense lead, then up to two MoE.

    The last one is the model's last layer (MoE unless every layer is dense); the free list a layer
    leaves behind repeats from one layer of the same kind to the next.
    """
    dense = min(m.n_dense_lead, m.n_layer)
    n_moe = m.n_layer - dense if m.is_moe else 0
    n_dense = m.n_layer - n_moe
    return [False] * min(n_dense, 2) + [True] * min(n_moe, 2)


def _replay_mla_graph(m: ModelSpec, s: EstimateSettings, T: int, n_kv: int) -> int:
    """Compute buffer of a DeepSeek-2-style MLA graph (absorbed K/V projections, K-only latent cache,
    dense lead layers then MoE with shared experts) by replaying ggml-alloc (``_replay``).

    Node order as llama.cpp builds it (src/models/deepseek2.cpp with is_mla; build_attn with the
    K-only cache input and the wv_b projection, build_moe_ffn and build_ffn in src/llama-graph.cpp),
    in the depth-first order ggml_build_forward_expand gives, checked against the node list
    GGML_SCHED_DEBUG=2 prints for the installed llama.cpp:
    attention norm; q_a, its norm, q_b (or one wq without a q-LoRA); q_nope absorbed by wk_b into the
    latent space [kv_lora, T, n_head]; RoPE of the q_pe view (its own tensor); Qcur = concat; the
    compressed KV row, the norm of its latent view and RoPE of its k_pe view, Kcur = concat, stored
    into the cache. Without flash attention: V is the cache's latent part made contiguous
    [n_kv, kv_lora], KQ [n_kv, T, n_head] f32 with soft_max in place, KQV [kv_lora, T, n_head], then
    wv_b [v_head, T, n_head] and a contiguous copy; with it: flash_attn_ext's [kv_lora, n_head, T] f32
    output, wv_b and a contiguous copy. Output projection, residual; then the FFN: dense (gate, up,
    SwiGLU, down) or MoE (router logits, sigmoid, biased probs, argsort, top-k weights normalised;
    gate/up [n_ff_exp, n_used, T] via mul_mat_id, SwiGLU, down [n_embd, n_used, T] weighted in place,
    the n_used expert slices summed, then the shared experts as a dense FFN), residual; output norm,
    logits. The router's small [n_expert, T] tensors follow the V3 gating (sigmoid, bias, norm).
    """
    f32 = 4
    E, H = m.n_embd, m.n_head
    lora, rope = m.kv_lora_rank or 0, m.qk_rope_dim or 0
    hd, hdv = m.k_head_dim, m.v_head_dim
    u = E * T * f32
    fa = s.flash_attn
    ext = _Node(0, external=True)

    def n(size: int, op: str, *srcs: _Node, output: bool = False) -> _Node:
        node = _Node(size, op, list(srcs), output=output)
        nodes.append(node)
        return node

    def view(of: _Node) -> _Node:
        node = _Node(0, "view", [of], view_of=of.view_of or of)
        nodes.append(node)
        return node

    tokens, pos, out_ids, k_idxs = _Node(T * 4), _Node(T * 4), _Node(T * 4), _Node(T * 8)
    mask = _Node(n_kv * T * (2 if fa else f32))
    inputs = [tokens, _Node(u), pos, k_idxs, mask, out_ids]
    nodes: list[_Node] = []
    inp = n(u, "get_rows", ext, tokens)
    kinds = _mla_replay_layers(m)
    ffe = m.n_ff_exp or m.n_ff
    n_used, n_exp = m.n_expert_used, m.n_expert
    shexp = (m.n_ff_shexp or ffe) * n_shared_experts(m)
    for il, moe in enumerate(kinds):
        x = n(u, "mul", n(u, "rms_norm", inp), ext)
        if m.q_lora_rank:
            qa = n(u // E * m.q_lora_rank, "mul", n(u // E * m.q_lora_rank, "rms_norm", n(u // E * m.q_lora_rank, "mul_mat", ext, x)), ext)
            qb = n(H * hd * T * f32, "mul_mat", ext, qa)
        else:
            qb = n(H * hd * T * f32, "mul_mat", ext, x)
        absorbed = n(H * lora * T * f32, "mul_mat", ext, view(view(qb)))
        qcur = n(H * (lora + rope) * T * f32, "concat", view(absorbed), n(H * rope * T * f32, "rope", view(qb), pos))
        kvpe = n((lora + rope) * T * f32, "mul_mat", ext, x)
        kvn = n(lora * T * f32, "mul", n(lora * T * f32, "rms_norm", view(kvpe)), ext)
        vcur = view(kvn)
        kcur = n((lora + rope) * T * f32, "concat", vcur, n(rope * T * f32, "rope", view(kvpe), pos))
        n(0, "set_rows", view(kcur), k_idxs, ext).external = True
        if fa:
            att = n(H * lora * T * f32, "flash_attn_ext", view(qcur), ext, ext, mask)
            mla = n(H * hdv * T * f32, "mul_mat", ext, view(att))
            out = view(n(H * hdv * T * f32, "cont", view(mla)))
        else:
            v_cont = n(lora * _row_bytes(kv_type_name(s.kv_type), n_kv), "cont", ext)
            kq = n(n_kv * T * H * f32, "mul_mat", ext, view(qcur))
            kqv = n(H * lora * T * f32, "mul_mat", v_cont, n(kq.size, "soft_max", kq, mask))
            out = n(H * hdv * T * f32, "cont", view(n(H * hdv * T * f32, "mul_mat", ext, kqv)))
        cur, res = n(u, "mul_mat", ext, out), inp
        if il == len(kinds) - 1:
            cur, res = n(u, "get_rows", cur, out_ids), n(u, "get_rows", inp, out_ids)
        ffn_inp = n(u, "add", cur, res)
        h = n(u, "mul", n(u, "rms_norm", ffn_inp), ext)
        if moe:
            r = n_exp * T * f32
            probs = n(r, "sigmoid", n(r, "mul_mat", ext, h))
            probs3 = view(probs)
            topk = view(n(r, "argsort", n(r, "add", probs, ext)))
            w = n(n_used * T * f32, "get_rows", probs3, topk)
            wsum = n(T * f32, "clamp", n(T * f32, "sum_rows", view(w)))
            wn = view(n(n_used * T * f32, "div", view(w), wsum))
            h3 = view(h)
            g = n(ffe * n_used * T * f32, "mul_mat_id", ext, h3, topk)
            up = n(ffe * n_used * T * f32, "mul_mat_id", ext, h3, topk)
            sw = n(ffe * n_used * T * f32, "swiglu", g, up)
            weighted = n(E * n_used * T * f32, "mul", n(E * n_used * T * f32, "mul_mat_id", ext, sw, topk), wn)
            slices = [view(weighted) for _ in range(n_used)]
            acc = n(u, "add", slices[0], slices[1]) if n_used > 1 else n(u, "cont", slices[0])
            for sl in slices[2:]:
                acc = n(u, "add", acc, sl)
            ffn_out = acc
            if shexp:
                sg = n(shexp * T * f32, "mul_mat", ext, h)
                su = n(shexp * T * f32, "mul_mat", ext, h)
                ffn_out = n(u, "add", acc, n(u, "mul_mat", ext, n(shexp * T * f32, "swiglu", sg, su)))
        else:
            fd = m.n_ff * T * f32
            gate = n(fd, "mul_mat", ext, h)
            ffn_out = n(u, "mul_mat", ext, n(fd, "swiglu", gate, n(fd, "mul_mat", ext, h)))
        inp = n(u, "add", ffn_out, ffn_inp)
    x = n(u, "mul", n(u, "rms_norm", inp), ext, output=True)
    n(m.vocab * T * f32, "mul_mat", ext, x, output=True)
    return _replay(inputs, nodes)


def output_buffer_bytes(m: ModelSpec, n_seq: int = 1) -> int:
    """Logits kept between decode calls: n_vocab f32 per sequence (llama.cpp 'output buffer')."""
    return m.vocab * 4 * n_seq
