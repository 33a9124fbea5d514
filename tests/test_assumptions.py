"""The one table of assumed figures (hwbench/assumptions.py): complete entries, and read by the code.

Every entry must change what hwbench outputs when its value changes: a probe per key runs the code
that uses it with the table's value and with another one. A literal that creeps back in (the code
deciding a figure itself) leaves the output unchanged and fails here; an entry nothing reads fails
the coverage test.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from hwbench import assumptions as A
from hwbench.estimate import estimate_fit
from hwbench.profiles import InstanceProfile, find_gpu, load_gpus
from hwbench.schema import CpuInfo, EstimateSettings, GpuTarget, HardwareTarget, HostInfo, MemoryInfo, VirtInfo

GiB = 2**30


def test_every_entry_is_complete() -> None:
    keys = [a.key for a in A.table()]
    assert len(keys) == len(set(keys)), "duplicate keys"
    assert len(keys) >= 25
    for a in A.table():
        assert a.key and a.key == a.key.strip().lower()
        assert isinstance(a.value, int | float) and math.isfinite(a.value) and a.value > 0, a.key
        assert a.unit.strip(), a.key
        assert len(a.why.strip()) >= 15, a.key
        assert len(a.source.strip()) >= 10, a.key
        assert a.text().startswith(f"{a.value:g} "), a.key
    assert A.TARGET_TOKENS_PER_S == A.value("target_tokens_per_s")


def test_unknown_key_is_an_error() -> None:
    with pytest.raises(KeyError):
        A.value("cpu_bandwith_gbps")  # a typo must not silently give some default


# ----------------------------------------------------------------------------- probes


def _host(**cpu: Any) -> HostInfo:
    c = {"model": "Test CPU", "logical_cores": 8, "physical_cores": 8, "max_mhz": 3000.0, "flags": ["avx2", "fma"], "arch": "x86_64"}
    c.update(cpu)
    return HostInfo(cpu=CpuInfo(**c), memory=MemoryInfo(total_bytes=32 * GiB))


def _target_from_host(host: HostInfo) -> HardwareTarget:
    from hwbench.hardware import target_from_host

    return target_from_host(host, None)


def _instance(**kw: Any) -> HardwareTarget:
    from hwbench.recommend import instance_target

    base: dict[str, Any] = {"provider": "p", "instance_type": "t", "as_of": "2026-11-29", "source": "test", "kind": "cpu", "vcpus": 16}
    base.update(kw)
    gpus = {g.name.lower(): g for g in load_gpus()}
    t, _, why = instance_target(InstanceProfile(**base), gpus)
    assert t is not None, why
    return t


def _probed_target() -> HardwareTarget:
    from hwbench.hardware import target_from_host
    from hwbench.probe import Probe

    pr = Probe(machine_key="k", created_at="2026-12-02T00:00:00+00:00", cpu_bandwidth_gbps=30.0, sgemm_tflops=0.2, threads=2, array_bytes=2**20, matmul_n=1024, seconds=0.5)
    return target_from_host(_host(), None, probe=pr)


def _buy(gpu: str, n: int) -> HardwareTarget:
    from hwbench.recommend import buy_target

    return buy_target(find_gpu(gpu), n)[0]


def _mac() -> str:
    return next(g.name for g in load_gpus() if g.unified_memory and g.backend == "metal" and g.bandwidth_gbps)


_HOST_HW = HardwareTarget(label="t", ram_bytes=64 * GiB, cpu_bandwidth_gbps=40.0, cpu_tflops=0.5, cpu_cores=8)


def _fit(gpus: list[GpuTarget], model: str = "8b", quant: str = "Q4_K_M", ram_gib: float = 64, follow_ups: bool = False) -> Any:
    from hwbench.resolve import resolve_model

    r = resolve_model(params=model, quant=quant)
    hw = _HOST_HW.model_copy(update={"gpus": gpus, "ram_bytes": int(ram_gib * GiB)})
    return estimate_fit(r.spec, r.quant, EstimateSettings(context=4096), hw, size_factor=r.size_factor, follow_ups=follow_ups)


def _gpu(backend: str = "cuda", **kw: Any) -> GpuTarget:
    base: dict[str, Any] = {"name": f"Test {backend} GPU", "memory_bytes": 24 * GiB, "bandwidth_gbps": 900.0, "fp16_tflops": 80.0, "backend": backend}
    base.update(kw)
    return GpuTarget(**base)


def _overhead(e: Any) -> tuple[int, ...]:
    return tuple(d.overhead_bytes for d in e.memory.per_device)


def _3090() -> GpuTarget:
    from hwbench.hardware import gpu_target_from_profile

    return gpu_target_from_profile(find_gpu("RTX 3090"))


def _what_if_unified() -> float:
    from hwbench.hardware import apply_what_if

    return apply_what_if(_HOST_HW, gpu=_mac()).cpu_bandwidth_gbps


def _tight_margin() -> int:
    from hwbench.estimate.advice import margin_bytes

    return margin_bytes()


def _mac_capacity(gib: float) -> int:
    g = _gpu("metal", name="Test Mac", memory_bytes=int(gib * GiB), unified_memory=True)
    return int(_fit([g], ram_gib=gib).memory.per_device[0].capacity_bytes)


def _buy_row() -> Any:
    """The buy row of 1 x RTX 3090 for an 8B model, with the table's ownership figures (date fixed)."""
    from hwbench.recommend import Ownership, recommend_buy
    from hwbench.resolve import resolve_model

    r = resolve_model(model=None, params="8b", active_params=None, gguf=None, quant=None, extra_dir=None)
    own = Ownership.default(today="2026-12-02")
    return recommend_buy(r, EstimateSettings(context=4096), target_tokens_per_s=None, gpus=[find_gpu("RTX 3090")], ownership=own)[0]


