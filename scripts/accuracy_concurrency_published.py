#!/usr/bin/env python
"""Batched decoding estimate vs published llama-batched-bench results (issue 13).

For each row of tests/fixtures/published_llamacpp_batched.csv (llama.cpp's own benches/ pages for the DGX Spark
(NVIDIA GB10, CUDA) and the Mac Studio M2 Ultra (Metal), in the llama.cpp release hwbench builds on: B sequences,
each with its own prompt of PP tokens, then TG tokens generated for all B together) run the estimator as

    hwbench check --model M --quant Q --gpu PROFILE --context PP+TG --concurrency B --flash-attn on --ubatch 2048

would (f16 KV cache, one KV stream per sequence as bench-models.sh ran it, no --kv-unified) and compare:

- S_TG (aggregate generated tokens/s of the B sequences) with B / speed.step_time_s(B) at the average depth of
  the TG steps, PP + TG/2 (the estimator's depth is half its context: context 2 PP + TG);
- S_PP (aggregate prompt tokens/s, B x PP / T_PP) with 1 / speed.prompt_time_per_token_s at context PP (average
  depth PP/2; the estimator has no batch-size term for prompts: the same figure at every B).

OUT-OF-SAMPLE: no constant of the speed model was fitted on these rows; the batched-decoding shape
(speed.step_time_s, assumptions.batch_decode_p) was never fitted on any batched measurement. Rows whose model is
not in hwbench's catalog (GLM-4.7-Flash) are kept in the CSV but not predicted.

    .venv/bin/python scripts/accuracy_concurrency_published.py            # table, updates docs/accuracy.md
    .venv/bin/python scripts/accuracy_concurrency_published.py --no-doc
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "tests" / "fixtures" / "published_llamacpp_batched.csv"
MARKER = "concurrency-published"


@dataclass
class Row:
    hardware: str
    backend: str
    model_repo: str
    model: str  # hwbench catalog name ("" = not in the catalog: not predicted)
    quant: str
    gpu_profile: str
    pp: int
    tg: int
    b: int
    s_pp: float  # measured aggregate prompt tokens/s
    s_tg: float  # measured aggregate generation tokens/s
    ubatch: int
    flash_attn: bool
    kv_unified: bool
    build: str
    source: str
    pred_tg: float = 0.0
    pred_pp: float = 0.0
    verdict: str = ""
    bound: str = ""

    @property
    def err_tg(self) -> float:
        return (self.pred_tg - self.s_tg) / self.s_tg

    @property
    def err_pp(self) -> float:
        return (self.pred_pp - self.s_pp) / self.s_pp


def load_rows(path: Path = CSV) -> list[Row]:
    with path.open(newline="", encoding="utf-8") as f:
        return [
            Row(
                r["hardware"],
                r["backend"],
                r["model_repo"],
                r["model"],
                r["quant"],
                r["gpu_profile"],
                int(r["pp"]),
                int(r["tg"]),
                int(r["b"]),
                float(r["s_pp_tokens_per_s"]),
                float(r["s_tg_tokens_per_s"]),
                int(r["n_ubatch"]),
                r["flash_attn"] == "1",
                r["kv_unified"] == "1",
                r["build"],
                r["source_url"],
            )
            for r in csv.DictReader(f)
        ]


def predict(row: Row) -> None:
    """The committed estimator's aggregate generation and prompt tokens/s for one row (nothing refitted)."""
    from hwbench.estimate import estimate_fit
    from hwbench.estimate import speed as spd
    from hwbench.estimate.fit import speed_inputs
    from hwbench.hardware import apply_what_if
    from hwbench.profiles import find_gpu, get_model
    from hwbench.quant import parse_quant
    from hwbench.schema import EstimateSettings, HardwareTarget

    prof = find_gpu(row.gpu_profile)
    base = HardwareTarget(label="published", ram_bytes=512 * 2**30, cpu_bandwidth_gbps=50.0, cpu_tflops=1.0)
    hw = apply_what_if(base, gpu=prof.name)
    spec = get_model(row.model)
    quant = parse_quant(row.quant)

    def settings(context: int) -> EstimateSettings:
        return EstimateSettings(
            context=context,
            concurrency=row.b,
            kv_unified=row.kv_unified,
            kv_type="f16",
            flash_attn=row.flash_attn,
            batch=2048,
            ubatch=row.ubatch,
        )

    s = settings(row.pp + row.tg)  # what batched-bench allocates per sequence
    row.verdict = estimate_fit(spec, quant, s, hw, follow_ups=False).verdict
    # generation: the TG steps run at depths PP .. PP+TG, i.e. at PP + TG/2 on average; the estimator's depth is
    # half its context, so the context that puts it there is 2 PP + TG (as bench's own tg@npN prediction does)
    gen = speed_inputs(spec, quant, settings(2 * row.pp + row.tg), hw)
    # prompt: PP tokens per sequence from an empty cache, i.e. average depth PP/2: context PP
    pro = speed_inputs(spec, quant, settings(row.pp), hw)
    assert gen is not None and pro is not None, f"{row.model} does not fit {prof.name}"
    t_step, row.bound = spd.step_time_s(gen.generation, gen.depth, row.b)
    row.pred_tg = row.b / t_step
    row.pred_pp = 1.0 / pro.prompt_time_per_token_s()


def predicted_rows(path: Path = CSV) -> list[Row]:
    """Every row of ``path`` whose model is in the catalog, predicted."""
    rows = [r for r in load_rows(path) if r.model]
    for r in rows:
        predict(r)
    return rows


def med_abs(errs: list[float]) -> float:
    return statistics.median(abs(e) for e in errs) if errs else float("nan")


