"""The comparison page (`hwbench compare -o page.html`) for a :class:`hwbench.compare.Comparison`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hwbench.report.views import error_text, generated_text, versions
from hwbench.units import fmt_bytes

if TYPE_CHECKING:
    from hwbench.compare import Comparison


def render_compare_html(cmp: Comparison, *, redacted: bool = True, generated_at: str | None = None, max_chart_groups: int = 12) -> str:
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
                "predicted": r.predicted_tokens_per_s,
                "per_user": r.per_user_tokens_per_s,
                "prompt": r.prompt_tokens_per_s,
                "prompt_ms": r.prompt_time_ms,
                "predicted_per_user": r.predicted_per_user_tokens_per_s,
                "predicted_prompt": r.predicted_prompt_tokens_per_s,
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
        subtitle = f"{g.shape}; {g.token_kind} tokens; "
        if g.n_parallel is not None:
            subtitle += f"{g.n_parallel} sequences decoded together (tokens/s: all {g.n_parallel}, the cost of serving them at once); "
        subtitle += f"{len(g.rows)} measurement{'s' if len(g.rows) != 1 else ''} from {n_machines} file{'s' if n_machines != 1 else ''}"
        if g.fastest:
            subtitle += f"; fastest: {g.fastest}"
        if g.best_value:
            subtitle += f"; lowest cost per token: {g.best_value}"
        groups.append(
            {
                "title": f"{g.model}, {g.quant}: {g.test} ({g.backend})",
                "subtitle": subtitle,
                "token_kind": g.token_kind,
                "n_parallel": g.n_parallel,
                "rows": rows,
                "charts": charts,
            }
        )
    env = environment()
    return str(
        env.get_template("compare.html").render(
            versions=dict(versions()),
            generated_at=generated_text(generated_at),
            redacted=redacted,
            machines=machines,
            groups=groups,
            errors=[error_text(e["file"], e["reason"], redacted) for e in cmp.errors],
            formulas=cmp.formulas,
            versions_rows=versions(),
        )
    )
