"""Hostile and broken files: GGUF headers, result records, profile files (issue 6, "Hostile and broken files").

Rejected with a clear error that names the file (and the field), in bounded memory: memory is
measured with tracemalloc's peak, never with a clock. Property-based tests (hypothesis) cover the
parsers of sizes, quant names and GGUF headers.
"""

from __future__ import annotations

import json
import struct
import tracemalloc
from pathlib import Path

import gguf
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tests_helpers_cli import command_exists, error_lines, run_cli
from tests_helpers_gguf import write_tiny

from hwbench.errors import BadFile, BadInput, ProfileError
from hwbench.gguf_header import GgufInfo, model_from_gguf, read_gguf

MiB = 2**20


def _peak_bytes(fn) -> int:  # type: ignore[no-untyped-def]
    """Peak Python allocation while ``fn`` runs (the error it raises is returned, not raised)."""
    tracemalloc.start()
    try:
        try:
            fn()
        except (BadInput, ValueError):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ----------------------------------------------------------------------------- GGUF: structure


def _hdr(n_tensors: int = 0, n_kv: int = 0) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", 3, n_tensors, n_kv)


def _s(text: str) -> bytes:
    b = text.encode()
    return struct.pack("<Q", len(b)) + b


def _kv(key: str, vtype: int, payload: bytes) -> bytes:
    return _s(key) + struct.pack("<I", vtype) + payload


def _tensor(name: str, dims: tuple[int, ...], ggml_type: int = 0, offset: int = 0) -> bytes:
    return _s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", ggml_type, offset)


