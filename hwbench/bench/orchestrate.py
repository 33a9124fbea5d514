"""The ``hwbench bench`` flow: this machine, the model (one resolver), measure, predict, record, calibrate.

The parts live in their own modules: :mod:`hwbench.bench.target` (what is measured),
:mod:`hwbench.bench.llamacpp_part` and :mod:`hwbench.bench.torch_part` (the parent side of each
runner), :mod:`hwbench.bench.predict` (the estimator's view), :mod:`hwbench.bench.records`.
"""

from __future__ import annotations

from typing import Any

from hwbench.bench import records as rec_mod
from hwbench.bench.options import BenchOptions
from hwbench.bench.predict import estimate
from hwbench.bench.target import Target, resolve_target
from hwbench.errors import BadInput
from hwbench.machine import this_machine
from hwbench.schema import EstimateSettings, HardwareTarget, HostInfo, RunRecord


def _progress(opts: BenchOptions, msg: str) -> None:
    if opts.progress is not None:
        opts.progress(msg)


def run_bench(opts: BenchOptions, *, host: HostInfo | None = None, hw: HardwareTarget | None = None) -> RunRecord:
    """Run the benchmark described by ``opts``; returns the record (already written to disk).

    ``host`` / ``hw``: this machine's inventory and estimator target; detected (and calibrated) when
    not given, with the user's ``opts.profiles_dir``.
    """
    from hwbench.bench import runner_llamacpp as rl

    opts.validate()
    for fa in opts.flash_attn:
        if fa.lower() not in rl.FLASH_ATTN:
            raise BadInput(f"--flash-attn {fa!r}: accepted: on, off, auto")
    if host is None or hw is None:
        machine = this_machine(opts.profiles_dir, host=host, tolerate_detection_failure=True)
        host, hw = machine.host, hw or machine.target
    instances = (
        rl.plan_instances(
            threads=opts.threads,
            gpu_layers=opts.gpu_layers,
            batch=opts.batch,
            ubatch=opts.ubatch,
            flash_attn=opts.flash_attn,
            kv_type=opts.kv_type,
            n_prompt=opts.n_prompt,
            n_gen=opts.n_gen,
            depth=opts.depth,
            parallel=opts.parallel,
        )
        if opts.llamacpp
        else []
    )
    if opts.llamacpp and not instances:
        raise BadInput("nothing to measure: --n-prompt and --n-gen are both 0")
    record = rec_mod.new_record(host, llama_cpp_version=rl.llama_cpp_version())
    record.settings = {
        "reps": opts.reps,
        "warmup": opts.warmup,
        "threads": opts.threads,
        "n_prompt": opts.n_prompt,
        "n_gen": opts.n_gen,
        "depth": opts.depth,
        "gpu_layers": opts.gpu_layers,
        "batch": opts.batch,
        "ubatch": opts.ubatch,
        "flash_attn": opts.flash_attn,
        "kv_type": opts.kv_type,
        "micro": opts.micro,
        "timeout_s": opts.timeout_s,
    }
    target: Target | None = None
    if opts.llamacpp:
        from hwbench.bench import llamacpp_part

        target = resolve_target(opts)
        record.notes += target.notes
        llamacpp_part.run_llamacpp_part(opts, target, instances, hw, record)
    if opts.micro:
        from hwbench.bench import torch_part

        torch_part.run_torch_part(opts, record, target.spec if target else None, hw)
    _finish(opts, record, hw, target)
    return record


def _finish(opts: BenchOptions, record: RunRecord, hw: HardwareTarget, target: Target | None) -> None:
    if opts.save_calibration and not record.error:
        try:
            from hwbench.bench.calibrate import calibrate

            predict = None
            if target is not None:
                tgt = target

                def predict(r: Any, **hw_update: Any) -> float | None:
                    """The estimator's tokens/s for result ``r`` on ``hw`` with some figures replaced."""
                    st = r.settings.get("estimate_settings")
                    if not st:
                        return None
                    # bandwidth and peak are solved through the formulas alone: measured kernels (bench/kernels.py)
                    # replace the bandwidth term for their types, so with them the solve would find no bandwidth
                    e = estimate(tgt.spec, tgt.quant, EstimateSettings(**st), hw.without_measured_cpu(**hw_update), tgt.tensors)
                    if e is None or e.speed is None or e.verdict == "none":
                        return None
                    return e.speed.prompt_tokens_per_s if r.n_prompt else e.speed.generation_tokens_per_s

            cal_note = calibrate(record, hw, target.spec if target else None, predict=predict)
            if cal_note:
                record.notes.append(cal_note)
        except Exception as e:  # noqa: BLE001 - calibration is a bonus
            record.notes.append(f"calibration not saved: {type(e).__name__}: {e}")
        _kernels(opts, record, hw, target)
    path = rec_mod.write_record(record, opts.out)
    opts.record_path = path
    _progress(opts, f"results written to {path}")


def kernels_wanted(opts: BenchOptions, record: RunRecord, hw: HardwareTarget) -> bool:
    """Whether this bench measures the CPU kernels (BenchOptions.kernels): asked for, or (auto) a CPU-only machine
    whose calibration holds none for these threads and this llama-cpp-python, unless HWBENCH_KERNELS=0."""
    import os

    from hwbench.machine import calibration_for

    if opts.kernels is not None:
        return opts.kernels and opts.llamacpp
    if not opts.llamacpp or hw.gpus or os.environ.get("HWBENCH_KERNELS", "1") == "0":
        return False
    cal = calibration_for(record.host)
    return cal is None or cal.kernels_fit(hw.cpu_cores, record.llama_cpp_version) != "apply"


def _kernels(opts: BenchOptions, record: RunRecord, hw: HardwareTarget, target: Target | None) -> None:
    """Measure and save this machine's CPU decode kernels (hwbench/bench/kernels.py) when kernels_wanted; never raises."""
    if not kernels_wanted(opts, record, hw):
        return
    try:
        from hwbench.bench.kernels import measure_kernels, types_to_measure
        from hwbench.calibration import Calibration, machine_key_for, save_calibration

        _progress(opts, "measuring llama.cpp's CPU decode kernels per weight type (once per machine; --no-kernels skips)")
        kp = measure_kernels(hw, types_to_measure(target.tensors if target else None), timeout_s=opts.timeout_s, progress=opts.progress)
        for t, why in kp.errors.items():
            record.notes.append(f"CPU kernel {t} not measured: {why}")
        if not kp.table:
            return
        cal = Calibration(
            run_id=record.run_id,
            created_at=record.created_at,
            machine_key=machine_key_for(record.host),
            cpu_kernels=kp.table,
            cpu_kernel_rows=kp.rows,  # {} where no type's short rows cost more (None marks an older probe)
            cpu_attention=kp.attention,  # {} where the step did not grow with depth (None marks an older probe)
            cpu_kernel_threads=kp.threads,
            cpu_kernels_llama=record.llama_cpp_version,
            cpu_kernels_run_id=record.run_id,
        )
        path = save_calibration(cal)
        record.calibration = (record.calibration or {}) | {
            k: v for k, v in cal.model_dump(mode="json", exclude_none=True).items() if k.startswith(("cpu_kernel", "cpu_attention"))
        }
        record.notes.append(
            f"CPU decode kernels measured ({kp.threads} threads, {kp.seconds:.0f} s; median step of the probe model, "
            f"1 sequence, and its growth at N sequences): {kp.summary()}; saved to {path}"
        )
    except Exception as e:  # noqa: BLE001 - the kernel probe is a bonus, never a reason to lose the results
        record.notes.append(f"CPU kernels not measured: {type(e).__name__}: {e}")
