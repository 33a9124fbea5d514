"""Child process for scripts/accuracy_speed.py --local: llama-bench-style pp and tg timing of one GGUF.

Run as: python scripts/_llama_speed_child.py FILE THREADS N_PROMPT N_GEN REPS
Prints one JSON line: {"pp_tps": [...], "tg_tps": [...]} (one value per repetition).
Protocol (as llama-bench): warm-up, then per repetition clear the KV cache and time either a prompt
of N_PROMPT tokens (one llama_decode of the whole batch) or N_GEN tokens generated one at a time
from an empty context; random token ids, no sampling.
"""

from __future__ import annotations

import ctypes
import json
import random
import sys
import time


def _quiet(level: int, text: bytes, user: ctypes.c_void_p) -> None:
    pass


def main() -> None:
    import llama_cpp as L

    path, threads, n_prompt, n_gen, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    cb = L.llama_log_callback(_quiet)
    L.llama_log_set(cb, ctypes.c_void_p())
    L.llama_backend_init()
    mp = L.llama_model_default_params()
    mp.n_gpu_layers = 0
    model = L.llama_model_load_from_file(path.encode(), mp)
    cp = L.llama_context_default_params()
    cp.n_ctx = n_prompt + n_gen + 16
    cp.n_batch = max(n_prompt, 1)
    cp.n_ubatch = 512
    cp.n_threads = cp.n_threads_batch = threads
    cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_ENABLED
    ctx = L.llama_init_from_model(model, cp)
    vocab = L.llama_n_vocab(L.llama_model_get_vocab(model))
    mem = L.llama_get_memory(ctx)
    rng = random.Random(0)

    def prompt(n: int) -> None:
        arr = (L.llama_token * n)(*[rng.randrange(3, vocab) for _ in range(n)])
        assert L.llama_decode(ctx, L.llama_batch_get_one(arr, n)) == 0
        L.llama_synchronize(ctx)

    def gen(n: int) -> None:
        tok = (L.llama_token * 1)()
        for _ in range(n):
            tok[0] = rng.randrange(3, vocab)
            assert L.llama_decode(ctx, L.llama_batch_get_one(tok, 1)) == 0
            L.llama_synchronize(ctx)

    prompt(min(n_prompt, 32))
    gen(2)
    pp, tg = [], []
    for _ in range(reps):
        L.llama_memory_clear(mem, True)
        t0 = time.perf_counter()
        prompt(n_prompt)
        pp.append(n_prompt / (time.perf_counter() - t0))
        L.llama_memory_clear(mem, True)
        t0 = time.perf_counter()
        gen(n_gen)
        tg.append(n_gen / (time.perf_counter() - t0))
    print(json.dumps({"pp_tps": pp, "tg_tps": tg}), flush=True)
    L.llama_free(ctx)
    L.llama_model_free(model)


if __name__ == "__main__":
    main()
