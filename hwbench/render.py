"""Human output of `hwbench check` (rich tables). Data to stdout; warnings to stderr."""

from __future__ import annotations

from typing import Any

from hwbench.schema import FitEstimate, TightFit
from hwbench.units import fmt_bytes, fmt_params

VERDICT_STYLE = {"gpu": "bold green", "partial": "bold yellow", "cpu": "bold cyan", "none": "bold red"}


def render_fit(est: FitEstimate) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=130)
    err = Console(stderr=True, highlight=False)
    m = est.model
    s = est.settings
    hw = est.hardware
    out.print(
        f"[bold]{escape(m.name)}[/bold]  {fmt_params(m.params)} params"
        + (f" ({fmt_params(m.active_params)} active)" if m.active_params != m.params else "")
        + f", {m.quant} ({m.bits_per_weight:.2f} bits/weight, from the per-tensor mix), {m.n_layer} layers  [dim]({escape(m.source)})[/dim]"
    )
    out.print(
        f"context {s.context}, KV {s.kv_type}, flash-attn {'on' if s.flash_attn else 'off'}, "
        f"batch {s.batch}/ubatch {s.ubatch}  on  [bold]{escape(hw.label)}[/bold]"
    )
    out.print(f"\nVerdict: [{VERDICT_STYLE[est.verdict]}]{est.verdict.upper()}[/] - {est.verdict_text}")
    if est.verdict == "none":
        out.print(f"  short by {fmt_bytes(-est.headroom_bytes)} (estimated)")
    else:
        out.print(f"  headroom {fmt_bytes(est.headroom_bytes)} in the tightest memory pool (estimated)")
    if est.tight_fit is not None:
        _render_tight_fit(out, est.tight_fit)

    t = Table(title="Memory (estimated)", title_justify="left")
    for col in ("device", "layers", "weights", "KV cache", "compute", "output", "overhead", "total", "capacity", "free after"):
        t.add_column(col, justify="left" if col == "device" else "right")
    for d in est.memory.per_device:
        free = d.capacity_bytes - d.total_bytes
        t.add_row(
            escape(_short(d.device)),
            str(d.layers),
            fmt_bytes(d.weights_bytes),
            fmt_bytes(d.kv_cache_bytes),
            fmt_bytes(d.compute_bytes),
            fmt_bytes(d.output_bytes),
            fmt_bytes(d.overhead_bytes),
            fmt_bytes(d.total_bytes),
            fmt_bytes(d.capacity_bytes),
            f"[{'green' if free >= 0 else 'red'}]{fmt_bytes(free)}[/]",
        )
    mm = est.memory
    t.add_row(
        "[bold]total[/bold]",
        str(est.total_layers),
        fmt_bytes(mm.weights_bytes),
        fmt_bytes(mm.kv_cache_bytes),
        fmt_bytes(mm.compute_bytes),
        fmt_bytes(mm.output_bytes),
        fmt_bytes(mm.overhead_bytes),
        fmt_bytes(mm.total_bytes),
        "",
        "",
    )
    out.print(t)
    if est.speed and est.verdict != "none":
        sp = est.speed
        out.print(
            f"Speed (estimated, for {escape(sp.engine)}): generation [bold]{sp.generation_tokens_per_s:.1f} tok/s[/bold], "
            f"prompt processing [bold]{sp.prompt_tokens_per_s:.0f} tok/s[/bold]"
        )
        for d in sp.inputs.get("devices", []):
            flops = f"{d['tflops']} TFLOPS"
            if "matrix_tflops" in d:  # GPUs: the listed FP16 figure, and the dense matrix rate prompts are estimated at
                cap = f", capped by the {d['power_w']:g} W board power" if d.get("power_capped") else ""
                flops = f"{d['tflops']} TFLOPS listed, {d['matrix_tflops']} TFLOPS dense matrix{cap},"
            out.print(
                f"  {escape(d['device'])}: {d['layers']} layers, {fmt_bytes(d['weight_bytes_per_token'])}/token read at "
                f"{d['bw_efficiency']:.0%} of {d['bandwidth_gbps']} GB/s, {flops} x {d['flops_efficiency']}"
            )
        src = {
            "measured": "measured",
            "probed": "probed (hwbench's quick CPU probe; `hwbench bench` calibrates)",
            "assumed": "assumed (run `hwbench bench --micro` to measure)",
            "user": "given",
            "profile": "from profile",
        }.get(hw.cpu_bandwidth_source, hw.cpu_bandwidth_source)
        out.print(
            f"  CPU memory bandwidth {hw.cpu_bandwidth_gbps:.1f} GB/s ({src}), CPU fp32 peak {hw.cpu_tflops:.3g} TFLOPS ({hw.cpu_tflops_source}); {sp.basis}"
        )
    if est.concurrency is not None:
        _render_concurrency(out, est)
    out.print("")
    if est.best_quant_gpu or est.best_quant_any:
        if est.best_quant_gpu:
            out.print(f"Best quant fully on GPU at this context: [bold]{est.best_quant_gpu}[/bold]")
        out.print(f"Best quant that runs here at all: [bold]{est.best_quant_any or 'none'}[/bold]")
    if est.max_context:
        parts = [f"{k}: {v if v is not None else 'does not fit'}" for k, v in est.max_context.items()]
        per = f", per sequence with {s.concurrency} sequences" if s.concurrency > 1 else ""
        out.print("Longest context that fits (" + m.quant + per + "): " + ", ".join(parts))
    if est.gpus_needed:
        parts = [f"{n if n else '>64'} x {escape(name)}" for name, n in est.gpus_needed.items()]
        out.print("GPUs needed to hold it fully: " + "; ".join(parts))
    for n in est.notes + hw.notes:
        out.print(f"[dim]note: {escape(n)}[/dim]")
    for w in est.warnings:
        err.print(f"[yellow]warning:[/yellow] {escape(w)}")


