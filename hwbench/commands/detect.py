"""`hwbench detect`: this machine's inventory."""

from __future__ import annotations

import json

import click


@click.command("detect")
@click.option("--json", "as_json", is_flag=True, help="Print the inventory as one JSON object.")
@click.option("--torch/--no-torch", "include_torch", default=False, show_default=True, help="Also ask PyTorch which devices it sees (slow import).")
@click.option("--disk-path", type=click.Path(file_okay=False), help="Where models are stored (default: the user cache dir).")
@click.option(
    "--probe",
    "run_probe",
    is_flag=True,
    help="Also measure the CPU now (memory read bandwidth, fp32 matmul; under a second) and save it for `check`, "
    "which otherwise measures once per machine and reuses that.",
)
def detect(as_json: bool, include_torch: bool, disk_path: str | None, run_probe: bool) -> None:
    """Show this machine's CPU, RAM (and container limits), disk, GPUs, NPUs and cloud hints.

    A probe that fails becomes a warning; detection never stops on one.
    """
    from hwbench.detect import detect_all
    from hwbench.paths import cache_dir

    if disk_path is not None and not disk_path.strip():
        from hwbench.errors import BadInput

        raise BadInput("--disk-path is empty; give a directory (default: the user cache dir)")

    host = detect_all(disk_path=disk_path or str(cache_dir()), include_torch=include_torch)
    probe = None
    if run_probe:
        from hwbench.calibration import machine_key_for
        from hwbench.probe import probe_path, refresh_probe

        probe = refresh_probe(machine_key_for(host))
    if as_json:
        data = host.model_dump(mode="json")
        if probe is not None:
            data["cpu_probe"] = probe.model_dump(mode="json") | {"source": "probed"}
        click.echo(json.dumps(data, indent=2))
        return
    from rich.console import Console

    from hwbench.detect.render import render_host

    render_host(host, Console(highlight=False))
    if probe is not None:
        click.echo(
            f"CPU probe (probed {probe.created_at}, {probe.seconds:g} s): memory read {probe.cpu_bandwidth_gbps:g} GB/s "
            f"({probe.threads} threads, {probe.array_bytes // 2**20} MiB array), fp32 matmul {probe.sgemm_tflops:g} TFLOPS "
            f"(n={probe.matmul_n}); saved to {probe_path()} for `hwbench check`"
        )
        if probe.busy():
            click.echo(f"warning: the machine was busy (load average {probe.load_avg:g}): these figures are low; probe again when idle", err=True)
