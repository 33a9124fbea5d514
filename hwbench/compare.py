"""Merge benchmark results from several machines into one ranking per comparable group.

Results are only ranked against each other when they measured the same thing: the same model shape
(architecture, parameter count, layers), quantization, test (prompt/generation length and depth) and
backend. Everything else lands in its own group, never silently compared as if equal.

Price per machine: ``--price-per-hour LABEL=USD`` when given, else the instance profile matching the
cloud instance detected in the record (provider from the DMI strings, instance type from the
product name), else unknown. USD per million tokens = USD/hour / (tokens/s x 3600) x 1e6;
tokens/s per USD/hour = tokens/s / USD/hour.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, Field

from hwbench.cost import USD_PER_MTOK_TEXT, tokens_per_s_per_usd_hour, usd_per_million_tokens
from hwbench.errors import BadInput
from hwbench.report.records import LoadedRecord, RecordError, parallel_figures
from hwbench.schema import RunRecord

CLOUD_PROVIDERS = {
    "amazon ec2": "aws",
    "google compute engine": "gcp",
    "microsoft azure": "azure",
    "oracle cloud": "oci",
    "digitalocean": "do",
    "scaleway": "scaleway",
    "hetzner": "hetzner",
    "ibm cloud": "ibm",
    "ovhcloud": "ovhcloud",
    "vultr": "vultr",
    "linode/akamai": "linode",
}
PARALLEL_FORMULA = (
    "tg<n>@np<N> (bench --parallel, llama-batched-bench style): N sequences decoded together; tokens/s is the aggregate "
    "of all N (USD per million tokens from it: the cost of serving N users at once), per user = aggregate / N, prompt = "
    "all N sequences' prompt tokens / the measured prompt time; est. columns are the estimator's figures stored in the record"
)
FORMULAS = [
    f"{USD_PER_MTOK_TEXT} (one stream; generated tokens for generation tests, prompt tokens for prompt tests)",
    "tokens/s per USD/hour = tokens/s / USD/hour (higher is better value)",
    "Groups: results are ranked only against results with the same model shape (architecture, parameters, layers), quantization, test and backend",
    "tokens/s: mean over repetitions, +/- sample standard deviation, as measured by hwbench bench (llama-bench protocol)",
    PARALLEL_FORMULA,
]


class Machine(BaseModel):
    label: str
    file: str
    run_id: str
    created_at: str
    cpu: str
    gpus: str
    ram_bytes: int | None = None
    usd_per_hour: float | None = None
    price_source: str = "unknown: give --price-per-hour LABEL=USD"
    instance: str | None = None
    notes: list[str] = Field(default_factory=list)  # the record's own notes (redacted with it)


class Row(BaseModel):
    label: str
    model: str
    settings: str
    device: str | None = None
    threads: int | None = None
    tokens_per_s: float
    stddev: float | None = None
    repetitions: int = 0
    usd_per_hour: float | None = None
    usd_per_million_tokens: float | None = None
    tokens_per_s_per_usd_hour: float | None = None
    predicted_tokens_per_s: float | None = None  # estimated (the record's estimate beside the measurement)
    # tg<n>@np<N> results only (None otherwise): measured per-user and prompt figures, and their estimates
    n_parallel: int | None = None
    per_user_tokens_per_s: float | None = None
    prompt_tokens_per_s: float | None = None  # all N sequences' prompt tokens / prompt time (llama-batched-bench's S_PP)
    prompt_time_ms: float | None = None
    predicted_per_user_tokens_per_s: float | None = None
    predicted_prompt_tokens_per_s: float | None = None


class Group(BaseModel):
    key: str
    model: str  # model name(s) in this group
    shape: str  # what makes results comparable
    quant: str
    test: str
    backend: str
    token_kind: str  # generated | prompt
    n_parallel: int | None = None  # tg<n>@np<N>: N sequences decoded together; tokens/s is their aggregate
    rows: list[Row] = Field(default_factory=list)
    fastest: str | None = None
    best_value: str | None = None  # lowest USD per million tokens


class Comparison(BaseModel):
    machines: list[Machine] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    errors: list[dict[str, str]] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    formulas: list[str] = Field(default_factory=lambda: list(FORMULAS))


# ----------------------------------------------------------------------------- prices


def parse_prices(text: str | None) -> dict[str, float]:
    """'a=0.44,b=1.10' -> {'a': 0.44, 'b': 1.10}."""
    out: dict[str, float] = {}
    if not text:
        return out
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, val = part.rpartition("=")
        if not sep or not key.strip():
            raise BadInput(f"--price-per-hour {part!r}: expected LABEL=USD, e.g. a=0.44")
        try:
            v = float(val)
        except ValueError:
            raise BadInput(f"--price-per-hour {part!r}: {val!r} is not a number of USD") from None
        if not math.isfinite(v) or v <= 0 or v > 100_000:
            raise BadInput(f"--price-per-hour {part!r}: the price must be a positive number of USD per hour")
        out[key.strip()] = v
    return out


def _match_price_keys(prices: dict[str, float], loaded: list[LoadedRecord]) -> dict[str, float]:
    """Price per record label; a key may be the label, the file name, the run id or a unique prefix of one."""
    out: dict[str, float] = {}
    for key, usd in prices.items():
        k = key.lower()
        exact = [lr for lr in loaded if k in (lr.label.lower(), lr.path.name.lower(), lr.path.stem.lower(), lr.record.run_id.lower())]
        hits = exact or [lr for lr in loaded if lr.label.lower().startswith(k) or lr.record.run_id.lower().startswith(k)]
        if not hits:
            labels = ", ".join(lr.label for lr in loaded)
            raise BadInput(f"--price-per-hour {key}=...: no result file labelled {key!r}; labels: {labels}")
        if len(hits) > 1:
            raise BadInput(
                f"--price-per-hour {key}=...: {key!r} matches {len(hits)} files ({', '.join(h.label for h in hits)}); use the full label"
            )
        out[hits[0].label] = usd
    return out


def detected_instance_price(rec: RunRecord, extra_dir: str | None = None) -> tuple[float, str, str] | None:
    """(USD/hour, source text, provider/type) from the instance profile of the record's detected cloud instance."""
    from hwbench.profiles import load_instances

    v = rec.host.virt
    provider = CLOUD_PROVIDERS.get((v.cloud or "").strip().lower())
    itype = None
    for k in ("instance_type", "cloud_instance_type"):
        if isinstance(rec.settings.get(k), str):
            itype = rec.settings[k]
    itype = itype or v.product_name
    if not provider or not itype:
        return None
    for p in load_instances(extra_dir):
        if p.provider.lower() == provider and p.instance_type.lower() == itype.strip().lower():
            if p.price_usd_per_hour is None:
                return None
            src = f"profile {p.provider}/{p.instance_type} on-demand, as of {p.as_of} ({p.source})"
            return p.price_usd_per_hour, src, f"{p.provider}/{p.instance_type}"
    return None


