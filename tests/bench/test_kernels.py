"""The CPU kernel probe (hwbench/bench/kernels.py) with the real llama.cpp, and how `bench` and `check` use it.

The probe shape here is small (its weights fit in cache), so the figures mean nothing as speeds: these tests check
the mechanics: one type per file, every N measured, the estimator reproducing each measured step of the probe model
from the stored table, the calibration keeping it, failures kept per type, when `bench` runs it.
"""

from __future__ import annotations

import pytest

from hwbench.bench import kernels as K
from hwbench.bench.synth import tiny_spec
from hwbench.calibration import Calibration, load_calibration, machine_key, save_calibration
from hwbench.estimate.fit import speed_inputs
from hwbench.estimate.speed import backend_constants
from hwbench.machine import minimal_host
from hwbench.quant import parse_quant
from hwbench.schema import EstimateSettings, HardwareTarget

pytestmark = pytest.mark.slow

SMALL = tiny_spec(n_layer=2, n_embd=256, n_ff=1024, vocab=1024).model_copy(update={"name": "kernel-probe-test"})
# for the round trip: steps of a few ms, well above the per-token and per-layer overheads the inversion takes out (a
# step shorter than those overheads is stored as 0 s per weight and cannot be reproduced; SMALL's steps are ~0.25 ms)
MID = tiny_spec(n_layer=2, n_embd=1024, n_ff=4096, vocab=1024).model_copy(update={"name": "kernel-probe-test-mid"})
# its narrow twin: rows of 256 (attention, ffn up/gate) instead of 1024, about as many weights
MID_NARROW = tiny_spec(n_layer=6, n_embd=256, n_ff=4096, vocab=1024).model_copy(update={"name": "kernel-probe-test-mid-narrow"})
SMALL_NARROW = tiny_spec(n_layer=2, n_embd=256, n_ff=512, vocab=1024).model_copy(update={"name": "kernel-probe-test-narrow"})
# a small attention probe: heads of 64, small weights, so that attention is most of its deep step
ATTN_SMALL = {64: dict(arch="llama", n_layer=8, n_embd=256, n_head=4, n_head_kv=4, n_ff=256, vocab=1024)}


def _hw() -> HardwareTarget:
    return HardwareTarget(label="box", ram_bytes=16 * 2**30, cpu_bandwidth_gbps=20.0, cpu_tflops=0.5, cpu_cores=2)


def test_probe_files_hold_one_type() -> None:
    ts = K.probe_tensors(K.probe_spec(), "Q6_K")
    assert set(K.matmul_elements(ts)) == {"Q6_K"}
    # the default shape: 4 layers of 2048 x 8192 (what CPU_KERNELS were measured on), > 99% of its matmul weights in layers
    el = K.matmul_elements(ts)["Q6_K"]
    layer = sum(t.n_elements for t in ts if t.layer is not None and len(t.shape) > 1)
    assert el > 2.6e8 and layer / el > 0.99


def test_default_probes_differ_in_row_length_not_in_size() -> None:
    wide, narrow = K.probe_spec(), K.narrow_probe_spec()
    for q in K.KERNEL_TYPES:  # every default type can be written in the narrow shape (rows a multiple of 256)
        ts = K.probe_tensors(narrow, q)
        assert all(t.shape[0] % 256 == 0 for t in ts if len(t.shape) > 1)
    e_w, e_n = K.matmul_elements(K.probe_tensors(wide, "Q4_0"))["Q4_0"], K.matmul_elements(K.probe_tensors(narrow, "Q4_0"))["Q4_0"]
    r_w, r_n = K.matmul_rows(K.probe_tensors(wide, "Q4_0"))["Q4_0"], K.matmul_rows(K.probe_tensors(narrow, "Q4_0"))["Q4_0"]
    assert 0.9 < e_n / e_w < 1.0 and e_w / r_w > 2 * e_n / r_n  # about as many weights, rows under half as long


