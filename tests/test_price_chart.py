"""The price/performance chart stays readable when points crowd (issue 12): no two labels touch, no label
covers another point's marker or leaves its panel, the named points are exactly the best-value ones, and
every point is either marked on the chart or listed in the key under it."""

from __future__ import annotations

import random
from itertools import combinations

import pytest

pytest.importorskip("matplotlib")

from matplotlib.text import Annotation  # noqa: E402

from hwbench.report.charts import PP_NAME, _label, label_box, pareto_front, price_performance_chart, price_performance_figure  # noqa: E402

# the report of this machine (8b model, 2026-12-02): five rentals, ten purchases, several close together
RENT = [
    ("verda/1V100.6V", 0.1381, 105.0),
    ("hyperstack/n3-RTX-A4000x1", 0.15, 63.0),
    ("vast/1x-RTX_3060_Ti-32-65536", 0.16, 62.4),
    ("vast/1x-Tesla_V100-32-65536", 0.18, 105.0),
    ("cudo/intel-broadwell-v100_1x2v4gb", 0.208, 105.0),
]
BUY = [
    ("Jetson Orin Nano Super", 249, 14.9),
    ("RTX 3060 12 GB", 1829, 50.0),
    ("RTX 4060 Ti 16 GB", 1999, 41.6),
    ("M4 Max (32-core GPU)", 1999, 32.4),
    ("RX 7900 XT", 2399, 91.8),
    ("RX 7900 XTX", 2499, 101.0),
    ("RTX 3090", 2999, 108.0),
    ("RTX 4090", 3099, 112.0),
    ("RTX 5090", 3499, 132.0),
    ("M3 Ultra (60-core GPU)", 3999, 33.1),
]


def _crowd(seed: int, n: int, x0: float, dx: float, y0: float, dy: float, name: str) -> list[tuple[str, float, float]]:
    rnd = random.Random(seed)
    return [(f"{name} {i}", x0 + rnd.random() * dx, y0 + rnd.random() * dy) for i in range(n)]


CASES = {
    "report": (RENT, BUY),
    "crowded": (_crowd(1, 14, 0.30, 0.02, 60, 3, "vast/1x-RTX_3090-offer"), _crowd(2, 14, 1500, 100, 40, 4, "GPU model number")),
    "one each": (RENT[:1], BUY[:1]),
    "rent only": (RENT, []),
}


def test_pareto_front_hand_checked() -> None:
    pts = [("a", 1, 10), ("b", 2, 5), ("c", 2, 20), ("d", 3, 20), ("e", 1, 10), ("f", 0.5, 1)]
    # b is beaten by a (cheaper, faster); d by c (cheaper, as fast); a and e are equal: both kept
    assert pareto_front(pts) == [0, 2, 4, 5]
    assert pareto_front([]) == []


def _labels(fig):  # type: ignore[no-untyped-def]
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    out = []
    for ax in fig.axes:
        out.append((ax, r, [t for t in ax.texts if isinstance(t, Annotation)]))
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_labels_do_not_overlap(case: str) -> None:
    rent, buy = CASES[case]
    fig = price_performance_figure(rent, buy, title=case)
    for (ax, r, anns), pts in zip(_labels(fig), (rent, buy), strict=True):
        boxes = [label_box(a, r) for a in anns]
        for (a1, b1), (a2, b2) in combinations(zip(anns, boxes, strict=True), 2):
            assert not b1.overlaps(b2), f"{case}: labels {a1.get_text()!r} and {a2.get_text()!r} overlap"
        inside = ax.get_window_extent(r)
        for a, b in zip(anns, boxes, strict=True):
            assert inside.x0 <= b.x0 and b.x1 <= inside.x1 and inside.y0 <= b.y0 and b.y1 <= inside.y1, f"{a.get_text()!r} leaves its panel"
            # no label covers the centre of another point's marker
            own = ax.transData.transform(a.xy)
            for _, x, y in pts:
                px, py = ax.transData.transform((x, y))
                if abs(px - own[0]) < 1e-6 and abs(py - own[1]) < 1e-6:
                    continue
                assert not b.contains(px, py), f"{case}: label {a.get_text()!r} covers the point at ({x}, {y})"


@pytest.mark.parametrize("case", sorted(CASES))
def test_named_points_are_the_best_value_ones_and_every_point_is_findable(case: str) -> None:
    rent, buy = CASES[case]
    fig = price_performance_figure(rent, buy, title=case)
    for (ax, _r, anns), pts in zip(_labels(fig), (rent, buy), strict=True):
        front = {pts[i][0] for i in pareto_front(pts)}
        drawn = {a.get_text() for a in anns}
        named = {n for t in drawn if not t.isdigit() for n in t.split(" / ")}
        front = {_label(n, PP_NAME) for n in front}
        assert named <= front, f"{case}: a point that is not best value is named on the chart: {named - front}"
        key = "\n".join(t.get_text() for t in ax.texts if not isinstance(t, Annotation))
        for name, _x, _y in pts:
            assert _label(name, PP_NAME) in named or _label(name) in key, f"{case}: {name!r} is neither named on the chart nor in its key"
        numbers = sorted(int(t) for t in drawn if t.isdigit())
        assert len(numbers) == len(set(numbers))


def test_report_case_names_every_best_value_point() -> None:
    """With the report's points there is room: every best-value point carries its name, every other one its number."""
    fig = price_performance_figure(RENT, BUY, title="8b")
    (_, _, rent_anns), (_, _, buy_anns) = _labels(fig)
    assert {a.get_text() for a in buy_anns if not a.get_text().isdigit()} == {
        "Jetson Orin Nano Super",
        "RTX 3060 12 GB",
        "RX 7900 XT",
        "RX 7900 XTX",
        "RTX 3090",
        "RTX 4090",
        "RTX 5090",
    }
    assert sorted(a.get_text() for a in buy_anns if a.get_text().isdigit()) == ["1", "2", "3"]
    assert sorted(a.get_text() for a in rent_anns) == ["1", "2", "3", "4", "verda/1V100.6V"]


def test_chart_svg_is_text_and_deterministic() -> None:
    a = price_performance_chart(RENT, BUY, salt="pp-x", title="8b")
    assert a == price_performance_chart(RENT, BUY, salt="pp-x", title="8b")
    assert "RTX 5090" in a and "<script" not in a


def test_price_axis_goes_log_when_prices_span_an_order_of_magnitude() -> None:
    fig = price_performance_figure(RENT, BUY, title="8b")
    rent_ax, buy_ax = fig.axes[:2]
    assert rent_ax.get_xscale() == "linear"  # 0.14 to 0.21 USD/h
    assert buy_ax.get_xscale() == "log"  # 249 to 3,999 USD: the cheap cluster stays apart
    assert "log scale" in buy_ax.get_xlabel()
