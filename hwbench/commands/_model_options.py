"""The --model and --gguf options of the commands that estimate a model (check, recommend): one wording of what they accept."""

from __future__ import annotations

import click

model_option = click.option(
    "--model",
    "model_name",
    help="A bundled model (llama-3.1-8b; `hwbench profiles list models`), a Hugging Face repo id (Qwen/Qwen3-32B[@REV]) "
    "or Hub URL; a GGUF repo's file is chosen by --quant. Reads config.json or the GGUF header only, never the weights.",
)
gguf_option = click.option(
    "--gguf",
    help="A GGUF file's header for exact tensor sizes: a local path, an https:// URL or hf://ORG/NAME/FILE.gguf "
    "(read with HTTP range requests; split -00001-of-N files are summed).",
)