def test_probe_job_interleaves_the_repetitions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    job = K._job(tmp_path / "p.gguf", 2, 3)
    names = [t["name"] for t in job["tests"]]
    assert job["reps"] == 1 and names == [f"tg{K.KERNEL_GEN}@d{K.KERNEL_DEPTH}@np{n}" for n in K.KERNEL_NPL] * 3
    # the attention probes' job: both depths at each N, every N, then again
    deep = [t["name"] for t in K._job(tmp_path / "p.gguf", 2, 2, (K.KERNEL_DEPTH, K.ATTN_DEPTH))["tests"]]
    assert deep == [f"tg{K.KERNEL_GEN}@d{d}@np{n}" for n in K.KERNEL_NPL for d in (K.KERNEL_DEPTH, K.ATTN_DEPTH)] * 2


def test_measured_tables_reproduce_every_measured_step_of_both_probes() -> None:
    hw = _hw()
    kp = K.measure_kernels(hw, ("Q8_0", "Q4_0"), reps=2, spec=MID, narrow_spec=MID_NARROW, timeout_s=300, attn_shapes=ATTN_SMALL)
    assert not kp.errors, kp.errors
    assert set(kp.table) == {"Q8_0", "Q4_0"}
    # the attention probe: measured at both depths, every N, its step longer after the deeper prompt
    steps = kp.attn_step_s[64]
    assert sorted(steps) == [K.KERNEL_DEPTH, K.ATTN_DEPTH] and all(sorted(d) == list(K.KERNEL_NPL) for d in steps.values())
    assert set(kp.attention) == {64} and kp.attention[64] > 0
    # the weight tables are what is left once the estimator's attention at the probes' depth is taken out: with the
    # attention table the estimator gives back each measured step
    hw_t = hw.model_copy(update={"cpu_kernel_step_s": kp.table, "cpu_kernel_row_s": kp.rows, "cpu_attn_s": kp.attention})
    st = EstimateSettings(context=K.KERNEL_CONTEXT, kv_type="f16", flash_attn=True, batch=512, ubatch=512, gpu_layers=0)
    checked_narrow = 0
    c = backend_constants("cpu")
    overheads = c.token_overhead_s + max(MID.n_layer, MID_NARROW.n_layer) * c.layer_overhead_s  # what the inversion takes out
    for q in kp.table:
        for spec, steps in ((MID, kp.step_s[q]), (MID_NARROW, kp.narrow_step_s[q])):
            assert sorted(steps) == list(K.KERNEL_NPL) and all(s > 0 for s in steps.values())
            inp = speed_inputs(spec, parse_quant("F16"), st, hw_t, tensors=K.probe_tensors(spec, q))
            assert inp is not None
            for n, s in steps.items():
                assert s > 2 * overheads, (q, n, s)  # the shape's premise: a step well above the overheads
                if spec is MID_NARROW and not kp.rows.get(q, {}).get(n):
                    continue  # no row term at this N (the narrow probe was no slower per weight): the wide one alone
                checked_narrow += spec is MID_NARROW
                assert inp.step_time_s(n) == pytest.approx(s, rel=5e-3), (q, spec.name, n)
    # where a row term was solved, it reproduces the narrow probe too; with rows 4x shorter some always are (7 of 8
    # cells in each of two tries on the 2-vCPU VM)
    assert checked_narrow == sum(1 for d in kp.rows.values() for v in d.values() if v) and checked_narrow > 0


