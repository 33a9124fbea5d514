"""Charts as deterministic inline SVG (matplotlib's object API on an Agg canvas; pyplot is never imported).

Deterministic: fixed ``svg.hashsalt`` per chart, no date in the metadata, text kept as text
(``svg.fonttype='none'``) so the file is small and the browser draws it with local fonts; nothing
is loaded from anywhere. Labels come from outside (result files): mathtext is disabled by escaping
``$`` and every label is shortened; matplotlib escapes the text it writes into the SVG.
"""

from __future__ import annotations

import io
import re
from typing import Any

PALETTE = ["#2f6f9f", "#e07b39", "#4d9a5b", "#b0413e", "#7a5aa6", "#8c6d31", "#c4568f", "#5f7f8f"]
MAX_LABEL = 40


def _label(s: object, limit: int = MAX_LABEL) -> str:
    t = "".join(ch if ch.isprintable() else " " for ch in str(s))
    t = t if len(t) <= limit else t[: limit - 1] + "…"
    return t.replace("$", r"\$")  # no mathtext: a '$' in a name is a dollar sign


def _keep_matplotlib_cache_in_ours() -> None:
    """matplotlib writes a font cache under ~/.cache/matplotlib: keep it in hwbench's cache dir
    (hwbench writes nowhere but its own dirs and the paths it is given). Must run before import."""
    import os

    if "MPLCONFIGDIR" not in os.environ:
        from hwbench.paths import cache_dir

        d = cache_dir() / "matplotlib"
        d.mkdir(parents=True, exist_ok=True)
        os.environ["MPLCONFIGDIR"] = str(d)


def _figure(width_in: float, height_in: float) -> tuple[Any, Any]:
    """A Figure with one Axes, without pyplot (no global state, no GUI backend, faster import)."""
    _keep_matplotlib_cache_in_ours()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=100)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _to_svg(fig: Any, salt: str) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"hwbench-{salt}", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None}, bbox_inches="tight")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML declaration and DOCTYPE (an external DTD reference)
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    # matplotlib's '*{stroke-linejoin: round; stroke-linecap: butt}' would apply to the whole HTML page:
    # the page's CSS scopes it to `.chart svg *` instead
    svg = re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.S)
    # ids unique per chart: several SVGs share one HTML document
    svg = re.sub(r'id="([^"]+)"', lambda m: f'id="{salt}-{m.group(1)}"', svg)
    svg = re.sub(r'(href|xlink:href)="#([^"]+)"', lambda m: f'{m.group(1)}="#{salt}-{m.group(2)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{salt}-{m.group(1)})", svg)
    lowered = svg.lower()
    # "javascript:" only in an attribute: as (escaped) text, e.g. in a test name from a results file, it is inert
    if "<script" in lowered or re.search(r"=\s*[\"']\s*javascript:", lowered) or "<foreignobject" in lowered:
        raise ValueError("chart SVG contains active content")  # never expected: text is escaped by matplotlib
    return svg


def _style(ax: Any) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def hbar_chart(
    rows: list[tuple[str, float]],
    *,
    title: str,
    xlabel: str,
    salt: str,
    errors: list[float | None] | None = None,
    colors: list[str] | None = None,
    value_fmt: str = "{:.1f}",
) -> str:
    """Horizontal bars, one per (label, value), labelled with the value."""
    n = max(1, len(rows))
    fig, ax = _figure(7.2, 0.9 + 0.32 * n)
    labels = [_label(r[0]) for r in rows]
    vals = [r[1] for r in rows]
    ys = list(range(len(rows)))[::-1]
    xerr = [e or 0.0 for e in errors] if errors else None
    ax.barh(ys, vals, color=colors or PALETTE[0], xerr=xerr, ecolor="#333333", capsize=2, height=0.65)
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_xlabel(_label(xlabel, 80), fontsize=9)
    ax.set_title(_label(title, 110), fontsize=10, loc="left")
    vmax = max(vals) if vals else 1.0
    for y, v in zip(ys, vals, strict=False):
        ax.text(v + vmax * 0.01, y, value_fmt.format(v), va="center", fontsize=7)
    ax.set_xlim(0, vmax * 1.15 if vmax > 0 else 1)
    _style(ax)
    return _to_svg(fig, salt)


def estimate_vs_measured_chart(rows: list[tuple[str, float, float]], *, salt: str, title: str = "Estimated vs measured tokens/s") -> str:
    """Paired bars per test: measured and estimated, with the error in percent."""
    n = max(1, len(rows))
    fig, ax = _figure(7.2, 1.0 + 0.5 * n)
    ys = [i * 1.0 for i in range(len(rows))][::-1]
    meas = [r[1] for r in rows]
    est = [r[2] for r in rows]
    ax.barh([y + 0.18 for y in ys], meas, height=0.36, color=PALETTE[0], label="measured")
    ax.barh([y - 0.18 for y in ys], est, height=0.36, color=PALETTE[1], label="estimated")
    ax.set_yticks(ys, [_label(r[0]) for r in rows], fontsize=8)
    vmax = max(meas + est) if rows else 1.0
    for y, m, e in zip(ys, meas, est, strict=False):
        err = 100.0 * (e - m) / m if m else 0.0
        ax.text(max(m, e) + vmax * 0.01, y, f"{err:+.0f}%", va="center", fontsize=7)
    ax.set_xlim(0, vmax * 1.18 if vmax > 0 else 1)
    ax.set_xlabel("tokens/s", fontsize=9)
    ax.set_title(_label(title, 110), fontsize=10, loc="left")
    # below the x label, a fixed distance in inches whatever the chart's height (above it, a long
    # title ran into it)
    from matplotlib.transforms import ScaledTranslation

    anchor = ScaledTranslation(0, -0.42, fig.dpi_scale_trans)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, 0.0), bbox_transform=ax.transAxes + anchor, ncol=2, frameon=False)
    _style(ax)
    return _to_svg(fig, salt)
