"""Watch real hwbench processes: every network call and every file opened for writing, in every Python
process they start (the benchmark child too).

``audit_env(dir, log)`` returns environment variables that put a ``sitecustomize.py`` on ``PYTHONPATH``.
Python imports it at start-up in each process that inherits the environment; it installs an audit hook
(PEP 578) that appends one line per event to ``log``:

    armed <pid> <argv>          the hook is active in this process
    net   <pid> <event> <args>  a network call (refused: the hook raises)
    write <pid> <path>          a file opened for writing (absolute path; "mkdir <path>" for a folder made,
                                "anonymous-in <dir>" for an unnamed O_TMPFILE file in that folder)

``read_audit(log)`` parses it. Native code (llama.cpp) is not seen by the hook; the tests that use this
also compare the folders before and after.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

_SITECUSTOMIZE = r'''
import os as _os
import sys as _sys

_LOG = _os.environ.get("HWBENCH_TEST_AUDIT_LOG")
if _LOG:
    _fd = _os.open(_LOG, _os.O_WRONLY | _os.O_APPEND | _os.O_CREAT, 0o600)  # before the hook: not logged

    def _note(kind, detail):
        line = f"{kind}\t{_os.getpid()}\t{detail}".replace("\n", " ") + "\n"
        _os.write(_fd, line.encode("utf-8", "backslashreplace"))

    _note("armed", " ".join(getattr(_sys, "orig_argv", _sys.argv)))
    _NET = {
        "socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo", "socket.gethostbyname",
        "socket.gethostbyaddr", "socket.getnameinfo", "urllib.Request", "http.client.connect", "ftplib.connect",
        "smtplib.connect", "nntplib.connect", "poplib.connect", "imaplib.open", "telnetlib.Telnet.open",
    }
    _WRITE_FLAGS = _os.O_WRONLY | _os.O_RDWR | _os.O_CREAT | _os.O_APPEND | _os.O_TRUNC
    _TMPFILE = getattr(_os, "O_TMPFILE", 0)

    def _path(p):
        if isinstance(p, int):
            return None
        try:
            return _os.path.abspath(_os.fsdecode(p))
        except Exception:
            return repr(p)

    def _hook(event, args):
        if event in _NET:
            if event == "socket.connect":
                import socket
                if args[0].family not in (socket.AF_INET, socket.AF_INET6):
                    return  # a local (unix) socket is not the network
            _note("net", f"{event} {args[1:] if event.startswith('socket.connect') else args!r}")
            raise RuntimeError(f"network access during a no-network test: {event}")
        if event == "open":
            path, mode, flags = args
            writing = (mode is not None and any(c in mode for c in "wax+")) or (mode is None and flags & _WRITE_FLAGS)
            if writing and path is not None:
                anon = _TMPFILE and flags is not None and (flags & _TMPFILE) == _TMPFILE
                p = _path(path)
                if p:
                    _note("write", ("anonymous-in " if anon else "") + p)
        elif event == "os.mkdir":
            p = _path(args[0])
            if p:
                _note("write", "mkdir " + p)
        elif event in ("os.truncate", "os.chmod", "os.utime", "tempfile.mkstemp", "tempfile.mkdtemp"):
            p = _path(args[0])
            if p:
                _note("write", p)
        elif event in ("os.rename", "os.link", "os.symlink"):
            p = _path(args[1])
            if p:
                _note("write", p)

    _sys.addaudithook(_hook)
'''


def audit_env(site_dir: Path, log: Path) -> dict[str, str]:
    """Variables to add to a subprocess environment so it (and its children) run under the audit hook."""
    import hwbench

    site_dir.mkdir(parents=True, exist_ok=True)
    (site_dir / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    package_root = str(Path(hwbench.__file__).resolve().parent.parent)  # the hwbench under test
    old = os.environ.get("PYTHONPATH")
    return {
        "PYTHONPATH": os.pathsep.join([str(site_dir), package_root] + ([old] if old else [])),
        "HWBENCH_TEST_AUDIT_LOG": str(log),
        "PYTHONDONTWRITEBYTECODE": "1",  # Python's own .pyc caches are not hwbench's writes
    }


@dataclass
class AuditLog:
    armed: dict[int, str] = field(default_factory=dict)  # pid -> argv
    net: list[str] = field(default_factory=list)
    writes: list[tuple[int, str]] = field(default_factory=list)  # (pid, path or "anonymous-in DIR")


def read_audit(log: Path) -> AuditLog:
    out = AuditLog()
    if not log.exists():
        return out
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        kind, pid, detail = (line.split("\t", 2) + ["", ""])[:3]
        if kind == "armed":
            out.armed[int(pid)] = detail
        elif kind == "net":
            out.net.append(f"pid {pid}: {detail}")
        elif kind == "write":
            out.writes.append((int(pid), detail))
    return out
