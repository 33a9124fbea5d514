"""Instance regions: what the catalog gives, empty parts dropped (vast lists ', CN, AS' when the city is unknown)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from hwbench.profiles import InstanceProfile, load_instances, tidy_region

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (", CN, AS", "CN, AS"),
        (", US, NA", "US, NA"),
        ("Sichuan, CN, AS", "Sichuan, CN, AS"),
        ("  Taiwan ,TW,  AS ", "Taiwan, TW, AS"),
        ("us-east-1", "us-east-1"),
        ("Quebec, , NA", "Quebec, NA"),
        (", , ", None),
        ("", None),
        (None, None),
    ],
)
def test_tidy_region(raw: str | None, shown: str | None) -> None:
    assert tidy_region(raw) == shown


def test_a_profile_with_an_empty_city_shows_what_is_there() -> None:
    p = InstanceProfile(provider="x", instance_type="y", region=", CN, AS", as_of="2026-11-29", source="test")
    assert p.region == "CN, AS"
    assert InstanceProfile(provider="x", instance_type="y", region=" , ", as_of="2026-11-29", source="test").region is None


def test_no_bundled_instance_shows_an_empty_region_part() -> None:
    regions = [i.region for i in load_instances() if i.region is not None]
    assert regions
    bad = [r for r in regions if any(not part.strip() for part in r.split(","))]
    assert bad == []
    assert "CN, AS" in {i.region for i in load_instances() if i.provider == "vast"}  # was ', CN, AS' in the catalog


def test_build_script_drops_empty_parts() -> None:
    spec = importlib.util.spec_from_file_location("build_instance_profiles", ROOT / "scripts" / "build_instance_profiles.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    row = {"provider": "vast", "instance_type": "cpu-1", "vcpus": "4", "region": ", US, NA", "catalog_source": "test"}
    assert script.cpu_entry(row)["region"] == "US, NA"
    assert script.cpu_entry({**row, "region": " "})["region"] is None
