"""Shared walk over /sys/class/drm/card* for the sysfs GPU probes (AMD, Intel)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hwbench.detect._util import link_name, read_hex, sorted_glob

_CARD_RE = re.compile(r"^card\d+$")


@dataclass
class DrmCard:
    card: Path  # /sys/class/drm/cardN
    device: Path  # /sys/class/drm/cardN/device (the PCI device)
    vendor: int
    device_id: int | None
    pci_class: int | None
    driver: str | None
    pci_bus_id: str | None


def drm_cards(sys_root: str, vendor: int, warnings: list[str]) -> list[DrmCard]:
    """DRM cards of one PCI vendor (connectors such as card0-DP-1 are skipped)."""
    cards: list[DrmCard] = []
    seen: set[str] = set()
    for card in sorted_glob(Path(sys_root) / "class" / "drm", "card*"):
        if not _CARD_RE.match(card.name):
            continue
        dev = card / "device"
        if read_hex(dev / "vendor", warnings) != vendor:
            continue
        try:
            bus_id = dev.resolve().name
        except OSError:
            bus_id = None
        key = bus_id or card.name
        if key in seen:
            continue
        seen.add(key)
        cards.append(
            DrmCard(
                card=card,
                device=dev,
                vendor=vendor,
                device_id=read_hex(dev / "device", warnings),
                pci_class=read_hex(dev / "class", warnings),
                driver=link_name(dev / "driver"),
                pci_bus_id=bus_id if bus_id and ":" in bus_id else None,
            )
        )
    return cards
