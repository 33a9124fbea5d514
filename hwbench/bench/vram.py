"""GPU memory a benchmark child process uses, read through NVML while it runs.

llama.cpp allocates its buffers through the CUDA runtime; NVML lists the processes holding memory
on each GPU (``nvmlDeviceGetComputeRunningProcesses``) with their ``usedGpuMemory``. The parent
samples the child's figure a few times a second and keeps the peak. Where NVML is missing or
reports nothing for the process (no NVIDIA GPU, no driver, MIG without per-process accounting),
the sampler gives None and the record's ``peak_vram_bytes`` stays empty rather than guessed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def make_vram_reader(nvml: Any = None) -> Callable[[int], int | None] | None:
    """A function pid -> bytes of GPU memory held by that process (all GPUs), or None if NVML is unusable."""
    if nvml is None:
        try:
            import pynvml as nvml  # type: ignore[no-redef]
        except ImportError:
            return None
    try:
        nvml.nvmlInit()
        count = int(nvml.nvmlDeviceGetCount())
        handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
    except Exception:  # noqa: BLE001 - no driver / library: nothing to read
        return None
    if not handles:
        return None

    def read(pid: int) -> int | None:
        total = 0
        seen = False
        for h in handles:
            try:
                procs = nvml.nvmlDeviceGetComputeRunningProcesses(h)
            except Exception:  # noqa: BLE001 - a GPU that stopped answering: skip it
                continue
            for p in procs or []:
                if int(getattr(p, "pid", -1)) == pid:
                    used = getattr(p, "usedGpuMemory", None)
                    if isinstance(used, int) and used >= 0:
                        total += used
                        seen = True
        return total if seen else None

    return read


class PeakSampler:
    """Polls ``read(pid)`` on a thread until stopped; ``peak`` is the largest value seen (or None)."""

    def __init__(self, read: Callable[[int], int | None], pid: int, interval_s: float = 0.25) -> None:
        self.read, self.pid, self.interval_s = read, pid, interval_s
        self.peak: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        try:
            v = self.read(self.pid)
        except Exception:  # noqa: BLE001 - a failing read never disturbs the benchmark
            v = None
        if v is not None and (self.peak is None or v > self.peak):
            self.peak = v

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def start(self) -> PeakSampler:
        self._sample()
        self._thread.start()
        return self

    def stop(self) -> int | None:
        self._stop.set()
        self._thread.join(timeout=2)
        return self.peak
