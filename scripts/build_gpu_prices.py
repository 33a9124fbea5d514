"""Write hwbench/data/gpu_prices.yaml: purchase prices, each with its kind, source and date.

Maintainer tool (never imported by the package). The rows below were read by hand on 2026-12-02 from:
Epoch AI's ML hardware dataset (ml_hardware.csv, copies in github.com/joshyou/clod and sr3-k/data),
Wikipedia's NVIDIA GPU list as scraped in voidful/gpu-info-api (gpu.json, branch gpu-data), and stored
vendor/press/news pages (URLs in each row); a second pass the same day added more rows of the scrape and
AMD, Intel and Apple prices from news pages (a price a page only mentions in passing says so in its source); a third pass
the same day added the remaining matching rows of the Epoch AI dataset and the scrape (Intel Arc) and more AMD RX 6000/7000
and Apple base-configuration prices from news pages. Usage: PYTHONPATH=. python scripts/build_gpu_prices.py hwbench/data/gpu_prices.yaml (also writes MISSING_PRICES.md
beside it)
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
# --- added 2026-12-02 (second pass): more rows of the same Wikipedia scrape (GeForce RTX 20, TITAN RTX, RTX 5050)
for gpu, row, col, usd, day in [
    ("NVIDIA GeForce RTX 2060", "GeForce RTX 2060 TU106-200-KA-A1 (2019-01-15, 6 GiB)", MSRP, 349, "2019-01-15"),
    ("NVIDIA GeForce RTX 2060 12 GB", "GeForce RTX 2060 TU106-300-KA-A1 (2021-12-07, 12 GiB)", MSRP, 299, "2021-12-07"),
    ("NVIDIA GeForce RTX 2060 SUPER", "GeForce RTX 2060 Super", MSRP, 399, "2019-07-09"),
    ("NVIDIA GeForce RTX 2070", "GeForce RTX 2070", MSRP, 499, "2018-10-17"),
    ("NVIDIA GeForce RTX 2070 SUPER", "GeForce RTX 2070 Super", MSRP, 499, "2019-07-09"),
    ("NVIDIA GeForce RTX 2080", "GeForce RTX 2080", MSRP, 699, "2018-09-20"),
    ("NVIDIA GeForce RTX 2080 SUPER", "GeForce RTX 2080 Super", MSRP, 699, "2019-07-23"),
    ("NVIDIA TITAN RTX", "Nvidia Titan RTX", "Release price (USD) Founders Edition", 2499, "2018-12-18"),
]:
    add(gpu, usd, "launch MSRP", card, WIKI.format(row=row, col=col), day)
add(
    "NVIDIA GeForce RTX 5050",
    199,
    "launch MSRP",
    card,
    WIKI.format(row="GeForce RTX 5050", col=MSRP) + "; the row's launch date reads 2025-01-01 (a year only): as_of is the snapshot's",
    "2025-06-16",
)
# --- AMD and Intel cards: press and news pages (search tool, pages corpus); the AMD rows of the Wikipedia
# scrape lost their price column. A price a page mentions in passing is labelled "secondary mention".
RX6000 = (
    "https://www.thefpsreview.com/2020/10/28/amd-announces-radeon-rx-6900-xt-999-radeon-rx-6800-xt-649-and-radeon-rx-6800-579/ "
    "(2020-10-28, AMD's announcement: {what}); on-sale dates from "
    "https://www.devdiscourse.com/article/technology/1288880-amd-radeon-rx-6000-series-graphics-cards-to-elevate-gaming-performance"
)
for gpu, usd, what in [
    ("AMD Radeon RX 6800", 579, "'Radeon RX 6800 ($579)', on sale 2020-11-18"),
    ("AMD Radeon RX 6800 XT", 649, "'Radeon RX 6800 XT ($649)', on sale 2020-11-18"),
    ("AMD Radeon RX 6900 XT", 999, "'Radeon RX 6900 XT ($999)', on sale 2020-12-08"),
]:
    add(gpu, usd, "launch MSRP", card, RX6000.format(what=what), "2020-10-28")
add(
    "AMD Radeon RX 7600",
    269,
    "launch MSRP",
    card,
    "secondary mention: https://cioinsights.com/blog/intel-announces-249-arc-b580-and-219-arc-b570-battlemage-graphics-cards "
    '(Intel B580 announcement, 2024-12-03: "AMD\'s $269 RX 7600"); launch date 2023-05-25 from the Wikipedia AMD list as '
    "scraped in voidful/gpu-info-api gpu.json (@03a6b34), row 'Radeon RX 7600 (Navi 33)'",
    "2023-05-25",
)
add(
    "AMD Radeon RX 7800 XT",
    500,
    "launch MSRP",
    card,
    "rounded by the source: https://www.theverge.com/2023/9/6/23861603/amd-radeon-rx-7800-xt-editorial-gpu-prices (2023-09-06, on sale that day: "
    "'its $500 price')",
    "2023-09-06",
)
RX9070 = (
    "https://techtelegraph.co.uk/?p=982045 (AMD RX 9000 announcement: RX 9070 XT and RX 9070 'set to launch on March 6 at $599 and $549')"
)
add("AMD Radeon RX 9070 XT", 599, "launch MSRP", card, RX9070, "2025-03-06")
add("AMD Radeon RX 9070", 549, "launch MSRP", card, RX9070, "2025-03-06")
RX9060 = (
    "https://gadgetbond.com/amd-rx-9060-xt-gpu-specs-price-release-date (Computex 2025: RX 9060 XT 8GB and 16GB 'with suggested "
    "retail prices of $299 and $349'; on sale 2025-06-05 per https://moneyoval.com/article/amds-radeon-rx-9060-xt-hits-the-scene-a-dollar299-gpu-to-rival-nvidias-rtx-5060-gzb065omg7460igqctrj6swe)"
)
add("AMD Radeon RX 9060 XT 8 GB", 299, "launch MSRP", card, RX9060, "2025-06-05")
add("AMD Radeon RX 9060 XT 16 GB", 349, "launch MSRP", card, RX9060, "2025-06-05")
ARC_B = (
    "https://www.tweaktown.com/news/101976/intel-arc-b580-is-10-faster-than-the-geforce-rtx-4060-24-a750/index.html "
    "(2024-12-03: 'The Arc B580, priced at $249, launches on December 13, 2024, and the B570 at $219 on January 16, 2025')"
)
add("Intel Arc B580", 249, "launch MSRP", card, ARC_B, "2024-12-13")
add("Intel Arc B570", 219, "launch MSRP", card, ARC_B, "2025-01-16")
add(
    "Intel Arc A750",
    289,
    "launch MSRP",
    card,
    "secondary mention: https://cioinsights.com/blog/intel-announces-249-arc-b580-and-219-arc-b570-battlemage-graphics-cards "
    "(2024-12-03: 'Intel's previous-gen A750, which originally retailed for $289'); launch date 2022-10-14 from the Wikipedia "
    "Intel list as scraped in voidful/gpu-info-api gpu.json (@03a6b34), row 'Arc 7 A750'",
    "2022-10-14",
)
# --- Apple machines: the list price of a complete base configuration (memory_gib: the memory priced)
SYSTEM = "list price of a complete system"
add(
    "Apple M4 (10-core GPU)",
    599,
    SYSTEM,
    "Mac mini (2024), M4 10-core CPU / 10-core GPU, 16 GB unified memory, 256 GB SSD (base configuration)",
    "https://www.tweaktown.com/news/101386/apples-mac-mini-m4-faster-smaller-16gb-standard-and-the-firms-first-carbon-neutral/index.html "
    "('the base model has 16GB of system RAM, and the starting price sticks at $599'); 10-core GPU, 256 GB and the "
    "2024-11-08 release from https://scartek.co.ke/product/apple-mac-mini-m4-chip-256-gb/",
    "2024-11-08",
    memory_gib=16,
)
add(
    "Apple M2 (10-core GPU)",
    599,
    SYSTEM,
    "Mac mini (2023), M2 8-core CPU / 10-core GPU, 8 GB unified memory, 256 GB SSD (base configuration)",
    "https://pocketnow.com/m2-pro-mac-mini/ (2023-01-17: Mac mini with M2, starting price $599, 10-core GPU); 8GB/256GB at $599 "
    "per https://www.trustedreviews.com/news/apple-mac-mini-m2-2023-release-date-price-specs-and-design-4295789",
    "2023-01-17",
    memory_gib=8,
)
MBP23 = (
    "https://sixcolors.com/post/2023/01/apple-announces-m2-pro-and-m2-max-powered-macbook-airs-mac-mini/ (Apple's 2023-01-17 "
    "announcement: 16-inch MacBook Pro {what}); memory: the smallest the chip is offered with, per "
    "https://24htech.asia/new-mac-mini-and-macbook-pro-models-powered-by-m2-pro-and-m2-max-s1376669.html ({mem})"
)
add(
    "Apple M2 Pro (19-core GPU)",
    2499,
    SYSTEM,
    "MacBook Pro 16-inch (2023), M2 Pro 12-core CPU / 19-core GPU, 16 GB unified memory (base configuration)",
    MBP23.format(what="base configuration at $2499 with a 12-core CPU/19-core GPU M2 Pro", mem="M2 Pro: 16 GB or 32 GB"),
    "2023-01-17",
    memory_gib=16,
)
add(
    "Apple M2 Max (38-core GPU)",
    3499,
    SYSTEM,
    "MacBook Pro 16-inch (2023), M2 Max 12-core CPU / 38-core GPU, 32 GB unified memory",
    MBP23.format(what="$3499 model with the 12-core/38-core M2 Max", mem="M2 Max: 32 GB, 64 GB or, with the 38-core GPU, 96 GB"),
    "2023-01-17",
    memory_gib=32,
)
# --- added 2026-12-02 (third pass): the rest of the Epoch AI and Wikipedia-scrape rows that match a profile, and AMD
# RX 6000/7000 cards and Apple base configurations from stored news pages (search tool, pages corpus)
add(
    "NVIDIA Tesla V100 SXM2 16 GB",
    11500,
    "release price",
    "one accelerator (card or module)",
    EPOCH.format(row="NVIDIA Tesla V100 SXM2") + "; the row gives 16 GB of memory",
    "2017-07-01",
)
add(
    "NVIDIA Tesla P100 PCIe 16 GB",
    5699,
    "release price",
    "one accelerator (card or module)",
    EPOCH.format(row="NVIDIA P100")
    + "; the row gives 16 GB and links the P100 PCIe datasheet (nvidia-tesla-p100-PCIe-datasheet.pdf); its release date is the P100's announcement",
    "2016-04-05",
)
WIKI_INTEL = (
    "Wikipedia 'List of Intel graphics processing units', as scraped in voidful/gpu-info-api gpu.json "
    "(branch gpu-data @03a6b34, 2025-06-16), row '{row}', column 'MSRP (USD)'"
)
for gpu, row, usd, day in [
    ("Intel Arc A380", "Arc 3 / A380", 139, "2022-06-14"),
    ("Intel Arc A580", "Arc 5 / A580", 179, "2023-10-10"),
    ("Intel Arc A770", "Arc 7 / A77016GB, the 16 GB card", 349, "2022-10-14"),
]:
    add(gpu, usd, "launch MSRP", card, WIKI_INTEL.format(row=row), day)
RX6X50 = (
    "https://wccftech.com/amd-radeon-rx-6950-xt-rx-6750-xt-rx-6650-xt-official-launch-specs-prices-performance/ (2022-05-10: "
    "'AMD Radeon RX 6950 XT For $1099 US, RX 6750 XT For $549 US, RX 6650 XT For $399 US Now Official'; on sale that day per "
    "https://www.windowscentral.com/amd-launches-radeon-rx-6950-xt-6750-xt-and-6650-xt-graphics-cards)"
)
add("AMD Radeon RX 6950 XT", 1099, "launch MSRP", card, RX6X50, "2022-05-10")
add("AMD Radeon RX 6750 XT", 549, "launch MSRP", card, RX6X50, "2022-05-10")
add(
    "AMD Radeon RX 6700 XT",
    479,
    "launch MSRP",
    card,
    "https://www.driverscloud.com/en/news/1527/radeon-rx-6700-xt-the-latest-from-amd (AMD's 2021-03-03 announcement: 'available on "
    "March 18 ... with an official price of $479'); also https://techgamebox.com/amd-announces-479-rx-6700-xt-graphics-card-for-1440p-gaming",
    "2021-03-18",
)
add(
    "AMD Radeon RX 6600 XT",
    379,
    "launch MSRP",
    card,
    "https://propakistani.pk/2021/07/31/amd-announces-its-cheapest-rx-6000-series-graphics-card-yet/ (2021-07-31: 'The AMD RX 6600 XT "
    "has an official price of $379 and will be available from August 11'); also https://www.cnet.com/tech/computing/amd-radeon-rx-6600-xt-gpu-ships-aug-11-starting-at-379/",
    "2021-08-11",
)
add(
    "AMD Radeon RX 6600",
    329,
    "launch MSRP",
    card,
    "https://www.moneycontrol.com/news/technology/amd-announces-radeon-rx-6600-graphics-card-based-on-rdna2-architecture-all-you-need-to-know-7582421.html "
    "(2021-10-14: 'The AMD Radeon RX 6600 GPU is priced at $329 ... in the US'); launch date 2021-10-13 from the Wikipedia AMD list as "
    "scraped in voidful/gpu-info-api gpu.json (@03a6b34), row 'Radeon RX 6600 (Navi 23)'",
    "2021-10-13",
)
add(
    "AMD Radeon RX 7700 XT",
    449,
    "launch MSRP",
    card,
    "https://www.tweaktown.com/reviews/10526/sapphire-pulse-amd-radeon-rx-7700-xt/index.html (launch review: 'the Radeon RX 7700 XT, "
    "with its MSRP of USD 449'); on sale 2023-09-06 with the RX 7800 XT, per https://techwarrant.com/?p=127026",
    "2023-09-06",
)
add(
    "Apple M1 (8-core GPU)",
    699,
    SYSTEM,
    "Mac mini (2020), M1 8-core CPU / 8-core GPU, 8 GB unified memory, 256 GB SSD (base configuration)",
    "https://www.iphonelife.com/content/mac-mini-2020-there-room-market-tiny-computer ('Prices: $699 for 256GB SSD storage'; 'Apple M1 chip "
    "with 8-core CPU, 8-core GPU'; '8 GB up to 16 GB'); announced 2020-11-10 per https://www.imore.com/mac-mini-2020-release-date-price-and-everything-you-need-know",
    "2020-11-10",
    memory_gib=8,
)
add(
    "Apple M1 Pro (16-core GPU)",
    2499,
    SYSTEM,
    "MacBook Pro 16-inch (2021), M1 Pro 10-core CPU / 16-core GPU, 16 GB unified memory, 512 GB SSD (base configuration)",
    "https://pagesfestival.com/starts-at-1999-ends-at-6099-heres-what-the-new-macbook-pros-will-cost-you (copy of Ars Technica's report on Apple's 2021-10-18 event: 'the "
    "16-inch model starts at $2,499 ... an M1 Pro processor, 16GB of memory, and 512GB of storage'); 16-core GPU: "
    "https://www.greenground.it/2021/10/18/new-macbook-pro-16-inch-2021/ ('the M1 Pro MacBook Pro 16-inch features a 16 core GPU')",
    "2021-10-18",
    memory_gib=16,
)
add(
    "Apple M3 (10-core GPU)",
    1599,
    SYSTEM,
    "MacBook Pro 14-inch (Nov 2023), M3 8-core CPU / 10-core GPU, 8 GB unified memory, 512 GB SSD (base configuration)",
    "https://www.atthepeople.com/technology-innovation/technology/2023/apples-m3-chip-revolution-a-comprehensive-guide-for-the-average-consumer/ "
    "('14-Inch Base Model: Priced at $1,599, this model sports the M3 chip with an 8-core CPU and 10-core GPU ... its 8GB of RAM'); "
    "512 GB from https://meterpreter.org/apple-launches-new-14-16-inch-macbook-pro-and-24-inch-imac-equipped-with-m3-series-chips/; "
    "announced 2023-10-30 per https://gtechbooster.com/new-macbooks-of-2023/",
    "2023-10-30",
    memory_gib=8,
)
add(
    "Apple M3 Pro (18-core GPU)",
    2499,
    SYSTEM,
    "MacBook Pro 16-inch (Nov 2023), M3 Pro 12-core CPU / 18-core GPU, 18 GB unified memory (base configuration)",
    "https://thewisernews.com/post.php?post_id=114 (the lineup after Apple's M3 announcement: 'MacBook Pro M3 Pro 16-inch: $2,499'); "
    "chip and memory of that model from Apple's tech specs https://support.apple.com/en-au/117737 ('MacBook Pro (16-inch, Nov 2023)': "
    "M3 Pro 12-core CPU, 18-core GPU, 18GB unified memory); announced 2023-10-30",
    "2023-10-30",
    memory_gib=18,
)
add(
    "Apple M4 Pro (20-core GPU)",
    2499,
    SYSTEM,
    "MacBook Pro 16-inch (2024), M4 Pro 14-core CPU / 20-core GPU, 24 GB unified memory (base configuration)",
    "https://coinwebko.com/detail/151131 (Yahoo Finance, 2024-10-30: 'The 16-inch model starts at $2,499 and comes with the M4 Pro and 24GB "
    "of memory'; 'The M4 Pro features a 14-core ... CPU, 20-core ... GPU'); the 16-inch's M4 Pro is the 14-core CPU / 20-core GPU "
    "configuration per https://www.shrook.com/a/apple-macbook-pro-16",
    "2024-10-30",
    memory_gib=24,
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

# MISSING_PRICES.md beside it: the buyable GPU profiles (those `recommend --buy` considers) left without a row
MISSING_HEAD = """# GPU profiles without a purchase price

