#!/usr/bin/env python
"""KV cache, compute and output buffers at llama.cpp -np N vs hwbench's estimate (issue 13).

Writes a tiny synthetic llama GGUF, creates llama.cpp contexts (CPU) with n_seq_max = N, n_ctx = N x C, with and
without kv_unified and flash attention, reads the buffer sizes llama.cpp logs and prints them next to
hwbench.estimate.memory's figures for the same settings (EstimateSettings(concurrency=N, kv_unified=...)).
Memory sizes do not depend on machine load, so this runs anywhere.

    .venv/bin/python scripts/accuracy_concurrency_memory.py
"""

from __future__ import annotations

import pathlib
import re
import tempfile
from typing import Any

CASES = [(512, 1, False, True), (512, 4, False, True), (512, 4, True, True), (300, 3, False, False), (1000, 3, True, False), (64, 4, False, False)]


def measure(cases: list[tuple[int, int, bool, bool]] = CASES) -> list[dict[str, Any]]:
    """One row per (context per sequence, N, unified, flash attention): llama.cpp's and the estimate's MiB."""
    from llama_cpp import llama_cpp as L

    from hwbench.bench.synth import tiny_spec, write_synthetic
    from hwbench.estimate import memory as mem
    from hwbench.schema import EstimateSettings

    d = pathlib.Path(tempfile.mkdtemp())
    sm = write_synthetic(tiny_spec(n_layer=4), "Q4_K_M", path=d / "tiny.gguf")
    logs: list[str] = []

    @L.llama_log_callback
    def cb(level: int, text: bytes, user: Any) -> None:
        logs.append(text.decode("utf-8", "replace"))

    L.llama_log_set(cb, None)
    L.llama_backend_init()
    mp = L.llama_model_default_params()
    mp.n_gpu_layers = 0
    model = L.llama_model_load_from_file(str(sm.path).encode(), mp)

    def mib(pattern: str, text: str) -> float:
        return sum(float(x) for x in re.findall(pattern + r"\s*=\s*([\d.]+) MiB", text))

    rows = []
    for c, n, uni, fa in cases:
        logs.clear()
        cp = L.llama_context_default_params()
        cp.n_ctx, cp.n_seq_max, cp.kv_unified = c * n, n, uni
        cp.n_batch, cp.n_ubatch, cp.flash_attn_type, cp.n_threads = 2048, 512, 1 if fa else 0, 1
        ctx = L.llama_init_from_model(model, cp)
        text = "".join(logs)
        s = EstimateSettings(context=c, concurrency=n, kv_unified=uni, flash_attn=fa)
        m = sm.spec
        rows.append(
            {
                "context": c, "n_seq": n, "kv_unified": uni, "flash_attn": fa,
                "kv": mib("KV buffer size", text), "kv_est": sum(mem.kv_bytes_layer(m, s, i) for i in range(m.n_layer)) / 2**20,
                "compute": mib("compute buffer size", text), "compute_est": mem.compute_bytes(m, s, n_kv=mem.full_cells_per_stream(s)) / 2**20,
                "output": mib("output buffer size", text), "output_est": mem.output_buffer_bytes(m, n) / 2**20,
            }
        )
        L.llama_free(ctx)
    L.llama_model_free(model)
    return rows


if __name__ == "__main__":
    print("| C per seq | N | unified | FA | KV llama.cpp / est (MiB) | compute llama.cpp / est | output llama.cpp / est |")
    print("|---|---|---|---|---|---|---|")
    for r in measure():
        print(
            f"| {r['context']} | {r['n_seq']} | {r['kv_unified']} | {r['flash_attn']} | {r['kv']:.2f} / {r['kv_est']:.2f} | "
            f"{r['compute']:.2f} / {r['compute_est']:.2f} | {r['output']:.3f} / {r['output_est']:.3f} |"
        )
