"""The one atomic writer (records, calibration, reports): all or nothing, never a stray temp file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hwbench.atomicio import write_text_atomic


def test_writes_and_replaces(tmp_path: Path) -> None:
    p = tmp_path / "sub" / "r.html"
    assert write_text_atomic(p, "one") == p
    assert p.read_text(encoding="utf-8") == "one"
    write_text_atomic(p, "twø")
    assert p.read_text(encoding="utf-8") == "twø"
    assert sorted(x.name for x in p.parent.iterdir()) == ["r.html"]


def test_no_overwrite_refuses_and_leaves_the_file(tmp_path: Path) -> None:
    p = tmp_path / "run.json"
    p.write_text("precious")
    with pytest.raises(FileExistsError):
        write_text_atomic(p, "new", overwrite=False)
    assert p.read_text() == "precious"
    assert sorted(tmp_path.iterdir()) == [p]


def _no_links(src: str, dst: object) -> None:
    raise OSError(1, "Operation not permitted")


@pytest.mark.parametrize("hard_links", [True, False])
def test_no_overwrite_refuses_a_file_that_appears_while_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hard_links: bool) -> None:
    """The final step itself must not replace: a file created after the early check survives
    (also on a file system without hard links, where the writer falls back to check-then-rename)."""
    p = tmp_path / "run.json"
    real_fsync = os.fsync

    def racing_fsync(fd: int) -> None:
        real_fsync(fd)
        if not p.exists():
            p.write_text("the other writer's")

    monkeypatch.setattr(os, "fsync", racing_fsync)
    if not hard_links:
        monkeypatch.setattr(os, "link", _no_links)
    with pytest.raises(FileExistsError):
        write_text_atomic(p, "mine", overwrite=False)
    assert p.read_text() == "the other writer's"
    assert sorted(tmp_path.iterdir()) == [p]


def test_no_overwrite_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system without hard links: still written, still never over an existing file."""
    monkeypatch.setattr(os, "link", _no_links)
    p = tmp_path / "a.json"
    write_text_atomic(p, "first", overwrite=False)
    assert p.read_text() == "first"
    with pytest.raises(FileExistsError):
        write_text_atomic(p, "second", overwrite=False)
    assert p.read_text() == "first"
    assert sorted(tmp_path.iterdir()) == [p]


@pytest.mark.parametrize("overwrite", [True, False])
def test_failure_mid_write_leaves_no_partial_and_no_temp_file(tmp_path: Path, overwrite: bool) -> None:
    p = tmp_path / "out.json"
    # a lone surrogate cannot be encoded: the write fails once the temp file exists
    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(p, "x" * 100_000 + "\ud800", overwrite=overwrite)
    assert list(tmp_path.iterdir()) == []


def test_failure_mid_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "report.html"
    p.write_text("old report")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_text_atomic(p, "new report")
    assert p.read_text() == "old report"
    assert sorted(tmp_path.iterdir()) == [p]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_file_mode_private_by_default_shared_when_asked(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        private = write_text_atomic(tmp_path / "cal.json", "{}")
        shared = write_text_atomic(tmp_path / "r.html", "<p>", mode=0o666)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(shared.stat().st_mode) == 0o644
