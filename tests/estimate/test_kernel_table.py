"""CPU decode kernels measured per weight type (hwbench/bench/kernels.py) in the speed formulas (estimate/speed.py).

A measured table replaces the bandwidth and CPU_KERNELS terms for the weights of its types, at every number of
sequences; types it does not hold keep the formulas; a what-if machine never inherits it. With a row table (two probe
shapes), each weight row of a measured type adds its seconds per row: short rows cost more per weight.
"""

from __future__ import annotations

import pytest

from hwbench.bench.kernels import split_rows
from hwbench.bench.synth import tiny_spec
from hwbench.estimate import estimate_fit
from hwbench.estimate.fit import speed_inputs
from hwbench.estimate.speed import backend_constants, kernel_time_per_element_s
from hwbench.hardware import apply_what_if
from hwbench.quant import parse_quant
from hwbench.schema import EstimateSettings, HardwareTarget

SPEC = tiny_spec(n_layer=8, n_embd=1024, n_ff=4096, vocab=4096)
ST = EstimateSettings(context=64, kv_type="f16", flash_attn=True, batch=512, ubatch=512, gpu_layers=0)
# a staircase like the repacked Q4 kernels (4-row tiles), a line like vec_dot Q6_K: seconds per element per step
STAIR = {1: 5e-11, 2: 9e-11, 4: 9.5e-11, 8: 1.9e-10}
LINE = {1: 6e-11, 2: 1.0e-10, 4: 1.6e-10, 8: 3.2e-10}


# seconds per weight row per step (the row term): nothing at one sequence, growing with N like vec_dot's per-row work
ROWS = {1: 0.0, 2: 2e-8, 4: 6e-8, 8: 1.2e-7}


def _hw(bw: float = 20.0, table: dict | None = None, rows: dict | None = None) -> HardwareTarget:  # type: ignore[type-arg]
    return HardwareTarget(
        label="box", ram_bytes=16 * 2**30, cpu_bandwidth_gbps=bw, cpu_tflops=0.5, cpu_cores=2, cpu_kernel_step_s=table, cpu_kernel_row_s=rows
    )


def _inputs(hw: HardwareTarget, quant: str = "Q4_K_M", spec=SPEC):  # type: ignore[no-untyped-def]
    inp = speed_inputs(spec, parse_quant(quant), ST, hw)
    assert inp is not None
    return inp


def _weights_s(inp, n: int) -> float:  # type: ignore[no-untyped-def]
    """The step's weight seconds: the p-norm with the per-layer floor and the per-token overhead taken out."""
    c = backend_constants("cpu")
    floor = inp.generation[0].layers * c.layer_overhead_s
    x = inp.step_time_s(n) - c.token_overhead_s
    return float((x**c.overlap_p - floor**c.overlap_p) ** (1 / c.overlap_p))


def test_interpolation_exact_linear_and_extended() -> None:
    assert kernel_time_per_element_s(STAIR, 1) == STAIR[1]
    assert kernel_time_per_element_s(STAIR, 4) == STAIR[4]
    assert kernel_time_per_element_s(STAIR, 3) == pytest.approx((STAIR[2] + STAIR[4]) / 2)
    # past the largest N: the last segment's slope per extra sequence
    slope = (STAIR[8] - STAIR[4]) / 4
    assert kernel_time_per_element_s(STAIR, 16) == pytest.approx(STAIR[8] + 8 * slope)
    assert kernel_time_per_element_s({1: 2e-11}, 3) == pytest.approx(6e-11)


