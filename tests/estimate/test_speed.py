"""Hand-checked numbers for the speed formulas (hwbench/estimate/speed.py)."""

from __future__ import annotations

import dataclasses

import pytest

from hwbench.estimate import speed as spd


def test_matrix_tflops_architecture_rules() -> None:
    # TechPowerUp lists FP16 = FP32 on GA10x/Ada: tensor cores do 4x that (3090: 142 TFLOPS dense FP16)
    assert spd.matrix_tflops("NVIDIA GeForce RTX 3090", "cuda", 35.58) == pytest.approx(142.32)
    assert spd.matrix_tflops("NVIDIA GeForce RTX 4090", "cuda", 82.58) == pytest.approx(330.32)
    # GA100 lists FP16 = 4x FP32 (78 TFLOPS): tensor 312
    assert spd.matrix_tflops("NVIDIA A100 PCIe 80 GB", "cuda", 77.97) == pytest.approx(311.88)
    # T4 is listed at its tensor rate already
    assert spd.matrix_tflops("NVIDIA Tesla T4", "cuda", 65.13) == pytest.approx(65.13)
    # consumer Pascal: FP16 at 1/64, llama.cpp computes in FP32 (GTX 1080: 0.138 -> 8.9 TFLOPS)
    assert spd.matrix_tflops("NVIDIA GeForce GTX 1080", "cuda", 0.1385) == pytest.approx(8.864)
    # other vendors: the listed figure as is
    assert spd.matrix_tflops("Apple M1 Max (32-core GPU)", "metal", 10.62) == 10.62
    assert spd.gpu_arch("Apple M1", "metal") is None


def test_bandwidth_cap_from_sm_concurrency() -> None:
    c = spd.backend_constants("cuda")
    # A100: 77.97 listed FP16 = 4 x 19.49 FP32 = 108 SMs x 1.41 GHz x 64 lanes x 2 -> 152.3 SM-GHz
    sm_ghz = 77.97 * 1000 / (4 * 2 * 64)
    assert sm_ghz == pytest.approx(152.3, abs=0.1)
    assert spd.effective_bandwidth_gbps("NVIDIA A100 PCIe 80 GB", "cuda", 1940.0, 77.97) == pytest.approx(c.bytes_per_sm_clock * sm_ghz)
    # RTX 3090: 82 SMs x 1.695 GHz = 139 SM-GHz: the cap is above its 936 GB/s, spec bandwidth wins
    assert spd.effective_bandwidth_gbps("NVIDIA GeForce RTX 3090", "cuda", 936.2, 35.58) == 936.2
    # no cap off CUDA
    assert spd.effective_bandwidth_gbps("Apple M1 Max", "metal", 400.0, 10.62) == 400.0


def _share(**kw: object) -> spd.DeviceShare:
    base: dict[str, object] = dict(
        name="NVIDIA GeForce RTX 3090",
        backend="cuda",
        bandwidth_gbps=936.2,
        tflops=35.58,
        layers=32,
        weight_bytes_read=int(4.92e9),
        kv_bytes_per_ctx_token=0,
        flops_per_token=16e9,
    )
    base.update(kw)
    return spd.DeviceShare(**base)  # type: ignore[arg-type]


def test_generation_time_hand_checked() -> None:
    c = spd.backend_constants("cuda")
    t_mem = 4.92e9 / (c.bw_efficiency * 936.2e9)
    t_floor = 32 * c.layer_overhead_s
    expect = (t_mem**c.overlap_p + t_floor**c.overlap_p) ** (1 / c.overlap_p) + c.token_overhead_s
    assert spd.generation_time_s([_share()], 0) == pytest.approx(expect)
    # with the constants as committed: 8B Q4_K_M on a 3090 ~ 8.6 ms per token (measured 8.66 ms)
    assert spd.generation_time_s([_share()], 0) == pytest.approx(8.6e-3, rel=0.03)


def test_generation_kv_cache_read_at_depth() -> None:
    c = spd.backend_constants("cuda")
    kv = 32 * 2 * 1024 * 2  # 128 KiB per token of context
    t0 = spd.generation_time_s([_share(layers=0)], 0)
    t1 = spd.generation_time_s([_share(layers=0, kv_bytes_per_ctx_token=kv)], 4096)
    assert t1 - t0 == pytest.approx(kv * 4096 / (c.kv_efficiency * 936.2e9))


