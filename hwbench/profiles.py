"""Load and validate the profile data: model architectures, GPU specs, cloud instances.

The bundled profiles are package data (``hwbench/data/``, read through :mod:`importlib.resources`),
so an installed hwbench — wheel, pipx, editable — finds them wherever it runs. The top-level
``profiles/`` of a checkout is a link to that folder: the human-facing view of the same files.

User profile files (a private price list, a machine someone offers you) are read from the
directories in ``$HWBENCH_PROFILES`` (os.pathsep-separated) or ``--profiles-dir``, after the
bundled ones; an entry with the same name replaces the bundled one.
"""

from __future__ import annotations

import difflib
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hwbench.errors import BadInput, ProfileError
from hwbench.schema import ModelSpec


def _bundled_dir() -> Path:
    from importlib.resources import files

    root = files("hwbench") / "data"
    # Every installer we support (pip, pipx, editable) unpacks the package onto the file system.
    return root if isinstance(root, Path) else Path(str(root))


BUNDLED_DIR = _bundled_dir()
MAX_PROFILE_BYTES = 16 * 2**20  # a profile file larger than this is refused


class GpuProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str
    vendor: str
    aliases: list[str] = Field(default_factory=list)
    memory_gib: float | None = Field(default=None, gt=0)
    memory_type: str | None = None
    bandwidth_gbps: float | None = Field(default=None, gt=0)
    fp16_tflops: float | None = Field(default=None, ge=0)
    fp32_tflops: float | None = Field(default=None, ge=0)
    tdp_w: float | None = None
    release_year: int | None = None
    form: str | None = None
    backend: str = "cuda"
    unified_memory: bool = False
    price_usd: float | None = Field(default=None, gt=0)  # purchase price, when a source gives one
    price_source: str | None = None
    # merged from gpu_prices.yaml (or --price): what kind of price, its date, what it buys
    price_kind: str | None = None  # launch MSRP, launch list price, release price, list price of a complete system, user
    price_as_of: str | None = None
    price_what: str | None = None  # "one graphics card", "Mac Studio ... 96 GB ..."
    price_memory_gib: float | None = Field(default=None, gt=0)  # a complete system's memory as priced (unified memory)
    source: str
    as_of: str
    notes: str | None = None

    @property
    def memory_bytes(self) -> int | None:
        return int(self.memory_gib * 2**30) if self.memory_gib else None


class InstanceProfile(BaseModel):
    """A rentable machine: a cloud instance type or a VPS offer."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    provider: str
    instance_type: str
    kind: str = "gpu"  # gpu, cpu, tpu, inferentia, trainium
    gpu_model: str | None = None  # as the provider names it
    gpu_profile: str | None = None  # name of the matching entry in gpus.yaml, when known
    gpu_count: float = Field(default=0, ge=0)
    gpu_memory_gib: float | None = Field(default=None, gt=0)  # per accelerator
    vcpus: int | None = Field(default=None, gt=0)
    memory_gib: float | None = Field(default=None, gt=0)
    arch: str | None = None
    price_usd_per_hour: float | None = Field(default=None, gt=0)
    spot_usd_per_hour: float | None = Field(default=None, gt=0)
    region: str | None = None
    as_of: str
    source: str
    notes: str | None = None

    @field_validator("region", mode="before")
    @classmethod
    def _tidy_region(cls, v: Any) -> Any:
        return tidy_region(v) if isinstance(v, str) else v


def tidy_region(text: str | None) -> str | None:
    """'City, CC, Continent' with the empty parts dropped: ', CN, AS' -> 'CN, AS'; nothing left -> None."""
    parts = [p.strip() for p in (text or "").split(",")]
    return ", ".join(p for p in parts if p) or None


def _read_yaml(path: Path) -> Any:
    import yaml

    try:
        size = path.stat().st_size
    except OSError as e:
        raise ProfileError(f"{path}: cannot read profile ({e.strerror})") from None
    if size > MAX_PROFILE_BYTES:
        raise ProfileError(f"{path}: profile file is {size} bytes, larger than the {MAX_PROFILE_BYTES} allowed")
    try:
        text = path.read_text(encoding="utf-8")
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(text, Loader=loader)  # noqa: S506 - safe loader
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: profile file is not UTF-8 text") from None
    except RecursionError:
        raise ProfileError(f"{path}: malformed YAML: nested deeper than {MAX_PROFILE_DEPTH} levels") from None
    except ValueError as e:  # PyYAML builds dates itself: 'as_of: 2026-13-01' raises ValueError, not YAMLError
        raise ProfileError(f"{path}: malformed YAML profile: {e} (quote dates as '2026-12-01')") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ProfileError(f"{path}: malformed YAML profile{where}: {getattr(e, 'problem', e)}") from None
    _check_bounded(path, data)
    return data


MAX_PROFILE_VALUES = 2_000_000  # values after YAML aliases are expanded (a "billion laughs" file has 10^9+)
MAX_PROFILE_DEPTH = 32


def _check_bounded(path: Path, data: Any) -> None:
    """Refuse YAML whose aliases expand to a huge tree, or that nests absurdly deep, before anything walks it."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    seen = 0
    while stack:
        v, depth = stack.pop()
        seen += 1
        if seen > MAX_PROFILE_VALUES:
            raise ProfileError(f"{path}: more than {MAX_PROFILE_VALUES} values once YAML aliases are expanded; refusing it")
        if depth > MAX_PROFILE_DEPTH:
            raise ProfileError(f"{path}: nested deeper than {MAX_PROFILE_DEPTH} levels; refusing it")
        if isinstance(v, dict):
            stack.extend((x, depth + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, depth + 1) for x in v)


