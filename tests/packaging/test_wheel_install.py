"""An installed hwbench (a wheel, not an editable checkout) finds its bundled profiles anywhere.

Builds the wheel from a copy of the package sources (no top-level profiles/ beside it), installs it
into a fresh venv without ``-e``, and runs the commands a new user runs first from a directory
outside the checkout. The venv borrows the already-installed dependencies of the test environment
through a path file, so no download is needed; hwbench itself must come from the wheel (asserted).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "hwbench", src / "hwbench", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = base / "dist"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HWBENCH_", "PYTHON"))}
    r = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(src)], base, env)
    assert r.returncode == 0, r.stderr[-2000:]
    wheels = list(dist.glob("hwbench-*.whl"))
    assert len(wheels) == 1, wheels

    vdir = base / "venv"
    venv.EnvBuilder(with_pip=False).create(vdir)
    vpy = vdir / "bin" / "python"
    purelib = Path(_run([str(vpy), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], base, env).stdout.strip())
    # dependencies: the test environment's site-packages, appended after the venv's own
    (purelib / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    r = _run([sys.executable, "-m", "pip", "--python", str(vpy), "install", "-q", "--no-index", str(wheels[0])], base, env)
    if r.returncode != 0 and "no such option: --python" in r.stderr:
        r = _run([str(vpy), "-m", "pip", "install", "-q", "--no-index", str(wheels[0])], base, env)
    assert r.returncode == 0, r.stderr[-2000:]

    work = base / "elsewhere"
    work.mkdir()
    env.update(
        HOME=str(base / "home"),
        XDG_CACHE_HOME=str(base / "home" / ".cache"),
        XDG_DATA_HOME=str(base / "home" / ".local" / "share"),
        MPLCONFIGDIR=str(base / "home" / "mpl"),
    )
    return vdir, env, work


def test_hwbench_comes_from_the_wheel(installed: tuple[Path, dict[str, str], Path]) -> None:
    vdir, env, work = installed
    r = _run([str(vdir / "bin" / "python"), "-c", "import hwbench, hwbench.profiles as p; print(hwbench.__file__); print(p.BUNDLED_DIR)"], work, env)
    assert r.returncode == 0, r.stderr
    module, bundled = r.stdout.split()
    assert Path(module).is_relative_to(vdir), f"hwbench imported from {module}, not from the installed wheel"
    assert Path(bundled).is_relative_to(vdir)
    assert (Path(bundled) / "gpus.yaml").is_file()
    assert (Path(bundled) / "instances" / "MISSING.md").is_file()


def test_check_model_from_anywhere(installed: tuple[Path, dict[str, str], Path]) -> None:
    vdir, env, work = installed
    r = _run([str(vdir / "bin" / "hwbench"), "check", "--model", "llama-3.1-8b", "--json"], work, env)
    print(r.stdout[-500:], r.stderr[-2000:])
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["model"]["name"] == "llama-3.1-8b"
    assert out["model"]["params"] > 7e9


def test_recommend_from_anywhere(installed: tuple[Path, dict[str, str], Path]) -> None:
    vdir, env, work = installed
    r = _run([str(vdir / "bin" / "hwbench"), "recommend", "--params", "8b", "--json"], work, env)
    print(r.stdout[-500:], r.stderr[-2000:])
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["candidates"], "no instance ranked: the bundled instance profiles were not found"


def test_report_from_anywhere(installed: tuple[Path, dict[str, str], Path]) -> None:
    vdir, env, work = installed
    r = _run([str(vdir / "bin" / "hwbench"), "report", "-o", "x.html"], work, env)
    print(r.stdout[-500:], r.stderr[-2000:])
    assert r.returncode == 0, r.stderr
    html = (work / "x.html").read_text(encoding="utf-8")
    assert "<html" in html.lower()
    assert "profiles (profiles/gpus.yaml" in html or "GPU specs:" in html
