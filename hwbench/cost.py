"""What a token costs: the one home of the USD-per-million-tokens rule, used by `recommend`, `compare` and the report."""

from __future__ import annotations

import math

USD_PER_MTOK_TEXT = "USD per million tokens = USD/hour / (tokens/s x 3600) x 1,000,000"


USD_PER_MTOK_SERVING_TEXT = (
    "serving N users at once (--concurrency): USD per million tokens = USD/hour / (aggregate generation tokens/s of all N "
    "sequences x 3600) x 1,000,000; each user gets the per-user tokens/s"
)


def usd_per_million_tokens(usd_per_hour: float | None, tokens_per_s: float | None) -> float | None:
    """USD per 10^6 tokens at a sustained rate; None when the price or the rate is unknown or zero."""
    if not usd_per_hour or not tokens_per_s or tokens_per_s <= 0:
        return None
    return round(usd_per_hour / (tokens_per_s * 3600) * 1e6, 4)


def tokens_per_s_per_usd_hour(usd_per_hour: float | None, tokens_per_s: float | None) -> float | None:
    """tokens/s bought by one USD/hour (higher is better value); None when the price is unknown or zero."""
    if not usd_per_hour or tokens_per_s is None:
        return None
    return round(tokens_per_s / usd_per_hour, 3)


# ----------------------------------------------------------------------------- owning: power, amortised purchase, break-even

DAYS_PER_MONTH = 365.25 / 12  # calendar average, not an assumption: 30.4375 days

OWNED_USD_PER_HOUR_TEXT = (
    "owned USD/hour = purchase USD / (years x 365.25 x hours/day) + power W / 1000 x USD/kWh "
    "(the purchase spread over the hours the machine is used in its write-off period)"
)
BREAK_EVEN_TEXT = (
    "break-even hours = purchase USD / (rent USD/hour - power USD/hour of the owned machine); "
    "months = hours / (hours/day x 30.44); never when renting costs no more per hour than the power to own"
)


def _finite(name: str, v: float, *, positive: bool = False) -> float:
    """``v`` as a finite number >= 0 (> 0 with ``positive``); ValueError naming ``name`` otherwise."""
    if v is None or not math.isfinite(v) or v < 0 or (positive and v == 0):
        raise ValueError(f"{name} must be a {'positive' if positive else 'non-negative'} finite number, not {v!r}")
    return float(v)


def power_usd_per_hour(watts: float, usd_per_kwh: float) -> float:
    """What running ``watts`` for one hour costs at ``usd_per_kwh``."""
    return _finite("power (W)", watts) / 1000 * _finite("electricity price (USD/kWh)", usd_per_kwh)


def owned_usd_per_hour(purchase_usd: float, watts: float, usd_per_kwh: float, hours_per_day: float, years: float) -> float:
    """An owned machine's cost per hour of use: the purchase spread over its write-off period's used hours, plus power."""
    hours = _finite("hours per day", hours_per_day, positive=True)
    if hours > 24:
        raise ValueError(f"hours per day must be at most 24, not {hours_per_day!r}")
    used_hours = _finite("write-off years", years, positive=True) * 365.25 * hours
    return _finite("purchase price (USD)", purchase_usd) / used_hours + power_usd_per_hour(watts, usd_per_kwh)


def break_even_hours(purchase_usd: float, rent_usd_per_hour: float, own_power_usd_per_hour: float) -> float | None:
    """Hours of use after which buying has cost less than renting; None when it never does (rent <= power)."""
    p = _finite("purchase price (USD)", purchase_usd)
    saved = _finite("rent (USD/hour)", rent_usd_per_hour) - _finite("power (USD/hour)", own_power_usd_per_hour)
    if saved <= 0:
        return None
    return p / saved


def hours_to_months(hours: float, hours_per_day: float) -> float:
    return _finite("hours", hours) / (_finite("hours per day", hours_per_day, positive=True) * DAYS_PER_MONTH)


def cumulative_usd(upfront_usd: float, usd_per_hour: float, hours_per_day: float, months: float) -> float:
    """Money spent after ``months`` of use at ``hours_per_day``: upfront + hourly x hours (buying: price + power; renting: 0 + rent)."""
    hours = _finite("hours per day", hours_per_day, positive=True) * DAYS_PER_MONTH * _finite("months", months)
    return _finite("upfront (USD)", upfront_usd) + _finite("USD/hour", usd_per_hour) * hours


def price_age_days(as_of: str | None, today: str) -> int | None:
    """Days from a price's as_of date (YYYY-MM-DD or YYYY-MM) to ``today``; None when the date cannot be read."""
    import datetime as dt

    if not as_of:
        return None
    text = str(as_of).strip()[:10]
    for fmt in ("%Y-%m-%d", "%Y-%m"):
        try:
            then = dt.datetime.strptime(text if fmt == "%Y-%m-%d" else text[:7], fmt).date()
            return (dt.date.fromisoformat(today) - then).days
        except ValueError:
            continue
    return None
