"""``--micro``, parent side: run the PyTorch jobs in child processes, add their results to the record.

The child side (what runs inside ``python -m hwbench.bench.child``) is :mod:`hwbench.bench.runner_torch`;
the two share only the job and event dictionaries.
"""

from __future__ import annotations

import statistics
from typing import Any

from hwbench.bench.options import BenchOptions, default_model_spec
from hwbench.schema import BenchResult, HardwareTarget, ModelSpec, RunRecord


def run_torch_part(opts: BenchOptions, record: RunRecord, spec: ModelSpec | None, hw: HardwareTarget) -> None:
    """The microbenchmarks, then (unless ``opts.torch_decode`` is off) a decode test of ``spec`` or the default model."""
    from hwbench.bench import isolation

    threads = opts.threads[0] if opts.threads else None
    jobs: list[dict[str, Any]] = [{"kind": "torch_micro", "threads": threads, "reps": opts.reps}]
    if opts.torch_decode:
        s = spec or default_model_spec()
        jobs.append({"kind": "torch_decode", "threads": threads, "reps": opts.reps, "spec": s.model_dump(), "n_gen": 32})
    for job in jobs:
        if opts.debug:
            job["debug"] = opts.debug
        events: list[dict[str, Any]] = []

        def on_event(ev: dict[str, Any], events: list[dict[str, Any]] = events) -> None:
            events.append(ev)
            if ev.get("event") == "phase" and opts.progress:
                opts.progress(f"[torch] {ev.get('phase')}")
            if ev.get("event") == "devices":
                record.torch_version = ev.get("torch_version")

        out = isolation.run_child(job, timeout_s=opts.timeout_s, on_event=on_event)
        for ev in events:
            if ev.get("event") == "micro":
                record.results.append(
                    BenchResult(
                        test=ev["test"],
                        backend="torch",
                        device=ev["device"],
                        threads=threads,
                        samples_ns=ev["samples_ns"],
                        value=ev["value"],
                        unit=ev["unit"],
                        settings=ev.get("settings", {}),
                    )
                )
            elif ev.get("event") == "micro_error":
                record.results.append(BenchResult(test=ev["test"], backend="torch", device=ev["device"], error=ev["message"]))
            elif ev.get("event") == "decode_done":
                record.results.append(decode_result(ev, threads))
        if out.error:
            record.partial = True
            record.error = record.error or out.error
            name = "torch_micro" if job["kind"] == "torch_micro" else "torch_decode"
            samples = [int(e["ns"]) for e in events if e.get("event") == "sample"]
            if job["kind"] == "torch_decode" and not any(e.get("event") == "decode_done" for e in events):
                record.results.append(BenchResult(test=name, backend="torch", samples_ns=samples, error=out.error, threads=threads))
            elif job["kind"] == "torch_micro":
                record.results.append(BenchResult(test=name, backend="torch", error=out.error, threads=threads))
            if out.interrupted:
                break


def decode_result(ev: dict[str, Any], threads: int | None) -> BenchResult:
    """A decode test's result from its ``decode_done`` event; a slice's samples scaled to full depth (raw ones kept)."""
    k, n, f = ev["layers_run"], ev["total_layers"], float(ev["factor"])
    raw = [int(x) for x in ev["samples_ns"]]
    samples = [int(round(x * f)) for x in raw]
    ts = [ev["n_gen"] * 1e9 / x for x in samples if x > 0]
    mean = statistics.fmean(ts) if ts else None
    sd = statistics.stdev(ts) if len(ts) > 1 else (0.0 if ts else None)
    settings: dict[str, Any] = {"dtype": ev["dtype"], "batch": 1}
    if k < n:
        settings.update(slice_samples_ns=raw, extrapolation_factor=round(f, 6), extrapolation=f"extrapolated from {k} of {n} layers")
    return BenchResult(
        test=ev["test"],
        backend="torch",
        device=ev["device"],
        n_gen=ev["n_gen"],
        threads=threads,
        tokens_per_s=round(mean, 3) if mean is not None else None,
        stddev_tokens_per_s=round(sd, 3) if sd is not None else None,
        samples_ns=samples,
        extrapolated_from_layers=k if k < n else None,
        total_layers=n if k < n else None,
        settings=settings,
    )
