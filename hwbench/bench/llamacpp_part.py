"""Parent side of the llama.cpp benchmark: from a resolved target to results in the record.

:func:`run_llamacpp_part` does, in order: check memory with the estimator (refuse, or choose a
slice), get the model file (the user's GGUF or a synthetic one), describe it in the record, run each
test instance in a child process (:mod:`hwbench.bench.runner_llamacpp` is the child side), and turn
the samples into results: extrapolated to full depth for a slice, with the estimator's prediction
beside each, plus a time-to-first-token row per prompt test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hwbench.arch import TensorSpec
from hwbench.bench import records as rec_mod
from hwbench.bench.isolation import ChildOutcome
from hwbench.bench.options import BenchOptions
from hwbench.bench.predict import auto_slice_layers, estimate, memory_refusal, settings_for
from hwbench.bench.target import Target
from hwbench.errors import BenchError
from hwbench.schema import BenchResult, FitEstimate, HardwareTarget, ModelSpec, RunRecord

PredictionCache = dict[tuple[Any, ...], FitEstimate | None]


def _progress(opts: BenchOptions, msg: str) -> None:
    if opts.progress is not None:
        opts.progress(msg)


def choose_layers(opts: BenchOptions, target: Target, instances: list[Any], hw: HardwareTarget, record: RunRecord) -> int | None:
    """Layers to write (None: all): refuses a model that does not fit, or picks a slice of a synthetic one."""
    max_ctx = max(i.n_ctx for i in instances)
    est = estimate(target.spec, target.quant, settings_for(max_ctx, instances[0]), hw, target.tensors)
    if opts.layers is not None or est is None or est.verdict != "none" or opts.force:
        return opts.layers
    why = memory_refusal(est)
    if target.gguf is not None:
        raise BenchError(f"refused: {why}; use --force to try anyway")
    layers = auto_slice_layers(target.spec, target.quant, instances[0], max_ctx, hw)
    if layers is None:
        raise BenchError(f"refused: {why}, and even a 1-layer slice does not fit; use --force to try anyway")
    record.notes.append(f"{why}: benchmarking a slice of {layers} of {target.spec.n_layer} layers instead")
    _progress(opts, record.notes[-1])
    return layers


def model_file(
    opts: BenchOptions, target: Target, layers: int | None, instances: list[Any], hw: HardwareTarget, record: RunRecord
) -> tuple[Path, ModelSpec, list[TensorSpec]]:
    """(file, spec run, tensors run): the user's GGUF, or a synthetic one written (or found in the cache)."""
    from hwbench.bench import synth

    if target.gguf is not None:
        return target.gguf, target.spec, target.tensors
    quant = target.quant
    sm = synth.write_synthetic(target.spec, quant.name, layers=layers, cache=opts.cache_dir, force=False, progress=opts.write_progress)
    if not sm.cached:
        _progress(opts, f"wrote {sm.path} ({sm.file_bytes / 2**30:.2f} GiB) in {sm.write_seconds:.1f}s")
    record.settings["synthetic_write_s"] = round(sm.write_seconds, 3)
    if sm.is_slice:
        max_ctx = max(i.n_ctx for i in instances)
        slice_est = estimate(sm.spec, quant, settings_for(max_ctx, instances[0]), hw, sm.tensors)
        if slice_est is not None and slice_est.verdict == "none" and not opts.force:
            raise BenchError(f"refused: even the {sm.layers_written}-layer slice does not fit: {memory_refusal(slice_est)}; use --force")
    return sm.path, sm.spec, sm.tensors


def describe_model(target: Target, run_spec: ModelSpec, model_path: Path) -> dict[str, Any]:
    """The record's ``model`` entry."""
    spec = target.spec
    return {
        "name": spec.name,
        "arch": spec.arch,
        "quant": target.quant.name,
        "params": spec.params,
        "n_layer": spec.n_layer,
        "layers_run": run_spec.n_layer,
        "file": str(model_path),
        "synthetic": target.gguf is None,
        "source": target.source,
        "assumed_from": spec.assumed_from,
        "file_bytes": model_path.stat().st_size if model_path.exists() else None,
    }


def slice_factors(target: Target, run_tensors: list[TensorSpec], hw: HardwareTarget) -> dict[str, float]:
    """Multipliers from a slice's time to the full model's, 'pp' and 'tg' (see :mod:`hwbench.bench.slicing`)."""
    from hwbench.bench import slicing
    from hwbench.estimate.speed import backend_constants

    c = backend_constants("cpu")
    return slicing.extrapolation_factors(
        target.tensors,
        run_tensors,
        target.spec,
        bandwidth_gbps=hw.cpu_bandwidth_gbps * c.bw_efficiency if not hw.gpus else None,
        layer_overhead_s=c.layer_overhead_s,
        token_overhead_s=c.token_overhead_s,
    )


