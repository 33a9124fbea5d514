"""Add the rows of XiongjieDai/GPU-Benchmarks-on-LLM-Inference's README (llama-bench, May 2024) that the dev
data does not hold yet to tests/fixtures/published_llamacpp_dev.csv (issue 14: "many GPUs over many rows per GPU").

The README's detailed tables give, per GPU and model, tg512/1024/4096/8192 and pp512/1024/4096/8192. The dev data
keeps the same tests as its first rows: tg512, tg8192, pp512, pp8192 on one GPU; tg512 and pp512 of the 70B models
on several GPUs ("* N"). Rows whose hardware is already in the file are left as they are.

    python scripts/import_published_dev.py --readme README.md            # a copy of the README at COMMIT
    python scripts/import_published_dev.py --readme README.md --write    # append the new rows

Nothing is invented: every value is read from the table cell; OOM cells are skipped. Bandwidth: the hwbench
profile's figure (said in the row's notes).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "published_llamacpp_dev.csv"
COMMIT = "aa72e0ec86c356c41f8281c9733e9a13c3675800"
URL = f"https://github.com/XiongjieDai/GPU-Benchmarks-on-LLM-Inference/blob/{COMMIT}/README.md"
COLS = ["tg512", "tg1024", "tg4096", "tg8192", "pp512", "pp1024", "pp4096", "pp8192"]
KEEP_SINGLE = ("tg512", "tg8192", "pp512", "pp8192")
KEEP_MULTI = ("tg512", "pp512")
# README model label -> (model, params_b, size GiB from the README's VRAM table, as the existing rows)
MODELS = {
    "8B Q4_K_M": ("Meta-Llama-3-8B", 8, "Q4_K_M", 4.58),
    "8B F16": ("Meta-Llama-3-8B", 8, "F16", 14.96),
    "70B Q4_K_M": ("Meta-Llama-3-70B", 70, "Q4_K_M", 39.59),
    "70B F16": ("Meta-Llama-3-70B", 70, "F16", 131.42),
}
# README GPU label -> the dev data's hardware name (NVIDIA/Apple prefix, as the existing rows)
SECTIONS = {"NVIDIA Gaming GPUs": "NVIDIA GeForce RTX ", "NVIDIA Professional GPUs": "NVIDIA ", "Apple Silicon": "Apple "}


def hardware_name(label: str, prefix: str) -> str:
    return prefix + label.replace("\u2011", "-").strip()  # the README writes "7\u2011Core" with a non-breaking hyphen


def parse(readme: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    section = ""
    gpu = ""
    for line in readme.splitlines():
        m = re.match(r"####\s+(.*?)\s*\(", line)
        if m:
            section = next((k for k in SECTIONS if m.group(1).startswith(k)), "")
            continue
        if not section or not line.startswith("|") or "---" in line or "Model" in line:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 + len(COLS):
            continue
        if cells[0]:
            gpu = hardware_name(cells[0], SECTIONS[section])
        if cells[1] not in MODELS:
            continue
        model, params, quant, size = MODELS[cells[1]]
        for test, val in zip(COLS, cells[2:], strict=True):
            if not re.fullmatch(r"[\d.]+", val):
                continue  # OOM
            rows.append(
                {"hardware": gpu, "model": model, "params_b": str(params), "quant": quant, "size": str(size), "test": test, "value": val}
            )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readme", type=Path, required=True, help=f"the README.md at commit {COMMIT}")
    ap.add_argument("--write", action="store_true", help="append the new rows to the fixture")
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from hwbench.profiles import find_gpu

    with FIXTURE.open(newline="", encoding="utf-8") as f:
        old = list(csv.DictReader(f))
    have = {r["hardware"] for r in old}
    new = []
    for r in parse(a.readme.read_text(encoding="utf-8")):
        hw = r["hardware"]
        if hw in have or not hw.startswith("NVIDIA") and not hw.startswith("Apple"):
            continue
        multi = re.search(r"\*\s*\d+$", hw) is not None
        if r["test"] not in (KEEP_MULTI if multi else KEEP_SINGLE):
            continue
        if multi and r["model"] != "Meta-Llama-3-70B":
            continue
        base = re.sub(r"\s*\*\s*\d+$", "", hw)
        base = re.sub(r"\s+\d+GB$", "", base).removeprefix("NVIDIA ").removeprefix("Apple ")
        base = {"A100 SXM": "A100 SXM4 80 GB", "H100 PCIe": "H100 PCIe 80 GB"}.get(base, base)
        base = re.sub(r"^(M\d \w+) (\d+)-Core GPU$", r"\1 (\2-core GPU)", base)
        prof = find_gpu(base)
        notes = (
            "llama-bench (-p 512,1024,4096,8192 -n 512,1024,4096,8192), May 2024 snapshot on RunPod/own Macs; "
            "size column from README VRAM table labelled GB (matches llama-bench GiB); "
            f"bandwidth: hwbench profile [{prof.name}]; added 2026-12-03 by scripts/import_published_dev.py"
        )
        new.append(
            {
                "source_url": URL,
                "hardware": hw,
                "backend": "Metal" if hw.startswith("Apple") else "CUDA",
                "bandwidth_gbs": f"{prof.bandwidth_gbps:g}",
                "model": r["model"],
                "params_b": r["params_b"],
                "quant": r["quant"],
                "model_size_gib": r["size"],
                "test": r["test"],
                "tokens_per_s": r["value"],
                "notes": notes,
            }
        )
    for r in new:
        print(f"{r['hardware']:32s} {r['model']:17s} {r['quant']:7s} {r['test']:7s} {r['tokens_per_s']}")
    print(f"{len(new)} new rows on {len({r['hardware'] for r in new})} hardware entries", file=sys.stderr)
    if a.write and new:
        with FIXTURE.open("a", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(old[0].keys()), lineterminator="\r\n")  # CRLF, as the file
            w.writerows(new)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
