#!/usr/bin/env python
"""Memory estimate vs what llama.cpp really allocates (issue 5).

Writes synthetic GGUF models (random weights, the real tensor shapes and per-tensor quant mix of a
llama.cpp conversion) across shapes x quants, loads each with llama.cpp on the CPU in a child
process, creates one context per setting (context x flash attention x ubatch x KV type), reads
the buffer sizes llama.cpp itself logs (model, KV cache, compute, output) and compares them with
hwbench's estimate for the same settings.

    .venv/bin/python scripts/accuracy_memory.py                 # full run, writes docs/accuracy.md section
    .venv/bin/python scripts/accuracy_memory.py --quick         # the small subset the test suite runs

Target: every case within 3% (or 16 MiB, whichever is larger) on the total and on each of weights,
KV cache and compute buffer.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHILD = ROOT / "scripts" / "_llama_mem_child.py"
MiB = 2**20
TOL_FRAC, TOL_ABS = 0.03, 16 * MiB
COMPONENTS = ("weights", "kv", "compute", "output", "total")


@dataclass
class Shape:
    key: str
    spec_kw: dict[str, Any]
    quants: tuple[str, ...]
    contexts: tuple[int, ...] = (512, 2048, 8192, 32768)
    settings_quant: str | None = None  # quant used for the settings grid (default: the first)
    note: str = ""


def shapes(quick: bool) -> list[Shape]:
    all_q = ("Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "F16")
    out = [
        # ~0.13B dense llama, no GQA (multi-head attention)
        Shape("llama-0.1b-mha", dict(arch="llama", n_layer=12, n_embd=768, n_head=12, n_head_kv=12, n_ff=2048, vocab=32000), all_q),
        # real Qwen2.5-0.5B shape: GQA 14/2, qkv bias, tied embeddings, 152k vocab
        Shape("qwen2.5-0.5b (real shape)", dict(model="qwen2.5-0.5b"), all_q),
        # real Llama-3.2-1B shape: GQA 32/8, head_dim 64, tied, 128k vocab
        Shape("llama-3.2-1b (real shape)", dict(model="llama-3.2-1b"), ("Q4_K_M", "Q8_0")),
        # real Llama-3.2-3B shape
        Shape("llama-3.2-3b (real shape)", dict(model="llama-3.2-3b"), ("Q4_0",), contexts=(512, 1024, 2048, 8192, 32768)),
        # Gemma-2-like: gemma2 arch, 256k vocab, head_dim 256, sliding window 1024 on every other layer
        Shape(
            "gemma2-like (256k vocab, SWA)",
            dict(
                arch="gemma2",
                n_layer=6,
                n_embd=1024,
                n_head=8,
                n_head_kv=4,
                head_dim=256,
                n_ff=4096,
                vocab=256000,
                tied_embeddings=True,
                sliding_window=1024,
                swa_period=2,
            ),
            ("Q4_K_M", "Q8_0"),
        ),
        # small MoE (qwen3moe: 16 experts, 4 used)
        Shape(
            "qwen3moe-small (16 experts)",
            dict(
                arch="qwen3moe",
                n_layer=6,
                n_embd=1024,
                n_head=16,
                n_head_kv=4,
                head_dim=64,
                n_ff=2816,
                n_ff_exp=512,
                n_expert=16,
                n_expert_used=4,
                vocab=32000,
            ),
            ("Q4_K_M", "Q8_0"),
        ),
        # held out: shapes added after the compute-buffer constants were fitted
        Shape("qwen2.5-1.5b (real shape, held out)", dict(model="qwen2.5-1.5b"), ("Q4_K_M",), contexts=(512, 1024, 2048, 8192, 32768)),
        Shape(
            "mixtral-like tiny MoE (held out)",
            dict(
                arch="llama",
                n_layer=4,
                n_embd=768,
                n_head=12,
                n_head_kv=4,
                n_ff=2048,
                n_ff_exp=2048,
                n_expert=8,
                n_expert_used=2,
                vocab=32000,
            ),
            ("Q4_K_M",),
            contexts=(512, 8192, 32768),
        ),
    ] + arch_shapes()
    if quick:
        return quick_arch_shapes() + [
            Shape(
                "llama-tiny-gqa",
                dict(arch="llama", n_layer=4, n_embd=512, n_head=8, n_head_kv=2, n_ff=1536, vocab=8192),
                ("Q4_K_M", "Q8_0"),
                contexts=(512, 8192),
            ),
            Shape(
                "gemma2-tiny (SWA)",
                dict(
                    arch="gemma2",
                    n_layer=4,
                    n_embd=512,
                    n_head=4,
                    n_head_kv=2,
                    head_dim=128,
                    n_ff=1024,
                    vocab=32000,
                    tied_embeddings=True,
                    sliding_window=512,
                    swa_period=2,
                ),
                ("Q4_K_M",),
                contexts=(512, 4096),
            ),
        ]
    return out


def arch_shapes() -> list[Shape]:
    """Issue 10: the architectures people run now, at their real widths (fewer layers/experts, smaller vocab)."""
    ctx = (512, 4096, 16384, 32768)
    return [
        # Qwen3-0.6B widths: q/k norms, head_dim 128 with 16 heads (q wider than n_embd), tied
        Shape(
            "qwen3 (Qwen3-0.6B widths, 4 layers)",
            dict(arch="qwen3", n_layer=4, n_embd=1024, n_head=16, n_head_kv=8, head_dim=128, n_ff=3072, vocab=151936, tied_embeddings=True),
            ("Q4_K_M", "Q8_0"),
            contexts=ctx,
        ),
        # Gemma-3-1B widths: 5 local (window 512) : 1 global layers, one KV head of 256, 262k vocab
        Shape(
            "gemma3 (Gemma-3-1B widths, 5:1 SWA)",
            dict(
                arch="gemma3",
                n_layer=7,
                n_embd=1152,
                n_head=4,
                n_head_kv=1,
                head_dim=256,
                n_ff=6912,
                vocab=262144,
                tied_embeddings=True,
                sliding_window=512,
            ),
            ("Q4_K_M",),
            contexts=ctx,
        ),
        # Phi-3-mini widths: fused QKV and gate+up, no GQA
        Shape(
            "phi3 (Phi-3-mini widths, 3 layers)",
            dict(arch="phi3", n_layer=3, n_embd=3072, n_head=32, n_head_kv=32, n_ff=8192, vocab=32064),
            ("Q4_K_M", "Q8_0"),
            contexts=ctx,
        ),
        # Phi-4 widths: GQA 40/10, 100k vocab
        Shape(
            "phi3 (Phi-4 widths, 2 layers)",
            dict(arch="phi3", n_layer=2, n_embd=5120, n_head=40, n_head_kv=10, n_ff=17920, vocab=100352),
            ("Q4_K_M",),
            contexts=(512, 4096, 16384),
        ),
        # DeepSeek-V2-Lite widths with a q-LoRA (V3/R1/Kimi-K2 style): MLA latent 512+64, 1 dense + 2 MoE layers
        Shape(
            "deepseek2 (MLA, V2-Lite widths + q_lora)",
            dict(
                arch="deepseek2",
                n_layer=3,
                n_embd=2048,
                n_head=16,
                n_head_kv=16,
                head_dim=192,
                head_dim_v=128,
                qk_rope_dim=64,
                kv_lora_rank=512,
                q_lora_rank=1536,
                n_ff=10944,
                n_ff_exp=1408,
                n_expert=16,
                n_expert_used=6,
                n_expert_shared=2,
                n_dense_lead=1,
                vocab=32000,
            ),
            ("Q4_K_M",),
            contexts=ctx,
        ),
        # Kimi-K2 / DeepSeek-V3 head count (64 and 128 heads of 192/128) at a smaller width
        Shape(
            "deepseek2 (MLA, 64 heads as Kimi-K2)",
            dict(
                arch="deepseek2",
                n_layer=2,
                n_embd=2048,
                n_head=64,
                n_head_kv=64,
                head_dim=192,
                head_dim_v=128,
                qk_rope_dim=64,
                kv_lora_rank=512,
                q_lora_rank=1536,
                n_ff=4096,
                n_ff_exp=512,
                n_expert=16,
                n_expert_used=8,
                n_expert_shared=1,
                n_dense_lead=1,
                vocab=32000,
            ),
            ("Q4_K_M",),
            contexts=(512, 4096, 16384),
        ),
        # gpt-oss-20b widths: 64 heads of 64, 8 KV heads, window 128 on every other layer, sinks, MXFP4 experts
        Shape(
            "gpt-oss (gpt-oss-20b widths, 8 experts)",
            dict(
                arch="gpt-oss",
                n_layer=4,
                n_embd=2880,
                n_head=64,
                n_head_kv=8,
                head_dim=64,
                n_ff=2880,
                n_ff_exp=2880,
                n_expert=8,
                n_expert_used=4,
                sliding_window=128,
                vocab=32000,
            ),
            ("MXFP4_MOE",),
            contexts=ctx,
        ),
        # Llama-4 layout: MoE every 2nd layer (Maverick) with a shared expert, 3 chunked (8192) : 1 full layers
        Shape(
            "llama4 (interleaved MoE, chunked attn)",
            dict(
                arch="llama4",
                n_layer=4,
                n_embd=2048,
                n_head=16,
                n_head_kv=8,
                head_dim=128,
                n_ff=8192,
                n_ff_exp=4096,
                n_expert=4,
                n_expert_used=1,
                moe_every=2,
                vocab=32000,
            ),
            ("Q4_K_M",),
            contexts=(512, 8192, 16384, 32768),
        ),
        # Mistral-Small-3 layout under llama.cpp's mistral3 arch name (same memory as llama)
        Shape(
            "mistral3 (Mistral-Small-3 widths, 2 layers)",
            dict(arch="mistral3", n_layer=2, n_embd=5120, n_head=32, n_head_kv=8, head_dim=128, n_ff=32768, vocab=131072),
            ("Q4_K_M",),
            contexts=(512, 4096, 16384),
        ),
    ]


def quick_arch_shapes() -> list[Shape]:
    """Tiny versions of the issue-10 architectures for the test suite."""
    q = ("Q4_K_M",)
    c = (512, 4096)
    return [
        Shape(
            "qwen3-tiny",
            dict(arch="qwen3", n_layer=2, n_embd=512, n_head=8, n_head_kv=4, head_dim=128, n_ff=1536, vocab=8192, tied_embeddings=True),
            q,
            contexts=c,
        ),
        Shape(
            "gemma3-tiny (5:1 SWA)",
            dict(
                arch="gemma3",
                n_layer=7,
                n_embd=512,
                n_head=4,
                n_head_kv=2,
                head_dim=128,
                n_ff=1024,
                vocab=8192,
                tied_embeddings=True,
                sliding_window=512,
            ),
            q,
            contexts=(512, 8192),
        ),
        Shape("phi3-tiny", dict(arch="phi3", n_layer=2, n_embd=512, n_head=8, n_head_kv=8, n_ff=1536, vocab=8192), q, contexts=c),
        Shape(
            "deepseek2-tiny (MLA)",
            dict(
                arch="deepseek2",
                n_layer=2,
                n_embd=512,
                n_head=8,
                n_head_kv=8,
                head_dim=96,
                head_dim_v=64,
                qk_rope_dim=32,
                kv_lora_rank=128,
                q_lora_rank=256,
                n_ff=1536,
                n_ff_exp=256,
                n_expert=8,
                n_expert_used=2,
                n_expert_shared=1,
                n_dense_lead=1,
                vocab=8192,
            ),
            q,
            contexts=c,
        ),
        Shape(
            "gpt-oss-tiny (sinks, SWA)",
            dict(
                arch="gpt-oss",
                n_layer=2,
                n_embd=512,
                n_head=8,
                n_head_kv=2,
                head_dim=64,
                n_ff=512,
                n_ff_exp=512,
                n_expert=4,
                n_expert_used=2,
                sliding_window=128,
                vocab=8192,
            ),
            ("MXFP4_MOE",),
            contexts=c,
        ),
        Shape(
            "llama4-tiny (chunked)",
            dict(
                arch="llama4",
                n_layer=4,
                n_embd=512,
                n_head=8,
                n_head_kv=2,
                head_dim=64,
                n_ff=1024,
                n_ff_exp=512,
                n_expert=4,
                n_expert_used=1,
                moe_every=2,
                vocab=8192,
            ),
            q,
            contexts=(512, 16384),
        ),
    ]


def spec_for(sh: Shape):  # type: ignore[no-untyped-def]
    from hwbench.arch import count_params
    from hwbench.profiles import get_model
    from hwbench.schema import ModelSpec

    kw = dict(sh.spec_kw)
    if "model" in kw:
        return get_model(kw["model"])
    kw.setdefault("context_length", 32768)
    spec = ModelSpec(name=sh.key, params=0, **kw)
    return spec.model_copy(update={"params": count_params(spec)})


def settings_grid(sh: Shape, quick: bool) -> list[dict[str, Any]]:
    grid = []
    for ctx in sh.contexts:
        for fa in (True, False):
            for ub in (512, 256):
                kvs = ("f16", "q8_0") if fa else ("f16",)
                for kv in kvs:
                    if quick and ub == 256 and kv == "q8_0":
                        continue
                    grid.append({"ctx": ctx, "fa": fa, "ub": ub, "kv": kv})
    return grid


def run_child(path: Path, settings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the child on all settings; after a native crash, go on with the settings after the failed one."""
    results: list[dict[str, Any]] = []
    todo = list(settings)
    while todo:
        p = subprocess.run([sys.executable, str(CHILD), str(path), json.dumps(todo)], capture_output=True, text=True)
        got = [json.loads(ln) for ln in p.stdout.splitlines() if ln.startswith("{")]
        results += got
        if len(got) >= len(todo):
            break
        failed = todo[len(got)]
        results.append({"setting": failed, "error": f"llama.cpp exited with {p.returncode}: {p.stderr.strip()[-300:]}"})
        todo = todo[len(got) + 1 :]
    return results