def _render_concurrency(out: Any, est: FitEstimate) -> None:
    """Serving several sequences at once (--concurrency): aggregate and per-user speed, and the largest concurrencies."""
    from rich.markup import escape

    c = est.concurrency
    assert c is not None
    ctx = est.settings.context
    out.print(
        f"Concurrency (estimated): {c.n_seq} sequences x {ctx} tokens: aggregate generation "
        f"[bold]{c.aggregate_generation_tokens_per_s:.1f} tok/s[/bold], per user [bold]{c.per_user_generation_tokens_per_s:.1f} tok/s[/bold] "
        f"({c.bound}-bound); aggregate prompt [bold]{c.prompt_tokens_per_s:.1f} tok/s[/bold] (shared by the users); "
        "the speed above is one stream alone"
    )
    fits = c.max_concurrency_fits
    out.print(
        f"  largest concurrency that fits at {ctx} tokens ({est.verdict} placement): "
        + (f"{fits}" + (f" (llama.cpp's limit, {c.limit})" if fits == c.limit else "") if fits else "none")
    )
    if c.target_tokens_per_s:
        tgt = c.max_concurrency_meeting_target
        out.print(
            f"  largest at which every user still gets >= {c.target_tokens_per_s:g} tok/s: "
            + (str(tgt) if tgt else "none (not even one stream)")
        )
    out.print(f"  [dim]{escape(c.basis)}[/dim]")


def _render_tight_fit(out: Any, tight: TightFit) -> None:
    """A tight fit: why the headroom may not be there, and what gives room (estimated, same layer split)."""
    from rich.markup import escape

    out.print(f"  [bold yellow]tight fit[/bold yellow]: {escape(tight.reason)}")
    if not tight.suggestions:
        out.print("  nothing among a smaller quant, a shorter context or a q8_0 KV cache gives room here")
        return
    out.print(f"  what gives room in {escape(_short(tight.pool))} (estimated, same layer split):")
    width = max(len(sg.change) for sg in tight.suggestions)
    for sg in tight.suggestions:
        out.print(f"    {escape(sg.change.ljust(width))}  frees {fmt_bytes(sg.frees_bytes)} (headroom then {fmt_bytes(sg.headroom_bytes)})")


def _short(device: str) -> str:
    for noise in ("NVIDIA GeForce ", "NVIDIA ", "AMD Radeon Instinct ", "AMD Radeon ", "Intel "):
        device = device.replace(noise, "")
    return device
