"""Cloud instances you might rent: a SkyPilot task that installs hwbench, detects and benchmarks.

``task_config`` builds the task as SkyPilot's YAML schema has it: ``resources.any_of`` lists the
candidate accelerators (times the clouds, when given), ``setup`` installs hwbench with the
llama.cpp CUDA build into a venv, ``run`` runs ``hwbench detect`` and ``hwbench bench`` and leaves
the JSON records in ``~/hwbench-results`` on the cluster (``rsync -Pavz CLUSTER:~/hwbench-results/ .``
fetches them while it is up). ``run`` also prints each record as one ``HWBENCH-RECORD name base64``
line, which is how ``--launch`` brings records home from clusters torn down at the end (``down=True``).

``launch`` starts one cluster per candidate through a :class:`SkyApi` - the one boundary where
hwbench calls SkyPilot (``SkyPilotApi`` in production, a stand-in in the tests) - then writes each
candidate's records like ``fleet bench`` does and compares them. SkyPilot's ``sky bench`` was
removed upstream; nothing here depends on it.
"""

from __future__ import annotations

import base64
import re
import secrets
import shlex
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hwbench.errors import BadInput, HwbenchError

RESULTS = "~/hwbench-results"  # on the cluster; each run in its own run-<UTC time> folder
VENV = "$HOME/hwbench-venv"
MARK = "HWBENCH-RECORD"
ACCEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}(:[1-9][0-9]?)?$")
CLOUD_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,29}(/[A-Za-z0-9._-]{1,40}){0,2}$")


@dataclass
class SkySpec:
    """What the task benchmarks, and on what."""

    accelerators: list[str]  # SkyPilot accelerator names, optionally ":count" (L4, A10G, H100:8)
    bench_args: list[str]  # `hwbench bench` options (model, quant, -r, -p, -n ...), validated
    clouds: list[str] = field(default_factory=list)  # SkyPilot infra names (aws, gcp, runpod, aws/us-east-1)
    spot: bool = False
    install_spec: str = "hwbench[llamacpp,nvidia]"
    name: str = "hwbench"
    sources: list[str] = field(default_factory=list)  # where the candidates came from (shown in the YAML header)


def parse_accelerators(text: str) -> list[str]:
    out: list[str] = []
    for part in text.split(","):
        p = part.strip()
        if not p:
            continue
        if not ACCEL_RE.match(p):
            raise BadInput(f"--gpu {p!r}: expected a SkyPilot accelerator name, optionally with a count (L4, A10G, H100:8)")
        name, _, n = p.partition(":")
        out.append(f"{name}:{n or 1}")
    if not out:
        raise BadInput("--gpu is empty: give candidate accelerators (e.g. L4,A10G,L40S,H100) or --from-recommend")
    return list(dict.fromkeys(out))


def parse_clouds(text: str | None) -> list[str]:
    if not text:
        return []
    out = []
    for part in text.split(","):
        p = part.strip().lower()
        if not p:
            continue
        if not CLOUD_RE.match(p):
            raise BadInput(f"--cloud {part.strip()!r}: expected a SkyPilot infra name (aws, gcp, azure, runpod, lambda, aws/us-east-1 ...)")
        out.append(p)
    return list(dict.fromkeys(out))


def task_name(bench_args: list[str]) -> str:
    vals = dict(zip(bench_args[::2], bench_args[1::2], strict=False))
    model = vals.get("--model") or vals.get("--params") or "default"
    quant = vals.get("--quant") or ""
    return re.sub(r"[^a-z0-9-]+", "-", f"hwbench-{model}-{quant}".lower()).strip("-")[:60]


def setup_script(spec: SkySpec) -> str:
    return "\n".join(
        [
            "set -e",
            f"python3 -m venv {VENV}",
            f"{VENV}/bin/pip install -q --upgrade pip",
            "# llama.cpp built for the cluster's NVIDIA GPU (CUDA); hwbench's NVML detection",
            f'CMAKE_ARGS="-DGGML_CUDA=on" {VENV}/bin/pip install "$HWBENCH_SPEC"',
            "",
        ]
    )


def run_script(spec: SkySpec) -> str:
    bench = " ".join(["hwbench", "bench", *map(shlex.quote, spec.bench_args), '--out "$R"'])
    return "\n".join(
        [
            "set -e",
            f'export PATH="{VENV}/bin:$PATH"',
            'R="$HOME/hwbench-results/run-$(date -u +%Y%m%dT%H%M%SZ)"',
            'mkdir -p "$R"',
            'hwbench detect --json > "$R/detect.json"',
            f"{bench} --json > /dev/null",
            f"# the records stay in {RESULTS}; each is also printed as one line for `hwbench fleet sky --launch`",
            f'for f in "$R"/*.json; do n=$(basename "$f"); echo "{MARK} $n $(base64 -w0 "$f")"; done',
            "",
        ]
    )


