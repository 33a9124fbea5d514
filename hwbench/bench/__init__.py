"""``hwbench bench``: real tokens/s with llama.cpp and PyTorch.

Public API:

- :class:`BenchOptions` -- everything the CLI parsed.
- :func:`run_bench` -- resolve the model (GGUF, profile name, or --params: :mod:`hwbench.resolve`, as
  `check` does), check memory with the estimator, write a synthetic GGUF when needed (full or a slice),
  run each measurement in a child process, attach the estimator's prediction, write the record, save
  the calibration.
- :mod:`hwbench.bench.synth` -- :func:`write_synthetic`.
- :mod:`hwbench.bench.isolation` -- :func:`run_child`.

Parent side (this process): ``orchestrate`` -> ``target``, ``llamacpp_part``, ``torch_part``, ``predict``,
``records``. Child side (``python -m hwbench.bench.child``): ``runner_llamacpp``, ``runner_torch``; it
imports nothing of the parent side (tests/bench/test_layering.py).
"""

from __future__ import annotations

from hwbench.bench.options import BenchOptions
from hwbench.bench.orchestrate import run_bench

__all__ = ["BenchOptions", "run_bench"]