HOSTILE = {
    # name: (file bytes, the words of the one-line error: which check refused it)
    # a vocabulary of 10^9 tokens claimed in a tiny file: over the array limit, nothing allocated
    "billion_tokens": (
        _hdr(n_kv=1) + _kv("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 10**9)),
        "array 'tokenizer.ggml.tokens' has 1000000000 elements, over the",
    ),
    # just under the array limit, but the strings are not there
    "array_not_there": (_hdr(n_kv=1) + _kv("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 49_000_000)) + _s("a") * 4, "truncated"),
    # a scalar array whose bytes exceed the file
    "scalar_array_past_eof": (_hdr(n_kv=1) + _kv("x.scores", 9, struct.pack("<IQ", 6, 40_000_000)), "truncated"),
    # nested arrays are not GGUF
    "array_of_arrays": (_hdr(n_kv=1) + _kv("x.nested", 9, struct.pack("<IQ", 9, 3)) + b"\0" * 32, "unsupported element type 9"),
    # 999,999 tensors (under the count limit) promised, none present
    "many_tensors_absent": (_hdr(n_tensors=999_999), "truncated"),
    # 99,999 metadata entries promised, none present
    "many_kv_absent": (_hdr(n_kv=99_999) + b"\0" * 16, "truncated"),
    # a metadata string of 60 MiB claimed (under the string limit), 10 bytes present
    "huge_string_absent": (_hdr(n_kv=1) + _kv("general.name", 8, struct.pack("<Q", 60 * MiB) + b"x" * 10), "truncated"),
    # a key of 2^63 bytes
    "huge_key": (_hdr(n_kv=1) + struct.pack("<Q", 2**63) + b"\0" * 16, f"string of {2**63} bytes exceeds the"),
    # a dimension of zero, and one of 2^41
    "zero_dim": (_hdr(n_tensors=1) + _tensor("blk.0.attn_q.weight", (0, 4)), "'blk.0.attn_q.weight' has dimension 0"),
    "dim_2_41": (_hdr(n_tensors=1) + _tensor("blk.0.attn_q.weight", (2**41, 1)), f"'blk.0.attn_q.weight' has dimension {2**41}"),
    # four dimensions of 2^40 each: 2^160 elements; the product must not be trusted
    "dims_product_2_160": (_hdr(n_tensors=1) + _tensor("t", (2**40, 2**40, 2**40, 2**40)), "larger than the file"),
    # zero dimensions
    "no_dims": (_hdr(n_tensors=1) + _s("t") + struct.pack("<I", 0) + struct.pack("<IQ", 0, 0), "'t' has 0 dimensions"),
    # a Q4_K tensor whose row is not a whole number of blocks
    "row_not_blocks": (_hdr(n_tensors=1) + _tensor("t", (100, 1), ggml_type=12), "row of 100 is not a multiple of Q4_K's block of 256"),
    # many tensors that are each small but together exceed the file
    "tensors_exceed_file": (_hdr(n_tensors=3) + b"".join(_tensor(f"t{i}", (1024, 1024)) for i in range(3)), "larger than the file"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_gguf_rejected_in_bounded_memory(tmp_path: Path, name: str) -> None:
    blob, why = HOSTILE[name]
    p = tmp_path / f"{name}.gguf"
    p.write_bytes(blob)
    with pytest.raises(BadFile) as e:
        read_gguf(p)
    msg = str(e.value)
    assert str(p) in msg and "\n" not in msg
    assert why in msg, f"refused, but not by the check this file is aimed at: {msg}"
    assert _peak_bytes(lambda: read_gguf(p)) < 1 * MiB, "a hostile header made the reader allocate"


# ----------------------------------------------------------------------------- GGUF: each limit reached
#
# Each file below is complete up to (and past) the field that breaks a limit -- sparse files stand in
# for gigabytes -- so the limit's own check is what refuses it: without that check the file would
# parse (or fail later, on something else). One file per limit, and one just inside it that parses.

from hwbench import gguf_header as gh  # noqa: E402


def _sparse(path: Path, blob: bytes, size: int = 0, tail: bytes = b"") -> Path:
    """``blob`` at the start, ``tail`` at the end, holes (zeros) in between, ``size`` bytes in all."""
    with path.open("wb") as f:
        f.write(blob)
        f.truncate(max(size, len(blob)) - len(tail))
        f.seek(0, 2)
        f.write(tail)
    return path


def _over_tensors(p: Path) -> Path:  # zeros would read as tensors named "" with 0 dimensions
    return _sparse(p, _hdr(n_tensors=gh.MAX_TENSORS + 1), 4 * MiB)


def _over_kv(p: Path) -> Path:  # zeros read as entries ("" = uint8 0): 13 bytes each, all present
    return _sparse(p, _hdr(n_kv=gh.MAX_KV + 1), 24 + 13 * (gh.MAX_KV + 1))


def _at_kv(p: Path) -> Path:
    return _sparse(p, _hdr(n_kv=gh.MAX_KV), 24 + 13 * gh.MAX_KV)


def _key(n: int) -> bytes:
    return _hdr(n_kv=1) + struct.pack("<Q", n) + b"k" * n + struct.pack("<II", 4, 7)


def _over_key(p: Path) -> Path:
    return _sparse(p, _key(gh.MAX_KEY_LEN + 1))


def _at_key(p: Path) -> Path:
    return _sparse(p, _key(gh.MAX_KEY_LEN))


def _string(n: int) -> bytes:  # general.name of n bytes, all there (a hole of zeros)
    return _hdr(n_kv=1) + _s("general.name") + struct.pack("<IQ", 8, n)


def _over_string(p: Path) -> Path:
    return _sparse(p, _string(gh.MAX_STRING_LEN + 1), len(_string(0)) + gh.MAX_STRING_LEN + 1)


def _at_string(p: Path) -> Path:
    return _sparse(p, _string(gh.MAX_STRING_LEN), len(_string(0)) + gh.MAX_STRING_LEN)


def _over_string_in_array(p: Path) -> Path:
    head = _hdr(n_kv=1) + _kv("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 1)) + struct.pack("<Q", gh.MAX_STRING_LEN + 1)
    return _sparse(p, head, len(head) + gh.MAX_STRING_LEN + 1)


def _array(n: int) -> bytes:  # n uint8 elements, all there
    return _hdr(n_kv=1) + _kv("x.bytes", 9, struct.pack("<IQ", 0, n))


def _over_array(p: Path) -> Path:
    return _sparse(p, _array(gh.MAX_ARRAY_LEN + 1), len(_array(0)) + gh.MAX_ARRAY_LEN + 1)


def _at_array(p: Path) -> Path:
    return _sparse(p, _array(gh.MAX_ARRAY_LEN), len(_array(0)) + gh.MAX_ARRAY_LEN)


def _over_header(p: Path) -> Path:
    """Metadata arrays (each inside the array limit) that add up to more header than allowed, then one more entry."""
    n = gh.MAX_HEADER_BYTES // gh.MAX_ARRAY_LEN + 1
    with p.open("wb") as f:
        f.write(_hdr(n_kv=n + 1))
        for i in range(n):
            f.write(_kv(f"x.bytes{i}", 9, struct.pack("<IQ", 0, gh.MAX_ARRAY_LEN)))
            f.seek(gh.MAX_ARRAY_LEN, 1)
        f.write(_kv("general.name", 8, _s("last")))
    return p


def _dims(n: int) -> bytes:
    return _hdr(n_tensors=1) + _tensor("t", (1,) * n)


def _over_dims(p: Path) -> Path:
    return _sparse(p, _dims(gh.MAX_DIMS + 1), 4096)


def _at_dims(p: Path) -> Path:
    return _sparse(p, _dims(gh.MAX_DIMS), 4096)


def _over_dimension(p: Path) -> Path:  # 2^40 + 1 elements: without the cap, refused later for the file size instead
    return _sparse(p, _hdr(n_tensors=1) + _tensor("t", (2**40 + 1,)), 4096)


LIMITS = [
    ("tensor_count", _over_tensors, f"{gh.MAX_TENSORS + 1} tensors, over the {gh.MAX_TENSORS} limit"),
    ("kv_count", _over_kv, f"{gh.MAX_KV + 1} metadata entries, over the {gh.MAX_KV} limit"),
    ("key_length", _over_key, f"string of {gh.MAX_KEY_LEN + 1} bytes exceeds the {gh.MAX_KEY_LEN}-byte limit"),
    ("string_length", _over_string, f"string of {gh.MAX_STRING_LEN + 1} bytes exceeds the {gh.MAX_STRING_LEN}-byte limit"),
    ("string_in_array_length", _over_string_in_array, "string in 'tokenizer.ggml.tokens' exceeds the length limit"),
    ("array_length", _over_array, f"array 'x.bytes' has {gh.MAX_ARRAY_LEN + 1} elements, over the {gh.MAX_ARRAY_LEN} limit"),
    ("header_bytes", _over_header, f"header larger than {gh.MAX_HEADER_BYTES} bytes"),
    ("dims_count", _over_dims, "tensor 't' has 5 dimensions"),
    ("dimension_2_40", _over_dimension, f"tensor 't' has dimension {2**40 + 1}"),
]


@pytest.mark.parametrize("make,why", [(m, w) for _, m, w in LIMITS], ids=[n for n, _, _ in LIMITS])
def test_each_gguf_limit_refuses_a_file_that_reaches_it(tmp_path: Path, make, why: str) -> None:  # type: ignore[no-untyped-def]
    p = make(tmp_path / "limit.gguf")
    with pytest.raises(BadFile) as e:
        read_gguf(p)
    msg = str(e.value)
    assert why in msg and str(p) in msg and "\n" not in msg, msg
    assert _peak_bytes(lambda: read_gguf(p)) < 1 * MiB


@pytest.mark.parametrize("make", [_at_kv, _at_key, _at_string, _at_array, _at_dims], ids=["kv_count", "key_length", "string_length", "array_length", "dims_count"])
def test_gguf_just_inside_each_limit_parses(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    """The limits refuse only what is over them: a file at each limit is read, in bounded memory."""
    p = make(tmp_path / "at-limit.gguf")
    read: list[GgufInfo] = []
    assert _peak_bytes(lambda: read.append(read_gguf(p))) < 1 * MiB
    assert read and read[0].file_size == p.stat().st_size


def test_billion_token_vocabulary_refused_even_when_the_file_holds_it(tmp_path: Path) -> None:
    """README: "a header claiming 10^9 tokens ... is refused": by the array limit, not because the file is short."""
    tokens = _sparse(tmp_path / "tokens.gguf", _hdr(n_kv=1) + _kv("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 0, 10**9)), 10**9 + 64)
    with pytest.raises(BadFile, match=r"tokenizer\.ggml\.tokens.* over the \d+ limit"):
        read_gguf(tokens)


def test_huge_real_metadata_string_is_skipped_not_loaded(tmp_path: Path) -> None:
    """A 32 MiB model name present in the file: kept truncated, and never held in memory whole."""
    p = tmp_path / "big-name.gguf"
    big = 32 * MiB
    p.write_bytes(_hdr(n_kv=2) + _kv("general.name", 8, struct.pack("<Q", big) + b"<script>" + b"A" * (big - 8)) + _kv("general.architecture", 8, _s("llama")))
    peak = _peak_bytes(lambda: read_gguf(p))
    info = read_gguf(p)
    assert len(info.metadata["general.name"]) <= 513
    assert info.metadata["general.architecture"] == "llama"
    assert peak < 4 * MiB


def test_real_vocab_array_is_skipped_not_loaded(tmp_path: Path) -> None:
    """A real 200k-token vocabulary is counted, not materialised."""
    p = tmp_path / "vocab.gguf"
    w = gguf.GGUFWriter(str(p), "llama")
    w.add_token_list([f"token-{i:06d}" for i in range(200_000)])
    w.add_tensor("token_embd.weight", np.zeros((16, 32), np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    peak = _peak_bytes(lambda: read_gguf(p))
    assert read_gguf(p).array_lengths["tokenizer.ggml.tokens"] == 200_000
    assert peak < 2 * MiB


def _gguf_with(tmp_path: Path, name: str, **kv: tuple[str, object]) -> Path:
    p = tmp_path / f"{name}.gguf"
    w = gguf.GGUFWriter(str(p), "llama")
    base: dict[str, tuple[str, object]] = {
        "llama.block_count": ("uint32", 2),
        "llama.embedding_length": ("uint32", 64),
        "llama.attention.head_count": ("uint32", 4),
    }
    base.update(kv)
    for key, (kind, value) in base.items():
        getattr(w, f"add_{kind}")(key, value)
    w.add_tensor("token_embd.weight", np.zeros((100, 64), np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return p


WRONG_METADATA = [
    ("layers_2_40", {"llama.block_count": ("uint64", 2**40)}, "block_count"),  # would allocate 2^40 layers
    ("layers_negative", {"llama.block_count": ("int32", -5)}, "block_count"),
    ("layers_string", {"llama.block_count": ("string", "eighty")}, "block_count"),
    ("embd_nan", {"llama.embedding_length": ("float32", float("nan"))}, "embedding_length"),
    ("embd_inf", {"llama.embedding_length": ("float32", float("inf"))}, "embedding_length"),
    ("heads_bool", {"llama.attention.head_count": ("bool", True)}, "head_count"),
    ("heads_2_31", {"llama.attention.head_count": ("uint32", 2**31)}, "head_count"),
    ("heads_over_embd", {"llama.attention.head_count": ("uint32", 128)}, "head_count"),
    ("kv_heads_over_heads", {"llama.attention.head_count_kv": ("uint32", 8)}, "head_count_kv"),
    ("ff_2_62", {"llama.feed_forward_length": ("uint64", 2**62)}, "feed_forward_length"),
    ("experts_2_31", {"llama.expert_count": ("uint32", 2**31)}, "expert_count"),
    ("experts_used_over_count", {"llama.expert_count": ("uint32", 8), "llama.expert_used_count": ("uint32", 9)}, "expert_used_count"),
    ("ctx_2_63", {"llama.context_length": ("uint64", 2**63)}, "context_length"),
    ("swa_fraction", {"llama.attention.sliding_window": ("float32", -1.5)}, "sliding_window"),
]


@pytest.mark.parametrize("name,kv,field", WRONG_METADATA, ids=[w[0] for w in WRONG_METADATA])
def test_wrong_metadata_values_are_a_clear_error(tmp_path: Path, name: str, kv: dict[str, tuple[str, object]], field: str) -> None:
    p = _gguf_with(tmp_path, name, **kv)
    with pytest.raises(BadFile) as e:
        model_from_gguf(read_gguf(p))
    assert field in str(e.value) and str(p) in str(e.value)
    # and through the CLI: one line, exit 2, naming the file and the field
    code, out, err = run_cli(["check", "--gguf", str(p), "--no-gpu", "--ram", "64GB", "--json"])
    assert code == 2, (out, err)
    lines = error_lines(err)
    assert len(lines) == 1 and field in lines[0] and p.name in lines[0]


def test_real_10m_context_model_is_checked(tmp_path: Path) -> None:
    """Llama 4 Scout's GGUF says context_length 10,485,760: a real value, so `check` must answer (exit 0)."""
    p = _gguf_with(tmp_path, "scout-like", **{"llama.context_length": ("uint32", 10_485_760)})
    code, out, err = run_cli(["check", "--gguf", str(p), "--no-gpu", "--ram", "64GB", "--context", "4096", "--json"])
    assert code == 0, err


def test_hostile_model_name_is_data(tmp_path: Path) -> None:
    """Markup and control characters in general.name survive as text (escaping is the writers' job)."""
    p = write_tiny(tmp_path / "x.gguf", name="<script>alert(1)</script>\x1b[31m\r\n|=cmd")
    m = model_from_gguf(read_gguf(p))
    assert m.name.startswith("<script>")
    code, out, err = run_cli(["check", "--gguf", str(p), "--no-gpu", "--ram", "64GB", "--json"])
    assert code == 0, err
    assert json.loads(out)["model"]["name"] == m.name


# ----------------------------------------------------------------------------- GGUF: properties

_VALUE = st.one_of(
    st.tuples(st.just(4), st.integers(0, 2**32 - 1).map(lambda v: struct.pack("<I", v))),
    st.tuples(st.just(5), st.integers(-(2**31), 2**31 - 1).map(lambda v: struct.pack("<i", v))),
    st.tuples(st.just(6), st.floats(width=32).map(lambda v: struct.pack("<f", v))),
    st.tuples(st.just(7), st.booleans().map(lambda v: struct.pack("<?", v))),
    st.tuples(st.just(10), st.integers(0, 2**64 - 1).map(lambda v: struct.pack("<Q", v))),
    st.tuples(st.just(8), st.text(max_size=40).map(_s)),
    st.tuples(st.integers(0, 2**32 - 1), st.binary(max_size=16)),  # any type id, any payload
)
_KEYS = st.sampled_from(
    [
        "general.architecture",
        "general.name",
        "general.file_type",
        "llama.block_count",
        "llama.embedding_length",
        "llama.attention.head_count",
        "llama.attention.head_count_kv",
        "llama.feed_forward_length",
        "llama.context_length",
        "llama.expert_count",
        "llama.expert_used_count",
        "tokenizer.ggml.tokens",
    ]
)
_TENSOR = st.tuples(
    st.sampled_from(["token_embd.weight", "output.weight", "blk.0.attn_q.weight", "blk.x.ffn_up.weight", "t"]),
    st.lists(st.integers(0, 2**64 - 1) | st.sampled_from([1, 32, 256, 4096]), min_size=0, max_size=5),
    st.integers(0, 60),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kvs=st.lists(st.tuples(_KEYS, _VALUE), max_size=8), tensors=st.lists(_TENSOR, max_size=4), cut=st.integers(0, 64), pad=st.integers(0, 64))
def test_structured_random_headers_parse_or_fail_cleanly(tmp_path_factory: pytest.TempPathFactory, kvs, tensors, cut, pad) -> None:  # type: ignore[no-untyped-def]
    body = b"".join(_kv(k, t, payload) for k, (t, payload) in kvs)
    body += b"".join(_s(n) + struct.pack("<I", len(d)) + b"".join(struct.pack("<Q", x) for x in d) + struct.pack("<IQ", t, 0) for n, d, t in tensors)
    blob = _hdr(len(tensors), len(kvs)) + body + b"\0" * pad
    if cut:
        blob = blob[: max(24, len(blob) - cut)]
    p = tmp_path_factory.mktemp("g") / "h.gguf"
    p.write_bytes(blob)
    try:
        info = read_gguf(p)
    except BadFile as e:
        assert str(p) in str(e)
        return
    assert len(info.tensors) == len(tensors)
    assert info.weights_bytes <= p.stat().st_size
    try:
        spec = model_from_gguf(info)
    except BadFile:
        return
    assert 1 <= spec.n_layer <= 4096 and 1 <= spec.n_head
    assert spec.n_head <= spec.n_embd or spec.head_dim  # more heads than width only with an explicit head size


@settings(max_examples=100, deadline=None)
@given(
    n_layer=st.integers(1, 6),
    n_embd=st.sampled_from([32, 64, 128]),
    name=st.text(max_size=2000),
)
def test_valid_written_headers_round_trip(tmp_path_factory: pytest.TempPathFactory, n_layer: int, n_embd: int, name: str) -> None:
    p = tmp_path_factory.mktemp("rt") / "m.gguf"
    write_tiny(p, n_layer=n_layer, n_embd=n_embd, name=name)
    info = read_gguf(p)
    m = model_from_gguf(info)
    assert (m.n_layer, m.n_embd) == (n_layer, n_embd)
    kept = info.metadata.get("general.name", "")  # the gguf writer drops empty strings
    from hwbench.gguf_header import _printable

    assert kept == _printable(name) or (kept.endswith("…") and len(kept) <= 513)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in kept)  # no control characters survive


# ----------------------------------------------------------------------------- sizes and quant names: properties

from hwbench.quant import FILE_TYPES, SHORT_FORMS, parse_quant  # noqa: E402
from hwbench.units import parse_bandwidth_gbps, parse_bytes, parse_count, parse_params  # noqa: E402

_NUMBERISH = st.from_regex(r"\A[ ]?-?[0-9]{0,400}(\.[0-9]{0,40})?(e[0-9]{1,4})?[ ]?[kmgtpbKMGTPB]?i?[bB]?(/s)?\Z", fullmatch=True)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_NUMBERISH, st.text(max_size=60), st.from_regex(r"\A[0-9]{1,4}\s*x\s*[0-9]{0,400}(\.[0-9]+)?[bmt]?\Z", fullmatch=True)))
def test_size_parsers_raise_only_bad_input(text: str) -> None:
    for fn in (parse_count, parse_bytes, parse_bandwidth_gbps, parse_params):
        try:
            v = fn(text)
        except BadInput as e:
            assert "\n" not in str(e)
            continue
        if fn is parse_params:
            assert isinstance(v, tuple) and 1_000_000 <= v[0] <= 100 * 10**12
        elif fn is parse_bandwidth_gbps:
            assert 0 < v <= 100_000
        else:
            assert isinstance(v, int) and v > 0


@given(st.integers(1, 10**18 // 2**30), st.sampled_from([("GiB", 2**30), ("GB", 10**9), ("MiB", 2**20), ("TB", 10**12)]))
def test_parse_bytes_integer_round_trip(n: int, unit: tuple[str, int]) -> None:
    assume(n * unit[1] <= 10**18)
    assert parse_bytes(f"{n}{unit[0]}") == n * unit[1]
    assert parse_bytes(f"{n} {unit[0].lower()}") == n * unit[1]


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40))
def test_parse_quant_raises_only_bad_input(text: str) -> None:
    try:
        q = parse_quant(text)
    except BadInput as e:
        assert "accepted" in str(e) and "\n" not in str(e)
        return
    assert q.name


@given(st.sampled_from(sorted(FILE_TYPES) + sorted(SHORT_FORMS)), st.sampled_from([str.lower, str.upper, str.title]), st.sampled_from(["", " ", "  "]))
def test_parse_quant_case_and_space_insensitive(name: str, case, pad: str) -> None:  # type: ignore[no-untyped-def]
    assert parse_quant(pad + case(name) + pad).name == parse_quant(name).name


# ----------------------------------------------------------------------------- result files


def _record_dict() -> dict:
    from hwbench.bench.records import minimal_host, new_record
    from hwbench.schema import BenchResult

    rec = new_record(minimal_host())
    rec.results.append(BenchResult(test="tg128", n_gen=128, tokens_per_s=10.0, stddev_tokens_per_s=0.1, samples_ns=[1, 2]))
    return rec.model_dump(mode="json")


def _newer() -> str:
    from hwbench.schema import SCHEMA_VERSION

    d = _record_dict()
    d["schema_version"] = SCHEMA_VERSION + 1
    return json.dumps(d)


def _without(key: str) -> str:
    d = _record_dict()
    del d[key]
    return json.dumps(d)


def _with(path: tuple[object, ...], value: object) -> str:
    d = _record_dict()
    cur = d
    for k in path[:-1]:
        cur = cur[k]  # type: ignore[index]
    cur[path[-1]] = value  # type: ignore[index]
    return json.dumps(d)


BAD_RECORDS = [
    ("malformed", '{"schema_version": 1, "results": [', "malformed json"),
    ("not_utf8", b"\xff\xfe{\x00", "utf-8"),
    ("a_list", "[1, 2, 3]", "json object"),
    ("not_a_record", '{"hello": "world"}', "schema_version"),
    ("newer_schema", _newer(), "schema_version"),
    ("schema_string", _with(("schema_version",), "1"), "schema_version"),
    ("missing_host", _without("host"), "host"),
    ("missing_run_id", _without("run_id"), "run_id"),
    ("results_not_list", _with(("results",), "fast"), "results"),
    ("tokens_per_s_text", _with(("results", 0, "tokens_per_s"), "very fast"), "results.0.tokens_per_s"),
    ("samples_wrong", _with(("results", 0, "samples_ns"), [1, "x"]), "results.0.samples_ns"),
    ("empty", "", "malformed json"),
]


@pytest.mark.parametrize("name,content,field", BAD_RECORDS, ids=[b[0] for b in BAD_RECORDS])
def test_bad_result_file_names_file_and_field(tmp_path: Path, name: str, content: str | bytes, field: str) -> None:
    from hwbench.report.records import load_records

    p = tmp_path / f"{name}.json"
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    ok, errors = load_records([p])
    assert not ok and len(errors) == 1
    msg = str(errors[0])
    assert str(p) in msg and field.lower() in msg.lower() and "\n" not in msg


def test_huge_result_file_refused_without_reading(tmp_path: Path) -> None:
    from hwbench.report.records import load_records

    p = tmp_path / "huge.json"
    with p.open("wb") as f:  # sparse: 2 GiB claimed, nothing written
        f.truncate(2 * 2**30)
    peak = _peak_bytes(lambda: load_records([p]))
    _, errors = load_records([p])
    assert errors and "larger than" in str(errors[0])
    assert peak < 1 * MiB


RESULT_LIMIT_BYTES = 64 * MiB  # README, "Safety and limits": result files <= 64 MiB


def test_result_file_just_over_the_limit_is_refused_and_at_the_limit_is_read(tmp_path: Path) -> None:
    """A valid record padded with whitespace: read at exactly 64 MiB, refused (by name, for its size) one byte over."""
    from hwbench.report.records import load_records

    body = json.dumps(_record_dict()).encode()
    at, over = tmp_path / "at.json", tmp_path / "over.json"
    at.write_bytes(body + b" " * (RESULT_LIMIT_BYTES - len(body)))
    over.write_bytes(body + b" " * (RESULT_LIMIT_BYTES + 1 - len(body)))
    ok, errors = load_records([at, over])
    assert [r.path for r in ok] == [at]
    assert len(errors) == 1 and errors[0].path == over
    assert str(over) in str(errors[0]) and f"{RESULT_LIMIT_BYTES + 1} bytes, larger than" in str(errors[0])


@pytest.mark.skipif(not command_exists("compare"), reason="waiting for compare")
def test_compare_reports_bad_file_by_name_and_compares_the_rest(tmp_path: Path) -> None:
    from hwbench.bench.records import minimal_host, new_record, write_record

    good = write_record(new_record(minimal_host()), tmp_path)
    bad = tmp_path / "newer.json"
    bad.write_text(_newer())
    code, out, err = run_cli(["compare", str(good), str(bad), "--json"])
    assert code == 0, err
    assert "newer.json" in err and "schema_version" in err
    assert "Traceback" not in err


def test_report_reports_bad_file_by_name_and_uses_the_rest(tmp_path: Path) -> None:
    from hwbench.bench.records import minimal_host, new_record, write_record

    good = write_record(new_record(minimal_host()), tmp_path)
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    out_file = tmp_path / "r.md"
    code, out, err = run_cli(["report", str(good), str(bad), "-o", str(out_file)])
    assert code == 0, err
    assert "broken.json" in err and "json" in err.lower()
    assert out_file.exists()


# ----------------------------------------------------------------------------- profile files

_GPU_OK = "  - name: My GPU\n    vendor: nvidia\n    memory_gib: 24\n    bandwidth_gbps: 900\n    source: me\n    as_of: '2025-01-01'\n"
BAD_PROFILES = [
    ("malformed", "gpus:\n  - name: [unclosed\n", "malformed yaml"),
    ("tabs", "gpus:\n\t- name: x\n", "malformed yaml"),
    ("python_tag", "gpus: !!python/object/apply:os.system ['echo pwned']\n", "malformed yaml"),
    ("not_mapping", "- 1\n- 2\n", "gpus"),
    ("entry_not_mapping", "gpus:\n  - just a string\n", "gpus[0]"),
    ("wrong_type", _GPU_OK.replace("memory_gib: 24", "memory_gib: lots").join(["gpus:\n", ""]), "memory_gib"),
    ("negative", _GPU_OK.replace("memory_gib: 24", "memory_gib: -24").join(["gpus:\n", ""]), "memory_gib"),
    ("unknown_field", _GPU_OK.replace("source: me", "source: me\n    colour: red").join(["gpus:\n", ""]), "colour"),
    ("missing_field", _GPU_OK.replace("    source: me\n", "").join(["gpus:\n", ""]), "source"),
    ("not_utf8", b"gpus:\n  - name: \xff\xfe\n", "utf-8"),
    (
        # 10^7 values from a few hundred bytes: over the 2,000,000-value limit, yet small enough that the test
        # fails (instead of hanging on 10^9) if the limit is gone
        "alias_bomb",
        "a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n"
        + "".join(f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 7))
        + "gpus:\n  - name: B\n    vendor: nvidia\n    source: s\n    as_of: '2025-01-01'\n    notes: *a6\n",
        "aliases",
    ),
]


@pytest.mark.parametrize("name,content,field", BAD_PROFILES, ids=[b[0] for b in BAD_PROFILES])
def test_bad_profile_file_names_file_and_field(tmp_path: Path, name: str, content: str | bytes, field: str) -> None:
    from hwbench import profiles

    d = tmp_path / name
    d.mkdir()
    f = d / "gpus-mine.yaml"
    f.write_bytes(content if isinstance(content, bytes) else content.encode())
    profiles.load_gpus.cache_clear()
    peak = _peak_bytes(lambda: profiles.load_gpus(str(d)))
    profiles.load_gpus.cache_clear()
    with pytest.raises(ProfileError) as e:
        profiles.load_gpus(str(d))
    msg = str(e.value)
    assert str(f) in msg and field.lower() in msg.lower() and "\n" not in msg
    assert peak < 64 * MiB
    # through the CLI: one line, exit 2
    code, out, err = run_cli(["check", "--params", "7b", "--no-gpu", "--ram", "64GB", "--profiles-dir", str(d)])
    lines = error_lines(err)
    assert code == 2 and len(lines) == 1 and f.name in lines[0], err
    # and `profiles validate` lists it as an error of that file
    code, out, err = run_cli(["profiles", "validate", str(d), "--json"])
    assert code == 2
    rep = json.loads(out)
    assert any(r["path"] == str(f) and r["errors"] for r in rep)


def test_huge_profile_file_refused_without_reading(tmp_path: Path) -> None:
    from hwbench import profiles

    f = tmp_path / "gpus.yaml"
    with f.open("wb") as fh:
        fh.truncate(1 * 2**30)
    profiles.load_gpus.cache_clear()
    peak = _peak_bytes(lambda: profiles.load_gpus(str(tmp_path)))
    with pytest.raises(ProfileError, match="larger than"):
        profiles.load_gpus(str(tmp_path))
    assert peak < 32 * MiB  # the bundled profiles are parsed; the 1 GiB file is never read


PROFILE_LIMIT_BYTES = 16 * MiB  # README, "Safety and limits": profile files <= 16 MiB


def test_profile_file_just_over_the_limit_is_refused_and_at_the_limit_is_read(tmp_path: Path) -> None:
    """A valid GPU profile padded with a YAML comment: read at exactly 16 MiB, refused by name one byte over."""
    from hwbench import profiles

    body = ("gpus:\n" + _GPU_OK + "# ").encode()
    for name, size in (("at", PROFILE_LIMIT_BYTES), ("over", PROFILE_LIMIT_BYTES + 1)):
        d = tmp_path / name
        d.mkdir()
        (d / "gpus-mine.yaml").write_bytes(body + b"x" * (size - len(body)))
    profiles.load_gpus.cache_clear()
    assert "My GPU" in {g.name for g in profiles.load_gpus(str(tmp_path / "at"))}
    profiles.load_gpus.cache_clear()
    with pytest.raises(ProfileError) as e:
        profiles.load_gpus(str(tmp_path / "over"))
    msg = str(e.value)
    assert str(tmp_path / "over" / "gpus-mine.yaml") in msg and f"{PROFILE_LIMIT_BYTES + 1} bytes, larger than" in msg
