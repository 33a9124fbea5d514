#!/usr/bin/env python3
"""Regenerate profiles/instances/*.yaml (one file per provider) from cloud catalog CSV exports.

Maintainer tool; never imported by the package. Inputs (default: ../shared/data/):

* ``cloud_gpu_instances.csv``: provider, instance_type, accelerator_kind, gpu_model, gpu_count,
  gpu_mem_gib, vcpus, memory_gib, price_usd_per_hour, spot_price_usd_per_hour, region,
  spec_model_hint, catalog_source, notes
* ``cloud_cpu_instances.csv``: provider, instance_type, arch, vcpus, memory_gib,
  price_usd_per_hour, spot_price_usd_per_hour, region, catalog_source, notes

Values are copied as the source lists them; an empty cell stays empty (never a guessed price).
``gpu_profile`` names the entry in profiles/gpus.yaml that the catalog's ``spec_model_hint`` maps to,
found with :func:`hwbench.profiles.find_gpu` and kept only when the match is exact (the hint is the
profile's name or one of its aliases); otherwise it is left empty. Providers users ask about that
the catalogs do not cover are listed in profiles/instances/MISSING.md. Files named ``hand-*.yaml`` in the
output folder (providers priced by hand from stored pages) are kept, never deleted or rewritten.

    python scripts/build_instance_profiles.py [--data DIR] [--out profiles/instances]
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
# Date the catalog facts were compiled (../shared/data/README.md). The SkyPilot catalog files carry
# no timestamp; the commit in each entry's `source` identifies the snapshot.
AS_OF = "2026-11-29"

# Providers users ask about that no catalog export covers. Listed, never priced from memory.
MISSING = [
    (
        "hetzner",
        "GPU servers (GEX44, GEX130) and dedicated/cloud CPU servers (CCX, AX, CAX ARM)",
        "not in any SkyPilot catalog; stored pages (searched 2026-12-02) give only EUR prices from third parties, no dated USD price",
    ),
    (
        "ovhcloud",
        "GPU instances (L4, L40S, H100) and bare-metal",
        "not in the catalog exports used; no stored price page found (searched 2026-12-02)",
    ),
    ("shadeform", "GPU marketplace", "not in the catalog exports used"),
    ("coreweave", "GPU cloud (H100, H200, B200)", "not in the catalog exports used"),
    ("together", "GPU clusters", "not in the catalog exports used"),
    ("tensordock", "GPU marketplace", "not in the catalog exports used"),
    (
        "linode / akamai",
        "GPU (RTX 4000 Ada, RTX 6000) and dedicated CPU",
        "not in the catalog exports used; no stored GPU price page found (searched 2026-12-02)",
    ),
    ("alibaba cloud", "GPU instances", "not in the catalog exports used"),
    ("tencent cloud", "GPU instances", "not in the catalog exports used"),
    ("apple silicon hosting (MacStadium, Scaleway Mac mini)", "Apple M-series machines", "not in the catalog exports used"),
]
PARTLY_COVERED = [
    ("aws", "p3, dl1, inf1, gr6, g5.16xlarge, g5.24xlarge; only some CPU families (examples, not a full list)"),
    ("gcp", "g2 host VMs (accelerator-only price given), US rows of T4; a3-highgpu-4g/8g, a3-mega/ultra, a4, n1 host VMs"),
    ("azure", "only the v6 catalog (9 US regions), no GPU memory sizes"),
    ("runpod", "v8 catalog only partly read; most rows from v6/v7 (host RAM unknown)"),
    ("vast", "marketplace snapshot: host vCPUs/RAM are placeholders in the catalog (left empty)"),
    ("vultr", "one L40S row from a secondary page (hand-vultr.yaml); no other GPU (A16, A40, H100) or CPU plan priced"),
    ("modal", "GPU-only prices for H100, A100 80GB, L40S, L4, T4 (hand-modal.yaml); A10G and the CPU/memory rates not included"),
]
# Hand-sourced provider files (written from stored pages, each price with source and as_of): this script never
# deletes or rewrites them.
HAND_PREFIX = "hand-"


def num(v: str | None) -> float | None:
    v = (v or "").strip()
    if not v:
        return None
    x = float(v)
    return x


def pos(v: str | None) -> float | None:
    """A positive number or None (a 0.00 placeholder is not a price)."""
    x = num(v)
    return x if x is not None and x > 0 else None


def region(v: str | None) -> str | None:
    """The catalog's region with its empty parts dropped (vast lists ', CN, AS' when the city is unknown)."""
    from hwbench.profiles import tidy_region

    return tidy_region(v)


