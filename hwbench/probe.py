"""A quick probe of this machine's CPU: memory read bandwidth and fp32 matmul rate, cached per machine.

Before any `hwbench bench` has calibrated a machine, the CPU figures of `check` would be assumed
(bandwidth per vCPU, cores x clock x SIMD). This probe measures the two that matter in well under a
second, with numpy (a core dependency):

- ``cpu_bandwidth_gbps``: a streaming read (sum) of an array much larger than the caches, split over
  one thread per logical core (numpy releases the GIL in its reductions), best of several passes;
- ``sgemm_tflops``: numpy's fp32 matrix product (its BLAS, all cores), best of several runs.

The result is saved with its date and the machine key of :mod:`hwbench.calibration` in the data dir
(``probe.json``, atomic write). `check` reads it (a small JSON file: no numpy import, no measurement),
runs the probe only when there is none for this machine, and never again after that; `detect --probe`
and `bench` run it anew. A probe from another machine or an older probe version is ignored.

How the figures are used (hwbench/hardware.py): the bandwidth replaces the assumed one; the fp32 peak
the speed formulas take becomes sgemm_tflops / ``cpu_sgemm_share_of_peak`` (assumptions table), since
the CPU kernel factors (estimate/speed.py, CPU_KERNELS) are relative to the fp32 peak, not to BLAS.
A calibration from `bench` (measured tokens/s) takes precedence over both.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from hwbench.atomicio import write_text_atomic
from hwbench.paths import data_dir

# Bump when what the probe measures changes (array size rule, method): older probes are then re-run.
PROBE_VERSION = 1


class Probe(BaseModel):
    model_config = ConfigDict(extra="ignore")

    machine_key: str  # hwbench.calibration.machine_key: a probe applies to that machine only
    created_at: str  # ISO date-time (UTC) of the measurement
    probe_version: int = PROBE_VERSION
    cpu_bandwidth_gbps: float  # best streaming-read rate, GB/s (10^9 bytes/s)
    sgemm_tflops: float  # best fp32 matmul rate, TFLOP/s (numpy's BLAS)
    threads: int  # threads used for the read
    array_bytes: int  # size of the array read
    matmul_n: int  # n of the n x n fp32 matrices multiplied
    seconds: float  # wall time of the whole probe
    load_avg: float | None = None  # 1-minute load average when the probe started (None: not available)
    logical_cores: int | None = None  # os.cpu_count() then: with load_avg, whether the machine was busy

    def busy(self) -> bool:
        """Other work was running when this was measured (load average above half the logical cores): the figures are low."""
        return self.load_avg is not None and self.load_avg > 0.5 * (self.logical_cores or 1)


def probe_path() -> Path:
    return data_dir() / "probe.json"


def run_probe(machine_key: str, *, threads: int | None = None, array_bytes: int | None = None, budget_s: float = 0.6) -> Probe:
    """Measure now (about ``budget_s`` seconds on an idle machine; stops early at the budget).

    ``array_bytes``: the read array (default 256 MiB, at most 1/8 of the RAM the OS reports available).
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    t_start = time.perf_counter()
    try:
        load: float | None = os.getloadavg()[0]
    except (OSError, AttributeError):
        load = None
    n_threads = max(1, min(64, threads or os.cpu_count() or 1))
    size = array_bytes or _default_array_bytes()
    a = np.ones(size // 8, dtype=np.float64)  # touched: the pages exist before timing
    chunks = np.array_split(a, n_threads)
    best_bw = 0.0
    with ThreadPoolExecutor(n_threads) as ex:
        list(ex.map(np.sum, chunks))  # warm-up
        for _ in range(8):
            t0 = time.perf_counter()
            list(ex.map(np.sum, chunks))
            dt = time.perf_counter() - t0
            if dt > 0:
                best_bw = max(best_bw, a.nbytes / dt / 1e9)
            if time.perf_counter() - t_start > budget_s / 2:
                break
    del a, chunks
    n = 1024
    m = np.ones((n, n), dtype=np.float32)
    t0 = time.perf_counter()
    m @ m  # warm-up (BLAS threads start)
    if time.perf_counter() - t0 < 0.01:
        n = 2048  # fast machine: a bigger product so the timing is not dominated by overheads
        m = np.ones((n, n), dtype=np.float32)
        m @ m
    best_mm = float("inf")
    for _ in range(6):
        t0 = time.perf_counter()
        m @ m
        best_mm = min(best_mm, time.perf_counter() - t0)
        if time.perf_counter() - t_start > budget_s:
            break
    return Probe(
        machine_key=machine_key,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        cpu_bandwidth_gbps=round(best_bw, 2),
        sgemm_tflops=round(2.0 * n**3 / best_mm / 1e12, 4),
        threads=n_threads,
        array_bytes=int(size // 8 * 8),
        matmul_n=n,
        seconds=round(time.perf_counter() - t_start, 3),
        load_avg=None if load is None else round(load, 2),
        logical_cores=os.cpu_count(),
    )


def _default_array_bytes() -> int:
    """256 MiB (well above any L3 slice a VM sees), less where the available RAM is small."""
    import os

    want = 256 * 2**20
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return want
    return int(max(32 * 2**20, min(want, avail // 8)))


def load_probe(machine_key: str | None = None, path: Path | None = None) -> Probe | None:
    """The saved probe (of this machine when ``machine_key`` is given), or None; never raises."""
    p = path or probe_path()
    try:
        pr = Probe(**json.loads(p.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, ValidationError):
        return None
    if pr.probe_version != PROBE_VERSION or (machine_key is not None and pr.machine_key != machine_key):
        return None
    if pr.cpu_bandwidth_gbps <= 0 or pr.sgemm_tflops <= 0:
        return None
    return pr


def save_probe(pr: Probe, path: Path | None = None) -> Path:
    return write_text_atomic(path or probe_path(), json.dumps(pr.model_dump(), indent=2))


def probe_once(machine_key: str, *, path: Path | None = None) -> Probe | None:
    """The saved probe of this machine; when there is none, measure once and save it.

    Returns None when the probe cannot run (numpy missing, the data dir not writable, ...): the
    caller then keeps assumed figures. Never raises.
    """
    pr = load_probe(machine_key, path)
    if pr is not None:
        return pr
    try:
        pr = run_probe(machine_key)
    except Exception:  # noqa: BLE001 - a probe improves an estimate; it never stops one
        return None
    try:
        save_probe(pr, path)
    except OSError:
        pass  # used this time, measured again next time
    return pr


def refresh_probe(machine_key: str, *, path: Path | None = None) -> Probe:
    """Measure now and save (`detect --probe`, `bench`)."""
    pr = run_probe(machine_key)
    save_probe(pr, path)
    return pr
