#!/usr/bin/env python3
"""Regenerate profiles/gpus.yaml from a GPU spec CSV (default: ../shared/data/gpus.csv).

Maintainer tool; never imported by the package. Values are copied as the source lists them;
the only additions are derived fields (aliases, backend, unified_memory) and the corrections in
OVERRIDES, each with its reason. Usage:

    python scripts/build_gpu_profiles.py [--csv PATH] [--out profiles/gpus.yaml]
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CSV = ROOT.parent / "shared" / "data" / "gpus.csv"
AS_OF = "2026-11-29"

BACKEND = {"NVIDIA": "cuda", "AMD": "rocm", "Intel": "sycl", "Apple": "metal", "Google": "tpu", "AWS": "neuron"}

# Corrections of the source, with the reason (kept visible in each profile's notes).
OVERRIDES: dict[str, dict] = {
    "B200": {
        "memory_gib": 180,
        "bandwidth_gbps": 8000,
        "note": "TechPowerUp lists 90 GB and 4.1 TB/s; cloud catalogs (SkyPilot) list ~180 GiB per B200 and "
        "NVIDIA's DGX B200 datasheet gives 64 TB/s HBM3e for 8 GPUs (8 TB/s each)",
    },
    "B300": {
        "memory_gib": 268,
        "bandwidth_gbps": 8000,
        "note": "TechPowerUp lists 144 GB and 4.1 TB/s; cloud catalogs (SkyPilot) list ~262-268 GiB per B300; "
        "NVIDIA's HGX B300 specs give 8 TB/s per GPU",
    },
    "Radeon Instinct MI300X": {"bandwidth_gbps": 5300, "note": "TechPowerUp lists 10.3 TB/s; AMD's MI300X datasheet gives 5.3 TB/s peak"},
    "Radeon Instinct MI300A": {"bandwidth_gbps": 5300, "note": "TechPowerUp lists 10.3 TB/s; AMD's MI300A datasheet gives 5.3 TB/s peak"},
    "Radeon Instinct MI325X": {"bandwidth_gbps": 6000, "note": "TechPowerUp lists 10.3 TB/s; AMD's MI325X datasheet gives 6 TB/s peak"},
}


# Apple GPUs without a FLOPS figure in the source: FP32 (= FP16 on Apple GPUs: philipturner/metal-benchmarks,
# "FP16/FP32 ratio 1") = cores x the per-core rate of a part of the same generation whose figure the source
# gives. Within a generation the tiers share the GPU core and clock: the sourced rows show it (M1 8/16/32-core
# 2.62/5.31/10.62 TFLOPS = 0.33 per core; M2 10/19/38-core 3.58/6.8/13.6 = 0.358 per core).
APPLE_REFERENCE = {"M2": "Apple M2 Max (38-core GPU)", "M3": "Apple M3 Max (40-core GPU)", "M4": "Apple M4 Max (32-core GPU)"}


def apple_derived_tflops(model: str, rows: list[dict[str, str]]) -> tuple[float, str] | None:
    """(TFLOPS, note) for an Apple part the source gives no FLOPS for, from its generation's reference part."""
    m = re.match(r"Apple (M\d+)\b.*\((\d+)-core GPU\)", model)
    if not m or m.group(1) not in APPLE_REFERENCE:
        return None
    ref_name = APPLE_REFERENCE[m.group(1)]
    ref = next((r for r in rows if r["model"].strip() == ref_name), None)
    ref_tf = num(ref.get("fp32_tflops", "")) if ref else None
    rm = re.search(r"\((\d+)-core GPU\)", ref_name)
    if not ref_tf or not rm:
        return None
    cores, ref_cores = int(m.group(2)), int(rm.group(1))
    tf = round(ref_tf * cores / ref_cores, 2)
    note = f"fp16/fp32_tflops derived: {cores} GPU cores x the {ref_name} figure per core ({ref_tf:g} / {ref_cores}), same generation and clock"
    return tf, note


