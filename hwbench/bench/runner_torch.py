"""``--micro``, child side: hardware microbenchmarks and a PyTorch decode benchmark (torch imported lazily).

:func:`run_torch_job` runs in ``hwbench.bench.child``:

- memory bandwidth on the CPU, all cores: ``membw_read_cpu`` (sum of a large fp32 tensor) and
  ``membw_copy_cpu`` (copy, read + write bytes counted, as STREAM does), GB/s;
- matmul throughput ``matmul_{fp32,bf16,fp16}_{device}`` in TFLOP/s on the CPU and on every
  CUDA / MPS / XPU device torch sees, plus device memory read bandwidth and host<->device copies;
- ``torch_tg{n}_{dtype}_{device}``: generation tokens/s of a synthetic transformer of the target
  shape (batch 1, KV cache, greedy argmax), fp32 on the CPU and bf16 on a GPU; when the full model
  would not fit the time budget/memory, a slice of its layers is run and extrapolated.

The parent side, :func:`hwbench.bench.torch_part.run_torch_part`, runs the jobs in child processes
and turns their events into results; neither side imports the other.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

Emit = Callable[..., None]


def _devices(torch: Any) -> list[str]:
    devs = ["cpu"]
    if torch.cuda.is_available():
        devs += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devs.append("mps")
    if hasattr(torch, "xpu") and torch.xpu.is_available():
        devs += [f"xpu:{i}" for i in range(torch.xpu.device_count())]
    return devs


def _sync(torch: Any, dev: str) -> None:
    if dev.startswith("cuda"):
        torch.cuda.synchronize(dev)
    elif dev == "mps":
        torch.mps.synchronize()
    elif dev.startswith("xpu"):
        torch.xpu.synchronize(dev)


def _time(torch: Any, dev: str, fn: Callable[[], Any], reps: int, min_time_s: float = 0.0) -> list[int]:
    fn()  # warm-up
    _sync(torch, dev)
    out = []
    t_start = time.perf_counter()
    for i in range(reps * 4):
        t0 = time.perf_counter_ns()
        fn()
        _sync(torch, dev)
        out.append(time.perf_counter_ns() - t0)
        if i + 1 >= reps and time.perf_counter() - t_start >= min_time_s:
            break
    return out


def _emit_micro(emit: Emit, test: str, device: str, value: float, unit: str, samples: list[int], **settings: Any) -> None:
    emit("micro", test=test, device=device, value=round(value, 4), unit=unit, samples_ns=samples, settings=settings)


def _tag(dev: str) -> str:
    return dev.replace(":", "")


def micro_membw(torch: Any, emit: Emit, dev: str, n_bytes: int, reps: int) -> None:
    n = n_bytes // 4
    a = torch.ones(n, dtype=torch.float32, device=dev)
    b = torch.empty_like(a)
    s = _time(torch, dev, lambda: a.sum(), reps)
    best = min(s)
    _emit_micro(emit, f"membw_read_{_tag(dev)}", dev, n * 4 / best, "GB/s", s, bytes=n * 4, stat="best of reps", op="sum")
    s = _time(torch, dev, lambda: b.copy_(a), reps)
    best = min(s)
    _emit_micro(
        emit, f"membw_copy_{_tag(dev)}", dev, 2 * n * 4 / best, "GB/s", s, bytes=n * 4, stat="best of reps", op="copy (read+write counted)"
    )


def micro_matmul(torch: Any, emit: Emit, dev: str, reps: int, cpu: bool) -> None:
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16), ("fp16", torch.float16)):
        n = (1024 if name == "fp32" else 512) if cpu else 4096
        try:
            x = torch.randn(n, n, device=dev).to(dtype)
            y = torch.randn(n, n, device=dev).to(dtype)
            s = _time(torch, dev, lambda x=x, y=y: x @ y, reps, min_time_s=0.2)  # type: ignore[misc]
        except Exception as e:  # noqa: BLE001 - a dtype unsupported on this device
            emit("micro_error", test=f"matmul_{name}_{_tag(dev)}", device=dev, message=f"{type(e).__name__}: {e}")
            continue
        best = min(s)
        _emit_micro(emit, f"matmul_{name}_{_tag(dev)}", dev, 2 * n**3 / best / 1e3, "TFLOP/s", s, n=n, stat="best of reps")


def micro_h2d(torch: Any, emit: Emit, dev: str, n_bytes: int, reps: int) -> None:
    host = torch.empty(n_bytes // 4, dtype=torch.float32)
    try:
        host = host.pin_memory()
    except Exception:  # noqa: BLE001
        pass
    d = torch.empty_like(host, device=dev)
    s = _time(torch, dev, lambda: d.copy_(host, non_blocking=True), reps)
    _emit_micro(emit, f"h2d_{_tag(dev)}", dev, n_bytes / min(s), "GB/s", s, bytes=n_bytes, stat="best of reps")
    s = _time(torch, dev, lambda: host.copy_(d, non_blocking=True), reps)
    _emit_micro(emit, f"d2h_{_tag(dev)}", dev, n_bytes / min(s), "GB/s", s, bytes=n_bytes, stat="best of reps")


def _decode_model(torch: Any, spec: dict[str, Any], n_layers: int, dev: str, dtype: Any) -> Any:
    nn = torch.nn
    E, H, KV = spec["n_embd"], spec["n_head"], spec["n_head_kv"]
    hd = spec.get("head_dim") or E // H
    F = spec.get("n_ff_exp") or spec["n_ff"] if spec.get("n_expert", 0) > 1 else spec["n_ff"]
    used = max(1, spec.get("n_expert_used", 0)) if spec.get("n_expert", 0) > 1 else 1

    class Layer(nn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.q = nn.Linear(E, H * hd, bias=False)
            self.k = nn.Linear(E, KV * hd, bias=False)
            self.v = nn.Linear(E, KV * hd, bias=False)
            self.o = nn.Linear(H * hd, E, bias=False)
            # MoE: only the used experts' FFNs are touched per token; model them as `used` FFNs
            self.gate = nn.Linear(E, F * used, bias=False)
            self.up = nn.Linear(E, F * used, bias=False)
            self.down = nn.Linear(F * used, E, bias=False)
            self.n1 = nn.RMSNorm(E)
            self.n2 = nn.RMSNorm(E)

        def forward(self, x: Any, cache: list[Any]) -> Any:
            h = self.n1(x)
            q = self.q(h).view(1, 1, H, hd).transpose(1, 2)
            k = self.k(h).view(1, 1, KV, hd).transpose(1, 2)
            v = self.v(h).view(1, 1, KV, hd).transpose(1, 2)
            cache[0] = k if cache[0] is None else torch.cat([cache[0], k], dim=2)
            cache[1] = v if cache[1] is None else torch.cat([cache[1], v], dim=2)
            kk, vv = cache[0], cache[1]
            if KV != H:
                kk = kk.repeat_interleave(H // KV, dim=1)
                vv = vv.repeat_interleave(H // KV, dim=1)
            a = torch.nn.functional.scaled_dot_product_attention(q, kk, vv)
            x = x + self.o(a.transpose(1, 2).reshape(1, 1, H * hd))
            h = self.n2(x)
            return x + self.down(torch.nn.functional.silu(self.gate(h)) * self.up(h))

    class Model(nn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(spec["vocab"], E)
            self.layers = nn.ModuleList([Layer() for _ in range(n_layers)])
            self.norm = nn.RMSNorm(E)
            self.out = nn.Linear(E, spec["vocab"], bias=False)

        def forward(self, tok: Any, caches: list[list[Any]]) -> Any:
            x = self.emb(tok).view(1, 1, E)
            for layer, c in zip(self.layers, caches, strict=True):
                x = layer(x, c)
            return self.out(self.norm(x)).argmax(-1).view(1)

    with torch.device(dev):
        m = Model().to(dtype)
    for p in m.parameters():
        p.requires_grad_(False)
        p.normal_(0, 0.02)
    return m.eval()


def torch_decode(torch: Any, emit: Emit, spec: dict[str, Any], dev: str, dtype_name: str, n_gen: int, reps: int, max_bytes: int) -> None:
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype_name]
    elt = 4 if dtype_name == "fp32" else 2
    E, F, L = spec["n_embd"], spec["n_ff"], spec["n_layer"]
    hd = spec.get("head_dim") or E // spec["n_head"]
    F_eff = (spec.get("n_ff_exp") or F) * max(1, spec.get("n_expert_used", 0)) if spec.get("n_expert", 0) > 1 else F
    per_layer = (E * hd * (spec["n_head"] * 2 + spec["n_head_kv"] * 2) + 3 * E * F_eff) * elt
    other = 2 * spec["vocab"] * E * elt
    k = max(1, min(L, int((max_bytes - other) // max(1, per_layer))))
    test = f"torch_tg{n_gen}_{dtype_name}_{_tag(dev)}"
    emit("phase", phase=f"building a {k}-layer {dtype_name} transformer on {dev}")
    model = _decode_model(torch, spec, k, dev, dtype)
    samples = []
    with torch.inference_mode():
        for rep in range(reps + 1):
            caches = [[None, None] for _ in range(k)]
            tok = torch.zeros(1, dtype=torch.long, device=dev)
            _sync(torch, dev)
            t0 = time.perf_counter_ns()
            for _ in range(n_gen):
                tok = model(tok, caches)
            _sync(torch, dev)
            ns = time.perf_counter_ns() - t0
            if rep == 0:
                continue  # warm-up
            samples.append(ns)
            emit("sample", test=test, rep=rep - 1, ns=ns, warmup=False)
    factor = (other + per_layer * L) / (other + per_layer * k)
    emit(
        "decode_done",
        test=test,
        device=dev,
        n_gen=n_gen,
        layers_run=k,
        total_layers=L,
        factor=factor,
        samples_ns=samples,
        dtype=dtype_name,
    )


def run_torch_job(job: dict[str, Any], emit: Emit) -> None:
    emit("phase", phase="importing torch")
    import torch

    threads = int(job.get("threads") or (os.cpu_count() or 1))
    torch.set_num_threads(threads)
    reps = int(job.get("reps", 5))
    devs = _devices(torch)
    emit("devices", devices=devs, torch_version=torch.__version__)
    if job["kind"] == "torch_micro":
        for dev in devs:
            cpu = dev == "cpu"
            emit("phase", phase=f"memory bandwidth on {dev}")
            micro_membw(torch, emit, dev, int(job.get("membw_bytes", 512 * 2**20 if cpu else 2 * 2**30)), reps)
            emit("phase", phase=f"matmul on {dev}")
            micro_matmul(torch, emit, dev, reps, cpu)
            if not cpu:
                emit("phase", phase=f"host<->device copy {dev}")
                micro_h2d(torch, emit, dev, 256 * 2**20, reps)
    else:
        dev = devs[1] if len(devs) > 1 else "cpu"
        dtype = "fp32" if dev == "cpu" else "bf16"
        spec = job["spec"]
        max_bytes = int(job.get("max_bytes") or (2 * 2**30 if dev == "cpu" else 8 * 2**30))
        torch_decode(torch, emit, spec, dev, dtype, int(job.get("n_gen", 32)), reps, max_bytes)
