"""Serving several sequences at once (issue 13): llama.cpp -np N in the memory and speed estimate.

Memory mirrors llama.cpp's sizing (src/llama-context.cpp: n_ctx padded to 256, n_ctx_seq = n_ctx / n_seq_max padded
without --kv-unified; src/llama-kv-cache.cpp: one buffer per stream; src/llama-kv-cache-iswa.cpp: windowed cells
n_swa x (unified ? n_seq : 1) + n_ubatch; sched_reserve: n_tokens = min(n_ctx, n_ubatch), n_stream streams;
output_reserve(n_seq_max)). Speed: speed.step_time_s.
"""

from __future__ import annotations

import json

import pytest

from hwbench.estimate import estimate_fit
from hwbench.estimate import memory as mem
from hwbench.estimate import speed as spd
from hwbench.estimate.fit import MAX_SEQ, max_concurrency, speed_inputs, verdict_only
from hwbench.hardware import gpu_target_from_profile
from hwbench.profiles import find_gpu, get_model
from hwbench.quant import parse_quant
from hwbench.schema import EstimateSettings, HardwareTarget

GiB = 2**30


def hw(gpu: str | None = "RTX 3090", ram_gib: int = 64) -> HardwareTarget:
    gpus = [gpu_target_from_profile(find_gpu(gpu))] if gpu else []
    return HardwareTarget(label="t", gpus=gpus, ram_bytes=ram_gib * GiB, cpu_bandwidth_gbps=50.0, cpu_tflops=1.0, cpu_cores=8)


def S(ctx: int, n: int = 1, unified: bool = False, ub: int = 512) -> EstimateSettings:
    return EstimateSettings(context=ctx, concurrency=n, kv_unified=unified, ubatch=ub)


def kv_total(model: str, s: EstimateSettings) -> int:
    m = get_model(model)
    return sum(mem.kv_bytes_layer(m, s, i) for i in range(m.n_layer))


# ---------------------------------------------------------------- N = 1 is what it was


def test_concurrency_1_is_the_old_estimate_and_the_json_does_not_change() -> None:
    m, q = get_model("llama-3-8b"), parse_quant("Q4_K_M")
    old = estimate_fit(m, q, EstimateSettings(context=8192), hw(), follow_ups=False)
    new = estimate_fit(m, q, S(8192, 1), hw(), follow_ups=False)
    assert json.dumps(old.model_dump(mode="json")) == json.dumps(new.model_dump(mode="json"))
    d = old.model_dump(mode="json")
    assert "concurrency" not in d and "concurrency" not in d["settings"] and "kv_unified" not in d["settings"]
    asked = estimate_fit(m, q, S(8192, 1), hw(), follow_ups=False, concurrency_answers=True, target_tokens_per_s=10)
    da = asked.model_dump(mode="json")
    c = da.pop("concurrency")
    assert da == d  # the answers are added, nothing else moves
    assert c["aggregate_generation_tokens_per_s"] == c["per_user_generation_tokens_per_s"] == d["speed"]["generation_tokens_per_s"]


def test_step_time_at_one_sequence_is_generation_time_exactly() -> None:
    inputs = speed_inputs(get_model("llama-3-8b"), parse_quant("Q4_K_M"), S(4096), hw())
    assert inputs is not None
    assert inputs.step_time_s(1) == inputs.generation_time_s()


# ---------------------------------------------------------------- memory


def test_kv_per_sequence_streams_hold_n_times_one_context() -> None:
    one = kv_total("llama-3-8b", S(8192))
    assert one == 32 * 8192 * 2 * 1024 * 2  # 32 layers x cells x (K+V) x 8 heads x 128 dims x f16
    for n in (2, 4, 8):
        assert kv_total("llama-3-8b", S(8192, n)) == n * one
        assert kv_total("llama-3-8b", S(8192, n, unified=True)) == n * one


