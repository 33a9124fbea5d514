#!/usr/bin/env python3
"""Regenerate reports/examples/fleet/: a REAL `hwbench fleet bench` against two local sshd "hosts".

Starts sshd as the current user on a free 127.0.0.1 port (the same helper the tests use), gives a
temporary HOME an ~/.ssh/config with two aliases (local-a, local-b) for it, and runs this checkout's
`hwbench fleet bench` with the real remote `hwbench bench` (llama.cpp) on both, one after the other.
Both "hosts" are this machine: the example shows the output, not a hardware comparison. The prices in
the inventory are illustrative (nobody rents 127.0.0.1) and labelled so.

    .venv/bin/python scripts/make_fleet_example.py        # from the repository root; ~2-4 min on 2 cores
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "helpers"))

from tests_helpers_sshd import WRAPPER, keygen, start_sshd  # noqa: E402

OUT = REPO / "reports" / "examples" / "fleet"
BENCH = ["-r", "3", "-p", "128", "-n", "32"]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hwbench-fleet-example-") as t:
        tmp = Path(t)
        home = tmp / "home"
        (home / ".ssh").mkdir(parents=True, mode=0o700)
        key = keygen(home / ".ssh" / "example_key")
        server = start_sshd(tmp / "sshd", [key.with_suffix(".pub")])
        try:
            user = os.environ.get("USER") or subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
            (home / ".ssh" / "config").write_text(
                f"Host local-a local-b\n  HostName 127.0.0.1\n  Port {server.port}\n  User {user}\n  IdentityFile {key}\n  IdentitiesOnly yes\n"
            )
            (home / ".ssh" / "known_hosts").write_text(server.known_hosts_line())
            wrapper = tmp / "remote-hwbench"
            wrapper.write_text(
                WRAPPER.format(
                    python=sys.executable, mode="real", log=str(tmp / "calls.log"), fixture="", repo=str(REPO), pids=str(tmp / "pids")
                )
            )
            wrapper.chmod(0o755)
            inv = tmp / "hosts.yaml"
            inv.write_text(
                "# illustrative prices: both hosts are 127.0.0.1\n"
                "hosts:\n"
                "  - {host: local-a, usd_per_hour: 0.10}\n"
                "  - {host: local-b, usd_per_hour: 0.25}\n"
            )
            out = tmp / "out"
            env = dict(os.environ, HOME=str(home), PYTHONPATH=str(REPO))
            env.pop("SSH_AUTH_SOCK", None)
            cmd = [sys.executable, "-m", "hwbench", "fleet", "bench", "--inventory", str(inv), "--remote-hwbench", str(wrapper)]
            cmd += [*BENCH, "--jobs", "1", "--out", str(out)]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp)
            if proc.returncode != 0:
                sys.exit(f"fleet bench failed ({proc.returncode}):\n{proc.stderr}")
        finally:
            server.stop()
        OUT.mkdir(parents=True, exist_ok=True)  # README.md there is written by hand
        for name in ("compare.html", "compare.csv", "compare.json", "fleet.json"):
            (OUT / name).write_text((out / name).read_text().replace(str(tmp), "$TMP"))
        (OUT / "table.txt").write_text(proc.stdout)
        (OUT / "progress.txt").write_text(proc.stderr.replace(str(tmp), "$TMP"))
        shown = " ".join(["hwbench fleet bench --inventory hosts.yaml --remote-hwbench REMOTE-HWBENCH", *BENCH, "--jobs 1 --out OUT"])
        print(f"wrote {OUT} from: {shown}")


if __name__ == "__main__":
    main()