def p90_abs(errs: list[float]) -> float:
    sys.path.insert(0, str(ROOT / "scripts"))
    from accuracy_speed import p90_abs as p90

    return float(p90(errs))


def summary(rows: list[Row]) -> dict[str, dict[str, float]]:
    """Median and 90th-percentile absolute error, signed median, by group."""
    groups = {
        "all": rows,
        "B = 1": [r for r in rows if r.b == 1],
        "B > 1": [r for r in rows if r.b > 1],
        "B >= 8": [r for r in rows if r.b >= 8],
        **{r.hardware: [x for x in rows if x.hardware == r.hardware] for r in rows},
        **{f"{r.hardware}, {r.model}": [x for x in rows if (x.hardware, x.model) == (r.hardware, r.model)] for r in rows},
    }
    out = {}
    for name, sel in groups.items():
        tg = [r.err_tg for r in sel]
        pp = [r.err_pp for r in sel]
        out[name] = {
            "n": len(sel),
            "tg_med": med_abs(tg),
            "tg_p90": p90_abs(tg),
            "tg_signed": statistics.median(tg) if tg else float("nan"),
            "pp_med": med_abs(pp),
            "pp_p90": p90_abs(pp),
            "pp_signed": statistics.median(pp) if pp else float("nan"),
        }
    return out


def markdown(rows: list[Row], skipped: int, cmd: str) -> str:
    pct = lambda x: f"{x * 100:.0f}%"  # noqa: E731
    spct = lambda x: f"{x * 100:+.0f}%"  # noqa: E731
    sm = summary(rows)
    hw = sorted({r.hardware for r in rows})
    models = sorted({f"{r.model_repo} ({r.model} {r.quant})" for r in rows})
    lines = [
        "### Batched decoding vs published llama-batched-bench results (out-of-sample)",
        "",
        f"Regenerate: `{cmd}` (tests/estimate/test_accuracy.py runs the same code on the same CSV). Rows: "
        f"tests/fixtures/published_llamacpp_batched.csv, {len(rows)} predicted ({skipped} more whose model is not in the catalog, "
        "GLM-4.7-Flash, are kept there but not predicted), read from llama.cpp's own benches/ pages at the commit hwbench's "
        "llama.cpp release vendors (each row carries its URL and build): " + ", ".join(hw) + "; models: " + "; ".join(models) + ". "
        "Each is `scripts/bench-models.sh`: B sequences with their own prompt of PP tokens (PP = 512, 4096, 8192), "
        "then TG = 32 tokens for all B together, B = 1..32, flash attention, -ub 2048, one KV stream per sequence.",
        "",
        "**Out-of-sample**: no speed constant was fitted on these rows, and the batched-decoding shape "
        "(`speed.step_time_s`, `batch_decode_p`) was never fitted on any batched measurement. Estimated as "
        "`check --model M --quant Q --gpu PROFILE --context PP+TG --concurrency B --flash-attn on --ubatch 2048`: "
        "S_TG vs B / step time, S_PP vs the single prompt figure (the estimator has no batch term for prompts). "
        "Error = (estimate - measured) / measured; signed median < 0: the estimate is slower than measured.",
        "",
        "| rows | n | S_TG median abs | S_TG p90 | S_TG signed median | S_PP median abs | S_PP p90 | S_PP signed median |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, d in sm.items():
        lines.append(
            f"| {name} | {d['n']:.0f} | {pct(d['tg_med'])} | {pct(d['tg_p90'])} | {spct(d['tg_signed'])} | "
            f"{pct(d['pp_med'])} | {pct(d['pp_p90'])} | {spct(d['pp_signed'])} |"
        )
    lines += [
        "",
        "<details><summary>Every row (measured / estimated aggregate tokens/s)</summary>",
        "",
        "| hardware | model | quant | PP | B | S_TG meas | S_TG est | err | bound | S_PP meas | S_PP est | err |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        flag = "" if r.verdict == "gpu" else f" ({r.verdict})"
        lines.append(
            f"| {r.hardware} | {r.model}{flag} | {r.quant} | {r.pp} | {r.b} | {r.s_tg:.1f} | {r.pred_tg:.1f} | {spct(r.err_tg)} | {r.bound} | "
            f"{r.s_pp:.0f} | {r.pred_pp:.0f} | {spct(r.err_pp)} |"
        )
    lines += ["", "</details>", ""]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/accuracy.md")
    a = ap.parse_args()
    all_rows = load_rows()
    rows = predicted_rows()
    for r in rows:
        print(
            f"{r.hardware:24s} {r.model:14s} {r.quant:6s} PP{r.pp:<5d} B{r.b:<3d} S_TG {r.s_tg:7.1f} est {r.pred_tg:7.1f} {r.err_tg * 100:+6.1f}%  "
            f"S_PP {r.s_pp:7.0f} est {r.pred_pp:7.0f} {r.err_pp * 100:+6.1f}%  {r.bound}{'' if r.verdict == 'gpu' else ' [' + r.verdict + ']'}"
        )
    for name, d in summary(rows).items():
        print(
            f"{name:24s} n={d['n']:.0f} tg median {d['tg_med'] * 100:.1f}% p90 {d['tg_p90'] * 100:.1f}% signed {d['tg_signed'] * 100:+.1f}% | "
            f"pp median {d['pp_med'] * 100:.1f}% p90 {d['pp_p90'] * 100:.1f}% signed {d['pp_signed'] * 100:+.1f}%"
        )
    if not a.no_doc:
        sys.path.insert(0, str(ROOT / "scripts"))
        from accuracy_memory import write_section

        write_section(
            ROOT / "docs" / "accuracy.md",
            markdown(rows, len(all_rows) - len(rows), "python scripts/accuracy_concurrency_published.py"),
            MARKER,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