def test_kv_padding_differs_between_unified_and_per_sequence() -> None:
    m = get_model("llama-3-8b")
    # 3 x 1000 tokens: unified one buffer of pad(3000) = 3072 cells; per sequence pad(3072 / 3) = 1024 cells x 3
    assert mem.kv_cells(m, S(1000, 3, unified=True), 0) * mem.kv_streams(S(1000, 3, unified=True)) == 3072
    assert mem.kv_cells(m, S(1000, 3), 0) == 1024 and mem.kv_streams(S(1000, 3)) == 3
    # 3 x 300: n_ctx = pad(900) = 1024; n_ctx_seq = pad(1024 // 3 = 341) = 512 per stream
    assert mem.kv_cells(m, S(300, 3), 0) == 512
    assert mem.kv_cells(m, S(300, 3, unified=True), 0) == 1024


def test_sliding_window_cells_per_stream_and_unified() -> None:
    m = get_model("gemma-2-9b")  # window 4096, every other layer
    swa = next(i for i in range(m.n_layer) if mem.is_swa_layer(m, i))
    assert mem.kv_cells(m, S(32768, 4), swa) == mem.pad(4096 + 512, 256)  # per stream: window + ubatch
    assert mem.kv_cells(m, S(32768, 4, unified=True), swa) == mem.pad(4 * 4096 + 512, 256)  # unified: window x n_seq


def test_compute_buffer_per_stream_unchanged_unified_grows() -> None:
    m = get_model("llama-3-8b")
    s1, s4, u4 = S(4096), S(4096, 4), S(4096, 4, unified=True)
    c1 = mem.compute_bytes(m, s1, n_kv=mem.full_cells_per_stream(s1))
    c4 = mem.compute_bytes(m, s4, n_kv=mem.full_cells_per_stream(s4))
    cu = mem.compute_bytes(m, u4, n_kv=mem.full_cells_per_stream(u4))
    assert c4 == c1  # scores [n_kv, n_tokens / n_stream, n_head, n_stream]: as large as one stream's
    s_no_fa = EstimateSettings(context=4096, flash_attn=False)
    u_no_fa = EstimateSettings(context=4096, concurrency=4, kv_unified=True, flash_attn=False)
    big = EstimateSettings(context=16384, flash_attn=False)
    # unified: the attention sees all 4 x 4096 cells, as one 16384-token context does
    assert mem.compute_bytes(m, u_no_fa, n_kv=mem.full_cells_per_stream(u_no_fa)) == mem.compute_bytes(m, big, n_kv=16384)
    assert mem.compute_bytes(m, u_no_fa, n_kv=mem.full_cells_per_stream(u_no_fa)) > mem.compute_bytes(m, s_no_fa, n_kv=4096)
    assert cu >= c1


def test_tiny_contexts_reserve_n_seq_x_context_tokens() -> None:
    m = get_model("llama-3-8b")
    # n_tokens = min(n_ctx, n_ubatch) with n_ctx the total: 4 x 64 = 256 tokens, not 64
    assert mem.compute_bytes(m, S(64, 4), n_kv=256) == mem.compute_bytes(m, EstimateSettings(context=256), n_kv=256)


def test_output_buffer_holds_logits_per_sequence() -> None:
    m = get_model("llama-3-8b")
    e1 = estimate_fit(m, parse_quant("Q4_K_M"), S(4096), hw(), follow_ups=False)
    e8 = estimate_fit(m, parse_quant("Q4_K_M"), S(4096, 8), hw(), follow_ups=False)
    assert e1.memory.output_bytes == m.vocab * 4
    assert e8.memory.output_bytes == 8 * m.vocab * 4
    assert e8.memory.kv_cache_bytes == 8 * e1.memory.kv_cache_bytes


# ---------------------------------------------------------------- speed


def test_aggregate_grows_per_user_falls_and_the_curve_bends() -> None:
    inputs = speed_inputs(get_model("llama-3-8b"), parse_quant("Q4_K_M"), S(512), hw("H100 SXM5 80 GB"))
    assert inputs is not None
    ns = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    t = [inputs.step_time_s(n) for n in ns]
    agg = [n / x for n, x in zip(ns, t, strict=True)]
    per_user = [1 / x for x in t]
    assert all(b > a for a, b in zip(agg, agg[1:], strict=False))
    assert all(b < a for a, b in zip(per_user, per_user[1:], strict=False))
    gains = [b / a for a, b in zip(agg, agg[1:], strict=False)]
    assert gains[0] > 1.7  # nearly free at first: the weights are read once for both sequences
    assert gains[-1] < 1.3  # compute-bound at the end: doubling the sequences barely helps
    assert all(b <= a + 1e-9 for a, b in zip(gains, gains[1:], strict=False))  # smooth, no kink back up
    assert spd.step_time_s(inputs.generation, inputs.depth, 2)[1] == "memory"
    assert spd.step_time_s(inputs.generation, inputs.depth, 256)[1] == "compute"


