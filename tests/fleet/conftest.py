"""Fixtures of the fleet tests: a real sshd on 127.0.0.1 and a client HOME (see tests_helpers_sshd)."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests_helpers_sshd import Fleet, keygen, start_sshd


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fleet]:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    client_key = keygen(home / ".ssh" / "fleet_key")
    wrong_key = keygen(tmp_path / "wrong_key")
    server = start_sshd(tmp_path / "sshd", [client_key.with_suffix(".pub")])
    (home / ".ssh" / "config").write_text(
        f"Host box-a box-b\n  HostName 127.0.0.1\n  Port {server.port}\n  User {getpass.getuser()}\n"
        f"  IdentityFile {client_key}\n  IdentitiesOnly yes\n"
        f"Host 127.0.0.1\n  User {getpass.getuser()}\n"
    )
    (home / ".ssh" / "known_hosts").write_text(server.known_hosts_line())
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.chdir(tmp_path)
    yield Fleet(home, server, client_key, wrong_key, tmp_path / "calls.log")
    server.stop()
