"""`hwbench check`: will a model fit here (or on what-if hardware), and how fast?"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from hwbench import assumptions as A
from hwbench.commands._model_options import gguf_option, model_option
from hwbench.errors import BadInput
from hwbench.quant import accepted_quants_text

if TYPE_CHECKING:
    from hwbench.schema import HardwareTarget, HostInfo

REFERENCE_GPUS = ["RTX 4090", "RTX 3090", "A100 PCIe 80 GB", "H100 SXM5 80 GB"]


def _gpu_layers(value: str | None) -> int | None:
    if value is None or value.strip().lower() in ("auto", ""):
        return None
    try:
        n = int(value)
    except ValueError:
        raise BadInput(f"--gpu-layers {value!r} must be a number of layers or 'auto'") from None
    if n < 0:
        raise BadInput(f"--gpu-layers {value!r} must be 0 or more (or 'auto')")
    return n


def _positive(name: str, v: int) -> int:
    if v < 1:
        raise BadInput(f"{name} {v} must be a positive number of tokens")
    return v


def parse_concurrency(value: str | None, *, allow_auto: bool = False) -> int | str | None:
    """--concurrency: a whole number of parallel sequences from 1 (or 'auto' where allowed); BadInput otherwise."""
    if value is None:
        return None
    v = value.strip().lower()
    if allow_auto and v == "auto":
        return "auto"
    try:
        n = int(v)
    except ValueError:
        raise BadInput(f"--concurrency {value!r} must be a whole number of parallel sequences (1 or more){' or auto' if allow_auto else ''}") from None
    if n < 1:
        raise BadInput(f"--concurrency {value} must be at least 1 (parallel sequences, llama.cpp -np)")
    return n


def build_target(
    *,
    gpu: str | None,
    gpus: int | None,
    no_gpu: bool,
    ram: str | None,
    cpu_bandwidth: str | None,
    profiles_dir: str | None,
) -> tuple[HostInfo, HardwareTarget]:
    """This machine (quick detection + calibration, see :func:`hwbench.machine.this_machine`), then what-if overrides."""
    from hwbench.hardware import apply_what_if
    from hwbench.machine import this_machine
    from hwbench.units import parse_bandwidth_gbps, parse_bytes

    ram_b = parse_bytes(ram, "--ram") if ram is not None else None
    bw = parse_bandwidth_gbps(cpu_bandwidth) if cpu_bandwidth is not None else None
    if gpus is not None and gpus < 1:
        raise BadInput(f"--gpus {gpus} must be at least 1")
    machine = this_machine(profiles_dir, include_gpus=not (gpu or no_gpu))
    target = apply_what_if(
        machine.target, gpu=gpu, gpus=gpus, ram_bytes=ram_b, cpu_bandwidth_gbps=bw, no_gpu=no_gpu, extra_dir=profiles_dir
    )
    return machine.host, target


def reference_gpu_targets(profiles_dir: str | None):  # type: ignore[no-untyped-def]
    from hwbench.hardware import gpu_target_from_profile
    from hwbench.profiles import find_gpu

    return [gpu_target_from_profile(find_gpu(n, profiles_dir)) for n in REFERENCE_GPUS]


@click.command("check")
@click.option("--params", help="Model size: 7b, 7.6b, 32B, 500m, 1.5t, or a MoE as 8x7b.")
@click.option("--active-params", help="Parameters active per token (MoE), e.g. 3b.")
@model_option
@gguf_option
@click.option("--quant", "-q", help=f"Quantization (default Q4_K_M): {accepted_quants_text()}.")
@click.option("--context", "-c", type=int, default=8192, show_default=True, help="Context length in tokens.")
@click.option("--kv-type", default="f16", show_default=True, help="KV cache type: f16, q8_0, q4_0.")
@click.option("--flash-attn", type=click.Choice(["on", "off"]), default="on", show_default=True)
@click.option("--batch", "-b", type=int, default=2048, show_default=True, help="Logical batch size (llama.cpp -b).")
@click.option("--ubatch", "-ub", type=int, default=512, show_default=True, help="Micro-batch size (llama.cpp -ub).")
@click.option("--gpu-layers", "-ngl", default="auto", show_default=True, help="Layers to offload, or 'auto'.")
@click.option(
    "--concurrency",
    "-np",
    "concurrency",
    help="Parallel sequences served at once (llama.cpp -np), each with --context tokens; adds aggregate and per-user "
    "speed and the largest concurrency that fits / meets --tokens-per-s. Default: one stream, no concurrency answers.",
)
@click.option("--kv-unified", is_flag=True, help="With --concurrency: one KV buffer shared by the sequences (llama.cpp --kv-unified).")
@click.option(
    "--tokens-per-s",
    "target_tps",
    type=float,
    help=f"With --concurrency: per-user speed target (tokens/s). Default {A.get('target_tokens_per_s').text()} (assumed).",
)
@click.option("--gpu", help="What-if: estimate for this GPU instead of the detected ones (e.g. 'RTX 3090', 'H100 PCIe').")
@click.option("--gpus", type=int, help="What-if: number of GPUs (with --gpu, or multiplies the detected one).")
@click.option("--no-gpu", is_flag=True, help="What-if: ignore GPUs (CPU only).")
@click.option("--ram", help="What-if: system RAM, e.g. 64GB or 64GiB.")
@click.option("--cpu-bandwidth", help="What-if / override: CPU memory bandwidth, e.g. 80GB/s.")
@click.option("--profiles-dir", type=click.Path(file_okay=False), envvar="HWBENCH_PROFILES_DIR", help="Extra profile files.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see README: JSON contract).")
def check(
    params: str | None,
    active_params: str | None,
    model_name: str | None,
    gguf: str | None,
    quant: str | None,
    context: int,
    kv_type: str,
    flash_attn: str,
    batch: int,
    ubatch: int,
    gpu_layers: str,
    concurrency: str | None,
    kv_unified: bool,
    target_tps: float | None,
    gpu: str | None,
    gpus: int | None,
    no_gpu: bool,
    ram: str | None,
    cpu_bandwidth: str | None,
    profiles_dir: str | None,
    as_json: bool,
) -> None:
    """Will a model fit on this machine (or on what-if hardware), and how fast will it run?

    \b
    Examples:
      hwbench check --params 32b --quant q5
      hwbench check --model llama-3.1-70b --quant q4 --context 16384
      hwbench check --model llama-3-8b --quant q4_k_m --gpu "RTX 3090" --context 512 --json
      hwbench check --model llama-3.1-405b --gpu "H100 SXM5 80 GB" --gpus 8
      hwbench check --model Qwen/Qwen3-32B --quant q5        # config.json from the Hugging Face Hub
      hwbench check --model unsloth/Qwen3-30B-A3B-GGUF --quant q4_k_m   # that repo's GGUF header
    """
    from hwbench.estimate import estimate_fit
    from hwbench.resolve import resolve_model
    from hwbench.schema import EstimateSettings

    if gpu is not None and not gpu.strip():
        raise BadInput("--gpu is empty; give a GPU name such as 'RTX 3090' or 'H100 PCIe' (see `hwbench profiles list gpus`)")
    if gpu and no_gpu:
        raise BadInput("--gpu and --no-gpu contradict each other")
    _positive("--context", context)
    _positive("--batch", batch)
    _positive("--ubatch", ubatch)
    parsed = parse_concurrency(concurrency)
    n_seq = parsed if isinstance(parsed, int) else None
    if target_tps is not None and not (target_tps > 0 and target_tps < float("inf")):
        raise BadInput(f"--tokens-per-s {target_tps:g} must be a positive number")
    if (kv_unified or target_tps is not None) and n_seq is None:
        raise BadInput("--kv-unified and --tokens-per-s need --concurrency N")
    settings = EstimateSettings(
        context=context,
        kv_type=kv_type.lower(),
        flash_attn=flash_attn == "on",
        batch=batch,
        ubatch=ubatch,
        gpu_layers=_gpu_layers(gpu_layers),
        concurrency=n_seq or 1,
        kv_unified=kv_unified,
    )
    resolved = resolve_model(model=model_name, params=params, active_params=active_params, gguf=gguf, quant=quant, extra_dir=profiles_dir)
    host, target = build_target(gpu=gpu, gpus=gpus, no_gpu=no_gpu, ram=ram, cpu_bandwidth=cpu_bandwidth, profiles_dir=profiles_dir)
    est = estimate_fit(
        resolved.spec,
        resolved.quant,
        settings,
        target,
        tensors=resolved.tensors,
        model_source=resolved.source,
        size_factor=resolved.size_factor,
        reference_gpus=reference_gpu_targets(profiles_dir),
        concurrency_answers=n_seq is not None,
        target_tokens_per_s=(target_tps or A.TARGET_TOKENS_PER_S) if n_seq is not None else None,
    )
    if n_seq is not None and n_seq > 1 and est.verdict == "none":
        from hwbench.estimate.fit import max_concurrency

        one = max_concurrency(resolved.spec, resolved.quant, settings, target, tensors=resolved.tensors, size_factor=resolved.size_factor)
        if one:  # it fits with fewer sequences: the concurrency asked for is the problem
            raise BadInput(f"--concurrency {n_seq} does not fit at --context {context}: at most {one} sequences of {context} tokens fit here (estimated)")
    est.warnings.extend(host.warnings)
    from hwbench.estimate.advice import tight_fit_advice

    est.tight_fit = tight_fit_advice(est, resolved.spec, resolved.quant, tensors=resolved.tensors, size_factor=resolved.size_factor)
    est.notes[:0] = resolved.notes  # what the resolver assumed (a borrowed shape, its depth), first
    if resolved.spec.context_length and context > resolved.spec.context_length:
        est.warnings.append(f"--context {context} is beyond the model's trained context ({resolved.spec.context_length})")
    if as_json:
        click.echo(json.dumps(est.model_dump(mode="json"), indent=2))
        return
    from hwbench.render import render_fit

    render_fit(est)
