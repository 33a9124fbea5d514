"""Providers priced by hand from stored pages (hwbench/data/instances/hand-*.yaml, issue 12): they load, every
price carries a source and a date, and scripts/build_instance_profiles.py regenerating the folder keeps them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from hwbench.profiles import BUNDLED_DIR, InstanceProfile, _entries, load_instances

ROOT = Path(__file__).resolve().parents[1]
HAND = sorted((BUNDLED_DIR / "instances").glob("hand-*.yaml"))


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("build_instance_profiles", ROOT / "scripts" / "build_instance_profiles.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_hand_files_exist_and_load() -> None:
    assert {p.name for p in HAND} >= {"hand-modal.yaml", "hand-vultr.yaml"}
    providers = {i.provider for i in load_instances()}
    assert {"modal", "vultr"} <= providers


@pytest.mark.parametrize("path", HAND, ids=lambda p: p.name)
def test_every_hand_price_is_sourced_and_dated(path: Path) -> None:
    rows = [InstanceProfile.model_validate(e) for e in _entries(path, "instances")]
    assert rows
    for r in rows:
        assert r.price_usd_per_hour and r.price_usd_per_hour > 0
        assert len(r.as_of) == 10 and r.as_of <= "2026-12-02"
        assert "http" in r.source or "techbytes.app" in r.source, r.source
        assert r.gpu_profile, r.instance_type  # estimable: the GPU maps to a spec profile


def test_regenerating_the_folder_keeps_hand_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "cloud_gpu_instances.csv").write_text(
        "provider,instance_type,accelerator_kind,gpu_model,gpu_count,gpu_mem_gib,vcpus,memory_gib,price_usd_per_hour,"
        "spot_price_usd_per_hour,region,spec_model_hint,catalog_source,notes\n"
        "examplecloud,g1,gpu,L4,1,24,8,32,0.5,,eu,L4,test-catalog,\n",
        encoding="utf-8",
    )
    (data / "cloud_cpu_instances.csv").write_text(
        "provider,instance_type,arch,vcpus,memory_gib,price_usd_per_hour,spot_price_usd_per_hour,region,catalog_source,notes\n",
        encoding="utf-8",
    )
    out = tmp_path / "instances"
    out.mkdir()
    hand = (BUNDLED_DIR / "instances" / "hand-modal.yaml").read_text(encoding="utf-8")
    (out / "hand-modal.yaml").write_text(hand, encoding="utf-8")
    (out / "stale.yaml").write_text("instances: []\n", encoding="utf-8")  # a generated file from an older run
    assert _script().main(["--data", str(data), "--out", str(out)]) == 0
    assert (out / "hand-modal.yaml").read_text(encoding="utf-8") == hand  # kept, byte for byte
    assert not (out / "stale.yaml").exists()  # generated files are still replaced
    assert (out / "examplecloud.yaml").exists()
    missing = (out / "MISSING.md").read_text(encoding="utf-8")
    assert "hand-modal.yaml" in missing


def test_bundled_missing_md_names_the_hand_files() -> None:
    text = (BUNDLED_DIR / "instances" / "MISSING.md").read_text(encoding="utf-8")
    for p in HAND:
        assert p.name in text
    assert "| vultr |" in text and "| modal |" in text  # partly covered, says what is not
