"""Run hwbench through its real entry point (``hwbench.cli.main``) in-process, with Click's CliRunner."""

from __future__ import annotations

import importlib.util

import click
from click.testing import CliRunner

from hwbench.cli import main


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []})
@click.pass_context
def _entry(ctx: click.Context) -> None:
    main(list(ctx.args))


def run_cli(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``hwbench ARGS``, exactly as the console script would give them."""
    result = CliRunner().invoke(_entry, args, catch_exceptions=False, env=env)
    return result.exit_code, result.stdout, result.stderr


def command_exists(name: str) -> bool:
    return importlib.util.find_spec(f"hwbench.commands.{name}") is not None


def error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.strip()]
