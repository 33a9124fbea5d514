"""The bounded GGUF header reader: real small files written here, and hostile ones."""

import struct

import gguf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests_helpers_gguf import write_tiny

from hwbench.errors import BadFile
from hwbench.gguf_header import model_from_gguf, read_gguf


@pytest.fixture
def tiny(tmp_path):
    return write_tiny(tmp_path / "tiny.gguf")


def test_reads_real_header(tiny):
    info = read_gguf(tiny)
    assert info.version == 3
    assert info.arch == "llama"
    assert info.file_type == "F16"
    assert info.array_lengths["tokenizer.ggml.tokens"] == 100
    q = next(t for t in info.tensors if t.name == "blk.1.attn_q.weight")
    assert q.shape == (64, 64) and q.type_name == "F16" and q.layer == 1
    embd_and_output = 2 * 100 * 64 * 2
    per_layer = 2 * 64 * 4 + 64 * 64 * 2 + 2 * (32 * 64 * 2) + 64 * 64 * 2 + 3 * (128 * 64 * 2)  # norms, q, k+v, o, ffn
    assert info.weights_bytes == embd_and_output + 2 * per_layer + 64 * 4 == 174336


def test_model_from_header(tiny):
    m = model_from_gguf(read_gguf(tiny))
    assert (m.n_layer, m.n_embd, m.n_head, m.n_head_kv, m.n_ff, m.vocab) == (2, 64, 4, 2, 128, 100)
    assert m.name == "tiny" and not m.tied_embeddings
    assert m.params == sum(t.n_elements for t in read_gguf(tiny).tensors)


def _header(n_tensors=0, n_kv=0, version=3):
    return b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv)


@pytest.mark.parametrize(
    "blob,needle",
    [
        (b"", "not a GGUF file"),
        (b"PK\x03\x04" + b"\0" * 40, "magic"),
        (_header(version=99) + b"\0" * 8, "version 99"),
        (_header(n_tensors=10**12) + b"\0" * 8, "tensors"),
        (_header(n_kv=10**9) + b"\0" * 8, "metadata entries"),
        # one kv whose key claims 2^60 bytes
        (_header(n_kv=1) + struct.pack("<Q", 2**60) + b"\0" * 8, "limit"),
        # a string value claiming more bytes than the file holds
        (_header(n_kv=1) + struct.pack("<Q", 3) + b"abc" + struct.pack("<IQ", 8, 10**7) + b"x" * 16, "truncated"),
        # an array of 10^12 elements
        (_header(n_kv=1) + struct.pack("<Q", 1) + b"k" + struct.pack("<IIQ", 9, 4, 10**12), "elements"),
        # unknown value type
        (_header(n_kv=1) + struct.pack("<Q", 1) + b"k" + struct.pack("<I", 77) + b"\0" * 16, "unknown value type"),
        # a tensor with 9 dimensions
        (_header(n_tensors=1) + struct.pack("<Q", 1) + b"t" + struct.pack("<I", 9) + b"\0" * 80, "dimensions"),
        # a tensor of 2^40 x 2^40 elements in a tiny file
        (_header(n_tensors=1) + struct.pack("<Q", 1) + b"t" + struct.pack("<IQQIQ", 2, 2**40, 2**40, 0, 0), "larger than the file"),
        # unknown ggml type
        (_header(n_tensors=1) + struct.pack("<Q", 1) + b"t" + struct.pack("<IQIQ", 1, 32, 999, 0), "unknown ggml type"),
    ],
)
def test_hostile_headers_rejected(tmp_path, blob, needle):
    p = tmp_path / "bad.gguf"
    p.write_bytes(blob)
    with pytest.raises(BadFile) as e:
        read_gguf(p)
    assert needle in str(e.value)
    assert str(p) in str(e.value)


def test_truncated_real_file(tiny, tmp_path):
    data = tiny.read_bytes()
    for cut in (10, 100, 700, len(data) // 2):
        p = tmp_path / f"cut{cut}.gguf"
        p.write_bytes(data[:cut])
        with pytest.raises(BadFile):
            read_gguf(p)


def test_huge_metadata_string_is_kept_truncated(tmp_path):
    w = gguf.GGUFWriter(str(tmp_path / "s.gguf"), "llama")
    w.add_name("<script>alert(1)</script>" + "A" * 100_000)
    w.add_block_count(1)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    info = read_gguf(tmp_path / "s.gguf")
    assert len(info.metadata["general.name"]) <= 513


def test_wrong_metadata_type(tmp_path):
    w = gguf.GGUFWriter(str(tmp_path / "t.gguf"), "llama")
    w.add_string("llama.block_count", "eighty")
    w.add_embedding_length(64)
    w.add_head_count(4)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with pytest.raises(BadFile) as e:
        model_from_gguf(read_gguf(tmp_path / "t.gguf"))
    assert "block_count" in str(e.value)


def test_missing_and_directory(tmp_path):
    with pytest.raises(BadFile, match="no such file"):
        read_gguf(tmp_path / "nope.gguf")
    with pytest.raises(BadFile, match="not a regular file"):
        read_gguf(tmp_path)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_after_magic_never_crash(tmp_path_factory, tail):
    p = tmp_path_factory.mktemp("fuzz") / "f.gguf"
    p.write_bytes(b"GGUF" + tail)
    try:
        read_gguf(p)
    except BadFile:
        pass
