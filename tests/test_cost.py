"""USD per million tokens: one rule, hand-checked, used by recommend and compare alike."""

from __future__ import annotations

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
