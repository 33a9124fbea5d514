"""A real OpenSSH server for the fleet tests (the fixture is in tests/fleet/conftest.py), run as the current user inside the test's temp dir.

``sshd -D -f <generated config>`` listens on a free 127.0.0.1 port with a generated host key and
accepts one generated client key. Nothing outside tmp_path is changed: the client side gets its
own HOME (``~/.ssh/config``, key, known_hosts) and no agent. ``make test`` installs Debian's
openssh-server (and, when running as root without systemd, creates the /run/sshd folder sshd
insists on).

"Remote hwbench" on that host is a small wrapper script (``--remote-hwbench``): ``--version`` and
``detect`` run this checkout's real hwbench; ``bench`` is a STAND-IN that writes one of the
committed fixture records (tests/fixtures/records/) as the new run's record, instead of a real
llama.cpp run (tens of seconds on 2 cores; one slow test does the real thing). Its mode makes it
crash (exit 134 after an abort message), hang, or drop the SSH connection.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RECORDS = REPO / "tests" / "fixtures" / "records"
SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hwbench-test", "-f", str(path)], check=True)
    return path


@dataclass
class SshServer:
    port: int
    host_key_pub: str  # "ssh-ed25519 AAAA..."
    log: Path
    proc: subprocess.Popen[bytes]
    remote_cache: Path  # the XDG_CACHE_HOME sessions get (the fleet venv would go here)

    def known_hosts_line(self, host: str = "127.0.0.1") -> str:
        kind, b64 = self.host_key_pub.split()[:2]
        return f"[{host}]:{self.port} {kind} {b64}\n"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_sshd(d: Path, authorized: list[Path], port: int | None = None) -> SshServer:
    if not os.path.exists(SSHD):
        pytest.fail("OpenSSH server not found: `apt-get install -y openssh-server` (make test does it)")
    if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
        pytest.fail("sshd run as root needs /run/sshd (Debian's package creates it at boot): `mkdir -p /run/sshd` (make test does it)")
    d.mkdir(parents=True, exist_ok=True)
    host_key = keygen(d / "ssh_host_ed25519_key")
    auth = d / "authorized_keys"
    auth.write_text("".join(p.read_text() for p in authorized))
    auth.chmod(0o600)
    cache = d / "remote-cache"
    cache.mkdir()
    port = port or free_port()
    log = d / "sshd.log"
    cfg = d / "sshd_config"
    cfg.write_text(
        "\n".join(
            [
                "ListenAddress 127.0.0.1",
                f"Port {port}",
                f"HostKey {host_key}",
                f"PidFile {d / 'sshd.pid'}",
                f"AuthorizedKeysFile {auth}",
                f"AllowUsers {getpass.getuser()}",
                "StrictModes no",
                "UsePAM no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin prohibit-password",
                "Subsystem sftp internal-sftp",
                f"SetEnv XDG_CACHE_HOME={cache} TMPDIR={d}",
                "LogLevel VERBOSE",
                "",
            ]
        )
    )
    proc = subprocess.Popen([SSHD, "-D", "-E", str(log), "-f", str(cfg)], stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"sshd exited with status {proc.returncode}: {log.read_text() if log.exists() else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("sshd did not start listening within 10 s")
    return SshServer(port, (d / "ssh_host_ed25519_key.pub").read_text().strip(), log, proc, cache)


@dataclass
class Fleet:
    """A client HOME (ssh config with two aliases, a key, known_hosts) and the server it talks to."""

    home: Path
    server: SshServer
    client_key: Path
    wrong_key: Path
    calls: Path  # one line per call of the remote wrapper

    def wrapper(self, mode: str = "ok", fixture: str = "aws-c8g-4xlarge.json", name: str | None = None) -> Path:
        """The remote hwbench stand-in (see the module docstring); ``mode``: ok, crash, hang, drop, bad-detect, real."""
        p = self.home.parent / (name or f"remote-hwbench-{mode}")
        p.write_text(
            WRAPPER.format(
                python=sys.executable,
                mode=mode,
                log=str(self.calls),
                fixture=str(RECORDS / fixture),
                repo=str(REPO),
                pids=str(self.home.parent / "pids"),
            )
        )
        p.chmod(0o755)
        return p

    def call_count(self, what: str = "bench") -> int:
        if not self.calls.exists():
            return 0
        return sum(1 for ln in self.calls.read_text().splitlines() if ln.split(" ", 1)[-1].startswith(what))


WRAPPER = '''#!{python}
"""STAND-IN remote hwbench for tests/fleet (mode {mode!r}): real hwbench for everything but `bench`,
which writes the fixture record {fixture} as this run's record instead of running llama.cpp."""
import json, os, secrets, signal, sys, time
args = sys.argv[1:]
with open({log!r}, "a") as f:
    f.write(f"{{os.getpid()}} {{' '.join(args)}}\\n")
env = dict(os.environ, PYTHONPATH={repo!r}, HWBENCH_CACHE_DIR=os.path.join(os.environ.get("TMPDIR", "/tmp"), "hw-cache"),
           HWBENCH_DATA_DIR=os.path.join(os.environ.get("TMPDIR", "/tmp"), "hw-data"),
           HWBENCH_KERNELS="0")  # a real remote bench: no once-per-machine CPU kernel probe (~100 s) in the fleet tests
if not args or args[0] != "bench" or {mode!r} == "real":
    if args[:1] == ["detect"] and {mode!r} == "bad-detect":
        print("this is not JSON")
        sys.exit(0)
    os.execve(sys.executable, [sys.executable, "-m", "hwbench", *args], env)
out = args[args.index("--out") + 1]
print("stand-in remote benchmark: loading", file=sys.stderr, flush=True)
if {mode!r} == "crash":
    print("GGML_ASSERT(ctx->mem_buffer != NULL) failed (stand-in crash)", file=sys.stderr, flush=True)
    os._exit(134)
if {mode!r} == "hang":
    with open({pids!r}, "a") as f:
        f.write(f"{{os.getpid()}}\\n")
    print("stand-in remote benchmark: running tg128 repetition 1/5 (and hanging)", file=sys.stderr, flush=True)
    time.sleep(300)
    sys.exit(0)
if {mode!r} == "drop":
    pid = os.getppid()
    while pid > 1:
        comm = open(f"/proc/{{pid}}/comm").read().strip()
        if comm.startswith("sshd"):
            os.kill(pid, signal.SIGKILL)  # the session's sshd: the client sees the connection drop
            time.sleep(30)
        pid = int(open(f"/proc/{{pid}}/stat").read().rsplit(")", 1)[1].split()[1])
    sys.exit(99)
rec = json.load(open({fixture!r}))
rec["run_id"] = time.strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(4)
for i in (1, 2):
    print(f"stand-in remote benchmark: running tg128 repetition {{i}}/2", file=sys.stderr, flush=True)
tmp = os.path.join(out, "." + rec["run_id"] + ".tmp")
with open(tmp, "w") as f:
    json.dump(rec, f, indent=2)
os.rename(tmp, os.path.join(out, rec["run_id"] + ".json"))
print(json.dumps(rec))
'''
