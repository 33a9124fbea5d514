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
from hwbench.machine import minimal_host
from hwbench.quant import parse_quant
from hwbench.schema import EstimateSettings, HardwareTarget

pytestmark = pytest.mark.slow

SMALL = tiny_spec(n_layer=2, n_embd=256, n_ff=1024, vocab=1024).model_copy(update={"name": "kernel-probe-test"})
# for the round trip: steps of a few ms, well above the per-token and per-layer overheads the inversion takes out (a
# step shorter than those overheads is stored as 0 s per weight and cannot be reproduced; SMALL's steps are ~0.25 ms)
MID = tiny_spec(n_layer=2, n_embd=1024, n_ff=4096, vocab=1024).model_copy(update={"name": "kernel-probe-test-mid"})


def _hw() -> HardwareTarget:
    return HardwareTarget(label="box", ram_bytes=16 * 2**30, cpu_bandwidth_gbps=20.0, cpu_tflops=0.5, cpu_cores=2)


def test_probe_files_hold_one_type() -> None:
    ts = K.probe_tensors(K.probe_spec(), "Q6_K")
    assert set(K.matmul_elements(ts)) == {"Q6_K"}
    # the default shape: 4 layers of 2048 x 8192 (what CPU_KERNELS were measured on), > 99% of its matmul weights in layers
    el = K.matmul_elements(ts)["Q6_K"]
    layer = sum(t.n_elements for t in ts if t.layer is not None and len(t.shape) > 1)
    assert el > 2.6e8 and layer / el > 0.99


def test_measured_table_reproduces_every_measured_step() -> None:
    hw = _hw()
    kp = K.measure_kernels(hw, ("Q8_0", "Q4_0"), reps=2, spec=MID, timeout_s=300)
    assert not kp.errors, kp.errors
    assert set(kp.table) == {"Q8_0", "Q4_0"}
    hw_t = hw.model_copy(update={"cpu_kernel_step_s": kp.table})
    st = EstimateSettings(context=K.KERNEL_DEPTH + K.KERNEL_GEN + 1, kv_type="f16", flash_attn=True, batch=512, ubatch=512, gpu_layers=0)
    for q, steps in kp.step_s.items():
        assert sorted(steps) == list(K.KERNEL_NPL) and all(s > 0 for s in steps.values())
        inp = speed_inputs(MID, parse_quant("F16"), st, hw_t, tensors=K.probe_tensors(MID, q))
        assert inp is not None
        for n, s in steps.items():
            assert s > 1e-3, (q, n, s)  # the shape's premise: a step well above the overheads
            assert inp.step_time_s(n) == pytest.approx(s, rel=5e-3), (q, n)


def test_a_type_that_fails_is_kept_apart() -> None:
    kp = K.measure_kernels(_hw(), ("NOT_A_TYPE", "Q8_0"), reps=1, spec=SMALL, timeout_s=300)
    assert "NOT_A_TYPE" in kp.errors and "Q8_0" in kp.table


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
    assert t.cpu_kernel_step_s == {"Q4_0": {1: 1e-10}}
    assert "decode kernels measured" in (t.calibration or "")
    assert target_from_host(host, _cal(host, cpu_kernel_threads=t.cpu_cores + 1)).cpu_kernel_step_s is None
    other = target_from_host(host, _cal(host, cpu_kernels_llama="0.0.1"))
    assert other.cpu_kernel_step_s is None and any("0.0.1" in n for n in other.notes)


def test_bench_measures_kernels_once_per_machine(monkeypatch, tiny_llama, opts_factory, out_dir) -> None:  # type: ignore[no-untyped-def]
    from hwbench.bench import orchestrate, run_bench
    from hwbench.bench import records as rec_mod
    from hwbench.machine import this_machine
    from hwbench.schema import GpuTarget

    monkeypatch.setattr(K, "probe_spec", lambda: SMALL)
    monkeypatch.setattr(K, "KERNEL_TYPES", ("Q8_0",))
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
    assert measured >= {"Q8_0", "Q4_K", "Q6_K"}  # the default set (Q8_0 here) + the model's own types
    again = this_machine()
    assert again.target.cpu_kernel_step_s and set(again.target.cpu_kernel_step_s) == measured
    # auto: not again on this machine (same threads, same llama.cpp); asked for: yes
    assert not orchestrate.kernels_wanted(opts, rec, hw)
    opts.kernels = True
    assert orchestrate.kernels_wanted(opts, rec, hw)
