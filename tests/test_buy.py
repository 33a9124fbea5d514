"""Buy or rent: sourced purchase prices, user overrides, owned cost and the break-even (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hwbench import cost
from hwbench.cli import cli
from hwbench.errors import BadInput, ProfileError
from hwbench.profiles import BUNDLED_DIR, find_gpu, load_gpu_prices, load_gpus, parse_price_overrides
from hwbench.recommend import COMPLETE_SYSTEM, Ownership, buyable, recommend
from hwbench.resolve import resolve_model
from hwbench.schema import EstimateSettings

# the GPUs `recommend --buy` most often answers with: each must carry a sourced price
MUST_HAVE = [
    "RTX 3060 12GB", "RTX 3090", "RTX 4060 Ti 16GB", "RTX 4090", "RTX 5090", "RTX A6000", "RTX 6000 Ada",
    "RTX PRO 6000 Blackwell", "A100 SXM4 40GB", "H100 SXM5", "A10", "Radeon RX 7900 XTX", "Radeon RX 7900 XT",
    "M3 Ultra 60-core", "M4 Max 32-core", "GB10", "Jetson Orin Nano Super",
]  # fmt: skip
KINDS = {"launch MSRP", "launch list price", "release price", COMPLETE_SYSTEM}


def _rec(model: str = "llama-3.1-8b", **kw):  # type: ignore[no-untyped-def]
    r = resolve_model(model=model, params=None, active_params=None, gguf=None, quant=None, extra_dir=None)
    return recommend(r, EstimateSettings(context=8192), buy=True, **kw)


def test_every_bundled_price_is_sourced_dated_and_of_a_known_kind() -> None:
    names = {g.name for g in load_gpus()}
    prices = load_gpu_prices()
    assert len(prices) >= 60
    for p in prices:
        assert p.gpu in names, p.gpu
        assert p.price_kind in KINDS, p
        assert len(p.source) > 20 and ("http" in p.source or "dataset" in p.source or "Wikipedia" in p.source), p
        assert cost.price_age_days(p.as_of, "2026-12-02") is not None and cost.price_age_days(p.as_of, "2026-12-02") >= 0, p
        if p.price_kind == COMPLETE_SYSTEM:
            assert p.what, p


@pytest.mark.parametrize("name", MUST_HAVE)
def test_usual_answers_have_a_price(name: str) -> None:
    g = find_gpu(name)
    assert g.price_usd and g.price_source and g.price_kind and g.price_as_of, g.name


def test_missing_list_is_true() -> None:
    text = (BUNDLED_DIR / "MISSING_PRICES.md").read_text(encoding="utf-8")
    listed = {line[2:].strip() for line in text.splitlines() if line.startswith("- ")}
    missing = {g.name for g in load_gpus() if buyable(g) and not g.price_usd}
    assert listed == missing


def test_buy_rows_carry_owned_cost_and_break_even_hand_checked() -> None:
    own = Ownership.default(host_usd=1000, usd_per_kwh=0.2, hours_per_day=10, today="2026-12-02")
    rec = _rec(ownership=own)
    row = next(b for b in rec.buy if b.gpu_profile == find_gpu("RTX 3090").name)
    # 1 x RTX 3090: 1,499 USD launch MSRP + 1,000 host; 350 W board power + the assumed host power
    assert row.gpus_usd == 1499 and row.host_usd == 1000 and row.purchase_usd == 2499
    assert row.purchase_price_kind == "launch MSRP" and row.as_of == "2020-09-24"
    assert row.power_w == 350 + own.host_power_w
    assert row.power_usd_per_hour == pytest.approx(row.power_w / 1000 * 0.2, abs=1e-4)
    owned = 2499 / (own.writeoff_years * 365.25 * 10) + row.power_w / 1000 * 0.2
    assert row.owned_usd_per_hour == pytest.approx(owned, abs=1e-4)
    assert row.owned_usd_per_million_tokens == pytest.approx(owned / (row.gen_tokens_per_s * 3600) * 1e6, rel=1e-3)
    rent = min((c for c in rec.candidates if c.meets_target and c.usd_per_hour), key=lambda c: c.usd_per_hour or 0)
    assert row.break_even_vs == rent.name and row.break_even_rent_usd_per_hour == rent.usd_per_hour
    assert rent.usd_per_hour is not None
    saved = rent.usd_per_hour - row.power_w / 1000 * 0.2
    if saved > 0:
        assert row.break_even_hours == pytest.approx(2499 / saved, abs=0.1)
        assert row.break_even_months == pytest.approx(2499 / saved / (10 * 365.25 / 12), abs=0.01)
    else:
        assert row.break_even_hours is None
    # a launch price from 2020 is old on 2026-12-02; the rental catalog of 2026-11-29 is not
    # 2020-09-24 -> 2026-09-24: 6 x 365 + 1 (29 Feb 2024); -> 2026-12-02: 6 + 31 + 30 + 2 = 69 more
    assert row.price_age_days == 6 * 365 + 1 + 69 and row.price_stale
    assert rent.price_age_days == 3 and not rent.price_stale


def test_complete_system_gets_no_host_allowance_and_is_estimated_as_priced() -> None:
    rec = _rec(ownership=Ownership.default(host_usd=1000, today="2026-12-02"))
    mac = next(b for b in rec.buy if b.gpu_profile == find_gpu("M3 Ultra 60-core").name)
    assert mac.purchase_usd == 3999 and mac.host_usd == 0
    assert mac.gpu_memory_gib == 96  # the Mac Studio the price buys, not the 256 GB maximum
    assert mac.power_w is None and any("power draw unknown" in n for n in mac.notes)


def test_price_override_replaces_the_launch_price() -> None:
    ov = parse_price_overrides(["RTX 3090=700"])
    rec = _rec(price_overrides=ov, ownership=Ownership.default(host_usd=0, today="2026-12-02"))
    row = next(b for b in rec.buy if b.gpu_profile == find_gpu("RTX 3090").name)
    assert row.purchase_usd == 700 and row.purchase_price_kind == "user" and "--price" in (row.purchase_source or "")
    assert not row.price_stale


@pytest.mark.parametrize("spec", ["RTX 3090=-5", "RTX 3090=nan", "RTX 3090=inf", "RTX 3090=0", "RTX 3090", "=700", "RTX 3090=cheap"])
def test_bad_price_override_is_one_clear_error(spec: str) -> None:
    with pytest.raises(BadInput, match="--price"):
        parse_price_overrides([spec])


def test_unknown_gpu_in_price_override() -> None:
    with pytest.raises(BadInput, match="unknown GPU"):
        parse_price_overrides(["RTX 9999 Hyper=700"])


def test_user_price_file_overrides_and_bad_one_is_refused(tmp_path: Path) -> None:
    (tmp_path / "gpu_prices_mine.yaml").write_text(
        "prices:\n- gpu: RTX 4090\n  price_usd: 1800\n  price_kind: street/used\n  source: my local shop\n  as_of: 2026-11-30\n"
    )
    g = find_gpu("RTX 4090", str(tmp_path))
    assert (g.price_usd, g.price_kind, g.price_as_of) == (1800, "street/used", "2026-11-30")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "gpu_prices_x.yaml").write_text(
        "prices:\n- gpu: RTX 4090\n  price_usd: .nan\n  price_kind: x\n  source: y\n  as_of: '2026-01-01'\n"
    )
    with pytest.raises(ProfileError, match="price_usd"):
        load_gpus(str(bad))
    neg = tmp_path / "neg"
    neg.mkdir()
    (neg / "gpu_prices_x.yaml").write_text(
        "prices:\n- gpu: RTX 4090\n  price_usd: -3\n  price_kind: x\n  source: y\n  as_of: '2026-01-01'\n"
    )
    with pytest.raises(ProfileError, match="price_usd"):
        load_gpus(str(neg))


# ----------------------------------------------------------------------------- CLI


def test_recommend_buy_json_carries_the_fields() -> None:
    r = CliRunner().invoke(
        cli,
        [
            "recommend",
            "--model",
            "llama-3.1-8b",
            "--buy",
            "--json",
            "--price",
            "RTX 3090=700",
            "--kwh-price",
            "0.3",
            "--hours-per-day",
            "12",
            "--host-usd",
            "900",
        ],
    )
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["ownership"]["usd_per_kwh"] == 0.3 and d["ownership"]["hours_per_day"] == 12 and d["ownership"]["host_usd"] == 900
    row = next(b for b in d["buy"] if b["gpu_profile"] == find_gpu("RTX 3090").name)
    assert row["purchase_usd"] == 1600 and row["purchase_price_kind"] == "user"
    for key in (
        "power_w",
        "owned_usd_per_hour",
        "owned_usd_per_million_tokens",
        "break_even_vs",
        "break_even_hours",
        "break_even_months",
        "price_age_days",
        "as_of",
        "purchase_source",
    ):
        assert key in row
    assert any("break-even" in f for f in d["formulas"])
    assert all("price_age_days" in c for c in d["candidates"])


@pytest.mark.parametrize(
    "args",
    [
        ["--price", "RTX 9999 Hyper=700"],
        ["--price", "RTX 3090=-1"],
        ["--price", "RTX 3090=nan"],
        ["--hours-per-day", "0"],
        ["--hours-per-day", "25"],
        ["--kwh-price", "-0.1"],
        ["--kwh-price", "nan"],
        ["--host-usd", "-1"],
    ],
)
def test_bad_buy_options_exit_2_with_one_line(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from hwbench.cli import main

    with pytest.raises(SystemExit) as e:
        main(["recommend", "--params", "8b", "--buy", *args])
    err = capsys.readouterr().err
    assert e.value.code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "error:" in err, err


def test_table_shows_price_kind_age_and_break_even() -> None:
    r = CliRunner().invoke(cli, ["recommend", "--model", "llama-3.1-8b", "--buy", "-n", "40"])
    assert r.exit_code == 0, r.output
    assert "launch MSRP" in r.output and "(old)" in r.output and "months" in r.output
    assert "pays off after" in r.output


def test_profiles_validate_checks_price_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hwbench.cli import main

    (tmp_path / "gpu_prices_a.yaml").write_text(
        "prices:\n- gpu: RTX 9999 Hyper\n  price_usd: 5\n  price_kind: used\n  source: a shop\n  as_of: '2026-11-01'\n"
    )
    (tmp_path / "gpu_prices_b.yaml").write_text(
        "prices:\n- gpu: RTX 3090\n  price_usd: 650\n  price_kind: used\n  source: a shop\n  as_of: 2026-13-01\n"
    )
    with pytest.raises(SystemExit) as e:
        main(["profiles", "validate", str(tmp_path)])
    out = capsys.readouterr()
    assert e.value.code == 2
    assert "'RTX 9999 Hyper' is not a known GPU profile" in out.out
    assert "quote dates" in out.out and "Traceback" not in out.out + out.err


def test_bundled_price_file_validates(capsys: pytest.CaptureFixture[str]) -> None:
    from hwbench.commands.profiles import validate_dir

    rep = next(r for r in validate_dir(None) if r.path.name == "gpu_prices.yaml")
    assert rep.kind == "prices" and rep.entries == len(load_gpu_prices()) and not rep.errors and not rep.warnings
