"""Read saved RunRecord JSON files for the report and `compare`, one clear error per bad file.

A malformed file, a file from a newer schema or a file that is not a record is reported by name
with the reason (and the field); the other files are still used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from hwbench.schema import SCHEMA_VERSION, RunRecord

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