# key -> (code that reads it, returning what a user would see; the value to try instead)
PROBES: dict[str, tuple[Callable[[], Any], float]] = {
    "cpu_bandwidth_gbps": (lambda: _target_from_host(_host()).cpu_bandwidth_gbps, 55.0),
    "vm_bandwidth_per_vcpu_gbps": (lambda: _instance(vcpus=64).cpu_bandwidth_gbps, 3.0),
    "vm_bandwidth_max_gbps": (lambda: _instance(vcpus=192).cpu_bandwidth_gbps, 300.0),
    "unified_cpu_bandwidth_share": (lambda: (_buy(_mac(), 1).cpu_bandwidth_gbps, _what_if_unified()), 0.4),
    "cpu_mhz_unknown": (lambda: _target_from_host(_host(max_mhz=None)).cpu_tflops, 2000.0),
    "cloud_cpu_mhz": (lambda: _instance(arch="x86_64").cpu_tflops, 3500.0),
    "cloud_x86_vcpus_per_core": (lambda: _instance(arch="x86_64").cpu_tflops, 1.0),
    "cloud_vcpus_unknown": (lambda: _instance(vcpus=None).cpu_cores, 8.0),
    "ram_unknown_gib": (lambda: _target_from_host(_host().model_copy(update={"memory": MemoryInfo()})).ram_bytes, 16.0),
    "cloud_ram_min_gib": (lambda: _instance(kind="gpu", gpu_profile=find_gpu("RTX 3090").name, gpu_count=1, memory_gib=None).ram_bytes, 48.0),
    "buy_host_ram_min_gib": (lambda: _buy("RTX 3090", 1).ram_bytes, 96.0),
    "buy_host_ram_per_vram": (lambda: _buy("RTX 3090", 4).ram_bytes, 2.0),
    "buy_host_cpu_bandwidth_gbps": (lambda: _buy("RTX 3090", 1).cpu_bandwidth_gbps, 80.0),
    "buy_host_cpu_tflops": (lambda: _buy("RTX 3090", 1).cpu_tflops, 2.0),
    "buy_host_cpu_cores": (lambda: _buy("RTX 3090", 1).cpu_cores, 32.0),
    "gpu_bandwidth_unknown_gbps": (lambda: (_fit([_gpu(bandwidth_gbps=None)]).speed.generation_tokens_per_s, _fit([_gpu(bandwidth_gbps=None)]).notes), 150.0),
    "gpu_tflops_unknown": (lambda: (_fit([_gpu(fp16_tflops=None)]).speed.prompt_tokens_per_s, _fit([_gpu(fp16_tflops=None)]).notes), 20.0),
    "gpus_per_node": (lambda: _fit([_3090()], model="70b", follow_ups=True).notes, 1.0),
    "pcie_gbps": (lambda: _fit([_3090()], model="70b").speed.prompt_tokens_per_s, 12.0),
    "gpu_context_cuda_mib": (lambda: (_overhead(_fit([_gpu("cuda")])), _overhead(_fit([_gpu("opencl-or-new")]))), 500.0),
    "gpu_context_rocm_mib": (lambda: _overhead(_fit([_gpu("rocm")])), 500.0),
    "gpu_context_sycl_mib": (lambda: _overhead(_fit([_gpu("sycl")])), 500.0),
    "gpu_context_vulkan_mib": (lambda: _overhead(_fit([_gpu("vulkan")])), 300.0),
    "host_process_mib": (lambda: _overhead(_fit([])), 300.0),
    "os_reserve_fraction": (lambda: _overhead(_fit([], ram_gib=40)), 0.08),
    "os_reserve_min_gib": (lambda: _overhead(_fit([], ram_gib=8)), 1.5),
    "os_reserve_max_gib": (lambda: _overhead(_fit([], ram_gib=512)), 6.0),
    "metal_working_set_small": (lambda: _mac_capacity(32), 0.6),
    "metal_working_set_large": (lambda: _mac_capacity(64), 0.8),
    "metal_working_set_threshold_gib": (lambda: _mac_capacity(48), 64.0),
    "tight_fit_margin_gib": (_tight_margin, 1.0),
    "buy_host_system_usd": (lambda: _buy_row().purchase_usd, 2000.0),
    "buy_host_power_w": (lambda: _buy_row().power_w, 200.0),
    "electricity_usd_per_kwh": (lambda: _buy_row().power_usd_per_hour, 0.3),
    "buy_hours_per_day": (lambda: _buy_row().owned_usd_per_hour, 12.0),
    "buy_writeoff_years": (lambda: _buy_row().owned_usd_per_hour, 5.0),
    "price_stale_days": (lambda: _buy_row().price_stale, 5000.0),
    "cpu_sgemm_share_of_peak": (lambda: _probed_target().cpu_tflops, 0.5),
    "batch_decode_p": (lambda: _batched_step(), 1.5),
}
def _batched_step() -> float:
    """Seconds per decode step of 16 sequences of an 8B model on an RTX 3090 (speed.step_time_s)."""
    from hwbench.estimate.fit import speed_inputs
    from hwbench.hardware import gpu_target_from_profile
    from hwbench.profiles import find_gpu, get_model
    from hwbench.quant import parse_quant

    hw = HardwareTarget(label="t", gpus=[gpu_target_from_profile(find_gpu("RTX 3090"))], ram_bytes=64 * GiB, cpu_bandwidth_gbps=50.0, cpu_tflops=1.0)
    si = speed_inputs(get_model("llama-3-8b"), parse_quant("Q4_K_M"), EstimateSettings(context=512, concurrency=16), hw)
    assert si is not None
    return si.step_time_s(16)


