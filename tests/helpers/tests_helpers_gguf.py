"""Tiny real GGUF files written with the gguf package, for tests."""

import gguf
import numpy as np


def write_tiny(path, n_layer=2, n_embd=64, n_ff=128, vocab=100, name="tiny"):
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name(name)
    w.add_block_count(n_layer)
    w.add_embedding_length(n_embd)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_context_length(2048)
    w.add_file_type(int(gguf.LlamaFileType.MOSTLY_F16))
    w.add_token_list([f"t{i}" for i in range(vocab)])
    f16 = np.float16
    w.add_tensor("token_embd.weight", np.zeros((vocab, n_embd), f16))
    for i in range(n_layer):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", np.ones(n_embd, np.float32))
        w.add_tensor(p + "attn_q.weight", np.zeros((n_embd, n_embd), f16))
        w.add_tensor(p + "attn_k.weight", np.zeros((n_embd // 2, n_embd), f16))
        w.add_tensor(p + "attn_v.weight", np.zeros((n_embd // 2, n_embd), f16))
        w.add_tensor(p + "attn_output.weight", np.zeros((n_embd, n_embd), f16))
        w.add_tensor(p + "ffn_norm.weight", np.ones(n_embd, np.float32))
        w.add_tensor(p + "ffn_gate.weight", np.zeros((n_ff, n_embd), f16))
        w.add_tensor(p + "ffn_up.weight", np.zeros((n_ff, n_embd), f16))
        w.add_tensor(p + "ffn_down.weight", np.zeros((n_embd, n_ff), f16))
    w.add_tensor("output_norm.weight", np.ones(n_embd, np.float32))
    w.add_tensor("output.weight", np.zeros((vocab, n_embd), f16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path

