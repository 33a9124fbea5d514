"""Read saved RunRecord JSON files for the report and `compare`, one clear error per bad file.

A malformed file, a file from a newer schema or a file that is not a record is reported by name
with the reason (and the field); the other files are still used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from hwbench.schema import SCHEMA_VERSION, BenchResult, RunRecord

MAX_RECORD_BYTES = 64 * 2**20


@dataclass
class LoadedRecord:
    path: Path
    record: RunRecord
    label: str  # short unique name (file stem) used in tables and charts


@dataclass
class RecordError:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def _field(loc: tuple[object, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def load_record(path: str | Path) -> RunRecord:
    """One record; raises ValueError with a one-line reason naming the field."""
    from pydantic import ValidationError

    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as e:
        raise ValueError(f"cannot read ({e.strerror})") from None
    if not p.is_file():
        raise ValueError("not a file")
    if size > MAX_RECORD_BYTES:
        raise ValueError(f"{size} bytes, larger than the {MAX_RECORD_BYTES} allowed for a result file")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"malformed JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    if not isinstance(data, dict):
        raise ValueError(f"field (top level): expected a JSON object (a RunRecord), got {type(data).__name__}")
    ver = data.get("schema_version")
    if ver is None:
        raise ValueError("field 'schema_version' is missing: not an hwbench result record")
    if not isinstance(ver, int) or isinstance(ver, bool):
        raise ValueError(f"field 'schema_version': expected an integer, got {ver!r}")
    if ver > SCHEMA_VERSION:
        raise ValueError(f"field 'schema_version' is {ver}, newer than the {SCHEMA_VERSION} this hwbench reads: upgrade hwbench to read it")
    try:
        return RunRecord.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        raise ValueError(f"field {_field(tuple(first.get('loc', ())))!r}: {first.get('msg')}{more}") from None


def load_records(paths: list[str | Path]) -> tuple[list[LoadedRecord], list[RecordError]]:
    """All readable records (with unique labels) and one error per file that is not."""
    ok: list[LoadedRecord] = []
    errors: list[RecordError] = []
    used: dict[str, int] = {}
    for raw in paths:
        p = Path(raw)
        try:
            rec = load_record(p)
        except ValueError as e:
            errors.append(RecordError(p, str(e)))
            continue
        label = p.stem
        if p.name.endswith(".json") and label.endswith(".json"):
            label = label[:-5]
        n = used.get(label, 0)
        used[label] = n + 1
        if n:
            label = f"{label}-{n + 1}"
        ok.append(LoadedRecord(p, rec, label))
    return ok, errors


@dataclass(frozen=True)
class ParallelFigures:
    """A ``tg<n>@np<N>`` result's figures (``hwbench bench --parallel``), as llama-batched-bench reports them.

    Measured: ``aggregate`` (all N sequences' generated tokens / generation time, the result's tokens_per_s),
    ``per_user`` (that / N), ``prompt`` (all N x PP prompt tokens / prompt time) and ``prompt_time_ms``.
    Estimated (None when the record has none): the ``predicted_*`` figures. Older records (before the prompt
    phase was timed) have no prompt figures: None.
    """

    n_parallel: int
    prompt_per_sequence: int | None
    aggregate: float | None
    per_user: float | None
    prompt: float | None
    prompt_time_ms: float | None
    predicted_aggregate: float | None
    predicted_per_user: float | None
    predicted_prompt: float | None
    error_pct: float | None  # (estimated - measured) / measured, as stored in the record
    prompt_error_pct: float | None


def _num(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def parallel_figures(x: BenchResult) -> ParallelFigures | None:
    """The batched figures of a result, or None when it is not a tg@npN result."""
    s = x.settings if isinstance(x.settings, dict) else {}
    n = s.get("n_parallel")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        return None
    pps = s.get("prompt_per_sequence")
    return ParallelFigures(
        n_parallel=n,
        prompt_per_sequence=pps if isinstance(pps, int) and not isinstance(pps, bool) else None,
        aggregate=x.tokens_per_s,
        per_user=_num(s.get("per_sequence_tokens_per_s")),
        prompt=_num(s.get("prompt_tokens_per_s")),
        prompt_time_ms=_num(s.get("prompt_time_ms")),
        predicted_aggregate=x.predicted_tokens_per_s,
        predicted_per_user=_num(s.get("predicted_per_sequence_tokens_per_s")),
        predicted_prompt=_num(s.get("predicted_prompt_tokens_per_s")),
        error_pct=x.prediction_error_pct,
        prompt_error_pct=_num(s.get("prompt_prediction_error_pct")),
    )
