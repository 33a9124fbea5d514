"""Rank rentable instances (and GPU configurations to buy) that run a model, by cost.

Core of `hwbench recommend` and of the report's recommendation section. Pure apart from reading
the profiles: every instance becomes a :class:`HardwareTarget` (its GPUs from the GPU profile x
count, RAM from the catalog, CPU bandwidth and FLOPS assumed from the vCPU count, each assumption
labelled), :func:`hwbench.estimate.estimate_fit` gives verdict and tokens/s, and the price comes
from the instance profile with its ``as_of`` date and source.

USD per million generated tokens = usd_per_hour / (generation tokens/s x 3600) x 1e6 (one stream,
batch 1: the llama.cpp single-user case hwbench estimates; a serving stack batching many users
gets far more tokens per dollar).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from hwbench import assumptions as A
from hwbench import cost
from hwbench.cost import tokens_per_s_per_usd_hour, usd_per_million_tokens
from hwbench.errors import BadInput
from hwbench.hardware import assumed_cpu_bandwidth, cpu_bandwidth_rule_text, cpu_peak_tflops, gpu_target_from_profile, unified_memory_note
from hwbench.profiles import GpuPrice, GpuProfile, InstanceProfile, apply_price_overrides, load_gpus, load_instances
from hwbench.resolve import ResolvedModel
from hwbench.schema import EstimateSettings, FitEstimate, GpuTarget, HardwareTarget

GiB = 2**30

# Every figure assumed for hosts the catalogs describe only by vCPUs and RAM, and for machines built
# around GPUs to buy, comes from the one table: hwbench/assumptions.py.

USD_PER_MTOK_FORMULA = "USD per million generated tokens = USD/hour / (generation tokens/s x 3600) x 1,000,000 (one stream, batch 1)"
UNSUPPORTED_KINDS = {"tpu", "inferentia", "trainium"}

Verdict = Literal["gpu", "partial", "cpu", "none"]
COMPLETE_SYSTEM = "list price of a complete system"


class Ownership(BaseModel):
    """What owning costs beyond the purchase: every figure from the assumptions table unless the user gave one."""

    host_usd: float = Field(ge=0, allow_inf_nan=False)
    usd_per_kwh: float = Field(ge=0, allow_inf_nan=False)
    hours_per_day: float = Field(gt=0, le=24, allow_inf_nan=False)
    writeoff_years: float = Field(gt=0, allow_inf_nan=False)
    host_power_w: float = Field(ge=0, allow_inf_nan=False)
    stale_days: float = Field(gt=0, allow_inf_nan=False)
    today: str  # YYYY-MM-DD: prices' ages are counted to this day

    @classmethod
    def default(
        cls,
        *,
        host_usd: float | None = None,
        usd_per_kwh: float | None = None,
        hours_per_day: float | None = None,
        today: str | None = None,
    ) -> Ownership:
        import datetime as dt

        return cls(
            host_usd=A.value("buy_host_system_usd") if host_usd is None else host_usd,
            usd_per_kwh=A.value("electricity_usd_per_kwh") if usd_per_kwh is None else usd_per_kwh,
            hours_per_day=A.value("buy_hours_per_day") if hours_per_day is None else hours_per_day,
            writeoff_years=A.value("buy_writeoff_years"),
            host_power_w=A.value("buy_host_power_w"),
            stale_days=A.value("price_stale_days"),
            today=today or dt.date.today().isoformat(),
        )


class Candidate(BaseModel):
    """One instance (rent) or GPU configuration (buy) with its estimate and price."""

    option: Literal["rent", "buy"] = "rent"
    provider: str | None = None
    instance_type: str | None = None
    region: str | None = None
    gpu_model: str | None = None
    gpu_profile: str | None = None
    gpu_count: float = 0
    gpu_memory_gib: float | None = None  # per GPU
    vcpus: int | None = None
    memory_gib: float | None = None
    verdict: Verdict
    verdict_text: str
    gpu_layers: int = 0
    total_layers: int = 0
    gen_tokens_per_s: float = 0.0  # estimated
    prompt_tokens_per_s: float = 0.0  # estimated
    meets_target: bool = False
    price_kind: Literal["on-demand", "spot", "purchase"] | None = None
    usd_per_hour: float | None = None
    usd_per_million_tokens: float | None = None
    tokens_per_s_per_usd_hour: float | None = None
    purchase_usd: float | None = None  # buy: GPUs + host allowance (complete systems: their list price)
    purchase_source: str | None = None
    # --- buy: what the purchase price is made of, what owning costs, when it pays off (None = unknown)
    purchase_price_kind: str | None = None  # launch MSRP, launch list price, release price, list price of a complete system, user
    purchase_what: str | None = None
    gpus_usd: float | None = None
    host_usd: float | None = None
    power_w: float | None = None
    power_usd_per_hour: float | None = None
    owned_usd_per_hour: float | None = None
    owned_usd_per_million_tokens: float | None = None
    break_even_vs: str | None = None  # the cheapest rental meeting the same target
    break_even_rent_usd_per_hour: float | None = None
    break_even_hours: float | None = None
    break_even_months: float | None = None
    price_age_days: int | None = None  # the price's age on the day of the recommendation
    price_stale: bool = False  # older than the assumptions table's price_stale_days
    as_of: str | None = None
    source: str | None = None
    assumptions: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    # --- with --concurrency (issue 13; left out of the JSON otherwise): N sequences served at once, estimated
    concurrency: int | None = None  # the N the row was estimated at (--concurrency auto: this row's best)
    aggregate_tokens_per_s: float | None = None  # all N sequences together; USD/M tok is computed from it
    per_user_tokens_per_s: float | None = None  # what each user gets; the target is checked against it

    @model_serializer(mode="wrap")
    def _drop_unset_concurrency(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        d = handler(self)
        if d.get("concurrency", 0) is None:
            for k in ("concurrency", "aggregate_tokens_per_s", "per_user_tokens_per_s"):
                d.pop(k, None)
        return d  # type: ignore[no-any-return]

    @property
    def name(self) -> str:
        if self.option == "buy":
            return f"{self.gpu_count:g} x {self.gpu_profile}"
        return f"{self.provider}/{self.instance_type}"


class Recommendation(BaseModel):
    model: str
    params: int
    quant: str
    context: int
    model_source: str
    target_tokens_per_s: float | None
    max_usd_per_hour: float | None = None
    providers: list[str] | None = None
    spot: bool = False
    candidates: list[Candidate] = Field(default_factory=list)
    buy: list[Candidate] = Field(default_factory=list)
    considered: int = 0
    stopped_early: bool = False  # `first=N` found N instances meeting the target before looking at all
    skipped: dict[str, int] = Field(default_factory=dict)
    prices_as_of: list[str] = Field(default_factory=list)
    price_sources: list[str] = Field(default_factory=list)
    buy_vs_rent: list[str] = Field(default_factory=list)
    ownership: dict[str, Any] | None = None  # the figures the buy rows' costs used (host allowance, USD/kWh, hours/day, years, date)
    formulas: list[str] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)
    concurrency: int | str | None = None  # --concurrency N or "auto" (left out of the JSON when not given)
    ranked_by: str | None = None  # what the order means when --concurrency is given

    @model_serializer(mode="wrap")
    def _drop_unset_concurrency(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        d = handler(self)
        if d.get("concurrency", 0) is None:
            d.pop("concurrency", None)
            d.pop("ranked_by", None)
        return d  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- instance -> hardware


def _vcpus(vcpus: int | None) -> int:
    return vcpus or int(A.value("cloud_vcpus_unknown"))


def cloud_cpu_bandwidth_gbps(vcpus: int | None) -> float:
    """A rented VM's CPU memory bandwidth: the same rule as for a detected VM (hardware.assumed_cpu_bandwidth)."""
    return assumed_cpu_bandwidth(_vcpus(vcpus), True)


