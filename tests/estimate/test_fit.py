"""Fit verdicts, placement and follow-up answers, with hand-checked numbers."""

import pytest

from hwbench.errors import BadInput
from hwbench.estimate import estimate_fit
from hwbench.estimate import memory as mem
from hwbench.estimate.fit import _Ctx, tensors_for
from hwbench.hardware import gpu_target_from_profile
from hwbench.profiles import find_gpu, get_model
from hwbench.quant import parse_quant
from hwbench.schema import EstimateSettings, HardwareTarget

GiB = 2**30


def hw(gpus=(), n=1, ram_gib=64, bw=50.0):
    targets = [gpu_target_from_profile(find_gpu(g)) for g in gpus for _ in range(n)]
    return HardwareTarget(label="test", gpus=targets, ram_bytes=ram_gib * GiB, cpu_bandwidth_gbps=bw, cpu_tflops=1.0, cpu_cores=8)


def fit(model, quant="Q4_K_M", ctx=8192, target=None, **kw):
    s = EstimateSettings(context=ctx, **kw)
    return estimate_fit(get_model(model), parse_quant(quant), s, target or hw(), follow_ups=False)


def test_kv_cache_llama31_70b_8k_hand_checked():
    # 80 layers x 8192 cells x (K 8 heads x 128 + V 8 x 128) x 2 bytes (f16) = 2.5 GiB
    m = get_model("llama-3.1-70b")
    s = EstimateSettings(context=8192)
    assert sum(mem.kv_bytes_layer(m, s, i) for i in range(80)) == 80 * 8192 * 2048 * 2 == int(2.5 * GiB)
    # q8_0: 34 bytes per 32 elements
    s8 = EstimateSettings(context=8192, kv_type="q8_0")
    assert sum(mem.kv_bytes_layer(m, s8, i) for i in range(80)) == 80 * 8192 * 2 * (1024 // 32 * 34)


def test_kv_cache_context_is_padded_to_256():
    m = get_model("llama-3-8b")
    s = EstimateSettings(context=1000)
    assert mem.kv_cells(m, s, 0) == 1024
    assert mem.kv_bytes_layer(m, s, 0) == 1024 * 2 * 1024 * 2


def test_kv_cache_gemma2_sliding_window():
    # every other layer is windowed: min(8192, pad(4096 + 512, 256)) = 4608 cells
    m = get_model("gemma-2-9b")
    s = EstimateSettings(context=8192, ubatch=512)
    per_cell = 8 * 256 * 2 * 2  # (K + V) x 8 kv heads x 256 dims x 2 bytes
    assert mem.kv_cells(m, s, 0) == 4608 and mem.kv_cells(m, s, 1) == 8192
    assert sum(mem.kv_bytes_layer(m, s, i) for i in range(42)) == 21 * 8192 * per_cell + 21 * 4608 * per_cell


def test_kv_cache_deepseek_mla():
    # MLA caches the 512-dim latent + 64 rope dims per token per layer, no separate V
    m = get_model("deepseek-v3")
    s = EstimateSettings(context=4096)
    assert sum(mem.kv_bytes_layer(m, s, i) for i in range(61)) == 61 * 4096 * 576 * 2


def test_8b_fits_fully_on_a_3090():
    e = fit("llama-3-8b", target=hw(["RTX 3090"]))
    assert e.verdict == "gpu"
    assert e.gpu_layers == e.total_layers == 33
    gpu = e.memory.per_device[0]
    assert gpu.weights_bytes > 4 * GiB and gpu.total_bytes < 24 * GiB
    # weights on the GPU: all but the input embedding (which stays in RAM)
    embd = 4096 * 128256 * 144 // 256  # Q4_K token_embd
    assert gpu.weights_bytes == e.memory.weights_bytes - embd
    assert e.memory.kv_cache_bytes == 32 * 8192 * 2048 * 2


def test_70b_partial_on_one_24gb_gpu_is_the_largest_split_that_fits():
    target = hw(["RTX 3090"], ram_gib=64)
    e = fit("llama-3-70b", target=target)
    assert e.verdict == "partial"
    # ~0.48 GiB weights + 32 MiB KV per layer; 24 GiB minus CUDA context and compute buffer -> 46 layers
    assert 44 <= e.gpu_layers <= 47
    gpu = e.memory.per_device[0]
    assert gpu.total_bytes <= gpu.capacity_bytes
    ctx = _Ctx(get_model("llama-3-70b"), tensors_for(get_model("llama-3-70b"), parse_quant("Q4_K_M")), e.settings, target)
    assert not ctx.place(e.gpu_layers + 1).fits
    # the memory total counts every byte once: weights + KV + compute + output + overhead
    mm = e.memory
    assert mm.total_bytes == mm.weights_bytes + mm.kv_cache_bytes + mm.compute_bytes + mm.output_bytes + mm.overhead_bytes


def test_two_gpus_split_layers_and_fit_70b_q4():
    e = fit("llama-3-70b", target=hw(["RTX 3090"], n=2, ram_gib=64), ctx=2048)
    assert e.verdict == "gpu"
    layers = [d.layers for d in e.memory.per_device[:2]]
    assert sum(layers) == 81 and abs(layers[0] - layers[1]) <= 2


def test_cpu_only_and_none():
    e = fit("llama-3-8b", target=hw(ram_gib=16))
    assert e.verdict == "cpu" and e.gpu_layers == 0
    e = fit("llama-3-70b", target=hw(ram_gib=24))
    assert e.verdict == "none"
    # short by roughly the 39.6 GiB of weights + KV + reserve - 24 GiB
    assert -25 * GiB < e.headroom_bytes < -15 * GiB
    assert e.speed is not None and e.speed.generation_tokens_per_s == 0.0


def test_user_gpu_layers_is_evaluated_as_given():
    e = fit("llama-3-8b", target=hw(["RTX 3090"]), gpu_layers=0)
    assert e.verdict == "cpu" and e.gpu_layers == 0
    e = fit("llama-3-8b", target=hw(["RTX 3090"]), gpu_layers=10)
    assert e.verdict == "partial" and e.gpu_layers == 10 and e.memory.per_device[0].layers == 10


def test_unified_memory_apple():
    e = fit("llama-3-70b", target=hw(["M2 Ultra"], ram_gib=192))
    assert e.verdict == "gpu"
    gpu = e.memory.per_device[0]
    assert gpu.capacity_bytes == int(192 * GiB * 0.75)  # Metal working-set limit
    # GPU allocations are counted in RAM too (same pool)
    assert e.memory.per_device[-1].total_bytes > gpu.total_bytes


def test_follow_ups_best_quant_context_and_gpu_count():
    s = EstimateSettings(context=8192)
    target = hw(["RTX 3090"], ram_gib=64)
    refs = [gpu_target_from_profile(find_gpu("H100 SXM5 80 GB"))]
    e = estimate_fit(get_model("llama-3.1-70b"), parse_quant("q4"), s, target, reference_gpus=refs)
    assert e.best_quant_gpu in ("IQ2_XXS", "IQ1_M")  # only ~2-bit 70B fits 24 GiB
    assert e.best_quant_any in ("F16", "Q8_0")
    assert e.gpus_needed["NVIDIA GeForce RTX 3090"] == 2
    assert e.gpus_needed["NVIDIA H100 SXM5 80 GB"] == 1
    assert e.max_context["gpu"] is None and e.max_context["partial"] >= 8192


def test_405b_multi_gpu_and_multi_node_note():
    s = EstimateSettings(context=8192)
    h100 = hw(["H100 SXM5 80 GB"], n=8, ram_gib=1024)
    e = estimate_fit(get_model("llama-3.1-405b"), parse_quant("q4"), s, h100, reference_gpus=[])
    assert e.verdict == "gpu"
    e16 = estimate_fit(get_model("llama-3.1-405b"), parse_quant("f16"), s, h100, reference_gpus=[])
    assert e16.verdict == "partial"
    assert e16.gpus_needed["NVIDIA H100 SXM5 80 GB"] in (12, 16)
    assert any("nodes" in n for n in e16.notes)


def test_speed_partial_is_slower_than_full_and_cpu_slowest():
    full = fit("llama-3-8b", target=hw(["RTX 3090"]))
    part = fit("llama-3-8b", target=hw(["RTX 3090"]), gpu_layers=16)
    cpu = fit("llama-3-8b", target=hw(["RTX 3090"]), gpu_layers=0)
    g = [x.speed.generation_tokens_per_s for x in (full, part, cpu)]
    assert g[0] > g[1] > g[2] > 0


def test_bad_settings():
    with pytest.raises(BadInput):
        fit("llama-3-8b", ctx=0)
    with pytest.raises(BadInput):
        fit("llama-3-8b", kv_type="q8_0", flash_attn=False)
    with pytest.raises(BadInput):
        fit("llama-3-8b", kv_type="q3")


@pytest.mark.parametrize("model,gpu,n,ram", [("llama-3-70b", "RTX 3090", 1, 64), ("llama-3.1-405b", "RTX 4090", 3, 512), ("qwen2.5-72b", "RTX 3060 12 GB", 2, 96), ("mixtral-8x7b", "RTX 4060 Ti 16 GB", 1, 48)])
def test_partial_split_is_the_largest_that_fits(model, gpu, n, ram):
    """The bisection finds exactly what a scan of every layer count finds."""
    target = hw([gpu], n=n, ram_gib=ram)
    m = get_model(model)
    e = fit(model, target=target)
    ctx = _Ctx(m, tensors_for(m, parse_quant("Q4_K_M")), e.settings, target)
    scan = next((k for k in range(m.n_layer, 0, -1) if ctx.place(k).fits), 0)
    assert e.verdict == ("partial" if scan else "cpu")
    assert e.gpu_layers == scan


@pytest.mark.parametrize(
    "model,quant,target_args,verdict",
    [
        ("llama-3-8b", "Q4_K_M", (["RTX 3090"],), "gpu"),  # ~5 GiB on a 24 GiB card
        ("llama-3-70b", "Q4_K_M", (["RTX 3090"], 1, 64), "partial"),  # ~40 GiB of weights: part on the card, the rest in 64 GiB RAM
        ("mixtral-8x7b", "gptq", (), "cpu"),  # no GPU, ~25 GB in 64 GiB RAM
        ("llama-3-70b", "Q8_0", ((), 1, 16), "none"),  # ~70 GiB, 16 GiB RAM
    ],
)
def test_results_validate(model, quant, target_args, verdict):
    """estimate_fit builds its results without validation (speed): they must pass validation all the same."""
    from hwbench.schema import FitEstimate

    e = estimate_fit(get_model(model), parse_quant(quant), EstimateSettings(context=4096), hw(*target_args), reference_gpus=[])
    again = FitEstimate.model_validate(e.model_dump(mode="json"))
    assert again.model_dump() == e.model_dump()
    assert again.verdict == verdict


def test_mix_weights_never_below_the_floor():
    """The shortcut in verdict_only relies on it: each file type's mix is at least its floor type."""
    from hwbench.arch import model_tensors
    from hwbench.estimate.fit import _MIX_FLOOR
    from hwbench.quant import FILE_TYPES, GGML_TYPES

    for name in ("llama-3-8b", "qwen2.5-72b", "gemma-2-9b", "mixtral-8x7b", "phi-3-mini", "deepseek-v3", "qwen3-30b-a3b"):
        m = get_model(name)
        for ft in FILE_TYPES.values():
            floor = GGML_TYPES[_MIX_FLOOR[ft.name]].bits_per_weight if ft.name in _MIX_FLOOR else ft.nominal_bpw
            w = sum(t.n_bytes for t in model_tensors(m, ft.name))
            assert w >= m.params * floor / 8, (name, ft.name)


def test_layer_split_compute_buffers_per_device_hand_checked():
    """llama.cpp reserves a compute buffer per device of a layer split (llama-context.cpp graph_reserve):
    GPUs holding only layers need the layer peak, the GPU holding the output the logits too, and the host
    of a fully offloaded model only the embedding rows and graph inputs."""
    e = fit("llama-3-70b", ctx=2048, target=hw(["RTX 3090"], n=2, ram_gib=64))
    gpu0, gpu1, ram = e.memory.per_device
    MiB = 2**20
    T, E = 512, 8192
    u = E * T * 4  # 16 MiB
    f = 28672 * T * 4  # 56 MiB
    ffn = 2048 * T * 2 + 3 * f + 4 * u  # f16 mask + up, gate, GLU + 4 hidden states (flash attention on)
    assert ffn == 234 * MiB
    assert gpu0.compute_bytes == ffn  # layers only: the FFN phase is its peak
    assert gpu1.compute_bytes >= 128256 * T * 4 + 2 * u  # + logits (250.5 MiB) and 2 hidden states
    assert ram.compute_bytes == u + T * 16  # embedding rows + token/position inputs
    assert gpu0.overhead_bytes == gpu1.overhead_bytes == 400 * MiB  # one CUDA context per GPU used
