"""Child process for scripts/accuracy_memory.py: load one GGUF once, create a context per setting,
and print the buffer sizes llama.cpp itself logs, one JSON line per setting.

Run as: python scripts/_llama_mem_child.py FILE SETTINGS_JSON
SETTINGS_JSON: a list of {"ctx": N, "fa": bool, "ub": N, "kv": "f16"|"q8_0"}.
A native abort in llama.cpp kills this process; the parent restarts it after the failed setting.
"""

from __future__ import annotations

import ctypes
import json
import re
import sys

MIB = 2**20
_LINES: list[str] = []
_BUF: list[str] = []


def _on_log(level: int, text: bytes, user: ctypes.c_void_p) -> None:
    s = text.decode("utf-8", "replace")
    _BUF.append(s)
    if s.endswith("\n"):
        _LINES.extend("".join(_BUF).splitlines())
        _BUF.clear()


_SIZE = re.compile(r"(\S+)\s+(model|KV|compute|output) buffer size\s*=\s*([0-9.]+) MiB")


def parse(lines: list[str]) -> dict[str, float]:
    """Sum of the buffer sizes (bytes) by kind ('model:CPU_Mapped', 'KV', 'compute', 'output')."""
    out: dict[str, float] = {}
    for ln in lines:
        if ln.startswith("~llama_context"):
            continue  # the destructor repeats the compute buffer size
        m = _SIZE.search(ln)
        if not m:
            continue
        buf, kind, mib = m.group(1), m.group(2), float(m.group(3))
        key = f"model:{buf}" if kind == "model" else kind
        out[key] = out.get(key, 0.0) + mib * MIB
    return out


def main() -> None:
    import llama_cpp as L

    path, settings = sys.argv[1], json.loads(sys.argv[2])
    cb = L.llama_log_callback(_on_log)
    L.llama_log_set(cb, ctypes.c_void_p())
    L.llama_backend_init()
    mp = L.llama_model_default_params()
    mp.n_gpu_layers = 0
    mp.load_mode = L.LLAMA_LOAD_MODE_MMAP
    model = L.llama_model_load_from_file(path.encode(), mp)
    if not model:
        print(json.dumps({"error": "model load failed"}), flush=True)
        return
    model_bufs = parse(_LINES)
    _LINES.clear()
    types = {"f16": L.GGML_TYPE_F16, "q8_0": L.GGML_TYPE_Q8_0, "q4_0": L.GGML_TYPE_Q4_0, "f32": L.GGML_TYPE_F32}
    for s in settings:
        cp = L.llama_context_default_params()
        cp.n_ctx = s["ctx"]
        cp.n_batch = s.get("batch", 2048)
        cp.n_ubatch = s["ub"]
        cp.n_threads = cp.n_threads_batch = 1
        cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_ENABLED if s["fa"] else L.LLAMA_FLASH_ATTN_TYPE_DISABLED
        cp.type_k = cp.type_v = types[s["kv"]]
        cp.swa_full = False  # what llama-cli / llama-server / llama-bench use
        ctx = L.llama_init_from_model(model, cp)
        if not ctx:
            print(json.dumps({"setting": s, "error": "context creation failed", "log": _LINES[-5:]}), flush=True)
            _LINES.clear()
            continue
        bufs = parse(_LINES)
        _LINES.clear()
        L.llama_free(ctx)
        _LINES.clear()
        print(json.dumps({"setting": s, "model": model_bufs, "buffers": bufs}), flush=True)
    L.llama_model_free(model)


if __name__ == "__main__":
    main()
