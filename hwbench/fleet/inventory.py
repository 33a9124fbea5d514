"""Who to benchmark: SSH destinations from the command line and a small YAML inventory.

A destination is ``[user@]host[:port]`` (``[user@][v6addr]:port`` for IPv6) or an alias from the
user's OpenSSH config; anything not given here (user, port, key, HostName) is left to
``~/.ssh/config`` and OpenSSH's defaults, which asyncssh reads.

Inventory file (YAML)::

    hosts:
      - name: vps-a                # label used for the results folder, records and pages (optional)
        host: 203.0.113.10         # address, name or ~/.ssh/config alias (required)
        user: ubuntu               # optional
        port: 22                   # optional
        identity_file: ~/.ssh/vps  # optional private key (its passphrase, if any, from the agent)
        usd_per_hour: 0.44         # optional: what you pay for it, shown as "inventory" in the tables
        hwbench: ~/venv/bin/hwbench  # optional: how to run hwbench there (overrides --remote-hwbench)

A bare list of such entries is accepted too. No passwords: the file has no field for one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwbench.errors import BadFile, BadInput

LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")
HOST_RE = re.compile(r"^[A-Za-z0-9_.%:-]+$")  # names, IPv4, IPv6 (inside brackets), scoped v6
FIELDS = ("name", "host", "user", "port", "identity_file", "usd_per_hour", "hwbench")
MAX_INVENTORY_BYTES = 1 * 2**20


@dataclass(frozen=True)
class FleetHost:
    """One machine to benchmark, as the user named it."""

    label: str  # folder name under --out and the label in records/pages
    host: str  # what asyncssh connects to (an address, a name or an ~/.ssh/config alias)
    user: str | None = None
    port: int | None = None
    identity_file: str | None = None
    usd_per_hour: float | None = None
    price_source: str | None = None  # where usd_per_hour came from ("inventory FILE")
    remote_hwbench: str | None = None  # command line that runs hwbench on this host (inventory 'hwbench')

    @property
    def destination(self) -> str:
        """``[user@]host[:port]`` as the user could type it to ssh."""
        h = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.user + '@' if self.user else ''}{h}{':' + str(self.port) if self.port else ''}"


def _check_port(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise BadInput(f"{where}: port {value!r} is not a number")
    try:
        port = int(value)
    except ValueError:
        raise BadInput(f"{where}: port {value!r} is not a number") from None
    if not 1 <= port <= 65535:
        raise BadInput(f"{where}: port {port} is out of range (1-65535)")
    return port


def _check_host(host: str, where: str) -> str:
    if not host or not HOST_RE.match(host) or host.startswith("-"):
        raise BadInput(f"{where}: {host!r} is not a host name, address or ~/.ssh/config alias")
    return host


def label_from(text: str) -> str:
    """A folder-safe label from a destination the user typed (``ubuntu@10.0.0.5:2222`` -> ``ubuntu@10.0.0.5_2222``)."""
    label = re.sub(r"[^A-Za-z0-9._@+-]", "_", text).strip("._") or "host"
    return label[:100]


def parse_destination(text: str, where: str | None = None) -> FleetHost:
    """``[user@]host[:port]``, ``[user@][v6]:port`` or an alias -> FleetHost labelled as typed."""
    where = where or f"HOST {text!r}"
    raw = text.strip()
    if not raw or raw.startswith("-") or any(c.isspace() for c in raw):
        raise BadInput(f"{where}: expected [user@]host[:port] or an ~/.ssh/config alias")
    user: str | None = None
    rest = raw
    if "@" in raw:
        user, _, rest = raw.rpartition("@")
        if not user or not re.match(r"^[A-Za-z0-9._-]+$", user):
            raise BadInput(f"{where}: {user!r} is not a user name")
    port: int | None = None
    if rest.startswith("["):
        host, sep, tail = rest[1:].partition("]")
        if not sep:
            raise BadInput(f"{where}: missing ']' after the IPv6 address")
        if tail:
            if not tail.startswith(":"):
                raise BadInput(f"{where}: expected :PORT after ']'")
            port = _check_port(tail[1:], where)
    elif rest.count(":") == 1:
        host, _, p = rest.partition(":")
        port = _check_port(p, where)
    else:
        host = rest  # a name, an IPv4 address or a bare IPv6 address (no port)
    _check_host(host, where)
    return FleetHost(label=label_from(raw), host=host, user=user, port=port)


def _positive_usd(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInput(f"{where}: usd_per_hour {value!r} is not a number of USD")
    v = float(value)
    if not math.isfinite(v) or v <= 0 or v > 100_000:
        raise BadInput(f"{where}: usd_per_hour must be a positive number of USD per hour, got {value!r}")
    return v


def parse_inventory(data: Any, source: str) -> list[FleetHost]:
    """Validate an already-parsed inventory; each problem is one line naming the entry and the field."""
    entries = data.get("hosts") if isinstance(data, dict) else data
    if isinstance(data, dict) and set(data) - {"hosts"}:
        raise BadFile(f"{source}: unknown top-level field(s) {', '.join(sorted(map(str, set(data) - {'hosts'})))}; expected 'hosts'")
    if not isinstance(entries, list) or not entries:
        raise BadFile(f"{source}: expected a list of hosts (or 'hosts:' with one), each with at least 'host'")
    out: list[FleetHost] = []
    for i, e in enumerate(entries, 1):
        where = f"{source}: host #{i}"
        if isinstance(e, str):
            out.append(parse_destination(e, where))
            continue
        if not isinstance(e, dict):
            raise BadFile(f"{where}: expected a mapping with 'host' (and optional {', '.join(FIELDS[2:])}, name)")
        unknown = sorted(str(k) for k in e if k not in FIELDS)
        if unknown:
            hint = " (passwords are never read from files: use keys or the agent)" if any("pass" in k.lower() for k in unknown) else ""
            raise BadFile(f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}{hint}")
        host = e.get("host")
        if not isinstance(host, str):
            raise BadFile(f"{where}: 'host' is missing or not text")
        base = parse_destination(host, f"{where}: host")
        user = e.get("user", base.user)
        if user is not None and (not isinstance(user, str) or not re.match(r"^[A-Za-z0-9._-]+$", user)):
            raise BadFile(f"{where}: user {user!r} is not a user name")
        port = _check_port(e["port"], where) if e.get("port") is not None else base.port
        ident = e.get("identity_file")
        if ident is not None and (not isinstance(ident, str) or not ident.strip()):
            raise BadFile(f"{where}: identity_file must be a path")
        name = e.get("name")
        if name is not None:
            if not isinstance(name, str) or not LABEL_RE.match(name):
                raise BadFile(f"{where}: name {name!r}: use letters, digits and . _ @ + - (it names a folder)")
            label = name
        else:
            label = label_from(FleetHost("", base.host, user, port).destination)
        usd = _positive_usd(e["usd_per_hour"], where) if e.get("usd_per_hour") is not None else None
        hw = e.get("hwbench")
        if hw is not None and (not isinstance(hw, str) or not hw.strip() or "\n" in hw):
            raise BadFile(f"{where}: hwbench must be one command line (e.g. ~/venv/bin/hwbench)")
        out.append(
            FleetHost(
                label=label,
                host=base.host,
                user=user,
                port=port,
                identity_file=ident.strip() if isinstance(ident, str) else None,
                usd_per_hour=usd,
                price_source=f"inventory {Path(source).name}" if usd is not None else None,
                remote_hwbench=hw.strip() if isinstance(hw, str) else None,
            )
        )
    return out


def load_inventory(path: str | Path) -> list[FleetHost]:
    import yaml

    p = Path(path)
    try:
        if p.stat().st_size > MAX_INVENTORY_BYTES:
            raise BadFile(f"--inventory {p}: larger than {MAX_INVENTORY_BYTES} bytes; is it really a host list?")
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise BadFile(f"--inventory {p}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise BadFile(f"--inventory {p}: not UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise BadFile(f"--inventory {p}: not valid YAML{at}") from None
    try:
        return parse_inventory(data, str(p))
    except BadInput as e:
        raise BadFile(f"--inventory {e}") from None


def select_hosts(args: tuple[str, ...] | list[str], inventory: list[FleetHost] | None) -> list[FleetHost]:
    """HOST arguments (an inventory name picks that entry) or, with none, the whole inventory; labels unique."""
    by_name = {h.label: h for h in inventory or []}
    hosts: list[FleetHost] = []
    if args:
        for a in args:
            hosts.append(by_name[a] if a in by_name else parse_destination(a))
    else:
        hosts = list(inventory or [])
    if not hosts:
        raise BadInput("no hosts: give HOST arguments ([user@]host[:port] or ~/.ssh/config aliases) or --inventory FILE")
    seen: dict[str, FleetHost] = {}
    for h in hosts:
        if h.label in seen:
            raise BadInput(f"host label {h.label!r} is used twice; give each host its own 'name' in the inventory")
        seen[h.label] = h
    return hosts
