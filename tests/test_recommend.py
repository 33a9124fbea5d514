"""Ranking of rentable instances and GPUs to buy (hwbench.recommend) and the `recommend` command."""

from __future__ import annotations

import json

import pytest

from hwbench.cli import main
from hwbench.profiles import GpuProfile, InstanceProfile, find_gpu, load_gpus, load_instances
from hwbench.recommend import (
    Ownership,
    Recommendation,
    add_break_even,
    buy_vs_rent_lines,
    cloud_cpu_bandwidth_gbps,
    instance_target,
    recommend,
    recommend_buy,
)
from hwbench.resolve import resolve_model
from hwbench.schema import EstimateSettings

AS_OF = "2026-11-29"


def inst(provider: str, itype: str, **kw) -> InstanceProfile:
    base = {"provider": provider, "instance_type": itype, "as_of": AS_OF, "source": "test catalog"}
    base.update(kw)
    return InstanceProfile(**base)


def gpu_inst(provider: str, itype: str, gpu: str, n: int, price: float | None, **kw) -> InstanceProfile:
    g = find_gpu(gpu)
    return inst(
        provider,
        itype,
        kind="gpu",
        gpu_model=gpu,
        gpu_profile=g.name,
        gpu_count=n,
        vcpus=kw.pop("vcpus", 16),
        memory_gib=kw.pop("memory_gib", 128),
        price_usd_per_hour=price,
        **kw,
    )


@pytest.fixture(scope="module")
def m8b():
    return resolve_model(model="llama-3.1-8b", quant="q4_k_m")


@pytest.fixture(scope="module")
def m70b():
    return resolve_model(params="70b", quant="q4")


S8K = EstimateSettings(context=8192)

FLEET = [
    gpu_inst("a", "one-3090", "RTX 3090", 1, 0.30, spot_usd_per_hour=0.12),
    gpu_inst("a", "two-3090", "RTX 3090", 2, 0.60),
    gpu_inst("b", "h100", "H100 SXM5 80 GB", 1, 2.50, spot_usd_per_hour=1.10),
    gpu_inst("b", "t4", "Tesla T4", 1, 0.20),
    inst("c", "cpu-64", kind="cpu", vcpus=64, memory_gib=256, arch="x86_64", price_usd_per_hour=1.2),
    inst("c", "cpu-8", kind="cpu", vcpus=8, memory_gib=16, arch="arm64", price_usd_per_hour=0.05),
    inst("d", "tpu-v5", kind="tpu", gpu_model="TPU v5p", gpu_count=4, price_usd_per_hour=4.0),
    inst("d", "no-price", kind="gpu", gpu_model="H100", gpu_profile=find_gpu("H100 SXM5 80 GB").name, gpu_count=8, spot_usd_per_hour=9.0),
    inst("d", "unknown-gpu", kind="gpu", gpu_model="Mystery", gpu_count=1, price_usd_per_hour=0.01),
]


def test_usd_per_million_tokens_formula(m8b):
    rec = recommend(m8b, S8K, target_tokens_per_s=None, instances=FLEET)
    for c in rec.candidates:
        assert c.usd_per_hour is not None and c.gen_tokens_per_s > 0
        assert c.usd_per_million_tokens == pytest.approx(c.usd_per_hour / (c.gen_tokens_per_s * 3600) * 1e6, rel=1e-3)
        assert c.as_of == AS_OF and c.source == "test catalog"


def test_cheapest_meeting_target_first_then_the_rest_fastest_first(m8b):
    rec = recommend(m8b, S8K, target_tokens_per_s=30, instances=FLEET)
    meets = [c for c in rec.candidates if c.meets_target]
    rest = [c for c in rec.candidates if not c.meets_target]
    assert meets and rec.candidates[: len(meets)] == meets
    assert [c.usd_per_hour for c in meets] == sorted(c.usd_per_hour for c in meets)
    assert [c.gen_tokens_per_s for c in rest] == sorted((c.gen_tokens_per_s for c in rest), reverse=True)
    assert all(c.gen_tokens_per_s >= 30 for c in meets)
    assert rec.candidates[0].name == "b/t4"  # 0.20 USD/h and fast enough for an 8B Q4
    names = [c.name for c in rec.candidates]
    assert names.index("a/one-3090") < names.index("a/two-3090") < names.index("b/h100")


def test_skips_are_counted_and_never_priced(m8b):
    rec = recommend(m8b, S8K, instances=FLEET)
    names = {c.name for c in rec.candidates}
    assert "d/tpu-v5" not in names and "d/no-price" not in names and "d/unknown-gpu" not in names
    assert rec.skipped["TPU (llama.cpp does not run on it)"] == 1
    assert rec.skipped["no on-demand price"] == 1
    assert rec.skipped["GPU without a spec profile"] == 1
    assert rec.considered == len(FLEET)
    assert rec.prices_as_of == [AS_OF]