Buyable GPU profiles (`recommend --buy` considers them) for which no dated, sourced purchase price was found
in the sources read for hwbench/data/gpu_prices.yaml (Epoch AI's ML hardware dataset, Wikipedia's NVIDIA and
Intel GPU lists as scraped in voidful/gpu-info-api, stored vendor, press and news pages), checked on 2026-12-02. `recommend --buy`
still lists them, with "no purchase price known"; give a price with `--price "GPU=USD"` or a user file
`gpu_prices*.yaml` in your profiles directory. Written by scripts/build_gpu_prices.py; tests/test_buy.py keeps this
list equal to the profiles without a price.

Searched for and not found, among the ones people ask about most (the list of profiles follows, one per "- " line):
* NVIDIA H100 PCIe / NVL, H200, L40S, L40, L4, A100 80 GB, A100 PCIe 40 GB, A30, A40: NVIDIA sells them through partners
  without a public list price, Epoch AI's dataset has no release price for them, and the stored pages give only ranges
  ("$25,000 to $40,000", "~$7k-$10k"), not a price with a date (searched again 2026-12-02, third pass).
* AMD Radeon PRO W7900 / W7800 and Radeon RX 7900 GRE: no stored page with their USD launch price (AMD's W7000 press
  release is not stored; the GRE pages found give no price, or only a GitHub note written by a tool); the Wikipedia AMD
  rows as scraped lost their price column. RX 7600 XT: only an automatically written page gives its price.
