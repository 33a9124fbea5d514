"""Which accelerators PyTorch sees (slow: imports torch; only on request)."""

from __future__ import annotations

from typing import Any

from hwbench.schema import TorchInfo


def probe_torch(torch_module: Any = None) -> tuple[TorchInfo | None, list[str]]:
    """(TorchInfo, warnings); (None, []) when torch is not installed."""
    warnings: list[str] = []
    torch = torch_module
    if torch is None:
        try:
            import torch
        except ImportError:
            return None, []
        except Exception as e:  # noqa: BLE001 - a broken torch install (missing CUDA libs ...)
            return None, [f"torch import failed: {type(e).__name__}: {e}"]
    info = TorchInfo(version=str(getattr(torch, "__version__", "")) or None)

    def ask(label: str, fn: Any) -> Any:
        try:
            return fn()
        except Exception as e:  # noqa: BLE001
            warnings.append(f"torch {label} query failed: {type(e).__name__}: {e}")
            return None

    cuda = getattr(torch, "cuda", None)
    if cuda is not None and ask("cuda", cuda.is_available):
        info.cuda = True
        hip = getattr(getattr(torch, "version", None), "hip", None)
        kind = "rocm" if hip else "cuda"
        for i in range(ask("cuda count", cuda.device_count) or 0):
            name = ask("cuda name", lambda i=i: cuda.get_device_name(i))
            info.devices.append(f"{kind}:{i} {name or '?'}")
    mps = getattr(getattr(torch, "backends", None), "mps", None)
    if mps is not None and ask("mps", mps.is_available):
        info.mps = True
        info.devices.append("mps:0 Apple GPU")
    xpu = getattr(torch, "xpu", None)
    if xpu is not None and ask("xpu", xpu.is_available):
        info.xpu = True
        for i in range(ask("xpu count", xpu.device_count) or 0):
            name = ask("xpu name", lambda i=i: xpu.get_device_name(i))
            info.devices.append(f"xpu:{i} {name or '?'}")
    return info, warnings
