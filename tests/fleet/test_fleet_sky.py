"""`hwbench fleet sky`: the SkyPilot task, checked by SkyPilot's own parser; --launch with SkyPilot's API replaced.

No test reaches a cloud. SkyPilot pins click<8.2, so it cannot share this project's venv: `make
install-test` puts it in `.venv-sky/` and the slow tests run SkyPilot's parser there
(HWBENCH_SKY_PYTHON overrides the interpreter).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests_helpers_cli import error_lines, run_cli
from tests_helpers_sshd import RECORDS, REPO, WRAPPER

from hwbench.fleet.sky import MARK, SkySpec, records_from_log, task_config

SKY_PYTHON = Path(os.environ.get("HWBENCH_SKY_PYTHON") or REPO / ".venv-sky" / "bin" / "python")


def sky_task(tmp_path: Path, *args: str) -> tuple[Path, dict[str, Any]]:
    out = tmp_path / "task.yaml"
    code, _, err = run_cli(["fleet", "sky", *args, "-o", str(out)])
    assert code == 0, err
    return out, yaml.safe_load(out.read_text())


def test_task_yaml_resources_setup_run(tmp_path: Path) -> None:
    path, cfg = sky_task(
        tmp_path, "--model", "llama-3.1-8b", "--quant", "q4_k_m", "--gpu", "L4,A10G,h100:8", "--cloud", "aws,gcp", "--spot", "-r", "3"
    )
    assert cfg["name"] == "hwbench-llama-3-1-8b-q4-k-m"
    assert cfg["resources"]["use_spot"] is True
    assert [(r["accelerators"], r["infra"]) for r in cfg["resources"]["any_of"]] == [
        ("L4:1", "aws"),
        ("L4:1", "gcp"),
        ("A10G:1", "aws"),
        ("A10G:1", "gcp"),
        ("h100:8", "aws"),
        ("h100:8", "gcp"),
    ]
    assert cfg["envs"]["HWBENCH_SPEC"].startswith("hwbench[llamacpp,nvidia]==")
    assert 'CMAKE_ARGS="-DGGML_CUDA=on"' in cfg["setup"] and '"$HWBENCH_SPEC"' in cfg["setup"]
    assert "hwbench detect --json" in cfg["run"]
    assert 'hwbench bench --model llama-3.1-8b --quant q4_k_m --reps 3 --out "$R" --json' in cfg["run"]
    assert "sky bench" not in path.read_text()  # removed upstream; never relied on


def test_run_script_really_leaves_records_and_prints_them(tmp_path: Path) -> None:
    """Execute the task's `run` with bash, as SkyPilot would, with a stand-in hwbench in the venv it expects."""
    home = tmp_path / "home"
    venv_bin = home / "hwbench-venv" / "bin"
    venv_bin.mkdir(parents=True)
    hw = venv_bin / "hwbench"
    hw.write_text(
        WRAPPER.format(
            python=sys.executable,
            mode="ok",
            log=str(tmp_path / "calls"),
            fixture=str(RECORDS / "aws-g5-2xlarge.json"),
            repo=str(REPO),
            pids=str(tmp_path / "pids"),
        )
    )
    hw.chmod(0o755)
    cfg = task_config(SkySpec(accelerators=["L4:1"], bench_args=["--model", "llama-3.1-8b", "-r", "2"]))
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)}
    proc = subprocess.run(["bash", "-c", cfg["run"]], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    [run_dir] = (home / "hwbench-results").iterdir()
    names = sorted(p.name for p in run_dir.iterdir())
    assert "detect.json" in names and len(names) == 2
    printed = records_from_log(proc.stdout.splitlines())
    assert sorted(printed) == names
    assert all(printed[n] == (run_dir / n).read_bytes() for n in names)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--model", "llama-3.1-8b"], "one of them"),
        (["--model", "llama-3.1-8b", "--gpu", "L4", "--from-recommend"], "one of them"),
        (["--model", "llama-3.1-8b", "--gpu", "L4;rm -rf /"], "--gpu"),
        (["--model", "llama-3.1-8b", "--gpu", "L4", "--cloud", "aws;x"], "--cloud"),
        (["--model", "llama-3.1-8b", "--gpu", "L4", "-o", "task.json"], "name it .yaml"),
        (["--from-recommend"], "needs the model"),
        (["--model", "llama-3.1-8b", "--gpu", "L4", "-p", "x"], "--n-prompt"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], needle: str) -> None:
    code, out, err = run_cli(["fleet", "sky", *args])
    assert code == 2
    [line] = error_lines(err)
    assert needle in line