def test_spot_uses_spot_prices_only(m8b):
    rec = recommend(m8b, S8K, spot=True, instances=FLEET)
    by = {c.name: c for c in rec.candidates}
    assert set(by) == {"a/one-3090", "b/h100", "d/no-price"}
    assert by["a/one-3090"].usd_per_hour == 0.12 and by["a/one-3090"].price_kind == "spot"
    assert rec.skipped == {"no spot price": len(FLEET) - 3}


def test_provider_and_max_price_filters(m8b):
    rec = recommend(m8b, S8K, providers=["a"], max_usd_per_hour=0.5, instances=FLEET)
    assert [c.name for c in rec.candidates] == ["a/one-3090"]
    assert rec.considered == 2 and rec.skipped == {"over 0.5 USD/hour": 1}


def test_70b_does_not_fit_small_boxes_and_partial_is_labelled(m70b):
    rec = recommend(m70b, S8K, target_tokens_per_s=None, instances=FLEET)
    by = {c.name: c for c in rec.candidates}
    assert "c/cpu-8" not in by  # 16 GiB RAM: 70B Q4 does not fit
    assert rec.skipped.get("model does not fit in its memory", 0) >= 1
    assert by["b/h100"].verdict == "gpu"
    assert by["a/one-3090"].verdict == "partial"
    assert by["c/cpu-64"].verdict == "cpu"
    assert by["b/h100"].gen_tokens_per_s > by["a/one-3090"].gen_tokens_per_s > 0


def test_instance_target_labels_assumptions():
    gpus = {g.name.lower(): g for g in load_gpus()}
    t, assumptions, why = instance_target(gpu_inst("x", "y", "RTX 3090", 2, 1.0, memory_gib=None), gpus)
    assert why is None and t is not None
    assert len(t.gpus) == 2 and t.ram_source == "assumed" and t.cpu_bandwidth_source == "assumed"
    assert any("host RAM not in the catalog" in a for a in assumptions)
    assert any("CPU memory bandwidth assumed" in a for a in assumptions)
    # catalog memory per GPU wins over the profile (what the provider exposes)
    t2, _, _ = instance_target(gpu_inst("x", "y", "A10G", 1, 1.0, gpu_memory_gib=22.35), gpus)
    assert t2 is not None and t2.gpus[0].memory_bytes == int(22.35 * 2**30)
    # a fractional GPU: one device with a share of the bandwidth
    t3, a3, _ = instance_target(gpu_inst("x", "y", "L4", 1, 1.0, gpu_memory_gib=5.59).model_copy(update={"gpu_count": 0.25}), gpus)
    assert t3 is not None and len(t3.gpus) == 1 and any("fractional" in a for a in a3)
    # a profile without a memory size: the catalog's memory per GPU, everything else from the profile as for any other
    prof = gpus["nvidia a10g"]
    bare = {"bare": prof.model_copy(update={"name": "bare", "memory_gib": None, "unified_memory": True})}
    on_bare = gpu_inst("x", "y", "A10G", 1, 1.0).model_copy(update={"gpu_profile": "bare"})
    t4, _, why4 = instance_target(on_bare.model_copy(update={"gpu_memory_gib": 16.0}), bare)
    assert why4 is None and t4 is not None
    g4 = t4.gpus[0]
    assert g4.memory_bytes == 16 * 2**30 and g4.unified_memory and g4.profile_source and g4.power_w == prof.tdp_w
    assert instance_target(on_bare.model_copy(update={"gpu_memory_gib": None}), bare)[2] == "GPU memory size unknown"

def test_cloud_and_detected_vms_share_one_bandwidth_rule():
    # one rule (hwbench/assumptions.py), for a rented VM and a detected one alike: the assumed CPU
    # bandwidth (40 GB/s) as a floor, 2.5 GB/s per vCPU above that, at most 250 GB/s
    from hwbench.hardware import assumed_cpu_bandwidth

    assert cloud_cpu_bandwidth_gbps(2) == 40.0 == assumed_cpu_bandwidth(2, True)
    assert cloud_cpu_bandwidth_gbps(64) == 160.0 == assumed_cpu_bandwidth(64, True)
    assert cloud_cpu_bandwidth_gbps(1000) == 250.0
    assert cloud_cpu_bandwidth_gbps(None) == 40.0  # vCPUs unknown: 4 assumed
    assert assumed_cpu_bandwidth(64, False) == 40.0  # bare metal: a desktop's figure


def test_buy_says_no_purchase_price_known(m70b):
    unpriced = [g.model_copy(update={"price_usd": None, "price_source": None}) for g in load_gpus()]
    rec = recommend(m70b, S8K, target_tokens_per_s=20, buy=True, instances=FLEET, buy_gpus=unpriced)
    assert rec.buy, "some GPU configuration holds a 70B Q4"
    assert all(b.purchase_usd is None and any("no purchase price known" in n for n in b.notes) for b in rec.buy)
    assert all(b.verdict == "gpu" and 1 <= b.gpu_count <= 8 for b in rec.buy)
    assert rec.buy_vs_rent and "no purchase price known" in rec.buy_vs_rent[0]
    by = {b.gpu_profile: b for b in rec.buy}
    assert by[find_gpu("RTX 3090").name].gpu_count == 2  # 2 x 24 GB hold a 70B Q4_K_M at 8k context


