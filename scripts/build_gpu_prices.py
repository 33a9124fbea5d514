"""Write hwbench/data/gpu_prices.yaml: purchase prices, each with its kind, source and date.

Maintainer tool (never imported by the package). The rows below were read by hand on 2026-12-02 from:
Epoch AI's ML hardware dataset (ml_hardware.csv, copies in github.com/joshyou/clod and sr3-k/data),
Wikipedia's NVIDIA GPU list as scraped in voidful/gpu-info-api (gpu.json, branch gpu-data), and stored
vendor/press pages (URLs in each row). Usage: python scripts/build_gpu_prices.py hwbench/data/gpu_prices.yaml
"""

import sys

import yaml

EPOCH = (
    "Epoch AI, Machine Learning Hardware dataset (ml_hardware.csv, column 'Release price (USD)', row '{row}'); "
    "copy read at github.com/joshyou/clod@cf2a707 (also in sr3-k/data@19836af)"
)
WIKI = (
    "Wikipedia 'List of Nvidia graphics processing units', as scraped in voidful/gpu-info-api gpu.json "
    "(branch gpu-data @03a6b34, 2025-06-16), row '{row}', column '{col}'"
)
rows = []


def add(gpu, usd, kind, what, source, as_of, **kw):
    d = {"gpu": gpu, "price_usd": usd, "price_kind": kind, "what": what}
    d.update(kw)
    d["source"] = source
    d["as_of"] = as_of
    rows.append(d)


card = "one graphics card"
# --- datacenter / older cards from Epoch AI
for gpu, row, usd, day in [
    ("NVIDIA H100 SXM5 80 GB", "NVIDIA H100 SXM5 80GB", 33600, "2022-09-20"),
    ("NVIDIA A100 SXM4 40 GB", "NVIDIA A100 SXM4 40 GB", 15000, "2020-05-14"),
    ("NVIDIA A10 PCIe", "NVIDIA A10 PCIe", 2800, "2021-04-12"),
    ("AMD Radeon Instinct MI300X", "AMD Instinct MI300X", 15000, "2023-12-06"),
    ("AMD Radeon Instinct MI250X", "AMD Radeon Instinct MI250X", 14500, "2021-11-08"),
    ("NVIDIA Tesla V100 PCIe 32 GB", "NVIDIA Tesla V100 PCIe 32 GB", 11458, "2018-03-27"),
    ("NVIDIA Tesla V100 SXM2 32 GB", "NVIDIA Tesla V100 SXM2 32 GB", 11458, "2018-03-27"),
    ("NVIDIA Tesla V100 PCIe 16 GB", "NVIDIA Tesla V100 PCIe 16 GB", 10664, "2017-06-21"),
    ("NVIDIA Tesla P40", "NVIDIA P40", 5699, "2016-09-13"),
    ("NVIDIA Tesla K80", "NVIDIA Tesla K80", 5000, "2014-11-17"),
    ("NVIDIA GeForce RTX 2080 Ti", "NVIDIA GeForce RTX 2080 Ti 11GB", 999, "2018-09-20"),
    ("AMD Radeon RX 7900 XTX", "AMD Radeon RX 7900 XTX", 999, "2022-11-03"),
]:
    add(
        gpu,
        usd,
        "release price",
        "one accelerator (card or module)" if "Radeon RX" not in gpu and "GeForce" not in gpu else card,
        EPOCH.format(row=row),
        day,
    )
