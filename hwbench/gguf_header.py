"""Read a GGUF file's header (metadata + tensor table) without loading weights.

A small bounded parser of its own (no numpy): files come from the internet, so every count,
length and dimension is checked against hard limits and against the file's size before anything
is allocated, and a malformed file is rejected with one clear line in bounded time and memory.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from hwbench.arch import TensorSpec
from hwbench.errors import BadFile
from hwbench.quant import FILE_TYPES_BY_ID, GGML_TYPES_BY_ID
from hwbench.schema import ModelSpec

MAX_TENSORS = 1_000_000
MAX_KV = 100_000
MAX_KEY_LEN = 65_536
MAX_STRING_LEN = 64 * 2**20  # a single metadata string
MAX_ARRAY_LEN = 50_000_000
MAX_HEADER_BYTES = 1 * 2**30  # tokenizer arrays of big vocabularies stay far below this
MAX_DIMS = 4
KEEP_STRING_CHARS = 512  # metadata strings are kept truncated (they end up in reports)

_SCALARS = {
    0: ("<B", 1),
    1: ("<b", 1),
    2: ("<H", 2),
    3: ("<h", 2),
    4: ("<I", 4),
    5: ("<i", 4),
    6: ("<f", 4),
    7: ("<?", 1),
    10: ("<Q", 8),
    11: ("<q", 8),
    12: ("<d", 8),
}
T_STRING, T_ARRAY = 8, 9


@dataclass
class GgufInfo:
    path: str
    version: int
    file_size: int
    metadata: dict[str, Any]  # scalars and short strings; arrays summarised as their length
    tensors: list[TensorSpec]
    array_lengths: dict[str, int] = field(default_factory=dict)

    @property
    def arch(self) -> str:
        return str(self.metadata.get("general.architecture", "llama"))

    @property
    def file_type(self) -> str | None:
        ft = self.metadata.get("general.file_type")
        if isinstance(ft, int) and ft in FILE_TYPES_BY_ID:
            return FILE_TYPES_BY_ID[ft].name
        return None

    @property
    def weights_bytes(self) -> int:
        return sum(t.n_bytes for t in self.tensors)


_CONTROL = {c: "\ufffd" for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)] if c not in (0x09, 0x0A)}


def _printable(text: str) -> str:
    """Metadata strings end up on terminals and in reports: no escape sequences or control characters."""
    return text.translate(_CONTROL).replace("\t", " ").replace("\n", " ")


class _Reader:
    def __init__(self, f: BinaryIO, size: int, path: str) -> None:
        self.f, self.size, self.path = f, size, path

    def fail(self, what: str) -> BadFile:
        return BadFile(f"{self.path}: not a valid GGUF file ({what})")

    def read(self, n: int) -> bytes:
        if n < 0 or self.f.tell() + n > self.size:
            raise self.fail("truncated header")
        b = self.f.read(n)
        if len(b) != n:
            raise self.fail("truncated header")
        if self.f.tell() > MAX_HEADER_BYTES:
            raise self.fail(f"header larger than {MAX_HEADER_BYTES} bytes")
        return b

    def u32(self) -> int:
        return int(struct.unpack("<I", self.read(4))[0])

    def u64(self) -> int:
        return int(struct.unpack("<Q", self.read(8))[0])

    def string(self, limit: int = MAX_STRING_LEN, keep: int | None = None) -> str:
        n = self.u64()
        if n > limit:
            raise self.fail(f"string of {n} bytes exceeds the {limit}-byte limit")
        if keep is not None and n > keep:
            head = self.read(keep)
            self.skip(n - keep)
            return head.decode("utf-8", "replace") + "…"
        return self.read(n).decode("utf-8", "replace")

    def skip(self, n: int) -> None:
        if self.f.tell() + n > self.size:
            raise self.fail("truncated header")
        self.f.seek(n, os.SEEK_CUR)

    def value(self, vtype: int, key: str, arrays: dict[str, int]) -> Any:
        if vtype in _SCALARS:
            fmt, n = _SCALARS[vtype]
            return struct.unpack(fmt, self.read(n))[0]
        if vtype == T_STRING:
            return _printable(self.string(keep=KEEP_STRING_CHARS))
        if vtype == T_ARRAY:
            etype = self.u32()
            count = self.u64()
            if count > MAX_ARRAY_LEN:
                raise self.fail(f"array {key!r} has {count} elements, over the {MAX_ARRAY_LEN} limit")
            arrays[key] = count
            if etype in _SCALARS:
                self.skip(count * _SCALARS[etype][1])
            elif etype == T_STRING:
                for _ in range(count):
                    n = self.u64()
                    if n > MAX_STRING_LEN:
                        raise self.fail(f"string in {key!r} exceeds the length limit")
                    self.skip(n)
            else:
                raise self.fail(f"array {key!r} has unsupported element type {etype}")
            return None
        raise self.fail(f"metadata {key!r} has unknown value type {vtype}")


def read_gguf(path: str | os.PathLike[str]) -> GgufInfo:
    p = Path(path)
    try:
        size = p.stat().st_size
        if not p.is_file():
            raise BadFile(f"{p}: not a regular file")
        f = p.open("rb")
    except FileNotFoundError:
        raise BadFile(f"{p}: no such file") from None
    except PermissionError:
        raise BadFile(f"{p}: permission denied") from None
    except OSError as e:
        raise BadFile(f"{p}: cannot open ({e.strerror})") from None
    with f:
        return read_gguf_from(f, size, str(p))


def read_gguf_from(f: BinaryIO, size: int, label: str) -> GgufInfo:
    """The header of a GGUF of ``size`` bytes read from ``f`` (a file, or a byte-range reader of a remote one).

    ``f`` needs ``read``, ``seek(n, SEEK_CUR)`` and ``tell``; only the header's bytes are read.
    ``label`` names the file in messages (a path or a URL).
    """
    r = _Reader(f, size, label)
    p = label
    if size < 24:
        raise BadFile(f"{p}: not a GGUF file (only {size} bytes)")
    magic = r.read(4)
    if magic != b"GGUF":
        raise BadFile(f"{p}: not a GGUF file (magic {magic!r}, expected b'GGUF')")
    version = r.u32()
    if version not in (2, 3):
        raise r.fail(f"unsupported GGUF version {version}; supported: 2, 3")
    n_tensors = r.u64()
    n_kv = r.u64()
    if n_tensors > MAX_TENSORS:
        raise r.fail(f"{n_tensors} tensors, over the {MAX_TENSORS} limit")
    if n_kv > MAX_KV:
        raise r.fail(f"{n_kv} metadata entries, over the {MAX_KV} limit")
    meta: dict[str, Any] = {}
    arrays: dict[str, int] = {}
    for _ in range(n_kv):
        key = r.string(limit=MAX_KEY_LEN)
        vtype = r.u32()
        v = r.value(vtype, key, arrays)
        if v is not None:
            meta[key] = v
    tensors: list[TensorSpec] = []
    total_bytes = 0
    for _ in range(n_tensors):
        name = r.string(limit=MAX_KEY_LEN)
        nd = r.u32()
        if nd < 1 or nd > MAX_DIMS:
            raise r.fail(f"tensor {name!r} has {nd} dimensions")
        dims = tuple(r.u64() for _ in range(nd))
        tid = r.u32()
        r.u64()  # offset
        t = GGML_TYPES_BY_ID.get(tid)
        if t is None:
            raise r.fail(f"tensor {name!r} has unknown ggml type {tid}")
        n = 1
        for d in dims:
            if d < 1 or d > 2**40:
                raise r.fail(f"tensor {name!r} has dimension {d}")
            n *= d
        if dims[0] % t.block_elems:
            raise r.fail(f"tensor {name!r}: row of {dims[0]} is not a multiple of {t.name}'s block of {t.block_elems}")
        nbytes = n // t.block_elems * t.block_bytes
        total_bytes += nbytes
        if total_bytes > size:
            raise r.fail(f"tensor data ({total_bytes} bytes so far) larger than the file ({size} bytes): truncated or corrupt")
        layer = None
        if name.startswith("blk."):
            try:
                layer = int(name.split(".")[1])
            except (IndexError, ValueError):
                layer = None
        tensors.append(TensorSpec(name, dims, t.name, layer))
    return GgufInfo(label, version, size, meta, tensors, arrays)


# Plausible ranges of the shape fields (the largest released models stay far inside them): a header
# outside them is hostile or corrupt, and would make the estimator allocate or loop without bound.
_SHAPE_LIMITS: dict[str, tuple[int, int]] = {
    "block_count": (1, 4096),
    "embedding_length": (1, 1 << 20),
    "attention.head_count": (1, 1 << 16),
    "attention.head_count_kv": (0, 1 << 16),
    "feed_forward_length": (0, 1 << 24),
    "expert_count": (0, 1 << 16),
    "expert_used_count": (0, 1 << 16),
    "expert_feed_forward_length": (0, 1 << 24),
    "expert_shared_count": (0, 1 << 16),
    "leading_dense_block_count": (0, 4096),
    "attention.key_length": (1, 1 << 16),
    "attention.value_length": (1, 1 << 16),
    "attention.kv_lora_rank": (1, 1 << 20),
    "attention.q_lora_rank": (1, 1 << 20),
    "rope.dimension_count": (1, 1 << 16),
    "attention.sliding_window": (0, 1 << 31),
    "attention.key_length_mla": (1, 1 << 16),
    "attention.value_length_mla": (1, 1 << 16),
    "interleave_moe_layer_step": (0, 4096),
    "expert_shared_feed_forward_length": (0, 1 << 24),
    "context_length": (1, 1 << 31),
}


def _get(meta: dict[str, Any], arch: str, key: str, default: Any = None, path: str = "GGUF file") -> Any:
    v = meta.get(f"{arch}.{key}", default)
    if v is None or v is default:
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise BadFile(f"{path}: GGUF metadata {arch}.{key} has the wrong type ({type(v).__name__}); expected an integer")
    if isinstance(v, float):
        if not v.is_integer():
            raise BadFile(f"{path}: GGUF metadata {arch}.{key} is {v!r}; expected an integer")
        v = int(v)
    lo, hi = _SHAPE_LIMITS.get(key, (0, 1 << 40))
    if not lo <= v <= hi:
        raise BadFile(f"{path}: GGUF metadata {arch}.{key} is {v}, outside the plausible range {lo}..{hi}")
    return v


def model_from_gguf(info: GgufInfo) -> ModelSpec:
    """The ModelSpec llama.cpp would build from this header (shape, heads, experts)."""
    meta, arch = info.metadata, info.arch
    n_layer = _get(meta, arch, "block_count", path=info.path)
    n_embd = _get(meta, arch, "embedding_length", path=info.path)
    n_head = _get(meta, arch, "attention.head_count", path=info.path)
    if not n_layer or not n_embd or not n_head:
        raise BadFile(f"{info.path}: GGUF metadata lacks {arch}.block_count/embedding_length/attention.head_count")
    n_head_kv = _get(meta, arch, "attention.head_count_kv", n_head, path=info.path) or n_head
    n_ff = _get(meta, arch, "feed_forward_length", 0, path=info.path) or 0
    tok = next((t for t in info.tensors if t.name == "token_embd.weight"), None)
    vocab = info.array_lengths.get("tokenizer.ggml.tokens") or (tok.shape[1] if tok and len(tok.shape) > 1 else 0)
    n_expert = _get(meta, arch, "expert_count", 0, path=info.path) or 0
    if n_head > n_embd and not _get(meta, arch, "attention.key_length", path=info.path):
        raise BadFile(f"{info.path}: GGUF metadata {arch}.attention.head_count {n_head} exceeds {arch}.embedding_length {n_embd}")
    if n_head_kv > n_head:
        raise BadFile(f"{info.path}: GGUF metadata {arch}.attention.head_count_kv {n_head_kv} exceeds head_count {n_head}")
    if (_get(meta, arch, "expert_used_count", 0, path=info.path) or 0) > n_expert:
        raise BadFile(f"{info.path}: GGUF metadata {arch}.expert_used_count exceeds {arch}.expert_count {n_expert}")
    params = sum(t.n_elements for t in info.tensors)
    head_dim = _get(meta, arch, "attention.key_length", path=info.path)
    head_dim_v = _get(meta, arch, "attention.value_length", path=info.path)
    if arch == "deepseek2" and _get(meta, arch, "attention.key_length_mla", path=info.path):
        # MLA conversion: key/value_length describe the cached latent, *_mla the per-head attention
        head_dim = _get(meta, arch, "attention.key_length_mla", path=info.path)
        head_dim_v = _get(meta, arch, "attention.value_length_mla", path=info.path)
    swa = _swa_layout(meta, arch, info.path)
    spec = ModelSpec(
        name=str(meta.get("general.name") or Path(info.path).stem)[:200],
        arch=arch,
        params=params,
        n_layer=int(n_layer),
        n_embd=int(n_embd),
        n_head=int(n_head),
        n_head_kv=int(n_head_kv),
        head_dim=head_dim,
        head_dim_v=head_dim_v,
        n_ff=int(n_ff) if n_ff else int(n_embd) * 4,
        vocab=int(vocab) or 32000,
        tied_embeddings=not any(t.name == "output.weight" for t in info.tensors),
        n_expert=int(n_expert),
        n_expert_used=int(_get(meta, arch, "expert_used_count", 0, path=info.path) or 0),
        n_ff_exp=_get(meta, arch, "expert_feed_forward_length", path=info.path),
        n_expert_shared=int(_get(meta, arch, "expert_shared_count", 0, path=info.path) or 0),
        n_dense_lead=int(_get(meta, arch, "leading_dense_block_count", 0, path=info.path) or 0),
        kv_lora_rank=_get(meta, arch, "attention.kv_lora_rank", path=info.path),
        q_lora_rank=_get(meta, arch, "attention.q_lora_rank", path=info.path),
        qk_rope_dim=_get(meta, arch, "rope.dimension_count", path=info.path) if arch == "deepseek2" else None,
        sliding_window=swa[0],
        swa_period=swa[1],
        context_length=_get(meta, arch, "context_length", path=info.path),
        source=f"GGUF header of {Path(info.path).name}",
        attn_chunk=swa[2],
        moe_every=_get(meta, arch, "interleave_moe_layer_step", path=info.path) or None,
        n_ff_shexp=_get(meta, arch, "expert_shared_feed_forward_length", path=info.path),
        attn_sinks=any(t.name.endswith(".attn_sinks.weight") for t in info.tensors),
        moe_bias=any(t.name.endswith("ffn_gate_inp.bias") for t in info.tensors),
    )
    return spec


def _swa_layout(meta: dict[str, Any], arch: str, path: str) -> tuple[int | None, int | None, int | None]:
    """(sliding_window, swa_period, attn_chunk) as the header gives them.

    Which layers are windowed is the architecture's rule (hwbench.estimate.memory.swa_layout, after
    llama.cpp's load_hparams), so the period is left to it; only Llama 4's explicit
    ``sliding_window = 0`` (chunked attention off) is recorded, as attn_chunk 0.
    """
    window = _get(meta, arch, "attention.sliding_window", path=path)
    if arch == "llama4":
        return None, None, (0 if window == 0 else None)
    return (int(window) if window else None), None, None


# llama.cpp's gguf-split names: NAME-00001-of-00003.gguf (llama_split_prefix in src/llama.cpp)
SPLIT_RE = re.compile(r"^(?P<prefix>.*)-(?P<i>\d{5})-of-(?P<n>\d{5})\.gguf$")
MAX_SPLITS = 1024


def split_names(name: str) -> list[str] | None:
    """All shard names of a split GGUF, given any one of them (None when ``name`` is not a shard)."""
    m = SPLIT_RE.match(name)
    if not m:
        return None
    n = int(m.group("n"))
    if not 1 <= n <= MAX_SPLITS or not 1 <= int(m.group("i")) <= n:
        raise BadFile(f"{name}: shard number out of range (1..{MAX_SPLITS})")
    return [f"{m.group('prefix')}-{i:05d}-of-{n:05d}.gguf" for i in range(1, n + 1)]


def merge_shards(shards: list[GgufInfo]) -> GgufInfo:
    """One model from the headers of its split files: the first shard's metadata, every shard's tensors, summed sizes."""
    first = shards[0]
    count = first.metadata.get("split.count")
    if isinstance(count, int) and count != len(shards):
        raise BadFile(f"{first.path}: the header says split.count={count}, but {len(shards)} shards were read")
    tensors = [t for s in shards for t in s.tensors]
    return GgufInfo(first.path, first.version, sum(s.file_size for s in shards), first.metadata, tensors, first.array_lengths)


def read_gguf_any(path: str | os.PathLike[str]) -> GgufInfo:
    """A local GGUF file; the first shard of a split model reads every shard (in the same folder) and sums them."""
    p = Path(path)
    names = split_names(p.name)
    if not names or len(names) == 1:
        return read_gguf(p)
    return merge_shards([read_gguf(p.with_name(n)) for n in names])
