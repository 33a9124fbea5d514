"""The bundled catalog agrees with the config.json files it was taken from (scripts/model_configs.yaml).

Each config goes through the same mapping `check --model ORG/NAME` uses, so a catalog entry and the
Hub answer for its repo are the same model; the source of every entry names its repo.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hwbench.arch import _SHAPE_FIELDS, count_params
from hwbench.models.hf_config import spec_from_config
from hwbench.profiles import load_models

CONFIGS = yaml.safe_load((Path(__file__).resolve().parents[2] / "scripts" / "model_configs.yaml").read_text())["configs"]


@pytest.mark.parametrize("entry", CONFIGS, ids=lambda e: e["name"])
def test_catalog_entry_is_its_config_json(entry: dict[str, Any]) -> None:
    known = load_models()[entry["name"]]
    spec = spec_from_config(entry["config"], name=entry["name"], source="test")
    for f in sorted(_SHAPE_FIELDS | {"context_length", "sliding_window", "swa_period"}):
        a, b = getattr(known, f), getattr(spec, f)
        if f == "head_dim":  # the catalog may leave out a head_dim equal to n_embd / n_head
            a, b = known.k_head_dim, spec.k_head_dim
        assert a == b, f"{entry['name']}.{f}: catalog {a!r}, config.json {b!r}"
    assert known.params == spec.params == count_params(known)
    assert known.source and known.source.split()[0] == entry["repo"]


@pytest.mark.parametrize("entry", [e for e in CONFIGS if "kh_params" in e], ids=lambda e: e["name"])
def test_tie_taken_from_a_published_parameter_count(entry: dict[str, Any]) -> None:
    # the shape source gives no tie_word_embeddings: only one of tied/untied may give the published count
    spec = spec_from_config(entry["config"], name=entry["name"], source="test")
    flipped = spec_from_config({**entry["config"], "tie_word_embeddings": not spec.tied_embeddings}, name=entry["name"], source="test")
    assert spec.params == entry["kh_params"] != flipped.params


def test_every_catalog_source_names_a_repo_config() -> None:
    for m in load_models().values():
        assert m.source and "/" in m.source.split()[0] and "config.json" in m.source, m.name


def test_catalog_size() -> None:
    assert len(load_models()) >= 60


def test_profiles_list_models_groups_by_family() -> None:
    from tests_helpers_cli import run_cli

    from hwbench.commands.profiles import model_family

    assert [model_family(n) for n in ("llama-3.1-8b", "qwen3-30b-a3b", "mixtral-8x7b", "gemma-2-27b", "qwen2.5-0.5b", "phi-3-mini")] == [
        "llama-3.1", "qwen3", "mixtral", "gemma-2", "qwen2.5", "phi-3",
    ]
    code, out, err = run_cli(["profiles", "list", "models"])
    assert code == 0, err
    rows = [ln for ln in out.splitlines() if "│" in ln]
    family_cells = [ln.split("│")[1].strip() for ln in rows]
    families = [f for f in family_cells if f and f != "family"]
    assert len(families) == len(set(families))  # each family heads its rows once
    assert "qwen3" in families and "llama-3.1" in families
    names = [ln.split("│")[2].strip() for ln in rows]
    assert len([n for n in names if n and n != "name"]) == len(load_models())