def task_config(spec: SkySpec) -> dict[str, Any]:
    """The SkyPilot task as a dict of its YAML schema."""
    any_of: list[dict[str, Any]] = []
    for acc in spec.accelerators:
        if spec.clouds:
            any_of += [{"accelerators": acc, "infra": c} for c in spec.clouds]
        else:
            any_of.append({"accelerators": acc})
    return {
        "name": spec.name,
        "resources": {"use_spot": spec.spot, "any_of": any_of},
        "envs": {"HWBENCH_SPEC": spec.install_spec},
        "setup": setup_script(spec),
        "run": run_script(spec),
    }


def task_yaml(spec: SkySpec) -> str:
    import yaml

    class _Literal(str):
        pass

    def lit(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")

    yaml.SafeDumper.add_representer(_Literal, lit)
    cfg = task_config(spec)
    cfg["setup"], cfg["run"] = _Literal(cfg["setup"]), _Literal(cfg["run"])
    head = [
        "# SkyPilot task written by `hwbench fleet sky`: benchmark each candidate accelerator with hwbench.",
        "#   sky launch -c hwb task.yaml             # runs on ONE candidate (the cheapest SkyPilot finds)",
        "#   sky launch -c hwb-l4 task.yaml --gpus L4  # pick one; `hwbench fleet sky ... --launch` does each",
        f"#   rsync -Pavz hwb:{RESULTS}/ results/     # the records; then `hwbench compare results/*.json`",
    ]
    head += [f"# candidates: {s}" for s in spec.sources]
    return "\n".join(head) + "\n" + yaml.safe_dump(cfg, sort_keys=False, width=200)


# ----------------------------------------------------------------------------- candidates from `recommend`


def candidates_from_recommend(
    *, model: str | None, params: str | None, quant: str, clouds: list[str], spot: bool, limit: int, context: int = 8192
) -> tuple[list[str], list[str]]:
    """The accelerators of the best-ranked instances that run the model fully on GPU, and where that came from."""
    from hwbench.recommend import recommend
    from hwbench.resolve import resolve_model
    from hwbench.schema import EstimateSettings

    resolved = resolve_model(model=model, params=params, active_params=None, gguf=None, quant=quant, extra_dir=None)
    rec = recommend(resolved, EstimateSettings(context=context), providers=[c.split("/")[0] for c in clouds] or None, spot=spot)
    out: list[str] = []
    for c in rec.candidates:
        if c.verdict != "gpu" or not c.gpu_model or not c.gpu_count:
            continue
        acc = f"{c.gpu_model.replace(' ', '-')}:{int(c.gpu_count) if c.gpu_count >= 1 else 1}"
        if ACCEL_RE.match(acc) and acc not in out:
            out.append(acc)
        if len(out) >= limit:
            break
    if not out:
        raise BadInput(f"--from-recommend: no instance profile runs {rec.model} at {rec.quant} fully on GPU; give --gpu")
    src = f"hwbench recommend for {rec.model} {rec.quant} at {context} tokens of context, prices as of {', '.join(rec.prices_as_of) or '?'}"
    return out, [src]


# ----------------------------------------------------------------------------- --launch


class SkyApi(Protocol):
    """The one boundary where hwbench calls SkyPilot."""

    def launch(self, config: dict[str, Any], accelerator: str, cluster_name: str, log: Callable[[str], None]) -> None:
        """Launch ``config`` on one cluster with ``accelerator``, stream its log lines to ``log``, tear it down at the end."""
        ...


class SkyPilotApi:
    """SkyPilot's Python API (``pip install 'hwbench[sky]'``)."""

    def __init__(self) -> None:
        try:
            import sky  # noqa: F401
        except ImportError:
            raise HwbenchError(
                "--launch needs SkyPilot: pip install 'hwbench[sky]' (then `sky check` to set up a cloud); the task YAML works without it"
            ) from None

    def launch(self, config: dict[str, Any], accelerator: str, cluster_name: str, log: Callable[[str], None]) -> None:
        import copy
        import io

        import sky

        base = dict(config["resources"])
        task = sky.Task.from_yaml_config(copy.deepcopy(config))  # SkyPilot consumes the dict it is given
        infras = [r.get("infra") for r in base.get("any_of", []) if r.get("accelerators") == accelerator] or [None]
        spot = bool(base.get("use_spot"))
        # this cluster: this accelerator only, on any of the clouds the task allows
        task.set_resources({sky.Resources(accelerators=accelerator, infra=i, use_spot=spot) for i in infras})
        request_id = sky.launch(task, cluster_name=cluster_name, down=True)

        class _Lines(io.TextIOBase):
            def __init__(self) -> None:
                self.buf = ""

            def write(self, s: str) -> int:
                self.buf += s
                *lines, self.buf = self.buf.split("\n")
                for ln in lines:
                    log(ln)
                return len(s)

        stream = _Lines()
        sky.stream_and_get(request_id, output_stream=stream)
        if stream.buf:
            log(stream.buf)


@dataclass
class SkyLaunchResult:
    accelerator: str
    cluster: str
    records: dict[str, bytes] = field(default_factory=dict)
    error: str | None = None


def records_from_log(lines: list[str]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for ln in lines:
        i = ln.find(MARK + " ")
        if i < 0:
            continue
        parts = ln[i:].split()
        if len(parts) != 3:
            continue
        try:
            out[parts[1]] = base64.b64decode(parts[2], validate=True)
        except ValueError:
            continue
    return out


def launch_all(spec: SkySpec, api: SkyApi, *, jobs: int, progress: Callable[[str], None]) -> list[SkyLaunchResult]:
    """One cluster per candidate accelerator (torn down at the end); the records each printed."""
    config = task_config(spec)

    def one(acc: str) -> SkyLaunchResult:
        cluster = re.sub(r"[^a-z0-9-]+", "-", f"hwbench-{acc}".lower()).strip("-")[:40] + "-" + secrets.token_hex(2)
        res = SkyLaunchResult(acc, cluster)
        lines: list[str] = []

        def log(line: str) -> None:
            lines.append(line)
            if MARK not in line and line.strip():
                progress(f"[{acc}] {' '.join(line.split())[:200]}")

        progress(f"[{acc}] launching cluster {cluster} (torn down when the run ends)")
        try:
            api.launch(config, acc, cluster, log)
        except Exception as e:  # noqa: BLE001 - any SkyPilot failure is this candidate's, in one line
            res.error = f"SkyPilot launch failed: {type(e).__name__}: {' '.join(str(e).split())[:300]}"
        res.records = records_from_log(lines)
        if res.error is None and not any(n != "detect.json" for n in res.records):
            res.error = "the run printed no hwbench record (see the log above)"
        return res

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, spec.accelerators))