# --- consumer GeForce from Wikipedia (MSRP column); launch date from the same row
MSRP = "Release price (USD) MSRP"
for gpu, row, usd, day in [
    ("NVIDIA GeForce RTX 3050 8 GB", "GeForce RTX 3050 8 GB (2022-01-27)", 249, "2022-01-27"),
    ("NVIDIA GeForce RTX 3060 12 GB", "GeForce RTX 3060 12 GB (2021-02-25)", 329, "2021-02-25"),
    ("NVIDIA GeForce RTX 3060 8 GB", "GeForce RTX 3060 8 GB (2022-10-27)", 329, "2022-10-27"),
    ("NVIDIA GeForce RTX 3060 Ti", "GeForce RTX 3060 Ti (2020-12-02)", 399, "2020-12-02"),
    ("NVIDIA GeForce RTX 3070", "GeForce RTX 3070", 499, "2020-10-29"),
    ("NVIDIA GeForce RTX 3070 Ti", "GeForce RTX 3070 Ti", 599, "2021-06-10"),
    ("NVIDIA GeForce RTX 3080", "GeForce RTX 3080 10 GB (2020-09-17)", 699, "2020-09-17"),
    ("NVIDIA GeForce RTX 3080 12 GB", "GeForce RTX 3080 12 GB (2022-01-27)", 799, "2022-01-27"),
    ("NVIDIA GeForce RTX 3080 Ti", "GeForce RTX 3080 Ti", 1199, "2021-06-03"),
    ("NVIDIA GeForce RTX 3090", "GeForce RTX 3090", 1499, "2020-09-24"),
    ("NVIDIA GeForce RTX 3090 Ti", "GeForce RTX 3090 Ti", 1999, "2022-03-29"),
    ("NVIDIA GeForce RTX 4060", "GeForce RTX 4060", 299, "2023-06-29"),
    ("NVIDIA GeForce RTX 4060 Ti 8 GB", "GeForce RTX 4060 Ti 8 GB", 399, "2023-05-24"),
    ("NVIDIA GeForce RTX 4060 Ti 16 GB", "GeForce RTX 4060 Ti 16 GB", 499, "2023-07-18"),
    ("NVIDIA GeForce RTX 4070", "GeForce RTX 4070", 599, "2023-04-13"),
    ("NVIDIA GeForce RTX 4070 SUPER", "GeForce RTX 4070 Super", 599, "2024-01-17"),
    ("NVIDIA GeForce RTX 4070 Ti", "GeForce RTX 4070 Ti", 799, "2023-01-05"),
    ("NVIDIA GeForce RTX 4070 Ti SUPER", "GeForce RTX 4070 Ti Super", 799, "2024-01-24"),
    ("NVIDIA GeForce RTX 4080", "GeForce RTX 4080 16 GB (2022-11-16)", 1199, "2022-11-16"),
    ("NVIDIA GeForce RTX 4080 SUPER", "GeForce RTX 4080 Super", 999, "2024-01-31"),
    ("NVIDIA GeForce RTX 4090", "GeForce RTX 4090", 1599, "2022-10-12"),
]:
    add(gpu, usd, "launch MSRP", card, WIKI.format(row=row, col=MSRP), day)
# RTX 50: the scraped rows carry no launch date: as_of is the snapshot's date
for gpu, row, usd in [
    ("NVIDIA GeForce RTX 5060", "GeForce RTX 5060", 299),
    ("NVIDIA GeForce RTX 5060 Ti 8 GB", "GeForce RTX 5060 Ti 8 GB", 379),
    ("NVIDIA GeForce RTX 5060 Ti 16 GB", "GeForce RTX 5060 Ti 16 GB", 429),
    ("NVIDIA GeForce RTX 5070", "GeForce RTX 5070", 549),
    ("NVIDIA GeForce RTX 5070 Ti", "GeForce RTX 5070 Ti", 749),
    ("NVIDIA GeForce RTX 5080", "GeForce RTX 5080", 999),
    ("NVIDIA GeForce RTX 5090", "GeForce RTX 5090", 1999),
]:
    add(
        gpu,
        usd,
        "launch MSRP",
        card,
        WIKI.format(row=row, col=MSRP) + "; the row gives no launch date: as_of is the snapshot's",
        "2025-06-16",
    )
# workstation cards (column 'Release price (USD)')
RP = "Release price (USD)"
for gpu, row, usd, day in [
    ("NVIDIA Quadro RTX 4000", "Quadro RTX 4000", 899, "2018-11-13"),
    ("NVIDIA Quadro RTX 5000", "Quadro RTX 5000", 2299, "2018-08-13"),
    ("NVIDIA Quadro RTX 6000", "Quadro RTX 6000", 6299, "2018-08-13"),
    ("NVIDIA Quadro RTX 8000", "Quadro RTX 8000", 9999, "2018-08-13"),
    ("NVIDIA RTX A2000", "RTX A2000 6 GB", 449, "2021-08-10"),
    ("NVIDIA RTX A2000 12 GB", "RTX A2000 12 GB", 449, "2021-08-10"),
    ("NVIDIA RTX A4000", "RTX A4000", 1000, "2021-04-12"),
    ("NVIDIA RTX A5000", "RTX A5000", 2250, "2021-04-12"),
    ("NVIDIA RTX A5500", "RTX A5500", 3600, "2022-03-22"),
    ("NVIDIA RTX A6000", "RTX A6000", 4649, "2020-10-05"),
    ("NVIDIA RTX 2000 Ada Generation", "RTX 2000 Ada Generation", 649, "2024-02-12"),
    ("NVIDIA RTX 4000 SFF Ada Generation", "RTX 4000 SFF Ada Generation", 1250, "2023-03-21"),
    ("NVIDIA RTX 4000 Ada Generation", "RTX 4000 Ada Generation", 1250, "2023-08-09"),
    ("NVIDIA RTX 5000 Ada Generation", "RTX 5000 Ada Generation", 4000, "2023-08-09"),
    ("NVIDIA RTX 5880 Ada Generation", "RTX 5880 Ada Generation", 6999, "2024-01-05"),
    ("NVIDIA RTX 6000 Ada Generation", "RTX 6000 Ada Generation", 6799, "2022-12-03"),
    ("NVIDIA RTX PRO 4000 Blackwell", "RTX PRO 4000 Blackwell", 1546, "2025-03-18"),
    ("NVIDIA RTX PRO 4500 Blackwell", "RTX PRO 4500 Blackwell", 2623, "2025-03-18"),
    ("NVIDIA RTX PRO 5000 Blackwell", "RTX PRO 5000 Blackwell (48 GB)", 4569, "2025-03-18"),
    ("NVIDIA RTX PRO 6000 Blackwell", "RTX PRO 6000 Blackwell Workstation Edition", 8565, "2025-03-18"),
    ("NVIDIA RTX PRO 6000 Blackwell Max-Q", "RTX PRO 6000 Blackwell Max-Q Workstation Edition", 8565, "2025-03-18"),
]:
    add(gpu, usd, "launch list price", card, WIKI.format(row=row, col=RP), day)