def test_from_recommend_takes_gpus_that_fit(tmp_path: Path) -> None:
    _, cfg = sky_task(tmp_path, "--params", "70b", "--quant", "q4_k_m", "--from-recommend", "--max-candidates", "3")
    accs = [r["accelerators"] for r in cfg["resources"]["any_of"]]
    assert 1 <= len(accs) <= 3 and len(set(accs)) == len(accs)
    from hwbench.recommend import recommend
    from hwbench.resolve import resolve_model
    from hwbench.schema import EstimateSettings

    rec = recommend(resolve_model(model=None, params="70b", active_params=None, gguf=None, quant="q4_k_m"), EstimateSettings(context=8192))
    fits = {f"{c.gpu_model}:{int(c.gpu_count)}" for c in rec.candidates if c.verdict == "gpu" and c.gpu_model}
    assert set(accs) <= fits
    assert "# candidates: hwbench recommend for" in (tmp_path / "task.yaml").read_text()


# ----------------------------------------------------------------------------- --launch, SkyPilot replaced at its boundary


class StandInSky:
    """Replaces SkyPilotApi.launch (the one place hwbench calls SkyPilot): logs a run, one record per candidate."""

    def __init__(self, fail: set[str] | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = fail or set()

    def launch(self, config: dict[str, Any], accelerator: str, cluster_name: str, log: Any) -> None:
        import base64

        self.calls.append((accelerator, cluster_name))
        assert any(r["accelerators"] == accelerator for r in config["resources"]["any_of"])
        log(f"Launching on {accelerator} (stand-in: no cloud)")
        if accelerator in self.fail:
            raise RuntimeError("ResourcesUnavailableError: no capacity for this accelerator\nin any zone")
        rec = json.loads((RECORDS / "aws-g5-2xlarge.json").read_text())
        rec["run_id"] = f"20261202T000000Z-{accelerator.split(':')[0].lower():0>8}"[:26]
        body = json.dumps(rec).encode()
        log(f"(task, pid=1) {MARK} {rec['run_id']}.json {base64.b64encode(body).decode()}")
        log(f"(task, pid=1) {MARK} detect.json {base64.b64encode(json.dumps(rec['host']).encode()).decode()}")


def test_launch_one_cluster_per_candidate_records_home_and_compared(tmp_path: Path) -> None:
    from hwbench.commands.fleet import _launch

    api = StandInSky(fail={"H100:1"})
    spec = SkySpec(accelerators=["L4:1", "A10G:1", "H100:1"], bench_args=["--model", "llama-3.1-8b"])
    import click

    with pytest.raises(click.exceptions.Exit) as e, click.Context(click.Command("x")):
        _launch(spec, api, jobs=2, out=tmp_path / "res", redact=True)
    assert e.value.exit_code == 1  # one candidate failed
    assert sorted(a for a, _ in api.calls) == ["A10G:1", "H100:1", "L4:1"]
    assert len({c for _, c in api.calls}) == 3  # one cluster each
    res = tmp_path / "res"
    for label in ("sky-L4x1", "sky-A10Gx1"):
        meta = json.loads((res / label / "host.json").read_text())
        assert meta["status"] == "ok" and (res / label / meta["records"][0]).is_file() and (res / label / "detect.json").is_file()
    assert not (res / "sky-H100x1").exists()
    s = {h["label"]: h for h in json.loads((res / "fleet.json").read_text())["hosts"]}
    assert s["sky-H100x1"]["status"] == "failed" and "\n" not in s["sky-H100x1"]["cause"]
    assert {m["label"] for m in json.loads((res / "compare.json").read_text())["machines"]} == {"sky-L4x1", "sky-A10Gx1"}


def test_launch_without_skypilot_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sky", None)
    code, out, err = run_cli(["fleet", "sky", "--model", "llama-3.1-8b", "--gpu", "L4", "--launch"])
    assert code == 1
    [line] = error_lines(err)
    assert "pip install 'hwbench[sky]'" in line


# ----------------------------------------------------------------------------- SkyPilot itself (its own venv)


def _sky(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    if not SKY_PYTHON.exists():
        pytest.fail(f"SkyPilot's venv not found at {SKY_PYTHON}: `make install-test` makes .venv-sky (or set HWBENCH_SKY_PYTHON)")
    env = dict(os.environ, PYTHONPATH=str(REPO), SKYPILOT_DISABLE_USAGE_COLLECTION="1")
    return subprocess.run([str(SKY_PYTHON), "-c", textwrap.dedent(script), *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_skypilot_parses_the_task(tmp_path: Path) -> None:
    path, _ = sky_task(
        tmp_path, "--model", "llama-3.1-8b", "--quant", "q4_k_m", "--gpu", "L4,A10G,L40S,H100", "--cloud", "aws,gcp", "--spot"
    )
    proc = _sky(
        """
        import json, sys
        import sky
        t = sky.Task.from_yaml(sys.argv[1])
        print(json.dumps({
            "name": t.name,
            "resources": sorted([list(r.accelerators.items())[0][0], str(r.cloud), r.use_spot] for r in t.resources),
            "setup": t.setup, "run": t.run, "envs": dict(t.envs),
        }))
        """,
        str(path),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["name"] == "hwbench-llama-3-1-8b-q4-k-m"
    assert got["resources"] == sorted([a, c, True] for a in ("L4", "A10G", "L40S", "H100") for c in ("AWS", "GCP"))
    assert "-DGGML_CUDA=on" in got["setup"] and "hwbench bench --model llama-3.1-8b" in got["run"]
    assert got["envs"]["HWBENCH_SPEC"].startswith("hwbench[llamacpp,nvidia]==")


@pytest.mark.slow
def test_skypilot_api_boundary_calls(tmp_path: Path) -> None:
    """SkyPilotApi.launch with SkyPilot's real Task/Resources; only sky.launch and sky.stream_and_get replaced."""
    proc = _sky(
        """
        import json, sky
        from hwbench.fleet.sky import SkyPilotApi, SkySpec, task_config
        seen = {}
        def launch(task, cluster_name=None, down=False, **kw):
            seen.update(cluster=cluster_name, down=down, resources=[(list(r.accelerators)[0], str(r.cloud), r.use_spot) for r in task.resources],
                        run=task.run)
            return "request-1"
        def stream_and_get(request_id, output_stream=None, **kw):
            seen["request"] = request_id
            output_stream.write("line one\\nHWBENCH-RECORD x.json e30=\\npartial")
            return (1, None)
        sky.launch, sky.stream_and_get = launch, stream_and_get
        lines = []
        cfg = task_config(SkySpec(accelerators=["L4:1", "H100:1"], bench_args=["--model", "llama-3.1-8b"], clouds=["aws"], spot=True))
        SkyPilotApi().launch(cfg, "H100:1", "hwbench-h100-1-abcd", lines.append)
        seen["lines"] = lines
        print(json.dumps(seen))
        """
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["down"] is True and seen["cluster"] == "hwbench-h100-1-abcd" and seen["request"] == "request-1"
    assert seen["resources"] == [["H100", "AWS", True]]
    assert seen["lines"] == ["line one", "HWBENCH-RECORD x.json e30=", "partial"]
