"""The `hwbench` command line: a Click group. Parse, call one core function, print.

Commands live in ``hwbench/commands/`` and are imported only when used, so `hwbench --help` and
`hwbench check` stay fast. Errors become one line on stderr: exit status 2 for bad input, 1 for
other failures; a traceback only with ``--debug``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any

import click

# The CLI owns its process: skip pydantic's plugin discovery (an entry-point scan of every
# installed package, ~12 ms); hwbench uses no pydantic plugins. Library users are unaffected.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from hwbench import __version__  # noqa: E402
from hwbench.errors import HwbenchError  # noqa: E402

# name -> (module, attribute, one-line help shown in `hwbench --help` without importing)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "detect": ("hwbench.commands.detect", "detect", "Show this machine's CPU, RAM, disk, GPUs and accelerators."),
    "check": ("hwbench.commands.check", "check", "Will a model fit here (or on what-if hardware), and how fast?"),
    "bench": ("hwbench.commands.bench", "bench", "Measure real prompt/generation tokens/s (llama.cpp, PyTorch)."),
    "report": ("hwbench.commands.report", "report", "Write a self-contained HTML recommendation report."),
    "recommend": ("hwbench.commands.recommend", "recommend", "Rank cloud instances / GPUs that run a model, by cost."),
    "compare": ("hwbench.commands.compare", "compare", "Compare benchmark results from several machines."),
    "profiles": ("hwbench.commands.profiles", "profiles", "List, show, validate and update GPU/model/instance profiles."),
    "synth": ("hwbench.commands.synth", "synth", "Write the synthetic GGUF bench would use (real shapes, random weights)."),
    "fleet": ("hwbench.commands.fleet", "fleet", "Benchmark many machines over SSH and compare them."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [n for n, (mod, _, _) in COMMANDS.items() if importlib.util.find_spec(mod) is not None]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        try:
            mod = importlib.import_module(entry[0])
        except ModuleNotFoundError as e:
            if e.name == entry[0]:
                return None
            raise
        cmd: click.Command = getattr(mod, entry[1])
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, COMMANDS[n][2]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="hwbench")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """hwbench: what hardware do I need to run this LLM, how fast will it be, what will it cost?

    Every number says where it came from: measured, probed, estimated, assumed, detected or looked up in a profile.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("HWBENCH_DEBUG") == "1"
    prog = "hwbench"
    try:
        rv: Any = cli.main(args=args, prog_name=prog, standalone_mode=False)
        sys.exit(rv if isinstance(rv, int) else 0)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("hwbench: interrupted", err=True)
        sys.exit(130)
    except click.UsageError as e:
        if debug:
            raise
        cmd = e.ctx.command_path if e.ctx is not None else prog
        click.echo(f"{cmd}: error: {_one_line(e.format_message())} (see '{cmd} --help')", err=True)
        sys.exit(2)
    except click.ClickException as e:
        if debug:
            raise
        click.echo(f"hwbench: error: {_one_line(e.format_message())}", err=True)
        sys.exit(e.exit_code)
    except HwbenchError as e:
        if debug:
            raise
        click.echo(f"hwbench: error: {_one_line(str(e))}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("hwbench: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as e:  # noqa: BLE001 - last resort: one line, never a traceback without --debug
        if debug:
            raise
        click.echo(f"hwbench: internal error: {type(e).__name__}: {_one_line(str(e))} (run with --debug for the traceback)", err=True)
        sys.exit(1)
