"""A GGUF header read over HTTP with byte-range requests: only the header's bytes, never the weights.

:class:`RangeFile` is a read-only file over a URL that fetches the bytes asked for in growing
windows (``Range: bytes=a-b``); :func:`hwbench.gguf_header.read_gguf_from` parses it with the same
bounded parser as a local file. A server that ignores ``Range`` (answers 200 with the whole file) is
refused at once: the response is closed after its status line, so the file is never downloaded.
Split models (``-00001-of-0000N.gguf``) are read shard by shard and summed.

Redirects are followed by hand (the Hub sends large files to a CDN): the ``Range`` header travels
along, the ``Authorization`` header only while the host stays the same.
"""

from __future__ import annotations

import io
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from hwbench.errors import BadFile, BadInput
from hwbench.gguf_header import GgufInfo, merge_shards, read_gguf_from, split_names

FIRST_WINDOW_BYTES = 256 * 1024  # a small model's whole header; larger ones double the window
MAX_WINDOW_BYTES = 16 * 2**20
TIMEOUT_S = 30.0
MAX_REDIRECTS = 5
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


@dataclass
class FetchStats:
    requests: int = 0
    bytes_fetched: int = 0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None  # we follow redirects ourselves (to keep Range and drop Authorization across hosts)


_OPENER = urllib.request.build_opener(_NoRedirect)


def _short(url: str) -> str:
    """The URL without credentials or query (signed CDN links carry tokens there), for messages."""
    u = urllib.parse.urlsplit(url)
    if not u.hostname:
        return url
    host = u.hostname + (f":{u.port}" if u.port else "")
    return urllib.parse.urlunsplit((u.scheme, host, u.path, "", ""))


class RangeFile(io.RawIOBase):
    """Read-only, seekable view of a remote file through HTTP range requests; counts what it fetched."""

    def __init__(self, url: str, headers: dict[str, str] | None = None, stats: FetchStats | None = None) -> None:
        super().__init__()
        self.url, self.headers = url, dict(headers or {})
        self.stats = stats if stats is not None else FetchStats()
        self.pos = 0
        self.buf_start, self.buf = 0, b""
        self.window = FIRST_WINDOW_BYTES
        self.size = -1
        self._fetch(0, FIRST_WINDOW_BYTES)  # learns the size (Content-Range) and refuses servers without ranges

    # -- HTTP
    def _open(self, start: int, end: int):  # type: ignore[no-untyped-def]
        url, headers = self.url, dict(self.headers)
        headers["Range"] = f"bytes={start}-{end - 1}"
        headers.setdefault("Accept-Encoding", "identity")
        headers.setdefault("User-Agent", "hwbench")
        origin = urllib.parse.urlsplit(url).netloc
        for _ in range(MAX_REDIRECTS + 1):
            req = urllib.request.Request(url, headers=headers, method="GET")
            try:
                return _OPENER.open(req, timeout=TIMEOUT_S)
            except urllib.error.HTTPError as e:
                if e.code in (301, 302, 303, 307, 308) and e.headers.get("Location"):
                    e.close()
                    url = urllib.parse.urljoin(url, e.headers["Location"])
                    if urllib.parse.urlsplit(url).netloc != origin:  # another host (a CDN): never send it the token
                        headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
                    continue
                e.close()
                raise _http_error(self.url, e.code, e.headers.get("X-Error-Code")) from None
            except (urllib.error.URLError, OSError) as e:
                reason = getattr(e, "reason", e)
                raise BadInput(f"{_short(self.url)}: cannot reach the server ({reason}); check the address and the network") from None
        raise BadInput(f"{_short(self.url)}: more than {MAX_REDIRECTS} redirects")

    def _fetch(self, start: int, n: int) -> None:
        end = start + n if self.size < 0 else min(start + n, self.size)
        if end <= start:
            return
        resp = self._open(start, end)
        with resp:
            self.stats.requests += 1
            if resp.status != 206:
                # 200: the server ignored Range and would send the whole file. Close without reading the body.
                raise BadInput(
                    f"{_short(self.url)}: the server does not support byte-range requests (HTTP {resp.status} to a Range request), "
                    "so the header cannot be read without downloading the whole file; download it and pass the local path to --gguf"
                )
            m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", "").strip())
            if not m or int(m.group(1)) != start:
                raise BadInput(f"{_short(self.url)}: the server answered a range request without a matching Content-Range header")
            total = m.group(3)
            if total == "*":
                raise BadInput(f"{_short(self.url)}: the server does not say the file's size (Content-Range .../*)")
            self.size = int(total)
            want = min(end, self.size) - start
            data = resp.read(want)
        self.stats.bytes_fetched += len(data)
        if len(data) != want:
            raise BadFile(f"{_short(self.url)}: the server sent {len(data)} of {want} bytes asked for")
        if start == self.buf_start + len(self.buf):
            self.buf += data  # contiguous: keep what was read (strings may straddle windows)
        else:
            self.buf_start, self.buf = start, data

    # -- file interface used by the GGUF parser
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.pos, os.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            raise BadInput("RangeFile.read() needs a length: reading a remote file to its end is refused")
        end = min(self.pos + n, self.size)
        buf_end = self.buf_start + len(self.buf)
        if not (self.buf_start <= self.pos and end <= buf_end):
            start = buf_end if self.buf_start <= self.pos <= buf_end else self.pos
            self.window = min(MAX_WINDOW_BYTES, self.window * 2)
            self._fetch(start, max(end - start, self.window))
        lo = self.pos - self.buf_start
        out = self.buf[lo : lo + (end - self.pos)]
        self.pos += len(out)
        return out


def _http_error(url: str, code: int, error_code: str | None) -> BadInput:
    where = _short(url)
    if code in (401, 403) and error_code == "GatedRepo":
        return BadInput(f"{where}: gated model: accept its licence on the Hub page, then set HF_TOKEN (or run `hf auth login`)")
    if code in (401, 403):
        return BadInput(f"{where}: access denied (HTTP {code}); for a private or gated Hub model set HF_TOKEN (or run `hf auth login`)")
    if code == 404:
        return BadInput(f"{where}: not found (HTTP 404); check the address")
    if code == 416:
        return BadInput(f"{where}: the server refused the byte range (HTTP 416); the file may be empty or truncated")
    return BadInput(f"{where}: the server answered HTTP {code}")


def read_remote_gguf(
    url: str,
    headers: dict[str, str] | None = None,
    stats: FetchStats | None = None,
    shard_url: Callable[[str], str] | None = None,
) -> GgufInfo:
    """The header of the GGUF at ``url`` (all shards of a split model, summed), read with range requests.

    ``shard_url(name)`` gives the URL of a sibling shard (default: the same folder as ``url``).
    """
    stats = stats if stats is not None else FetchStats()
    path = urllib.parse.urlsplit(url).path
    name = urllib.parse.unquote(path.rsplit("/", 1)[-1])
    names = split_names(name)

    def one(u: str) -> GgufInfo:
        f = RangeFile(u, headers, stats)
        return read_gguf_from(f, f.size, _short(u))  # type: ignore[arg-type]

    if not names or len(names) == 1:
        return one(url)

    def sibling(n: str) -> str:
        if shard_url is not None:
            return shard_url(n)
        base = url.split("?", 1)[0].rsplit("/", 1)[0]
        return f"{base}/{urllib.parse.quote(n)}"

    return merge_shards([one(sibling(n)) for n in names])