# vendors / press pages (search tool, pages corpus)
add(
    "AMD Radeon RX 7900 XT",
    899,
    "launch MSRP",
    card,
    "https://mybroadband.co.za/news/hardware/467523-amd-unveils-powerful-new-radeon-rx-7900-graphics-cards.html (2022-11-04: 'RX 7900 XT will start at $899', on sale 2022-12-13)",
    "2022-11-04",
)
add(
    "Apple M3 Ultra (60-core GPU)",
    3999,
    "list price of a complete system",
    "Mac Studio (2025), M3 Ultra 28-core CPU / 60-core GPU, 96 GB unified memory, 1 TB SSD (base configuration)",
    "https://english.worldmagazine.it/431260 (Macworld, Mac Studio announcement 2025-03-05: M3 Ultra, 60-core GPU, 96GB, 1TB, $3,999)",
    "2025-03-05",
    memory_gib=96,
)
add(
    "Apple M4 Max (32-core GPU)",
    1999,
    "list price of a complete system",
    "Mac Studio (2025), M4 Max 14-core CPU / 32-core GPU, 36 GB unified memory, 512 GB SSD (base configuration)",
    "https://english.worldmagazine.it/431260 (Macworld, Mac Studio announcement 2025-03-05: M4 Max, 32-core GPU, 36GB, 512GB SSD, $1,999)",
    "2025-03-05",
    memory_gib=36,
)
add(
    "NVIDIA GB10",
    3999,
    "list price of a complete system",
    "NVIDIA DGX Spark (GB10, 128 GB unified memory)",
    "https://aiwiki.ai/wiki/nvidia_digits (updated 2026-04-26: $3,000 when announced, $3,999 at retail launch; shipping from October 2025)",
    "2026-04-26",
)
add(
    "NVIDIA Jetson Orin Nano Super",
    249,
    "list price of a complete system",
    "Jetson Orin Nano Super Developer Kit (8 GB)",
    "https://www.brojogopalsapui.com/ai-foundations/sub_contents/AI_hardware/jetson_orin_nano_light.html ('NVIDIA's $249 generative-AI edge computer', citing NVIDIA's Dec 2024 developer-kit datasheet)",
    "2024-12-01",
)
hdr = """# Purchase prices of GPUs and complete machines, one entry per GPU profile (gpus.yaml name), merged
# into the GPU profiles when they load (hwbench/profiles.py). Kept apart from gpus.yaml, which
# scripts/build_gpu_profiles.py generates from specs. Never invented: each price names its source and
# the date the source gives it (as_of; a launch price is as old as the launch). price_kind says what
# kind of price it is: launch MSRP, launch list price (workstation cards), list price of a complete
# system (the machine the GPU comes in: Mac Studio, DGX Spark, Jetson developer kit; memory_gib is
# the configuration priced), street/used (none bundled: give yours with --price or a user file
# gpu_prices*.yaml). GPUs without an entry: MISSING_PRICES.md. Compiled 2026-12-02.
"""
out = hdr + yaml.safe_dump({"prices": rows}, sort_keys=False, allow_unicode=True, width=200)
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write(out)
print(len(rows))
