"""`hwbench detect`: this machine's inventory."""

from __future__ import annotations

import json

import click


@click.command("detect")
@click.option("--json", "as_json", is_flag=True, help="Print the inventory as one JSON object.")
@click.option("--torch/--no-torch", "include_torch", default=False, show_default=True, help="Also ask PyTorch which devices it sees (slow import).")
@click.option("--disk-path", type=click.Path(file_okay=False), help="Where models are stored (default: the user cache dir).")
def detect(as_json: bool, include_torch: bool, disk_path: str | None) -> None:
    """Show this machine's CPU, RAM (and container limits), disk, GPUs, NPUs and cloud hints.

    A probe that fails becomes a warning; detection never stops on one.
    """
    from hwbench.detect import detect_all
    from hwbench.paths import cache_dir

    if disk_path is not None and not disk_path.strip():
        from hwbench.errors import BadInput

        raise BadInput("--disk-path is empty; give a directory (default: the user cache dir)")

    host = detect_all(disk_path=disk_path or str(cache_dir()), include_torch=include_torch)
    if as_json:
        click.echo(json.dumps(host.model_dump(mode="json"), indent=2))
        return
    from rich.console import Console

    from hwbench.detect.render import render_host

    render_host(host, Console(highlight=False))
