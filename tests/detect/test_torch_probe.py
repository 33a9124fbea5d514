from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import Any

import pytest

from hwbench.detect.torch_probe import probe_torch


def _fake_torch(cuda: int = 0, mps: bool = False, xpu: int = 0, hip: str | None = None, broken_xpu: bool = False) -> Any:
    names = ["NVIDIA GeForce RTX 3090", "NVIDIA GeForce RTX 3090"]

    def xpu_available() -> bool:
        if broken_xpu:
            raise RuntimeError("xpu runtime missing")
        return xpu > 0

    return SimpleNamespace(
        __version__="2.5.1+cu124",
        version=SimpleNamespace(hip=hip),
        cuda=SimpleNamespace(is_available=lambda: cuda > 0, device_count=lambda: cuda, get_device_name=lambda i: names[i]),
        backends=SimpleNamespace(mps=SimpleNamespace(is_available=lambda: mps)),
        xpu=SimpleNamespace(
            is_available=xpu_available, device_count=lambda: xpu, get_device_name=lambda i: "Intel(R) Arc(TM) A770 Graphics"
        ),
    )


def test_two_cuda_devices() -> None:
    info, warnings = probe_torch(_fake_torch(cuda=2))
    assert warnings == []
    assert info is not None
    assert (info.version, info.cuda, info.mps, info.xpu) == ("2.5.1+cu124", True, False, False)
    assert info.devices == ["cuda:0 NVIDIA GeForce RTX 3090", "cuda:1 NVIDIA GeForce RTX 3090"]


def test_rocm_build_mps_and_xpu() -> None:
    info, _ = probe_torch(_fake_torch(cuda=1, hip="6.2.41133", mps=True, xpu=1))
    assert info is not None
    assert info.devices == ["rocm:0 NVIDIA GeForce RTX 3090", "mps:0 Apple GPU", "xpu:0 Intel(R) Arc(TM) A770 Graphics"]


def test_broken_backend_is_warning() -> None:
    info, warnings = probe_torch(_fake_torch(broken_xpu=True))
    assert info is not None and info.xpu is False
    assert warnings == ["torch xpu query failed: RuntimeError: xpu runtime missing"]


def test_torch_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    assert probe_torch() == (None, [])
