"""Flat writers for benchmark results: JSON, CSV and Markdown (one row per result).

One source of truth for the columns: :data:`COLUMNS`. CSV cells that a spreadsheet would run as a
formula (starting with = + - @, tab or carriage return) are neutralised with a leading apostrophe;
line breaks inside a cell become LF (so the cell is quoted); numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from hwbench.report.records import LoadedRecord, parallel_figures

COLUMNS = [
    "label",
    "run_id",
    "created_at",
    "cpu",
    "gpus",
    "model",
    "quant",
    "backend",
    "device",
    "test",
    "n_prompt",
    "n_gen",
    "depth",
    "threads",
    "n_gpu_layers",
    "tokens_per_s",
    "stddev_tokens_per_s",
    "value",
    "unit",
    "predicted_tokens_per_s",
    "prediction_error_pct",
    "repetitions",
    "error",
    # tg<n>@np<N> results (bench --parallel), empty otherwise: measured per-user and prompt figures, their estimates
    "n_parallel",
    "per_user_tokens_per_s",
    "prompt_tokens_per_s",
    "prompt_time_ms",
    "predicted_per_user_tokens_per_s",
    "predicted_prompt_tokens_per_s",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def result_rows(records: list[LoadedRecord]) -> list[dict[str, Any]]:
    rows = []
    for lr in records:
        r = lr.record
        m = r.model or {}
        for x in r.results:
            pf = parallel_figures(x)
            rows.append(
                {
                    "label": lr.label,
                    "run_id": r.run_id,
                    "created_at": r.created_at,
                    "cpu": r.host.cpu.model,
                    "gpus": "; ".join(g.name for g in r.host.gpus),
                    "model": m.get("name"),
                    "quant": m.get("quant"),
                    "backend": x.backend,
                    "device": x.device,
                    "test": x.test,
                    "n_prompt": x.n_prompt,
                    "n_gen": x.n_gen,
                    "depth": x.depth,
                    "threads": x.threads,
                    "n_gpu_layers": x.settings.get("n_gpu_layers") if isinstance(x.settings, dict) else None,
                    "tokens_per_s": x.tokens_per_s,
                    "stddev_tokens_per_s": x.stddev_tokens_per_s,
                    "value": x.value,
                    "unit": x.unit,
                    "predicted_tokens_per_s": x.predicted_tokens_per_s,
                    "prediction_error_pct": x.prediction_error_pct,
                    "repetitions": len(x.samples_ns),
                    "error": x.error,
                    "n_parallel": pf.n_parallel if pf else None,
                    "per_user_tokens_per_s": pf.per_user if pf else None,
                    "prompt_tokens_per_s": pf.prompt if pf else None,
                    "prompt_time_ms": pf.prompt_time_ms if pf else None,
                    "predicted_per_user_tokens_per_s": pf.predicted_per_user if pf else None,
                    "predicted_prompt_tokens_per_s": pf.predicted_prompt if pf else None,
                }
            )
    return rows


def csv_cell(v: Any) -> Any:
    """A value safe to open in a spreadsheet: strings that look like formulas get a leading apostrophe."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return v
    # a lone CR would not be quoted with our "\n" line ending and would split the row in a reader:
    # make every line break a "\n", which the csv module quotes
    s = str(v).replace("\r\n", "\n").replace("\r", "\n")
    if s.startswith(_FORMULA_START) or str(v).startswith(_FORMULA_START):
        return "'" + s
    return s


def to_csv(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    cols = columns or (list(rows[0]) if rows else COLUMNS)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([csv_cell(c) for c in cols])
    for r in rows:
        w.writerow([csv_cell(r.get(c)) for c in cols])
    return buf.getvalue()


def to_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str)


def md_cell(v: Any) -> str:
    """Markdown table cell: pipes and newlines escaped, HTML special characters as entities, and link
    brackets escaped, so ``[x](javascript:…)`` or ``![](http://…)`` in a name shows as text, never a link or image."""
    if v is None:
        return ""
    if isinstance(v, float):
        s = f"{v:.2f}"
    else:
        s = str(v)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = s.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    s = s.replace("[", "\\[").replace("]", "\\]")
    return " ".join(s.split())


def to_markdown(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    cols = columns or (list(rows[0]) if rows else COLUMNS)
    out = ["| " + " | ".join(md_cell(c) for c in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        out.append("| " + " | ".join(md_cell(r.get(c)) for c in cols) + " |")
    return "\n".join(out) + "\n"


def write_results(records: list[LoadedRecord], fmt: str) -> str:
    """The results of ``records`` as json (full records), csv or md (one row per result)."""
    if fmt == "json":
        return to_json([lr.record.model_dump(mode="json") for lr in records])
    rows = result_rows(records)
    if fmt == "csv":
        return to_csv(rows, COLUMNS)
    if fmt == "md":
        return to_markdown(rows, COLUMNS)
    raise ValueError(f"unknown format {fmt!r}")


def write_output(path: str | Path, text: str) -> Path:
    """Write a report, comparison page or results file: atomically, replacing an older one.

    The usual file mode (0666 less the umask), not a temp file's private 0600: a report is for sharing.
    A path that cannot be written is one line: BadInput (exit 2) for the path itself (no such folder,
    not a folder, no permission, read-only), HwbenchError (exit 1) for other I/O failures (disk full).
    """
    import errno

    from hwbench.atomicio import write_text_atomic
    from hwbench.errors import BadInput, HwbenchError

    try:
        return write_text_atomic(path, text, overwrite=True, mode=0o666)
    except OSError as e:
        why = e.strerror or str(e)
        if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.EACCES, errno.EPERM, errno.EROFS):
            raise BadInput(f"-o {path}: cannot write there: {why}") from None
        raise HwbenchError(f"-o {path}: writing failed: {why}") from None