def estimate(path: Path, s: dict[str, Any]) -> dict[str, int]:
    from hwbench.estimate import estimate_fit
    from hwbench.resolve import resolve_model
    from hwbench.schema import EstimateSettings, HardwareTarget

    r = resolve_model(gguf=str(path))
    st = EstimateSettings(context=s["ctx"], kv_type=s["kv"], flash_attn=s["fa"], ubatch=s["ub"], batch=2048, gpu_layers=0)
    hw = HardwareTarget(label="accuracy", ram_bytes=1 << 40, cpu_bandwidth_gbps=50.0, cpu_tflops=1.0)
    e = estimate_fit(r.spec, r.quant, st, hw, tensors=r.tensors, model_source="gguf", follow_ups=False)
    m = e.memory
    return {
        "weights": m.weights_bytes,
        "kv": m.kv_cache_bytes,
        "compute": m.compute_bytes,
        "output": m.output_bytes,
        "total": m.weights_bytes + m.kv_cache_bytes + m.compute_bytes + m.output_bytes,
    }


def measured(res: dict[str, Any]) -> dict[str, int]:
    model = res["model"]
    # with mmap the CPU_Mapped buffer covers every tensor of the file; CPU_REPACK (weights re-laid-out
    # for the CPU's SIMD kernels) is a copy of part of them, so it is reported, not added
    w = model.get("model:CPU_Mapped", 0) + model.get("model:CPU", 0)
    b = res["buffers"]
    out = {"weights": int(w), "kv": int(b.get("KV", 0)), "compute": int(b.get("compute", 0)), "output": int(b.get("output", 0))}
    out["total"] = sum(out.values())
    return out