def test_long_contexts_stay_kv_bound() -> None:
    # each sequence reads its own KV cache every step: at 32k the aggregate gain from batching is small
    m, q, h = get_model("llama-3-8b"), parse_quant("Q4_K_M"), hw("H100 SXM5 80 GB")
    short = speed_inputs(m, q, S(512, 8), h)
    long = speed_inputs(m, q, S(32768, 8), h)
    assert short is not None and long is not None
    gain_short = 8 * short.generation_time_s() / short.step_time_s(8)
    gain_long = 8 * long.generation_time_s() / long.step_time_s(8)
    assert gain_long < gain_short


# ---------------------------------------------------------------- new answers


def test_largest_concurrency_that_fits_is_the_edge() -> None:
    m, q, h = get_model("llama-3-8b"), parse_quant("Q4_K_M"), hw()
    n = max_concurrency(m, q, S(8192), h, "gpu")
    assert n is not None and 1 < n < MAX_SEQ
    assert verdict_only(m, q, S(8192, n), h) == "gpu"
    assert verdict_only(m, q, S(8192, n + 1), h) != "gpu"


def test_largest_concurrency_meeting_the_target_is_the_edge() -> None:
    m, q, h = get_model("llama-3-8b"), parse_quant("Q4_K_M"), hw()
    est = estimate_fit(m, q, S(4096, 2), h, follow_ups=False, concurrency_answers=True, target_tokens_per_s=40)
    c = est.concurrency
    assert c is not None and c.max_concurrency_fits and c.max_concurrency_meeting_target
    k = c.max_concurrency_meeting_target
    assert 1 < k < c.max_concurrency_fits

    def per_user(n: int) -> float:
        si = speed_inputs(m, q, S(4096, n), h)
        assert si is not None
        return 1 / si.step_time_s(n)

    assert per_user(k) >= 40 > per_user(k + 1)
    assert c.aggregate_generation_tokens_per_s == pytest.approx(2 * c.per_user_generation_tokens_per_s, rel=1e-3)


def test_bad_concurrency_is_refused() -> None:
    from hwbench.errors import BadInput

    m, q = get_model("llama-3-8b"), parse_quant("Q4_K_M")
    for n in (0, -1, MAX_SEQ + 1):
        with pytest.raises(BadInput):
            estimate_fit(m, q, S(4096, n), hw(), follow_ups=False)


def test_memory_to_compute_transition_is_a_smooth_maximum_not_a_sum() -> None:
    # one CUDA device, no KV, no dispatch floor: the step time is the weight term alone
    sh = spd.DeviceShare(
        "NVIDIA GeForce RTX 3090", "cuda", 936.0, 35.58, 0, int(4e9), 0, 2 * 7e9, 0.0, True, {"Q4_K": 7e9}, {}
    )
    c = spd.backend_constants("cuda")
    bw = spd.effective_bandwidth_gbps(sh.name, "cuda", 936.0, 35.58)
    w1 = sh.weight_bytes_read / (c.bw_efficiency * bw * 1e9)
    t_f = sh.flops_per_token / ((c.flops_efficiency_quant or c.flops_efficiency) * spd.matrix_tflops(sh.name, "cuda", 35.58) * 1e12)
    assert spd.step_time_s([sh], 0, 1)[0] == pytest.approx(w1, rel=1e-12)
    n_half = max(2, round(0.5 * w1 / t_f))  # compute half the memory time: hidden under the weight reads
    t_half = spd.step_time_s([sh], 0, n_half)[0]
    assert t_half < w1 * 1.1  # a straight sum would be w1 + (n - 1) t_f ~ 1.5 w1
    assert t_half < w1 + (n_half - 1) * t_f * 0.5
    n_big = round(8 * w1 / t_f)  # compute 8x the memory time: compute-bound, ~ n t_f
    t_big, bound = spd.step_time_s([sh], 0, n_big)
    assert bound == "compute" and t_big == pytest.approx(n_big * t_f, rel=0.01)


