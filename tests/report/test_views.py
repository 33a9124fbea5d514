"""The report's "what to rent or buy" rows are hwbench.recommend's answer, shown, not worked out again."""

from __future__ import annotations

from typing import Any

import pytest

import hwbench.recommend
from hwbench.recommend import Candidate, Recommendation
from hwbench.report import views


def _rent(name: str, usd: float, meets: bool) -> Candidate:
    return Candidate(
        provider="acme",
        instance_type=name,
        region="mars-1",
        gpu_model="Q9000",
        gpu_count=1,
        verdict="gpu",
        verdict_text="fully on GPU",
        gen_tokens_per_s=42.0 if meets else 3.0,
        prompt_tokens_per_s=900.0,
        meets_target=meets,
        usd_per_hour=usd,
        as_of="2026-12-01",
        source="acme price list",
    )


def _buy(profile: str, n: int, gib: float, meets: bool) -> Candidate:
    return Candidate(
        option="buy",
        gpu_model=profile,
        gpu_profile=profile,
        gpu_count=n,
        gpu_memory_gib=gib,
        verdict="gpu",
        verdict_text="fully on GPU",
        gen_tokens_per_s=50.0 if meets else 5.0,
        meets_target=meets,
    )


def test_rows_come_from_recommend(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def fake_recommend(resolved: Any, settings: Any, **kw: Any) -> Recommendation:
        calls.append({"model": resolved.spec.name, "context": settings.context, **kw})
        return Recommendation(
            model=resolved.spec.name,
            params=resolved.spec.params,
            quant=resolved.quant.name,
            context=settings.context,
            model_source=resolved.source,
            target_tokens_per_s=kw["target_tokens_per_s"],
            candidates=[_rent("cheap-slow", 0.1, False), _rent("a", 0.5, True), _rent("b", 0.7, True)],
            buy=[_buy("Big GPU", 1, 80, True), _buy("Small GPU", 4, 12, True), _buy("Tiny GPU", 8, 8, False)],
            buy_vs_rent=["buying X = N hours of renting acme/a"],
            assumptions=["assumed: something"],
            considered=3,
        )

    monkeypatch.setattr(hwbench.recommend, "recommend", fake_recommend)
    recs, as_of, sources, assumptions = views.recommendation_views(["8b"], 20.0, 4096, None, top=1)
    (call,) = calls
    # one question to recommend: rent and buy together, the report's GPU shortlist, its target and context
    assert call["buy"] is True and call["first"] == 1 and call["target_tokens_per_s"] == 20.0 and call["context"] == 4096
    assert [g.name for g in call["buy_gpus"]] and len(call["buy_gpus"]) <= len(views.REPORT_BUY_GPUS)
    (v,) = recs
    assert [r["name"] for r in v["rent"]] == ["acme/a"]  # the first `top` that meet the target, in recommend's order
    # buy: every configuration recommend returned, those meeting the target first, smallest box first
    assert [b["name"] for b in v["buy"]] == ["4 x Small GPU", "1 x Big GPU", "8 x Tiny GPU"]
    assert v["buy_vs_rent"] == ["buying X = N hours of renting acme/a"]
    assert as_of == ["2026-12-01"] and sources == ["acme price list"] and assumptions == ["assumed: something"]


def test_buy_shortlist_reaches_recommend_buy() -> None:
    """recommend(buy=True, buy_gpus=...) ranks exactly the shortlisted GPUs (the report's question)."""
    from hwbench.profiles import find_gpu
    from hwbench.report.matrix import resolve_size
    from hwbench.schema import EstimateSettings

    gpus = [find_gpu("RTX 3090"), find_gpu("RTX 4090")]
    rec = hwbench.recommend.recommend(resolve_size("8b"), EstimateSettings(context=4096), first=1, buy=True, buy_gpus=gpus)
    assert {b.gpu_profile for b in rec.buy} == {g.name for g in gpus}
    assert rec.buy_vs_rent


@pytest.mark.parametrize("ram_gib", [7, 12])
def test_matrix_longest_context_is_the_estimators(ram_gib: int) -> None:
    """The fit matrix's "ctx <=" figure is the estimator's own longest-context answer (same search, same steps)."""
    from hwbench.estimate import estimate_fit
    from hwbench.report.matrix import fit_matrix, resolve_size
    from hwbench.schema import EstimateSettings, HardwareTarget

    hw = HardwareTarget(label="box", ram_bytes=ram_gib * 2**30, cpu_bandwidth_gbps=40.0, cpu_tflops=1.0)
    (row,) = fit_matrix(["8b"], hw, context=2048, quants=["Q4_K_M"])
    r = resolve_size("8b")
    est = estimate_fit(r.spec, r.quant, EstimateSettings(context=2048), hw, tensors=r.tensors, size_factor=r.size_factor)
    assert row.cells[0].max_context == est.max_context["cpu"]
    assert row.cells[0].max_context is not None and 256 < row.cells[0].max_context < 131072  # a real search, not an end point


def test_assumptions_of_every_target_model_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_recommend(resolved: Any, settings: Any, **kw: Any) -> Recommendation:
        return Recommendation(
            model=resolved.spec.name,
            params=resolved.spec.params,
            quant=resolved.quant.name,
            context=settings.context,
            model_source=resolved.source,
            target_tokens_per_s=None,
            assumptions=["shared", f"shape of {resolved.spec.name}"],
        )

    monkeypatch.setattr(hwbench.recommend, "recommend", fake_recommend)
    _, _, _, assumptions = views.recommendation_views(["8b", "70b"], None, 4096, None)
    assert assumptions == ["shared", "shape of llama-3.1-8b", "shape of llama-3.1-70b"]