def within(pred: int, meas: int) -> bool:
    return abs(pred - meas) <= max(TOL_FRAC * meas, TOL_ABS)


def rel(pred: int, meas: int) -> float:
    return (pred - meas) / meas if meas else 0.0


@dataclass
class Case:
    shape: str
    quant: str
    setting: dict[str, Any]
    pred: dict[str, int] = field(default_factory=dict)
    meas: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(within(self.pred[c], self.meas[c]) for c in ("weights", "kv", "compute", "total"))


def collect(quick: bool, workdir: Path, log=print, only: str | None = None) -> list[Case]:  # type: ignore[no-untyped-def]
    from hwbench.bench.synth import write_synthetic

    cases: list[Case] = []
    for sh in shapes(quick):
        if only and not any(o.strip() and o.strip() in sh.key for o in only.split(",")):
            continue
        spec = spec_for(sh)
        grid_q = sh.settings_quant or sh.quants[0]
        for q in sh.quants:
            path = workdir / f"{sh.key.split()[0]}-{q}.gguf"
            write_synthetic(spec, q, path=path)
            grid = settings_grid(sh, quick) if q == grid_q else [{"ctx": sh.contexts[0], "fa": True, "ub": 512, "kv": "f16"}]
            for res in run_child(path, grid):
                c = Case(sh.key, q, res["setting"])
                if "error" in res:
                    c.error = res["error"]
                else:
                    c.meas = measured(res)
                    c.pred = estimate(path, res["setting"])
                cases.append(c)
                log(line(c))
            path.unlink()
    return cases


