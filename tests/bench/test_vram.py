"""Peak VRAM of a benchmark child, read through a fake NVML (no GPU here)."""

import os
import sys
import time

import psutil

from hwbench.bench.isolation import run_child
from hwbench.bench.vram import PeakSampler, make_vram_reader


class Proc:
    def __init__(self, pid, used):
        self.pid, self.usedGpuMemory = pid, used


class FakeNvml:
    """pynvml's calls used by the sampler; per-GPU process lists change between calls."""

    def __init__(self, per_gpu_lists, fail_gpu=None):
        self.lists = per_gpu_lists  # gpu index -> list of call results (cycled at the end)
        self.calls = {i: 0 for i in per_gpu_lists}
        self.fail_gpu = fail_gpu

    def nvmlInit(self):
        pass

    def nvmlDeviceGetCount(self):
        return len(self.lists)

    def nvmlDeviceGetHandleByIndex(self, i):
        return i

    def nvmlDeviceGetComputeRunningProcesses(self, h):
        if h == self.fail_gpu:
            raise RuntimeError("GPU is lost")
        seq = self.lists[h]
        k = min(self.calls[h], len(seq) - 1)
        self.calls[h] += 1
        return seq[k]


def test_reader_sums_this_pid_over_gpus_and_ignores_others():
    nv = FakeNvml({0: [[Proc(10, 3 << 30), Proc(99, 5 << 30)]], 1: [[Proc(10, 1 << 30)]]})
    read = make_vram_reader(nv)
    assert read(10) == 4 << 30
    assert read(99) == 5 << 30
    assert read(1234) is None  # not on any GPU: unknown, not zero


def test_reader_skips_a_failing_gpu_and_handles_no_driver():
    nv = FakeNvml({0: [[Proc(10, 2 << 30)]], 1: [[Proc(10, 1 << 30)]]}, fail_gpu=1)
    assert make_vram_reader(nv)(10) == 2 << 30

    class NoDriver:
        def nvmlInit(self):
            raise OSError("libnvidia-ml.so.1: cannot open shared object file")

    assert make_vram_reader(NoDriver()) is None
    assert make_vram_reader(FakeNvml({})) is None  # no GPUs


def test_sampler_keeps_the_peak():
    values = iter([1, 5, 3, None, 2])
    s = PeakSampler(lambda pid: next(values, 2), pid=1, interval_s=0.001).start()
    deadline = time.monotonic() + 30
    while (s.peak is None or s.peak < 5) and time.monotonic() < deadline:
        time.sleep(0.001)
    assert s.stop() == 5


def test_run_child_reports_peak_vram_from_the_reader():
    seen = []
    cmdlines = []

    def reader(pid):
        seen.append(pid)
        try:
            cmdlines.append(psutil.Process(pid).cmdline())
        except psutil.Error:
            pass  # the child has just exited
        return 7 << 30

    # a child that lives ~0.4 s, so the first sample (taken right after the start) finds it running
    job = {"kind": "fake", "reps": 2, "sleep_s": 0.2, "tests": [{"name": "t", "ns": 1}]}
    out = run_child(job, timeout_s=60, vram_reader=reader)
    assert out.ok, out.error
    assert out.peak_vram_bytes == 7 << 30
    assert seen and all(p != os.getpid() for p in seen)  # the child's pid, not ours
    assert cmdlines and cmdlines[0][:3] == [sys.executable, "-m", "hwbench.bench.child"]  # ...run with this interpreter
