"""Hand-checked numbers for every memory formula (hwbench/estimate/memory.py).

The compute-buffer anchors at the bottom are sizes llama.cpp itself logged (`CPU compute buffer
size`) for synthetic models of those shapes (scripts/accuracy_memory.py, docs/accuracy.md), so the
formulas are pinned to reality without running llama.cpp here.
"""

from __future__ import annotations

import pytest

from hwbench.arch import model_tensors
from hwbench.estimate import memory as mem
from hwbench.profiles import get_model
from hwbench.schema import EstimateSettings, ModelSpec

MiB, GiB = 2**20, 2**30


def S(ctx: int, fa: bool = True, ub: int = 512, kv: str = "f16") -> EstimateSettings:
    return EstimateSettings(context=ctx, flash_attn=fa, ubatch=ub, batch=2048, kv_type=kv)


def test_kv_cache_llama_3_1_70b_8k_is_2_5_gib() -> None:
    m = get_model("llama-3.1-70b")
    s = S(8192)
    total = sum(mem.kv_bytes_layer(m, s, i) for i in range(m.n_layer))
    # 80 layers x 8192 cells x (K + V) x 8 kv heads x 128 dims x 2 bytes
    assert total == 80 * 8192 * 2 * 1024 * 2 == int(2.5 * GiB)


