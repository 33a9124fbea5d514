"""Shared fixtures: every test gets its own cache/data dirs, never the user's."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path_factory.mktemp("hwbench-home")
    monkeypatch.setenv("HWBENCH_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("HWBENCH_DATA_DIR", str(base / "data"))
    monkeypatch.delenv("HWBENCH_PROFILES", raising=False)
    monkeypatch.delenv("HWBENCH_PROFILES_DIR", raising=False)
    monkeypatch.setenv("HWBENCH_PROBE", "0")  # no CPU probe in tests unless one asks (tests/test_probe.py)
    monkeypatch.setenv("HWBENCH_KERNELS", "0")  # no CPU kernel probe in a bench unless one asks (tests/bench/test_kernels.py)


# small shared builders (e.g. tests_helpers_gguf.write_tiny) live in tests/helpers/
import sys as _sys  # noqa: E402
from pathlib import Path as _Path  # noqa: E402

_sys.path.insert(0, str(_Path(__file__).parent / "helpers"))
