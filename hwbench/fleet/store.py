"""The fleet results folder: one subfolder per host, published atomically, and resume.

Layout of ``--out DIR``::

    DIR/<label>/host.json        what ran where (label, destination as the user named it, price and
                                 its source, remote hwbench version, timings); written last
    DIR/<label>/detect.json      the host's inventory, from the remote `hwbench detect --json`
    DIR/<label>/<run_id>.json    the record(s) the remote `hwbench bench` wrote, byte for byte
    DIR/compare.html|csv|json    the comparison of every complete host in DIR
    DIR/fleet.json               the last run: each host's status and, for a failure, its cause

A host's files are gathered in a hidden staging folder (``DIR/.staging-<label>-<random>``) and
renamed into place only when everything arrived and validated, so ``DIR/<label>/`` is either
complete or absent: nothing half-written. A host folder with a valid ``host.json`` whose records
all load is *complete*, and a re-run with the same ``--out`` skips it (``--force`` re-runs it; the
old folder is replaced only once the new run succeeded).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwbench.errors import BadInput

HOST_FILE = "host.json"
DETECT_FILE = "detect.json"
SUMMARY_FILE = "fleet.json"
FLEET_SCHEMA_VERSION = 1
RESERVED = {HOST_FILE, DETECT_FILE, SUMMARY_FILE}


def write_text_atomic(path: Path, text: str) -> Path:
    """The house's atomic text writer (temp file in the same folder, fsync, rename); shareable file mode."""
    from hwbench.atomicio import write_text_atomic as write

    return write(path, text, mode=0o666)


@dataclass
class CompleteHost:
    label: str
    folder: Path
    meta: dict[str, Any]
    records: list[Path] = field(default_factory=list)


def prepare_out(out: Path) -> Path:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadInput(f"--out {out}: cannot create the folder ({e.strerror})") from None
    if not os.access(out, os.W_OK):
        raise BadInput(f"--out {out}: not writable")
    return out


def complete_host(out: Path, label: str) -> CompleteHost | None:
    """The host's published folder if it is complete (host.json valid, every record loads), else None."""
    from hwbench.report.records import load_record

    folder = out / label
    try:
        meta = json.loads((folder / HOST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("status") != "ok" or not isinstance(meta.get("records"), list) or not meta["records"]:
        return None
    paths = []
    for name in meta["records"]:
        if not isinstance(name, str) or "/" in name or name in RESERVED:
            return None
        p = folder / name
        try:
            load_record(p)
        except ValueError:
            return None
        paths.append(p)
    return CompleteHost(label, folder, meta, paths)


class Staging:
    """A hidden folder for one host's files; ``publish`` renames it to ``out/<label>``, else it is removed."""

    def __init__(self, out: Path, label: str) -> None:
        self.out = out
        self.label = label
        self.path = out / f".staging-{label}-{secrets.token_hex(4)}"
        self.path.mkdir(mode=0o755)
        self.published: Path | None = None

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.published is None:
            shutil.rmtree(self.path, ignore_errors=True)

    def write_json(self, name: str, obj: Any) -> Path:
        return write_text_atomic(self.path / name, json.dumps(obj, indent=2) + "\n")

    def publish(self, meta: dict[str, Any]) -> Path:
        """Write host.json last, then swap the folder into place (an older complete run is replaced only now)."""
        self.write_json(HOST_FILE, meta)
        final = self.out / self.label
        old: Path | None = None
        if final.exists() or final.is_symlink():
            old = self.out / f".old-{self.label}-{secrets.token_hex(4)}"
            os.replace(final, old)
        os.replace(self.path, final)
        self.published = final
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return final