def vram_reader_for(record: RunRecord, instances: list[Any]) -> Any:
    """A GPU memory sampler when an NVIDIA GPU will be used, else None."""
    if any(g.vendor == "NVIDIA" for g in record.host.gpus) and any(i.n_gpu_layers for i in instances):
        from hwbench.bench.vram import make_vram_reader

        return make_vram_reader()
    return None


def run_instance(
    opts: BenchOptions, inst: Any, model_path: Path, label: str, vram_reader: Any, record: RunRecord
) -> tuple[dict[str, list[int]], ChildOutcome]:
    """Run one test instance in a child process; returns the timed samples per test and the outcome."""
    from hwbench.bench import isolation
    from hwbench.bench import runner_llamacpp as rl

    job = rl.instance_job(str(model_path), inst, opts.reps, opts.warmup)
    if opts.debug:
        job["debug"] = opts.debug
    samples: dict[str, list[int]] = {t.name: [] for t in inst.tests}

    def on_event(ev: dict[str, Any]) -> None:
        kind = ev.get("event")
        if kind == "phase":
            _progress(opts, f"{label} {ev.get('phase')}")
        elif kind == "sample" and not ev.get("warmup"):
            samples.setdefault(ev["test"], []).append(int(ev["ns"]))

        elif kind == "loaded" and record.load_time_ns is None:
            record.load_time_ns = int(ev["load_time_ns"])
        elif kind == "done" and ev.get("peak_rss_bytes"):
            record.peak_rss_bytes = max(record.peak_rss_bytes or 0, int(ev["peak_rss_bytes"]))

    outcome = isolation.run_child(job, timeout_s=opts.timeout_s, on_event=on_event, vram_reader=vram_reader if inst.n_gpu_layers else None)
    if outcome.peak_vram_bytes is not None:
        record.peak_vram_bytes = max(record.peak_vram_bytes or 0, outcome.peak_vram_bytes)
    if outcome.error:
        record.partial = True
        record.error = record.error or outcome.error
        _progress(opts, f"{label} error: {outcome.error}")
    return samples, outcome


def measured_result(t: Any, inst: Any, samples_ns: list[int], error: str | None, cpu_only: bool = True) -> BenchResult:
    """One test's result from its samples (mean and stddev of tokens/s, llama-bench style)."""
    mean, sd = rec_mod.tokens_per_s_stats(t.n_tokens, samples_ns)
    settings = inst.settings()
    if getattr(t, "batched", False):
        settings |= {
            "n_parallel": t.n_parallel,
            "prompt_per_sequence": max(1, t.depth),
            "what": f"{t.n_parallel} sequences, each with its own prompt of {max(1, t.depth)} tokens (timed: prompt_*), "
            "then decoded together, one token of each per step; tokens_per_s = all sequences' generated tokens / generation "
            "time (llama-batched-bench's S_TG), prompt_tokens_per_s = all prompt tokens / prompt time (its S_PP)",
        }
    return BenchResult(
        test=t.name,
        backend="llama.cpp",
        device="CPU" if (cpu_only or inst.n_gpu_layers == 0) else "GPU",
        n_prompt=t.n_prompt,
        n_gen=t.n_gen,
        depth=t.depth,
        threads=inst.threads,
        settings=settings,
        tokens_per_s=round(mean, 3) if mean is not None else None,
        stddev_tokens_per_s=round(sd, 3) if sd is not None else None,
        samples_ns=samples_ns,
        error=error if error else (None if samples_ns else "no repetition finished"),
    )