def test_measured_types_replace_bandwidth_for_their_weights() -> None:
    tbl = {"Q4_K": STAIR, "Q6_K": LINE}
    inp = _inputs(_hw(table=tbl))
    (sh,) = inp.generation
    assert set(sh.weight_types) | set(sh.output_types) <= set(tbl), "the test model must hold only measured types"
    c = backend_constants("cpu")
    elems = {k: sh.weight_types.get(k, 0.0) + sh.output_types.get(k, 0.0) for k in tbl}
    for n in (1, 2, 4, 8):
        weights = sum(e * tbl[k][n] for k, e in elems.items())
        # with the KV read taken out (computed at a huge bandwidth), the step is the measured weights + the overheads
        fast = _inputs(_hw(bw=1e9, table=tbl))
        floor = sh.layers * c.layer_overhead_s
        expect = (weights**c.overlap_p + floor**c.overlap_p) ** (1 / c.overlap_p) + c.token_overhead_s
        assert fast.step_time_s(n) == pytest.approx(expect, rel=1e-6)
    # the bandwidth then only moves the KV read: doubling it changes generation by far less than without a table
    with_t = _inputs(_hw(20.0, tbl)).generation_time_s() / _inputs(_hw(40.0, tbl)).generation_time_s()
    without = _inputs(_hw(20.0)).generation_time_s() / _inputs(_hw(40.0)).generation_time_s()
    assert with_t < 1.02 and without > 1.3


def test_aggregate_follows_the_measured_staircase() -> None:
    inp = _inputs(_hw(table={"Q4_K": STAIR, "Q6_K": STAIR}))
    t = {n: inp.step_time_s(n) for n in (1, 2, 4, 8)}
    # 4 sequences cost about what 2 do (one 4-row tile vs two mat-vecs), 8 twice that
    assert t[4] / t[2] == pytest.approx(STAIR[4] / STAIR[2], rel=0.05)
    assert t[8] / t[4] == pytest.approx(STAIR[8] / STAIR[4], rel=0.05)


def test_types_not_measured_keep_the_formulas() -> None:
    plain = _inputs(_hw())
    other = _inputs(_hw(table={"Q8_0": LINE}))  # the model holds no Q8_0
    for n in (1, 2, 8):
        assert other.step_time_s(n) == plain.step_time_s(n)
    # partly measured: the measured type's share follows the table, the rest the formulas (between the two)
    part = _inputs(_hw(table={"Q4_K": {n: v * 3 for n, v in STAIR.items()}}))
    assert part.generation_time_s() > plain.generation_time_s()


def test_estimate_reports_what_the_table_gives() -> None:
    hw = _hw(table={"Q4_K": STAIR, "Q6_K": LINE})
    e = estimate_fit(SPEC, parse_quant("Q4_K_M"), ST, hw, follow_ups=False)
    assert e.speed is not None
    assert e.speed.generation_tokens_per_s == pytest.approx(1 / _inputs(hw).generation_time_s(), rel=0.01)
    # and it is never printed as a hardware figure (excluded from the JSON)
    assert "cpu_kernel_step_s" not in e.model_dump(mode="json")["hardware"]


def test_row_term_adds_each_rows_seconds() -> None:
    tbl = {"Q4_K": STAIR, "Q6_K": LINE}
    plain = _inputs(_hw(bw=1e9, table=tbl))
    rowed = _inputs(_hw(bw=1e9, table=tbl, rows={"Q4_K": ROWS}))
    (sh,) = rowed.generation
    # rows = elements / row length: SPEC's Q4_K matrices have rows of 1024 (attention, ffn up/gate) or 4096 (ffn down)
    assert 1024 < sh.weight_types["Q4_K"] / sh.weight_rows["Q4_K"] < 4096
    rows = sh.weight_rows["Q4_K"] + sh.output_rows.get("Q4_K", 0.0)
    for n in (1, 2, 4, 8):
        assert _weights_s(rowed, n) - _weights_s(plain, n) == pytest.approx(rows * ROWS[n], rel=1e-6, abs=1e-12)
    # a type without a row table (Q6_K here) is unchanged by it: only Q4_K's rows add
    only6 = _inputs(_hw(bw=1e9, table={"Q6_K": LINE}, rows={"Q4_K": ROWS}))
    assert only6.step_time_s(8) == _inputs(_hw(bw=1e9, table={"Q6_K": LINE})).step_time_s(8)


