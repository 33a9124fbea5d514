"""What a token costs: the one home of the USD-per-million-tokens rule, used by `recommend`, `compare` and the report."""

from __future__ import annotations

USD_PER_MTOK_TEXT = "USD per million tokens = USD/hour / (tokens/s x 3600) x 1,000,000"


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
