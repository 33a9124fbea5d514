"""`hwbench profiles list|show|validate`, bundled and user profile directories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwbench.cli import main
from hwbench.profiles import load_gpus, load_instances, load_models


@pytest.fixture(autouse=True)
def _fresh_profile_caches():
    for f in (load_gpus, load_instances, load_models):
        f.cache_clear()
    yield
    for f in (load_gpus, load_instances, load_models):
        f.cache_clear()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ex:
        main(list(args))
    out, err = capsys.readouterr()
    return int(ex.value.code or 0), out, err


USER_INSTANCES = """\
as_of: '2026-11-01'
instances:
  - provider: myco
    instance_type: box-3090
    kind: gpu
    gpu_model: RTX 3090
    gpu_profile: NVIDIA GeForce RTX 3090
    gpu_count: 2
    vcpus: 16
    memory_gib: 64
    price_usd_per_hour: 0.55
    as_of: '2026-11-01'
    source: quote from myco sales, e-mail of 2026-11-01
"""


def test_list_summary_shows_counts_and_price_dates(capsys):
    rc, out, _ = run(capsys, "profiles", "list")
    assert rc == 0
    assert "GPU profiles" in out and "instance profiles" in out
    assert "instance prices as of:" in out and "2026-11-29" in out  # hand-sourced files add their own dates


def test_list_summary_json(capsys):
    rc, out, _ = run(capsys, "profiles", "list", "--json")
    d = json.loads(out)
    assert d["instances"] >= 400 and d["gpus"] >= 100
    assert "aws" in d["providers"] and "runpod" in d["providers"]
    assert "hetzner" not in d["providers"]  # no source offline: listed in MISSING.md, never invented


def test_list_instances_filtered_by_provider(capsys):
    rc, out, _ = run(capsys, "profiles", "list", "instances", "--provider", "lambda", "--json")
    rows = json.loads(out)
    assert rows and {r["provider"] for r in rows} == {"lambda"}
    assert all(r["as_of"] and r["source"] for r in rows)


def test_list_unknown_provider_is_one_line_exit_2(capsys):
    rc, _, err = run(capsys, "profiles", "list", "instances", "--provider", "nosuchcloud")
    assert rc == 2
    assert "nosuchcloud" in err and len(err.strip().splitlines()) == 1


def test_list_gpus_search(capsys):
    rc, out, _ = run(capsys, "profiles", "list", "gpus", "--search", "4090")
    assert rc == 0 and "RTX 4090" in out


def test_show_gpu_model_and_instance(capsys):
    rc, out, _ = run(capsys, "profiles", "show", "RTX 3090", "--json")
    assert json.loads(out)["kind"] == "gpu"
    rc, out, _ = run(capsys, "profiles", "show", "llama-3.1-8b", "--json")
    assert json.loads(out)["kind"] == "model"
    rc, out, _ = run(capsys, "profiles", "show", "lambda/gpu_1x_gh200")
    assert rc == 0 and "price_usd_per_hour: 2.29" in out and "as_of: 2026-11-29" in out and "source:" in out


def test_show_unknown(capsys):
    rc, _, err = run(capsys, "profiles", "show", "zzzz-nothing-qqq")
    assert rc == 2 and "zzzz-nothing-qqq" in err


def test_validate_bundled_profiles_have_no_errors(capsys):
    rc, out, _ = run(capsys, "profiles", "validate", "--json")
    assert rc == 0
    reports = json.loads(out)
    assert any(r["kind"] == "instances" for r in reports)
    assert all(not r["errors"] for r in reports)


def test_bundled_instances_reference_known_gpu_profiles():
    names = {g.name for g in load_gpus()}
    inst = load_instances()
    assert len(inst) >= 400
    for i in inst:
        assert i.as_of and i.source
        if i.gpu_profile:
            assert i.gpu_profile in names, i


def test_validate_user_dir_reports_each_bad_file_and_field(tmp_path: Path, capsys):
    (tmp_path / "instances-good.yaml").write_text(USER_INSTANCES)
    (tmp_path / "instances-bad.yaml").write_text(
        "instances:\n  - {provider: x, instance_type: y, price_usd_per_hour: -1, as_of: '2026-01-01', source: s}\n"
        "  - {provider: x, instance_type: z, as_of: '2026-01-01'}\n"
        "  - {provider: x, instance_type: w, gpu_profile: NoSuchGPU, gpu_count: 1, as_of: '2026-01-01', source: s}\n"
    )
    (tmp_path / "gpus-broken.yaml").write_text("gpus: [unclosed\n")
    rc, out, err = run(capsys, "profiles", "validate", str(tmp_path), "--json")
    assert rc == 2
    reports = {Path(r["path"]).name: r for r in json.loads(out)}
    assert reports["instances-good.yaml"]["errors"] == []
    bad = " ".join(reports["instances-bad.yaml"]["errors"])
    assert "price_usd_per_hour" in bad and "'source'" in bad and "NoSuchGPU" in bad
    assert "malformed YAML" in reports["gpus-broken.yaml"]["errors"][0]
    assert "instances-bad.yaml" in err and "gpus-broken.yaml" in err


def test_user_profiles_dir_adds_instances(tmp_path: Path, capsys, monkeypatch):
    (tmp_path / "instances-mine.yaml").write_text(USER_INSTANCES)
    rc, out, _ = run(capsys, "profiles", "list", "instances", "--provider", "myco", "--profiles-dir", str(tmp_path), "--json")
    assert rc == 0 and json.loads(out)[0]["instance_type"] == "box-3090"
    load_instances.cache_clear()
    monkeypatch.setenv("HWBENCH_PROFILES", str(tmp_path))
    rc, out, _ = run(capsys, "profiles", "show", "myco/box-3090")
    assert rc == 0 and "quote from myco sales" in out


def test_markup_in_profile_names_is_shown_as_text(tmp_path: Path, capsys):
    (tmp_path / "instances-x.yaml").write_text(
        "instances:\n  - {provider: '[bold]evil[/bold]', instance_type: '[red]t', as_of: '2026-01-01', source: s, price_usd_per_hour: 1}\n"
    )
    rc, out, _ = run(capsys, "profiles", "list", "instances", "--profiles-dir", str(tmp_path), "--search", "evil")
    assert rc == 0 and "[bold]evil[/bold]" in out
