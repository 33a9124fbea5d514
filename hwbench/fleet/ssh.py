"""How we connect: asyncssh with the user's OpenSSH setup, a strict host-key policy, one-line errors.

asyncssh reads ``~/.ssh/config`` (HostName, User, Port, IdentityFile, IdentitiesOnly,
UserKnownHostsFile, ProxyJump ...), uses the agent (``SSH_AUTH_SOCK``) and the default keys, and
checks the server's key against ``known_hosts``. We add one thing, OpenSSH's
``StrictHostKeyChecking=accept-new`` behind ``--accept-new-host-keys``: a host with *no* key in
known_hosts is trusted on first use and its key appended to the user's known_hosts file; a host
whose key *changed* is always refused. Password and keyboard-interactive authentication are off:
nothing is ever prompted for, taken on the command line or stored.
"""

from __future__ import annotations

import asyncio
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwbench.fleet.inventory import FleetHost


class FleetHostError(Exception):
    """A host failed; the message is one line naming the cause (the caller adds the host)."""


@dataclass
class HostKeyState:
    """What the host-key check saw (filled in by the client object during the handshake)."""

    accept_new: bool
    known_hosts_files: list[Path]
    fingerprint: str | None = None
    changed: bool = False
    added_to: Path | None = None
    notes: list[str] = field(default_factory=list)


def _known_hosts_files(option: Any) -> list[Path]:
    """The user's known_hosts files asyncssh will read (UserKnownHostsFile from the config, else ~/.ssh/known_hosts)."""
    if isinstance(option, (list, tuple)) and option:
        return [Path(os.path.expanduser(str(p))) for p in option]
    return [Path(os.path.expanduser("~/.ssh/known_hosts"))]


def _known_line(host: str, port: int, key: Any) -> str:
    name = host if port == 22 else f"[{host}]:{port}"
    parts = key.export_public_key("openssh").decode("ascii").split()
    return f"{name} {parts[0]} {parts[1]}\n"


def _make_client_class() -> type:
    import asyncssh

    class _Client(asyncssh.SSHClient):  # type: ignore[misc]
        """Decides about host keys that are not in known_hosts; never answers a password prompt."""

        def __init__(self, state: HostKeyState) -> None:
            self.state = state

        def validate_host_public_key(self, host: str, addr: str, port: int, key: Any) -> bool:
            self.state.fingerprint = key.get_fingerprint()
            known = False
            for f in self.state.known_hosts_files:
                if not f.is_file():
                    continue
                try:
                    trusted = asyncssh.match_known_hosts(str(f), host, addr, port)
                except (OSError, ValueError):
                    continue
                if trusted[0] or trusted[1]:  # trusted host keys or CA keys for this host
                    known = True
            if known:
                self.state.changed = True
                return False
            if not self.state.accept_new:
                return False
            target = self.state.known_hosts_files[0]
            try:
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                with os.fdopen(fd, "a", encoding="ascii") as fh:
                    fh.write(_known_line(host, port, key))
            except OSError as e:
                self.state.notes.append(f"could not add the host key to {target}: {e.strerror}")
            else:
                self.state.added_to = target
            return True

        def password_auth_requested(self) -> None:
            return None

        def kbdint_auth_requested(self) -> None:
            return None

    return _Client


async def connect(host: FleetHost, *, accept_new: bool, connect_timeout_s: float) -> tuple[Any, HostKeyState]:
    """An open asyncssh connection to ``host``; FleetHostError (one line) when it cannot be had."""
    import asyncssh

    kwargs: dict[str, Any] = {"password_auth": False, "kbdint_auth": False, "connect_timeout": connect_timeout_s}
    if host.port is not None:
        kwargs["port"] = host.port
    if host.user is not None:
        kwargs["username"] = host.user
    if host.identity_file is not None:
        kwargs["client_keys"] = [os.path.expanduser(host.identity_file)]
    try:
        options = asyncssh.SSHClientConnectionOptions(host=host.host, **kwargs)
    except (OSError, ValueError, asyncssh.Error) as e:
        raise FleetHostError(_key_or_config_error(e, host)) from None
    if options.known_hosts is None:
        raise FleetHostError("host key checking is turned off for this host in ~/.ssh/config (UserKnownHostsFile none); hwbench refuses")
    state = HostKeyState(accept_new=accept_new, known_hosts_files=_known_hosts_files(options.known_hosts))
    client = _make_client_class()
    try:
        conn = await asyncssh.connect(host.host, options=options, client_factory=lambda: client(state))
    except asyncssh.HostKeyNotVerifiable:
        fp = f" (its fingerprint: {state.fingerprint})" if state.fingerprint else ""
        if state.changed:
            raise FleetHostError(
                f"host key CHANGED: the key offered{fp} differs from the one in known_hosts "
                "(a rebuilt machine, or someone in between); check it, remove the old one with ssh-keygen -R, then retry"
            ) from None
        raise FleetHostError(
            f"unknown host key{fp}: not in {state.known_hosts_files[0]}; check it, then re-run with --accept-new-host-keys (or ssh to it once)"
        ) from None
    except asyncssh.PermissionDenied:
        who = f"{host.user + '@' if host.user else ''}{host.host}"
        keys = host.identity_file or "the agent's and ~/.ssh's default keys (or IdentityFile from ~/.ssh/config)"
        raise FleetHostError(f"authentication refused for {who}: no key was accepted (tried {keys})") from None
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as e:
        raise FleetHostError(_key_or_config_error(e, host)) from None
    except asyncssh.Error as e:
        raise FleetHostError(describe(e)) from None
    except OSError as e:
        raise FleetHostError(describe(e, host)) from None
    except asyncio.TimeoutError:
        raise FleetHostError(f"no SSH answer within {connect_timeout_s:g} s") from None
    return conn, state


def _key_or_config_error(e: BaseException, host: FleetHost) -> str:
    text = " ".join(str(e).split())
    if "passphrase" in text.lower():
        return f"the private key is encrypted ({text}): add it to ssh-agent; passphrases are never taken on the command line"
    if isinstance(e, OSError) and host.identity_file:
        return f"cannot read identity_file {host.identity_file}: {e.strerror or text}"
    return f"cannot use the SSH key or config: {text}"


def describe(e: BaseException, host: FleetHost | None = None) -> str:
    """One line for a connection-level failure."""
    import asyncssh

    where = f" {host.host}{':' + str(host.port) if host and host.port else ''}" if host else ""
    if isinstance(e, ConnectionRefusedError):
        return f"connection refused by{where} (is sshd running there, on this port?)"
    if isinstance(e, socket.gaierror):
        return f"cannot resolve host name{where} ({e.strerror})"
    if isinstance(e, (TimeoutError, asyncio.TimeoutError)):
        return f"no answer from{where} (connect timed out)"
    if isinstance(e, asyncssh.ConnectionLost):
        return f"connection lost ({' '.join(str(e).split()) or 'closed by the remote side'})"
    if isinstance(e, asyncssh.DisconnectError):
        return f"disconnected by the host: {' '.join(str(e.reason).split())}"
    if isinstance(e, asyncssh.ChannelOpenError):
        return f"the host refused to open a session: {' '.join(str(e.reason).split())}"
    if isinstance(e, OSError):
        return f"cannot connect to{where}: {e.strerror or ' '.join(str(e).split())}"
    return f"{type(e).__name__}: {' '.join(str(e).split())}"
