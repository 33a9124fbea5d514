"""`hwbench bench`: measure real prompt/generation tokens/s with llama.cpp and PyTorch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


def _parallel(text: str | None, parse_int_list) -> list[int]:  # type: ignore[no-untyped-def]
    """--parallel 1,2,4,8: sequences decoded together, 1..256 (llama.cpp's LLAMA_MAX_SEQ); one line, exit 2 otherwise."""
    from hwbench.errors import BadInput

    if text is None:
        return []
    vals = parse_int_list(text, "--parallel", 1)
    if max(vals) > 256:
        raise BadInput(f"--parallel {text!r}: at most 256 sequences (llama.cpp's limit)")
    return list(dict.fromkeys(vals))


def _fmt_result(r) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    if r.error and r.tokens_per_s is None and r.value is None:
        return (r.test, r.backend, "-", "-", "-", f"error: {r.error}")
    if r.value is not None and r.tokens_per_s is None:
        return (r.test, r.backend, f"{r.value:,.2f} {r.unit}", "", "", "measured")
    sd = r.stddev_tokens_per_s or 0.0
    pct = 100 * sd / r.tokens_per_s if r.tokens_per_s else 0.0
    meas = f"{r.tokens_per_s:,.2f} ± {sd:,.2f} ({pct:.1f}%)"
    pred = f"{r.predicted_tokens_per_s:,.2f}" if r.predicted_tokens_per_s else ""
    perr = f"{r.prediction_error_pct:+.1f}%" if r.prediction_error_pct is not None else ""
    note = "measured"
    if r.extrapolated_from_layers:
        note = f"extrapolated from {r.extrapolated_from_layers} of {r.total_layers} layers"
    from hwbench.report.records import parallel_figures

    pf = parallel_figures(r)
    if pf is not None:  # tg@npN: the aggregate above; per user and the prompt phase here
        note += f"; all {pf.n_parallel} sequences, per user {pf.per_user or 0:,.2f}"
        if pf.prompt is not None:
            note += f"; prompt {pf.prompt:,.2f} tok/s (all)"
            note += f", est. {pf.predicted_prompt:,.2f}" if pf.predicted_prompt is not None else ""
    if r.error:
        note += f"; error: {r.error}"
    return (r.test, r.backend, meas, pred, perr, note)


@click.command("bench")
@click.option(
    "--gguf", help="Benchmark this GGUF file; a URL or hf://ORG/NAME/FILE.gguf: a synthetic model of its shape (header read only)."
)
@click.option(
    "--model", help="Benchmark a synthetic model of this architecture: a bundled name (llama-3.1-8b) or a Hub id (Qwen/Qwen3-8B)."
)
@click.option("--params", help="Benchmark a synthetic model of about this size (e.g. 8b, 70b, 8x7b).")
@click.option("--quant", help="GGUF type of the synthetic model (default Q4_K_M); with --gguf, must match the file.")
@click.option("--layers", type=int, help="Slice mode: run only K layers of the model and extrapolate to full depth.")
@click.option("--force", is_flag=True, help="Run even when the estimator says it will not fit.")
@click.option("--threads", "-t", help="CPU threads; comma-separated values sweep (default: all usable cores).")
@click.option("--reps", "-r", default=5, show_default=True, type=int, help="Timed repetitions per test.")
@click.option("--n-prompt", "-p", default="512", show_default=True, help="Prompt tokens (pp test); comma-separated sweep; 0 skips.")
@click.option("--n-gen", "-n", default="128", show_default=True, help="Generated tokens (tg test); comma-separated sweep; 0 skips.")
@click.option("--depth", "-d", default="0", show_default=True, help="Tokens of context before the test (tg128@d4096).")
@click.option(
    "--parallel",
    "-npl",
    help="Batched decoding like llama-batched-bench: for each N (comma-separated, e.g. 1,2,4,8) a tg<n>@np<N> test, "
    "N sequences each with its own prompt (--depth tokens, at least 1; prompt phase timed, in -b sized batches) then decoded "
    "together; aggregate and per-sequence generation tokens/s, aggregate prompt tokens/s.",
)
@click.option("--gpu-layers", "-ngl", default="99", show_default=True, help="Layers offloaded to the GPU; sweepable.")
@click.option("--batch", "-b", default="2048", show_default=True, help="Logical batch size; sweepable.")
@click.option("--ubatch", "-ub", default="512", show_default=True, help="Physical micro-batch size; sweepable.")
@click.option("--flash-attn", "-fa", default="auto", show_default=True, help="on, off or auto; sweepable.")
@click.option("--kv-type", default="f16", show_default=True, help="KV cache type (f16, q8_0, q4_0 or K/V like q8_0/f16); sweepable.")
@click.option(
    "--micro", is_flag=True, help="Also run PyTorch microbenchmarks (memory bandwidth, matmul, copies) and a PyTorch decode test."
)
@click.option("--micro-only", is_flag=True, help="Run only the PyTorch microbenchmarks.")
@click.option(
    "--kernels/--no-kernels",
    default=None,
    help="Measure llama.cpp's CPU decode kernels per weight type at 1, 2, 4, 8 sequences on two matmul-only probe models "
    "(long and short rows; about 40 s per type), and decode attention per head and context position on two small "
    "models (heads of 64 and 128, after 8 and 128 prompt tokens; about 1 minute), for check/recommend on this machine. "
    "Default: once per machine (CPU-only, when the calibration has none for these threads and this llama-cpp-python, "
    "or one from an older probe).",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Results directory (default: the user data dir).")
@click.option("--profiles-dir", type=click.Path(file_okay=False), envvar="HWBENCH_PROFILES_DIR", help="Extra profile files (models, GPUs).")
@click.option("--json", "as_json", is_flag=True, help="Print the results record as JSON on stdout.")
@click.option("--timeout", "timeout_s", default=1800.0, show_default=True, type=float, help="Seconds allowed per child process.")
def bench(
    gguf: str | None,
    model: str | None,
    params: str | None,
    quant: str | None,
    layers: int | None,
    force: bool,
    threads: str | None,
    reps: int,
    n_prompt: str,
    n_gen: str,
    depth: str,
    parallel: str | None,
    gpu_layers: str,
    batch: str,
    ubatch: str,
    flash_attn: str,
    kv_type: str,
    micro: bool,
    micro_only: bool,
    kernels: bool | None,
    out: Path | None,
    profiles_dir: str | None,
    as_json: bool,
    timeout_s: float,
) -> None:
    """Measure real prompt-processing and generation tokens/s, llama-bench style.

    Without --gguf, a synthetic GGUF of the target shape (random weights, the exact tensor types
    llama.cpp's quantizer would produce) is written to the cache, so nothing is downloaded.
    Each measurement runs in a child process; results go to a versioned JSON record.
    """
    from rich.console import Console

    from hwbench.bench import BenchOptions, run_bench
    from hwbench.bench.options import default_threads, parse_int_list, parse_str_list
    from hwbench.bench.runner_llamacpp import FLASH_ATTN, KV_TYPES
    from hwbench.errors import BenchError

    err = Console(stderr=True, highlight=False)
    progress_bar = None

    def say(msg: str) -> None:
        err.print(f"[dim]{msg}[/dim]")

    def write_progress(done: int, total: int) -> None:
        nonlocal progress_bar
        from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

        if progress_bar is None:
            progress_bar = Progress(
                "writing synthetic model", BarColumn(), DownloadColumn(), TimeRemainingColumn(), console=err, transient=True
            )
            progress_bar.start()
            progress_bar.add_task("w", total=total)
        progress_bar.update(progress_bar.task_ids[0], completed=done)
        if done >= total:
            progress_bar.stop()

    opts = BenchOptions(
        gguf=gguf,
        model=model,
        params=params,
        quant=quant,
        profiles_dir=profiles_dir,
        layers=layers,
        force=force,
        threads=parse_int_list(threads, "--threads", 1) if threads is not None else [default_threads()],
        reps=reps,
        n_prompt=parse_int_list(n_prompt, "--n-prompt"),
        n_gen=parse_int_list(n_gen, "--n-gen"),
        depth=parse_int_list(depth, "--depth"),
        parallel=_parallel(parallel, parse_int_list),
        gpu_layers=parse_int_list(gpu_layers, "--gpu-layers"),
        batch=parse_int_list(batch, "--batch", 1),
        ubatch=parse_int_list(ubatch, "--ubatch", 1),
        flash_attn=parse_str_list(flash_attn, "--flash-attn", tuple(FLASH_ATTN)),
        kv_type=parse_str_list(kv_type, "--kv-type", KV_TYPES),
        micro=micro or micro_only,
        llamacpp=not micro_only,
        kernels=kernels,
        out=out,
        timeout_s=timeout_s,
        progress=say,
        write_progress=write_progress,
    )
    record = run_bench(opts)
    if as_json:
        click.echo(json.dumps(record.model_dump(mode="json"), indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        out_c = Console(highlight=False)
        m = record.model
        if m:
            out_c.print(f"{m.get('name')} {m.get('quant')} ({'synthetic' if m.get('synthetic') else m.get('file')}), run {record.run_id}")
        t = Table("test", "backend", "measured tokens/s (mean ± sd)", "predicted", "pred. error", "source")
        for r in record.results:
            t.add_row(*_fmt_result(r))
        out_c.print(t)
        for n in record.notes:
            out_c.print(f"note: {n}")
        if record.load_time_ns:
            out_c.print(f"load time {record.load_time_ns / 1e9:.2f}s, peak RSS {(record.peak_rss_bytes or 0) / 2**30:.2f} GiB")
    if opts.record_path is not None:
        print(f"results written to {opts.record_path}", file=sys.stderr)
    if record.error:
        raise BenchError(f"{record.error} (finished repetitions are kept in {opts.record_path})")
