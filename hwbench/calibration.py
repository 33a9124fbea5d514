"""Measured figures that replace assumptions in `hwbench check` on the machine they were measured on.

`hwbench bench` saves them; `check` loads them (a small JSON file in the data dir) and says
"calibrated from run …". A calibration from another machine (different CPU model or core count)
is ignored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from hwbench.atomicio import write_text_atomic
from hwbench.paths import data_dir

if TYPE_CHECKING:
    from hwbench.schema import HostInfo

# whether a stored CPU kernel table applies to a run (Calibration.kernels_fit), or why not
KernelsFit = Literal["apply", "none stored", "older probe", "other llama-cpp-python", "other threads"]


class Calibration(BaseModel):
    model_config = ConfigDict(extra="ignore")

    run_id: str
    created_at: str
    machine_key: str  # cpu model + logical cores + RAM size: a calibration applies to that machine only
    cpu_bandwidth_gbps: float | None = None  # measured memory read bandwidth (GB/s)
    cpu_gen_efficiency: float | None = None  # measured tg tokens/s x bytes per token / bandwidth
    cpu_pp_tflops: float | None = None  # effective prompt-processing throughput measured on the CPU
    source_test: str | None = None
    # llama.cpp's CPU decode kernels measured on a matmul-only probe model (hwbench/bench/kernels.py): seconds per
    # weight element per decode step of n sequences, {ggml type: {n: s}} (JSON keys are strings), at these threads
    cpu_kernels: dict[str, dict[int, float]] | None = None
    # and per weight row (two probe shapes, hwbench/bench/kernels.py), for the types where short rows cost more
    cpu_kernel_rows: dict[str, dict[int, float]] | None = None
    # and decode attention per (sequence, query head, layer, context position), {head size: s} (the attention probes)
    cpu_attention: dict[int, float] | None = None
    cpu_kernel_threads: int | None = None
    cpu_kernels_llama: str | None = None  # llama-cpp-python version they were measured with
    cpu_kernels_run_id: str | None = None
    speed_model: str | None = None  # which speed formulas the figures were derived for (see speed_model_id)

    def kernels_fit(self, threads: int, llama_version: str | None) -> KernelsFit:
        """Whether the stored CPU kernel table applies to a run at ``threads`` threads with llama-cpp-python
        ``llama_version`` ("apply"), or why not. The one home of this rule: `check` uses the table only where it
        applies (hwbench/hardware.py), `bench` measures it again where it does not (hwbench/bench/orchestrate.py)."""
        if not self.cpu_kernels:
            return "none stored"
        if self.cpu_kernel_rows is None:
            return "older probe"  # one probe shape only (before hwbench 2026-12-03's row term): over-estimates short rows
        if self.cpu_attention is None:
            return "older probe"  # no attention probe (before hwbench 2026-12-04): the kernel table then holds its share
        if self.cpu_kernels_llama != llama_version:
            return "other llama-cpp-python"
        if self.cpu_kernel_threads != threads:
            return "other threads"
        return "apply"


def speed_model_id() -> str:
    """Identifies the speed formulas in force: hwbench/estimate/speed.py's SPEED_MODEL_VERSION.

    Calibrated figures are back-solved through those formulas (the peak at which the estimator
    reproduces a measurement), so a calibration made under other formulas would mislead: it is
    ignored, and the next bench makes a new one. The version is bumped by hand when the formulas'
    results change (not when a comment does), so users keep their calibration otherwise.
    """
    from hwbench.estimate.speed import SPEED_MODEL_VERSION

    return SPEED_MODEL_VERSION


def calibration_path() -> Path:
    return data_dir() / "calibration.json"


def machine_key(cpu_model: str | None, logical_cores: int | None, ram_bytes: int | None) -> str:
    ram_gib = round((ram_bytes or 0) / 2**30)
    return f"{cpu_model or '?'}|{logical_cores or '?'}|{ram_gib}GiB"


def machine_key_for(host: HostInfo) -> str:
    """machine_key of a detected host: its CPU model, logical cores and total RAM."""
    return machine_key(host.cpu.model, host.cpu.logical_cores, host.memory.total_bytes)


def load_calibration(key: str | None = None, path: Path | None = None) -> Calibration | None:
    p = path or calibration_path()
    try:
        raw = p.read_text(encoding="utf-8")
        cal = Calibration(**json.loads(raw))
    except (OSError, ValueError, TypeError, ValidationError):
        return None
    if key is not None and cal.machine_key != key:
        return None
    if cal.speed_model != speed_model_id():
        return None
    return cal


def save_calibration(cal: Calibration, path: Path | None = None) -> Path:
    """Merge ``cal`` into the stored calibration (fields left None keep their stored value); atomic write."""
    p = path or calibration_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    old = load_calibration(cal.machine_key, p)
    data = old.model_dump() if old else {}
    data.update({k: v for k, v in cal.model_dump().items() if v is not None})
    data["speed_model"] = speed_model_id()
    return write_text_atomic(p, json.dumps(data, indent=2))


def from_record(data: dict | None) -> Calibration | None:  # type: ignore[type-arg]
    """The calibration a results record carries, if made under the speed formulas in force."""
    if not data:
        return None
    try:
        cal = Calibration(**data)
    except (ValidationError, TypeError):
        return None
    return cal if cal.speed_model == speed_model_id() else None
