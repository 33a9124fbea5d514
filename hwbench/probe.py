"""A quick probe of this machine's CPU: memory read bandwidth and fp32 matmul rate, cached per machine.

Before any `hwbench bench` has calibrated a machine, the CPU figures of `check` would be assumed
(bandwidth per vCPU, cores x clock x SIMD). This probe measures the two that matter in well under a
second, with numpy (a core dependency):

- ``cpu_bandwidth_gbps``: a streaming read of an fp32 array much larger than the caches, as BLAS's dot
  product of each of its slices with itself, one thread per logical core (numpy releases the GIL in dot).
  This is the quantity the CPU speed constants were fitted against (`bench --micro`'s torch sum of a large
  fp32 tensor, all cores: estimate/speed.py BACKENDS['cpu']). numpy's threaded sum (PROBE_VERSION 1) read
  slower than torch's sum; one BLAS dot over the whole array (PROBE_VERSION 2) ran on one thread on this
  project's Intel VM and read 9.9 GB/s where torch read 17.1 and the sliced dot on 2 threads 18.5
  (2026-12-02, idle);
- ``sgemm_tflops``: numpy's fp32 matrix product (its BLAS, all cores).

Each figure is the MEDIAN of its timed passes over about half the budget (at least MIN_PASSES), not the
best: on a shared VM the fastest of many short passes catches the machine's quiet moments, while
llama.cpp's benchmark runs for seconds to minutes and sees what the machine sustains. Every pass is kept
in the file for the record.

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
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from hwbench.atomicio import write_text_atomic
from hwbench.paths import data_dir

# Bump when what the probe measures changes (array size rule, method): older probes are then re-run.
# 2: the read is BLAS's fp32 dot product (was a threaded numpy sum of float64), both figures the median of
#    their passes (was the best), the passes fill a time window (was a fixed count).
# 3: the read runs one thread per logical core over slices (one BLAS dot ran on a single thread: half the rate).
PROBE_VERSION = 3
MIN_PASSES = 5  # timed passes per figure, at least (even past the budget: a median needs a few)
MAX_PASSES = 64


class Probe(BaseModel):
    model_config = ConfigDict(extra="ignore")

    machine_key: str  # hwbench.calibration.machine_key: a probe applies to that machine only
    created_at: str  # ISO date-time (UTC) of the measurement
    probe_version: int = PROBE_VERSION
    cpu_bandwidth_gbps: float  # sustained streaming-read rate: median of the passes, GB/s (10^9 bytes/s)
    sgemm_tflops: float  # sustained fp32 matmul rate: median of the runs, TFLOP/s (numpy's BLAS)
    threads: int  # logical cores (BLAS's default thread count) when measured
    array_bytes: int  # size of the array read
    matmul_n: int  # n of the n x n fp32 matrices multiplied
    seconds: float  # wall time of the whole probe
    load_avg: float | None = None  # 1-minute load average when the probe started (None: not available)
    logical_cores: int | None = None  # os.cpu_count() then: with load_avg, whether the machine was busy
    read_samples_gbps: list[float] | None = None  # every timed read pass, GB/s (the figure is their median)
    matmul_samples_tflops: list[float] | None = None  # every timed matmul run, TFLOP/s (the figure is their median)

    def busy(self) -> bool:
        """Other work was running when this was measured (load average above half the logical cores): the figures are low."""
        return self.load_avg is not None and self.load_avg > 0.5 * (self.logical_cores or 1)


def probe_path() -> Path:
    return data_dir() / "probe.json"


def run_probe(machine_key: str, *, array_bytes: int | None = None, budget_s: float = 0.6) -> Probe:
    """Measure now (about ``budget_s`` seconds on an idle machine: half for each figure, then it stops).

    ``array_bytes``: the read array (default 256 MiB, at most 1/8 of the RAM the OS reports available).
    The read runs one thread per logical core over slices of the array; the matmul on numpy's BLAS with its
    own threads (all logical cores unless OPENBLAS_NUM_THREADS / OMP_NUM_THREADS say otherwise); each figure is
    the median of its timed passes (module doc).
    """
    import os

    import numpy as np

    t_start = time.perf_counter()
    try:
        load: float | None = os.getloadavg()[0]
    except (OSError, AttributeError):
        load = None
    size = array_bytes or _default_array_bytes()
    a = np.ones(size // 4, dtype=np.float32)  # touched: the pages exist before timing
    from concurrent.futures import ThreadPoolExecutor

    n_threads = os.cpu_count() or 1
    slices = np.array_split(a, n_threads)
    with ThreadPoolExecutor(max_workers=n_threads) as pool:

        def read() -> None:
            list(pool.map(lambda x: float(np.dot(x, x)), slices))

        read()  # warm-up (threads start, pages touched)
        reads = _passes(read, a.nbytes / 1e9, t_start + budget_s / 2)
    slices = []
    a = np.empty(0, dtype=np.float32)  # freed before the matmul
    n = 1024
    m = np.ones((n, n), dtype=np.float32)
    t0 = time.perf_counter()
    m @ m  # warm-up
    if time.perf_counter() - t0 < 0.01:
        n = 2048  # fast machine: a bigger product so the timing is not dominated by overheads
        m = np.ones((n, n), dtype=np.float32)
        m @ m
    mms = _passes(lambda: m @ m, 2.0 * n**3 / 1e12, time.perf_counter() + budget_s / 2)
    return Probe(
        machine_key=machine_key,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        cpu_bandwidth_gbps=round(statistics.median(reads), 2),
        sgemm_tflops=round(statistics.median(mms), 4),
        read_samples_gbps=[round(x, 2) for x in reads],
        matmul_samples_tflops=[round(x, 4) for x in mms],
        threads=os.cpu_count() or 1,
        array_bytes=int(size // 4 * 4),
        matmul_n=n,
        seconds=round(time.perf_counter() - t_start, 3),
        load_avg=None if load is None else round(load, 2),
        logical_cores=os.cpu_count(),
    )


def _passes(fn: Callable[[], object], work: float, deadline: float) -> list[float]:
    """Rates (``work`` / seconds) of timed calls of ``fn``: at least MIN_PASSES, more until ``deadline``, at most MAX_PASSES."""
    rates: list[float] = []
    while len(rates) < MAX_PASSES:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        if dt > 0:
            rates.append(work / dt)
        if len(rates) >= MIN_PASSES and time.perf_counter() > deadline:
            break
    return rates or [0.0]


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