def aliases(vendor: str, model: str) -> list[str]:
    out = set()
    base = model
    for prefix in ("GeForce ", "Tesla ", "Radeon Instinct ", "Radeon ", "Apple "):
        if base.startswith(prefix):
            out.add(base[len(prefix):])
    out.add(f"{vendor} {model}")
    m = re.search(r"\((\d+)-core GPU\)", model)
    if m:
        out.add(model.split(" (")[0])  # "Apple M2 Ultra"
        out.add(model.split(" (")[0].replace("Apple ", ""))  # "M2 Ultra"
    # "A100 PCIe 80 GB" -> "A100 80GB", "A100 PCIe 80GB"
    for a in list(out) + [model]:
        if " GB" in a:
            out.add(a.replace(" GB", "GB"))
            out.add(re.sub(r"\s*(PCIe|SXM\d?)\s*", " ", a).replace(" GB", "GB").strip())
    out.discard(model)
    return sorted(a for a in out if a)


def num(v: str) -> float | None:
    v = (v or "").strip()
    return float(v) if v else None


def convert(rows: list[dict[str, str]]) -> list[dict]:
    out = []
    for r in rows:
        vendor, model = r["vendor"].strip(), r["model"].strip()
        entry: dict = {"name": f"{vendor} {model}" if not model.startswith(vendor) else model, "vendor": vendor}
        entry["aliases"] = aliases(vendor, model)
        mem = num(r.get("memory_gib", ""))
        notes = [r["notes"].strip()] if r.get("notes", "").strip() else []
        bw = num(r.get("memory_bandwidth_gbs", ""))
        if model in OVERRIDES:
            mem = OVERRIDES[model].get("memory_gib", mem)
            bw = OVERRIDES[model].get("bandwidth_gbps", bw)
            notes.append(OVERRIDES[model]["note"])
        entry["memory_gib"] = mem
        entry["memory_type"] = r.get("memory_type") or None
        entry["bandwidth_gbps"] = bw
        entry["fp16_tflops"] = num(r.get("fp16_tflops", ""))
        entry["fp32_tflops"] = num(r.get("fp32_tflops", ""))
        if vendor == "Apple" and entry["fp32_tflops"] is None:
            derived = apple_derived_tflops(model, rows)
            if derived:
                entry["fp16_tflops"] = entry["fp32_tflops"] = derived[0]
                if notes and notes[-1].endswith("."):
                    notes[-1] = f"{notes[-1]} {derived[1]}"
                else:
                    notes.append(derived[1])
        entry["tdp_w"] = num(r.get("tdp_w", ""))
        ry = num(r.get("release_year", ""))
        entry["release_year"] = int(ry) if ry else None
        entry["form"] = r.get("form") or None
        entry["backend"] = BACKEND.get(vendor, "other")
        entry["unified_memory"] = r.get("form") in ("SoC", "integrated")
        entry["source"] = r["source"].strip()
        entry["as_of"] = AS_OF
        if notes:
            entry["notes"] = "; ".join(notes)
        out.append({k: v for k, v in entry.items() if v is not None})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    ap.add_argument("--out", type=Path, default=ROOT / "hwbench" / "data" / "gpus.yaml")
    a = ap.parse_args(argv)
    with a.csv.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    gpus = convert(rows)
    header = (
        f"# GPU and accelerator specs. Generated by scripts/build_gpu_profiles.py from {a.csv.name}\n"
        "# (sources per entry; see ../shared/data/README.md). Do not edit by hand: change the CSV or\n"
        "# OVERRIDES in the script. memory_gib is binary GiB as the vendor sizes memory; bandwidth in GB/s.\n"
        "# fp16_tflops is TechPowerUp's 'FP16 (half)' figure: NOT a consistent tensor-core number.\n"
    )
    body = yaml.safe_dump({"as_of": AS_OF, "gpus": gpus}, sort_keys=False, allow_unicode=True, width=200)
    a.out.write_text(header + body, encoding="utf-8")
    print(f"wrote {len(gpus)} GPU profiles to {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