def gpu_profile_for(hint: str, extra_dir: str | None = None) -> str | None:
    """The gpus.yaml profile name for a catalog spec hint, only when the match is exact (the package's rule)."""
    from hwbench.catalog import gpu_profile_for as exact_profile

    return exact_profile(hint, extra_dir)


def gpu_entry(r: dict[str, str], extra_dir: str | None = None) -> dict[str, Any]:
    kind = (r.get("accelerator_kind") or "gpu").strip() or "gpu"
    notes = [r["notes"].strip()] if (r.get("notes") or "").strip() else []
    gpu_model = (r.get("gpu_model") or "").strip() or None
    hint = (r.get("spec_model_hint") or "").strip()
    profile = gpu_profile_for(hint, extra_dir)
    if hint and profile is None:
        notes.append(f"catalog spec hint {hint!r} matches no GPU profile exactly; gpu_profile left empty")
    if hint and profile is not None and ("PCIe" in hint or "SXM" in hint):
        notes.append("PCIe/SXM variant is the catalog's guess from the instance name")
    count = num(r.get("gpu_count"))
    if count is None:
        notes.append("GPU count not given by the catalog")
    mem = pos(r.get("gpu_mem_gib"))
    if profile is not None and mem is not None:
        from hwbench.profiles import load_gpus

        prof = next(g for g in load_gpus(extra_dir) if g.name == profile)
        if prof.memory_gib and abs(mem - prof.memory_gib) / prof.memory_gib > 0.15 and not (count and count < 1):
            # e.g. an 'H100 NVL' (94 GB) hinted as 'H100 SXM5 80 GB': the hint is wrong; do not guess
            notes.append(
                f"catalog GPU memory {mem:g} GiB differs from the hinted profile {profile!r} ({prof.memory_gib:g} GiB); gpu_profile left empty"
            )
            profile = None
    entry: dict[str, Any] = {
        "provider": r["provider"].strip(),
        "instance_type": r["instance_type"].strip(),
        "kind": kind,
        "gpu_model": gpu_model,
        "gpu_profile": profile,
        "gpu_count": (int(count) if count == int(count) else count) if count is not None else 0,
        "gpu_memory_gib": mem,
        "vcpus": int(num(r.get("vcpus")) or 0) or None,
        "memory_gib": pos(r.get("memory_gib")),
        "arch": None,
        "price_usd_per_hour": pos(r.get("price_usd_per_hour")),
        "spot_usd_per_hour": pos(r.get("spot_price_usd_per_hour")),
        "region": region(r.get("region")),
        "as_of": AS_OF,
        "source": r["catalog_source"].strip(),
        "notes": "; ".join(notes) or None,
    }
    return entry


