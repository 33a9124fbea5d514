"""Real torch on the CPU, in child processes."""

from __future__ import annotations

import pytest

from hwbench.bench.isolation import run_child
from hwbench.bench.synth import tiny_spec
from hwbench.bench.torch_part import decode_result

pytestmark = pytest.mark.slow


def test_micro_on_cpu() -> None:
    out = run_child({"kind": "torch_micro", "threads": 2, "reps": 2, "membw_bytes": 64 * 2**20}, timeout_s=300)
    assert out.ok, out.error
    micro = {e["test"]: e for e in out.events if e["event"] == "micro"}
    assert {"membw_read_cpu", "membw_copy_cpu", "matmul_fp32_cpu"} <= set(micro)
    assert micro["membw_read_cpu"]["unit"] == "GB/s" and 0.1 < micro["membw_read_cpu"]["value"] < 10_000
    assert micro["matmul_fp32_cpu"]["unit"] == "TFLOP/s" and micro["matmul_fp32_cpu"]["value"] > 0
    assert all(len(e["samples_ns"]) >= 2 for e in micro.values())


def test_torch_decode_slice_extrapolated() -> None:
    spec = tiny_spec(n_layer=6, n_embd=256, n_ff=512)
    job = {"kind": "torch_decode", "threads": 2, "reps": 2, "n_gen": 4, "spec": spec.model_dump(), "max_bytes": 6 * 2**20}
    out = run_child(job, timeout_s=300)
    assert out.ok, out.error
    done = next(e for e in out.events if e["event"] == "decode_done")
    assert done["layers_run"] < 6 and done["factor"] > 1
    r = decode_result(done, 2)
    assert r.backend == "torch" and r.test == "torch_tg4_fp32_cpu"
    assert r.extrapolated_from_layers == done["layers_run"] and r.total_layers == 6
    assert len(r.samples_ns) == 2 and r.tokens_per_s and r.tokens_per_s > 0