def test_short_rows_cost_more_per_weight_only_with_a_row_table() -> None:
    # most rows 512 weights long (n_embd 512: attention, ffn up/gate) against 2048
    wide = tiny_spec(n_layer=8, n_embd=2048, n_ff=2048, vocab=4096)
    narrow = tiny_spec(n_layer=8, n_embd=512, n_ff=32768 - 512, vocab=4096)
    tbl = {"Q8_0": LINE}
    per_weight = {}
    for rows in (None, {"Q8_0": ROWS}):
        for name, spec in (("wide", wide), ("narrow", narrow)):
            inp = _inputs(_hw(bw=1e9, table=tbl, rows=rows), "Q8_0", spec)
            (sh,) = inp.generation
            per_weight[(rows is None, name)] = _weights_s(inp, 8) / (sh.weight_types["Q8_0"] + sh.output_types.get("Q8_0", 0.0))
    assert per_weight[(True, "narrow")] == pytest.approx(per_weight[(True, "wide")], rel=1e-6)
    assert per_weight[(False, "narrow")] > 1.2 * per_weight[(False, "wide")]


def test_split_rows_solves_both_probes_and_falls_back_to_the_wide_one() -> None:
    s, r = 1e-10, 5e-8
    wide, narrow = (2.7e8, 1.07e5), (2.5e8, 2.45e5)
    w = lambda e, n: e * s + n * r  # noqa: E731
    got = split_rows((*wide, w(*wide)), (*narrow, w(*narrow)))
    assert got == pytest.approx((s, r), rel=1e-9)
    # the narrow probe no slower per weight (noise): no row term, the wide probe's seconds per weight
    assert split_rows((*wide, w(*wide)), (narrow[0], narrow[1], 0.9 * narrow[0] * w(*wide) / wide[0])) == (w(*wide) / wide[0], 0.0)
    assert split_rows((*wide, w(*wide)), None) == (w(*wide) / wide[0], 0.0)


@pytest.mark.parametrize("what_if", [dict(cpu_bandwidth_gbps=50.0), dict(gpu="RTX 4090")])
def test_what_if_machines_do_not_inherit_measured_kernels(what_if: dict) -> None:  # type: ignore[type-arg]
    t = apply_what_if(_hw(table={"Q4_K": STAIR}, rows={"Q4_K": ROWS}), **what_if)
    assert t.cpu_kernel_step_s is None and t.cpu_kernel_row_s is None
    assert apply_what_if(_hw(table={"Q4_K": STAIR}), ram_bytes=2**35).cpu_kernel_step_s == {"Q4_K": STAIR}


def test_without_measured_cpu_drops_every_measured_table() -> None:
    """The one list of the measured CPU tables: every HardwareTarget field kept out of the saved record (they are this
    machine's probe figures, named in the calibration text) is dropped, so a field added later cannot be missed by a
    what-if machine or the calibration's bandwidth solve."""
    measured = {k for k, f in HardwareTarget.model_fields.items() if f.exclude}
    assert measured == {"cpu_kernel_step_s", "cpu_kernel_row_s", "cpu_attn_s"}
    full = _hw(table={"Q4_K": STAIR}, rows={"Q4_K": ROWS}).model_copy(update={"cpu_attn_s": {64: 1e-7}})
    dropped = full.without_measured_cpu(cpu_bandwidth_gbps=50.0)
    assert all(getattr(dropped, k) is None for k in measured) and dropped.cpu_bandwidth_gbps == 50.0
    kept = full.without_measured_cpu(keep_attention=True)
    assert kept.cpu_attn_s == {64: 1e-7} and kept.cpu_kernel_step_s is None and kept.cpu_kernel_row_s is None
    assert full.cpu_kernel_step_s == {"Q4_K": STAIR}  # a copy: the machine itself keeps its tables


# decode attention measured on this CPU: seconds per (sequence, query head, layer, context position), by head size
ATTN = {64: 1.5e-7, 128: 2.0e-7}  # made-up figures (the VM measured heads of 128 cheaper, see the test below)


