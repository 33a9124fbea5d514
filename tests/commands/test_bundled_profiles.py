"""The bundled profiles: one source of truth, and a missing/empty/unreadable set gives one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests_helpers_cli import error_lines, run_cli

import hwbench.profiles as profiles

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_profile_caches():
    for f in (profiles.load_gpus, profiles.load_instances, profiles.load_models):
        f.cache_clear()
    yield
    for f in (profiles.load_gpus, profiles.load_instances, profiles.load_models):
        f.cache_clear()


def test_bundled_profiles_are_package_data() -> None:
    import hwbench

    assert profiles.BUNDLED_DIR == Path(hwbench.__file__).resolve().parent / "data"
    assert (profiles.BUNDLED_DIR / "gpus.yaml").is_file()
    assert (profiles.BUNDLED_DIR / "models.yaml").is_file()
    assert sorted(profiles.BUNDLED_DIR.joinpath("instances").glob("*.yaml"))


def test_top_level_profiles_is_the_same_folder_not_a_copy() -> None:
    """profiles/ of a checkout is the human-facing view of hwbench/data/: a link, so nothing can drift."""
    top = ROOT / "profiles"
    assert top.is_symlink(), "profiles/ must link to hwbench/data/, not hold a copy that can drift"
    assert top.resolve() == profiles.BUNDLED_DIR.resolve()


def test_package_data_in_pyproject_covers_every_bundled_file() -> None:
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]["hwbench"]
    # setuptools expands package-data like Path.glob: `*` stays within one folder (fnmatch's would cross folders)
    package = profiles.BUNDLED_DIR.parent
    shipped = {f for p in patterns for f in package.glob(p)}
    for f in profiles.BUNDLED_DIR.rglob("*"):
        if f.is_file() and "__pycache__" not in f.parts:
            assert f in shipped, f"{f.relative_to(package)} would be left out of the wheel"


# every command that reads profiles, as a new user types it
COMMANDS = [
    ["check", "--model", "llama-3.1-8b", "--json"],
    ["check", "--params", "8b", "--gpu", "RTX 3090"],
    ["recommend", "--params", "8b", "--json"],
    ["recommend", "--params", "8b", "--buy"],
    ["profiles", "list", "gpus"],
    ["profiles", "list", "instances"],
]


def _broken_sets(tmp: Path) -> dict[str, Path]:
    missing = tmp / "missing"
    missing.mkdir()
    empty = tmp / "empty"
    (empty / "instances").mkdir(parents=True)
    (empty / "gpus.yaml").write_text("gpus: []\n", encoding="utf-8")
    (empty / "models.yaml").write_text("models: []\n", encoding="utf-8")
    (empty / "instances" / "aws.yaml").write_text("instances: []\n", encoding="utf-8")
    garbled = tmp / "garbled"
    (garbled / "instances").mkdir(parents=True)
    for name in ("gpus.yaml", "models.yaml", "instances/aws.yaml"):
        (garbled / name).write_bytes(b"\xff\xfe: [unclosed\n")
    return {"missing": missing, "empty": empty, "garbled": garbled}


@pytest.mark.parametrize("which", ["missing", "empty", "garbled"])
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_broken_bundled_set_is_one_line_exit_2(which: str, args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profiles, "BUNDLED_DIR", _broken_sets(tmp_path)[which])
    rc, _out, err = run_cli(args)
    lines = error_lines(err)
    assert rc == 2, (rc, err)
    assert len(lines) == 1, err
    assert "internal error" not in err and "Traceback" not in err
    assert "profile" in lines[0]


def test_report_with_broken_bundled_set_is_one_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profiles, "BUNDLED_DIR", _broken_sets(tmp_path)["empty"])
    out = tmp_path / "x.html"
    rc, _o, err = run_cli(["report", "-o", str(out)])
    assert rc == 2, (rc, err)
    assert len(error_lines(err)) == 1 and "internal error" not in err, err
    assert not out.exists(), "nothing half-written"
