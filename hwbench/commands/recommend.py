"""`hwbench recommend`: rank rentable instances (and GPUs to buy) that run a model, by cost."""

from __future__ import annotations

import json
import math

import click

from hwbench import assumptions as A
from hwbench.commands._model_options import gguf_option, model_option
from hwbench.errors import BadInput
from hwbench.quant import accepted_quants_text


def _providers(text: str | None) -> list[str] | None:
    if text is None:
        return None
    out = [p.strip().lower() for p in text.split(",") if p.strip()]
    if not out:
        raise BadInput(f"--provider {text!r} names no provider; e.g. --provider aws,runpod")
    return out


def _fmt_num(v: float | None, nd: int = 1) -> str:
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.{nd}f}"


@click.command("recommend")
@click.option("--params", help="Model size: 7b, 32B, 70b, or a MoE as 8x7b.")
@model_option
@gguf_option
@click.option("--active-params", help="Parameters active per token (MoE), e.g. 3b.")
@click.option("--quant", "-q", help=f"Quantization (default Q4_K_M): {accepted_quants_text()}.")
@click.option("--context", "-c", type=int, default=8192, show_default=True, help="Context length in tokens.")
@click.option(
    "--tokens-per-s",
    "target",
    type=float,
    default=A.TARGET_TOKENS_PER_S,
    help=f"Target generation speed (tokens/s, one stream); 0 = any speed. Default {A.get('target_tokens_per_s').text()} (assumed: about reading "
    "speed for one person; hwbench/assumptions.py).",
)
@click.option(
    "--concurrency",
    "-np",
    "concurrency",
    help="Serve N users at once (llama.cpp -np, each with --context tokens) and rank by USD per million tokens at N; "
    "'auto': per instance the most users that each still get --tokens-per-s. Default: one stream.",
)
@click.option("--max-usd-hour", type=float, help="Only instances at most this many USD/hour.")
@click.option("--provider", help="Only these providers, comma-separated (e.g. aws,runpod).")
@click.option("--spot", is_flag=True, help="Rank by spot/preemptible price (instances without one are left out).")
@click.option("--buy", is_flag=True, help="Also rank GPU configurations to buy (1-8 x each GPU profile).")
@click.option("--max-gpus", type=int, default=8, show_default=True, help="With --buy: at most this many GPUs per box.")
@click.option(
    "--price",
    "prices",
    multiple=True,
    metavar="GPU=USD",
    help='With --buy: your purchase price for a GPU, e.g. --price "RTX 3090=700" (repeatable; replaces the bundled launch price).',
)
@click.option(
    "--kwh-price", type=float, help="With --buy: electricity price in USD/kWh (default: the assumptions table's electricity_usd_per_kwh)."
)
@click.option(
    "--hours-per-day",
    type=float,
    help="With --buy: hours a day the bought machine runs the model, 0-24 exclusive of 0 (default: buy_hours_per_day).",
)
@click.option("--host-usd", type=float, help="With --buy: the host system added to bought GPUs, in USD (default: buy_host_system_usd).")
@click.option("--limit", "-n", type=int, default=20, show_default=True, help="Rows to show (table); 0 = all.")
@click.option("--profiles-dir", type=click.Path(file_okay=False), envvar="HWBENCH_PROFILES_DIR", help="Extra profile files (your prices).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object for scripts (all rows unless --limit is given).")
def recommend(
    params: str | None,
    model_name: str | None,
    gguf: str | None,
    active_params: str | None,
    quant: str | None,
    context: int,
    target: float,
    concurrency: str | None,
    max_usd_hour: float | None,
    provider: str | None,
    spot: bool,
    buy: bool,
    max_gpus: int,
    prices: tuple[str, ...],
    kwh_price: float | None,
    hours_per_day: float | None,
    host_usd: float | None,
    limit: int,
    profiles_dir: str | None,
    as_json: bool,
) -> None:
    """Rank the cloud instances that run a model: cheapest that meets the target speed first.

    For each instance: verdict (fully on GPU / partial offload / CPU), estimated generation and
    prompt tokens/s, USD/hour and USD per million generated tokens. Prices come from the instance
    profiles, with their as_of date and source; speeds are estimates (see the assumptions printed).

    \b
    Examples:
      hwbench recommend --params 70b --quant q4
      hwbench recommend --model llama-3.1-8b --tokens-per-s 40 --max-usd-hour 1 --provider runpod,lambda
      hwbench recommend --params 32b --quant q5 --context 16384 --spot --json
      hwbench recommend --model deepseek-v3 --quant q2_k --buy
    """
    from hwbench.recommend import recommend as rank
    from hwbench.resolve import resolve_model
    from hwbench.schema import EstimateSettings

    if context < 1:
        raise BadInput(f"--context {context} must be a positive number of tokens")
    if not math.isfinite(target) or target < 0:
        raise BadInput(f"--tokens-per-s {target:g} must be 0 (any speed) or a positive number")
    if max_usd_hour is not None and (not math.isfinite(max_usd_hour) or max_usd_hour <= 0):
        raise BadInput(f"--max-usd-hour {max_usd_hour:g} must be a positive number of USD")
    if not 1 <= max_gpus <= 64:
        raise BadInput(f"--max-gpus {max_gpus} must be 1..64")
    if limit < 0:
        raise BadInput(f"--limit {limit} must be 0 (all) or more")
    from hwbench.commands.check import parse_concurrency

    n_seq = parse_concurrency(concurrency, allow_auto=True)
    if isinstance(n_seq, int) and n_seq > 256:
        raise BadInput(f"--concurrency {n_seq} must be between 1 and 256 (llama.cpp's most parallel sequences)")
    if n_seq == "auto" and not target:
        raise BadInput("--concurrency auto needs a per-user speed target: --tokens-per-s above 0")
    own = ownership_options(kwh_price, hours_per_day, host_usd)
    provs = _providers(provider)
    if provs:
        from hwbench.profiles import load_instances

        known = {i.provider.lower() for i in load_instances(profiles_dir)}
        unknown = [p for p in provs if p not in known]
        if unknown:
            raise BadInput(
                f"--provider: no instance profiles for {', '.join(unknown)} (see profiles/instances/MISSING.md); known: {', '.join(sorted(known))}"
            )
    resolved = resolve_model(model=model_name, params=params, active_params=active_params, gguf=gguf, quant=quant, extra_dir=profiles_dir)
    settings = EstimateSettings(context=context)
    from hwbench.profiles import parse_price_overrides

    overrides = parse_price_overrides(prices, profiles_dir)
    rec = rank(
        resolved,
        settings,
        target_tokens_per_s=target or None,
        max_usd_per_hour=max_usd_hour,
        providers=provs,
        spot=spot,
        buy=buy,
        max_buy_gpus=max_gpus,
        extra_dir=profiles_dir,
        ownership=own,
        price_overrides=overrides,
        concurrency=n_seq,
    )
    if as_json:
        d = rec.model_dump(mode="json")
        explicit_limit = click.get_current_context().get_parameter_source("limit") != click.core.ParameterSource.DEFAULT
        if explicit_limit and limit:
            d["candidates"] = d["candidates"][:limit]
            d["buy"] = d["buy"][:limit]
        click.echo(json.dumps(d, indent=2))
        return
    render_recommendation(rec, limit)


