"""The ``hwbench bench`` flow: resolve, check memory, write synthetic model, measure, record."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwbench.arch import TensorSpec
from hwbench.bench import records as rec_mod
from hwbench.bench.options import DEFAULT_MODEL, BenchOptions
from hwbench.errors import BadFile, BadInput, BenchError
from hwbench.quant import FILE_TYPES_BY_ID, Quant, parse_quant
from hwbench.schema import BenchResult, EstimateSettings, FitEstimate, HardwareTarget, HostInfo, ModelSpec, RunRecord

DEFAULT_SLICE_LAYERS = 4


def default_model_spec() -> ModelSpec:
    """The synthetic model `hwbench bench` measures when given no model (about 0.85B, llama-shaped, 32k vocab)."""
    from hwbench.arch import count_params

    spec = ModelSpec(
        name=DEFAULT_MODEL,
        arch="llama",
        params=0,
        n_layer=16,
        n_embd=2048,
        n_head=32,
        n_head_kv=8,
        n_ff=5632,
        vocab=32000,
        context_length=8192,
        source="hwbench built-in small benchmark shape",
    )
    return spec.model_copy(update={"params": count_params(spec)})


@dataclass
class Target:
    spec: ModelSpec
    quant: Quant
    tensors: list[TensorSpec]
    gguf: Path | None  # None: synthetic
    source: str
    notes: list[str] = field(default_factory=list)


def spec_for_params(text: str) -> tuple[ModelSpec, str]:
    """A profile model whose size is closest to ``--params`` (a synthetic model needs a real shape)."""
    from hwbench.profiles import load_models
    from hwbench.units import parse_params

    total, n_exp, _ = parse_params(text)
    models = list(load_models().values())
    if n_exp:
        cands = [m for m in models if m.n_expert == n_exp] or [m for m in models if m.is_moe]
        want = total * n_exp
    else:
        cands = [m for m in models if not m.is_moe and m.arch in ("llama", "qwen2", "qwen3")]
        want = total
    if not cands:
        raise BadInput(f"no reference shape for --params {text}; use --model or --gguf")
    best = min(cands, key=lambda m: (abs(math.log(m.params / want)), m.arch != "llama"))
    note = f"--params {text}: benchmarking the shape of {best.name} ({best.params / 1e9:.2f}B parameters)"
    return best.model_copy(update={"assumed_from": best.name}), note


def resolve_target(opts: BenchOptions) -> Target:
    from hwbench.arch import model_tensors

    if opts.gguf is not None:
        from hwbench.gguf_header import model_from_gguf, read_gguf

        p = Path(opts.gguf)
        if not p.is_file():
            raise BadFile(f"--gguf {str(p)!r}: no such file")
        info = read_gguf(p)
        spec = model_from_gguf(info)
        ft_id = info.metadata.get("general.file_type")
        ft = FILE_TYPES_BY_ID.get(int(ft_id)) if isinstance(ft_id, int) else None
        quant = Quant(ft.name, ft, None) if ft else parse_quant("F16")
        return Target(spec, quant, list(info.tensors), p, f"gguf file {p}")
    quant = parse_quant(opts.quant)
    if not quant.is_gguf:
        raise BadInput(f"--quant {opts.quant}: llama.cpp benchmarks need a GGUF type (e.g. Q4_K_M, Q8_0, F16)")
    notes = []
    if opts.spec is not None:
        spec = opts.spec
        source = f"synthetic {spec.name}"
    elif opts.model:
        from hwbench.profiles import get_model

        spec = get_model(opts.model)
        source = f"synthetic {spec.name}"
    elif opts.params:
        spec, note = spec_for_params(opts.params)
        notes.append(note)
        source = f"synthetic reference shape of {spec.name}"
    else:
        spec = default_model_spec()
        source = "synthetic built-in small model"
    return Target(spec, quant, model_tensors(spec, quant.name), None, source, notes)


def _fa_on(fa: str) -> bool:
    return fa.lower() not in ("off", "0", "false")


def settings_for(context: int, inst: Any) -> EstimateSettings:
    return EstimateSettings(
        context=max(1, context),
        kv_type=inst.type_k,
        flash_attn=_fa_on(inst.flash_attn),
        batch=inst.n_batch,
        ubatch=inst.n_ubatch,
        gpu_layers=inst.n_gpu_layers if inst.n_gpu_layers < 999 else None,
    )


def _estimate(
    spec: ModelSpec, quant: Quant, settings: EstimateSettings, hw: HardwareTarget, tensors: list[TensorSpec]
) -> FitEstimate | None:
    try:
        from hwbench.estimate import estimate_fit

        return estimate_fit(spec, quant, settings, hw, tensors=tensors, follow_ups=False)  # type: ignore[call-arg]
    except TypeError:
        from hwbench.estimate import estimate_fit

        return estimate_fit(spec, quant, settings, hw, tensors=tensors)
    except BadInput:
        raise
    except Exception:  # noqa: BLE001 - a failing estimator must not stop a measurement
        return None


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def memory_refusal(est: FitEstimate) -> str:
    m = est.memory
    cap = sum(d.capacity_bytes for d in m.per_device) or est.hardware.ram_bytes
    return (
        f"{est.model.name} at {est.model.quant} needs about {_gib(m.total_bytes)} "
        f"(weights {_gib(m.weights_bytes)}, KV cache {_gib(m.kv_cache_bytes)}, compute {_gib(m.compute_bytes)}, "
        f"overhead {_gib(m.overhead_bytes + m.output_bytes)}) but this machine has {_gib(cap)} usable"
    )


def _progress(opts: BenchOptions, msg: str) -> None:
    if opts.progress is not None:
        opts.progress(msg)


def hardware_target(host: HostInfo) -> tuple[HardwareTarget, Any]:
    from hwbench.hardware import target_from_host

    cal = None
    try:
        from hwbench.calibration import load_calibration, machine_key

        cal = load_calibration(machine_key(host.cpu.model, host.cpu.logical_cores, host.memory.total_bytes))
    except Exception:  # noqa: BLE001
        cal = None
    return target_from_host(host, cal), cal


def run_bench(opts: BenchOptions, *, host: HostInfo | None = None, hw: HardwareTarget | None = None) -> RunRecord:
    """Run the benchmark described by ``opts``; returns the record (already written to disk)."""
    from hwbench.bench import runner_llamacpp as rl

    opts.validate()
    for fa in opts.flash_attn:
        if fa.lower() not in rl.FLASH_ATTN:
            raise BadInput(f"--flash-attn {fa!r}: accepted: on, off, auto")
    host = host or rec_mod.host_info()
    if hw is None:
        hw, _ = hardware_target(host)
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
        target = resolve_target(opts)
        record.notes += target.notes
        run_llamacpp_part(opts, target, instances, hw, record)
    if opts.micro:
        from hwbench.bench.runner_torch import run_torch_part

        run_torch_part(opts, record, target.spec if target else None, hw)
    _finish(opts, record, hw, target)
    return record


def run_llamacpp_part(opts: BenchOptions, target: Target, instances: list[Any], hw: HardwareTarget, record: RunRecord) -> None:
    from hwbench.bench import runner_llamacpp as rl
    from hwbench.bench import slicing, synth
    from hwbench.bench.isolation import run_child

    spec, quant = target.spec, target.quant
    max_ctx = max(i.n_ctx for i in instances)
    est = _estimate(spec, quant, settings_for(max_ctx, instances[0]), hw, target.tensors)
    layers = opts.layers
    if est is not None and est.verdict == "none" and layers is None:
        why = memory_refusal(est)
        if target.gguf is not None and not opts.force:
            raise BenchError(f"refused: {why}; use --force to try anyway")
        if target.gguf is None and not opts.force:
            layers = _auto_slice_layers(spec, quant, instances[0], max_ctx, hw)
            if layers is None:
                raise BenchError(f"refused: {why}, and even a 1-layer slice does not fit; use --force to try anyway")
            record.notes.append(f"{why}: benchmarking a slice of {layers} of {spec.n_layer} layers instead")
            _progress(opts, record.notes[-1])
    model_path: Path
    run_spec = spec
    run_tensors = target.tensors
    if target.gguf is not None:
        model_path = target.gguf
    else:
        sm = synth.write_synthetic(spec, quant.name, layers=layers, cache=opts.cache_dir, force=False, progress=opts.write_progress)
        if not sm.cached:
            _progress(opts, f"wrote {sm.path} ({sm.file_bytes / 2**30:.2f} GiB) in {sm.write_seconds:.1f}s")
        model_path, run_spec, run_tensors = sm.path, sm.spec, sm.tensors
        record.settings["synthetic_write_s"] = round(sm.write_seconds, 3)
        if sm.is_slice:
            slice_est = _estimate(run_spec, quant, settings_for(max_ctx, instances[0]), hw, run_tensors)
            if slice_est is not None and slice_est.verdict == "none" and not opts.force:
                raise BenchError(
                    f"refused: even the {sm.layers_written}-layer slice does not fit: {memory_refusal(slice_est)}; use --force"
                )
    is_slice = run_spec.n_layer < spec.n_layer
    record.model = {
        "name": spec.name,
        "arch": spec.arch,
        "quant": quant.name,
        "params": spec.params,
        "n_layer": spec.n_layer,
        "layers_run": run_spec.n_layer,
        "file": str(model_path),
        "synthetic": target.gguf is None,
        "source": target.source,
        "assumed_from": spec.assumed_from,
        "file_bytes": model_path.stat().st_size if model_path.exists() else None,
    }
    if is_slice:
        record.notes.append(
            f"extrapolated from {run_spec.n_layer} of {spec.n_layer} layers: per-layer time scaled to full depth, "
            f"non-layer time (output matrix) kept"
        )
    factors = None
    if is_slice:
        from hwbench.estimate.speed import backend_constants

        c = backend_constants("cpu")
        factors = slicing.extrapolation_factors(
            target.tensors,
            run_tensors,
            spec,
            bandwidth_gbps=hw.cpu_bandwidth_gbps * c.bw_efficiency if not hw.gpus else None,
            layer_overhead_s=c.layer_overhead_s,
            token_overhead_s=c.token_overhead_s,
        )
    pred_cache: dict[tuple[Any, ...], FitEstimate | None] = {}
    vram_reader = None
    if any(g.vendor == "NVIDIA" for g in record.host.gpus) and any(i.n_gpu_layers for i in instances):
        from hwbench.bench.vram import make_vram_reader

        vram_reader = make_vram_reader()
    for n_inst, inst in enumerate(instances):
        if record.partial and record.error and "interrupted" in record.error:
            break
        label = f"[{n_inst + 1}/{len(instances)}] threads={inst.threads} ngl={inst.n_gpu_layers}"
        job = rl.instance_job(str(model_path), inst, opts.reps, opts.warmup)
        if opts.debug:
            job["debug"] = opts.debug
        samples: dict[str, list[int]] = {t.name: [] for t in inst.tests}

        def on_event(ev: dict[str, Any], label: str = label, samples: dict[str, list[int]] = samples) -> None:
            kind = ev.get("event")
            if kind == "phase":
                _progress(opts, f"{label} {ev.get('phase')}")
            elif kind == "sample" and not ev.get("warmup"):
                samples.setdefault(ev["test"], []).append(int(ev["ns"]))
            elif kind == "loaded" and record.load_time_ns is None:
                record.load_time_ns = int(ev["load_time_ns"])
            elif kind == "done" and ev.get("peak_rss_bytes"):
                record.peak_rss_bytes = max(record.peak_rss_bytes or 0, int(ev["peak_rss_bytes"]))

        outcome = run_child(job, timeout_s=opts.timeout_s, on_event=on_event, vram_reader=vram_reader if inst.n_gpu_layers else None)
        if outcome.peak_vram_bytes is not None:
            record.peak_vram_bytes = max(record.peak_vram_bytes or 0, outcome.peak_vram_bytes)
        if outcome.error:
            record.partial = True
            record.error = record.error or outcome.error
            _progress(opts, f"{label} error: {outcome.error}")
        for t in inst.tests:
            s = samples.get(t.name, [])
            err = None
            if len(s) < opts.reps and outcome.error:
                err = outcome.error if not s else f"{outcome.error} (after {len(s)} of {opts.reps} repetitions)"
            r = _result(t, inst, s, err, cpu_only=not hw.gpus)
            if is_slice and factors is not None and s:
                r = slicing.extrapolate(r, factors["pp" if t.n_prompt else "tg"], run_spec.n_layer, spec.n_layer)
            key = (inst, t.depth, t.n_prompt, t.n_gen)
            ctx = t.depth + t.n_prompt if t.n_prompt else 2 * t.depth + t.n_gen
            est_settings = settings_for(ctx, inst)
            if key not in pred_cache:
                pred_cache[key] = _estimate(spec, quant, est_settings, hw, target.tensors)
            p = pred_cache[key]
            if p is not None and p.speed is not None and p.verdict != "none":
                pred = p.speed.prompt_tokens_per_s if t.n_prompt else p.speed.generation_tokens_per_s
                if pred:
                    r.predicted_tokens_per_s = pred
                    r.prediction_error_pct = rec_mod.prediction_error_pct(r.tokens_per_s, pred)
                    r.settings["prediction_basis"] = p.speed.basis
                    r.settings["estimate_settings"] = est_settings.model_dump(mode="json")
                    r.settings["bytes_per_token"] = p.speed.inputs.get("bytes_per_token")
            record.results.append(r)
            if t.n_prompt and s and not is_slice:
                ttft = BenchResult(
                    test=f"ttft_{t.name}",
                    device=r.device,
                    n_prompt=t.n_prompt,
                    depth=t.depth,
                    threads=inst.threads,
                    settings={**r.settings, "what": "time to first token: prompt processing of n_prompt tokens"},
                    samples_ns=s,
                    value=round(sum(s) / len(s) / 1e6, 3),
                    unit="ms",
                )
                record.results.append(ttft)
        if outcome.interrupted:
            record.error = outcome.error
            break


def _auto_slice_layers(spec: ModelSpec, quant: Quant, inst: Any, ctx: int, hw: HardwareTarget) -> int | None:
    from hwbench.bench import synth

    for k in (DEFAULT_SLICE_LAYERS, 2, 1):
        if k >= spec.n_layer:
            continue
        sspec, stensors = synth.synth_tensors(spec, quant.name, k)
        e = _estimate(sspec, quant, settings_for(ctx, inst), hw, stensors)
        if e is None or e.verdict != "none":
            return k
    return None


def _result(t: Any, inst: Any, samples_ns: list[int], error: str | None, cpu_only: bool = True) -> BenchResult:
    mean, sd = rec_mod.tokens_per_s_stats(t.n_tokens, samples_ns)
    return BenchResult(
        test=t.name,
        backend="llama.cpp",
        device="CPU" if (cpu_only or inst.n_gpu_layers == 0) else "GPU",
        n_prompt=t.n_prompt,
        n_gen=t.n_gen,
        depth=t.depth,
        threads=inst.threads,
        settings=inst.settings(),
        tokens_per_s=round(mean, 3) if mean is not None else None,
        stddev_tokens_per_s=round(sd, 3) if sd is not None else None,
        samples_ns=samples_ns,
        error=error if error else (None if samples_ns else "no repetition finished"),
    )


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
                    e = _estimate(tgt.spec, tgt.quant, EstimateSettings(**st), hw.model_copy(update=hw_update), tgt.tensors)
                    if e is None or e.speed is None or e.verdict == "none":
                        return None
                    return e.speed.prompt_tokens_per_s if r.n_prompt else e.speed.generation_tokens_per_s

            cal_note = calibrate(record, hw, target.spec if target else None, predict=predict)
            if cal_note:
                record.notes.append(cal_note)
        except Exception as e:  # noqa: BLE001 - calibration is a bonus
            record.notes.append(f"calibration not saved: {type(e).__name__}: {e}")
    path = rec_mod.write_record(record, opts.out)
    opts.record_path = path
    _progress(opts, f"results written to {path}")


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr)
