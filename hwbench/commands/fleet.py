"""`hwbench fleet`: benchmark the machines you rent (or could rent) from one place."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hwbench.errors import BadInput, HwbenchError

# `hwbench bench` options forwarded to every host: (fleet option name, bench flag)
BENCH_FLAGS = (
    ("gguf", "--gguf"),
    ("model", "--model"),
    ("params", "--params"),
    ("quant", "--quant"),
    ("layers", "--layers"),
    ("threads", "--threads"),
    ("reps", "--reps"),
    ("n_prompt", "--n-prompt"),
    ("n_gen", "--n-gen"),
    ("depth", "--depth"),
    ("gpu_layers", "--gpu-layers"),
    ("batch", "--batch"),
    ("ubatch", "--ubatch"),
    ("flash_attn", "--flash-attn"),
    ("kv_type", "--kv-type"),
    ("bench_timeout", "--timeout"),
)


@click.group("fleet")
def fleet() -> None:
    """Benchmark many machines: SSH hosts you already rent (`fleet bench`), cloud GPUs you might rent (`fleet sky`)."""


def bench_args(values: dict[str, Any]) -> list[str]:
    """The `hwbench bench` arguments for the remote hosts, validated here (bad input fails before any connection)."""
    from hwbench.bench.options import parse_int_list, parse_str_list
    from hwbench.bench.runner_llamacpp import FLASH_ATTN, KV_TYPES

    given = [k for k in ("gguf", "model", "params") if values.get(k)]
    if len(given) > 1:
        raise BadInput(f"--{given[0]} and --{given[1]}: choose one model")
    for key, what, minimum in (
        ("threads", "--threads", 1),
        ("n_prompt", "--n-prompt", 0),
        ("n_gen", "--n-gen", 0),
        ("depth", "--depth", 0),
        ("gpu_layers", "--gpu-layers", 0),
        ("batch", "--batch", 1),
        ("ubatch", "--ubatch", 1),
    ):
        if values.get(key) is not None:
            parse_int_list(values[key], what, minimum)
    if values.get("flash_attn") is not None:
        parse_str_list(values["flash_attn"], "--flash-attn", tuple(FLASH_ATTN))
    if values.get("kv_type") is not None:
        parse_str_list(values["kv_type"], "--kv-type", KV_TYPES)
    if values.get("reps") is not None and values["reps"] < 1:
        raise BadInput("--reps must be at least 1")
    if values.get("layers") is not None and values["layers"] < 1:
        raise BadInput("--layers must be at least 1")
    if values.get("bench_timeout") is not None and values["bench_timeout"] <= 0:
        raise BadInput("--bench-timeout must be a positive number of seconds")
    if values.get("quant") is not None and not str(values["quant"]).strip():
        raise BadInput("--quant is empty")
    args: list[str] = []
    for key, flag in BENCH_FLAGS:
        v = values.get(key)
        if v is not None:
            args += [flag, f"{v:g}" if isinstance(v, float) else str(v)]
    return args


def bench_options(with_gguf: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The `hwbench bench` options forwarded to the remote runs (values validated by ``bench_args``)."""
    opts = [
        click.option("--model", help="Synthetic model of this known architecture (e.g. llama-3.1-8b)."),
        click.option("--params", help="Synthetic model of about this size (e.g. 8b)."),
        click.option("--quant", help="GGUF type of the synthetic model (bench's default: Q4_K_M)."),
        click.option("--layers", type=int, help="Slice mode: K layers, extrapolated."),
        click.option("--threads", "-t", help="CPU threads on each host (default: all its cores)."),
        click.option("--reps", "-r", type=int, help="Timed repetitions per test (bench's default: 5)."),
        click.option("--n-prompt", "-p", help="Prompt tokens (pp test); 0 skips."),
        click.option("--n-gen", "-n", help="Generated tokens (tg test); 0 skips."),
        click.option("--depth", "-d", help="Tokens of context before the test."),
        click.option("--gpu-layers", "-ngl", help="Layers offloaded to the GPU."),
        click.option("--batch", "-b", help="Logical batch size."),
        click.option("--ubatch", "-ub", help="Physical micro-batch size."),
        click.option("--flash-attn", "-fa", help="on, off or auto."),
        click.option("--kv-type", help="KV cache type."),
        click.option("--bench-timeout", type=float, help="Seconds allowed per benchmark child process (bench --timeout)."),
    ]
    if with_gguf:
        opts.insert(0, click.option("--gguf", help="A GGUF file ON THE HOSTS (same path on each)."))

    def deco(f: Callable[..., Any]) -> Callable[..., Any]:
        for o in reversed(opts):
            f = o(f)
        return f

    return deco


