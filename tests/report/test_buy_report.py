"""The report's buy-or-rent answer (issue 12): prices with kind, date and age; break-even; two charts per model, also without a benchmark."""

from __future__ import annotations

import re

import pytest

from hwbench.profiles import parse_price_overrides
from hwbench.recommend import Ownership
from hwbench.report.html import build_report


@pytest.fixture(scope="module")
def no_bench() -> str:
    # no result files: the report of "this machine", as `hwbench report` writes it before any bench
    return build_report([], [], recommend_models=["8b"], generated_at="2026-12-02 12:00 UTC")


def test_charts_present_without_a_benchmark(no_bench: str) -> None:
    section = no_bench[no_bench.index('id="recommend"') : no_bench.index('id="method"')]
    assert "cumulative cost, buying vs the cheapest rentals" in section
    assert "estimated tokens/s against price" in section
    assert section.count("<svg") == 2


def test_summary_answers_buy_what_for_how_much_and_when(no_bench: str) -> None:
    summary = no_bench[: no_bench.index('id="recommend"')]
    m = re.search(r"cheapest to buy for 8b: (.+?) at ([\d,]+) USD .*?; buying pays off after ([^<]+)", summary)
    assert m, summary[-3000:]
    assert "months" in m.group(3) or "never" in m.group(3)


def test_ownership_figures_and_formulas_in_method(no_bench: str) -> None:
    method = no_bench[no_bench.index('id="method"') :]
    for key in ("buy_host_system_usd", "electricity_usd_per_kwh", "buy_hours_per_day", "buy_writeoff_years", "price_stale_days"):
        assert key in method
    assert "break-even hours = purchase USD / (rent USD/hour - power USD/hour" in method
    assert "prices older than 90 days on 2026-12-02 are flagged as old" in method


def test_rental_prices_carry_their_age(no_bench: str) -> None:
    assert "2026-11-29 (3 days)" in no_bench


def test_user_price_and_utilisation_change_the_answer() -> None:
    import datetime as dt

    today = dt.date.today().isoformat()  # a price given on the command line is as of the day it is given
    own = Ownership.default(hours_per_day=24, usd_per_kwh=0.1, host_usd=0, today=today)
    html = build_report([], [], recommend_models=["8b"], ownership=own, price_overrides=parse_price_overrides(["RTX 3090=500"]))
    row = html[html.index("1 x NVIDIA GeForce RTX 3090") :][:1500]
    assert "500 USD" in row and f"user, as of {today} (0 days)" in row
    assert "24 h/day" in html