def cloud_cpu_tflops(vcpus: int | None, arch: str | None) -> float:
    v = _vcpus(vcpus)
    is_arm = bool(arch) and str(arch).lower().startswith(("arm", "aarch"))
    # x86 vCPUs are SMT threads; Graviton/Ampere vCPUs are cores
    cores = v if is_arm else max(1, int(v // A.value("cloud_x86_vcpus_per_core")))
    flags = [] if is_arm else ["avx2", "fma"]
    return cpu_peak_tflops(cores, A.value("cloud_cpu_mhz"), flags, "aarch64" if is_arm else "x86_64")


def _gpu_index(extra_dir: str | None) -> dict[str, GpuProfile]:
    return {g.name.lower(): g for g in load_gpus(extra_dir)}


def instance_target(inst: InstanceProfile, gpus_by_name: dict[str, GpuProfile]) -> tuple[HardwareTarget | None, list[str], str | None]:
    """(target, assumptions, skip reason). A skip reason means the instance cannot be estimated."""
    assumptions: list[str] = []
    gpus: list[GpuTarget] = []
    kind = (inst.kind or "gpu").lower()
    if kind in UNSUPPORTED_KINDS:
        return None, [], f"{kind.upper() if kind == 'tpu' else kind.capitalize()} (llama.cpp does not run on it)"
    if kind != "cpu" and inst.gpu_count:
        if not inst.gpu_profile or inst.gpu_profile.lower() not in gpus_by_name:
            return None, [], "GPU without a spec profile"
        prof = gpus_by_name[inst.gpu_profile.lower()]
        try:  # the catalog's memory per GPU where it gives one, else the profile's
            g = gpu_target_from_profile(prof, memory_bytes=int(inst.gpu_memory_gib * GiB) if inst.gpu_memory_gib else None)
        except BadInput:  # neither has a memory size
            return None, [], "GPU memory size unknown"
        count = inst.gpu_count
        if count < 1:
            # a fractional GPU (e.g. 1/4 of an L4): its memory slice from the catalog, bandwidth pro rata (assumed)
            text = f"fractional GPU: bandwidth and FLOPS assumed {count:g} of a full {prof.name}"
            if not g.bandwidth_gbps:
                text += f"; the full GPU's bandwidth is not in its profile: assumed {A.get('gpu_bandwidth_unknown_gbps').text()}"
            if not g.fp16_tflops:
                text += f"; the full GPU's FLOPS are not in its profile: assumed {A.get('gpu_tflops_unknown').text()}"
            full_bw = g.bandwidth_gbps or A.value("gpu_bandwidth_unknown_gbps")
            full_tf = g.fp16_tflops or A.value("gpu_tflops_unknown")
            g = g.model_copy(update={"name": f"{count:g} x {prof.name}", "bandwidth_gbps": full_bw * count, "fp16_tflops": full_tf * count})
            assumptions.append(text)
            count = 1
        gpus = [g] * int(round(count))
    elif kind != "cpu":
        return None, [], "GPU count not given"
    vram_gib = sum(g.memory_bytes for g in gpus) / GiB
    if inst.memory_gib:
        ram_bytes, ram_src = int(inst.memory_gib * GiB), "profile"
    else:
        ram_min = A.value("cloud_ram_min_gib")
        ram_gib = max(ram_min, vram_gib)
        ram_bytes, ram_src = int(ram_gib * GiB), "assumed"
        assumptions.append(f"host RAM not in the catalog; assumed {ram_gib:.0f} GiB (max of {ram_min:.0f} GiB and total VRAM)")
    bw = cloud_cpu_bandwidth_gbps(inst.vcpus)
    v = f"{inst.vcpus} vCPUs" if inst.vcpus else f"{_vcpus(None)} vCPUs (count unknown, assumed)"
    assumptions.append(
        f"CPU memory bandwidth assumed {bw:.0f} GB/s for {v}: max({A.get('cpu_bandwidth_gbps').text()}, "
        f"{A.get('vm_bandwidth_per_vcpu_gbps').text()} x vCPUs), at most {A.get('vm_bandwidth_max_gbps').text()}"
    )
    tf = cloud_cpu_tflops(inst.vcpus, inst.arch)
    t = HardwareTarget(
        label=f"{inst.provider}/{inst.instance_type}",
        gpus=gpus,
        ram_bytes=ram_bytes,
        ram_source=ram_src,  # type: ignore[arg-type]
        cpu_bandwidth_gbps=bw,
        cpu_bandwidth_source="assumed",
        cpu_tflops=tf,
        cpu_tflops_source="assumed",
        cpu_cores=_vcpus(inst.vcpus),
    )
    return t, assumptions, None


def _hw_key(t: HardwareTarget) -> tuple:  # type: ignore[type-arg]
    return (
        tuple((g.name, g.memory_bytes, g.bandwidth_gbps, g.fp16_tflops, g.backend, g.unified_memory) for g in t.gpus),
        t.ram_bytes,
        round(t.cpu_bandwidth_gbps, 3),
        round(t.cpu_tflops, 4),
    )


class _Estimator:
    """estimate_fit without follow-ups, memoised per distinct hardware (hundreds of instances share a few)."""

    def __init__(
        self, resolved: ResolvedModel, settings: EstimateSettings, concurrency: int | str | None = None, target: float | None = None
    ) -> None:
        self.r, self.s = resolved, settings
        self.concurrency, self.target = concurrency, target
        self.cache: dict[tuple, FitEstimate] = {}  # type: ignore[type-arg]

    _weights: int | None = None

    def weights_bytes(self) -> int:
        """The model's weight bytes (a lower bound of the memory it needs anywhere)."""
        if self._weights is None:
            # only the weights are read from this estimate: its bandwidth and FLOPS never reach a user
            big = HardwareTarget(label="bound", ram_bytes=2**50, cpu_bandwidth_gbps=100.0, cpu_tflops=1.0)
            self._weights = self(big).memory.weights_bytes
        return self._weights

    def surely_too_small(self, t: HardwareTarget) -> bool:
        """GPU memory + RAM below the weights alone: it cannot fit (skips the full estimate)."""
        return sum(g.memory_bytes for g in t.gpus if not g.unified_memory) + t.ram_bytes < self.weights_bytes()

    def __call__(self, t: HardwareTarget) -> FitEstimate:

        k = _hw_key(t)
        if k not in self.cache:
            self.cache[k] = self._estimate(t)
        return self.cache[k]

    def _estimate(self, t: HardwareTarget, n: int | None = None) -> FitEstimate:
        from hwbench.estimate import estimate_fit

        c = self.concurrency if n is None else n
        s = self.s if c is None or c == "auto" else self.s.model_copy(update={"concurrency": c})
        fit = estimate_fit(
            self.r.spec,
            self.r.quant,
            s,
            t,
            tensors=self.r.tensors,
            model_source=self.r.source,
            size_factor=self.r.size_factor,
            follow_ups=False,
            concurrency_answers=c is not None,
            target_tokens_per_s=self.target,
        )
        if c == "auto" and fit.concurrency is not None:
            # the most sequences at which every user still gets the target (the lowest USD per million tokens,
            # aggregate tokens/s growing with N); none meets it: one stream, which then misses the target
            best = fit.concurrency.max_concurrency_meeting_target
            if best and best > 1:
                fit = self._estimate(t, best)
        return fit


def _fit_fields(fit: FitEstimate, target_tokens_per_s: float | None) -> dict[str, Any]:
    """The Candidate fields that come from one estimate (rented or bought alike)."""
    gen = fit.speed.generation_tokens_per_s if fit.speed else 0.0
    out: dict[str, Any] = {
        "verdict": fit.verdict,
        "verdict_text": fit.verdict_text,
        "gpu_layers": fit.gpu_layers,
        "total_layers": fit.total_layers,
        "gen_tokens_per_s": gen,
        "prompt_tokens_per_s": fit.speed.prompt_tokens_per_s if fit.speed else 0.0,
        "meets_target": _meets(fit.verdict, gen, target_tokens_per_s),
    }
    c = fit.concurrency
    if c is not None:
        out |= {
            "concurrency": c.n_seq,
            "aggregate_tokens_per_s": c.aggregate_generation_tokens_per_s,
            "per_user_tokens_per_s": c.per_user_generation_tokens_per_s,
            "meets_target": _meets(fit.verdict, c.per_user_generation_tokens_per_s, target_tokens_per_s),
        }
    return out


def serving_tokens_per_s(fields: dict[str, Any]) -> float:
    """The rate a row's USD per million tokens is computed from: all sequences together with --concurrency, else one stream."""
    agg = fields.get("aggregate_tokens_per_s")
    return float(agg) if agg is not None else float(fields["gen_tokens_per_s"])


def _meets(verdict: str, gen: float, target: float | None) -> bool:
    if verdict == "none":
        return False
    return target is None or gen >= target


def rank_key(c: Candidate) -> tuple:  # type: ignore[type-arg]
    """Meets the target first, cheapest USD/hour; then the rest, fastest first. With --concurrency: meets the per-user
    target first, lowest USD per million tokens (at the row's concurrency); then the rest, most aggregate tokens/s first."""
    if c.concurrency is not None:
        mtok = c.usd_per_million_tokens if c.usd_per_million_tokens is not None else float("inf")
        if c.meets_target:
            return (0, mtok, c.usd_per_hour if c.usd_per_hour is not None else float("inf"))
        return (1, -(c.aggregate_tokens_per_s or 0), mtok)
    if c.meets_target:
        return (0, c.usd_per_hour if c.usd_per_hour is not None else float("inf"), -(c.gen_tokens_per_s or 0))
    return (1, -(c.gen_tokens_per_s or 0), c.usd_per_hour if c.usd_per_hour is not None else float("inf"))


def recommend(
    resolved: ResolvedModel,
    settings: EstimateSettings,
    *,
    target_tokens_per_s: float | None = A.TARGET_TOKENS_PER_S,
    max_usd_per_hour: float | None = None,
    providers: list[str] | None = None,
    spot: bool = False,
    buy: bool = False,
    max_buy_gpus: int = 8,
    extra_dir: str | None = None,
    instances: list[InstanceProfile] | None = None,
    include_not_fitting: bool = False,
    first: int | None = None,
    buy_gpus: list[GpuProfile] | None = None,
    ownership: Ownership | None = None,
    price_overrides: dict[str, GpuPrice] | None = None,
    concurrency: int | str | None = None,
) -> Recommendation:
    """Rank instance profiles that run ``resolved`` at ``settings`` (and, with ``buy``, GPUs to buy).

    ``first=N``: evaluate instances cheapest first and stop once N meet the target (the report's
    "cheapest N"); the result then holds those N and the cheaper ones that did not meet it.
    ``buy_gpus``: with ``buy``, consider only these GPU profiles (default: all; the report's shortlist).
    ``ownership``: host allowance, electricity price, hours/day for the buy rows (default: the assumptions table).
    ``price_overrides``: purchase prices the user gave (``--price``), replacing the profiles' own.
    ``concurrency``: serve N sequences at once (or "auto": per row the most that still give each user the target):
    rows carry aggregate and per-user tokens/s, USD per million tokens from the aggregate, ranked by it.
    """
    own = ownership or Ownership.default()
    gpus_by_name = _gpu_index(extra_dir)
    all_inst = instances if instances is not None else load_instances(extra_dir)
    provs = {p.lower() for p in providers} if providers else None
    est = _Estimator(resolved, settings, concurrency, target_tokens_per_s)
    skipped: Counter[str] = Counter()
    cands: list[Candidate] = []
    considered = 0
    stopped_early = False
    if first is not None:

        def _price(i: InstanceProfile) -> float:
            p = i.spot_usd_per_hour if spot else i.price_usd_per_hour
            return p if p is not None else float("inf")

        all_inst = sorted(all_inst, key=lambda i: (_price(i), i.provider, i.instance_type))
    for inst in all_inst:
        if first is not None and sum(1 for c in cands if c.meets_target) >= first:
            stopped_early = True
            break
        if provs is not None and inst.provider.lower() not in provs:
            continue
        considered += 1
        price = inst.spot_usd_per_hour if spot else inst.price_usd_per_hour
        if price is None:
            skipped["no spot price" if spot else "no on-demand price"] += 1
            continue
        if max_usd_per_hour is not None and price > max_usd_per_hour:
            skipped[f"over {max_usd_per_hour:g} USD/hour"] += 1
            continue
        target, assumptions, why = instance_target(inst, gpus_by_name)
        if target is None:
            skipped[why or "cannot estimate"] += 1
            continue
        if not include_not_fitting and est.surely_too_small(target):
            skipped["model does not fit in its memory"] += 1
            continue
        fit = est(target)
        if fit.verdict == "none" and not include_not_fitting:
            skipped["model does not fit in its memory" + (f" with {concurrency} sequences" if isinstance(concurrency, int) and concurrency > 1 else "")] += 1
            continue
        fields = _fit_fields(fit, target_tokens_per_s)
        gen = serving_tokens_per_s(fields)
        notes: list[str] = []
        if inst.notes and "accelerator-only price" in inst.notes:
            notes.append("price is for the GPUs only; the host VM is billed separately (not included)")
        if inst.notes and "AcceleratorCount=12" in inst.notes:
            notes.append("catalog lists 12 GPUs for this type; verify with the provider")
        cands.append(
            Candidate(
                provider=inst.provider,
                instance_type=inst.instance_type,
                region=inst.region,
                gpu_model=inst.gpu_model,
                gpu_profile=inst.gpu_profile,
                gpu_count=inst.gpu_count,
                gpu_memory_gib=inst.gpu_memory_gib,
                vcpus=inst.vcpus,
                memory_gib=inst.memory_gib,
                **fields,
                price_kind="spot" if spot else "on-demand",
                usd_per_hour=price,
                usd_per_million_tokens=usd_per_million_tokens(price, gen),
                tokens_per_s_per_usd_hour=tokens_per_s_per_usd_hour(price, gen),
                as_of=inst.as_of,
                source=inst.source,
                assumptions=assumptions,
                notes=notes,
                **_age_fields(inst.as_of, own),
            )
        )
    cands.sort(key=rank_key)
    rec = Recommendation(
        model=resolved.spec.name,
        params=resolved.spec.params,
        quant=resolved.quant.name,
        context=settings.context,
        model_source=resolved.source,
        target_tokens_per_s=target_tokens_per_s,
        max_usd_per_hour=max_usd_per_hour,
        providers=sorted(provs) if provs else None,
        spot=spot,
        candidates=cands,
        considered=considered,
        stopped_early=stopped_early,
        skipped=dict(sorted(skipped.items(), key=lambda kv: -kv[1])),
        prices_as_of=sorted({c.as_of for c in cands if c.as_of}),
        price_sources=sorted({c.source for c in cands if c.source}),
        formulas=[USD_PER_MTOK_FORMULA],
        assumptions=[
            cpu_bandwidth_rule_text() + "; no measurement of a rented host",
            f"CPU FLOPS of a cloud host: vCPUs (x86: /{A.value('cloud_x86_vcpus_per_core'):g} for SMT) x "
            f"{A.value('cloud_cpu_mhz') / 1000:g} GHz x 32 (AVX2 FMA) or 16 (Arm NEON) FLOP/cycle (assumed)",
            "GPU memory per GPU from the catalog where given, otherwise from the GPU profile; bandwidth and FLOPS from the GPU profile",
            "speeds are estimates for llama.cpp, one stream (batch 1), at the given context",
        ],
    )
    if concurrency is not None:
        rec.concurrency = concurrency
        rec.ranked_by = (
            "USD per million tokens at "
            + (f"{concurrency} sequences at once" if concurrency != "auto" else "each row's best concurrency (the most sequences at which every user still gets the target)")
            + "; rows meeting the per-user target first"
        )
        rec.formulas = [cost.USD_PER_MTOK_SERVING_TEXT]
        rec.assumptions[-1] = "speeds are estimates for llama.cpp serving the row's concurrency (batched decoding, llama.cpp -np), at the given context per sequence"
    if resolved.spec.assumed_from:
        rec.assumptions.insert(0, f"layer shape assumed from {resolved.spec.assumed_from} ({resolved.source})")
    if buy:
        pool = buy_gpus if buy_gpus is not None else load_gpus(extra_dir)
        if price_overrides:
            pool = apply_price_overrides(pool, price_overrides)
        rec.buy = recommend_buy(
            resolved,
            settings,
            target_tokens_per_s=target_tokens_per_s,
            max_gpus=max_buy_gpus,
            extra_dir=extra_dir,
            est=est,
            gpus=pool,
            ownership=own,
        )
        add_break_even(rec.buy, rec.candidates, own)
        rec.ownership = own.model_dump()
        rec.buy_vs_rent = buy_vs_rent_lines(rec)
        rec.formulas += [cost.OWNED_USD_PER_HOUR_TEXT, cost.BREAK_EVEN_TEXT]
        rec.assumptions += ownership_assumption_lines(own)
    return rec


# ----------------------------------------------------------------------------- buy


def buyable(g: GpuProfile) -> bool:
    return (
        bool(g.memory_gib) and g.backend in ("cuda", "rocm", "sycl", "metal", "vulkan") and (g.form or "") not in ("laptop", "integrated")
    )


def buy_target(g: GpuProfile, n: int) -> tuple[HardwareTarget, list[str]]:
    gt = gpu_target_from_profile(g)
    assumptions: list[str] = []
    host_bw = A.value("buy_host_cpu_bandwidth_gbps")
    if g.unified_memory:
        ram = gt.memory_bytes
        bw = (g.bandwidth_gbps or host_bw) * A.value("unified_cpu_bandwidth_share")
        assumptions.append(unified_memory_note())
    else:
        ram = int(max(A.value("buy_host_ram_min_gib"), A.value("buy_host_ram_per_vram") * n * (g.memory_gib or 0)) * GiB)
        bw = host_bw
        assumptions.append(f"host assumed: {ram / GiB:.0f} GiB RAM, {bw:.0f} GB/s CPU memory bandwidth")
    t = HardwareTarget(
        label=f"{n} x {g.name}",
        gpus=[gt] * n,
        ram_bytes=ram,
        ram_source="assumed",
        cpu_bandwidth_gbps=bw,
        cpu_bandwidth_source="assumed",
        cpu_tflops=A.value("buy_host_cpu_tflops"),
        cpu_tflops_source="assumed",
        cpu_cores=int(A.value("buy_host_cpu_cores")),
    )
    return t, assumptions


def recommend_buy(
    resolved: ResolvedModel,
    settings: EstimateSettings,
    *,
    target_tokens_per_s: float | None,
    max_gpus: int = 8,
    extra_dir: str | None = None,
    est: _Estimator | None = None,
    gpus: list[GpuProfile] | None = None,
    ownership: Ownership | None = None,
) -> list[Candidate]:
    """For each buyable GPU profile, the fewest GPUs (1..max_gpus) that hold the model fully (and meet the target).

    A complete system priced with its memory size (a Mac Studio with 96 GB) is estimated with that memory: it is
    the machine the price buys, not the largest configuration the chip comes in.
    """
    est = est or _Estimator(resolved, settings)
    own = ownership or Ownership.default()
    out: list[Candidate] = []
    for g in gpus if gpus is not None else load_gpus(extra_dir):
        if g.unified_memory and g.price_usd and g.price_memory_gib and g.price_memory_gib != g.memory_gib:
            g = g.model_copy(update={"memory_gib": g.price_memory_gib})
        if not buyable(g):
            continue
        counts = [1] if g.unified_memory else list(range(1, max_gpus + 1))
        best: tuple[int, FitEstimate, list[str]] | None = None
        for n in counts:
            t, assumptions = buy_target(g, n)
            fit = est(t)
            if fit.verdict == "gpu":
                # the fewest that hold it: more GPUs of one kind split the layers (llama.cpp's default
                # layer split), they do not add bandwidth per token, so speed would not improve
                best = (n, fit, assumptions)
                break
        if best is None:
            continue
        n, fit, assumptions = best
        fields = _fit_fields(fit, target_tokens_per_s)
        priced = bool(g.price_usd and g.price_source)
        owned = _ownership_fields(g, n, serving_tokens_per_s(fields), own) if priced else {}
        notes = owned.pop("notes", []) if priced else ['no purchase price known (give one with --price "GPU=USD")']
        if priced and g.price_what and g.price_kind == COMPLETE_SYSTEM:
            notes.insert(0, f"priced as a complete system: {g.price_what}")
        out.append(
            Candidate(
                option="buy",
                gpu_model=g.name,
                gpu_profile=g.name,
                gpu_count=n,
                gpu_memory_gib=g.memory_gib,
                **fields,
                price_kind="purchase" if priced else None,
                as_of=g.price_as_of if priced else g.as_of,
                source=g.price_source if priced else g.source,
                assumptions=assumptions,
                notes=notes,
                **owned,
            )
        )
    out.sort(
        key=lambda c: (
            0 if c.meets_target else 1,
            c.purchase_usd if c.purchase_usd is not None else float("inf"),
            c.gpu_count,
            -c.gen_tokens_per_s,
        )
    )
    return out


def _age_fields(as_of: str | None, own: Ownership) -> dict[str, Any]:
    age = cost.price_age_days(as_of, own.today)
    return {"price_age_days": age, "price_stale": age is not None and age > own.stale_days}


def _ownership_fields(g: GpuProfile, n: int, gen_tokens_per_s: float, own: Ownership) -> dict[str, Any]:
    """Purchase (GPUs + host allowance, or a complete system's price), power, owned cost per hour and per million tokens."""
    assert g.price_usd is not None
    complete = (g.price_kind or "") == COMPLETE_SYSTEM
    gpus_usd = g.price_usd * n
    host_usd = 0.0 if complete else own.host_usd
    notes: list[str] = []
    if g.tdp_w:
        watts: float | None = g.tdp_w * n + (0.0 if complete else own.host_power_w)
    else:
        watts = None
        notes.append("power draw unknown (no board power in the GPU profile): power cost not included")
    power_hr = cost.power_usd_per_hour(watts or 0.0, own.usd_per_kwh)
    owned_hr = cost.owned_usd_per_hour(gpus_usd + host_usd, watts or 0.0, own.usd_per_kwh, own.hours_per_day, own.writeoff_years)
    return {
        "purchase_usd": gpus_usd + host_usd,
        "purchase_source": g.price_source,
        "purchase_price_kind": g.price_kind,
        "purchase_what": g.price_what,
        "gpus_usd": gpus_usd,
        "host_usd": host_usd,
        "power_w": watts,
        "power_usd_per_hour": round(power_hr, 4) if watts is not None else None,
        "owned_usd_per_hour": round(owned_hr, 4),
        "owned_usd_per_million_tokens": usd_per_million_tokens(owned_hr, gen_tokens_per_s),
        "notes": notes,
        **_age_fields(g.price_as_of, own),
    }


def cheapest_rental(candidates: list[Candidate]) -> Candidate | None:
    """The cheapest rented instance that meets the target (the one buying is weighed against)."""
    ok = [c for c in candidates if c.option == "rent" and c.meets_target and c.usd_per_hour]
    return min(ok, key=lambda c: (c.usd_per_hour, c.name)) if ok else None


def add_break_even(buy: list[Candidate], candidates: list[Candidate], own: Ownership) -> None:
    """Fill each priced buy row's break-even against the cheapest rental meeting the same target."""
    rent = cheapest_rental(candidates)
    if rent is None or rent.usd_per_hour is None:
        return
    for b in buy:
        if b.purchase_usd is None or not b.meets_target:
            continue
        b.break_even_vs = rent.name
        b.break_even_rent_usd_per_hour = rent.usd_per_hour
        hours = cost.break_even_hours(b.purchase_usd, rent.usd_per_hour, b.power_usd_per_hour or 0.0)
        b.break_even_hours = round(hours, 1) if hours is not None else None
        b.break_even_months = round(cost.hours_to_months(hours, own.hours_per_day), 2) if hours is not None else None


def ownership_assumption_lines(own: Ownership) -> list[str]:
    return [
        f"buying: a host system allowance of {own.host_usd:,.0f} USD and {own.host_power_w:g} W is added to bought GPUs "
        "(not to complete systems such as a Mac Studio, DGX Spark or Jetson kit)",
        f"buying: power = GPU board power (profile's TDP, the most it draws) x count + host, at {own.usd_per_kwh:g} USD/kWh",
        f"buying: used {own.hours_per_day:g} hours/day; the purchase is written off over {own.writeoff_years:g} years; no resale value",
        f"prices older than {own.stale_days:g} days on {own.today} are flagged as old",
    ]


def buy_vs_rent_lines(rec: Recommendation) -> list[str]:
    """One line per priced configuration meeting the target: when buying it pays off against the cheapest rental."""
    priced = [b for b in rec.buy if b.purchase_usd and b.meets_target]
    if not any(b.purchase_usd for b in rec.buy):
        return ['no purchase price known for any GPU that holds it: no buy-versus-rent comparison (give one with --price "GPU=USD")']
    rent = cheapest_rental(rec.candidates)
    if rent is None:
        return ["no rented instance meets the target: no buy-versus-rent comparison"]
    if not priced:
        return ["no priced configuration to buy meets the target: no buy-versus-rent comparison"]
    lines: list[str] = []
    for b in priced[:5]:
        assert b.purchase_usd is not None
        when = (
            f"pays off after {b.break_even_hours:,.0f} hours of use ({b.break_even_months:,.1f} months at {rec.ownership['hours_per_day'] if rec.ownership else '?'} h/day)"
            if b.break_even_hours is not None
            else "never pays off (renting costs no more per hour than the power to own it)"
        )
        lines.append(
            f"buying {b.name} for {b.purchase_usd:,.0f} USD ({b.purchase_price_kind}, as of {b.as_of}) {when} "
            f"against renting {rent.name} at {rent.usd_per_hour:g} USD/hour (as of {rent.as_of})"
        )
    return lines