# ----------------------------------------------------------------------------- grouping


def _shape(m: dict[str, Any]) -> tuple[str, str]:
    """(group key part, human text) for a record's model: architecture + parameters + layers, else the name."""
    arch, params, layers = m.get("arch"), m.get("params"), m.get("n_layer")
    if isinstance(params, int) and params > 0:
        from hwbench.units import fmt_params

        key = f"{arch or '?'}|{params}|{layers or '?'}"
        return key, f"{arch or '?'} {fmt_params(params)} params{f', {layers} layers' if layers else ''}"
    name = str(m.get("name") or "unknown model")
    return f"name|{name.lower()}", name


def _settings_text(x: Any) -> str:
    s = x.settings if isinstance(x.settings, dict) else {}
    parts = []
    if x.threads is not None:
        parts.append(f"threads {x.threads}")
    for k, lab in (
        ("n_gpu_layers", "ngl"),
        ("flash_attn", "fa"),
        ("kv_type", "kv"),
        ("type_k", "kv"),
        ("n_batch", "b"),
        ("n_ubatch", "ub"),
    ):
        if k in s and s[k] is not None and not any(p.startswith(lab + " ") for p in parts):
            parts.append(f"{lab} {s[k]}")
    if x.device:
        parts.append(str(x.device))
    return ", ".join(parts)


