"""`recommend --concurrency N|auto` (issue 13): USD per million tokens at N users, ranked by it; the target per user."""

from __future__ import annotations

import json

import pytest

from hwbench.cli import main
from hwbench.cost import usd_per_million_tokens
from hwbench.estimate.fit import speed_inputs, verdict_only
from hwbench.recommend import _gpu_index, instance_target, recommend
from hwbench.resolve import resolve_model
from hwbench.schema import EstimateSettings
from tests.test_recommend import FLEET

S4K = EstimateSettings(context=4096)


@pytest.fixture(scope="module")
def m8b():
    return resolve_model(model="llama-3.1-8b", quant="q4_k_m")


def test_without_concurrency_the_recommendation_json_has_no_new_keys(m8b):
    d = recommend(m8b, S4K, target_tokens_per_s=30, instances=FLEET).model_dump(mode="json")
    assert "concurrency" not in d and "ranked_by" not in d
    assert all("concurrency" not in c and "aggregate_tokens_per_s" not in c for c in d["candidates"])


def test_fixed_concurrency_prices_the_aggregate_and_ranks_by_usd_per_mtok(m8b):
    rec = recommend(m8b, S4K, target_tokens_per_s=20, instances=FLEET, concurrency=8)
    assert rec.concurrency == 8 and "USD per million tokens at 8 sequences" in (rec.ranked_by or "")
    assert rec.candidates
    for c in rec.candidates:
        assert c.concurrency == 8 and c.aggregate_tokens_per_s and c.per_user_tokens_per_s
        assert c.aggregate_tokens_per_s == pytest.approx(8 * c.per_user_tokens_per_s, rel=2e-3)
        assert c.usd_per_million_tokens == usd_per_million_tokens(c.usd_per_hour, c.aggregate_tokens_per_s)
        assert c.meets_target == (c.per_user_tokens_per_s >= 20)
    meets = [c for c in rec.candidates if c.meets_target]
    assert meets and rec.candidates[: len(meets)] == meets
    assert [c.usd_per_million_tokens for c in meets] == sorted(c.usd_per_million_tokens for c in meets)
    one = recommend(m8b, S4K, target_tokens_per_s=20, instances=FLEET)
    by = {c.name: c for c in one.candidates}
    h100 = next(c for c in rec.candidates if c.name == "b/h100")
    assert h100.usd_per_million_tokens < by["b/h100"].usd_per_million_tokens  # 8 users share one GPU's hour


def test_auto_picks_the_most_users_that_each_still_get_the_target(m8b):
    rec = recommend(m8b, S4K, target_tokens_per_s=25, instances=FLEET, concurrency="auto")
    assert rec.concurrency == "auto"
    checked = 0
    for c in rec.candidates:
        if not c.meets_target or c.verdict != "gpu":
            continue
        n = c.concurrency
        assert n is not None and c.per_user_tokens_per_s >= 25
        # one more user would miss the target, or would not fit on the GPUs (the hardware the row was estimated on)
        inst = next(i for i in FLEET if f"{i.provider}/{i.instance_type}" == c.name)
        hw, _, _ = instance_target(inst, _gpu_index(None))
        assert hw is not None
        s_next = S4K.model_copy(update={"concurrency": n + 1})
        if verdict_only(m8b.spec, m8b.quant, s_next, hw, tensors=m8b.tensors, size_factor=m8b.size_factor) == "gpu":
            si = speed_inputs(m8b.spec, m8b.quant, s_next, hw, tensors=m8b.tensors, size_factor=m8b.size_factor)
            assert si is not None and 1 / si.step_time_s(n + 1) < 25
        checked += 1
    assert checked >= 2


def run(capsys, *args):
    try:
        rc = main(list(args))
    except SystemExit as e:
        rc = e.code
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_concurrency_json_and_table(capsys):
    rc, out, _ = run(capsys, "recommend", "--model", "llama-3.1-8b", "--concurrency", "4", "--provider", "runpod", "--json", "-n", "3")
    assert rc == 0
    d = json.loads(out)
    assert d["concurrency"] == 4 and d["ranked_by"].startswith("USD per million tokens at 4")
    assert all(c["concurrency"] == 4 for c in d["candidates"])
    rc, out, _ = run(capsys, "recommend", "--model", "llama-3.1-8b", "-np", "auto", "--provider", "runpod", "-n", "3")
    assert rc == 0 and "ranked by USD per million tokens at each row's best concurrency" in out and "aggregate tok/s" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--concurrency", "0"], "--concurrency 0 must be at least 1"),
        (["--concurrency", "-1"], "--concurrency -1 must be at least 1"),
        (["--concurrency", "abc"], "must be a whole number of parallel sequences (1 or more) or auto"),
        (["--concurrency", "300"], "between 1 and 256"),
        (["--concurrency", "auto", "--tokens-per-s", "0"], "--concurrency auto needs a per-user speed target"),
    ],
)
def test_cli_bad_concurrency_one_line_exit_2(capsys, args, needle):
    rc, _, err = run(capsys, "recommend", "--params", "8b", *args)
    assert rc == 2 and needle in err and len(err.strip().splitlines()) == 1
