"""Redact what identifies a machine before a report or comparison is shared.

Hostnames, IPv4/IPv6 and MAC addresses, serial numbers, GPU UUIDs and home-folder user names are
replaced by ``[redacted]`` / ``~``: in the fields that hold them and wherever they appear in free text
(warnings, notes, file paths, error messages).
"""

from __future__ import annotations

import re
from typing import Any

from hwbench.schema import HostInfo, RunRecord

REDACTED = "[redacted]"

_IPV4 = re.compile(r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w.])")
_MAC = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:])")
# IPv6: at least 3 groups with '::' or 8 groups; avoid matching times like 12:30:45
_IPV6 = re.compile(
    r"(?<![0-9A-Fa-f:])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4}|::(?:ffff:)?[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){1,6})(?![0-9A-Fa-f:])"
)
_GPU_UUID = re.compile(r"\b(?:GPU|MIG)-[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_HOME = re.compile(r"(?P<root>/home/|/Users/|/root/|C:\\\\Users\\\\|C:\\Users\\)(?P<user>[^/\\\s'\"]+)")
_SERIAL_KV = re.compile(r"(?i)\b(serial(?:[ _-]?(?:number|no))?\s*[:=]\s*)([^\s,;]+)")


def scrub_text(text: str, secrets: set[str] | None = None) -> str:
    """Replace addresses, UUIDs, serial numbers, home-folder user names and the given literal secrets."""
    if not text:
        return text
    s = text
    for secret in sorted(secrets or (), key=len, reverse=True):
        if secret and len(secret) >= 2:
            s = re.sub(rf"(?<![\w-]){re.escape(secret)}(?![\w-])", REDACTED, s, flags=re.I)
    s = _GPU_UUID.sub(REDACTED, s)
    s = _UUID.sub(REDACTED, s)
    s = _MAC.sub(REDACTED, s)
    s = _IPV4.sub(REDACTED, s)
    s = _IPV6.sub(REDACTED, s)
    s = _SERIAL_KV.sub(lambda m: m.group(1) + REDACTED, s)
    s = _HOME.sub(lambda m: "~" if m.group("root") != "/root/" else "/root/", s)
    return s


def _scrub_any(v: Any, secrets: set[str]) -> Any:
    if isinstance(v, str):
        return scrub_text(v, secrets)
    if isinstance(v, list):
        return [_scrub_any(x, secrets) for x in v]
    if isinstance(v, dict):
        return {k: _scrub_any(x, secrets) for k, x in v.items()}
    return v


def host_secrets(host: HostInfo) -> set[str]:
    out: set[str] = set()
    if host.hostname:
        out.add(host.hostname)
        short = host.hostname.split(".")[0]
        if len(short) >= 3:
            out.add(short)
    for g in host.gpus:
        for v in (g.uuid, g.serial):
            if v:
                out.add(v)
    return out


def redact_host(host: HostInfo, extra_secrets: set[str] | None = None) -> HostInfo:
    secrets = host_secrets(host) | (extra_secrets or set())
    d = host.model_dump(mode="json")
    d = _scrub_any(d, secrets)
    if d.get("hostname"):
        d["hostname"] = REDACTED
    for g in d.get("gpus", []):
        for k in ("uuid", "serial"):
            if g.get(k):
                g[k] = REDACTED
    return HostInfo.model_validate(d)


def redact_record(rec: RunRecord) -> RunRecord:
    secrets = host_secrets(rec.host)
    d = rec.model_dump(mode="json")
    d["host"] = redact_host(rec.host, secrets).model_dump(mode="json")
    for k, v in list(d.items()):
        if k != "host":
            d[k] = _scrub_any(v, secrets)
    return RunRecord.model_validate(d)