def _validation_message(path: Path, section: str, index: int, err: ValidationError) -> str:
    first = err.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ()))
    return f"{path}: {section}[{index}] field {field!r}: {first.get('msg')}"


def _cached_yaml(path: Path) -> Any:
    """Parsed YAML, cached as JSON in the user cache dir keyed by path, size and mtime.

    PyYAML needs ~60 ms for the GPU table; `hwbench check` must feel instant.
    """
    import hashlib
    import json

    try:
        st = path.stat()
    except OSError as e:
        raise ProfileError(f"{path}: cannot read profile ({e.strerror})") from None
    key = hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:24]
    try:
        from hwbench.paths import cache_dir

        cfile = cache_dir() / "profiles" / f"{path.stem}-{key}.json"
    except Exception:  # noqa: BLE001 - no cache dir: just parse
        return _read_yaml(path)
    try:
        return json.loads(cfile.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    data = _read_yaml(path)
    try:
        cfile.parent.mkdir(parents=True, exist_ok=True)
        tmp = cfile.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, default=str), encoding="utf-8")
        os.replace(tmp, cfile)
    except OSError:
        pass
    return data


def _require(kind: str, n: int, files: list[Path]) -> None:
    """An empty profile set is an error with one line, never an empty list that fails later (min() of nothing)."""
    if n == 0:
        names = ", ".join(str(f) for f in files)
        raise ProfileError(f"no {kind} profiles: no entries in {names}; restore the bundled files or reinstall hwbench")


def _entries(path: Path, section: str) -> list[dict[str, Any]]:
    data = _cached_yaml(path)
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get(section), list):
        raise ProfileError(f"{path}: not a {section} profile file: expected a mapping with a '{section}:' list")
    items = data[section]
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ProfileError(f"{path}: {section}[{i}] is not a mapping")
    return items


def user_dirs(extra: str | os.PathLike[str] | None = None) -> list[Path]:
    """The user's profile folders, in load order: the data dir's profiles/ (when it exists:
    `hwbench profiles update` writes there), ``$HWBENCH_PROFILES``, then ``--profiles-dir``."""
    from hwbench.paths import profiles_dir

    dirs = []
    own = profiles_dir()
    if own.is_dir():
        dirs.append(own)
    env = os.environ.get("HWBENCH_PROFILES")
    if env:
        dirs += [Path(p) for p in env.split(os.pathsep) if p]
    if extra:
        dirs.append(Path(extra))
    for d in dirs:
        if not d.is_dir():
            raise BadInput(f"profiles directory {str(d)!r} does not exist")
    return dirs


def _files(kind: str, extra_dir: str | None) -> list[Path]:
    """Bundled file(s) for ``kind`` then user files named ``<kind>*.yaml`` in user dirs."""
    files: list[Path] = []
    bundled = BUNDLED_DIR / f"{kind}.yaml"
    if bundled.exists():
        files.append(bundled)
    sub = BUNDLED_DIR / kind
    if sub.is_dir():
        files += sorted(sub.glob("*.yaml"))
    if not files:
        raise ProfileError(
            f"the bundled {kind} profiles are missing from {BUNDLED_DIR}: this hwbench install is incomplete; reinstall hwbench"
        )
    for d in user_dirs(extra_dir):
        files += sorted(p for p in d.glob("*.yaml") if p.name.startswith(kind))
        if (d / kind).is_dir():
            files += sorted((d / kind).glob("*.yaml"))
    return files


