from __future__ import annotations

import json

import pytest

from hwbench.detect.apple import probe_apple

GIB = 1 << 30

SYSCTL = """machdep.cpu.brand_string: Apple M2 Max
hw.memsize: 68719476736
hw.physicalcpu: 12
hw.logicalcpu: 12
iogpu.wired_limit_mb: 0
"""
PROFILER = json.dumps(
    {
        "SPDisplaysDataType": [
            {
                "_name": "Apple M2 Max",
                "sppci_model": "Apple M2 Max",
                "sppci_cores": "38",
                "spdisplays_mtlgpufamilysupport": "spdisplays_metal3",
                "sppci_vendor": "sppci_vendor_Apple",
            }
        ]
    }
)


class Runner:
    def __init__(self, outputs: dict[str, str | Exception]) -> None:
        self.outputs = outputs
        self.calls: list[list[str]] = []

    def __call__(self, cmd: list[str]) -> str:
        self.calls.append(cmd)
        out = self.outputs[cmd[0]]
        if isinstance(out, Exception):
            raise out
        return out


def test_m2_max() -> None:
    run = Runner({"sysctl": SYSCTL, "system_profiler": PROFILER})
    info = probe_apple(run, system="Darwin", machine="arm64")
    assert info.warnings == []
    assert info.brand == "Apple M2 Max"
    assert info.memsize_bytes == 64 * GIB
    assert (info.physical_cores, info.logical_cores) == (12, 12)
    (g,) = info.gpus
    assert (g.vendor, g.name, g.backend) == ("Apple", "Apple M2 Max GPU", "metal")
    assert g.memory_total_bytes == 64 * GIB
    assert g.unified_memory is True
    assert g.gpu_cores == 38
    assert "iogpu.wired_limit_mb" in g.notes[0] and "2/3" in g.notes[0]
    (ane,) = info.accelerators
    assert ane.name == "Apple M2 Max Neural Engine"
    assert ane.usable_by_llamacpp is False
    assert ane.note is not None and "Core ML" in ane.note


def test_quick_skips_system_profiler() -> None:
    run = Runner({"sysctl": SYSCTL.replace("0\n", "57344\n")})
    info = probe_apple(run, system="Darwin", machine="arm64", quick=True)
    assert [c[0] for c in run.calls] == ["sysctl"]
    assert info.gpus[0].gpu_cores is None
    assert any("57344 MB" in n for n in info.gpus[0].notes)


def test_failing_commands_are_warnings() -> None:
    run = Runner({"sysctl": OSError("sysctl exited 1"), "system_profiler": "not json"})
    info = probe_apple(run, system="Darwin", machine="arm64")
    assert info.gpus[0].name == "Apple Silicon GPU"
    assert info.gpus[0].memory_total_bytes is None
    assert len(info.warnings) == 2
    assert info.warnings[0] == "sysctl failed: sysctl exited 1"
    assert info.warnings[1].startswith("system_profiler failed")


@pytest.mark.parametrize(("system", "machine"), [("Linux", "aarch64"), ("Darwin", "x86_64"), ("Windows", "AMD64")])
def test_not_apple_silicon(system: str, machine: str) -> None:
    run = Runner({})
    info = probe_apple(run, system=system, machine=machine)
    assert info.gpus == [] and info.accelerators == [] and run.calls == []
