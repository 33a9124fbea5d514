"""KV, compute and output buffers at llama.cpp -np N against llama.cpp itself (scripts/accuracy_concurrency_memory.py).

Real llama.cpp (CPU) on a tiny synthetic model; buffer sizes, not timings, so valid on a loaded machine.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _script():  # type: ignore[no-untyped-def]
    path = Path(__file__).resolve().parents[2] / "scripts" / "accuracy_concurrency_memory.py"
    spec = importlib.util.spec_from_file_location("accuracy_concurrency_memory", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_buffers_at_n_sequences_match_llama_cpp() -> None:
    rows = _script().measure()
    base = {r["flash_attn"]: r for r in rows if r["n_seq"] == 1}
    for r in rows:
        assert r["kv"] == pytest.approx(r["kv_est"], abs=0.01), r  # exact: streams x padded cells
        assert r["output"] == pytest.approx(r["output_est"], abs=0.005), r  # logits per sequence
        if r["flash_attn"] in base and r["n_seq"] > 1:
            # what N sequences add to the compute buffer (the one-sequence estimate's own error cancels)
            b = base[r["flash_attn"]]
            assert r["compute"] - b["compute"] == pytest.approx(r["compute_est"] - b["compute_est"], abs=0.1), r
        elif r["n_seq"] > 1:
            assert r["compute"] == pytest.approx(r["compute_est"], rel=0.01, abs=0.1), r