def test_measured_attention_adds_heads_x_depth_x_seconds_per_sequence() -> None:
    from hwbench.estimate.speed import cpu_kv_time_s

    hw = _hw(table={"Q4_0": STAIR, "Q8_0": LINE, "Q4_K": STAIR, "Q6_K": LINE})
    plain, attn = _inputs(hw, "Q4_0"), _inputs(hw.model_copy(update={"cpu_attn_s": ATTN}), "Q4_0")
    depth = plain.depth
    sh = attn.generation[0]
    assert sh.attn_heads == SPEC.n_head * SPEC.n_layer and sh.head_dim == 64
    per_seq = SPEC.n_head * SPEC.n_layer * depth * ATTN[64]
    assert cpu_kv_time_s(sh, depth) == pytest.approx(per_seq)  # far above the KV bytes' time at this depth
    assert cpu_kv_time_s(plain.generation[0], depth) < per_seq / 5
    for n in (1, 2, 4, 8):
        # the weights' time is unchanged, each sequence adds its attention: n x per_seq more inside the p-norm
        grew = _weights_s(attn, n) - _weights_s(plain, n)
        kv_bytes = n * cpu_kv_time_s(plain.generation[0], depth)
        assert grew == pytest.approx(n * per_seq - kv_bytes, rel=1e-6), n
    # a what-if machine (other memory, a GPU) does not inherit this CPU's measured attention
    assert apply_what_if(hw.model_copy(update={"cpu_attn_s": ATTN}), cpu_bandwidth_gbps=50).cpu_attn_s is None


def test_measured_attention_per_head_size() -> None:
    from hwbench.estimate.speed import attention_s_per_head_position as a

    assert a(ATTN, 64) == ATTN[64] and a(ATTN, 128) == ATTN[128]
    assert a(ATTN, 96) == pytest.approx((ATTN[64] + ATTN[128]) / 2)
    assert a(ATTN, 256) == ATTN[128] and a(ATTN, 32) == ATTN[64]  # outside the measured sizes: the nearest one's
    falling = {64: 9e-8, 128: 3e-8}  # as measured on the VM: heads of 128 cheaper per head; no trend carried past 128
    assert a(falling, 256) == 3e-8 and a(falling, 96) == pytest.approx(6e-8)
    assert a({128: 3e-7}, 64) == 3e-7  # one size measured: that figure
    # a model's own head size is what counts: the same shape with heads of 128 costs more per head and position
    hw = _hw(table={"Q4_0": STAIR}).model_copy(update={"cpu_attn_s": ATTN})
    wide_heads = tiny_spec(n_layer=8, n_embd=1024, n_ff=4096, vocab=4096, n_head=8, n_head_kv=8)
    assert _inputs(hw, "Q4_0", wide_heads).generation[0].head_dim == 128


def test_attention_seconds_from_two_depths() -> None:
    from hwbench.bench.kernels import KERNEL_DEPTH, attention_seconds

    spec = tiny_spec(n_layer=4, n_embd=256, n_ff=256, vocab=1024)  # 4 heads x 4 layers
    a = 2e-7
    shallow = {n: 0.01 * n for n in (1, 2, 4, 8)}
    deep = {n: s + n * 16 * (128 - KERNEL_DEPTH) * a for n, s in shallow.items()}
    assert attention_seconds(spec, {KERNEL_DEPTH: shallow, 128: deep}, 128) == pytest.approx(a)
    spoiled = {**deep, 8: deep[8] * 3}  # one N spoiled by a pause: the median over N drops it
    assert attention_seconds(spec, {KERNEL_DEPTH: shallow, 128: spoiled}, 128) == pytest.approx(a)
    assert attention_seconds(spec, {KERNEL_DEPTH: deep, 128: shallow}, 128) is None  # no growth with depth: noise
    assert attention_seconds(spec, {KERNEL_DEPTH: shallow}, 128) is None
