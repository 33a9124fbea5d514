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
PP_NAME = 30  # longest name written beside a point of the price/performance chart
LOG_PRICE_SPAN = 8.0  # price/performance chart: a log price axis when the dearest is this many times the cheapest


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


def cumulative_cost_chart(
    lines: list[tuple[str, float, float, str]],
    *,
    hours_per_day: float,
    months: int,
    salt: str,
    title: str,
) -> str:
    """Money spent over months of use: one line per (label, upfront USD, USD per hour of use, "buy"|"rent").

    Buying starts at its purchase price and climbs by its power cost; renting starts at 0 and climbs
    by its hourly price (hwbench.cost.cumulative_usd for every point). Where a buy line crosses a
    rent line is the break-even.
    """
    from hwbench.cost import cumulative_usd

    fig, ax = _figure(7.2, 3.4)
    xs = [m / 4 for m in range(0, months * 4 + 1)]
    for i, (label, upfront, per_hour, kind) in enumerate(lines):
        ys = [cumulative_usd(upfront, per_hour, hours_per_day, x) for x in xs]
        ax.plot(
            xs,
            ys,
            color=PALETTE[i % len(PALETTE)],
            linestyle="-" if kind == "buy" else "--",
            linewidth=1.6,
            label=_label(f"{kind}: {label}", 60),
        )
    ax.set_xlim(0, months)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(f"months of use at {hours_per_day:g} hours/day", fontsize=9)
    ax.set_ylabel("cumulative cost, USD", fontsize=9)
    ax.set_title(_label(title, 110), fontsize=10, loc="left")
    ax.tick_params(labelsize=8)
    ax.grid(color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    # beside the plot, not on it: in the upper left it hid the buy lines that start high
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return _to_svg(fig, salt)


def pareto_front(pts: list[tuple[str, float, float]]) -> list[int]:
    """Indices of the best-value points among (label, price, tokens/s): those no other point beats, i.e.
    none is at most as dear and at least as fast, better in one of the two. Equal points are all kept."""
    front = []
    for i, (_, x, y) in enumerate(pts):
        beaten = any((qx <= x and qy >= y) and (qx < x or qy > y) for j, (_, qx, qy) in enumerate(pts) if j != i)
        if not beaten:
            front.append(i)
    return front


# where a label may go relative to its point, in points: (dx, dy, horizontal alignment, vertical alignment),
# tried in this order; the first whose box touches no placed label, no other marker and stays in the axes wins
_SPOTS = [
    (4, 2, "left", "bottom"),
    (4, -2, "left", "top"),
    (0, 5, "center", "bottom"),
    (0, -5, "center", "top"),
    (-4, 2, "right", "bottom"),
    (-4, -2, "right", "top"),
    (8, 8, "left", "bottom"),
    (8, -8, "left", "top"),
    (0, 12, "center", "bottom"),
    (0, -12, "center", "top"),
    (-8, 8, "right", "bottom"),
    (-8, -8, "right", "top"),
    # farther out, where the leader line shows which point the label belongs to
    (16, 0, "left", "center"),
    (-16, 0, "right", "center"),
    (14, 14, "left", "bottom"),
    (14, -14, "left", "top"),
    (-14, 14, "right", "bottom"),
    (-14, -14, "right", "top"),
    (0, 22, "center", "bottom"),
    (0, -22, "center", "top"),
]


def label_box(a: Any, renderer: Any) -> Any:
    """The window box of an annotation's text alone (Annotation's own box also takes in its leader line)."""
    a.update_positions(renderer)
    from matplotlib.text import Text

    return Text.get_window_extent(a, renderer)


def _place_labels(fig: Any, ax: Any, items: list[tuple[str, float, float, float]], markers: list[Any]) -> list[Any]:
    """Annotate (text, x, y, fontsize) where the label overlaps nothing already drawn: the other labels, the
    markers (window boxes in ``markers``) and the axes' edges. A label with no free spot is not drawn (its
    point is still named in the key under the chart). Returns the annotations drawn."""
    renderer = fig.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    placed: list[Any] = []
    boxes: list[Any] = []
    for text, x, y, size in items:
        px, py = ax.transData.transform((x, y))
        for dx, dy, ha, va in _SPOTS:
            a = ax.annotate(
                text,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=size,
                zorder=4,
                arrowprops={"arrowstyle": "-", "color": "#999999", "lw": 0.5, "shrinkA": 0, "shrinkB": 3},
            )
            bb = label_box(a, renderer).expanded(1.04, 1.1)
            ok = inside.contains(bb.x0, bb.y0) and inside.contains(bb.x1, bb.y1)
            ok = ok and not any(bb.overlaps(o) for o in boxes)
            ok = ok and not any(bb.overlaps(m) for m in markers if not m.contains(px, py))
            if ok:
                placed.append(a)
                boxes.append(bb)
                break
            a.remove()
    return placed


def price_performance_figure(
    rent: list[tuple[str, float, float]],
    buy: list[tuple[str, float, float]],
    *,
    title: str,
) -> Any:
    """The Figure behind price_performance_chart (kept apart so tests can measure its label boxes)."""
    _keep_matplotlib_cache_in_ours()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator
    from matplotlib.transforms import Bbox

    panels = (
        (rent, "rent: USD/hour", PALETTE[1], "{:,.2f}", "USD/h"),
        (buy, "buy: purchase USD", PALETTE[0], "{:,.0f}", "USD"),
    )
    # the key under each panel: one line per point that is not best value
    keys = []
    for pts, *_ in panels:
        best = set(pareto_front(pts))
        keys.append([i for i in range(len(pts)) if i not in best])
    key_lines = max(len(k) for k in keys)
    key_h = 0.0 if not key_lines else 0.12 + 0.1 * (key_lines + 1)
    height = 3.3 + key_h
    fig = Figure(figsize=(7.6, height), dpi=100)
    FigureCanvasAgg(fig)
    bottom_in = 0.55 + key_h
    fig.subplots_adjust(left=0.08, right=0.98, top=1 - 0.45 / height, bottom=bottom_in / height, wspace=0.28)
    axes = [fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)]
    for ax, (pts, xlabel, color, fmt, unit), key in zip(axes, panels, keys, strict=True):
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel("generation tokens/s (estimated)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.spines["top"].set_visible(False)
        ax.spines["right"].set_visible(False)
        if not pts:
            ax.text(0.5, 0.5, "no priced option", ha="center", va="center", fontsize=8, transform=ax.transAxes)
            ax.set_ylim(bottom=0)
            continue
        front = pareto_front(pts)
        others = [i for i in range(len(pts)) if i not in set(front)]
        ax.scatter([pts[i][1] for i in others], [pts[i][2] for i in others], color=color, alpha=0.45, s=14, zorder=3)
        ax.scatter(
            [pts[i][1] for i in front], [pts[i][2] for i in front], color=color, s=26, zorder=3, edgecolors="#222222", linewidths=0.6
        )
        fr = sorted({(pts[i][1], pts[i][2]) for i in front})
        if len(fr) > 1:  # the best-value frontier as a step line
            ax.plot([p[0] for p in fr], [p[1] for p in fr], color=color, linewidth=0.8, linestyle=":", zorder=2, drawstyle="steps-post")
        lo, hi = min(p[1] for p in pts), max(p[1] for p in pts)
        if lo > 0 and hi / lo >= LOG_PRICE_SPAN:
            # prices spanning an order of magnitude: a log axis keeps the cheap cluster apart
            from matplotlib.ticker import LogLocator, NullFormatter

            ax.set_xscale("log")
            ax.set_xlim(lo / 1.4, hi * 1.6)
            ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel(f"{xlabel} (log scale)", fontsize=8)
        else:
            ax.set_xlim(0, hi * 1.25)
            ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.set_ylim(0, max(p[2] for p in pts) * 1.22)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos, f=fmt: f.format(v)))
        r = 4.0  # marker half-size in pixels, a little more than the drawn dot
        markers = []
        for _, x, y in pts:
            px, py = ax.transData.transform((x, y))
            markers.append(Bbox.from_extents(px - r, py - r, px + r, py + r))
        # best-value points by name (equal points share one label), the others by number
        named: dict[tuple[float, float], list[str]] = {}
        for i in front:
            named.setdefault((pts[i][1], pts[i][2]), []).append(_label(pts[i][0], PP_NAME))
        items = [(" / ".join(v), x, y, 6.5) for (x, y), v in sorted(named.items(), key=lambda kv: kv[0])]
        items += [(str(n), pts[i][1], pts[i][2], 6.0) for n, i in enumerate(key, start=1)]
        drawn = {a.get_text() for a in _place_labels(fig, ax, items, markers)}
        lines = [f"{text}: {fmt.format(x)} {unit}, {y:.0f} tok/s" for text, x, y, _ in items[: len(named)] if text not in drawn]
        if lines:
            lines.insert(0, "best value, not labelled for want of room:")
        if key:
            lines.append("others (an option as cheap or cheaper is as fast or faster):")
            for n, i in enumerate(key, start=1):
                mark = str(n) if str(n) in drawn else f"{n} (not marked: no room)"
                lines.append(f"{mark}  {_label(pts[i][0])}: {fmt.format(pts[i][1])} {unit}, {pts[i][2]:.0f} tok/s")
        if lines:
            # under the x-axis label, a fixed distance in inches
            from matplotlib.transforms import ScaledTranslation

            under = ax.transAxes + ScaledTranslation(0, -0.42, fig.dpi_scale_trans)
            ax.text(0.0, 0.0, "\n".join(lines), transform=under, fontsize=6, va="top", ha="left", color="#444444")
    fig.suptitle(_label(title, 110), fontsize=10, x=0.01, ha="left")
    fig.text(
        0.99,
        1 - 0.2 / height,
        "named: best value (no other option is as cheap or cheaper and as fast or faster); dotted: their frontier",
        fontsize=6,
        ha="right",
        va="top",
        color="#444444",
    )
    return fig


def price_performance_chart(
    rent: list[tuple[str, float, float]],
    buy: list[tuple[str, float, float]],
    *,
    salt: str,
    title: str,
) -> str:
    """Two panels: tokens/s against USD/hour (rented: label, USD/hour, tokens/s) and against purchase USD (bought).

    Readable when points crowd: only the best-value points (the price/performance frontier) carry their
    names; the others carry a number, keyed under the panel with their price and speed; no label is drawn
    where it would touch another label or a marker (see _place_labels)."""
    return _to_svg(price_performance_figure(rent, buy, title=title), salt)
