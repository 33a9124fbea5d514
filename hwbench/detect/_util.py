"""Small, never-raising file readers shared by the probes.

Every probe takes its root folders (``/proc``, ``/sys``, ``/dev``, ``/etc``) as arguments so that
tests can point it at a fake tree. A file that is missing is simply ``None``; a file that exists
but cannot be read or parsed adds a line to the caller's ``warnings`` list.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_SIZE_RE = re.compile(r"^\s*(\d+)\s*([KMGT]?)i?B?\s*$", re.IGNORECASE)
_SIZE_MULT = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def read_text(path: str | os.PathLike[str], warnings: list[str] | None = None) -> str | None:
    """The stripped text of a small file; None if absent or unreadable (unreadable -> warning)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    except OSError as e:  # permission, EIO from a flaky sysfs attribute, a directory ...
        if warnings is not None:
            warnings.append(f"cannot read {p}: {e.strerror or e}")
        return None
    return data.replace(b"\x00", b"").decode("utf-8", "replace").strip()


def read_int(path: str | os.PathLike[str], warnings: list[str] | None = None, *, base: int = 10) -> int | None:
    """An integer file (``base=16`` for ``0x1002`` style ids); garbage -> warning, None."""
    text = read_text(path, warnings)
    if text is None or text == "":
        return None
    try:
        return int(text.split()[0], base)
    except ValueError:
        if warnings is not None:
            warnings.append(f"unexpected content in {path}: {text[:40]!r}")
        return None


def read_hex(path: str | os.PathLike[str], warnings: list[str] | None = None) -> int | None:
    """A ``0x1002`` style id file."""
    return read_int(path, warnings, base=16)


def parse_size(text: str) -> int | None:
    """'32K' -> 32768, '16M' -> 16 MiB, '1024 KB' -> 1 MiB (kernel sizes are binary)."""
    m = _SIZE_RE.match(text)
    if not m:
        return None
    return int(m.group(1)) * _SIZE_MULT[m.group(2).upper()]


def link_name(path: str | os.PathLike[str]) -> str | None:
    """Basename of a symlink target (``device/driver`` -> ``amdgpu``), None if not a link."""
    try:
        return os.path.basename(os.readlink(path))
    except OSError:
        return None


def sorted_glob(root: str | os.PathLike[str], pattern: str) -> list[Path]:
    """Glob under root, sorted naturally (card2 before card10); [] if root is missing."""
    try:
        found = list(Path(root).glob(pattern))
    except OSError:
        return []
    return sorted(found, key=lambda p: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)])


def exists(path: str | os.PathLike[str]) -> bool:
    try:
        return os.path.exists(path)
    except OSError:
        return False


def isdir(path: str | os.PathLike[str]) -> bool:
    try:
        return os.path.isdir(path)
    except OSError:
        return False


def is_live(root: str | os.PathLike[str], live: str) -> bool:
    """Whether ``root`` is this machine's own ``live`` folder (``/proc``, ``/sys``), not a fake tree.

    Fallbacks that ask the running system rather than a file under a root (``os.cpu_count()``,
    py-cpuinfo, ``platform.machine()``) are used only then, so a fake tree is never mixed with
    the machine the tests happen to run on.
    """
    try:
        return os.path.realpath(root) == os.path.realpath(live)
    except OSError:
        return False
