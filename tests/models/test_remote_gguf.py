"""A GGUF header over HTTP: byte ranges only, the same answer as the local file, a clear refusal otherwise.

The server is a real HTTP server in a thread (tests_helpers_hub.file_server) serving real GGUF files
written with the gguf package; the weights are a sparse hole, so a 1.2 GB file costs no disk.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests_helpers_cli import error_lines, run_cli
from tests_helpers_hub import file_server, write_sparse_gguf

from hwbench.errors import BadFile, BadInput
from hwbench.gguf_header import read_gguf, read_gguf_any
from hwbench.models.remote_gguf import FetchStats, read_remote_gguf

# a Qwen2.5-0.5B-sized llama with its full 151,936-token vocabulary (a ~3 MB header) in F16: 1.26 GB
SHAPE = dict(n_layer=24, n_embd=896, n_ff=4864, n_head=14, n_head_kv=2, vocab=151936)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("gguf")
    return write_sparse_gguf(d / "big-F16.gguf", **SHAPE)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same model split in 3 shards, as gguf-split names them."""
    d = tmp_path_factory.mktemp("split")
    parts = [range(0, 8), range(8, 16), range(16, 24)]
    for i, layers in enumerate(parts, 1):
        write_sparse_gguf(d / f"big-F16-{i:05d}-of-00003.gguf", split=(i, 3), layers=layers, **SHAPE)  # type: ignore[arg-type]
    return d / "big-F16-00001-of-00003.gguf"


def test_remote_header_reads_under_2_percent_and_matches_the_local_file(big: Path) -> None:
    local = read_gguf(big)
    with file_server(big.parent) as (url, served):
        stats = FetchStats()
        remote = read_remote_gguf(f"{url}/{big.name}", None, stats)
    size = big.stat().st_size
    assert size > 1_000_000_000
    sent = sum(served.bytes_sent.values())
    assert sent == stats.bytes_fetched  # what the client counted is what the server sent
    assert sent < 0.02 * size, f"fetched {sent} of {size} bytes"
    assert sent >= size - local.weights_bytes - 64 * 1024  # the header itself was read (no shortcut)
    assert all(r[2] is not None for r in served.requests)  # every request asked for a range
    assert remote.metadata == local.metadata
    assert remote.tensors == local.tensors
    assert remote.array_lengths == local.array_lengths
    assert remote.file_size == local.file_size == size


def test_check_gives_the_same_answer_for_the_url_and_the_local_file(big: Path) -> None:
    args = ["--json", "--no-gpu", "--ram", "64GiB", "--context", "4096"]
    code, out, err = run_cli(["check", "--gguf", str(big), *args])
    assert code == 0, err
    local = json.loads(out)
    with file_server(big.parent) as (url, _):
        code, out, err = run_cli(["check", "--gguf", f"{url}/{big.name}", *args])
    assert code == 0, err
    remote = json.loads(out)
    assert remote["memory"] == local["memory"]
    for k in ("params", "quant", "n_layer", "arch", "bits_per_weight"):
        assert remote["model"][k] == local["model"][k]
    assert any("range request" in n for n in remote["notes"])


def test_a_server_without_range_support_is_refused_without_a_download(big: Path) -> None:
    with file_server(big.parent, ranges=False) as (url, served):
        stats = FetchStats()
        with pytest.raises(BadInput, match="does not support byte-range requests") as e:
            read_remote_gguf(f"{url}/{big.name}", None, stats)
        code, out, err = run_cli(["check", "--gguf", f"{url}/{big.name}", "--no-gpu"])
    assert "\n" not in str(e.value)
    assert stats.bytes_fetched == 0  # the body was never read
    # the server may have pushed a socket buffer's worth before it saw the client hang up; never the file
    assert sum(served.bytes_sent.values()) < 0.02 * big.stat().st_size
    assert code == 2 and out == ""
    lines = error_lines(err)
    assert len(lines) == 1 and "byte-range" in lines[0], err


def test_split_files_are_read_shard_by_shard_and_summed(split: Path, big: Path) -> None:
    whole = read_gguf(big)
    local = read_gguf_any(split)
    with file_server(split.parent) as (url, served):
        stats = FetchStats()
        remote = read_remote_gguf(f"{url}/{split.name}", None, stats)
    assert {p for _, p, _ in served.requests} == {f"/big-F16-{i:05d}-of-00003.gguf" for i in (1, 2, 3)}
    total = sum(p.stat().st_size for p in split.parent.glob("*.gguf"))
    assert remote.file_size == local.file_size == total
    assert remote.tensors == local.tensors
    assert sorted(t.name for t in remote.tensors) == sorted(t.name for t in whole.tensors)
    assert remote.weights_bytes == whole.weights_bytes
    assert stats.bytes_fetched < 0.02 * total


def test_a_missing_shard_or_file_is_one_line(split: Path, tmp_path: Path) -> None:
    write_sparse_gguf(tmp_path / split.name, split=(1, 3), layers=range(0, 8), **SHAPE)  # type: ignore[arg-type]
    # shards 2 and 3 are absent from this folder
    with file_server(tmp_path) as (url, _):
        with pytest.raises(BadInput, match="not found"):
            read_remote_gguf(f"{url}/{split.name}")
        with pytest.raises(BadInput, match="not found \\(HTTP 404\\)"):
            read_remote_gguf(f"{url}/nope.gguf")


def test_a_truncated_remote_file_is_rejected_like_a_local_one(big: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(_head(big, 100_000))
    with pytest.raises(BadFile) as local_err:
        read_gguf(cut)
    with file_server(tmp_path) as (url, _):
        with pytest.raises(BadFile) as remote_err:
            read_remote_gguf(f"{url}/cut.gguf")
    assert "truncated" in str(local_err.value) and "truncated" in str(remote_err.value)


def test_no_server_is_one_line() -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    code, out, err = run_cli(["check", "--gguf", f"http://127.0.0.1:{port}/x.gguf", "--no-gpu"])
    assert code == 2
    lines = error_lines(err)
    assert len(lines) == 1 and "cannot reach the server" in lines[0], err


def _head(p: Path, n: int) -> bytes:
    with p.open("rb") as f:
        return f.read(n)