* NVIDIA Jetson AGX Orin and Orin NX: no stored page with a developer-kit or module price (a GitHub note lists "$999" and
  "$1,999" kits without a source or date: not used).
* Apple: the base configurations found with their chip's GPU-core count are priced (Mac Studio M3 Ultra 60-core and M4
  Max 32-core; Mac mini M4, M2 and M1; MacBook Pro 16-inch M1 Pro 16-core, M2 Pro 19-core, M2 Max 38-core, M3 Pro 18-core
  and M4 Pro 20-core; MacBook Pro 14-inch M3). The other variants (M1 Max 32-core, M1 Ultra 64-core, M2 Ultra 76-core,
  M3 Max, M3 Ultra 80-core, M4 Max 40-core) are build-to-order options or in machines whose stored pages give no exact
  price with the core count ("upwards of $4,000").

"""


def _missing(priced: set[str]) -> list[str]:
    from hwbench.profiles import load_gpus
    from hwbench.recommend import buyable

    return sorted(g.name for g in load_gpus() if buyable(g) and g.name not in priced)


missing_path = sys.argv[1].rsplit("/", 1)[0] + "/MISSING_PRICES.md" if "/" in sys.argv[1] else "MISSING_PRICES.md"
with open(missing_path, "w", encoding="utf-8") as f:
    f.write(MISSING_HEAD + "".join(f"- {n}\n" for n in _missing({r["gpu"] for r in rows})))
print(len(rows))