def test_kv_read_adds_after_the_weights_on_gpus() -> None:
    # decode attention runs as its own kernels: its KV time adds in full even when the weights sit on the
    # dispatch floor or are ALU-bound (Metal K-quants), instead of vanishing inside the p-norm / max
    kv = 32 * 2 * 1024 * 2
    for backend, name, bw, tf in (("cuda", "NVIDIA GeForce RTX 3090", 936.2, 35.58), ("metal", "Apple M1 Max (32-core GPU)", 400.0, 10.62)):
        c = spd.backend_constants(backend)
        assert c.kv_separate
        sh = dict(name=name, backend=backend, bandwidth_gbps=bw, tflops=tf)
        t0 = spd.generation_time_s([_share(**sh)], 0)
        t1 = spd.generation_time_s([_share(kv_bytes_per_ctx_token=kv, **sh)], 4096)
        assert t1 - t0 == pytest.approx(kv * 4096 / (c.kv_efficiency * bw * 1e9))
    # the CPU backend keeps the KV bytes with the weights (one memory-bound stream)
    assert not spd.backend_constants("cpu").kv_separate


def test_layer_split_devices_add_up() -> None:
    one = spd.generation_time_s([_share(layers=80, weight_bytes_read=int(42e9))], 0)
    two = spd.generation_time_s([_share(layers=40, weight_bytes_read=int(21e9))] * 2, 0)
    # two GPUs hold twice as much, they do not read twice as fast
    assert two == pytest.approx(one, rel=0.05)
    assert two >= one


def test_small_model_on_fast_gpu_hits_the_dispatch_floor() -> None:
    c = spd.backend_constants("cuda")
    t = spd.generation_time_s([_share(weight_bytes_read=1000, bandwidth_gbps=3000.0)], 0)
    assert t == pytest.approx(32 * c.layer_overhead_s + c.token_overhead_s, rel=1e-3)


def test_prompt_time_hand_checked() -> None:
    c = spd.backend_constants("cuda")
    peak = 142.32e12
    t = spd.prompt_time_per_token_s([_share(quantized=False)])
    assert t == pytest.approx(16e9 / (c.flops_efficiency * peak))
    tq = spd.prompt_time_per_token_s([_share(quantized=True)])
    assert tq == pytest.approx(16e9 / (c.flops_efficiency_quant * peak))
    # attention flops: compute at attn_efficiency plus the KQ traffic through memory
    ta = spd.prompt_time_per_token_s([_share(flops_per_token=0.0, attn_flops_per_token=1e9)])
    assert ta == pytest.approx(1e9 / (c.attn_efficiency * peak) + 1e9 * c.attn_bytes_per_flop / 936.2e9)


def test_partial_offload_pays_the_pcie_copy() -> None:
    base = spd.prompt_time_per_token_s([_share()])
    with_copy = spd.prompt_time_per_token_s([_share()], cpu_offloaded_weight_bytes=int(2.5e9), ubatch=512)
    # the CPU layers' weights cross PCIe once per micro-batch, at the assumed rate (25 GB/s, hwbench/assumptions.py)
    assert with_copy - base == pytest.approx(2.5e9 / 25e9 / 512)


def test_cpu_without_weight_types_hand_checked() -> None:
    # a CPU share with no per-type element counts (a model given only by size): bytes / bandwidth in
    # decode, FLOPs at the CPU's flops_efficiency of its fp32 peak in prompt processing
    cpu = _share(name="CPU", backend="cpu", bandwidth_gbps=30.0, tflops=0.16, layers=12)
    c = spd.backend_constants("cpu")
    t = spd.generation_time_s([cpu], 0)
    assert t == pytest.approx(4.92e9 / (c.bw_efficiency * 30e9) + 12 * c.layer_overhead_s + c.token_overhead_s)
    assert spd.prompt_time_per_token_s([cpu]) == pytest.approx(16e9 / (c.flops_efficiency * 0.16e12))