def add_batched_figures(
    r: BenchResult, t: Any, prompt_ns: list[int], prompt_factor: float | None = None, prompt_tokens: int | None = None
) -> None:
    """A tg@npN result's figures besides its aggregate tokens_per_s, as llama-batched-bench reports them: per
    sequence, the prompt phase (T_PP, S_PP = N x PP / T_PP) and both phases together (S). ``prompt_ns``: the
    measured prompt time of each repetition; ``prompt_factor``: a slice's extrapolation factor for prompts;
    ``prompt_tokens``: the prompt tokens the child decoded per repetition (default N x PP, what it should)."""
    n = t.n_parallel
    s = r.settings
    s["per_sequence_tokens_per_s"] = round(r.tokens_per_s / n, 3) if r.tokens_per_s is not None else None
    n_pp = prompt_tokens if prompt_tokens is not None else n * max(1, t.depth)
    s["prompt_tokens"] = n_pp
    if prompt_factor is not None:
        s["slice_prompt_samples_ns"] = list(prompt_ns)
        prompt_ns = [int(round(ns * prompt_factor)) for ns in prompt_ns]
    s["prompt_samples_ns"] = list(prompt_ns)
    mean, sd = rec_mod.tokens_per_s_stats(n_pp, prompt_ns)
    s["prompt_tokens_per_s"] = round(mean, 3) if mean is not None else None
    s["prompt_stddev_tokens_per_s"] = round(sd, 3) if sd is not None else None
    s["prompt_time_ms"] = round(sum(prompt_ns) / len(prompt_ns) / 1e6, 3) if prompt_ns else None
    both = [(n_pp + n * t.n_gen) * 1e9 / (p + g) for p, g in zip(prompt_ns, r.samples_ns, strict=False) if p + g > 0]
    s["total_tokens_per_s"] = round(sum(both) / len(both), 3) if both else None


def attach_prediction(r: BenchResult, t: Any, inst: Any, target: Target, hw: HardwareTarget, cache: PredictionCache) -> None:
    """Put the estimator's tokens/s for this test (full model, this context) beside the measurement."""
    if getattr(t, "batched", False):
        _attach_batched_prediction(r, t, inst, target, hw)
        return
    key = (inst, t.depth, t.n_prompt, t.n_gen)
    ctx = t.depth + t.n_prompt if t.n_prompt else 2 * t.depth + t.n_gen
    est_settings = settings_for(ctx, inst)
    if key not in cache:
        cache[key] = estimate(target.spec, target.quant, est_settings, hw, target.tensors)
    p = cache[key]
    if p is None or p.speed is None or p.verdict == "none":
        return
    pred = p.speed.prompt_tokens_per_s if t.n_prompt else p.speed.generation_tokens_per_s
    if pred:
        r.predicted_tokens_per_s = pred
        r.prediction_error_pct = rec_mod.prediction_error_pct(r.tokens_per_s, pred)
        r.settings["prediction_basis"] = p.speed.basis
        r.settings["estimate_settings"] = est_settings.model_dump(mode="json")
        r.settings["bytes_per_token"] = p.speed.inputs.get("bytes_per_token")


def _speed_inputs_or_none(target: Target, est_settings: Any, hw: HardwareTarget) -> Any:
    """fit.speed_inputs for the benchmarked model, or None (it does not fit, or the estimator failed: a failing
    estimator must not stop a measurement)."""
    from hwbench.estimate.fit import speed_inputs

    try:
        return speed_inputs(target.spec, target.quant, est_settings, hw, tensors=target.tensors)
    except Exception:  # noqa: BLE001 - see the docstring
        return None


def _attach_batched_prediction(r: BenchResult, t: Any, inst: Any, target: Target, hw: HardwareTarget) -> None:
    """The estimator's aggregate tokens/s for N sequences decoded together (speed.step_time_s) beside a tg@npN result."""
    prompt = max(1, t.depth)
    est_settings = settings_for(2 * prompt + t.n_gen, inst).model_copy(update={"concurrency": t.n_parallel})
    si = _speed_inputs_or_none(target, est_settings, hw)
    if si is None:
        return
    step = si.step_time_s(t.n_parallel)
    if step > 0:
        pred = round(t.n_parallel / step, 2)
        r.predicted_tokens_per_s = pred
        r.prediction_error_pct = rec_mod.prediction_error_pct(r.tokens_per_s, pred)
        r.settings["predicted_per_sequence_tokens_per_s"] = round(1 / step, 2)
        r.settings["estimate_settings"] = est_settings.model_dump(mode="json")
    _attach_batched_prompt_prediction(r, t, inst, target, hw)


