"""Many hosts at once: parallel jobs, a timeout per host, Ctrl-C, resume, and the comparison at the end.

Each host ends in exactly one state: ``ok`` (its folder was published), ``skipped`` (already
complete in --out), ``failed`` (one line naming the cause) or ``interrupted`` (Ctrl-C). A failing
or interrupted host never touches the others' folders; its staging folder is removed and an older
complete folder of the same host stays as it was.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hwbench.fleet.inventory import FleetHost
from hwbench.fleet.remote import RemotePlan, bench_on_host
from hwbench.fleet.ssh import FleetHostError, connect, describe
from hwbench.fleet.store import (
    DETECT_FILE,
    FLEET_SCHEMA_VERSION,
    SUMMARY_FILE,
    Staging,
    complete_host,
    write_text_atomic,
)


@dataclass
class FleetOptions:
    hosts: list[FleetHost]
    plan: RemotePlan
    out: Path
    jobs: int = 4
    timeout_s: float = 3600.0
    connect_timeout_s: float = 15.0
    force: bool = False
    accept_new_host_keys: bool = False
    redact: bool = True
    progress: Callable[[str], None] = print


@dataclass
class HostReport:
    label: str
    destination: str
    status: str  # ok | skipped | failed | interrupted
    cause: str | None = None
    stage: str | None = None  # the step a failure happened in
    elapsed_s: float = 0.0
    records: list[str] = field(default_factory=list)  # paths relative to --out
    hwbench_version: str | None = None
    usd_per_hour: float | None = None
    price_source: str | None = None
    # filled from the comparison: the headline measurement of this host
    test: str | None = None
    tokens_per_s: float | None = None
    usd_per_million_tokens: float | None = None


@dataclass
class FleetRun:
    reports: list[HostReport]
    interrupted: bool = False
    comparison: Any = None  # hwbench.compare.Comparison when any host has records
    files: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 1 if any(r.status in ("failed", "interrupted") for r in self.reports) else 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


async def _bench_one(host: FleetHost, opts: FleetOptions, sem: asyncio.Semaphore) -> HostReport:
    rep = HostReport(host.label, host.destination, "failed", usd_per_hour=host.usd_per_hour, price_source=host.price_source)

    def say(msg: str) -> None:
        opts.progress(f"[{host.label}] {msg}")

    done = None if opts.force else complete_host(opts.out, host.label)
    if done is not None:
        rep.status = "skipped"
        rep.records = [str(p.relative_to(opts.out)) for p in done.records]
        rep.hwbench_version = done.meta.get("hwbench_version")
        say(f"complete in {done.folder}: skipped (--force re-runs it)")
        return rep
    stage = ["waiting for a free job slot"]
    t0 = time.monotonic()
    try:
        async with sem:
            stage[0] = "connecting"
            t0 = time.monotonic()
            started = _now()
            say(f"connecting to {host.destination}")
            with Staging(opts.out, host.label) as st:

                async def job() -> Any:
                    conn, keys = await connect(host, accept_new=opts.accept_new_host_keys, connect_timeout_s=opts.connect_timeout_s)
                    if keys.added_to is not None:
                        say(f"new host key {keys.fingerprint} added to {keys.added_to} (--accept-new-host-keys)")
                    for n in keys.notes:
                        say(f"warning: {n}")
                    async with conn:
                        plan = replace(opts.plan, remote_hwbench=host.remote_hwbench) if host.remote_hwbench else opts.plan
                        return await bench_on_host(conn, plan, st.path, say, stage)

                outcome = await asyncio.wait_for(job(), opts.timeout_s)
                stage[0] = "saving"
                write_text_atomic(st.path / DETECT_FILE, outcome.detect_json)
                meta = {
                    "fleet_schema_version": FLEET_SCHEMA_VERSION,
                    "status": "ok",
                    "label": host.label,
                    "destination": host.destination,
                    "usd_per_hour": host.usd_per_hour,
                    "price_source": host.price_source,
                    "hwbench": outcome.hwbench,
                    "hwbench_version": outcome.version,
                    "installed_by_fleet": outcome.installed,
                    "bench_args": opts.plan.bench_args,
                    "records": outcome.records,
                    "detect": DETECT_FILE,
                    "started_at": started,
                    "finished_at": _now(),
                    "timings_s": outcome.timings_s,
                }
                folder = st.publish(meta)
            rep.status = "ok"
            rep.records = [str((folder / n).relative_to(opts.out)) for n in outcome.records]
            rep.hwbench_version = outcome.version
            rep.elapsed_s = round(time.monotonic() - t0, 3)
            say(f"done in {rep.elapsed_s:.1f} s: {len(outcome.records)} record(s) in {folder}")
            return rep
    except asyncio.CancelledError:
        rep.status, rep.stage = "interrupted", stage[0]
        rep.cause = f"interrupted (Ctrl-C) while {stage[0]}"
    except (TimeoutError, asyncio.TimeoutError):  # the same class from Python 3.11 on
        rep.stage = stage[0]
        rep.cause = f"timed out after {opts.timeout_s:g} s (--timeout) while {stage[0]}"
    except FleetHostError as e:
        rep.stage = stage[0]
        rep.cause = str(e) if stage[0] in ("connecting",) else f"{e} (while {stage[0]})"
    except Exception as e:  # noqa: BLE001 - asyncssh/OSError mid-run (dropped connection), or a local write error
        rep.stage = stage[0]
        rep.cause = f"{describe(e, host)} (while {stage[0]})"
    rep.elapsed_s = round(time.monotonic() - t0, 3)
    say(f"{rep.status.upper()}: {rep.cause}")
    return rep


async def _bench_all(opts: FleetOptions) -> tuple[list[HostReport], bool]:
    sem = asyncio.Semaphore(max(1, opts.jobs))
    tasks = [asyncio.create_task(_bench_one(h, opts, sem)) for h in opts.hosts]
    loop = asyncio.get_running_loop()
    interrupted = False

    def on_sigint() -> None:
        nonlocal interrupted
        interrupted = True
        opts.progress(
            "interrupted: stopping the hosts still running (their remote benchmarks are sent SIGTERM); Ctrl-C again to quit at once"
        )
        for t in tasks:
            t.cancel()
        loop.remove_signal_handler(signal.SIGINT)

    handler = False
    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
        handler = True
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
        pass
    try:
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        if handler:
            loop.remove_signal_handler(signal.SIGINT)
    reports: list[HostReport] = []
    for h, r in zip(opts.hosts, results, strict=True):
        if isinstance(r, HostReport):
            reports.append(r)
        else:  # a task cancelled before it ran, or a bug: still one line for that host
            why = "interrupted (Ctrl-C) before it started" if isinstance(r, asyncio.CancelledError) else f"{type(r).__name__}: {r}"
            reports.append(HostReport(h.label, h.destination, "interrupted" if interrupted else "failed", cause=why))
    return reports, interrupted


def run_fleet(opts: FleetOptions) -> FleetRun:
    """Benchmark every host, then compare all complete ones and write the files into ``opts.out``."""
    reports, interrupted = asyncio.run(_bench_all(opts))
    run = FleetRun(reports, interrupted)
    write_outputs(run, opts)
    return run


def write_outputs(run: FleetRun, opts: FleetOptions) -> None:
    from hwbench.compare import compare_records, comparison_rows
    from hwbench.report.records import LoadedRecord, load_records
    from hwbench.report.redact import redact_record
    from hwbench.report.writers import to_csv

    by_label = {h.label: h for h in opts.hosts}
    loaded: list[LoadedRecord] = []
    errors = []
    for rep in run.reports:
        if rep.status not in ("ok", "skipped"):
            continue
        ok, errs = load_records([opts.out / p for p in rep.records])
        errors.extend(errs)
        for i, lr in enumerate(ok):
            loaded.append(LoadedRecord(lr.path, lr.record, rep.label if i == 0 else f"{rep.label}-{i + 1}"))
    if loaded:
        prices: dict[str, float] = {}
        for lr in loaded:
            h = by_label.get(_host_of(lr.label, by_label) or "")
            if h is not None and h.usd_per_hour is not None:
                prices[lr.label] = h.usd_per_hour
        if opts.redact:
            loaded = [LoadedRecord(lr.path, redact_record(lr.record), lr.label) for lr in loaded]
        cmp = compare_records(loaded, errors, prices=prices)
        for m in cmp.machines:
            h = by_label.get(_host_of(m.label, by_label) or "")
            if h is not None and h.usd_per_hour is not None:
                m.price_source = h.price_source or "inventory"
        run.comparison = cmp
        _headlines(run, cmp)
        from hwbench.report.compare_page import render_compare_html

        write_text_atomic(opts.out / "compare.html", render_compare_html(cmp, redacted=opts.redact))
        rows = comparison_rows(cmp)
        cols = list(rows[0]) if rows else ["group", "model", "test", "label", "tokens_per_s"]
        write_text_atomic(opts.out / "compare.csv", to_csv(rows, cols))
        write_text_atomic(opts.out / "compare.json", json.dumps(cmp.model_dump(mode="json"), indent=2) + "\n")
        run.files = [str(opts.out / n) for n in ("compare.html", "compare.csv", "compare.json")]
    write_text_atomic(opts.out / SUMMARY_FILE, json.dumps(summary(run), indent=2) + "\n")
    run.files.append(str(opts.out / SUMMARY_FILE))


def _host_of(label: str, by_label: dict[str, FleetHost]) -> str | None:
    """The host label of a comparison label (``box`` or ``box-2`` for a host's second record)."""
    if label in by_label:
        return label
    base, _, n = label.rpartition("-")
    return base if n.isdigit() and base in by_label else None


def _headlines(run: FleetRun, cmp: Any) -> None:
    """Each host's headline: its first generation measurement in the comparison's order, else its first prompt one."""
    machines = {m.label: m for m in cmp.machines}
    for rep in run.reports:
        m = machines.get(rep.label)
        if m is not None and m.usd_per_hour is not None:
            rep.usd_per_hour, rep.price_source = m.usd_per_hour, m.price_source
        best = None
        for kind in ("generated", "prompt"):
            for g in cmp.groups:
                if g.token_kind != kind:
                    continue
                row = next((r for r in g.rows if r.label == rep.label), None)
                if row is not None:
                    best = (g.test, row)
                    break
            if best:
                break
        if best:
            rep.test, rep.tokens_per_s, rep.usd_per_million_tokens = best[0], best[1].tokens_per_s, best[1].usd_per_million_tokens


def summary(run: FleetRun) -> dict[str, Any]:
    return {
        "fleet_schema_version": FLEET_SCHEMA_VERSION,
        "written_at": _now(),
        "interrupted": run.interrupted,
        "exit_status": run.exit_code,
        "hosts": [asdict(r) for r in run.reports],
        "files": run.files,
        "sources": {
            "tokens_per_s": "measured on the host by its own `hwbench bench` (mean over repetitions), copied back in the host's record",
            "usd_per_hour": "the inventory's usd_per_hour when given, else the instance profile of the detected cloud instance (compare)",
            "usd_per_million_tokens": "USD/hour / (tokens/s x 3600) x 1,000,000 (one stream)",
        },
    }
