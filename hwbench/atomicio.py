"""The one atomic file writer: readers see the old file or the whole new one, never a part.

Used for benchmark records (never overwrite), the calibration file and reports (overwrite).
The text goes to a temp file in the target's folder (same file system, so the final step is a
rename), is flushed and fsync'd, then takes the final name: ``os.replace`` when overwriting is
allowed, ``os.link`` otherwise (which fails if the name exists, so an existing file is never
replaced, even by a writer racing us). On any failure the temp file is removed and the target is
left as it was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomic(path: str | Path, text: str, *, overwrite: bool = True, mode: int | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; create the parent folder if needed.

    ``overwrite=False``: raise :class:`FileExistsError` if ``path`` exists (nothing is written).
    ``mode``: file permissions before the umask (e.g. ``0o666`` for a report meant for sharing);
    ``None`` keeps the temp file's private ``0o600``.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if not overwrite and p.exists():
        raise FileExistsError(f"{p} exists")
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, mode & ~umask)
        if overwrite:
            os.replace(tmp, p)
        else:
            _link_no_overwrite(tmp, p)
        _fsync_dir(p.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return p


def _link_no_overwrite(tmp: str, final: Path) -> None:
    try:
        os.link(tmp, final)  # fails if `final` exists
    except FileExistsError:
        raise FileExistsError(f"{final} exists") from None
    except OSError:
        # a file system without hard links (some FUSE/SMB mounts): check, then rename; a writer
        # racing us between the two steps could still be replaced, the best these systems allow
        if final.exists():
            raise FileExistsError(f"{final} exists") from None
        os.replace(tmp, final)


def _fsync_dir(d: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    try:
        dfd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