def _mib(b: int) -> str:
    return f"{b / MiB:.1f}"


def line(c: Case) -> str:
    s = c.setting
    head = f"{c.shape:30s} {c.quant:7s} ctx={s['ctx']:<6d} fa={'on ' if s['fa'] else 'off'} ub={s['ub']:<4d} kv={s['kv']:5s}"
    if c.error:
        return f"{head} ERROR {c.error}"
    parts = [
        f"{k}={_mib(c.pred[k])}/{_mib(c.meas[k])}({rel(c.pred[k], c.meas[k]) * 100:+.1f}%)" for k in ("weights", "kv", "compute", "total")
    ]
    return f"{head} {' '.join(parts)} {'ok' if c.ok else 'MISS'}"


def summary(cases: list[Case]) -> dict[str, dict[str, float]]:
    good = [c for c in cases if not c.error]
    out = {}
    for k in ("weights", "kv", "compute", "total"):
        errs = [abs(rel(c.pred[k], c.meas[k])) for c in good if c.meas[k]]
        abs_errs = [abs(c.pred[k] - c.meas[k]) for c in good]
        out[k] = {
            "median_pct": statistics.median(errs) * 100 if errs else 0.0,
            "max_pct": max(errs) * 100 if errs else 0.0,
            "max_abs_mib": max(abs_errs) / MiB if abs_errs else 0.0,
            "within": sum(within(c.pred[k], c.meas[k]) for c in good),
            "n": len(good),
        }
    return out


