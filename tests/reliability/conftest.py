"""Re-use the detect fakes (fake pynvml, fake /proc and /sys trees) from tests/detect/conftest.py."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_path = Path(__file__).resolve().parent.parent / "detect" / "conftest.py"
_spec = importlib.util.spec_from_file_location("_hwbench_detect_fakes", _path)
assert _spec is not None and _spec.loader is not None
fakes = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = fakes
_spec.loader.exec_module(fakes)

tree = fakes.tree
make_nvml = fakes.make_nvml
gpu = fakes.gpu
