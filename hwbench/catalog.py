"""Refresh rental prices from SkyPilot's published catalogs (``catalogs/<version>/<provider>/vms.csv``).

Core of ``hwbench profiles update``; the GPU-name matching is shared with
``scripts/build_instance_profiles.py`` (which builds the bundled set from ../shared/data).

A catalog file has one row per instance type and region (and zone), columns named in its header:
``InstanceType, AcceleratorName, AcceleratorCount, vCPUs, MemoryGiB, GpuInfo, Price, SpotPrice,
Region`` (order varies by provider). Each instance type becomes one profile: the region with the
lowest on-demand price (ties: the lower spot price), the same rule the bundled profiles follow.
A file that is not such a CSV, or is cut short (a row with fewer fields than the header, or no
rows), is refused with one line naming the file; nothing is written for that provider then.

The result goes to the user's profile dir (``<data dir>/profiles/instances/<provider>.yaml``), one
atomic write per provider. The bundled profiles are never touched: a refreshed entry replaces the
bundled one with the same provider and instance type when profiles load.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwbench.errors import BadInput, HwbenchError

SKYPILOT_CATALOG_URL = "https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master/catalogs/v7"
MAX_CATALOG_BYTES = 64 * 2**20  # the largest published catalog (AWS) is a few MB
REQUIRED = ("InstanceType", "Price", "Region")
FETCH_TIMEOUT_S = 20.0


class CatalogError(BadInput):
    """A catalog file is malformed or truncated: the message names it."""


class Offline(HwbenchError):
    """The catalog source cannot be reached (no network, DNS, refused, timed out)."""

    exit_code = 1


# ----------------------------------------------------------------------------- GPU names


def gpu_profile_for(hint: str, extra_dir: str | None = None) -> str | None:
    """The GPU profile name for a catalog's GPU name, only when it is the profile's name or one of its aliases."""
    hint = (hint or "").strip()
    if not hint:
        return None
    from hwbench.profiles import find_gpu

    try:
        g = find_gpu(hint, extra_dir)
    except BadInput:
        return None

    def norm(s: str) -> str:
        return re.sub(r"\s+", " ", s.strip().lower())

    names = {norm(g.name), *(norm(a) for a in g.aliases)}
    if norm(hint) in names or norm(f"{g.vendor} {hint}") in names:
        return g.name
    return None


# ----------------------------------------------------------------------------- reading a catalog


def _num(v: str | None) -> float | None:
    v = (v or "").strip()
    if not v:
        return None
    try:
        x = float(v)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _pos(v: str | None) -> float | None:
    """A positive number or None (a 0.00 placeholder is not a price)."""
    x = _num(v)
    return x if x is not None and x > 0 else None


_MIB = re.compile(r"SizeInMiB['\"]?\s*:\s*(\d+)")


def parse_vms_csv(text: str, name: str) -> list[dict[str, str]]:
    """The rows of one catalog file; CatalogError (one line naming ``name``) when malformed or truncated."""
    if "\x00" in text:
        raise CatalogError(f"{name}: not a catalog CSV (binary data)")
    try:
        reader = csv.reader(io.StringIO(text))
        rows = list(reader)
    except csv.Error as e:
        raise CatalogError(f"{name}: malformed catalog CSV: {e}") from None
    if not rows or not rows[0]:
        raise CatalogError(f"{name}: empty catalog file")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CatalogError(f"{name}: not a SkyPilot vms.csv: no column {', '.join(missing)} in the header")
    out: list[dict[str, str]] = []
    for i, r in enumerate(rows[1:], start=2):
        if not r:
            continue
        if len(r) != len(header):
            raise CatalogError(f"{name}: line {i} has {len(r)} fields, the header {len(header)}: the file is truncated or malformed")
        out.append(dict(zip(header, r, strict=True)))
    if not out:
        raise CatalogError(f"{name}: no rows after the header (truncated?)")
    if not text.endswith("\n"):
        raise CatalogError(f"{name}: the file ends in the middle of a line (truncated download?)")
    return out


def entries_from_rows(
    rows: list[dict[str, str]], provider: str, source: str, as_of: str, known: dict[str, Any], extra_dir: str | None = None
) -> list[dict[str, Any]]:
    """One instance-profile entry per instance type (cheapest on-demand region). ``known``: the
    current profiles of this provider by lower-case instance type (their GPU-profile mapping is kept)."""
    best: dict[str, dict[str, str]] = {}

    def key(r: dict[str, str]) -> tuple[float, float]:
        od, spot = _pos(r.get("Price")), _pos(r.get("SpotPrice"))
        return (od if od is not None else math.inf, spot if spot is not None else math.inf)

    for r in rows:
        it = (r.get("InstanceType") or "").strip()
        if not it:
            continue  # GCP's accelerator-only rows have no instance type
        if it not in best or key(r) < key(best[it]):
            best[it] = r
    out = []
    for it, r in sorted(best.items()):
        acc = (r.get("AcceleratorName") or "").strip() or None
        count = _num(r.get("AcceleratorCount")) or 0.0
        old = known.get(it.lower())
        profile = old.gpu_profile if old is not None and old.gpu_model == acc else (gpu_profile_for(acc, extra_dir) if acc else None)
        low = (acc or "").lower()
        kind = (
            "tpu"
            if low.startswith("tpu")
            else "inferentia"
            if "inferentia" in low
            else "trainium"
            if "trainium" in low
            else ("gpu" if acc else "cpu")
        )
        m = _MIB.search(r.get("GpuInfo") or "")
        entry: dict[str, Any] = {
            "provider": provider,
            "instance_type": it,
            "kind": kind,
            "gpu_model": acc,
            "gpu_profile": profile,
            "gpu_count": (int(count) if count == int(count) else count) if acc else 0,
            "gpu_memory_gib": round(int(m.group(1)) / 1024, 2) if m and int(m.group(1)) > 0 else None,
            "vcpus": int(v) if (v := _pos(r.get("vCPUs"))) else None,
            "memory_gib": _pos(r.get("MemoryGiB")),
            "price_usd_per_hour": _pos(r.get("Price")),
            "spot_usd_per_hour": _pos(r.get("SpotPrice")),
            "region": (r.get("Region") or "").strip() or None,
            "as_of": as_of,
            "source": source,
        }
        out.append({k: v for k, v in entry.items() if v is not None})
    return out


# ----------------------------------------------------------------------------- fetching


def read_catalog(base: str, provider: str) -> tuple[str, str] | None:
    """(text, source) of ``<base>/<provider>/vms.csv``, a URL or a folder; None when it has no file for the provider."""
    if re.match(r"^https?://", base):
        import urllib.error
        import urllib.request

        url = f"{base.rstrip('/')}/{provider}/vms.csv"
        try:
            with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as resp:  # noqa: S310 - http(s) only, checked above
                data = resp.read(MAX_CATALOG_BYTES + 1)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise CatalogError(f"{url}: HTTP {e.code} {e.reason}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise Offline(f"cannot reach {url} ({reason}); offline? the profiles were left as they are") from None
        source = url
    else:
        path = Path(base) / provider / "vms.csv"
        if not Path(base).is_dir():
            raise BadInput(f"--from {base!r}: not a folder or an http(s) URL")
        if not path.is_file():
            return None
        data = path.read_bytes()[: MAX_CATALOG_BYTES + 1]
        source = str(path)
    if len(data) > MAX_CATALOG_BYTES:
        raise CatalogError(f"{source}: larger than {MAX_CATALOG_BYTES // 2**20} MiB; refusing it")
    try:
        return data.decode("utf-8"), source
    except UnicodeDecodeError:
        raise CatalogError(f"{source}: not UTF-8 text") from None


# ----------------------------------------------------------------------------- what changed


@dataclass
class ProviderUpdate:
    provider: str
    source: str | None = None
    entries: list[dict[str, Any]] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    up: list[tuple[str, float, float]] = field(default_factory=list)  # (instance type, old, new USD/hour)
    down: list[tuple[str, float, float]] = field(default_factory=list)
    unchanged: int = 0
    error: str | None = None
    written: str | None = None

    def summary(self) -> str:
        if self.error:
            return f"{self.provider}: not updated: {self.error}"
        if self.source is None:
            return f"{self.provider}: no catalog file at the source; left as it was"
        return (
            f"{self.provider}: {len(self.entries)} instance types; {len(self.new)} new, {len(self.gone)} gone, "
            f"{len(self.up)} up, {len(self.down)} down, {self.unchanged} unchanged"
        )


def diff(update: ProviderUpdate, known: dict[str, Any]) -> None:
    """Fill new / gone / up / down against the provider's current profiles (``known``: by lower-case instance type)."""
    seen = set()
    for e in update.entries:
        k = e["instance_type"].lower()
        seen.add(k)
        old = known.get(k)
        if old is None:
            update.new.append(e["instance_type"])
            continue
        a, b = old.price_usd_per_hour, e.get("price_usd_per_hour")
        if a is not None and b is not None and abs(a - b) > 1e-9:
            (update.up if b > a else update.down).append((e["instance_type"], a, b))
        else:
            update.unchanged += 1
    update.gone = sorted(old.instance_type for k, old in known.items() if k not in seen)