# read at import time by the CLI: checked in a fresh interpreter below
IMPORT_TIME = {"target_tokens_per_s"}


def test_every_entry_has_a_probe() -> None:
    assert set(PROBES) | IMPORT_TIME == {a.key for a in A.table()}


@pytest.mark.parametrize("key", sorted(PROBES))
def test_changing_the_table_changes_the_output(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    probe, other = PROBES[key]
    assert other != A.value(key)
    before = probe()
    monkeypatch.setitem(A.ASSUMPTIONS, key, replace(A.ASSUMPTIONS[key], value=other))
    after = probe()
    assert after != before, f"{key}: output did not change with the table value (a literal of its own?)"


_CLI = """
import json, sys
from dataclasses import replace
import hwbench.assumptions as A
A.ASSUMPTIONS["target_tokens_per_s"] = replace(A.ASSUMPTIONS["target_tokens_per_s"], value=7.5)
A.TARGET_TOKENS_PER_S = 7.5
from click.testing import CliRunner
from hwbench.cli import cli
r = CliRunner()
rec = r.invoke(cli, ["recommend", "--params", "8b", "--json", "--limit", "1"])
assert rec.exit_code == 0, rec.output
print(json.dumps({
    "recommend": json.loads(rec.output)["target_tokens_per_s"],
    "recommend_help": r.invoke(cli, ["recommend", "--help"]).output,
    "report_help": r.invoke(cli, ["report", "--help"]).output,
}))
"""


def test_target_speed_default_comes_from_the_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # the CLI reads it when its commands are imported: change the table first, in a fresh interpreter
    p = subprocess.run([sys.executable, "-c", _CLI], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["recommend"] == 7.5
    for h in ("recommend_help", "report_help"):
        flat = " ".join(out[h].split())
        assert "Default 7.5 tokens/s" in flat, flat
        assert "10 tokens/s" not in flat and "10.0" not in flat


def test_report_reads_the_target_from_the_table() -> None:
    import inspect

    from hwbench.recommend import recommend
    from hwbench.report.html import build_report

    for fn in (recommend, build_report):
        assert inspect.signature(fn).parameters["target_tokens_per_s"].default == A.TARGET_TOKENS_PER_S


def test_unknown_gpu_figures_are_said_to_be_assumed() -> None:
    e = _fit([_gpu(name="Mystery GPU", bandwidth_gbps=None, fp16_tflops=None)])
    note = next(n for n in e.notes if "Mystery GPU" in n)
    assert A.get("gpu_bandwidth_unknown_gbps").text() in note and A.get("gpu_tflops_unknown").text() in note and "assumed" in note
    dev = e.speed.inputs["devices"][0]
    assert dev["assumed"] == ["bandwidth_gbps", "tflops"] and dev["bandwidth_gbps"] == A.value("gpu_bandwidth_unknown_gbps")
    # a GPU with its spec figures says nothing of the kind
    assert not any("assumed" in n for n in _fit([_gpu()]).notes)
    assert "assumed" not in _fit([_gpu()]).speed.inputs["devices"][0]


def test_detected_host_without_ram_size_says_assumed() -> None:
    t = _target_from_host(_host().model_copy(update={"memory": MemoryInfo()}))
    assert t.ram_source == "assumed" and t.ram_bytes == int(A.value("ram_unknown_gib") * GiB)
    assert any("RAM size not detected" in n for n in t.notes)


def test_one_bandwidth_rule_for_detected_and_rented_vms() -> None:
    from hwbench.recommend import cloud_cpu_bandwidth_gbps

    vm = _host(logical_cores=2, physical_cores=1).model_copy(update={"virt": VirtInfo(hypervisor=True)})
    assert _target_from_host(vm).cpu_bandwidth_gbps == cloud_cpu_bandwidth_gbps(2) == _instance(vcpus=2).cpu_bandwidth_gbps


def test_recommend_quotes_the_table_in_its_assumptions() -> None:
    from hwbench.recommend import recommend
    from hwbench.resolve import resolve_model

    rec = recommend(resolve_model(params="8b", quant="q4"), EstimateSettings(context=4096), instances=[])
    text = " ".join(rec.assumptions)
    for key in ("cpu_bandwidth_gbps", "vm_bandwidth_per_vcpu_gbps", "vm_bandwidth_max_gbps"):
        assert A.get(key).text() in text, key
    assert f"{A.value('cloud_cpu_mhz') / 1000:g} GHz" in text
