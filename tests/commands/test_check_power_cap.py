"""`hwbench check` says what prompt speed is estimated against on a GPU: the listed FP16 figure, the dense matrix rate
(tensor peak by architecture, capped at the board power: issue 14) and the efficiency for these weights."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from hwbench.cli import main
from hwbench.estimate import speed as spd


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def _entry(ctx: click.Context) -> None:
    main(list(ctx.args))


def run(args: list[str]) -> tuple[int, str]:
    r = CliRunner().invoke(_entry, args, catch_exceptions=False)
    return r.exit_code, r.stdout


BASE = ["check", "--model", "llama-3-8b", "--quant", "Q4_K_M", "--ram", "64GB", "--cpu-bandwidth", "50GB/s"]


def test_power_capped_gpu_says_so_with_the_rate_and_efficiency_used() -> None:
    c = spd.BACKENDS["cuda"]
    code, out = run(BASE + ["--gpu", "H100 PCIe", "--json"])
    assert code == 0
    (dev,) = [d for d in json.loads(out)["speed"]["inputs"]["devices"] if d["backend"] == "cuda"]
    assert dev["power_w"] == 350.0 and dev["power_capped"] is True
    assert dev["matrix_tflops"] == pytest.approx(350.0 * c.matrix_tflops_per_watt, abs=0.05)
    assert dev["flops_efficiency"] == pytest.approx(c.flops_efficiency_quant)  # Q4_K_M: the quantized figure
    code, text = run(BASE + ["--gpu", "H100 PCIe"])
    assert code == 0 and "capped by the 350 W board power" in " ".join(text.split())


def test_gpu_under_its_power_cap_shows_its_tensor_peak() -> None:
    code, out = run(BASE + ["--gpu", "RTX 4090", "--quant", "F16", "--json"])
    assert code == 0
    (dev,) = [d for d in json.loads(out)["speed"]["inputs"]["devices"] if d["backend"] == "cuda"]
    assert dev["power_capped"] is False
    assert dev["matrix_tflops"] == pytest.approx(spd.matrix_tflops("NVIDIA GeForce RTX 4090", "cuda", 82.58), abs=0.05)
    assert dev["flops_efficiency"] == pytest.approx(spd.BACKENDS["cuda"].flops_efficiency)  # F16: the float figure
    code, text = run(BASE + ["--gpu", "RTX 4090", "--quant", "F16"])
    assert code == 0 and "board power" not in text