def test_moe_batches_read_more_experts() -> None:
    # 64 experts, 4 used per token: one token reads 1/16 of the expert bytes, 8 tokens ~ 1 - (15/16)^8 = 40% of them
    base = dict(name="NVIDIA H100 SXM5 80 GB", backend="cuda", bandwidth_gbps=3350.0, tflops=267.6, layers=0,
                weight_bytes_read=int(2e9), kv_bytes_per_ctx_token=0, flops_per_token=2 * 3e9)
    dense = spd.DeviceShare(**base)  # type: ignore[arg-type]
    moe = spd.DeviceShare(**base, expert_bytes=int(24e9), expert_share=4 / 64)  # type: ignore[arg-type]
    assert spd.step_time_s([moe], 0, 1) == spd.step_time_s([dense], 0, 1)  # one token: the active experts only
    t_dense, t_moe = spd.step_time_s([dense], 0, 8)[0], spd.step_time_s([moe], 0, 8)[0]
    touched = 1 - (1 - 4 / 64) ** 8
    want = (2e9 + 24e9 * (touched - 4 / 64)) / 2e9
    assert t_moe / t_dense == pytest.approx(want, rel=0.05)


def test_moe_model_through_the_estimator_is_unchanged_at_one_sequence() -> None:
    m, q, h = get_model("qwen3-30b-a3b"), parse_quant("Q4_K_M"), hw("H100 SXM5 80 GB")
    si = speed_inputs(m, q, S(4096), h)
    assert si is not None and any(sh.expert_bytes for sh in si.generation)
    assert si.step_time_s(1) == si.generation_time_s()


def test_estimate_fit_compute_buffers_per_stream_and_unified() -> None:
    m, q, h = get_model("llama-3-8b"), parse_quant("Q4_K_M"), hw("H100 SXM5 80 GB")
    one = estimate_fit(m, q, EstimateSettings(context=4096, flash_attn=False), h, follow_ups=False)
    four = estimate_fit(m, q, EstimateSettings(context=4096, flash_attn=False, concurrency=4), h, follow_ups=False)
    uni = estimate_fit(m, q, EstimateSettings(context=4096, flash_attn=False, concurrency=4, kv_unified=True), h, follow_ups=False)
    assert four.memory.compute_bytes == one.memory.compute_bytes  # each stream's attention sees its own 4096 cells
    assert uni.memory.compute_bytes > one.memory.compute_bytes  # one buffer: the scores span all 16384 cells
    assert four.memory.kv_cache_bytes == uni.memory.kv_cache_bytes == 4 * one.memory.kv_cache_bytes


# ---------------------------------------------------------------- sliding-window layers read their window only


@pytest.mark.parametrize("model", ["gemma-3-4b", "gpt-oss-20b"])
def test_windowed_layers_read_their_window_of_kv_not_the_whole_depth(model: str) -> None:
    """At a depth far past the window, a windowed layer reads min(depth, window) cells per token (llama.cpp's
    iSWA cache holds and masks to n_swa), a full layer the whole depth: the KV bytes and attention FLOPs per
    token the speed formulas take are that sum, layer by layer."""
    m, q, h = get_model(model), parse_quant("Q4_K_M"), hw("H100 SXM5 80 GB")
    s = S(32768)
    inputs = speed_inputs(m, q, s, h)
    assert inputs is not None
    depth = inputs.depth
    window = mem.swa_layout(m)[0]  # type: ignore[index]
    assert depth > 4 * window
    per_cell = [mem.kv_bytes_layer(m, s, i) / mem.kv_cells(m, s, i) for i in range(m.n_layer)]
    seen = [min(depth, window) if mem.is_swa_layer(m, i) else depth for i in range(m.n_layer)]
    kv_read = sum(sh.kv_bytes_per_ctx_token for sh in inputs.generation) * depth
    assert kv_read == pytest.approx(sum(c * n for c, n in zip(per_cell, seen, strict=True)), rel=1e-3)
    assert kv_read < 0.75 * sum(per_cell) * depth  # the whole depth on every layer would be far more
    attn = sum(sh.attn_flops_per_token for sh in inputs.prompt)
    assert attn == pytest.approx(sum(4 * n * m.n_head * m.k_head_dim for n in seen), rel=1e-6)