@lru_cache(maxsize=8)
def load_models(extra_dir: str | None = None) -> dict[str, ModelSpec]:
    out: dict[str, ModelSpec] = {}
    files = _files("models", extra_dir)
    for path in files:
        for i, item in enumerate(_entries(path, "models")):
            try:
                m = ModelSpec(**item)
            except ValidationError as e:
                raise ProfileError(_validation_message(path, "models", i, e)) from None
            except TypeError as e:
                raise ProfileError(f"{path}: models[{i}]: {e}") from None
            out[m.name.lower()] = m
    _require("model", len(out), files)
    return out


@lru_cache(maxsize=8)
def load_gpus(extra_dir: str | None = None) -> list[GpuProfile]:
    by_name: dict[str, GpuProfile] = {}
    files = _files("gpus", extra_dir)
    for path in files:
        for i, item in enumerate(_entries(path, "gpus")):
            try:
                g = GpuProfile(**item)
            except ValidationError as e:
                raise ProfileError(_validation_message(path, "gpus", i, e)) from None
            by_name[g.name.lower()] = g
    _require("GPU", len(by_name), files)
    _merge_prices(by_name, extra_dir)
    return list(by_name.values())


class GpuPrice(BaseModel):
    """One purchase price (gpu_prices.yaml, a user's gpu_prices*.yaml, or --price)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    gpu: str  # the GPU profile's name (or a name find_gpu resolves)
    price_usd: float = Field(gt=0, allow_inf_nan=False)
    price_kind: str = Field(min_length=1)
    what: str | None = None
    memory_gib: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    source: str = Field(min_length=3)
    as_of: str

    @field_validator("as_of", mode="before")
    @classmethod
    def _date_text(cls, v: Any) -> Any:
        return str(v) if v is not None else v


def _price_files(extra_dir: str | None) -> list[Path]:
    files = [BUNDLED_DIR / "gpu_prices.yaml"] if (BUNDLED_DIR / "gpu_prices.yaml").exists() else []
    for d in user_dirs(extra_dir):
        files += sorted(p for p in d.glob("gpu_prices*.yaml"))
    return files


@lru_cache(maxsize=8)
def load_gpu_prices(extra_dir: str | None = None) -> list[GpuPrice]:
    """Bundled purchase prices, then the user's gpu_prices*.yaml (a later entry for a GPU replaces an earlier one)."""
    out: list[GpuPrice] = []
    for path in _price_files(extra_dir):
        for i, item in enumerate(_entries(path, "prices")):
            try:
                out.append(GpuPrice(**item))
            except ValidationError as e:
                raise ProfileError(_validation_message(path, "prices", i, e)) from None
    return out


def with_price(g: GpuProfile, p: GpuPrice) -> GpuProfile:
    """The profile carrying purchase price ``p``."""
    return g.model_copy(
        update={
            "price_usd": p.price_usd,
            "price_source": p.source,
            "price_kind": p.price_kind,
            "price_as_of": p.as_of,
            "price_what": p.what,
            "price_memory_gib": p.memory_gib,
        }
    )


def _merge_prices(gpus: dict[str, GpuProfile], extra_dir: str | None) -> None:
    for p in load_gpu_prices(extra_dir):
        key = p.gpu.lower()
        if key not in gpus:
            # a user file may name a GPU loosely ("RTX 3090"); the bundled table uses exact names
            try:
                key = _find_in(p.gpu, list(gpus.values())).name.lower()
            except BadInput:
                raise ProfileError(f"purchase price for unknown GPU {p.gpu!r}; use a name from `hwbench profiles list gpus`") from None
        gpus[key] = with_price(gpus[key], p)


def parse_price_overrides(specs: tuple[str, ...] | list[str], extra_dir: str | None = None) -> dict[str, GpuPrice]:
    """``--price "RTX 3090=700"`` (repeatable) -> {profile name: price}. Bad text or an unknown GPU: BadInput."""
    import datetime as dt
    import math

    out: dict[str, GpuPrice] = {}
    for spec in specs:
        name, sep, amount = spec.rpartition("=")
        if not sep or not name.strip() or not amount.strip():
            raise BadInput(f'--price {spec!r}: expected GPU=USD, e.g. --price "RTX 3090=700"')
        try:
            usd = float(amount.strip().replace(",", "").removeprefix("$"))
        except ValueError:
            raise BadInput(f"--price {spec!r}: {amount.strip()!r} is not a number of USD") from None
        if not math.isfinite(usd) or usd <= 0:
            raise BadInput(f"--price {spec!r}: the price must be a positive number of USD")
        g = find_gpu(name.strip(), extra_dir)
        out[g.name] = GpuPrice(
            gpu=g.name,
            price_usd=usd,
            price_kind="user",
            what="as given with --price",
            source="--price (given by the user)",
            as_of=dt.date.today().isoformat(),
        )
    return out