def compare_records(
    loaded: list[LoadedRecord],
    errors: list[RecordError] | None = None,
    *,
    prices: dict[str, float] | None = None,
    extra_dir: str | None = None,
) -> Comparison:
    by_label = _match_price_keys(prices or {}, loaded)
    cmp = Comparison(errors=[{"file": str(e.path), "reason": e.reason} for e in errors or []])
    price_of: dict[str, float | None] = {}
    for lr in loaded:
        r = lr.record
        m = Machine(
            label=lr.label,
            file=lr.path.name,
            run_id=r.run_id,
            created_at=r.created_at,
            cpu=" ".join(
                x
                for x in (r.host.cpu.model or "unknown CPU", f"({r.host.cpu.logical_cores} threads)" if r.host.cpu.logical_cores else "")
                if x
            ),
            gpus=", ".join(g.name for g in r.host.gpus) or "none",
            ram_bytes=r.host.memory.total_bytes,
            notes=list(r.notes),
        )
        if lr.label in by_label:
            m.usd_per_hour = by_label[lr.label]
            m.price_source = "given (--price-per-hour)"
        else:
            found = detected_instance_price(r, extra_dir)
            if found:
                m.usd_per_hour, m.price_source, m.instance = found
        price_of[lr.label] = m.usd_per_hour
        cmp.machines.append(m)
    groups: dict[str, Group] = {}
    for lr in loaded:
        r = lr.record
        model = r.model or {}
        shape_key, shape_text = _shape(model)
        quant = str(model.get("quant") or "?")
        for x in r.results:
            if x.tokens_per_s is None or not math.isfinite(x.tokens_per_s) or x.tokens_per_s <= 0:
                if x.error:
                    cmp.skipped.append(f"{lr.label}: {x.test}: {x.error}")
                continue
            key = f"{shape_key}|{quant}|{x.test}|{x.backend}"
            pf = parallel_figures(x)
            g = groups.get(key)
            if g is None:
                g = groups[key] = Group(
                    key=key,
                    model=str(model.get("name") or shape_text),
                    shape=shape_text,
                    quant=quant,
                    test=x.test,
                    backend=x.backend,
                    token_kind="generated" if x.n_gen > 0 else "prompt",
                    n_parallel=pf.n_parallel if pf else None,
                )
            elif str(model.get("name")) not in g.model.split(" / "):
                g.model += f" / {model.get('name')}"
            usd = price_of.get(lr.label)
            tps = float(x.tokens_per_s)
            g.rows.append(
                Row(
                    label=lr.label,
                    model=str(model.get("name") or "?"),
                    settings=_settings_text(x),
                    device=x.device,
                    threads=x.threads,
                    tokens_per_s=tps,
                    stddev=x.stddev_tokens_per_s,
                    repetitions=len(x.samples_ns),
                    usd_per_hour=usd,
                    usd_per_million_tokens=usd_per_million_tokens(usd, tps),
                    tokens_per_s_per_usd_hour=tokens_per_s_per_usd_hour(usd, tps),
                    predicted_tokens_per_s=x.predicted_tokens_per_s,
                    n_parallel=pf.n_parallel if pf else None,
                    per_user_tokens_per_s=pf.per_user if pf else None,
                    prompt_tokens_per_s=pf.prompt if pf else None,
                    prompt_time_ms=pf.prompt_time_ms if pf else None,
                    predicted_per_user_tokens_per_s=pf.predicted_per_user if pf else None,
                    predicted_prompt_tokens_per_s=pf.predicted_prompt if pf else None,
                )
            )
    for g in groups.values():
        g.rows.sort(key=lambda r: (-r.tokens_per_s, r.label))
        g.fastest = g.rows[0].label if g.rows else None
        priced = [r for r in g.rows if r.usd_per_million_tokens is not None]
        g.best_value = min(priced, key=lambda r: r.usd_per_million_tokens or 0).label if priced else None
    # groups measured on more machines first, then by model, test
    cmp.groups = sorted(
        groups.values(), key=lambda g: (-len({r.label for r in g.rows}), g.shape, g.quant, g.token_kind != "prompt", g.test)
    )
    return cmp


def comparison_rows(cmp: Comparison) -> list[dict[str, Any]]:
    """Flat rows (one per measurement) for CSV."""
    out = []
    for gi, g in enumerate(cmp.groups, 1):
        for rank, r in enumerate(g.rows, 1):
            out.append(
                {
                    "group": gi,
                    "model": g.model,
                    "shape": g.shape,
                    "quant": g.quant,
                    "test": g.test,
                    "backend": g.backend,
                    "token_kind": g.token_kind,
                    "rank": rank,
                    "label": r.label,
                    "settings": r.settings,
                    "tokens_per_s": r.tokens_per_s,
                    "stddev_tokens_per_s": r.stddev,
                    "repetitions": r.repetitions,
                    "usd_per_hour": r.usd_per_hour,
                    "usd_per_million_tokens": r.usd_per_million_tokens,
                    "tokens_per_s_per_usd_hour": r.tokens_per_s_per_usd_hour,
                    "predicted_tokens_per_s": r.predicted_tokens_per_s,
                    "n_parallel": r.n_parallel,
                    "per_user_tokens_per_s": r.per_user_tokens_per_s,
                    "prompt_tokens_per_s": r.prompt_tokens_per_s,
                    "prompt_time_ms": r.prompt_time_ms,
                    "predicted_per_user_tokens_per_s": r.predicted_per_user_tokens_per_s,
                    "predicted_prompt_tokens_per_s": r.predicted_prompt_tokens_per_s,
                }
            )
    return out
