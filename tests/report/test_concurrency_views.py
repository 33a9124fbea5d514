"""The report's "what to rent" with --concurrency (issue 13): per-user and aggregate speed, ranked by USD per million tokens."""

from __future__ import annotations

import pytest

from hwbench.report import views


def test_rent_rows_at_a_concurrency_show_users_and_rank_by_usd_per_mtok() -> None:
    recs, _, _, assumptions = views.recommendation_views(["8b"], 20.0, 4096, None, top=3, concurrency=4)
    (v,) = recs
    assert v["rent"] and "--concurrency 4" in v["concurrency_text"] and "ranked by USD per million tokens" in v["concurrency_text"]
    for r in v["rent"]:
        assert r["users"] == 4 and r["gen"] >= 20
        assert r["aggregate"] == pytest.approx(4 * r["gen"], rel=2e-3)
    mtok = [r["usd_mtok"] for r in v["rent"]]
    assert mtok == sorted(mtok)
    assert any("serving the row's concurrency" in a for a in assumptions)


def test_without_concurrency_rows_are_one_stream() -> None:
    recs, _, _, _ = views.recommendation_views(["8b"], 20.0, 4096, None, top=2)
    (v,) = recs
    assert v["concurrency_text"] == "" and all(r["users"] is None and r["aggregate"] is None for r in v["rent"])
