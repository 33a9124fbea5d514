"""`hwbench report`: one self-contained HTML recommendation report (or the results as md/csv/json)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import click

from hwbench import assumptions as A
from hwbench.errors import BadInput

FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".csv": "csv", ".json": "json"}


def parse_models(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [m.strip() for m in text.split(",") if m.strip()]
    if not names:
        raise BadInput("--models: give at least one model, e.g. 8b,32b,70b or llama-3.1-8b")
    if len(names) > 16:
        raise BadInput(f"--models: {len(names)} models; at most 16")
    return names


@click.command("report")
@click.argument("results", nargs=-1, type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    default="reports/hwbench-report.html",
    show_default=True,
    help="Output file: .html, or .md/.csv/.json for the results only.",
)
@click.option("--models", help="Target models for the recommendation (and extra fit-matrix rows), e.g. 8b,32b,70b,405b, deepseek-v3 or a Hub id like Qwen/Qwen3-32B.")
@click.option(
    "--target-tokens-per-s",
    type=float,
    default=A.TARGET_TOKENS_PER_S,
    help=f"Generation speed the recommendation must reach; 0 = any. Default {A.get('target_tokens_per_s').text()} (assumed: about reading "
    "speed for one person; hwbench/assumptions.py).",
)
@click.option(
    "--context", "-c", type=int, default=8192, show_default=True, help="Context length for the fit matrix and the recommendation."
)
@click.option("--this-machine", is_flag=True, help="Inventory and fit matrix for this machine even when result files are given.")
@click.option("--no-redact", is_flag=True, help="Keep hostnames, IP/MAC addresses, serial numbers and GPU UUIDs.")
@click.option("--profiles-dir", type=click.Path(file_okay=False), envvar="HWBENCH_PROFILES_DIR", help="Extra profile files (your prices).")
@click.option(
    "--price", "prices", multiple=True, metavar="GPU=USD", help='Your purchase price for a GPU, e.g. --price "RTX 3090=700" (repeatable).'
)
@click.option(
    "--kwh-price", type=float, help="Electricity price in USD/kWh for owned machines (default: electricity_usd_per_kwh in section 5)."
)
@click.option(
    "--hours-per-day",
    type=float,
    help="Hours a day a bought machine runs the model, more than 0 and at most 24 (default: buy_hours_per_day).",
)
@click.option("--host-usd", type=float, help="Host system added to bought GPUs, in USD (default: buy_host_system_usd).")
@click.option(
    "--concurrency",
    "-np",
    "concurrency",
    help="What to rent: serve N users at once (llama.cpp -np) and rank by USD per million tokens at N, or 'auto' "
    "(per instance the most users that each still get the target). Default: one stream.",
)
def report(
    results: tuple[str, ...],
    output: str,
    models: str | None,
    target_tokens_per_s: float,
    context: int,
    this_machine: bool,
    no_redact: bool,
    profiles_dir: str | None,
    prices: tuple[str, ...],
    kwh_price: float | None,
    hours_per_day: float | None,
    host_usd: float | None,
    concurrency: str | None,
) -> None:
    """Write ONE self-contained HTML report: inventory, what fits, measurements, what to rent or buy.

    Without RESULTS the inventory is this machine's (quick detection); with saved `hwbench bench`
    result files, the inventory stored in the first one, and their measurements with charts. No
    scripts and no external resources: e-mail it or attach it to a purchase request.

    \b
    Examples:
      hwbench report
      hwbench report ~/.local/share/hwbench/results/*.json -o reports/workstation.html
      hwbench report --models 8b,32b,70b,405b --target-tokens-per-s 20
      hwbench report run.json -o results.csv      # the results as CSV instead of HTML
    """
    t0 = time.perf_counter()
    fmt = FORMATS.get(Path(output).suffix.lower())
    if fmt is None:
        raise BadInput(f"-o {output!r}: unknown file type; use .html, .md, .csv or .json")
    if context < 256:
        raise BadInput(f"--context {context} must be at least 256 tokens")
    if not math.isfinite(target_tokens_per_s) or target_tokens_per_s < 0:
        raise BadInput(f"--target-tokens-per-s {target_tokens_per_s:g} must be 0 (any speed) or a positive number")
    model_list = parse_models(models)
    from hwbench.commands.check import parse_concurrency

    n_seq = parse_concurrency(concurrency, allow_auto=True)
    if isinstance(n_seq, int) and n_seq > 256:
        raise BadInput(f"--concurrency {n_seq} must be between 1 and 256 (llama.cpp's most parallel sequences)")
    if n_seq == "auto" and not target_tokens_per_s:
        raise BadInput("--concurrency auto needs a per-user speed target: --target-tokens-per-s above 0")
    from hwbench.commands.recommend import ownership_options
    from hwbench.profiles import parse_price_overrides

    own = ownership_options(kwh_price, hours_per_day, host_usd)
    overrides = parse_price_overrides(prices, profiles_dir)

    from hwbench.report.records import load_records

    loaded, errors = load_records(list(results))
    if results and not loaded:
        raise BadInput(f"none of the {len(results)} result file(s) could be read: " + "; ".join(str(e) for e in errors))
    for e in errors:
        click.echo(f"hwbench: warning: result file not used: {e}", err=True)

    if fmt != "html":
        from hwbench.report.records import LoadedRecord
        from hwbench.report.redact import redact_record
        from hwbench.report.writers import write_output, write_results

        if not loaded:
            raise BadInput(f"-o {output}: .{fmt} output holds benchmark results; give result files")
        recs = loaded if no_redact else [LoadedRecord(lr.path, redact_record(lr.record), lr.label) for lr in loaded]
        write_output(output, write_results(recs, fmt))
        click.echo(str(output))
        return

    from hwbench.report.html import THIS_MACHINE_ORIGIN, build_report
    from hwbench.report.matrix import DEFAULT_MATRIX_MODELS
    from hwbench.report.writers import write_output

    host = hardware = None
    origin = None
    if this_machine:
        from hwbench.machine import this_machine as detect_this_machine

        here = detect_this_machine(profiles_dir, tolerate_detection_failure=True)
        host, hardware = here.host, here.target
        origin = THIS_MACHINE_ORIGIN
    matrix_models = list(DEFAULT_MATRIX_MODELS)
    for m in model_list or []:
        if m.lower() not in [x.lower() for x in matrix_models]:
            matrix_models.append(m)
    html = build_report(
        loaded,
        errors,
        host=host,
        hardware=hardware,
        origin=origin,
        matrix_models=matrix_models,
        recommend_models=model_list,
        target_tokens_per_s=target_tokens_per_s or None,
        context=context,
        redact=not no_redact,
        extra_dir=profiles_dir,
        ownership=own,
        price_overrides=overrides,
        concurrency=n_seq,
    )
    path = write_output(output, html)
    click.echo(str(path))
    click.echo(f"report written in {time.perf_counter() - t0:.2f} s ({len(html) / 1024:.0f} KiB)", err=True)