def cpu_entry(r: dict[str, str]) -> dict[str, Any]:
    notes = [r["notes"].strip()] if (r.get("notes") or "").strip() else []
    return {
        "provider": r["provider"].strip(),
        "instance_type": r["instance_type"].strip(),
        "kind": "cpu",
        "gpu_count": 0,
        "vcpus": int(num(r.get("vcpus")) or 0) or None,
        "memory_gib": pos(r.get("memory_gib")),
        "arch": (r.get("arch") or "").strip() or None,
        "price_usd_per_hour": pos(r.get("price_usd_per_hour")),
        "spot_usd_per_hour": pos(r.get("spot_price_usd_per_hour")),
        "region": region(r.get("region")),
        "as_of": AS_OF,
        "source": r["catalog_source"].strip(),
        "notes": "; ".join(notes) or None,
    }


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def build(data_dir: Path, extra_dir: str | None = None) -> dict[str, list[dict[str, Any]]]:
    by_provider: dict[str, list[dict[str, Any]]] = defaultdict(list)
    gpu_csv = data_dir / "cloud_gpu_instances.csv"
    cpu_csv = data_dir / "cloud_cpu_instances.csv"
    for r in read_csv(gpu_csv):
        e = gpu_entry(r, extra_dir)
        by_provider[e["provider"]].append(e)
    for r in read_csv(cpu_csv):
        e = cpu_entry(r)
        by_provider[e["provider"]].append(e)
    out = {}
    for prov, entries in sorted(by_provider.items()):
        seen: set[str] = set()
        clean = []
        for e in entries:
            key = e["instance_type"].lower()
            if key in seen:
                print(f"warning: duplicate {prov}/{e['instance_type']} skipped", file=sys.stderr)
                continue
            seen.add(key)
            clean.append({k: v for k, v in e.items() if v is not None})
        out[prov] = clean
    return out


def missing_md(providers: list[str], hand: list[str] | None = None) -> str:
    lines = [
        "# Providers without instance profiles",
        "",
        f"Generated by `scripts/build_instance_profiles.py` ({AS_OF}). The bundled instance profiles come from",
        "the catalog exports in `../shared/data/` (SkyPilot catalogs, sources per entry) and the hand-sourced files listed",
        "at the end. A provider below is",
        "missing because no source with a date was available offline; **no price is invented for it**.",
        "Add one as a user profile file (`hwbench profiles validate DIR`, then `--profiles-dir DIR` or",
        "`HWBENCH_PROFILES=DIR`) with `as_of` and `source` for every price.",
        "",
        "## Missing",
        "",
        "| provider | offers users ask about | why missing |",
        "|---|---|---|",
    ]
    lines += [f"| {p} | {what} | {why} |" for p, what, why in MISSING]
    lines += ["", "## Partly covered", "", "| provider | not covered |", "|---|---|"]
    lines += [f"| {p} | {what} |" for p, what in PARTLY_COVERED]
    lines += ["", "## Covered (one file each in this folder)", "", ", ".join(providers), ""]
    if hand:
        lines += [
            "## Covered by hand-sourced files",
            "",
            "Written by hand from stored provider and press pages, each price with its `source` and `as_of`; this script",
            "leaves them alone: " + ", ".join(hand),
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with cloud_gpu_instances.csv and cloud_cpu_instances.csv")
    ap.add_argument("--out", type=Path, default=ROOT / "hwbench" / "data" / "instances")
    a = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    by_provider = build(a.data)
    a.out.mkdir(parents=True, exist_ok=True)
    for old in a.out.glob("*.yaml"):
        if not old.name.startswith(HAND_PREFIX):
            old.unlink()
    hand = sorted(p.name for p in a.out.glob(f"{HAND_PREFIX}*.yaml"))
    total = 0
    for prov, entries in by_provider.items():
        header = (
            f"# Cloud instance profiles for {prov}. Generated by scripts/build_instance_profiles.py from\n"
            "# ../shared/data/cloud_gpu_instances.csv and cloud_cpu_instances.csv (SkyPilot catalogs; the\n"
            "# catalog file and commit are in each entry's `source`). Do not edit by hand. Prices in USD/hour;\n"
            "# an absent price means the catalog gave none. gpu_memory_gib is per accelerator.\n"
        )
        body = yaml.safe_dump({"as_of": AS_OF, "instances": entries}, sort_keys=False, allow_unicode=True, width=200)
        (a.out / f"{prov}.yaml").write_text(header + body, encoding="utf-8")
        total += len(entries)
    (a.out / "MISSING.md").write_text(missing_md(list(by_provider), hand), encoding="utf-8")
    print(f"wrote {total} instance profiles for {len(by_provider)} providers to {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