def ownership_options(kwh_price: float | None, hours_per_day: float | None, host_usd: float | None):  # type: ignore[no-untyped-def]
    """--kwh-price, --hours-per-day, --host-usd checked (one line, exit 2 on a bad one) -> Ownership."""
    from hwbench.recommend import Ownership

    if kwh_price is not None and (not math.isfinite(kwh_price) or kwh_price < 0):
        raise BadInput(f"--kwh-price {kwh_price:g} must be 0 or a positive number of USD per kWh")
    if hours_per_day is not None and (not math.isfinite(hours_per_day) or not 0 < hours_per_day <= 24):
        raise BadInput(f"--hours-per-day {hours_per_day:g} must be more than 0 and at most 24 (an unused machine never pays off)")
    if host_usd is not None and (not math.isfinite(host_usd) or host_usd < 0):
        raise BadInput(f"--host-usd {host_usd:g} must be 0 or a positive number of USD")
    return Ownership.default(host_usd=host_usd, usd_per_kwh=kwh_price, hours_per_day=hours_per_day)


def render_recommendation(rec, limit: int) -> None:  # type: ignore[no-untyped-def]
    import sys

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from hwbench.units import fmt_params

    out = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    from hwbench.schema import ESTIMATE_ENGINE

    tgt = f"target {rec.target_tokens_per_s:g} tokens/s" if rec.target_tokens_per_s else "no speed target"
    out.print(
        f"[bold]{escape(rec.model)}[/bold] ({fmt_params(rec.params)} params), {rec.quant}, context {rec.context}; {tgt} "
        f"(speeds estimated for {ESTIMATE_ENGINE}); "
        f"{'spot' if rec.spot else 'on-demand'} prices"
        + (f" <= {rec.max_usd_per_hour:g} USD/hour" if rec.max_usd_per_hour else "")
        + (f"; providers: {escape(', '.join(rec.providers))}" if rec.providers else "")
    )
    ages = sorted({c.price_age_days for c in rec.candidates if c.price_age_days is not None})
    age = f", {ages[0]}-{ages[-1]} days old" if ages and ages[0] != ages[-1] else (f", {ages[0]} days old" if ages else "")
    n_old = sum(1 for c in rec.candidates if c.price_stale)
    out.print(
        f"[bold]prices as of {escape(', '.join(rec.prices_as_of) or '-')}{age}[/bold] (instance profiles; sources per row in --json)"
        + (f" [yellow]{n_old} older than {A.value('price_stale_days'):g} days[/]" if n_old else "")
    )
    if rec.concurrency is not None:
        out.print(f"ranked by {escape(rec.ranked_by or '')}; the target is per user")
        _render_concurrency_rows(out, rec, limit)
        return
    rows = rec.candidates if not limit else rec.candidates[:limit]
    n_meet = sum(1 for c in rec.candidates if c.meets_target)
    t = Table(title=f"Instances: {n_meet} of {len(rec.candidates)} that run it meet the target (showing {len(rows)})", title_justify="left")
    for col in ("#", "instance", "GPUs", "verdict", "gen tok/s", "prompt tok/s", "USD/hour", "USD/M tok", "target", "region"):
        t.add_column(col, justify="right" if col in ("#", "gen tok/s", "prompt tok/s", "USD/hour", "USD/M tok") else "left")
    style = {"gpu": "green", "partial": "yellow", "cpu": "cyan", "none": "red"}
    for i, c in enumerate(rows, 1):
        gpus = f"{c.gpu_count:g} x {c.gpu_model}" if c.gpu_model and c.gpu_count else f"CPU {c.vcpus or '?'} vCPU"
        note = " *" if c.notes else ""
        t.add_row(
            str(i),
            escape(c.name) + note,
            escape(gpus),
            f"[{style[c.verdict]}]{c.verdict}[/]",
            _fmt_num(c.gen_tokens_per_s),
            _fmt_num(c.prompt_tokens_per_s, 0),
            f"{c.usd_per_hour:.3f}" if c.usd_per_hour is not None else "-",
            _fmt_num(c.usd_per_million_tokens, 2),
            "[green]yes[/]" if c.meets_target else "[red]no[/]",
            escape(c.region or "-"),
        )
    out.print(t)
    starred = [c for c in rows if c.notes]
    for c in starred[:10]:
        out.print(f"[dim]* {escape(c.name)}: {escape('; '.join(c.notes))}[/dim]")
    if rec.buy:
        brow = rec.buy if not limit else rec.buy[:limit]
        bt = Table(title=f"GPUs to buy: fewest of each that hold it fully (showing {len(brow)} of {len(rec.buy)})", title_justify="left")
        for col in (
            "#",
            "configuration",
            "VRAM GiB",
            "gen tok/s",
            "purchase USD",
            "price kind, as of",
            "power W",
            "owned USD/M tok",
            "break-even",
            "target",
        ):
            bt.add_column(col, justify="left" if col in ("configuration", "price kind, as of", "break-even", "target") else "right")
        for i, c in enumerate(brow, 1):
            if c.purchase_usd:
                kind = f"{c.purchase_price_kind}, {c.as_of}" + (" [yellow](old)[/]" if c.price_stale else "")
                be = (
                    f"{c.break_even_hours:,.0f} h = {c.break_even_months:,.1f} months"
                    if c.break_even_hours is not None and c.break_even_months is not None
                    else ("never" if c.break_even_vs else "-")
                )
            else:
                kind, be = "no purchase price known", "-"
            bt.add_row(
                str(i),
                escape(c.name),
                f"{(c.gpu_memory_gib or 0) * c.gpu_count:.0f}",
                _fmt_num(c.gen_tokens_per_s),
                f"{c.purchase_usd:,.0f}" if c.purchase_usd else "-",
                kind,
                f"{c.power_w:.0f}" if c.power_w else "?",
                _fmt_num(c.owned_usd_per_million_tokens, 2),
                be,
                "[green]yes[/]" if c.meets_target else "[red]no[/]",
            )
        out.print(bt)
        for line in rec.buy_vs_rent:
            out.print(f"buy vs rent: {escape(line)}")
    if rec.skipped:
        out.print("left out: " + escape(", ".join(f"{n} {why}" for why, n in rec.skipped.items())) + f" (of {rec.considered} considered)")
    for f in rec.formulas:
        out.print(f"[dim]{escape(f)}[/dim]")
    for a in rec.assumptions:
        out.print(f"[dim]assumed: {escape(a)}[/dim]")


