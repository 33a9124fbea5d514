#!/usr/bin/env python3
"""Print bundled-catalog lines (hwbench/data/models.yaml) for the configs in scripts/model_configs.yaml.

Each config goes through hwbench's own config.json mapping (hwbench.models.hf_config), so a catalog
entry is exactly what `hwbench check --model ORG/NAME` would build from the Hub. Paste the lines of
new entries into models.yaml; tests/models/test_catalog_configs.py checks the two agree.

    python scripts/catalog_from_configs.py [NAME ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from hwbench.models.hf_config import spec_from_config

HERE = Path(__file__).resolve().parent
ORDER = ["name", "arch", "params", "n_layer", "n_embd", "n_head", "n_head_kv", "head_dim", "head_dim_v", "n_ff", "n_ff_exp",
         "n_expert", "n_expert_used", "n_expert_shared", "n_ff_shexp", "n_dense_lead", "q_lora_rank", "kv_lora_rank", "qk_rope_dim",
         "moe_every", "attn_chunk", "vocab", "tied_embeddings", "qkv_bias", "sliding_window", "swa_period", "context_length", "source"]


def entries() -> list[dict]:
    return yaml.safe_load((HERE / "model_configs.yaml").read_text())["configs"]


def line(e: dict) -> str:
    src = f"{e['repo']} config.json (via {', '.join(map(str, e['sources']))}; see scripts/model_configs.yaml)"
    spec = spec_from_config(e["config"], name=e["name"], source=src)
    d = spec.model_dump(exclude_defaults=True)
    d["params"], d["arch"] = spec.params, spec.arch
    parts = []
    for k in ORDER:
        if k in d and d[k] is not None:
            v = d[k]
            parts.append(f'{k}: "{v}"' if k == "source" else f"{k}: {str(v).lower() if isinstance(v, bool) else v}")
    return "  - {" + ", ".join(parts) + "}"


def main(argv: list[str]) -> int:
    for e in entries():
        if not argv or e["name"] in argv:
            print(line(e))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
