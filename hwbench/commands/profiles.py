"""`hwbench profiles list|show|validate`: inspect the GPU, model and cloud-instance profiles.

Bundled profiles live in ``profiles/``; user profile files (a private price list, a machine someone
offers you) are read from ``--profiles-dir DIR`` or the directories in ``$HWBENCH_PROFILES``.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from hwbench.errors import BadInput, HwbenchError

KINDS = ("gpus", "models", "instances")
_PROFILES_DIR_OPT = click.option(
    "--profiles-dir",
    type=click.Path(file_okay=False),
    envvar="HWBENCH_PROFILES_DIR",
    help="Extra profile files (also: $HWBENCH_PROFILES, os.pathsep-separated).",
)


@click.group("profiles")
def profiles() -> None:
    """List, show, validate and update GPU / model / cloud-instance profiles.

    \b
    Examples:
      hwbench profiles list                     # how many of each, and how old the prices are
      hwbench profiles list instances --provider runpod,lambda
      hwbench profiles list gpus --search 4090
      hwbench profiles show "RTX 3090"
      hwbench profiles show runpod/1x_A100-80GB_SECURE
      hwbench profiles validate ~/my-prices      # check your own profile files before using them
      hwbench profiles update --dry-run          # what SkyPilot's catalogs say changed in the rental prices
    """


# ----------------------------------------------------------------------------- list


def console(stderr: bool = False):  # type: ignore[no-untyped-def]
    """A rich console; wide when the output is piped (tables stay one row per entry)."""
    import sys

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(highlight=False, stderr=stderr, width=None if stream.isatty() else 200)


def _e(text: str) -> str:
    """Profile text is data, not rich markup: '[bold]' in a name shows as typed."""
    from rich.markup import escape

    return escape(str(text))


_SIZE_TOKEN = re.compile(r"^(\d+(\.\d+)?[bmt]|\d+x\d+(\.\d+)?b|a\d+(\.\d+)?b|mini|small|medium)$")


def model_family(name: str) -> str:
    """A catalog name without its size words: llama-3.1-8b -> llama-3.1, qwen3-30b-a3b -> qwen3, mixtral-8x7b -> mixtral."""
    parts = name.lower().split("-")
    keep: list[str] = []
    for p in parts:
        if _SIZE_TOKEN.match(p) and keep:
            break
        keep.append(p)
    return "-".join(keep)


def _matches(text: str, search: str | None) -> bool:
    return not search or search.lower() in text.lower()


def _fmt(v: Any, nd: int = 2) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}f}".rstrip("0").rstrip(".") if v != int(v) else f"{int(v)}"
    return str(v)


@profiles.command("list")
@click.argument("kind", required=False, type=click.Choice(KINDS, case_sensitive=False))
@click.option("--provider", help="Instances: only these providers (comma-separated).")
@click.option("--search", help="Only entries whose name contains this text.")
@_PROFILES_DIR_OPT
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_cmd(kind: str | None, provider: str | None, search: str | None, profiles_dir: str | None, as_json: bool) -> None:
    """List profiles: gpus, models or instances (all three summarised when KIND is omitted)."""
    from rich.table import Table

    from hwbench.profiles import load_gpus, load_instances, load_models

    out = console()
    if kind is None:
        gpus, models, inst = load_gpus(profiles_dir), load_models(profiles_dir), load_instances(profiles_dir)
        dates = sorted({i.as_of for i in inst})
        summary: dict[str, Any] = {
            "gpus": len(gpus),
            "models": len(models),
            "instances": len(inst),
            "providers": sorted({i.provider for i in inst}),
            "instance_prices_as_of": dates,
        }
        if as_json:
            click.echo(json.dumps(summary, indent=2))
            return
        out.print(f"{len(gpus)} GPU profiles, {len(models)} model profiles, {len(inst)} instance profiles")
        out.print(f"providers: {_e(', '.join(summary['providers']))}")
        out.print(f"instance prices as of: {_e(', '.join(dates) or '-')}")
        out.print("[dim]`hwbench profiles list gpus|models|instances` for the entries[/dim]")
        return
    kind = kind.lower()
    if kind == "gpus":
        gl = [g for g in load_gpus(profiles_dir) if _matches(" ".join([g.name, *g.aliases]), search)]
        if as_json:
            click.echo(json.dumps([g.model_dump(mode="json") for g in gl], indent=2))
            return
        t = Table(title=f"GPU profiles ({len(gl)})", title_justify="left")
        for c in ("name", "memory GiB", "bandwidth GB/s", "FP16 TFLOPS", "form", "backend", "as of"):
            t.add_column(c, justify="left" if c in ("name", "form", "backend", "as of") else "right")
        for g in gl:
            t.add_row(
                _e(g.name),
                _fmt(g.memory_gib),
                _fmt(g.bandwidth_gbps, 0),
                _fmt(g.fp16_tflops),
                _e(g.form or "-"),
                _e(g.backend),
                _e(g.as_of),
            )
        out.print(t)
    elif kind == "models":
        ml = [m for m in load_models(profiles_dir).values() if _matches(m.name, search)]
        if as_json:
            click.echo(json.dumps([m.model_dump(mode="json") for m in ml], indent=2))
            return
        from hwbench.units import fmt_params

        groups: dict[str, list[Any]] = {}
        for m in sorted(ml, key=lambda m: (model_family(m.name), m.params)):
            groups.setdefault(model_family(m.name), []).append(m)
        t = Table(title=f"Model profiles ({len(ml)} in {len(groups)} families)", title_justify="left")
        for c in ("family", "name", "arch", "params", "layers", "context", "MoE"):
            t.add_column(c, justify="right" if c in ("params", "layers", "context") else "left")
        for fam, members in groups.items():
            for row, mm in enumerate(members):
                moe = f"{mm.n_expert_used}/{mm.n_expert} experts" if mm.is_moe else "-"
                first = _e(fam) if row == 0 else ""
                t.add_row(first, _e(mm.name), _e(mm.arch), fmt_params(mm.params), str(mm.n_layer), _fmt(mm.context_length), moe)
            t.add_section()
        out.print(t)
        out.print("[dim]also: any Hugging Face repo id (--model Qwen/Qwen3-8B) or GGUF URL (--gguf hf://ORG/NAME/FILE.gguf)[/dim]")
    else:
        provs = {p.strip().lower() for p in provider.split(",") if p.strip()} if provider is not None else None
        if provs is not None and not provs:
            raise BadInput(f"--provider {provider!r} names no provider; e.g. --provider aws,runpod")
        il = [
            i
            for i in load_instances(profiles_dir)
            if (provs is None or i.provider.lower() in provs) and _matches(f"{i.provider}/{i.instance_type} {i.gpu_model or ''}", search)
        ]
        if provs:
            known = {i.provider.lower() for i in load_instances(profiles_dir)}
            unknown = sorted(provs - known)
            if unknown:
                raise BadInput(f"--provider: no profiles for {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        il.sort(key=lambda i: (i.provider, i.kind, i.price_usd_per_hour or 1e9))
        if as_json:
            click.echo(json.dumps([i.model_dump(mode="json") for i in il], indent=2))
            return
        t = Table(title=f"Instance profiles ({len(il)}); USD/hour", title_justify="left")
        for c in ("provider", "instance", "kind", "GPUs", "vCPUs", "RAM GiB", "on-demand", "spot", "region", "as of"):
            t.add_column(c, justify="right" if c in ("vCPUs", "RAM GiB", "on-demand", "spot") else "left")
        for i in il:
            gpu_text = f"{_fmt(i.gpu_count)} x {i.gpu_model}" if i.gpu_model else "-"
            t.add_row(
                _e(i.provider),
                _e(i.instance_type),
                _e(i.kind),
                _e(gpu_text),
                _fmt(i.vcpus),
                _fmt(i.memory_gib),
                _fmt(i.price_usd_per_hour, 4),
                _fmt(i.spot_usd_per_hour, 4),
                _e(i.region or "-"),
                _e(i.as_of),
            )
        out.print(t)
        dates = sorted({i.as_of for i in il})
        out.print(f"[dim]prices as of {_e(', '.join(dates) or '-')}; sources: `hwbench profiles show PROVIDER/INSTANCE`[/dim]")


# ----------------------------------------------------------------------------- show


@profiles.command("show")
@click.argument("name")
@_PROFILES_DIR_OPT
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(name: str, profiles_dir: str | None, as_json: bool) -> None:
    """Show one profile: a GPU ('RTX 3090'), a model ('llama-3.1-8b') or an instance ('PROVIDER/TYPE' or 'TYPE')."""
    from hwbench.profiles import find_gpu, load_instances, load_models

    found: list[tuple[str, dict[str, Any]]] = []
    key = name.strip().lower()
    inst = load_instances(profiles_dir)
    if "/" in key:
        prov, _, typ = key.partition("/")
        found += [("instance", i.model_dump(mode="json")) for i in inst if i.provider.lower() == prov and i.instance_type.lower() == typ]
    else:
        found += [("instance", i.model_dump(mode="json")) for i in inst if i.instance_type.lower() == key]
    models = load_models(profiles_dir)
    if key in models:
        found.append(("model", models[key].model_dump(mode="json", exclude_none=True)))
    if not found:
        try:
            found.append(("gpu", find_gpu(name, profiles_dir).model_dump(mode="json", exclude_none=True)))
        except BadInput as e:
            raise BadInput(f"no GPU, model or instance profile named {name!r} ({e})") from None
    if as_json:
        click.echo(json.dumps([{"kind": k, **d} for k, d in found] if len(found) > 1 else {"kind": found[0][0], **found[0][1]}, indent=2))
        return
    from rich.markup import escape

    out = console()
    for i, (k, d) in enumerate(found):
        if i:
            out.print("")
        out.print(f"[bold]{k}[/bold]")
        for f, v in d.items():
            if v is None or v == [] or v == "":
                continue
            out.print(f"  {f}: {escape(', '.join(map(str, v)) if isinstance(v, list) else str(v))}")


# ----------------------------------------------------------------------------- validate


@dataclass
class FileReport:
    path: Path
    kind: str | None
    entries: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _kind_of(path: Path, root: Path) -> str | None:
    if path.name.startswith("gpu_prices"):
        return "prices"  # purchase prices (gpu_prices.yaml, a user's gpu_prices*.yaml)
    for k in KINDS:
        if path.name.startswith(k) or path.parent.name == k and path.parent != root:
            return k
    return None


def _check_date(rep: FileReport, i: int, value: Any) -> None:
    s = str(value)
    if not _DATE_RE.match(s):
        rep.warnings.append(f"entry {i}: as_of {s!r} is not a YYYY-MM-DD date")
        return
    try:
        d = _dt.date.fromisoformat(s)
    except ValueError:
        rep.errors.append(f"entry {i}: as_of {s!r} is not a valid date")
        return
    if d > _dt.date.today() + _dt.timedelta(days=1):
        rep.warnings.append(f"entry {i}: as_of {s} is in the future")


def validate_file(path: Path, kind: str, gpu_names: set[str]) -> FileReport:
    """Every entry of one profile file, each problem named by entry and field (never stops at the first)."""
    from pydantic import ValidationError

    from hwbench.profiles import GpuPrice, GpuProfile, InstanceProfile, _entries
    from hwbench.schema import ModelSpec

    rep = FileReport(path, kind)
    try:
        items = _entries(path, kind)
    except HwbenchError as e:
        rep.errors.append(str(e).replace(f"{path}: ", ""))
        return rep
    model_cls: Any = {"gpus": GpuProfile, "models": ModelSpec, "instances": InstanceProfile, "prices": GpuPrice}[kind]
    seen: set[str] = set()
    for i, item in enumerate(items):
        try:
            obj = model_cls(**item)
        except ValidationError as e:
            for err in e.errors()[:5]:
                loc = ".".join(str(p) for p in err.get("loc", ()))
                rep.errors.append(f"{kind}[{i}] field {loc!r}: {err.get('msg')}")
            continue
        except TypeError as e:
            rep.errors.append(f"{kind}[{i}]: {e}")
            continue
        rep.entries += 1
        if kind == "instances":
            ident = f"{obj.provider}/{obj.instance_type}".lower()
            _check_date(rep, i, obj.as_of)
            if obj.price_usd_per_hour is None and obj.spot_usd_per_hour is None:
                rep.warnings.append(f"instances[{i}] {obj.provider}/{obj.instance_type}: no price (listed, but never ranked by cost)")
            if obj.gpu_profile and obj.gpu_profile.lower() not in gpu_names:
                rep.errors.append(f"instances[{i}] field 'gpu_profile': {obj.gpu_profile!r} is not a known GPU profile")
            if obj.kind == "gpu" and obj.gpu_count and not obj.gpu_profile:
                rep.warnings.append(
                    f"instances[{i}] {obj.provider}/{obj.instance_type}: no gpu_profile; recommend cannot estimate its speed"
                )
            if not obj.source.strip():
                rep.errors.append(f"instances[{i}] field 'source': empty; every price needs a source")
        elif kind == "gpus":
            ident = obj.name.lower()
            _check_date(rep, i, obj.as_of)
            if obj.price_usd is not None and not obj.price_source:
                rep.errors.append(f"gpus[{i}] field 'price_source': a purchase price needs its source")
        elif kind == "prices":
            ident = obj.gpu.lower()
            _check_date(rep, i, obj.as_of)
            if not obj.source.strip():
                rep.errors.append(f"prices[{i}] field 'source': empty; every price needs a source")
            if ident not in gpu_names:
                try:
                    from hwbench.profiles import find_gpu

                    find_gpu(obj.gpu)
                except BadInput:
                    rep.errors.append(f"prices[{i}] field 'gpu': {obj.gpu!r} is not a known GPU profile")
        else:
            ident = obj.name.lower()
        if ident in seen:
            rep.warnings.append(f"{kind}[{i}]: duplicate {ident!r} in this file (the later entry wins)")
        seen.add(ident)
    return rep


def validate_dir(directory: Path | None, profiles_dir: str | None = None) -> list[FileReport]:
    from hwbench.profiles import BUNDLED_DIR, load_gpus

    root = directory or BUNDLED_DIR
    if not root.is_dir():
        raise BadInput(f"profiles directory {str(root)!r} does not exist")
    files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    # GPU names a user's instance file may refer to: bundled + the user dir's own + --profiles-dir
    gpu_names = {g.name.lower() for g in load_gpus(profiles_dir)}
    reports: list[FileReport] = []
    for p in files:
        kind = _kind_of(p, root)
        if kind == "gpus":
            rep = validate_file(p, kind, gpu_names)
            reports.append(rep)
            if not rep.errors:
                from hwbench.profiles import GpuProfile, _entries

                gpu_names |= {GpuProfile(**it).name.lower() for it in _entries(p, "gpus")}
    for p in files:
        kind = _kind_of(p, root)
        if kind == "gpus":
            continue
        if kind is None:
            rep = FileReport(p, None)
            rep.warnings.append("ignored: the file name must start with gpus, gpu_prices, models or instances (or be in such a folder)")
            reports.append(rep)
            continue
        reports.append(validate_file(p, kind, gpu_names))
    reports.sort(key=lambda r: str(r.path))
    return reports


@profiles.command("validate")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@_PROFILES_DIR_OPT
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def validate(directory: str | None, profiles_dir: str | None, as_json: bool) -> None:
    """Check every profile file in DIRECTORY (default: the bundled profiles/): fields, dates, sources.

    Exit status 2 when any file has an error. File names decide the kind: gpus*.yaml,
    models*.yaml, instances*.yaml (or files in gpus/, models/, instances/ folders).
    """
    reports = validate_dir(Path(directory) if directory else None, profiles_dir)
    n_err = sum(len(r.errors) for r in reports)
    if as_json:
        click.echo(
            json.dumps(
                [{"path": str(r.path), "kind": r.kind, "entries": r.entries, "errors": r.errors, "warnings": r.warnings} for r in reports],
                indent=2,
            )
        )
    else:
        from rich.markup import escape

        out = console()
        if not reports:
            out.print("no profile files (*.yaml) found")
        for r in reports:
            status = "[red]ERROR[/red]" if r.errors else ("[yellow]ok[/yellow]" if r.warnings else "[green]ok[/green]")
            out.print(f"{status} {escape(str(r.path))}: {r.entries} {r.kind or 'entries'}")
            for e in r.errors:
                out.print(f"   [red]error:[/red] {escape(e)}")
            for w in r.warnings[:20]:
                out.print(f"   [yellow]warning:[/yellow] {escape(w)}")
            if len(r.warnings) > 20:
                out.print(f"   ... {len(r.warnings) - 20} more warnings")
    if n_err:
        bad = [r.path.name for r in reports if r.errors]
        raise BadInput(f"{n_err} error(s) in {len(bad)} profile file(s): {', '.join(bad)}")


# ----------------------------------------------------------------------------- update


@profiles.command("update")
@click.option(
    "--from",
    "source",
    metavar="URL|DIR",
    help="Where the catalogs are: a URL or folder holding <provider>/vms.csv (default: SkyPilot's published catalogs on GitHub).",
)
@click.option("--provider", help="Only these providers, comma-separated (default: every provider of the bundled instance profiles).")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def update(source: str | None, provider: str | None, dry_run: bool, as_json: bool) -> None:
    """Refresh cloud instance prices from SkyPilot's catalogs into your profile folder.

    Reads <source>/<provider>/vms.csv for each provider, keeps one row per instance type (the region
    with the lowest on-demand price), dates every row (as_of = today, source = the file read) and
    shows what changed against the current profiles: new, gone, price up, price down. Writes
    <data dir>/profiles/instances/<provider>.yaml atomically; the bundled profiles are never changed
    (delete that file to go back to them). A malformed or truncated catalog file is reported and its
    provider left as it was. Offline: one line, nothing written.

    \b
    Examples:
      hwbench profiles update
      hwbench profiles update --provider lambda,runpod --dry-run
      hwbench profiles update --from ~/skypilot-catalog/catalogs/v7
    """
    from hwbench.catalog import SKYPILOT_CATALOG_URL, update_profiles
    from hwbench.paths import profiles_dir
    from hwbench.profiles import load_instances

    bundled = sorted({i.provider.lower() for i in load_instances()})
    if provider is not None:
        provs = [p.strip().lower() for p in provider.split(",") if p.strip()]
        if not provs:
            raise BadInput(f"--provider {provider!r} names no provider")
        for p in provs:
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,40}", p):
                raise BadInput(f"--provider {p!r}: not a provider name (letters, digits, - and _)")
    else:
        provs = bundled
    out_dir = profiles_dir()
    results = update_profiles(source or SKYPILOT_CATALOG_URL, provs, out_dir, _dt.date.today().isoformat(), write=not dry_run)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "provider": u.provider,
                        "source": u.source,
                        "instance_types": len(u.entries),
                        "new": u.new,
                        "gone": u.gone,
                        "up": [{"instance_type": t, "old_usd_per_hour": a, "new_usd_per_hour": b} for t, a, b in u.up],
                        "down": [{"instance_type": t, "old_usd_per_hour": a, "new_usd_per_hour": b} for t, a, b in u.down],
                        "unchanged": u.unchanged,
                        "error": u.error,
                        "written": u.written,
                    }
                    for u in results
                ],
                indent=2,
            )
        )
    else:
        out = console()
        for u in results:
            out.print(_e(u.summary()))
            for t in u.new[:10]:
                out.print(f"   new   {_e(t)}")
            for t in u.gone[:10]:
                out.print(f"   gone  {_e(t)} (kept from the bundled profiles, with its old date)")
            for t, a, b in (u.up + u.down)[:20]:
                out.print(f"   {'up  ' if b > a else 'down'}  {_e(t)}: {a:g} -> {b:g} USD/hour")
            if u.written:
                out.print(f"   written to {_e(u.written)}")
        if dry_run:
            out.print("dry run: nothing written")
    failed = [u for u in results if u.error]
    if failed and len(failed) == len(results):
        raise BadInput(f"no provider updated: {failed[0].error}" + (f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""))