def _attach_batched_prompt_prediction(r: BenchResult, t: Any, inst: Any, target: Target, hw: HardwareTarget) -> None:
    """The estimator's prompt time for the N x PP prompt tokens of a tg@npN test (its prompt rule, seconds per
    prompt token, at the prompt's own average depth PP/2), and the aggregate prompt tokens/s that gives."""
    prompt = max(1, t.depth)
    n_pp = int(r.settings.get("prompt_tokens") or t.n_parallel * prompt)
    est_settings = settings_for(prompt, inst).model_copy(update={"concurrency": t.n_parallel})
    si = _speed_inputs_or_none(target, est_settings, hw)
    per_token = si.prompt_time_per_token_s() if si is not None else 0.0
    if per_token <= 0:
        return
    pred = round(1.0 / per_token, 2)
    s = r.settings
    s["predicted_prompt_tokens_per_s"] = pred
    s["predicted_prompt_time_ms"] = round(n_pp * per_token * 1e3, 3)
    s["prompt_prediction_error_pct"] = rec_mod.prediction_error_pct(s.get("prompt_tokens_per_s"), pred)
    basis = f"estimated: {n_pp} prompt tokens x the estimator's seconds per prompt token (check's prompt tokens/s)"
    if n_pp < inst.n_ubatch:
        basis += (
            f"; that rule is for full micro-batches ({inst.n_ubatch} tokens): with fewer prompt tokens the phase is "
            "partly bound by reading the weights, so the estimate is optimistic here"
        )
    s["prompt_prediction_basis"] = basis


def ttft_result(r: BenchResult, t: Any, inst: Any, samples_ns: list[int]) -> BenchResult:
    """Time to first token of a prompt test: the prompt processing time, in ms."""
    return BenchResult(
        test=f"ttft_{t.name}",
        device=r.device,
        n_prompt=t.n_prompt,
        depth=t.depth,
        threads=inst.threads,
        settings={**r.settings, "what": "time to first token: prompt processing of n_prompt tokens"},
        samples_ns=samples_ns,
        value=round(sum(samples_ns) / len(samples_ns) / 1e6, 3),
        unit="ms",
    )


def run_llamacpp_part(opts: BenchOptions, target: Target, instances: list[Any], hw: HardwareTarget, record: RunRecord) -> None:
    """Measure every test instance on ``target`` and add the results to ``record``."""
    from hwbench.bench import slicing

    layers = choose_layers(opts, target, instances, hw, record)
    model_path, run_spec, run_tensors = model_file(opts, target, layers, instances, hw, record)
    spec = target.spec
    is_slice = run_spec.n_layer < spec.n_layer
    record.model = describe_model(target, run_spec, model_path)
    factors = None
    if is_slice:
        record.notes.append(
            f"extrapolated from {run_spec.n_layer} of {spec.n_layer} layers: per-layer time scaled to full depth, "
            f"non-layer time (output matrix) kept"
        )
        factors = slice_factors(target, run_tensors, hw)
    predictions: PredictionCache = {}
    vram_reader = vram_reader_for(record, instances)
    for n_inst, inst in enumerate(instances):
        if record.partial and record.error and "interrupted" in record.error:
            break
        label = f"[{n_inst + 1}/{len(instances)}] threads={inst.threads} ngl={inst.n_gpu_layers}"
        samples, outcome = run_instance(opts, inst, model_path, label, vram_reader, record)
        for t in inst.tests:
            s = samples.get(t.name, [])
            err = None
            if len(s) < opts.reps and outcome.error:
                err = outcome.error if not s else f"{outcome.error} (after {len(s)} of {opts.reps} repetitions)"
            r = measured_result(t, inst, s, err, cpu_only=not hw.gpus)
            chk = next((ev for ev in outcome.events if ev.get("event") == "np_check" and ev.get("test") == t.name), None)
            if chk is not None:
                # proof the N sequences were decoded: each holds its prompt + n_gen tokens (last position = that - 1)
                r.settings["sequence_last_positions"] = list(chk.get("positions") or [])
            if factors is not None and s:
                r = slicing.extrapolate(r, factors["pp" if t.n_prompt else "tg"], run_spec.n_layer, spec.n_layer)
            if t.batched:
                evs = [ev for ev in outcome.events if ev.get("event") == "sample" and ev.get("test") == t.name and "prompt_ns" in ev]
                n_pp = None
                if evs:
                    r.settings["prompt_batches"] = int(evs[-1].get("prompt_batches") or 0)  # llama_decode calls (n_batch tokens each)
                    n_pp = int(evs[-1].get("prompt_tokens") or 0)  # what the child decoded
                pp_factor = factors["pp"] if factors is not None and s else None
                add_batched_figures(r, t, [int(ev["prompt_ns"]) for ev in evs], pp_factor, n_pp)
            attach_prediction(r, t, inst, target, hw, predictions)
            record.results.append(r)
            if t.n_prompt and s and not is_slice:
                record.results.append(ttft_result(r, t, inst, s))
        if outcome.interrupted:
            record.error = outcome.error
            break