def test_other_backend_constants_are_used_when_given() -> None:
    # the refit in scripts/accuracy_speed.py evaluates the same inputs with candidate constants
    import dataclasses

    c = spd.backend_constants("cuda")
    slower = {**spd.BACKENDS, "cuda": dataclasses.replace(c, bw_efficiency=c.bw_efficiency / 2, flops_efficiency_quant=c.flops_efficiency_quant / 2)}
    sh = [_share(layers=0)]
    assert spd.generation_time_s(sh, 0, backends=slower) == pytest.approx(2 * spd.generation_time_s(sh, 0))
    assert spd.prompt_time_per_token_s(sh, backends=slower) == pytest.approx(2 * spd.prompt_time_per_token_s(sh))
    assert spd.BACKENDS["cuda"] is c  # the module's constants are left alone


def test_cpu_prompt_follows_the_kernel_of_each_weight_type() -> None:
    c = spd.backend_constants("cpu")
    q4 = spd.cpu_kernel("Q4_0")
    q5 = spd.cpu_kernel("Q5_0")
    # repacked Q4_0 (repack.cpp q4_0_8x8) is measured >2x faster per flop than tinyBLAS Q5_0
    assert q4.gemm > 2 * q5.gemm
    types = {"Q4_0": 3e6, "Q5_0": 1e6}  # 3/4 of the weights Q4_0, 1/4 Q5_0
    cpu = _share(name="CPU", backend="cpu", bandwidth_gbps=40.0, tflops=0.16, layers=12, weight_types=types)
    inv = 0.75 / q4.gemm + 0.25 / q5.gemm
    assert spd.prompt_time_per_token_s([cpu]) == pytest.approx(16e9 * inv / (c.flops_efficiency * 0.16e12))
    # F32 tensors (e.g. an MoE router) go through the float GEMM path; unknown types the default kernel
    assert spd.cpu_kernel("F32") == spd.cpu_kernel("F16")
    assert spd.cpu_kernel("IQ2_XS") == spd.CPU_KERNEL_DEFAULT


def test_cpu_decode_alu_bound_kernels() -> None:
    c = spd.backend_constants("cpu")
    types = {"Q5_0": 4e8}
    out = {"Q6_K": 1e8}
    cpu = _share(
        name="CPU",
        backend="cpu",
        bandwidth_gbps=40.0,
        tflops=0.16,
        layers=24,
        weight_bytes_read=int(3e8),
        weight_types=types,
        output_types=out,
    )
    t_mem = 3e8 / (c.bw_efficiency * 40e9)
    t_alu = (4e8 / spd.cpu_kernel("Q5_0").gemv + 1e8 / spd.cpu_kernel("Q6_K").gemv) / 0.16e12
    assert spd.cpu_decode_alu_time_s(cpu) == pytest.approx(t_alu)
    p = c.decode_alu_p
    expect = (t_mem**p + t_alu**p) ** (1 / p) + 24 * c.layer_overhead_s + c.token_overhead_s
    assert spd.generation_time_s([cpu], 0) == pytest.approx(expect)
    # one thread cannot unpack Q5_0 as fast as the bus delivers it: slower than the bytes alone
    assert spd.generation_time_s([cpu], 0) > t_mem + 24 * c.layer_overhead_s + c.token_overhead_s


def _fingerprint() -> list[float]:
    """Seconds per token of a fixed set of cases covering every backend and term of the formulas,
    through the estimator's own inputs (fit.speed_inputs) for two real models."""
    from hwbench.estimate.fit import speed_inputs
    from hwbench.hardware import apply_what_if
    from hwbench.profiles import get_model
    from hwbench.quant import parse_quant
    from hwbench.schema import EstimateSettings, HardwareTarget

    kv = 32 * 2 * 1024 * 2
    out = []
    for backend, name, bw, tf in (
        ("cuda", "NVIDIA A100 PCIe 80 GB", 1940.0, 77.97),
        ("metal", "Apple M1 Max (32-core GPU)", 400.0, 10.62),
        ("rocm", "AMD Radeon RX 7900 XTX", 960.0, 122.8),
        ("vulkan", "Intel Arc A770", 560.0, 39.3),
        ("sycl", "Intel Arc A770", 560.0, 39.3),
    ):
        sh = _share(name=name, backend=backend, bandwidth_gbps=bw, tflops=tf, kv_bytes_per_ctx_token=kv, attn_flops_per_token=2e9)
        out += [spd.generation_time_s([sh], 4096), spd.prompt_time_per_token_s([sh], cpu_offloaded_weight_bytes=int(1e9))]
    cpu = _share(name="CPU", backend="cpu", bandwidth_gbps=40.0, tflops=0.3, layers=24, weight_bytes_read=int(3e8),
                 kv_bytes_per_ctx_token=kv, weight_types={"Q4_K": 3e8, "Q6_K": 1e8}, output_types={"Q6_K": 1e8})
    out += [spd.generation_time_s([cpu], 512), spd.prompt_time_per_token_s([cpu])]
    host = HardwareTarget(label="t", ram_bytes=64 * 2**30, cpu_bandwidth_gbps=40.0, cpu_tflops=0.5, cpu_cores=8)
    for model, quant, gpu, ctx in (("llama-3-8b", "Q4_K_M", "RTX 3090", 4096), ("llama-3-70b", "Q4_K_M", "RTX 4090", 2048), ("qwen2.5-0.5b", "Q8_0", None, 1024)):
        hw = apply_what_if(host, gpu=gpu) if gpu else host
        inputs = speed_inputs(get_model(model), parse_quant(quant), EstimateSettings(context=ctx), hw)
        assert inputs is not None
        out += [inputs.generation_time_s(), inputs.prompt_time_per_token_s()]
    return out


