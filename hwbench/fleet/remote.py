"""What runs on one host: find or install hwbench, detect, bench, copy the records back.

Every remote command is a POSIX ``sh -c`` script (the user's login shell may be fish or csh) with
every argument quoted. Long commands run under a watchdog: if the SSH channel closes (Ctrl-C,
timeout, dropped connection) the remote benchmark is sent SIGTERM instead of running on unseen.
Records are copied back over SFTP (``cat`` when the host offers no SFTP), validated with the same
reader ``compare`` uses, then handed to the caller's staging folder.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwbench.fleet.ssh import FleetHostError

VENV = '"${XDG_CACHE_HOME:-$HOME/.cache}/hwbench/fleet-venv"'
MAX_STDOUT_BYTES = 64 * 2**20
STDERR_TAIL = 20


@dataclass
class RemotePlan:
    """How to get and run hwbench on each host (the same for all hosts of a run)."""

    bench_args: list[str]  # validated `hwbench bench` options, forwarded verbatim
    install: str = "auto"  # auto | pip | none
    remote_hwbench: str | None = None  # a command line to run instead of finding/installing
    install_spec: str = "hwbench[llamacpp]"  # pip requirement installed into the venv


@dataclass
class RemoteOutcome:
    hwbench: str  # the command used on the host
    version: str  # its `--version`
    installed: bool
    detect_json: str
    records: list[str] = field(default_factory=list)  # record file names, copied into the staging folder and validated
    timings_s: dict[str, float] = field(default_factory=dict)


@dataclass
class Finished:
    exit_status: int | None
    exit_signal: str | None
    stdout: str
    stderr_tail: list[str]


def _one_line(text: str, limit: int = 300) -> str:
    s = " ".join(text.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def watchdog(cmd: str) -> str:
    """``cmd`` in the background, sent SIGTERM when our stdin (the SSH channel) closes.

    A non-interactive sh gives background jobs /dev/null as stdin, so the channel is kept on fd 3
    for the watcher's ``cat``.
    """
    return (
        "exec 3<&0; "
        f"{cmd} </dev/null 3<&- & p=$!; "
        "(cat <&3 >/dev/null; kill -TERM $p 2>/dev/null) & w=$!; "
        "exec 3<&-; wait $p; s=$?; kill $w 2>/dev/null; exit $s"
    )


async def run_remote(conn: Any, script: str, *, on_stderr: Callable[[str], None] | None = None, stdin_open: bool = False) -> Finished:
    """Run ``sh -c script``; stream stderr lines to ``on_stderr``; keep stdout (bounded) and the stderr tail."""
    proc = await conn.create_process("sh -c " + shlex.quote(script), encoding="utf-8", errors="replace")
    tail: list[str] = []
    try:
        if not stdin_open:
            proc.stdin.write_eof()

        async def read_err() -> None:
            async for line in proc.stderr:
                line = line.rstrip("\n")
                if not line.strip():
                    continue
                tail.append(line)
                del tail[:-STDERR_TAIL]
                if on_stderr is not None:
                    on_stderr(line)

        async def read_out() -> str:
            chunks: list[str] = []
            size = 0
            while True:
                chunk = await proc.stdout.read(65536)
                if not chunk:
                    return "".join(chunks)
                size += len(chunk)
                if size > MAX_STDOUT_BYTES:
                    raise FleetHostError(f"the remote command printed more than {MAX_STDOUT_BYTES} bytes; stopped")
                chunks.append(chunk)

        out, _ = await asyncio.gather(read_out(), read_err())
        await proc.wait_closed()
    except BaseException:
        # cancelled (timeout, Ctrl-C) or failed: stop the remote side too (the watchdog sees the channel close)
        try:
            proc.send_signal("TERM")
        except Exception:  # noqa: BLE001 - best effort; the channel may already be gone
            pass
        proc.close()
        raise
    return Finished(proc.exit_status, proc.exit_signal[0] if proc.exit_signal else None, out, tail)


def _signal_text(sig: int | str) -> str:
    """' (SIGABRT: it crashed)' and the like, for a shell status 128+N or an SSH exit-signal name."""
    import signal

    try:
        name = signal.Signals(sig).name if isinstance(sig, int) else "SIG" + str(sig).removeprefix("SIG")
    except ValueError:
        return ""
    why = {
        "SIGABRT": "it crashed",
        "SIGSEGV": "it crashed",
        "SIGBUS": "it crashed",
        "SIGILL": "it crashed: an instruction this CPU lacks?",
        "SIGFPE": "it crashed",
        "SIGKILL": "killed: out of memory?",
        "SIGTERM": "stopped",
        "SIGINT": "stopped",
        "SIGHUP": "stopped",
    }.get(name)
    return f" ({name}: {why})" if why else f" ({name})"


def _failure(what: str, fin: Finished) -> str:
    if fin.exit_signal:
        how = f"was killed by signal {fin.exit_signal}" + _signal_text(fin.exit_signal)
    elif fin.exit_status is None:
        how = "ended without an exit status (connection closed?)"
    else:
        how = f"exited with status {fin.exit_status}"
        if fin.exit_status > 128:
            how += _signal_text(fin.exit_status - 128)
    last = next((ln for ln in reversed(fin.stderr_tail) if ln.strip()), "")
    return f"{what} {how}" + (f"; last message: {_one_line(last)}" if last else "")


FIND = (
    'for c in "$(command -v hwbench 2>/dev/null)" "$HOME/.local/bin/hwbench" ' + VENV + "/bin/hwbench; do "
    '[ -n "$c" ] && [ -x "$c" ] && { echo "$c"; exit 0; }; done; exit 3'
)


def install_script(spec: str) -> str:
    v = VENV
    return (
        "set -e; "
        "PY=$(command -v python3 || true); "
        '[ -n "$PY" ] || { echo "python3 not found on the host" >&2; exit 90; }; '
        '"$PY" -c "import sys; sys.exit(sys.version_info < (3, 10))" || { echo "python3 on the host is older than 3.10" >&2; exit 91; }; '
        f'mkdir -p "$(dirname {v})"; '
        f'[ -x {v}/bin/pip ] || "$PY" -m venv {v} >&2 || {{ echo "python3 -m venv failed (install python3-venv)" >&2; exit 92; }}; '
        "if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then "
        'export CMAKE_ARGS="-DGGML_CUDA=on"; echo "NVIDIA GPU found: building llama.cpp with CUDA (CMAKE_ARGS=$CMAKE_ARGS)" >&2; fi; '
        f"{v}/bin/python -m pip install --progress-bar off {shlex.quote(spec)} >&2; "
        f"echo {v}/bin/hwbench"
    )


async def bench_on_host(conn: Any, plan: RemotePlan, dest: Path, say: Callable[[str], None], stage: list[str]) -> RemoteOutcome:
    """Run the plan on one connected host; records land in ``dest`` (a staging folder). ``stage[0]`` names the current step (for timeout messages)."""
    t0 = time.monotonic()
    timings: dict[str, float] = {}
    installed = False

    def step(name: str) -> None:
        stage[0] = name

    # 1. find or install hwbench
    step("finding hwbench")
    if plan.remote_hwbench:
        hw = plan.remote_hwbench
    else:
        hw = ""
        if plan.install != "pip":
            fin = await run_remote(conn, FIND)
            if fin.exit_status == 0 and fin.stdout.strip():
                hw = shlex.quote(fin.stdout.strip().splitlines()[-1])
        if not hw:
            if plan.install == "none":
                raise FleetHostError(
                    "hwbench is not installed on the host (not on PATH, nor in ~/.local/bin or the fleet venv); use --install auto"
                )
            step("installing hwbench")
            say(f"installing {plan.install_spec} into a venv in the host's cache dir (pip; llama.cpp builds from source, minutes)")
            fin = await run_remote(
                conn,
                watchdog(install_script(plan.install_spec)),
                on_stderr=lambda ln: say(f"install: {_one_line(ln, 160)}"),
                stdin_open=True,
            )
            if fin.exit_status != 0 or not fin.stdout.strip():
                raise FleetHostError("install failed: " + _failure(f"pip install {plan.install_spec}", fin))
            hw = shlex.quote(fin.stdout.strip().splitlines()[-1])
            installed = True
            timings["install_s"] = round(time.monotonic() - t0, 3)
    fin = await run_remote(conn, f"{hw} --version")
    version = fin.stdout.strip().splitlines()[-1] if fin.exit_status == 0 and fin.stdout.strip() else ""
    if not version.startswith("hwbench"):
        raise FleetHostError(
            _failure(f"`{_one_line(hw, 80)} --version`", fin)
            if fin.exit_status
            else f"`{_one_line(hw, 80)} --version` does not look like hwbench ({_one_line(version, 80)!r})"
        )
    say(f"using {_one_line(hw, 120)} ({version})")

    # 2. detect
    step("detecting")
    t = time.monotonic()
    fin = await run_remote(conn, f"{hw} detect --json")
    if fin.exit_status != 0:
        raise FleetHostError(_failure("remote `hwbench detect --json`", fin))
    from pydantic import ValidationError

    from hwbench.schema import HostInfo

    try:
        HostInfo.model_validate_json(fin.stdout)
    except ValidationError as e:
        raise FleetHostError(
            f"remote `hwbench detect --json` printed no valid inventory ({_one_line(str(e.errors()[0].get('msg')), 120)})"
        ) from None
    detect_json = fin.stdout
    timings["detect_s"] = round(time.monotonic() - t, 3)

    # 3. bench into a fresh remote folder
    step("benchmarking")
    t = time.monotonic()
    fin = await run_remote(conn, 'mktemp -d "${TMPDIR:-/tmp}/hwbench-fleet.XXXXXX"')
    rdir = fin.stdout.strip()
    if fin.exit_status != 0 or not rdir.startswith("/"):
        raise FleetHostError(_failure("mktemp -d", fin))
    try:
        cmd = " ".join([hw, "bench", *map(shlex.quote, plan.bench_args), "--out", shlex.quote(rdir), "--json"])
        say("benchmarking: hwbench bench " + (" ".join(plan.bench_args) or "(its defaults)"))
        # COLUMNS: rich on the host wraps its progress at 80 columns without a terminal
        fin = await run_remote(conn, "export COLUMNS=400; " + watchdog(cmd), on_stderr=lambda ln: say(_one_line(ln, 300)), stdin_open=True)
        if fin.exit_status != 0:
            raise FleetHostError(_failure("remote `hwbench bench`", fin))
        timings["bench_s"] = round(time.monotonic() - t, 3)

        # 4. copy back
        step("copying back")
        records = await fetch_records(conn, rdir, dest)
        if not records:
            raise FleetHostError(f"remote `hwbench bench` exited 0 but wrote no record in {rdir}")
        say(f"copied back {len(records)} record(s): {', '.join(records)}")
    finally:
        if not conn.is_closed():
            try:
                await asyncio.shield(run_remote(conn, f"rm -rf {shlex.quote(rdir)}"))
            except Exception:  # noqa: BLE001 - cleanup of the remote temp dir is best effort
                pass
    return RemoteOutcome(hwbench=hw, version=version, installed=installed, detect_json=detect_json, records=records, timings_s=timings)


async def fetch_records(conn: Any, rdir: str, dest: Path) -> list[str]:
    """Copy every ``*.json`` record of the remote folder into ``dest``, each validated like `compare` reads them."""
    import asyncssh

    from hwbench.report.records import MAX_RECORD_BYTES

    out: dict[str, bytes] = {}
    try:
        async with conn.start_sftp_client() as sftp:
            names = sorted(n for n in await sftp.listdir(rdir) if n.endswith(".json") and not n.startswith("."))
            for n in names:
                attrs = await sftp.stat(f"{rdir}/{n}")
                if attrs.size is not None and attrs.size > MAX_RECORD_BYTES:
                    raise FleetHostError(f"remote record {n} is {attrs.size} bytes, more than the {MAX_RECORD_BYTES} a record may have")
                async with sftp.open(f"{rdir}/{n}", "rb") as f:
                    out[n] = await f.read()
    except (asyncssh.ChannelOpenError, asyncssh.SFTPError) as e:
        if isinstance(e, asyncssh.SFTPError) and out:
            raise FleetHostError(f"copying records back over SFTP failed: {_one_line(str(e.reason))}") from None
        out = await _fetch_with_cat(conn, rdir)
    for n, data in out.items():
        store_record(dest, n, data)
    return sorted(out)


async def _fetch_with_cat(conn: Any, rdir: str) -> dict[str, bytes]:
    """No SFTP on the host: list with ls, read each record with cat (as bytes)."""
    fin = await run_remote(conn, f"cd {shlex.quote(rdir)} && ls -1")
    out: dict[str, bytes] = {}
    for n in fin.stdout.splitlines():
        if not n.endswith(".json") or n.startswith(".") or "/" in n:
            continue
        proc = await conn.create_process("sh -c " + shlex.quote(f"cat {shlex.quote(rdir + '/' + n)}"), encoding=None)
        data = await proc.stdout.read()
        await proc.wait_closed()
        if proc.exit_status != 0:
            raise FleetHostError(f"cannot read remote record {n} (cat exited with status {proc.exit_status})")
        out[n] = bytes(data)
    return out


def store_record(dest: Path, name: str, data: bytes) -> None:
    """Write one copied-back record into the staging folder and validate it as `compare` reads records."""
    from hwbench.report.records import load_record

    if name in ("host.json", "detect.json", "fleet.json") or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise FleetHostError(f"remote record file name {name!r} is not a run id")
    p = dest / name
    p.write_bytes(data)
    try:
        load_record(p)
    except ValueError as e:
        raise FleetHostError(f"remote record {name} is not a valid hwbench record: {e}") from None