def _render_concurrency_rows(out, rec, limit: int) -> None:  # type: ignore[no-untyped-def]
    """The instance table with --concurrency: users at once, per-user and aggregate tokens/s, USD per million tokens."""
    from rich.markup import escape
    from rich.table import Table

    rows = rec.candidates if not limit else rec.candidates[:limit]
    n_meet = sum(1 for c in rec.candidates if c.meets_target)
    t = Table(
        title=f"Instances: {n_meet} of {len(rec.candidates)} that run it give every user the target (showing {len(rows)})",
        title_justify="left",
    )
    num = ("#", "users", "per user tok/s", "aggregate tok/s", "USD/hour", "USD/M tok")
    for col in ("#", "instance", "GPUs", "verdict", "users", "per user tok/s", "aggregate tok/s", "USD/hour", "USD/M tok", "target", "region"):
        t.add_column(col, justify="right" if col in num else "left")
    style = {"gpu": "green", "partial": "yellow", "cpu": "cyan", "none": "red"}
    for i, c in enumerate(rows, 1):
        gpus = f"{c.gpu_count:g} x {c.gpu_model}" if c.gpu_model and c.gpu_count else f"CPU {c.vcpus or '?'} vCPU"
        t.add_row(
            str(i),
            escape(c.name) + (" *" if c.notes else ""),
            escape(gpus),
            f"[{style[c.verdict]}]{c.verdict}[/]",
            str(c.concurrency or 1),
            _fmt_num(c.per_user_tokens_per_s),
            _fmt_num(c.aggregate_tokens_per_s),
            f"{c.usd_per_hour:.3f}" if c.usd_per_hour is not None else "-",
            _fmt_num(c.usd_per_million_tokens, 3),
            "[green]yes[/]" if c.meets_target else "[red]no[/]",
            escape(c.region or "-"),
        )
    out.print(t)
    for c in [c for c in rows if c.notes][:10]:
        out.print(f"[dim]* {escape(c.name)}: {escape('; '.join(c.notes))}[/dim]")
    if rec.buy:
        out.print("[dim]--buy rows: see --json (their owned USD/M tok use the aggregate tokens/s at the same concurrency)[/dim]")
    if rec.skipped:
        out.print("left out: " + escape(", ".join(f"{n} {why}" for why, n in rec.skipped.items())) + f" (of {rec.considered} considered)")
    for f in rec.formulas:
        out.print(f"[dim]{escape(f)}[/dim]")
    for a in rec.assumptions:
        out.print(f"[dim]assumed: {escape(a)}[/dim]")
