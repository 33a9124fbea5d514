"""USD per million tokens: one rule, hand-checked, used by recommend and compare alike."""

from __future__ import annotations

import math

import pytest

from hwbench import cost
from hwbench.cost import tokens_per_s_per_usd_hour, usd_per_million_tokens


def test_hand_checked() -> None:
    # 2 USD/h at 100 tokens/s: 360,000 tokens cost 2 USD -> 5.5556 USD per million
    assert usd_per_million_tokens(2.0, 100.0) == 5.5556
    assert tokens_per_s_per_usd_hour(2.0, 100.0) == 50.0


def test_unknown_or_zero_is_none_never_a_crash() -> None:
    assert usd_per_million_tokens(None, 100.0) is None
    assert usd_per_million_tokens(2.0, 0.0) is None
    assert usd_per_million_tokens(2.0, None) is None
    assert tokens_per_s_per_usd_hour(None, 10.0) is None
    assert tokens_per_s_per_usd_hour(0.0, 10.0) is None


def test_recommend_and_compare_share_the_rule() -> None:
    import hwbench.compare as compare
    import hwbench.recommend as recommend

    assert recommend.usd_per_million_tokens is usd_per_million_tokens
    assert compare.usd_per_million_tokens is usd_per_million_tokens
    assert "USD per million generated tokens = USD/hour / (generation tokens/s x 3600) x 1,000,000" in recommend.USD_PER_MTOK_FORMULA


# ----------------------------------------------------------------------------- owning, hand-checked


def test_power_cost_hand_checked() -> None:
    # 450 W for one hour = 0.45 kWh; at 0.20 USD/kWh = 0.09 USD
    assert cost.power_usd_per_hour(450, 0.20) == pytest.approx(0.09)
    assert cost.power_usd_per_hour(0, 0.20) == 0.0


def test_owned_cost_per_hour_hand_checked() -> None:
    # 2,190 USD over 1 year at 6 h/day = 2,191.5 used hours -> 0.99932 USD/h; + 500 W at 0.10 = 0.05 USD/h
    got = cost.owned_usd_per_hour(2190, 500, 0.10, 6, 1)
    assert got == pytest.approx(2190 / 2191.5 + 0.05)
    assert got == pytest.approx(1.04932, abs=1e-5)
    # twice the hours a day halves the purchase share, power per hour stays
    assert cost.owned_usd_per_hour(2190, 500, 0.10, 12, 1) == pytest.approx(2190 / 4383 + 0.05)


def test_break_even_hand_checked() -> None:
    # buy for 1,000 USD, power 0.05 USD/h, rent 0.55 USD/h: each hour owned saves 0.50 -> 2,000 hours
    assert cost.break_even_hours(1000, 0.55, 0.05) == pytest.approx(2000)
    # 2,000 hours at 8 h/day = 250 days = 250 / 30.4375 months
    assert cost.hours_to_months(2000, 8) == pytest.approx(8.2136, abs=1e-4)
    # renting no dearer than the power to own: never pays off
    assert cost.break_even_hours(1000, 0.05, 0.05) is None
    assert cost.break_even_hours(1000, 0.01, 0.05) is None


def test_cumulative_cost_hand_checked() -> None:
    # 12 months x 30.4375 days x 10 h = 3,652.5 hours; buy: 2,000 + 0.04 x 3,652.5 = 2,146.1; rent: 0.5 x 3,652.5 = 1,826.25
    assert cost.cumulative_usd(2000, 0.04, 10, 12) == pytest.approx(2146.1)
    assert cost.cumulative_usd(0, 0.5, 10, 12) == pytest.approx(1826.25)
    assert cost.cumulative_usd(2000, 0.04, 10, 0) == 2000


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_bad_numbers_are_refused(bad: float) -> None:
    with pytest.raises(ValueError):
        cost.power_usd_per_hour(bad, 0.1)
    with pytest.raises(ValueError):
        cost.power_usd_per_hour(100, bad)
    with pytest.raises(ValueError):
        cost.owned_usd_per_hour(bad, 100, 0.1, 8, 3)
    with pytest.raises(ValueError):
        cost.break_even_hours(bad, 1.0, 0.1)
    with pytest.raises(ValueError):
        cost.break_even_hours(1000, bad, 0.1)


@pytest.mark.parametrize("hours", [0.0, -2.0, 25.0, math.nan])
def test_zero_or_impossible_utilisation_is_refused(hours: float) -> None:
    with pytest.raises(ValueError):
        cost.owned_usd_per_hour(1000, 100, 0.1, hours, 3)
    if hours <= 0 or math.isnan(hours):
        with pytest.raises(ValueError):
            cost.hours_to_months(100, hours)


def test_price_age() -> None:
    assert cost.price_age_days("2026-09-03", "2026-12-02") == 90
    assert cost.price_age_days("2026-12", "2026-12-02") == 1
    assert cost.price_age_days(None, "2026-12-02") is None
    assert cost.price_age_days("soon", "2026-12-02") is None