# What the speed formulas give for _fingerprint(), per SPEED_MODEL_VERSION. A change to the formulas,
# BACKENDS, CPU_KERNELS or fit.speed_inputs that moves these numbers must bump SPEED_MODEL_VERSION
# (calibrations solved under the old formulas are then ignored) and add its numbers here.
_PINNED: dict[str, list[float]] = {
    "2026-12-02": [
        0.008920334196768187,
        0.0002993826378929021,
        0.03712269651960841,
        0.0036397652903051737,
        0.010155746056318396,
        0.0006753019815418024,
        0.01571527683597487,
        0.0019441131255301103,
        0.018610797370130265,
        0.0022155295801526715,
        0.012204877545379899,
        0.03592301575385506,
        0.008705575032967415,
        0.00036414123646495613,
        0.5703506005581128,
        0.002647824507003699,
        0.0169883576983878,
        0.0017516511882783882,
    ],
    "2026-12-02.2": [
        0.008920334196768187,
        0.0002993826378929021,
        0.036082898312610245,
        0.0037866792572083703,
        0.010155746056318396,
        0.0006753019815418024,
        0.01571527683597487,
        0.0019441131255301103,
        0.018610797370130265,
        0.0022155295801526715,
        0.012204877545379899,
        0.03592301575385506,
        0.008705575032967415,
        0.00036414123646495613,
        0.5703506005581128,
        0.002647824507003699,
        0.0169883576983878,
        0.0017516511882783882,
    ],
}
# 2026-12-02.3 added batched decoding (step_time_s, issue 13): the single-stream results above did not move
_PINNED["2026-12-02.3"] = _PINNED["2026-12-02.2"]
# 2026-12-02.4: sliding-window layers read their window of KV, not the whole depth (gemma 2/3, gpt-oss, Llama 4);
# the fingerprint's models have no windowed layers, so it did not move (tests/estimate/test_concurrency.py pins that case)
_PINNED["2026-12-02.4"] = _PINNED["2026-12-02.3"]
# 2026-12-03.1: CUDA prompt GEMMs capped by board power x matrix_tflops_per_watt, CUDA and Metal prompt constants
# refitted on the 16 + 13 GPUs of the dev rows; decode untouched (only the prompt entries moved)
_PINNED["2026-12-03.1"] = [
    0.008920334196768187,
    0.00029747359880064815,
    0.036082898312610245,
    0.0029764319924921374,
    0.010155746056318396,
    0.0006753019815418024,
    0.01571527683597487,
    0.0019441131255301103,
    0.018610797370130265,
    0.0022155295801526715,
    0.012204877545379899,
    0.03592301575385506,
    0.008705575032967415,
    0.00035672846419173703,
    0.5703506005581128,
    0.0025779230419306683,
    0.0169883576983878,
    0.0017516511882783882,
]


def test_speed_results_are_pinned_to_the_model_version() -> None:
    got = _fingerprint()
    assert spd.SPEED_MODEL_VERSION in _PINNED, f"new SPEED_MODEL_VERSION: record its results: {got!r}"
    assert got == pytest.approx(_PINNED[spd.SPEED_MODEL_VERSION], rel=1e-9), (
        "the speed formulas' results changed: bump speed.SPEED_MODEL_VERSION and pin the new results"
    )