def test_buy_vs_rent_uses_a_sourced_purchase_price(m8b):
    g = find_gpu("RTX 3090")
    priced = GpuProfile(**{**g.model_dump(), "price_usd": 800.0, "price_source": "test shop, 2026-11-01"})
    # no host allowance, free electricity: the break-even is the price over the rent, 800 / 0.2 = 4,000 hours
    own = Ownership.default(host_usd=0, usd_per_kwh=0, hours_per_day=8, today="2026-12-02")
    buy = recommend_buy(m8b, S8K, target_tokens_per_s=10, gpus=[priced], ownership=own)
    rec = Recommendation(
        model="m",
        params=1,
        quant="Q4_K_M",
        context=8192,
        model_source="t",
        target_tokens_per_s=10,
        buy=buy,
        candidates=recommend(m8b, S8K, target_tokens_per_s=10, instances=FLEET).candidates,
        ownership=own.model_dump(),
    )
    add_break_even(rec.buy, rec.candidates, own)
    lines = buy_vs_rent_lines(rec)
    assert buy[0].purchase_usd == 800.0
    assert "800 USD" in lines[0] and "4,000 hours" in lines[0] and "b/t4" in lines[0]
    assert buy[0].break_even_months == round(4000 / (8 * 365.25 / 12), 2)


def test_bundled_profiles_rank_quickly(m70b, monkeypatch):
    # quick, counted rather than timed (a 20 s wall-clock bound failed on a loaded machine): at most one estimate per
    # distinct hardware (memoised), each without the follow-up searches (best quant, longest context, GPUs needed)
    import hwbench.estimate as est_mod
    from hwbench.recommend import _gpu_index, instance_target

    calls: list[dict] = []
    real = est_mod.estimate_fit

    def counting(*a, **k):
        calls.append(k)
        return real(*a, **k)

    monkeypatch.setattr(est_mod, "estimate_fit", counting)
    rec = recommend(m70b, S8K, target_tokens_per_s=20)
    insts = load_instances()
    assert rec.considered == len(insts)
    gpus = _gpu_index(None)
    targets = [instance_target(i, gpus)[0] for i in insts]
    # distinct hardware, keyed here on everything but the label (not on recommend's own memo key, which this checks)
    distinct = {t.model_dump_json(exclude={"label"}) for t in targets if t is not None}
    assert 0 < len(calls) <= len(distinct) + 1 < len(insts), (len(calls), len(distinct), len(insts))  # +1: the weights bound
    assert all(k.get("follow_ups") is False for k in calls)
    assert rec.candidates[0].meets_target and rec.candidates[0].verdict in ("gpu", "partial")


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ex:
        main(list(args))
    out, err = capsys.readouterr()
    return int(ex.value.code or 0), out, err


def test_cli_table_shows_price_date_and_assumptions(capsys):
    rc, out, _ = run(capsys, "recommend", "--params", "8b", "--provider", "runpod,lambda", "--limit", "5")
    assert rc == 0
    assert "prices as of 2026-11-29" in out
    assert "USD/M tok" in out and "assumed:" in out


def test_cli_json(capsys):
    rc, out, _ = run(capsys, "recommend", "--model", "llama-3.1-8b", "--tokens-per-s", "30", "--spot", "--json", "-n", "3")
    d = json.loads(out)
    assert rc == 0 and d["spot"] is True and len(d["candidates"]) == 3
    assert all(c["price_kind"] == "spot" for c in d["candidates"])


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--params", "8b", "--provider", "hetzner"], "hetzner"),
        (["--params", "8b", "--tokens-per-s", "-1"], "--tokens-per-s"),
        (["--params", "8b", "--tokens-per-s", "nan"], "--tokens-per-s"),
        (["--params", "8b", "--max-usd-hour", "inf"], "--max-usd-hour"),
        (["--params", "8b", "--provider", ",,"], "--provider"),
        (["--params", "8b", "--max-usd-hour", "0"], "--max-usd-hour"),
        (["--params", "8b", "--context", "0"], "--context"),
        ([], "say which model"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(capsys, args, needle):
    rc, _, err = run(capsys, "recommend", *args)
    assert rc == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_first_n_stops_at_the_cheapest_meeting_the_target(m8b):
    full = recommend(m8b, S8K, target_tokens_per_s=30, instances=FLEET)
    early = recommend(m8b, S8K, target_tokens_per_s=30, instances=FLEET, first=2)
    want = [c.name for c in full.candidates if c.meets_target][:2]
    assert [c.name for c in early.candidates if c.meets_target] == want
    assert early.stopped_early and early.considered < full.considered
