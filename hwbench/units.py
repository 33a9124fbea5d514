"""Parsing and formatting of sizes users type: parameter counts, bytes, bandwidth.

Bytes are ints everywhere inside hwbench; GB/GiB appear only at the edges, labelled.
"""

from __future__ import annotations

import math
import re

from hwbench.errors import BadInput

_PARAM_SUFFIX = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12}
_NUM = r"(\d+(?:\.\d+)?|\.\d+)"
_PARAMS_RE = re.compile(rf"^{_NUM}\s*([kmbgt]?)$", re.I)
_MOE_RE = re.compile(rf"^(\d+)\s*x\s*{_NUM}\s*([kmbgt]?)$", re.I)

PARAMS_ACCEPTED = "a positive size such as 7b, 7.6b, 32B, 500m, 1.5t, or a MoE such as 8x7b"


def parse_count(text: str, what: str = "--params") -> int:
    """'32b' -> 32_000_000_000. Bare numbers are taken as a count (a bare number under 10,000 as billions)."""
    s = str(text).strip().replace("_", "").replace(",", "")
    m = _PARAMS_RE.match(s)
    if not m:
        raise BadInput(f"{what} {text!r} is not a size; accepted: {PARAMS_ACCEPTED}")
    value = float(m.group(1))
    suffix = m.group(2).lower()
    if not suffix and value < 10_000:
        suffix = "b"  # "70" almost always means 70B
    if not math.isfinite(value) or value * _PARAM_SUFFIX[suffix] > 100 * 10**12:
        raise BadInput(f"{what} {text!r} is larger than 100T parameters; accepted: {PARAMS_ACCEPTED}")
    n = int(round(value * _PARAM_SUFFIX[suffix]))
    if n <= 0:
        raise BadInput(f"{what} {text!r} must be positive; accepted: {PARAMS_ACCEPTED}")
    if n > 100 * 10**12:
        raise BadInput(f"{what} {text!r} is larger than 100T parameters; accepted: {PARAMS_ACCEPTED}")
    if n < 1_000_000:
        raise BadInput(f"{what} {text!r} is below 1M parameters; accepted: {PARAMS_ACCEPTED}")
    return n


def parse_params(text: str) -> tuple[int, int | None, int | None]:
    """Parse --params: returns (total params, n_expert or None, params of one expert-sized model or None).

    '8x7b' -> MoE with 8 experts, each the FFN of a 7B model (see estimate for the split).
    """
    s = str(text).strip().replace("_", "")
    m = _MOE_RE.match(s)
    if m:
        n_exp = int(m.group(1))
        if n_exp < 2 or n_exp > 1024:
            raise BadInput(f"--params {text!r}: the expert count must be 2..1024; accepted: {PARAMS_ACCEPTED}")
        per = parse_count(m.group(2) + (m.group(3) or "b"))
        return per, n_exp, per
    return parse_count(s), None, None


MAX_BYTES = 10**18  # 1 EB: no machine or model comes near it; beyond it a size is a typo
_BYTES_RE = re.compile(rf"^{_NUM}\s*([kmgtp]?)(i?)(b?)$", re.I)


def parse_bytes(text: str, what: str = "size") -> int:
    """'64GB' -> 64e9, '64GiB' -> 64*2^30, '24g' -> 24e9. A bare number is GB."""
    s = str(text).strip().replace(" ", "")
    m = _BYTES_RE.match(s)
    if not m:
        raise BadInput(f"{what} {text!r} is not a size; accepted: e.g. 64GB, 64GiB, 512MB")
    value = float(m.group(1))
    prefix = m.group(2).lower() or "g"
    binary = bool(m.group(3))
    power = "kmgtp".index(prefix) + 1
    scaled = value * ((1024**power) if binary else (1000**power))
    if not math.isfinite(scaled) or scaled > MAX_BYTES:
        raise BadInput(f"{what} {text!r} is larger than {MAX_BYTES // 10**18} EB; accepted: e.g. 64GB, 64GiB, 512MB")
    n = int(round(scaled))
    if n <= 0:
        raise BadInput(f"{what} {text!r} must be positive")
    return n


def parse_bandwidth_gbps(text: str, what: str = "--cpu-bandwidth") -> float:
    """'80GB/s' -> 80.0 (GB/s, 10^9 bytes per second)."""
    s = str(text).strip().lower().replace(" ", "")
    for suffix in ("gb/s", "gbps", "gb"):
        if s.endswith(suffix):
            s = s[: -len(suffix)]
            break
    try:
        v = float(s)
    except ValueError:
        raise BadInput(f"{what} {text!r} is not a bandwidth; accepted: e.g. 80GB/s") from None
    if not math.isfinite(v) or v <= 0 or v > 100_000:
        raise BadInput(f"{what} {text!r} must be a positive bandwidth below 100000 GB/s")
    return v


def gib(n_bytes: float) -> float:
    return n_bytes / 2**30


def fmt_bytes(n_bytes: float) -> str:
    """Human size in binary units, labelled (GiB, MiB)."""
    n = float(n_bytes)
    sign = "-" if n < 0 else ""
    n = abs(n)
    for unit, div in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= div:
            return f"{sign}{n / div:.2f} {unit}"
    return f"{sign}{n:.0f} B"


def fmt_params(n: int) -> str:
    for unit, div in (("T", 10**12), ("B", 10**9), ("M", 10**6)):
        if n >= div:
            v = n / div
            return f"{v:.1f}{unit}" if v < 100 else f"{v:.0f}{unit}"
    return str(n)