def apply_price_overrides(gpus: list[GpuProfile], overrides: dict[str, GpuPrice]) -> list[GpuProfile]:
    return [with_price(g, overrides[g.name]) if g.name in overrides else g for g in gpus]


@lru_cache(maxsize=8)
def load_instances(extra_dir: str | None = None) -> list[InstanceProfile]:
    out: dict[tuple[str, str], InstanceProfile] = {}
    files = _files("instances", extra_dir)
    for path in files:
        for i, item in enumerate(_entries(path, "instances")):
            try:
                p = InstanceProfile(**item)
            except ValidationError as e:
                raise ProfileError(_validation_message(path, "instances", i, e)) from None
            out[(p.provider.lower(), p.instance_type.lower())] = p
    _require("instance", len(out), files)
    return list(out.values())


def get_model(name: str, extra_dir: str | None = None) -> ModelSpec:
    models = load_models(extra_dir)
    key = name.strip().lower()
    if key in models:
        return models[key]
    close = difflib.get_close_matches(key, list(models), n=4, cutoff=0.5)
    hint = f"closest known: {', '.join(close)}" if close else f"known: {', '.join(sorted(models))}"
    raise BadInput(f"unknown model {name!r}; {hint} (or use --params / --gguf)")


_NOISE = {"nvidia", "geforce", "tesla", "amd", "radeon", "instinct", "apple", "intel", "gb", "graphics", "generation", "gpu", "core"}


@lru_cache(maxsize=4096)
def _tokens(name: str) -> frozenset[str]:
    s = name.lower()
    s = re.sub(r"(\d)\s*gb\b", r"\1 gb", s)
    s = re.sub(r"(\d+)-core", r"\1 core", s)
    return frozenset(t for t in re.split(r"[^a-z0-9]+", s) if t and t not in _NOISE)


def find_gpu(name: str, extra_dir: str | None = None) -> GpuProfile:
    """Fuzzy GPU lookup: 'rtx 3090', 'NVIDIA GeForce RTX 3090', 'H100 PCIe', 'A100 80GB', 'M2 Ultra'."""
    return _find_in(name, load_gpus(extra_dir))


def _find_in(name: str, gpus: list[GpuProfile]) -> GpuProfile:
    want = _tokens(name)
    if not want:
        raise BadInput(f"GPU name {name!r} is empty")
    # A memory size in the name ("A40 48GB", "M1 Max ... 64GB") may be absent from the profile's
    # name: second pass without it, preferring profiles of that memory size.
    sizes = frozenset(m for m in re.findall(r"(\d+)\s*gb\b", name.lower()))
    for pass_want, mem_pref in ((want, None), (want - sizes, sizes)):
        if not pass_want:
            continue
        best: tuple[int, int, GpuProfile] | None = None
        for order, g in enumerate(gpus):
            for cand in [g.name, *g.aliases]:
                have = _tokens(cand)
                if pass_want <= have:
                    score = len(have - pass_want)
                    if mem_pref and (g.memory_gib is None or str(int(g.memory_gib)) not in mem_pref):
                        score += 10
                    if best is None or (score, order) < (best[0], best[1]):
                        best = (score, order, g)
        if best is not None:
            return best[2]
    names = [g.name for g in gpus]
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.3)
    if not close:
        lowered = {n.lower(): n for n in names}
        close = [lowered[c] for c in difflib.get_close_matches(name.lower(), list(lowered), n=5, cutoff=0.3)]
    hint = f"closest known: {', '.join(close)}" if close else "see `hwbench profiles list gpus`"
    raise BadInput(f"unknown GPU {name!r}; {hint}")


def match_gpu(detected_name: str, extra_dir: str | None = None) -> GpuProfile | None:
    """The profile for a detected GPU name, or None (never raises for unknown names)."""
    try:
        return find_gpu(detected_name, extra_dir)
    except BadInput:
        return None
