"""`hwbench synth`: write the synthetic GGUF that `hwbench bench` would measure, to a file of your choice.

Random weights in the model's real tensor shapes, with the per-tensor quantization mix llama.cpp's
quantizer would produce for ``--quant`` and a tokenizer of unique placeholder tokens: enough for
llama.cpp to load it, allocate every buffer and run at full speed, useless for text. Use it to
test a llama.cpp build, or to compare `hwbench check --gguf FILE` with what llama.cpp allocates.
"""

from __future__ import annotations

from pathlib import Path

import click

from hwbench.errors import BadInput


@click.command("synth")
@click.option("--model", help="Known model (profile name), e.g. qwen3-30b-a3b, gemma-3-27b.")
@click.option("--params", help="Or a size (e.g. 8b, 70b): the closest known dense shape, in whole layers.")
@click.option("--quant", help="GGUF type of the file (default Q4_K_M): q4, Q5_K_M, Q8_0, MXFP4_MOE, F16 ...")
@click.option("--layers", type=int, help="Write only K of the model's layers (spread over its depth), as bench's slice mode does.")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False), help="The .gguf file to write.")
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@click.option("--profiles-dir", type=click.Path(file_okay=False), envvar="HWBENCH_PROFILES_DIR", help="Extra model profiles.")
def synth(
    model: str | None,
    params: str | None,
    quant: str | None,
    layers: int | None,
    output: str,
    force: bool,
    profiles_dir: str | None,
) -> None:
    """Write a synthetic GGUF of a model's real shape (random weights) for llama.cpp.

    \b
    Examples:
      hwbench synth --model llama-3.1-8b --quant q4 -o llama8b-q4.gguf
      hwbench synth --model deepseek-v3 --quant Q4_K_M --layers 4 -o ds3-4layers.gguf
      hwbench check --gguf llama8b-q4.gguf        # the estimate for exactly that file
    """
    from hwbench.bench.synth import write_synthetic
    from hwbench.resolve import resolve_model

    if not (model or params):
        raise BadInput("say which model: --model NAME or --params SIZE (synth writes a shape; it does not read one from --gguf)")
    if layers is not None and layers < 1:
        raise BadInput(f"--layers {layers}: must be at least 1")
    out = Path(output)
    if out.suffix.lower() != ".gguf":
        raise BadInput(f"-o {output}: the file name must end in .gguf")
    if out.exists() and not force:
        raise BadInput(f"-o {output}: the file exists; pass --force to overwrite it")
    if not out.parent.is_dir():
        raise BadInput(f"-o {output}: directory {out.parent} does not exist")
    r = resolve_model(model=model, params=params, quant=quant, extra_dir=profiles_dir)
    if not r.quant.is_gguf:
        raise BadInput(f"--quant {quant}: a GGUF file needs a GGUF type (e.g. Q4_K_M, Q8_0, F16)")
    spec = r.spec
    if r.size_factor != 1.0:
        from hwbench.arch import count_params

        spec = spec.model_copy(update={"params": count_params(spec)})
    sm = write_synthetic(spec, r.quant.name, layers=layers, path=out)
    part = f", {sm.layers_written} of {sm.total_layers} layers" if sm.is_slice else f", {sm.total_layers} layers"
    click.echo(f"{out}: {spec.name} ({spec.arch}{part}), {r.quant.name}, {len(sm.tensors)} tensors, {sm.file_bytes / 2**30:.2f} GiB")
    click.echo("random weights: llama.cpp loads and runs it at full speed, but its output is meaningless", err=True)
    for note in r.notes:
        click.echo(f"note: {note}", err=True)
