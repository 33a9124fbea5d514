"""A result file with tg128@d512@np1..np8 rows, built by the functions `hwbench bench --parallel` builds them with.

For the display tests of `compare` and the report: the figures are round test inputs, not measurements (a real
run is in tests/bench/test_parallel.py). Aggregate generation AGG[N] tokens/s, prompt PROMPT_TPS tokens/s at every N,
estimates PRED_AGG[N] / PRED_PROMPT beside them.
"""

from __future__ import annotations

import json
from pathlib import Path

AGG = {1: 20.0, 2: 38.0, 4: 70.0, 8: 120.0}
PRED_AGG = {1: 22.0, 2: 41.0, 4: 75.0, 8: 130.0}
PROMPT_TPS = 400.0
PRED_PROMPT = 440.0
N_GEN, DEPTH = 128, 512


def parallel_record(path: Path, label_cpu: str = "Test CPU") -> Path:
    """Write the record to ``path`` (a .json file) and return it."""
    from hwbench.bench import records as rec_mod
    from hwbench.bench import runner_llamacpp as rl
    from hwbench.bench.llamacpp_part import add_batched_figures, measured_result
    from hwbench.machine import minimal_host
    from hwbench.schema import RunRecord

    (inst,) = rl.plan_instances(
        threads=[8], gpu_layers=[0], batch=[2048], ubatch=[512], flash_attn=["auto"], kv_type=["f16"],
        n_prompt=[0], n_gen=[N_GEN], depth=[DEPTH], parallel=list(AGG),
    )  # fmt: skip
    results = []
    for t in inst.tests:
        if not t.batched:
            continue
        n = t.n_parallel
        gen_ns = [round(n * N_GEN * 1e9 / AGG[n])] * 3
        r = measured_result(t, inst, gen_ns, None)
        add_batched_figures(r, t, [round(n * DEPTH * 1e9 / PROMPT_TPS)] * 3)
        # what _attach_batched_prediction / _attach_batched_prompt_prediction store
        r.predicted_tokens_per_s = PRED_AGG[n]
        r.prediction_error_pct = rec_mod.prediction_error_pct(r.tokens_per_s, PRED_AGG[n])
        r.settings["predicted_per_sequence_tokens_per_s"] = round(PRED_AGG[n] / n, 2)
        r.settings["predicted_prompt_tokens_per_s"] = PRED_PROMPT
        r.settings["prompt_prediction_error_pct"] = rec_mod.prediction_error_pct(r.settings["prompt_tokens_per_s"], PRED_PROMPT)
        results.append(r)
    host = minimal_host()
    host.cpu.model = label_cpu
    rec = RunRecord(
        run_id="20261202T120000Z-0000abcd",
        created_at="2026-12-02T12:00:00+00:00",
        hwbench_version="test",
        host=host,
        model={"name": "tiny-test", "arch": "llama", "quant": "Q4_K_M", "params": 3_000_000, "n_layer": 4, "synthetic": True},
        results=results,
    )
    path.write_text(json.dumps(rec.model_dump(mode="json")), encoding="utf-8")
    return path
