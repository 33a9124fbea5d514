"""The self-contained HTML report: inventory, fit matrix, benchmark results, recommendation, method.

Reads saved records only (plus the profiles and, when no record is given, a quick detection of this
machine), so a report can be rendered anywhere from JSON. Nothing here makes a network request.
The sections' contents come from :mod:`hwbench.report.views`; this module picks the inventory,
runs the fit matrix and renders the template.
"""

from __future__ import annotations

import time
from typing import Any

from hwbench.assumptions import TARGET_TOKENS_PER_S
from hwbench.report.records import LoadedRecord, RecordError
from hwbench.schema import HardwareTarget, HostInfo

DEFAULT_RECOMMEND_MODELS = ["8b", "32b", "70b"]
THIS_MACHINE_ORIGIN = "This machine, detected now (quick detection)."


def build_report(
    records: list[LoadedRecord],
    record_errors: list[RecordError],
    *,
    host: HostInfo | None = None,
    hardware: HardwareTarget | None = None,
    origin: str | None = None,
    matrix_models: list[str] | None = None,
    recommend_models: list[str] | None = None,
    target_tokens_per_s: float | None = TARGET_TOKENS_PER_S,
    context: int = 8192,
    redact: bool = True,
    extra_dir: str | None = None,
    generated_at: str | None = None,
    ownership: Any = None,
    price_overrides: dict[str, Any] | None = None,
    concurrency: int | str | None = None,
) -> str:
    """Render the report HTML. Without ``host``: the first record's inventory, else this machine's.

    ``extra_dir`` (``--profiles-dir``): the user's own profiles, used for this machine's GPUs, the
    fit matrix and the recommendation alike. ``ownership`` / ``price_overrides``: the buy-vs-rent
    figures (:class:`hwbench.recommend.Ownership`, ``--price``), default the assumptions table's.
    """
    from hwbench.hardware import target_from_host
    from hwbench.report import views as v
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
            from hwbench.machine import this_machine

            here = this_machine(extra_dir, tolerate_detection_failure=True)
            host = here.host
            origin = origin or THIS_MACHINE_ORIGIN
            hardware = hardware or here.target
    if hardware is None:
        hardware = target_from_host(host, None, extra_dir)
    if redact:
        host = redact_host(host)
    mm = list(matrix_models or DEFAULT_MATRIX_MODELS)
    matrix = fit_matrix(mm, hardware, context=context, extra_dir=extra_dir)
    rec_models = list(recommend_models or DEFAULT_RECOMMEND_MODELS)
    if ownership is None and generated_at is not None:
        # a report of a fixed date (tests, examples) counts the prices' ages to that date
        import datetime as dt

        from hwbench.recommend import Ownership

        try:
            ownership = Ownership.default(today=dt.date.fromisoformat(generated_at[:10]).isoformat())
        except ValueError:
            ownership = None
    recs, as_of, price_sources, rec_assumptions = v.recommendation_views(
        rec_models, target_tokens_per_s, context, extra_dir, ownership=ownership, price_overrides=price_overrides, concurrency=concurrency
    )
    if not as_of:
        from hwbench.profiles import load_instances

        as_of = sorted({i.as_of for i in load_instances(extra_dir)})
    title = (host.cpu.model or "unknown CPU") + (f" + {', '.join(g.name for g in host.gpus)}" if host.gpus else ", no GPU")
    env = environment()
    ctx: dict[str, Any] = {
        "title": title,
        "versions": dict(v.versions()),
        "generated_at": v.generated_text(generated_at),
        "redacted": redact,
        "context": context,
        "target_tps_text": f"{target_tokens_per_s:g} tokens/s" if target_tokens_per_s else "any speed",
        "summary": v.summary_lines(matrix, target_tokens_per_s, recs, records),
        "inventory": v.inventory_view(host, origin or "", extra_dir),
        "hardware": v.hardware_view(hardware),
        "quants": MATRIX_QUANTS,
        "matrix": v.matrix_view(matrix),
        "records": [v.record_view(lr) for lr in records],
        "record_errors": [v.error_text(str(e.path), e.reason, redact) for e in record_errors],
        "bench_charts": v.bench_charts(records),
        "recommendations": recs,
        "prices_as_of": ", ".join(as_of) or "-",
        "method": v.method_view(hardware, mm, rec_assumptions, price_sources, as_of, records, extra_dir),
    }
    ctx["elapsed_s"] = time.perf_counter() - t0
    return str(env.get_template("report.html").render(**ctx))