@fleet.command("bench")
@click.argument("hosts", nargs=-1)
@click.option(
    "--inventory", type=click.Path(dir_okay=False), help="YAML list of hosts (host, port, user, identity_file, name, usd_per_hour)."
)
@bench_options()
@click.option(
    "--install",
    type=click.Choice(["auto", "pip", "none"]),
    default="auto",
    show_default=True,
    help="auto: use hwbench on the host, else pip-install it into a venv in the host's cache dir; pip: always that venv; none: never install.",
)
@click.option("--install-spec", help="What pip installs on the hosts (default: hwbench[llamacpp]==THIS VERSION).")
@click.option(
    "--remote-hwbench", "remote_hwbench", metavar="CMD", help="Command line that runs hwbench on the hosts (e.g. '~/venv/bin/hwbench')."
)
@click.option("--jobs", "-j", default=4, show_default=True, type=int, help="Hosts benchmarked at the same time.")
@click.option(
    "--timeout",
    "timeout_s",
    default=3600.0,
    show_default=True,
    type=float,
    help="Seconds allowed per host (install + detect + bench + copy).",
)
@click.option(
    "--connect-timeout", "connect_timeout_s", default=15.0, show_default=True, type=float, help="Seconds allowed for each SSH connection."
)
@click.option(
    "--out", default="hwbench-fleet", show_default=True, type=click.Path(file_okay=False), help="Results folder: one subfolder per host."
)
@click.option("--force", is_flag=True, help="Re-run hosts whose results in --out are already complete.")
@click.option(
    "--accept-new-host-keys", is_flag=True, help="Trust hosts not yet in known_hosts and add their keys (a changed key is always refused)."
)
@click.option("--no-redact", is_flag=True, help="Keep hostnames, addresses and serials in the comparison page/CSV/JSON.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the run's summary (per host: status, cause, records, tokens/s, prices) as JSON."
)
@click.pass_context
def bench(ctx: click.Context, hosts: tuple[str, ...], inventory: str | None, install: str, install_spec: str | None,
          remote_hwbench: str | None, jobs: int, timeout_s: float, connect_timeout_s: float, out: str, force: bool,
          accept_new_host_keys: bool, no_redact: bool, as_json: bool, **bench_values: Any) -> None:  # fmt: skip
    """Run `hwbench detect` and `hwbench bench` on SSH hosts, bring the records home, compare them.

    HOST is [user@]host[:port] or an alias from ~/.ssh/config (a name from --inventory picks that
    entry; with no HOST, every inventory host runs). asyncssh honours ~/.ssh/config, the agent and
    known_hosts; an unknown host key is refused unless --accept-new-host-keys; no password is ever
    asked for or accepted.

    Each host's records land in OUT/<label>/ only when complete; a re-run with the same --out
    skips complete hosts (--force re-runs them). OUT gets compare.html, compare.csv and
    compare.json for all hosts, and fleet.json with each host's status. Exit status 1 when any
    host failed, 2 for bad input, 130 after Ctrl-C.

    \b
    Examples:
      hwbench fleet bench gpu-a gpu-b ubuntu@203.0.113.7:2222 -r 3
      hwbench fleet bench --inventory hosts.yaml --model llama-3.1-8b --quant q4_k_m --out runs/fleet
    """
    from hwbench import __version__
    from hwbench.fleet.inventory import load_inventory, select_hosts
    from hwbench.fleet.remote import RemotePlan
    from hwbench.fleet.run import FleetOptions, run_fleet

    if jobs < 1:
        raise BadInput("--jobs must be at least 1")
    if not timeout_s > 0 or not connect_timeout_s > 0:
        raise BadInput("--timeout and --connect-timeout must be positive numbers of seconds")
    if remote_hwbench is not None and not remote_hwbench.strip():
        raise BadInput("--remote-hwbench is empty")
    if remote_hwbench and install == "pip":
        raise BadInput("--remote-hwbench and --install pip: choose one")
    if install_spec is not None and (not install_spec.strip() or install_spec.startswith("-")):
        raise BadInput(
            f"--install-spec {install_spec!r}: expected a pip requirement (e.g. 'hwbench[llamacpp]==0.1.0' or a wheel path on the hosts)"
        )
    args = bench_args(bench_values)
    inv = load_inventory(inventory) if inventory else None
    chosen = select_hosts(hosts, inv)
    try:
        import asyncssh  # noqa: F401
    except ImportError:
        raise HwbenchError("hwbench fleet needs asyncssh: pip install 'hwbench[fleet]' (or pip install 'asyncssh>=2.14')") from None
    from hwbench.fleet.store import prepare_out

    out_dir = prepare_out(Path(out))

    def progress(line: str) -> None:
        click.echo(line, err=True)

    opts = FleetOptions(
        hosts=chosen,
        plan=RemotePlan(
            bench_args=args,
            install=install,
            remote_hwbench=remote_hwbench.strip() if remote_hwbench else None,
            install_spec=install_spec or f"hwbench[llamacpp]=={__version__}",
        ),
        out=out_dir,
        jobs=jobs,
        timeout_s=timeout_s,
        connect_timeout_s=connect_timeout_s,
        force=force,
        accept_new_host_keys=accept_new_host_keys,
        redact=not no_redact,
        progress=progress,
    )
    run = run_fleet(opts)
    if as_json:
        from hwbench.fleet.run import summary

        click.echo(json.dumps(summary(run), indent=2))
    else:
        _print_table(run)
    for f in run.files:
        if not f.endswith("fleet.json"):
            click.echo(f"written: {f}", err=True)
    for r in run.reports:
        if r.status in ("failed", "interrupted"):
            click.echo(f"hwbench: fleet: {r.label}: {r.cause}", err=True)
    ctx.exit(run.exit_code)


