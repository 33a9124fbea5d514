"""llama.cpp benchmark through llama-cpp-python's low-level API, following llama-bench's protocol.

Per test instance (one combination of the swept settings): load the model, create a context,
run a warm-up (a prompt batch and one generated token), then ``reps`` timed repetitions; each
repetition clears the KV cache (keeping the ``depth`` tokens of context, filled once, untimed),
then times the prompt (``pp``) or the generation (``tg``) of random tokens. No sampling, no
logits copies: the timed loop is ``llama_decode`` + ``llama_synchronize`` and nothing else.

The child-side function :func:`run_llamacpp_job` runs in ``hwbench.bench.child``; the parent
builds jobs with :func:`plan_instances` and turns events into :class:`BenchResult` records.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from hwbench.quant import GGML_TYPES

FLASH_ATTN = {"auto": -1, "off": 0, "0": 0, "false": 0, "on": 1, "1": 1, "true": 1}
KV_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1")


@dataclass(frozen=True)
class LlamaTest:
    name: str  # pp512, tg128, tg128@d4096, tg128@np4
    n_prompt: int
    n_gen: int
    depth: int
    n_parallel: int = 1  # tg...@npN: N sequences decoded together (llama-batched-bench), each after its own prompt of depth tokens
    batched: bool = False  # a tg...@npN test (also N = 1: one sequence through the same batched path)

    @property
    def n_tokens(self) -> int:
        """Tokens one timed repetition produces: for tg@npN all N sequences' (aggregate tokens/s)."""
        return (self.n_prompt + self.n_gen) * self.n_parallel

    @property
    def ctx_per_seq(self) -> int:
        return self.depth + self.n_prompt + self.n_gen + (1 if self.batched and not self.depth else 0)