def test_a_type_that_fails_is_kept_apart() -> None:
    kp = K.measure_kernels(_hw(), ("NOT_A_TYPE", "Q8_0"), reps=1, spec=SMALL, narrow_spec=SMALL_NARROW, timeout_s=300, attention=False)
    assert "NOT_A_TYPE" in kp.errors and "Q8_0" in kp.table
    # a narrow probe that cannot be written (K-quant rows of 128) keeps the wide probe's table, without a row term
    odd = tiny_spec(n_layer=2, n_embd=128, n_ff=512, vocab=1024).model_copy(update={"name": "kernel-probe-test-odd"})
    kp = K.measure_kernels(_hw(), ("Q4_K",), reps=1, spec=SMALL, narrow_spec=odd, timeout_s=300, attention=False)
    assert "Q4_K" in kp.table and "Q4_K" not in kp.rows and "Q4_K narrow" in kp.errors
    # an attention probe that cannot be written is kept apart too; the weight tables are measured all the same
    bad = {64: dict(ATTN_SMALL[64], n_embd=250)}
    kp = K.measure_kernels(_hw(), ("Q8_0",), reps=1, spec=SMALL, narrow_spec=SMALL_NARROW, timeout_s=300, attn_shapes=bad)
    assert "attention 64" in kp.errors and not kp.attention and "Q8_0" in kp.table


def test_each_repetition_is_its_own_pass_over_every_probe() -> None:
    """A probe's repetitions are a whole pass apart (so that a spell of the machine as long as one child spoils one
    of them, not the median), and a probe that failed is not tried again, nor the narrow probe of a failed type."""
    seen: list[str] = []
    kp = K.measure_kernels(
        _hw(), ("NOT_A_TYPE", "Q8_0"), reps=2, spec=SMALL, narrow_spec=SMALL_NARROW, timeout_s=300, attn_shapes=ATTN_SMALL, progress=seen.append
    )
    order = [m.split(",")[0] for m in seen]
    one_pass = ["attention", "NOT_A_TYPE", "Q8_0", "Q8_0"]
    assert order == [f"kernel probe 1/2: {x}" for x in one_pass] + [f"kernel probe 2/2: {x}" for x in one_pass if x != "NOT_A_TYPE"]
    assert [m.split(", ")[1] for m in seen if "Q8_0" in m] == ["wide rows", "narrow rows"] * 2
    assert "NOT_A_TYPE" in kp.errors and "NOT_A_TYPE narrow" not in kp.errors
    assert sorted(kp.step_s["Q8_0"]) == list(K.KERNEL_NPL) and sorted(kp.narrow_step_s["Q8_0"]) == list(K.KERNEL_NPL)
    assert sorted(kp.attn_step_s[64]) == [K.KERNEL_DEPTH, K.ATTN_DEPTH]


def test_calibration_keeps_the_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "cal.json"
    key = machine_key("cpu", 2, 2**34)
    save_calibration(Calibration(run_id="r1", created_at="now", machine_key=key, cpu_bandwidth_gbps=10.0), p)
    save_calibration(
        Calibration(run_id="r2", created_at="now", machine_key=key, cpu_kernels={"Q4_0": {1: 1e-10, 8: 3e-10}}, cpu_kernel_threads=2), p
    )
    cal = load_calibration(key, p)
    assert cal is not None and cal.cpu_bandwidth_gbps == 10.0  # merged, not replaced
    assert cal.cpu_kernels == {"Q4_0": {1: 1e-10, 8: 3e-10}} and cal.cpu_kernel_threads == 2


def _cal(host, **kw):  # type: ignore[no-untyped-def]
    from hwbench.bench.runner_llamacpp import llama_cpp_version

    base = dict(
        run_id="r",
        created_at="2026-12-02",
        machine_key=machine_key(host.cpu.model, host.cpu.logical_cores, host.memory.total_bytes),
        cpu_kernels={"Q4_0": {1: 1e-10}},
        cpu_kernel_rows={"Q4_0": {1: 2e-8}},
        cpu_attention={64: 1.5e-7},
        cpu_kernel_threads=host.cpu.physical_cores or host.cpu.logical_cores or 1,
        cpu_kernels_llama=llama_cpp_version(),
        cpu_kernels_run_id="r",
    )
    base.update(kw)
    return Calibration(**base)


