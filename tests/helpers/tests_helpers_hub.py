"""Local stand-ins for remote model files: a static HTTP server (with or without byte ranges) and a
Hugging Face Hub lookalike that ``huggingface_hub``'s own client talks to through ``HF_ENDPOINT``.

Both run in a thread of the test process and count the bytes they send, so a test can check that
only a GGUF header was fetched. The Hub stand-in serves the endpoints the client uses:
``/api/models/{repo}[/revision/{rev}]`` (repo info with its file list) and
``/{repo}/resolve/{rev}/{file}`` (HEAD and GET, with ETag, X-Repo-Commit, Content-Length and
Range), and answers like the Hub for a gated repo (401/403 with ``X-Error-Code: GatedRepo``)
and a missing one (404, ``X-Error-Code: RepoNotFound``).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import gguf
import numpy as np

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class Served:
    bytes_sent: Counter[str] = field(default_factory=Counter)  # path -> body bytes written
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)  # (method, path, Range header)
    authorization: list[str | None] = field(default_factory=list)  # the Authorization header of each request


def _send_file(h: BaseHTTPRequestHandler, path: Path, served: Served, ranges: bool, extra: dict[str, str], head: bool) -> None:
    size = path.stat().st_size
    rng = h.headers.get("Range")
    m = _RANGE.match(rng or "") if ranges else None
    start, end = 0, size - 1
    if m:
        start = int(m.group(1))
        end = min(int(m.group(2)) if m.group(2) else size - 1, size - 1)
        if start >= size:
            h.send_response(416)
            h.send_header("Content-Range", f"bytes */{size}")
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        h.send_response(206)
        h.send_header("Content-Range", f"bytes {start}-{end}/{size}")
    else:
        h.send_response(200)
    for k, v in extra.items():
        h.send_header(k, v)
    if ranges:
        h.send_header("Accept-Ranges", "bytes")
    h.send_header("Content-Length", str(end - start + 1))
    h.end_headers()
    if head:
        return
    with path.open("rb") as f:
        f.seek(start)
        left = end - start + 1
        try:
            while left > 0:
                chunk = f.read(min(left, 64 * 1024))
                if not chunk:
                    break
                h.wfile.write(chunk)
                served.bytes_sent[h.path.split("?")[0]] += len(chunk)
                left -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up (what a client that refuses a whole-file answer does)


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def file_server(root: Path, ranges: bool = True) -> Iterator[tuple[str, Served]]:
    """Serve ``root`` over HTTP at 127.0.0.1 (``ranges=False``: ignore Range, as some servers do)."""
    served = Served()

    class H(_Quiet):
        def _go(self, head: bool) -> None:
            served.requests.append((self.command, self.path, self.headers.get("Range")))
            served.authorization.append(self.headers.get("Authorization"))
            p = root / self.path.lstrip("/").split("?")[0]
            if not p.is_file():
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            _send_file(self, p, served, ranges, {}, head)

        def do_GET(self) -> None:  # noqa: N802
            self._go(False)

        def do_HEAD(self) -> None:  # noqa: N802
            self._go(True)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", served
    finally:
        srv.shutdown()
        srv.server_close()


@dataclass
class HubRepo:
    files: dict[str, Path]  # repo path -> local file
    gated: bool = False  # files need "Authorization: Bearer <token>" with the hub's token
    redirect_gguf_to: str | None = None  # GET of a .gguf answers 302 to this base URL + file name (the Hub's CDN)


@contextmanager
def hub_server(repos: dict[str, HubRepo], token: str = "hf_good_token") -> Iterator[tuple[str, Served]]:
    """A Hub lookalike: repo info, file resolve (HEAD/GET/Range), gated and missing repos."""
    served = Served()

    class H(_Quiet):
        def _error(self, code: int, error_code: str, message: str) -> None:
            body = json.dumps({"error": message}).encode()
            self.send_response(code)
            self.send_header("X-Error-Code", error_code)
            self.send_header("X-Error-Message", message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, obj: object) -> None:
            body = json.dumps(obj).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _go(self, head: bool) -> None:
            path = self.path.split("?")[0]
            served.requests.append((self.command, path, self.headers.get("Range")))
            m = re.match(r"^/api/models/([^/]+/[^/]+)(?:/revision/([^/]+))?$", path)
            if m:
                repo = repos.get(m.group(1))
                if repo is None:
                    return self._error(404, "RepoNotFound", "Repository not found")
                if m.group(2) not in (None, "main", COMMIT):
                    return self._error(404, "RevisionNotFound", "Invalid rev id")
                siblings = [{"rfilename": n} for n in sorted(repo.files)]
                return self._json({"id": m.group(1), "modelId": m.group(1), "sha": COMMIT, "siblings": siblings,
                                   "private": False, "gated": "manual" if repo.gated else False, "tags": []})
            m = re.match(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", path)
            if m:
                repo = repos.get(m.group(1))
                if repo is None:
                    return self._error(404, "RepoNotFound", "Repository not found")
                if m.group(2) not in ("main", COMMIT):
                    return self._error(404, "RevisionNotFound", "Invalid rev id")
                if repo.gated and self.headers.get("Authorization") != f"Bearer {token}":
                    code = 401 if not self.headers.get("Authorization") else 403
                    return self._error(code, "GatedRepo", "Access to model is restricted. You must have access to it and be authenticated to access it.")
                local = repo.files.get(m.group(3))
                if local is None:
                    return self._error(404, "EntryNotFound", "Entry not found")
                if repo.redirect_gguf_to and local.suffix == ".gguf" and not head:
                    self.send_response(302)
                    self.send_header("Location", f"{repo.redirect_gguf_to}/{local.name}?X-Signature=secret")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                etag = '"' + hashlib.sha256(str(local).encode()).hexdigest()[:40] + '"'
                return _send_file(self, local, served, True, {"ETag": etag, "X-Repo-Commit": COMMIT}, head)
            self._error(404, "RepoNotFound", "no such endpoint")

        def do_GET(self) -> None:  # noqa: N802
            self._go(False)

        def do_HEAD(self) -> None:  # noqa: N802
            self._go(True)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", served
    finally:
        srv.shutdown()
        srv.server_close()


def write_sparse_gguf(path: Path, *, n_layer: int, n_embd: int, n_ff: int, n_head: int, n_head_kv: int, vocab: int,
                      split: tuple[int, int] | None = None, layers: range | None = None, name: str = "sparse",
                      file_type: str = "F16") -> Path:
    """A GGUF with a real header (full tokenizer list, every tensor's info) and a sparse hole for the F16 data.

    ``split=(i, n)``: shard i of n holding the blocks in ``layers`` (the first shard also the embeddings).
    ``file_type``: F16, Q8_0 or Q4_K_M (its matrices are then Q8_0 / Q4_K, as the header says).
    """
    ftype, ttype = {"F16": ("MOSTLY_F16", "F16"), "Q8_0": ("MOSTLY_Q8_0", "Q8_0"), "Q4_K_M": ("MOSTLY_Q4_K_M", "Q4_K")}[file_type]
    qt = gguf.GGMLQuantizationType[ttype]
    block, type_size = gguf.GGML_QUANT_SIZES[qt]
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name(name)
    w.add_block_count(n_layer)
    w.add_embedding_length(n_embd)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    w.add_context_length(8192)
    w.add_file_type(int(gguf.LlamaFileType[ftype]))
    if split is not None:
        w.add_uint16("split.no", split[0] - 1)
        w.add_uint16("split.count", split[1])
    if split is None or split[0] == 1:
        w.add_token_list([f"tok{i}" for i in range(vocab)])
        w.add_token_scores([0.0] * vocab)
    f16 = np.dtype(np.float16)
    hd = n_embd // n_head
    tensors: list[tuple[str, tuple[int, ...]]] = []
    first = split is None or split[0] == 1
    if first:
        tensors.append(("token_embd.weight", (vocab, n_embd)))
    for i in layers if layers is not None else range(n_layer):
        p = f"blk.{i}."
        tensors += [(p + "attn_q.weight", (n_embd, n_embd)), (p + "attn_k.weight", (n_head_kv * hd, n_embd)),
                    (p + "attn_v.weight", (n_head_kv * hd, n_embd)), (p + "attn_output.weight", (n_embd, n_embd)),
                    (p + "ffn_gate.weight", (n_ff, n_embd)), (p + "ffn_up.weight", (n_ff, n_embd)), (p + "ffn_down.weight", (n_embd, n_ff))]
    if split is None or split[0] == split[1]:
        tensors.append(("output.weight", (vocab, n_embd)))
    total = 0
    for name_, shape in tensors:
        nbytes = int(np.prod(shape)) // block * type_size
        w.add_tensor_info(name_, shape, f16, nbytes, raw_dtype=qt)
        total += gguf.GGUFWriter.ggml_pad(nbytes, w.data_alignment)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    w.close()
    header = path.stat().st_size
    with path.open("r+b") as f:
        f.truncate(gguf.GGUFWriter.ggml_pad(header, w.data_alignment) + total)  # a hole: no disk used for the weights
    return path