def test_kv_cache_q8_0_rows_are_34_bytes_per_32() -> None:
    m = get_model("llama-3.1-70b")
    s = S(8192, kv="q8_0")
    assert mem.kv_bytes_layer(m, s, 0) == 8192 * 2 * (1024 // 32 * 34)


def test_kv_cells_padded_to_256() -> None:
    m = get_model("llama-3-8b")
    assert mem.kv_cells(m, S(1000), 0) == 1024
    assert mem.kv_cells(m, S(512), 0) == 512
    assert mem.kv_bytes_per_token(m, S(512)) == 32 * 2 * 1024 * 2  # 128 KiB per token of context


def test_sliding_window_layers_keep_window_plus_ubatch() -> None:
    m = get_model("gemma-2-9b")  # window 4096 on even layers, global on odd ones
    s = S(32768)
    assert mem.kv_cells(m, s, 0) == 4096 + 512
    assert mem.kv_cells(m, s, 1) == 32768
    assert mem.kv_cells_by_kind(m, s) == [32768, 4608]


def test_mla_caches_the_latent_only() -> None:
    m = get_model("deepseek-v3")
    # kv_lora_rank 512 + rope 64 per token per layer, f16, no separate V
    assert mem.kv_bytes_layer(m, S(4096), 0) == 4096 * 576 * 2


def test_weight_layout_tied_embedding_is_copied_to_the_gpu_only() -> None:
    m = get_model("llama-3.2-1b")
    lay = mem.weight_layout(model_tensors(m, "Q8_0"), m.n_layer)
    assert lay.tied
    embd = 2048 * 128256 // 32 * 34
    assert lay.input_bytes == embd
    assert lay.output_bytes(on_gpu=False) == 2048 * 4  # just the norm: the host reuses the mapped embedding
    assert lay.output_bytes(on_gpu=True) == 2048 * 4 + embd


def test_compute_buffer_llama_3_8b_hand_checked() -> None:
    m = get_model("llama-3-8b")
    T = 512
    u = 4096 * T * 4  # 8 MiB hidden state
    q = 32 * 128 * T * 4  # 8 MiB queries
    kc = 8 * 128 * T * 4  # 2 MiB new K rows (same for V)
    f = 14336 * T * 4  # 28 MiB FFN width
    logits = 128256 * T * 4  # 250.5 MiB
    # no flash attention, 8k: f32 mask + KQ scores (8192 x 512 x 32 f32 = 512 MiB) dominate
    mask = 8192 * T * 4
    attn = mask + 8192 * T * 32 * 4 + 3 * u + 2 * q + 2 * kc
    assert attn == 572 * MiB
    # the allocator replay also counts the small graph inputs (token ids, positions, output ids int32,
    # K-row indices int64: 20 bytes per token) that llama.cpp allocates in the same buffer
    inputs = T * 20
    assert mem.compute_bytes(m, S(8192, fa=False)) == attn + inputs
    # flash attention: the output layer dominates (logits + 2 hidden states), placed in the replay
    # above 4 bytes per token of graph inputs (an int32 per token) still below them
    assert logits + 2 * u == int(266.5 * MiB)
    assert mem.compute_bytes(m, S(8192, fa=True)) == logits + 2 * u + T * 4
    # FFN phase with flash attention: f16 mask + up, gate, GLU + 4 hidden states (124 MiB)
    assert mem.compute_bytes(m, S(8192, fa=True), with_output=False) == 8192 * T * 2 + 3 * f + 4 * u
    # a backend holding no layers and no output (host of a fully offloaded model): embeddings + inputs
    assert mem.compute_bytes(m, S(8192), with_output=False, with_layers=False) == u + T * 16


def test_compute_buffer_scales_with_ubatch() -> None:
    m = get_model("llama-3-8b")
    assert mem.compute_bytes(m, S(8192, ub=256)) * 2 == mem.compute_bytes(m, S(8192, ub=512))
    # a context shorter than the ubatch bounds the micro-batch
    assert mem.compute_bytes(m, S(128, ub=512)) == mem.compute_bytes(m, S(128, ub=128))


def _spec(**kw: object) -> ModelSpec:
    from hwbench.arch import count_params

    spec = ModelSpec(name="t", params=0, context_length=32768, **kw)  # type: ignore[arg-type]
    return spec.model_copy(update={"params": count_params(spec)})


# (shape, settings, llama.cpp's logged compute buffer in MiB) -- from scripts/accuracy_memory.py runs
ANCHORS = [
    (dict(model="qwen2.5-0.5b"), (32768, False, 512), 969.3),
    (dict(model="qwen2.5-0.5b"), (8192, True, 512), 300.2),
    (dict(model="llama-3.2-1b"), (32768, False, 512), 2134.0),
    (dict(model="llama-3.2-3b"), (8192, False, 512), 434.0),
    # logits placed above the residual stream left over the KQ-score hole (replayed allocator)
    (dict(model="llama-3.2-3b"), (512, False, 512), 285.51),
    (dict(model="llama-3.2-3b"), (512, False, 256), 142.75),
    (dict(model="llama-3.2-3b"), (1024, False, 512), 262.5),
    (dict(model="llama-3.2-3b"), (32768, True, 256), 131.2),
    (
        dict(
            arch="gemma2",
            n_layer=6,
            n_embd=1024,
            n_head=8,
            n_head_kv=4,
            head_dim=256,
            n_ff=4096,
            vocab=256000,
            tied_embeddings=True,
            sliding_window=1024,
            swa_period=2,
        ),
        (32768, False, 512),
        601.0,
    ),
    (
        dict(
            arch="qwen3moe",
            n_layer=6,
            n_embd=1024,
            n_head=16,
            n_head_kv=4,
            head_dim=64,
            n_ff=2816,
            n_ff_exp=512,
            n_expert=16,
            n_expert_used=4,
            vocab=32000,
        ),
        (32768, False, 512),
        1099.0,
    ),
    (dict(arch="llama", n_layer=2, n_embd=512, n_ff=512, vocab=1024, n_head=32, n_head_kv=4, head_dim=128), (32768, True, 512), 51.01),
    (dict(arch="llama", n_layer=2, n_embd=512, n_ff=8192, vocab=1024, n_head=8, n_head_kv=8), (8192, True, 512), 60.01),
]


@pytest.mark.parametrize(("shape", "setting", "measured_mib"), ANCHORS)
def test_compute_buffer_matches_llama_cpp(shape: dict, setting: tuple, measured_mib: float) -> None:
    m = get_model(shape["model"]) if "model" in shape else _spec(**shape)
    ctx, fa, ub = setting
    pred = mem.compute_bytes(m, S(ctx, fa=fa, ub=ub))
    meas = measured_mib * MiB
    assert abs(pred - meas) <= max(0.03 * meas, 16 * MiB), (pred / MiB, measured_mib)


def test_output_buffer_and_reserves() -> None:
    m = get_model("llama-3-8b")
    assert mem.output_buffer_bytes(m) == 128256 * 4
    assert mem.os_reserve_bytes(8 * GiB) == 1 * GiB  # at least 1 GiB
    assert mem.os_reserve_bytes(512 * GiB) == 4 * GiB  # at most 4 GiB
    assert mem.os_reserve_bytes(40 * GiB) == 2 * GiB  # 5%
    assert mem.host_process_bytes() == 200 * MiB
    # per-GPU runtime context (assumed, hwbench/assumptions.py): none on Metal, an unknown backend as CUDA
    assert mem.gpu_context_bytes("metal") == 0
    assert mem.gpu_context_bytes("cuda") == 400 * MiB and mem.gpu_context_bytes("vulkan") == 250 * MiB
    assert mem.gpu_context_bytes("something-new") == mem.gpu_context_bytes("cuda")


def test_allocator_replay_places_logits_above_live_tensors() -> None:
    # llama-3.2-3b, 512 context, no flash attention, ubatch 512 (u = 6 MiB, logits 250.5 MiB): the
    # residual stream of the last layer ends at 35 MiB (the KQ-score hole below it is 24 MiB), so the
    # logits start there: llama.cpp reports 285.51 MiB; at 1024 context the KQ hole (48 MiB) takes the
    # residual stream in and the logits start at 2u = 12 MiB (262.50 MiB).
    m = get_model("llama-3.2-3b")
    for ctx, want in ((512, 285.51), (1024, 262.50)):
        got = mem.compute_bytes(m, S(ctx, fa=False, ub=512)) / MiB
        assert abs(got - want) < 0.01, (ctx, got)


# ---- issue 10: the architectures people run now (windowed, chunked and latent KV caches) --------------


def _spec(**kw: object) -> ModelSpec:
    base: dict[str, object] = dict(name="t", params=1, n_layer=12, n_embd=1024, n_head=8, n_head_kv=1, head_dim=256, n_ff=4096, vocab=32000)
    base.update(kw)
    return ModelSpec(**base)  # type: ignore[arg-type]


def _kv_total(m: ModelSpec, s: EstimateSettings) -> int:
    return sum(mem.kv_bytes_layer(m, s, i) for i in range(m.n_layer))


def test_gemma3_five_local_layers_per_global_one() -> None:
    # llama.cpp set_swa_pattern(6): layers 5 and 11 of 12 are global, the other 10 keep window + ubatch cells
    m = _spec(arch="gemma3", sliding_window=512)
    s = S(8192)
    assert [mem.is_swa_layer(m, i) for i in range(12)] == [True] * 5 + [False] + [True] * 5 + [False]
    row = 2 * 256 * 2  # K + V, one KV head of 256, f16
    assert _kv_total(m, s) == (10 * 1024 + 2 * 8192) * row
    # the gemma2 pattern (every other layer) gives a different answer: the period is the architecture's
    g2 = m.model_copy(update={"arch": "gemma2"})
    assert _kv_total(g2, s) == (6 * 1024 + 6 * 8192) * row


def test_window_larger_than_context_keeps_the_padded_context() -> None:
    m = _spec(arch="gemma3", sliding_window=4096)
    assert mem.kv_cells(m, S(1000), 0) == 1024  # min(pad(1000), pad(4096 + 512))


def test_phi3_sliding_window_is_ignored_like_llama_cpp() -> None:
    # Phi-3-mini's config has sliding_window 2047; llama.cpp disables Phi SWA: every layer holds the full context
    m = _spec(arch="phi3", n_head=32, n_head_kv=32, head_dim=None, n_embd=3072, sliding_window=2047, swa_period=2)
    s = S(8192)
    assert mem.swa_layout(m) is None
    assert _kv_total(m, s) == 12 * 8192 * 2 * 3072 * 2


def test_llama4_chunked_layers_hold_one_chunk() -> None:
    # 3 chunked (8192 tokens) : 1 full layers; the chunked ones keep pad(8192 + ubatch) cells
    m = _spec(arch="llama4", n_layer=4, n_head=8, n_head_kv=2, head_dim=128)
    s = S(32768)
    row = 2 * 2 * 128 * 2
    assert _kv_total(m, s) == (3 * 8704 + 32768) * row
    off = m.model_copy(update={"attn_chunk": 0})  # sliding_window 0 in the GGUF: chunking off
    assert _kv_total(off, s) == 4 * 32768 * row


def test_gpt_oss_alternating_window_of_128() -> None:
    m = _spec(arch="gpt-oss", n_layer=4, n_head=64, n_head_kv=8, head_dim=64, sliding_window=128)
    s = S(4096)
    row = 2 * 8 * 64 * 2
    assert [mem.kv_cells(m, s, i) for i in range(4)] == [768, 4096, 768, 4096]
    assert _kv_total(m, s) == (2 * 768 + 2 * 4096) * row


def test_mla_latent_cache_f16_and_q8_0() -> None:
    # DeepSeek-V3: 512 latent + 64 rope dims per token per layer, no V cache (128 heads of 192/128 do not matter)
    m = get_model("deepseek-v3")
    s = S(8192)
    assert mem.kv_row_dims(m) == (576, 0)
    assert _kv_total(m, s) == 61 * 8192 * 576 * 2
    assert _kv_total(m, S(8192, kv="q8_0")) == 61 * 8192 * (576 // 32) * 34


def test_tensor_lists_of_new_architectures() -> None:
    oss = _spec(
        arch="gpt-oss",
        n_layer=2,
        n_head=64,
        n_head_kv=8,
        head_dim=64,
        n_ff=2880,
        n_embd=2880,
        n_ff_exp=2880,
        n_expert=32,
        n_expert_used=4,
        sliding_window=128,
    )
    names = {t.name for t in model_tensors(oss, "MXFP4_MOE")}
    assert {"blk.0.attn_sinks.weight", "blk.0.ffn_gate_inp.bias", "blk.0.ffn_down_exps.bias", "blk.0.attn_output.bias"} <= names
    assert "blk.0.ffn_norm.weight" not in names and "blk.0.post_attention_norm.weight" in names
    types = {t.name: t.type_name for t in model_tensors(oss, "MXFP4_MOE")}
    assert types["blk.0.ffn_up_exps.weight"] == "MXFP4" and types["blk.0.attn_q.weight"] == "Q8_0"
    l4 = _spec(arch="llama4", n_layer=4, n_head=8, n_head_kv=2, head_dim=128, n_ff_exp=1024, n_expert=4, n_expert_used=1, moe_every=2)
    names = {t.name for t in model_tensors(l4, "Q4_K_M")}
    assert "blk.0.ffn_gate.weight" in names and "blk.0.ffn_gate_exps.weight" not in names  # dense layer
    assert {"blk.1.ffn_gate_exps.weight", "blk.1.ffn_up_shexp.weight"} <= names  # MoE layer + its shared expert
    assert "blk.3.ffn_gate_inp.weight" in names and "blk.2.ffn_gate_inp.weight" not in names


@pytest.mark.parametrize(
    ("ctx", "fa", "measured_mib"),
    [(512, True, 183.5), (512, False, 184.0), (4096, True, 187.0), (4096, False, 703.0), (16384, False, 2263.0)],
)
def test_mla_compute_buffer_anchors(ctx: int, fa: bool, measured_mib: float) -> None:
    # 64 heads of 192/128 (Kimi-K2's head count), latent 512 + 64 rope, n_embd 2048: llama.cpp's logged
    # `CPU compute buffer size` for the synthetic file (scripts/accuracy_memory.py); the query build
    # (q_b, absorbed and concatenated Q) is the peak, the KQ scores come on top without flash attention
    m = ModelSpec(
        name="mla",
        arch="deepseek2",
        params=1,
        n_layer=2,
        n_embd=2048,
        n_head=64,
        n_head_kv=64,
        head_dim=192,
        head_dim_v=128,
        qk_rope_dim=64,
        kv_lora_rank=512,
        q_lora_rank=1536,
        n_ff=4096,
        n_ff_exp=512,
        n_expert=16,
        n_expert_used=8,
        n_expert_shared=1,
        n_dense_lead=1,
        vocab=32000,
    )
    got = mem.compute_bytes(m, S(ctx, fa=fa))
    want = measured_mib * MiB
    assert abs(got - want) <= max(0.03 * want, 16 * MiB), (got / MiB, measured_mib)


@pytest.mark.parametrize(
    ("ctx", "fa", "ub", "measured_mib"),
    [
        (512, True, 512, 80.63),
        (512, False, 512, 103.51),
        (4096, True, 512, 102.6),
        (4096, False, 256, 97.05),
        (16384, False, 256, 315.5),
        (32768, True, 512, 112.13),
        (32768, False, 256, 603.5),
    ],
)
def test_mla_moe_compute_buffer_follows_the_allocator_replay(ctx: int, fa: bool, ub: int, measured_mib: float) -> None:
    # DeepSeek-V2-Lite widths (16 heads of 192/128, latent 512 + 64 rope) with a q-LoRA, 1 dense + 2 MoE
    # layers: llama.cpp's logged `CPU compute buffer size` for the synthetic file (scripts/accuracy_memory.py).
    # The logits land above what the last MoE layer left alive (its [n_embd, n_used, T] expert outputs,
    # the absorbed query or the flash-attention output), which per-phase sums missed by up to 16%
    m = ModelSpec(
        name="v2lite",
        arch="deepseek2",
        params=1,
        n_layer=3,
        n_embd=2048,
        n_head=16,
        n_head_kv=16,
        head_dim=192,
        head_dim_v=128,
        qk_rope_dim=64,
        kv_lora_rank=512,
        q_lora_rank=1536,
        n_ff=10944,
        n_ff_exp=1408,
        n_expert=16,
        n_expert_used=6,
        n_expert_shared=2,
        n_dense_lead=1,
        vocab=32000,
    )
    got = mem.compute_bytes(m, S(ctx, fa=fa, ub=ub)) / MiB
    assert abs(got - measured_mib) <= 0.1, (got, measured_mib)


@pytest.mark.parametrize(
    ("ctx", "fa", "measured_mib"),
    [(512, True, 236.5), (512, False, 242.0), (4096, True, 240.0), (4096, False, 363.0), (16384, True, 216.0), (16384, False, 1347.0)],
)
def test_phi3_compute_buffer_follows_the_allocator_replay(ctx: int, fa: bool, measured_mib: float) -> None:
    # Phi-4 widths (fused QKV and gate+up, GQA 40/10, 100k vocab), 2 layers: llama.cpp's logged `CPU compute
    # buffer size`. The logits land above what the last layer left alive; phi3.cpp's residual add
    # (residual first) reuses the residual's memory, which moves them by 2 x n_embd x n_ubatch f32
    m = ModelSpec(name="phi4w", arch="phi3", params=1, n_layer=2, n_embd=5120, n_head=40, n_head_kv=10, n_ff=17920, vocab=100352)
    got = mem.compute_bytes(m, S(ctx, fa=fa)) / MiB
    assert abs(got - measured_mib) <= 0.1, (got, measured_mib)


@pytest.mark.parametrize(
    ("ctx", "fa", "ub", "measured_mib"),
    [(32768, False, 512, 559.2), (32768, False, 256, 279.6), (16384, False, 512, 518.8), (4096, True, 512, 516.5)],
)
def test_gemma3_compute_buffer_follows_the_allocator_replay(ctx: int, fa: bool, ub: int, measured_mib: float) -> None:
    # Gemma-3-1B widths (5 local : 1 global, window 512, 262k vocab), 7 layers: llama.cpp's logged compute
    # buffer. Without flash attention at 32k the logits land above what the global layer's KQ left behind
    m = ModelSpec(
        name="g3",
        arch="gemma3",
        params=1,
        n_layer=7,
        n_embd=1152,
        n_head=4,
        n_head_kv=1,
        head_dim=256,
        n_ff=6912,
        vocab=262144,
        tied_embeddings=True,
        sliding_window=512,
    )
    got = mem.compute_bytes(m, S(ctx, fa=fa, ub=ub)) / MiB
    assert abs(got - measured_mib) <= max(0.03 * measured_mib, 1.0), (got, measured_mib)