ARCH_NOTES = """Architectures (issue 10). The installed llama.cpp (llama-cpp-python 0.3.36) loads and decodes
synthetic files of every architecture listed: llama, llama4, mistral3, qwen2, qwen3, qwen3moe, gemma2,
gemma3, phi3, deepseek2 (MLA) and gpt-oss. Weights and KV cache are within 0.5% in every case (llama.cpp
logs MiB with two decimals): the windowed layers of gemma2/gemma3/gpt-oss, Llama 4's chunked layers,
DeepSeek's latent cache and Phi-3's ignored window all match. The compute buffer is the allocator's peak:
a replay of ggml-alloc over llama.cpp's node order for the dense llama/qwen2/qwen3/mistral3/phi3/gemma3
graphs and for deepseek2's MLA + MoE graph, a per-phase sum elsewhere (MoE: routed + shared experts).
The deepseek2 replay follows the node list GGML_SCHED_DEBUG=2 prints; the per-phase sum it replaced
missed the DeepSeek-V2-Lite widths by up to -16% (the logits land above what the last MoE layer left
alive). Not measured: a deepseek2 file without a q-LoRA (V2, V2-Lite), which llama.cpp loads only with
all 26 or 27 layers, too large for this run; its replay differs only in one query projection."""


def markdown(cases: list[Case], cmd: str) -> str:
    summ = summary(cases)
    n_ok = sum(c.ok for c in cases)
    lines = [
        "## Memory: estimate vs llama.cpp's own buffer sizes",
        "",
        f"Regenerate: `{cmd}` (llama.cpp via llama-cpp-python, CPU backend, synthetic GGUF models).",
        "",
        "Measured: the sizes llama.cpp logs when it loads the model and creates a context (`CPU_Mapped model",
        "buffer size`, `CPU KV buffer size`, `CPU compute buffer size`, `CPU output buffer size`).",
        "Total = weights + KV cache + compute + output buffers. Target: within 3% or 16 MiB (whichever is",
        "larger) on each of weights, KV cache, compute and total.",
        "",
        f"**{n_ok} of {len(cases)} cases within the target.**",
        "",
        "| component | median abs error | max abs error | max abs error (MiB) | cases within target |",
        "|---|---|---|---|---|",
    ]
    for k, v in summ.items():
        lines.append(f"| {k} | {v['median_pct']:.2f}% | {v['max_pct']:.2f}% | {v['max_abs_mib']:.1f} | {v['within']}/{v['n']} |")
    lines += ["", "Per model shape (issue 10 added the architectures from qwen3 on):", ""]
    lines += ["| model shape | arch | cases within target | weights max err | KV max err | compute max err |", "|---|---|---|---|---|---|"]
    for key in dict.fromkeys(c.shape for c in cases):
        mine = [c for c in cases if c.shape == key and not c.error]
        errs = {
            k: max((abs(rel(c.pred[k], c.meas[k])) for c in mine if c.meas[k]), default=0.0) * 100 for k in ("weights", "kv", "compute")
        }
        arch = next((spec_for(sh).arch for sh in shapes(False) if sh.key == key), "")
        n_ok_s = sum(c.ok for c in cases if c.shape == key)
        n_s = sum(1 for c in cases if c.shape == key)
        lines.append(f"| {key} | {arch} | {n_ok_s}/{n_s} | {errs['weights']:.1f}% | {errs['kv']:.1f}% | {errs['compute']:.1f}% |")
    lines += [
        "",
        ARCH_NOTES,
        "",
        "Every case (predicted / measured MiB, error):",
        "",
        "| model | quant | ctx | FA | ubatch | KV | weights | KV cache | compute | total | ok |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cases:
        s = c.setting
        head = f"| {c.shape} | {c.quant} | {s['ctx']} | {'on' if s['fa'] else 'off'} | {s['ub']} | {s['kv']} |"
        if c.error:
            lines.append(f"{head} error: {c.error[:80]} | | | | |")
            continue
        cells = [
            f"{_mib(c.pred[k])} / {_mib(c.meas[k])} ({rel(c.pred[k], c.meas[k]) * 100:+.1f}%)"
            for k in ("weights", "kv", "compute", "total")
        ]
        lines.append(f"{head} {' | '.join(cells)} | {'yes' if c.ok else '**no**'} |")
    return "\n".join(lines) + "\n"


def write_section(doc: Path, section: str, marker: str) -> None:
    """Replace the text between <!-- marker:begin --> and <!-- marker:end --> in ``doc`` (or append)."""
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Accuracy of hwbench's estimates\n\n"
    block = f"{begin}\n{section}{end}\n"
    if begin in text and end in text:
        pre, rest = text.split(begin, 1)
        _, post = rest.split(end, 1)
        text = pre + block + post.lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small subset (what the test suite runs)")
    ap.add_argument("--json", type=Path, help="also write every case as JSON here")
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/accuracy.md")
    ap.add_argument("--workdir", type=Path, help="where to write the synthetic GGUFs (default: a temp dir)")
    ap.add_argument("--only", help="comma-separated substrings of shape names to run (no doc update)")
    ap.add_argument("--from-json", type=Path, help="render docs/accuracy.md from a --json file of an earlier full run")
    a = ap.parse_args()
    if a.from_json:
        cases = [Case(**d) for d in json.loads(a.from_json.read_text())]
        write_section(ROOT / "docs" / "accuracy.md", markdown(cases, "python scripts/accuracy_memory.py"), "memory")
        return 0 if all(c.ok for c in cases) else 1
    with tempfile.TemporaryDirectory(prefix="hwbench-acc-", dir=a.workdir) as d:
        cases = collect(a.quick, Path(d), only=a.only)
    summ = summary(cases)
    print()
    print(f"{'component':10s} {'median%':>8s} {'max%':>8s} {'maxMiB':>8s} within")
    for k, v in summ.items():
        print(f"{k:10s} {v['median_pct']:8.2f} {v['max_pct']:8.2f} {v['max_abs_mib']:8.1f} {v['within']}/{v['n']}")
    n_ok = sum(c.ok for c in cases)
    print(f"{n_ok}/{len(cases)} cases within 3% / 16 MiB")
    if a.json:
        a.json.write_text(json.dumps([c.__dict__ for c in cases], indent=1))
    if not a.no_doc and not a.quick and not a.only:
        write_section(ROOT / "docs" / "accuracy.md", markdown(cases, "python scripts/accuracy_memory.py"), "memory")
    return 0 if n_ok == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main())