def test_speed_inputs_are_what_the_estimate_uses() -> None:
    # fit.speed_inputs is the public view of the estimator's inputs (scripts/accuracy_speed.py refits on
    # it): evaluated, it gives the estimate's own tokens/s, for full GPU, partial offload and CPU alike
    from hwbench.estimate import estimate_fit
    from hwbench.estimate.fit import speed_inputs
    from hwbench.hardware import apply_what_if
    from hwbench.profiles import get_model
    from hwbench.quant import parse_quant
    from hwbench.schema import EstimateSettings, HardwareTarget

    host = HardwareTarget(label="t", ram_bytes=64 * 2**30, cpu_bandwidth_gbps=40.0, cpu_tflops=0.5, cpu_cores=8)
    s = EstimateSettings(context=4096)
    for model, gpu, verdict in (("llama-3-8b", "RTX 3090", "gpu"), ("llama-3-70b", "RTX 3090", "partial"), ("llama-3-8b", None, "cpu")):
        hw = apply_what_if(host, gpu=gpu) if gpu else host
        m, q = get_model(model), parse_quant("Q4_K_M")
        e = estimate_fit(m, q, s, hw, follow_ups=False)
        inputs = speed_inputs(m, q, s, hw)
        assert e.verdict == verdict and inputs is not None and e.speed is not None
        assert 1 / inputs.generation_time_s() == pytest.approx(e.speed.generation_tokens_per_s, abs=0.006)
        assert 1 / inputs.prompt_time_per_token_s() == pytest.approx(e.speed.prompt_tokens_per_s, abs=0.006)
        assert [sh.layers for sh in inputs.generation] == [d["layers"] for d in e.speed.inputs["devices"]]
        assert (inputs.cpu_offloaded_weight_bytes > 0) == (verdict == "partial")
    # does not fit: no inputs
    tiny = host.model_copy(update={"ram_bytes": 2**30})
    assert speed_inputs(get_model("llama-3-70b"), parse_quant("Q4_K_M"), s, tiny) is None


def test_prompt_gemm_rate_is_capped_by_board_power() -> None:
    # issue 14 part 1: a 300 W RTX 6000 Ada cannot hold its listed tensor peak under prompt GEMMs; a 450 W RTX 4090 can
    from hwbench.estimate.fit import speed_inputs
    from hwbench.hardware import apply_what_if
    from hwbench.profiles import find_gpu, get_model
    from hwbench.quant import parse_quant
    from hwbench.schema import EstimateSettings, HardwareTarget

    c = spd.BACKENDS["cuda"]
    host = HardwareTarget(label="t", ram_bytes=64 * 2**30, cpu_bandwidth_gbps=40.0, cpu_tflops=0.5, cpu_cores=8)
    times = {}
    for gpu in ("RTX 6000 Ada", "RTX 4090"):
        prof = find_gpu(gpu)
        inputs = speed_inputs(get_model("llama-3-8b"), parse_quant("F16"), EstimateSettings(context=512), apply_what_if(host, gpu=gpu))
        assert inputs is not None
        sh = inputs.prompt[0]
        assert sh.power_w == prof.tdp_w  # the profile's board power reaches the formulas
        peak = spd.matrix_tflops(sh.name, "cuda", sh.tflops)
        uncapped = {**spd.BACKENDS, "cuda": dataclasses.replace(c, matrix_tflops_per_watt=0.0)}
        times[gpu] = inputs.prompt_time_per_token_s(), inputs.prompt_time_per_token_s(uncapped), peak, sh.power_w
    t, t_free, peak, watts = times["RTX 6000 Ada"]
    assert watts * c.matrix_tflops_per_watt < peak
    assert t > t_free * 1.3  # the cap binds: 300 W x 0.83 TFLOPS/W is ~70% of the 364 TFLOPS tensor peak
    t, t_free, peak, watts = times["RTX 4090"]
    assert watts * c.matrix_tflops_per_watt > peak and t == pytest.approx(t_free)
    assert spd.matrix_peak_tflops(inputs.prompt[0], c) == pytest.approx(peak)  # the 4090 share (the loop's last)
    # a GPU without a known board power keeps the tensor peak
    bare = dataclasses.replace(inputs.prompt[0], power_w=0.0)
    assert spd.matrix_peak_tflops(bare, c) == pytest.approx(spd.matrix_tflops(bare.name, "cuda", bare.tflops))