def update_profiles(
    base: str, providers: list[str], out_dir: Path, as_of: str, *, write: bool = True, extra_dir: str | None = None
) -> list[ProviderUpdate]:
    """Read each provider's catalog, compare with its current profiles, write ``out_dir/instances/<provider>.yaml``.

    A provider whose file is malformed or truncated is reported and skipped (its profiles stay as
    they were); the others are still written. Offline: :class:`Offline` before anything is written.
    """
    import yaml

    from hwbench.atomicio import write_text_atomic
    from hwbench.profiles import load_instances

    current = load_instances(extra_dir)
    results = []
    for prov in providers:
        known = {i.instance_type.lower(): i for i in current if i.provider.lower() == prov.lower()}
        u = ProviderUpdate(prov)
        results.append(u)
        try:
            got = read_catalog(base, prov)
        except CatalogError as e:
            u.error = str(e)
            continue
        if got is None:
            continue
        text, u.source = got
        try:
            rows = parse_vms_csv(text, u.source)
        except CatalogError as e:
            u.error = str(e)
            continue
        u.entries = entries_from_rows(rows, prov, f"SkyPilot catalog {u.source}, fetched {as_of}", as_of, known, extra_dir)
        if not u.entries:
            u.error = f"{u.source}: no instance types in it"
            continue
        from pydantic import ValidationError

        from hwbench.profiles import InstanceProfile

        try:
            for entry in u.entries:
                InstanceProfile(**entry)  # never write what would not load
        except ValidationError as err:
            u.error = f"{u.source}: a row does not make a valid profile: {err.errors()[0].get('msg')}"
            u.entries = []
            continue
        diff(u, known)
        if write:
            header = (
                f"# Instance profiles for {prov}, refreshed by `hwbench profiles update` on {as_of} from\n"
                f"# {u.source}. They replace the bundled entries of the same instance type; delete this file to go back.\n"
            )
            body = yaml.safe_dump({"as_of": as_of, "instances": u.entries}, sort_keys=False, allow_unicode=True, width=200)
            path = write_text_atomic(out_dir / "instances" / f"{prov}.yaml", header + body)
            u.written = str(path)
    return results