@dataclass(frozen=True)
class LlamaInstance:
    threads: int
    n_gpu_layers: int
    n_batch: int
    n_ubatch: int
    flash_attn: str  # auto / on / off
    type_k: str
    type_v: str
    tests: tuple[LlamaTest, ...]

    @property
    def n_seq_max(self) -> int:
        return max(t.n_parallel for t in self.tests)

    @property
    def n_ctx(self) -> int:
        # llama.cpp splits n_ctx evenly over n_seq_max sequences (no --kv-unified): room for the largest per sequence
        return (max(t.ctx_per_seq for t in self.tests) + 16) * self.n_seq_max

    def settings(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("tests")
        return d


def test_name(n_prompt: int, n_gen: int, depth: int, n_parallel: int = 0) -> str:
    base = f"pp{n_prompt}" if n_gen == 0 else (f"tg{n_gen}" if n_prompt == 0 else f"pp{n_prompt}+tg{n_gen}")
    return base + (f"@d{depth}" if depth else "") + (f"@np{n_parallel}" if n_parallel else "")


def plan_instances(
    *,
    threads: list[int],
    gpu_layers: list[int],
    batch: list[int],
    ubatch: list[int],
    flash_attn: list[str],
    kv_type: list[str],
    n_prompt: list[int],
    n_gen: list[int],
    depth: list[int],
    parallel: list[int] | None = None,
) -> list[LlamaInstance]:
    """The cartesian product of the swept settings; each instance runs pp and tg tests like llama-bench, and with
    ``parallel`` a tg{n}@np{N} test per N (N sequences decoded together, like llama-batched-bench)."""
    out = []
    for th, ngl, nb, nub, fa, kv in itertools.product(threads, gpu_layers, batch, ubatch, flash_attn, kv_type):
        tk, _, tv = kv.partition("/")
        tests: list[LlamaTest] = []
        for d in depth:
            for p in n_prompt:
                if p > 0:
                    tests.append(LlamaTest(test_name(p, 0, d), p, 0, d))
            for g in n_gen:
                if g > 0:
                    tests.append(LlamaTest(test_name(0, g, d), 0, g, d))
            for npl in parallel or []:
                for g in n_gen:
                    if g > 0:
                        tests.append(LlamaTest(test_name(0, g, d, npl), 0, g, d, npl, True))
        if tests:
            out.append(LlamaInstance(th, ngl, nb, min(nub, nb), fa, tk, tv or tk, tuple(tests)))
    return out


def instance_job(model_path: str, inst: LlamaInstance, reps: int, warmup: bool = True, seed: int = 42) -> dict[str, Any]:
    return {
        "kind": "llamacpp",
        "model_path": model_path,
        "reps": reps,
        "warmup": warmup,
        "seed": seed,
        "instance": inst.settings(),
        "n_ctx": inst.n_ctx,
        "tests": [asdict(t) for t in inst.tests],
    }


# ------------------------------------------------------------------ child side

_LOG_CB: Any = None  # keep the ctypes callback alive
_LOG_TAIL: list[str] = []  # recent llama.cpp log lines, for error messages


def _silence(L: Any) -> None:
    """Keep llama.cpp's log off the terminal but remember its last lines (to explain a failure)."""
    global _LOG_CB

    def cb(level: int, text: bytes, user: Any) -> None:
        _LOG_TAIL.append(text.decode("utf-8", "replace"))
        if len(_LOG_TAIL) > 200:
            del _LOG_TAIL[:100]

    if _LOG_CB is None:
        _LOG_CB = L.llama_log_callback(cb)
    L.llama_log_set(_LOG_CB, None)


def _log_reason() -> str:
    lines = "".join(_LOG_TAIL).splitlines()
    for keys in (("error",), ("failed", "missing", "wrong")):
        for line in reversed(lines):
            if any(k in line.lower() for k in keys):
                return ": " + line.strip()[:300]
    return ""


class _Decoder:
    """Minimal decode helpers; token arrays are built before the timed sections."""

    def __init__(self, L: Any, ctx: Any, n_vocab: int, n_batch: int, seed: int) -> None:
        self.L = L
        self.ctx = ctx
        self.n_vocab = n_vocab
        self.n_batch = n_batch
        self.rng = random.Random(seed)

    def _tokens(self, n: int) -> Any:
        arr = (self.L.llama_token * n)()
        for i in range(n):
            arr[i] = self.rng.randrange(self.n_vocab)
        return arr

    def prompt_arrays(self, n: int) -> list[tuple[Any, int]]:
        out = []
        left = n
        while left > 0:
            k = min(self.n_batch, left)
            out.append((self._tokens(k), k))
            left -= k
        return out

    def gen_arrays(self, n: int) -> list[Any]:
        return [self._tokens(1) for _ in range(n)]

    def run_prompt(self, arrays: list[tuple[Any, int]]) -> None:
        L, ctx = self.L, self.ctx
        for arr, k in arrays:
            rc = L.llama_decode(ctx, L.llama_batch_get_one(arr, k))
            if rc != 0:
                raise RuntimeError(f"llama_decode failed with status {rc} (prompt batch of {k})")
        L.llama_synchronize(ctx)

    def run_gen(self, arrays: list[Any]) -> None:
        L, ctx = self.L, self.ctx
        decode, get_one, sync = L.llama_decode, L.llama_batch_get_one, L.llama_synchronize
        for arr in arrays:
            if decode(ctx, get_one(arr, 1)) != 0:
                raise RuntimeError("llama_decode failed while generating")
            sync(ctx)


class _Batched:
    """N sequences decoded together, as llama-batched-bench does (tools/batched-bench/batched-bench.cpp): the
    prompt phase is every sequence's own prompt in one token list (sequence by sequence, logits for each one's
    last token), submitted in llama_batch calls of up to n_batch tokens without a sync between them, then one
    synchronize (T_PP); then every step decodes one token of every sequence in one batch (T_TG)."""

    def __init__(self, L: Any, ctx: Any, mem: Any, n_vocab: int, n_seq: int, n_batch: int, seed: int) -> None:
        self.L, self.ctx, self.mem, self.n_vocab, self.n = L, ctx, mem, n_vocab, n_seq
        self.n_batch = max(1, n_batch)
        self.rng = random.Random(seed)
        self.batch = L.llama_batch_init(n_seq, 0, 1)  # one decode step: a token of each sequence
        self._prompt: list[Any] = []  # the prompt phase's batches, built (untimed) by prepare_prompts

    def _fill(self, b: Any, items: list[tuple[int, int, bool]]) -> None:
        """items: (sequence, position, logits) per token, random token ids."""
        for i, (seq, pos, logits) in enumerate(items):
            b.token[i] = self.rng.randrange(self.n_vocab)
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = 1 if logits else 0
        b.n_tokens = len(items)

    def _free_prompt(self) -> None:
        for b in self._prompt:
            self.L.llama_batch_free(b)
        self._prompt = []

    def prepare_prompts(self, n_prompt: int) -> int:
        """Build (untimed) each sequence's own prompt of n_prompt tokens (at least 1) as batches of up to n_batch
        tokens, as batched-bench's decode_helper cuts its token list; returns the prompt tokens, N x n_prompt."""
        self._free_prompt()
        pp = max(1, n_prompt)
        items = [(s, p, p == pp - 1) for s in range(self.n) for p in range(pp)]
        for k in range(0, len(items), self.n_batch):
            chunk = items[k : k + self.n_batch]
            b = self.L.llama_batch_init(len(chunk), 0, 1)
            self._prompt.append(b)
            self._fill(b, chunk)
        return len(items)

    @property
    def n_prompt_batches(self) -> int:
        return len(self._prompt)

    def run_prompts(self) -> None:
        """Decode the prepared prompt batches (no sync between them, one at the end: what T_PP times)."""
        L, ctx = self.L, self.ctx
        for b in self._prompt:
            rc = L.llama_decode(ctx, b)
            if rc != 0:
                raise RuntimeError(f"llama_decode failed with status {rc} (prompt batch of {b.n_tokens})")
        L.llama_synchronize(ctx)

    def generate(self, start: int, n_gen: int) -> None:
        """n_gen steps, each one token for every sequence (positions start .. start + n_gen - 1)."""
        ctx, sync, b = self.ctx, self.L.llama_synchronize, self.batch
        for step in range(n_gen):
            self._fill(b, [(s, start + step, True) for s in range(self.n)])
            if self.L.llama_decode(ctx, b) != 0:
                raise RuntimeError("llama_decode failed (batched generation)")
            sync(ctx)

    def positions(self) -> list[int]:
        """The last position held by each sequence (what was really decoded)."""
        return [int(self.L.llama_memory_seq_pos_max(self.mem, s)) for s in range(self.n)]

    def free(self) -> None:
        self._free_prompt()
        self.L.llama_batch_free(self.batch)


def _run_parallel_test(L: Any, ctx: Any, mem: Any, n_vocab: int, t: dict[str, Any], job: dict[str, Any], emit: Callable[..., None]) -> None:
    """tg{n}@np{N}: per repetition, clear the cache, time the N prompts (T_PP), then n_gen steps of N tokens (T_TG);
    each ``sample`` event carries both (``prompt_ns``, ``ns``), the prompt tokens decoded (``prompt_tokens``) and the
    llama_decode calls they took (``prompt_batches``)."""
    name, n_gen, depth, npl = t["name"], int(t["n_gen"]), int(t["depth"]), int(t["n_parallel"])
    n_prompt = max(1, depth)
    bd = _Batched(L, ctx, mem, n_vocab, npl, int(job["instance"]["n_batch"]), int(job.get("seed", 42)))
    try:
        if job.get("warmup", True):
            emit("phase", phase=f"warm-up {name}")
            L.llama_memory_clear(mem, True)
            bd.prepare_prompts(n_prompt)
            bd.run_prompts()
            bd.generate(n_prompt, 1)
        for rep in range(int(job["reps"])):
            emit("phase", phase=f"running {name} repetition {rep + 1}/{job['reps']}")
            L.llama_memory_clear(mem, True)
            n_pp = bd.prepare_prompts(n_prompt)
            start = time.perf_counter_ns()
            bd.run_prompts()
            mid = time.perf_counter_ns()
            bd.generate(n_prompt, n_gen)
            ns = time.perf_counter_ns() - mid
            emit(
                "sample",
                test=name,
                rep=rep,
                ns=ns,
                prompt_ns=mid - start,
                prompt_tokens=n_pp,
                prompt_batches=bd.n_prompt_batches,
                warmup=False,
            )
        emit("np_check", test=name, positions=bd.positions(), n_prompt=n_prompt)
    finally:
        bd.free()
        L.llama_memory_clear(mem, True)


def _ggml_type_id(name: str) -> int:
    key = name.upper()
    if key not in GGML_TYPES:
        raise ValueError(f"unknown KV cache type {name!r}")
    return GGML_TYPES[key].type_id


def run_llamacpp_job(job: dict[str, Any], emit: Callable[..., None]) -> None:
    inst = job["instance"]
    path = job["model_path"]
    emit("phase", phase=f"loading {path}")
    from llama_cpp import llama_cpp as L

    if not job.get("verbose"):
        _silence(L)
    L.llama_backend_init()
    mp = L.llama_model_default_params()
    mp.n_gpu_layers = int(inst["n_gpu_layers"])
    t0 = time.perf_counter_ns()
    model = L.llama_model_load_from_file(str(path).encode(), mp)
    if not model:
        raise RuntimeError(f"llama.cpp could not load {path}{_log_reason()}")
    cp = L.llama_context_default_params()
    cp.n_ctx = int(job["n_ctx"])
    cp.n_batch = int(inst["n_batch"])
    cp.n_ubatch = int(inst["n_ubatch"])
    cp.n_threads = cp.n_threads_batch = int(inst["threads"])
    cp.flash_attn_type = FLASH_ATTN[str(inst["flash_attn"]).lower()]
    cp.type_k = _ggml_type_id(inst["type_k"])
    cp.type_v = _ggml_type_id(inst["type_v"])
    cp.no_perf = True
    n_seq_max = max([int(t.get("n_parallel", 1)) for t in job["tests"]] + [1])
    if n_seq_max > 1:
        cp.n_seq_max = n_seq_max  # llama.cpp -np: n_ctx is split evenly over the sequences (kv_unified off)
    emit("phase", phase="creating the context")
    ctx = L.llama_init_from_model(model, cp)
    if not ctx:
        raise RuntimeError(f"llama.cpp could not create a context with these settings{_log_reason()}")
    load_ns = time.perf_counter_ns() - t0
    vocab = L.llama_model_get_vocab(model)
    n_vocab = int(L.llama_vocab_n_tokens(vocab))
    emit("loaded", load_time_ns=load_ns, n_vocab=n_vocab, model_size_bytes=int(L.llama_model_size(model)))
    mem = L.llama_get_memory(ctx)
    dec = _Decoder(L, ctx, n_vocab, int(inst["n_batch"]), int(job.get("seed", 42)))
    reps = int(job["reps"])
    filled_depth = -1
    for t in job["tests"]:
        name, n_prompt, n_gen, depth = t["name"], int(t["n_prompt"]), int(t["n_gen"]), int(t["depth"])
        if t.get("batched"):
            _run_parallel_test(L, ctx, mem, n_vocab, t, job, emit)
            filled_depth = -1
            emit("test_done", test=name)
            continue
        if depth != filled_depth:
            L.llama_memory_clear(mem, True)
            if depth:
                emit("phase", phase=f"filling {depth} tokens of context for {name}")
                dec.run_prompt(dec.prompt_arrays(depth))
            filled_depth = depth
        if job.get("warmup", True):
            emit("phase", phase=f"warm-up {name}")
            if n_prompt:
                dec.run_prompt(dec.prompt_arrays(min(n_prompt, int(inst["n_batch"]))))
            if n_gen:
                dec.run_gen(dec.gen_arrays(1))
            L.llama_memory_seq_rm(mem, 0, depth, -1)
        for rep in range(reps):
            emit("phase", phase=f"running {name} repetition {rep + 1}/{reps}")
            p_arr = dec.prompt_arrays(n_prompt) if n_prompt else []
            g_arr = dec.gen_arrays(n_gen) if n_gen else []
            start = time.perf_counter_ns()
            if p_arr:
                dec.run_prompt(p_arr)
            if g_arr:
                dec.run_gen(g_arr)
            ns = time.perf_counter_ns() - start
            L.llama_memory_seq_rm(mem, 0, depth, -1)
            emit("sample", test=name, rep=rep, ns=ns, warmup=False)
        emit("test_done", test=name)
    L.llama_free(ctx)
    L.llama_model_free(model)


def llama_cpp_version() -> str | None:
    try:
        import importlib.metadata as md

        return md.version("llama_cpp_python")
    except Exception:  # noqa: BLE001
        return None