def _print_table(run: Any) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    out = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    t = Table(title="fleet: tokens/s measured on each host", title_justify="left")
    for col in ("host", "status", "test", "tokens/s", "USD/hour", "USD/M tokens", "price from"):
        t.add_column(col, justify="right" if col in ("tokens/s", "USD/hour", "USD/M tokens") else "left")
    for r in run.reports:
        status = r.status if r.status in ("ok", "skipped") or not r.stage else f"{r.status} ({r.stage})"
        t.add_row(
            escape(r.label),
            escape(status),
            escape(r.test or "-"),
            f"{r.tokens_per_s:.2f}" if r.tokens_per_s is not None else "-",
            f"{r.usd_per_hour:g}" if r.usd_per_hour is not None else "-",
            f"{r.usd_per_million_tokens:.3f}" if r.usd_per_million_tokens is not None else "-",
            escape(_short_source(r.price_source)),
        )
    out.print(t)
    if run.comparison is not None:
        out.print(
            "[dim]USD per million tokens = USD/hour / (tokens/s x 3600) x 1,000,000 (one stream); full comparison in compare.html[/dim]"
        )


def _short_source(src: str | None) -> str:
    """The table's price column: the profile and date, without the catalog path (it is in compare.json/html)."""
    if not src:
        return "-"
    head, sep, _ = src.partition(" (")
    return head if sep and head.startswith("profile ") else src