def save_launches(results: list[SkyLaunchResult], out: Path, redact: bool, progress: Callable[[str], None]) -> Any:
    """Each candidate's records into ``out/<label>/`` (like fleet bench), then the comparison of them all."""
    from hwbench.fleet.inventory import FleetHost
    from hwbench.fleet.remote import FleetHostError, RemotePlan, store_record
    from hwbench.fleet.run import FleetOptions, FleetRun, HostReport, write_outputs
    from hwbench.fleet.store import DETECT_FILE, FLEET_SCHEMA_VERSION, Staging

    hosts: list[FleetHost] = []
    reports: list[HostReport] = []
    for r in results:
        label = "sky-" + re.sub(r"[^A-Za-z0-9._-]+", "-", r.accelerator.replace(":", "x"))
        host = FleetHost(label=label, host=r.cluster)
        hosts.append(host)
        rep = HostReport(label, f"sky:{r.cluster} ({r.accelerator})", "failed", cause=r.error, stage="launching")
        if r.error is None:
            try:
                with Staging(out, label) as st:
                    names = []
                    for n, data in sorted(r.records.items()):
                        if n == DETECT_FILE:
                            (st.path / DETECT_FILE).write_bytes(data)
                            continue
                        store_record(st.path, n, data)
                        names.append(n)
                    meta = {
                        "fleet_schema_version": FLEET_SCHEMA_VERSION,
                        "status": "ok",
                        "label": label,
                        "destination": rep.destination,
                        "accelerator": r.accelerator,
                        "records": names,
                        "detect": DETECT_FILE,
                    }
                    folder = st.publish(meta)
                rep.status, rep.stage = "ok", None
                rep.records = [str((folder / n).relative_to(out)) for n in names]
            except FleetHostError as e:
                rep.cause = str(e)
        if rep.status != "ok":
            progress(f"[{r.accelerator}] FAILED: {rep.cause}")
        reports.append(rep)
    run = FleetRun(reports)
    write_outputs(run, FleetOptions(hosts=hosts, plan=RemotePlan(bench_args=[]), out=out, redact=redact, progress=progress))
    return run
