"""Tiny synthetic models written in the test session (a few MB), shared by the bench tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwbench.bench.synth import SynthModel, tiny_spec, write_synthetic
from hwbench.schema import HardwareTarget, ModelSpec


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> SynthModel:
    d = tmp_path_factory.mktemp("tiny-gguf")
    return write_synthetic(tiny_spec(n_layer=4), "Q4_K_M", path=d / "tiny-llama-q4km.gguf")


@pytest.fixture
def tiny_spec_4() -> ModelSpec:
    return tiny_spec(n_layer=4)


@pytest.fixture
def roomy_hw() -> HardwareTarget:
    return HardwareTarget(label="test box", ram_bytes=16 * 2**30, cpu_bandwidth_gbps=20.0, cpu_tflops=0.5, cpu_cores=2)


@pytest.fixture
def tiny_hw() -> HardwareTarget:
    """A fake machine with 64 MiB of RAM: nothing but the tiniest slice fits."""
    return HardwareTarget(label="fake tiny box", ram_bytes=64 * 2**20, cpu_bandwidth_gbps=20.0, cpu_tflops=0.5, cpu_cores=2)


def small_opts(**kw: object):  # type: ignore[no-untyped-def]
    from hwbench.bench import BenchOptions

    base = dict(threads=[2], reps=2, n_prompt=[32], n_gen=[8], timeout_s=120.0, save_calibration=False)
    base.update(kw)
    return BenchOptions(**base)  # type: ignore[arg-type]


@pytest.fixture
def opts_factory():  # type: ignore[no-untyped-def]
    return small_opts


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "results"