@fleet.command("sky")
@bench_options(with_gguf=False)
@click.option("--gpu", "gpus", help="Candidate accelerators, SkyPilot names, optionally with a count: L4,A10G,L40S,H100:8.")
@click.option("--from-recommend", is_flag=True, help="Take the candidates from `hwbench recommend` for this model and quant.")
@click.option("--max-candidates", default=4, show_default=True, type=int, help="With --from-recommend: how many accelerators.")
@click.option("--cloud", "clouds", help="SkyPilot infra to use (aws,gcp,runpod ... or aws/us-east-1); default: any enabled.")
@click.option("--spot", is_flag=True, help="Spot/preemptible instances.")
@click.option("--install-spec", help="What pip installs on the clusters (default: hwbench[llamacpp,nvidia]==THIS VERSION).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the SkyPilot task here (e.g. task.yaml); default: stdout.")
@click.option("--launch", is_flag=True, help="Run it: one cluster per candidate (SkyPilot's API, down=True), records home, compare.")
@click.option("--jobs", "-j", default=4, show_default=True, type=int, help="With --launch: clusters at the same time.")
@click.option(
    "--out", default="hwbench-fleet-sky", show_default=True, type=click.Path(file_okay=False), help="With --launch: results folder."
)
@click.option("--no-redact", is_flag=True, help="Keep hostnames, addresses and serials in the comparison files.")
def sky(gpus: str | None, from_recommend: bool, max_candidates: int, clouds: str | None, spot: bool, install_spec: str | None,
        output: str | None, launch: bool, jobs: int, out: str, no_redact: bool, **bench_values: Any) -> None:  # fmt: skip
    """Write a SkyPilot task that benchmarks candidate cloud GPUs with hwbench (and, with --launch, run it).

    The task's resources list the candidates; `setup` installs hwbench with llama.cpp built for
    CUDA; `run` runs `hwbench detect` and `hwbench bench` and leaves the JSON records in
    ~/hwbench-results on the cluster. `sky launch task.yaml` runs it on the cheapest candidate
    SkyPilot finds; --launch (needs `pip install 'hwbench[sky]'`) runs every candidate on its own
    cluster, torn down at the end, brings the records home into --out and compares them.

    \b
    Examples:
      hwbench fleet sky --model llama-3.1-8b --quant q4_k_m --gpu L4,A10G,L40S,H100 -o task.yaml
      hwbench fleet sky --params 70b --quant q4_k_m --from-recommend --cloud aws,gcp --spot -o task.yaml
    """
    from hwbench import __version__
    from hwbench.fleet.sky import SkySpec, candidates_from_recommend, parse_accelerators, parse_clouds, task_name, task_yaml

    if bool(gpus) == from_recommend:
        raise BadInput("give the candidates with --gpu L4,A10G,... or --from-recommend (one of them)")
    if not 1 <= max_candidates <= 32:
        raise BadInput("--max-candidates must be 1..32")
    if jobs < 1:
        raise BadInput("--jobs must be at least 1")
    if output and Path(output).suffix.lower() not in (".yaml", ".yml"):
        raise BadInput(f"-o {output!r}: a SkyPilot task is YAML; name it .yaml")
    if install_spec is not None and (not install_spec.strip() or install_spec.startswith("-")):
        raise BadInput(f"--install-spec {install_spec!r}: expected a pip requirement")
    args = bench_args(bench_values)
    cloud_list = parse_clouds(clouds)
    sources: list[str] = []
    if from_recommend:
        if not (bench_values.get("model") or bench_values.get("params")):
            raise BadInput("--from-recommend needs the model: --model NAME or --params SIZE")
        accs, sources = candidates_from_recommend(
            model=bench_values.get("model"),
            params=bench_values.get("params"),
            quant=bench_values.get("quant") or "Q4_K_M",
            clouds=cloud_list,
            spot=spot,
            limit=max_candidates,
        )
    else:
        accs = parse_accelerators(gpus or "")
        sources = ["given (--gpu)"]
    spec = SkySpec(
        accelerators=accs,
        bench_args=args,
        clouds=cloud_list,
        spot=spot,
        install_spec=install_spec or f"hwbench[llamacpp,nvidia]=={__version__}",
        name=task_name(args),
        sources=sources,
    )
    text = task_yaml(spec)
    if output:
        from hwbench.fleet.store import write_text_atomic

        write_text_atomic(Path(output), text)
        click.echo(f"SkyPilot task written to {output} (candidates: {', '.join(accs)})", err=True)
    elif not launch:
        click.echo(text, nl=False)
    if launch:
        from hwbench.fleet.sky import SkyPilotApi

        _launch(spec, SkyPilotApi(), jobs=jobs, out=Path(out), redact=not no_redact)


def _launch(spec: Any, api: Any, *, jobs: int, out: Path, redact: bool) -> None:
    from hwbench.fleet.sky import launch_all, save_launches
    from hwbench.fleet.store import prepare_out

    def progress(line: str) -> None:
        click.echo(line, err=True)

    out_dir = prepare_out(out)
    results = launch_all(spec, api, jobs=jobs, progress=progress)
    run = save_launches(results, out_dir, redact, progress)
    _print_table(run)
    for r in run.reports:
        if r.status != "ok":
            click.echo(f"hwbench: fleet: {r.label}: {r.cause}", err=True)
    click.get_current_context().exit(run.exit_code)
