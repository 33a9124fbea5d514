"""Where hwbench keeps its files: the user cache dir (synthetic models) and data dir (results).

``HWBENCH_CACHE_DIR`` / ``HWBENCH_DATA_DIR`` override them (tests point both at a temp dir).
hwbench never writes anywhere else unless given a path.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    env = os.environ.get("HWBENCH_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("hwbench"))


def data_dir() -> Path:
    env = os.environ.get("HWBENCH_DATA_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("hwbench"))


def results_dir() -> Path:
    return data_dir() / "results"


def profiles_dir() -> Path:
    """The user's own profile files (``hwbench profiles update`` writes here); read after the bundled ones."""
    return data_dir() / "profiles"
