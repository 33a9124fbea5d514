"""`hwbench compare`: rank benchmark results from several machines by speed and cost."""

from __future__ import annotations

import json
from pathlib import Path

import click

from hwbench.errors import BadInput


@click.command("compare")
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", help="Also write an HTML page with charts (e.g. compare.html).")
@click.option("--price-per-hour", "prices", help="USD/hour per result file, e.g. a=0.44,b=1.10 (label = file name without .json).")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print one CSV row per measurement.")
@click.option("--no-redact", is_flag=True, help="Keep hostnames, addresses and serial numbers found in the files.")
@click.option("--profiles-dir", type=click.Path(file_okay=False), envvar="HWBENCH_PROFILES_DIR", help="Extra profile files (your prices).")
def compare(
    results: tuple[str, ...], output: str | None, prices: str | None, as_json: bool, as_csv: bool, no_redact: bool, profiles_dir: str | None
) -> None:
    """Compare `hwbench bench` results from several machines: tokens/s, USD/hour, USD per million tokens.

    Results are ranked only within groups of the same model shape, quantization, test and backend.
    bench --parallel results (tg<n>@np<N>) also show the per-user and aggregate prompt tokens/s of
    the N sequences; measured figures with the record's estimates beside them.
    The hourly price comes from --price-per-hour, or from the instance profile of the cloud
    instance detected in the record. A malformed or newer-schema file is reported and skipped.

    \b
    Examples:
      hwbench compare vps-a.json vps-b.json
      hwbench compare a.json b.json --price-per-hour a=0.44,b=1.10 -o reports/compare.html
      hwbench compare runs/*.json --csv > compare.csv
    """
    if as_json and as_csv:
        raise BadInput("--json and --csv: choose one")
    if output and Path(output).suffix.lower() not in (".html", ".htm"):
        raise BadInput(f"-o {output!r}: the comparison page is HTML; name it .html (use --json/--csv for data)")
    from hwbench.compare import compare_records, comparison_rows, parse_prices
    from hwbench.report.records import LoadedRecord, load_records
    from hwbench.report.redact import redact_record

    price_map = parse_prices(prices)
    loaded, errors = load_records(list(results))
    if not loaded:
        raise BadInput(f"none of the {len(results)} result file(s) could be read: " + "; ".join(str(e) for e in errors))
    for e in errors:
        click.echo(f"hwbench: warning: not compared: {e}", err=True)
    if not no_redact:
        loaded = [LoadedRecord(lr.path, redact_record(lr.record), lr.label) for lr in loaded]
    cmp = compare_records(loaded, errors, prices=price_map, extra_dir=profiles_dir)
    if output:
        from hwbench.report.compare_page import render_compare_html
        from hwbench.report.writers import write_output

        write_output(output, render_compare_html(cmp, redacted=not no_redact))
        click.echo(f"comparison page written to {output}", err=True)
    if as_json:
        click.echo(json.dumps(cmp.model_dump(mode="json"), indent=2))
        return
    if as_csv:
        from hwbench.report.writers import to_csv

        rows = comparison_rows(cmp)
        cols = list(rows[0]) if rows else ["group", "model", "test", "label", "tokens_per_s"]
        click.echo(to_csv(rows, cols), nl=False)
        return
    render_comparison(cmp)


def render_comparison(cmp) -> None:  # type: ignore[no-untyped-def]
    import sys

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    out = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    for m in cmp.machines:
        price = f"{m.usd_per_hour:g} USD/hour ({m.price_source})" if m.usd_per_hour else m.price_source
        out.print(f"[bold]{escape(m.label)}[/bold]: {escape(m.cpu)}; GPUs: {escape(m.gpus)}; {escape(price)}")
    if not cmp.groups:
        out.print("no tokens/s measurements to compare")
    for g in cmp.groups:
        t = Table(title=f"{g.model}, {g.quant}: {g.test} ({g.backend}) - {g.shape}", title_justify="left")
        par = g.n_parallel is not None
        cols = ["#", "machine", "settings", f"tokens/s{f' (all {g.n_parallel})' if par else ''}", "± sd"]
        if par:  # measured per user and prompt, then the record's estimates
            cols += ["per user", f"prompt tok/s (all {g.n_parallel})", "est. tok/s", "est. per user", "est. prompt"]
        else:
            cols += ["est. tok/s"]
        cols += ["USD/hour", f"USD/M {g.token_kind} tok", "tok/s per USD/h"]
        for col in cols:
            t.add_column(col, justify="left" if col in ("machine", "settings") else "right")
        for i, r in enumerate(g.rows, 1):
            cells = [str(i), escape(r.label), escape(r.settings), f"{r.tokens_per_s:.2f}", _num(r.stddev)]
            if par:
                cells += [_num(r.per_user_tokens_per_s), _num(r.prompt_tokens_per_s), _num(r.predicted_tokens_per_s)]
                cells += [_num(r.predicted_per_user_tokens_per_s), _num(r.predicted_prompt_tokens_per_s)]
            else:
                cells += [_num(r.predicted_tokens_per_s)]
            cells += [
                f"{r.usd_per_hour:g}" if r.usd_per_hour else "-",
                f"{r.usd_per_million_tokens:.3f}" if r.usd_per_million_tokens is not None else "-",
                f"{r.tokens_per_s_per_usd_hour:.1f}" if r.tokens_per_s_per_usd_hour is not None else "-",
            ]
            t.add_row(*cells)
        # rich treats [..] in titles as markup
        t.title = escape(str(t.title))
        out.print(t)
    for e in cmp.errors:
        out.print(f"[red]not compared:[/red] {escape(e['file'])}: {escape(e['reason'])}")
    out.print(f"[dim]{escape(cmp.formulas[0])}[/dim]")
    if any(g.n_parallel is not None for g in cmp.groups):
        from hwbench.compare import PARALLEL_FORMULA

        out.print(f"[dim]{escape(PARALLEL_FORMULA)}[/dim]")
    out.print("[dim]tokens/s, per user, prompt: measured; est.: estimated (the estimator's figure stored in the record)[/dim]")


def _num(v: float | None) -> str:
    return f"{v:.2f}" if v is not None else "-"