def test_check_uses_the_table_only_for_the_same_threads_and_llama_cpp() -> None:
    from hwbench.hardware import target_from_host

    host = minimal_host()
    t = target_from_host(host, _cal(host))
    assert t.cpu_kernel_step_s == {"Q4_0": {1: 1e-10}} and t.cpu_kernel_row_s == {"Q4_0": {1: 2e-8}}
    assert "decode kernels measured" in (t.calibration or "") and "per weight row too for Q4_0" in (t.calibration or "")
    assert t.cpu_attn_s == {64: 1.5e-7} and "head sizes 64" in (t.calibration or "")
    # nor a table measured without the attention probe: its weight figures still hold attention's share
    no_attn = target_from_host(host, _cal(host, cpu_attention=None))
    assert no_attn.cpu_kernel_step_s is None and no_attn.cpu_attn_s is None and any("older probe" in n for n in no_attn.notes)
    # a table from the older one-shape probe (no row term stored) is not used: it over-estimates short rows
    old = target_from_host(host, _cal(host, cpu_kernel_rows=None))
    assert old.cpu_kernel_step_s is None and any("older probe" in n for n in old.notes)
    none_short = target_from_host(host, _cal(host, cpu_kernel_rows={}))  # measured: no type's short rows cost more
    assert none_short.cpu_kernel_step_s == {"Q4_0": {1: 1e-10}} and none_short.cpu_kernel_row_s is None
    assert target_from_host(host, _cal(host, cpu_kernel_threads=t.cpu_cores + 1)).cpu_kernel_step_s is None
    other = target_from_host(host, _cal(host, cpu_kernels_llama="0.0.1"))
    assert other.cpu_kernel_step_s is None and any("0.0.1" in n for n in other.notes)


def test_bench_measures_kernels_once_per_machine(monkeypatch, tiny_llama, opts_factory, out_dir) -> None:  # type: ignore[no-untyped-def]
    from hwbench.bench import orchestrate, run_bench
    from hwbench.bench import records as rec_mod
    from hwbench.machine import this_machine
    from hwbench.schema import GpuTarget

    monkeypatch.setattr(K, "probe_spec", lambda: SMALL)
    monkeypatch.setattr(K, "narrow_probe_spec", lambda: SMALL_NARROW)
    monkeypatch.setattr(K, "KERNEL_TYPES", ("Q8_0",))
    monkeypatch.setattr(K, "ATTN_SHAPES", ATTN_SMALL)
    machine = this_machine()
    hw = machine.target.model_copy(update={"gpus": []})
    gpu_hw = hw.model_copy(update={"gpus": [GpuTarget(name="RTX 4090", memory_bytes=24 * 2**30, backend="cuda")]})
    opts = opts_factory(gguf=tiny_llama.path, out=out_dir, reps=1, n_prompt=[0], n_gen=[4], save_calibration=True)
    blank = rec_mod.new_record(machine.host)
    monkeypatch.setenv("HWBENCH_KERNELS", "0")
    assert not orchestrate.kernels_wanted(opts, blank, hw)
    monkeypatch.setenv("HWBENCH_KERNELS", "1")
    assert orchestrate.kernels_wanted(opts, blank, hw) and not orchestrate.kernels_wanted(opts, blank, gpu_hw)
    rec = run_bench(opts, host=machine.host, hw=hw)
    assert any(n.startswith("CPU decode kernels measured") for n in rec.notes), rec.notes
    measured = set(rec.calibration["cpu_kernels"]) if rec.calibration else set()
    assert rec.calibration and isinstance(rec.calibration["cpu_kernel_rows"], dict)  # stored, even where empty
    assert isinstance(rec.calibration["cpu_attention"], dict)
    assert measured >= {"Q8_0", "Q4_K", "Q6_K"}  # the default set (Q8_0 here) + the model's own types
    again = this_machine()
    assert again.target.cpu_kernel_step_s and set(again.target.cpu_kernel_step_s) == measured
    assert again.target.cpu_attn_s == ({int(k): v for k, v in rec.calibration["cpu_attention"].items()} or None)
    # auto: not again on this machine (same threads, same llama.cpp); asked for: yes
    assert not orchestrate.kernels_wanted(opts, rec, hw)
    opts.kernels = True
    assert orchestrate.kernels_wanted(opts, rec, hw)
