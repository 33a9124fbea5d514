"""Where a model on the Hugging Face Hub comes from: ``org/name[@rev]``, a Hub URL, ``hf://org/name/file.gguf``.

Everything goes through ``huggingface_hub`` (imported here only, and only when a Hub name is given):
its cache, its token (``HF_TOKEN``, the login cache), its ``HF_ENDPOINT`` (mirrors), its offline
mode (``HF_HUB_OFFLINE=1``). Only ``config.json`` is downloaded (a few KB, into the Hub cache);
a GGUF repo's header is read with byte-range requests (:mod:`hwbench.models.remote_gguf`), never
its weights.

A cached ``config.json`` answers without the network: a model's shape does not change between
revisions of the same name in practice, and `check` must stay fast (name a revision,
``org/name@REV``, to ask for another one).
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwbench.errors import BadInput
from hwbench.gguf_header import GgufInfo, split_names
from hwbench.quant import FILE_TYPES

if TYPE_CHECKING:
    from hwbench.models.remote_gguf import FetchStats

_PART = r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}"
_REPO_RE = re.compile(rf"^(?P<repo>{_PART}/{_PART})(?:@(?P<rev>[A-Za-z0-9._/-]{{1,200}}))?$")
HUB_HOSTS = ("huggingface.co", "hf.co", "www.huggingface.co")
MAX_CONFIG_BYTES = 4 * 2**20  # config.json files are a few KB


class HubUnavailable(BadInput):
    """The Hub cannot answer (offline mode with a cold cache, or no network): a bundled entry may stand in."""


@dataclass
class HubRef:
    repo_id: str
    revision: str | None = None
    filename: str | None = None  # a file in the repo (a GGUF), else the model itself

    @property
    def label(self) -> str:
        return self.repo_id + (f"@{self.revision}" if self.revision else "")


@dataclass
class HubAnswer:
    ref: HubRef
    config: dict[str, Any] | None = None  # config.json
    gguf: GgufInfo | None = None  # or the header of a GGUF file in the repo
    source: str = ""
    notes: list[str] = field(default_factory=list)
    stats: FetchStats | None = None


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE")


def _hub_hosts() -> set[str]:
    hosts = set(HUB_HOSTS)
    h = urllib.parse.urlsplit(endpoint()).netloc
    if h:
        hosts.add(h)
    return hosts


def looks_like_hub(text: str) -> bool:
    """Cheap test (no import): does ``text`` name a Hub repo or a Hub URL rather than a bundled profile name?"""
    t = text.strip()
    return t.startswith(("https://", "http://", "hf://")) or bool(_REPO_RE.match(t))


def parse_ref(text: str) -> HubRef:
    """``org/name``, ``org/name@rev``, ``hf://org/name[@rev]/path/file.gguf`` or a Hub URL (``/tree/REV``, ``/blob|resolve/REV/FILE``)."""
    t = text.strip()
    if t.startswith("hf://"):
        parts = t[5:].split("/")
        if len(parts) < 2:
            raise BadInput(f"{text!r}: an hf:// address is hf://ORG/NAME[@REV]/FILE.gguf")
        m = _REPO_RE.match("/".join(parts[:2]))
        if not m:
            raise BadInput(f"{text!r}: {'/'.join(parts[:2])!r} is not a Hugging Face repo id (org/name)")
        fname = "/".join(parts[2:]) or None
        return HubRef(m.group("repo"), m.group("rev"), fname)
    if t.startswith(("https://", "http://")):
        u = urllib.parse.urlsplit(t)
        if u.netloc not in _hub_hosts():
            raise BadInput(f"{text!r} is not a Hugging Face Hub address (host {u.netloc!r}); a GGUF file's URL goes to --gguf")
        parts = [urllib.parse.unquote(p) for p in u.path.strip("/").split("/") if p]
        if parts and parts[0] in ("models",):
            parts = parts[1:]
        if len(parts) < 2 or parts[0] in ("datasets", "spaces"):
            raise BadInput(f"{text!r}: not the address of a model on the Hub (https://huggingface.co/ORG/NAME)")
        repo = "/".join(parts[:2])
        if not _REPO_RE.match(repo):
            raise BadInput(f"{text!r}: {repo!r} is not a Hugging Face repo id")
        rest = parts[2:]
        if not rest:
            return HubRef(repo)
        if rest[0] == "tree" and len(rest) >= 2:
            return HubRef(repo, rest[1])
        if rest[0] in ("blob", "resolve") and len(rest) >= 3:
            return HubRef(repo, rest[1], "/".join(rest[2:]))
        raise BadInput(f"{text!r}: cannot tell which model or file this Hub address names")
    m = _REPO_RE.match(t)
    if not m:
        raise BadInput(f"{text!r} is not a Hugging Face repo id (org/name, optionally @revision)")
    return HubRef(m.group("repo"), m.group("rev"))


# ----------------------------------------------------------------------------- errors


def _hub_error(ref: HubRef, e: Exception, what: str = "") -> BadInput:
    """One line for whatever huggingface_hub raised."""
    from huggingface_hub import errors as E

    ep = endpoint()
    if isinstance(e, E.GatedRepoError):
        return BadInput(
            f"{ref.repo_id} is a gated model and this account has no access: accept its licence at {ep}/{ref.repo_id}, "
            "then set HF_TOKEN to a token of that account (or run `hf auth login`)"
        )
    if isinstance(e, E.RevisionNotFoundError):
        return BadInput(f"{ref.repo_id} has no revision {ref.revision!r} on the Hub ({ep})")
    if isinstance(e, E.RepositoryNotFoundError):
        return BadInput(f"no model {ref.repo_id!r} on the Hugging Face Hub ({ep}); check the name (a private repo needs HF_TOKEN)")
    if isinstance(e, E.LocalEntryNotFoundError) or isinstance(e, E.OfflineModeIsEnabled):
        if offline():
            return HubUnavailable(
                f"{ref.label} is not in the local Hugging Face cache and HF_HUB_OFFLINE=1 is set; "
                "run once online (or unset HF_HUB_OFFLINE), or use a bundled model (hwbench profiles list models)"
            )
        return HubUnavailable(f"cannot reach the Hugging Face Hub at {ep} for {ref.label}; check the network (or HF_ENDPOINT)")
    if isinstance(e, E.EntryNotFoundError):
        return BadInput(f"{ref.label} has no {what or 'such file'} on the Hub")
    if isinstance(e, E.HfHubHTTPError):
        status = getattr(getattr(e, "response", None), "status_code", None)
        if status in (401, 403):
            return BadInput(f"{ref.repo_id}: access denied by the Hub (HTTP {status}); set HF_TOKEN to a token that can read it")
        return BadInput(f"{ref.label}: the Hub answered HTTP {status or '?'}")
    if isinstance(e, (OSError, ConnectionError)) or type(e).__module__.split(".")[0] in ("httpx", "httpx2", "requests", "urllib3"):
        return HubUnavailable(f"cannot reach the Hugging Face Hub at {ep} for {ref.label} ({type(e).__name__}); check the network (or HF_ENDPOINT)")
    return BadInput(f"{ref.label}: the Hub request failed ({type(e).__name__}: {e})")


# ----------------------------------------------------------------------------- config.json


def _load_config(path: str, ref: HubRef) -> dict[str, Any]:
    p = Path(path)
    if p.stat().st_size > MAX_CONFIG_BYTES:
        raise BadInput(f"{ref.label}: config.json is larger than {MAX_CONFIG_BYTES} bytes; not a model config")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise BadInput(f"{ref.label}: config.json is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise BadInput(f"{ref.label}: config.json is not a JSON object")
    return data


def _revision_of(path: str) -> str:
    parts = Path(path).parts
    return parts[parts.index("snapshots") + 1][:12] if "snapshots" in parts else "?"


_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")


def cached_config_path(ref: HubRef) -> str | None:
    """Where huggingface_hub's cache holds this repo's config.json (None: not cached).

    The cache's documented layout (huggingface_hub "Manage the cache" guide): ``models--ORG--NAME/refs/REV``
    holds the commit a branch or tag pointed to, ``snapshots/COMMIT/FILE`` the file. Read directly, like
    ``huggingface_hub.try_to_load_from_cache`` does, so that a cached answer costs only
    ``huggingface_hub.constants`` (where the cache is: HF_HUB_CACHE, HF_HOME ...), not the whole client.
    """
    from huggingface_hub import constants

    repo = Path(constants.HF_HUB_CACHE) / ("models--" + ref.repo_id.replace("/", "--"))
    rev = ref.revision or "main"
    commit = rev if _COMMIT_RE.match(rev) else None
    if commit is None:
        refs = repo / "refs" / rev
        try:
            commit = refs.read_text(encoding="utf-8").strip() if refs.is_file() else None
        except OSError:
            return None
    if commit is None or not _COMMIT_RE.match(commit):
        return None
    f = repo / "snapshots" / commit / "config.json"
    return str(f) if f.is_file() else None


def cached_config(ref: HubRef) -> HubAnswer | None:
    """config.json from the local Hub cache, without the network (None when not cached)."""
    hit = cached_config_path(ref)
    if hit is None:
        return None
    return HubAnswer(ref, config=_load_config(hit, ref), source=f"{ref.repo_id} config.json (Hub cache, revision {_revision_of(hit)})")


# ----------------------------------------------------------------------------- GGUF files in a repo

_QUANT_NAMES = sorted(FILE_TYPES, key=len, reverse=True)


def _quant_in(name: str, quant: str) -> bool:
    return re.search(rf"(?<![A-Z0-9]){re.escape(quant)}(?![A-Z0-9_])", name.upper()) is not None


def _quants_of(files: list[str]) -> list[str]:
    found = {q for f in files for q in _QUANT_NAMES if _quant_in(f, q)}
    return sorted(found)


def choose_gguf(files: list[str], quant: str | None, label: str) -> list[str]:
    """The GGUF file (or every shard of it) in a repo listing that ``quant`` names (default Q4_K_M)."""
    ggufs = [f for f in files if f.lower().endswith(".gguf") and "mmproj" not in f.lower()]
    firsts = []
    for f in ggufs:
        names = split_names(f.rsplit("/", 1)[-1])
        if names is None or f.endswith(names[0]):
            firsts.append(f)
    if not firsts:
        raise BadInput(f"{label} has no GGUF model file")
    want = quant or "Q4_K_M"
    hits = [f for f in firsts if _quant_in(f, want)]
    if len(hits) > 1:  # e.g. NAME-Q4_K_M.gguf and NAME-UD-Q4_K_M.gguf: the plain one
        plain = [f for f in hits if "UD-" not in f.upper()]
        hits = plain if plain else hits
    if not hits and quant is None and len(firsts) == 1:
        hits = firsts
    if not hits:
        avail = ", ".join(_quants_of(firsts)) or ", ".join(f.rsplit("/", 1)[-1] for f in firsts[:8])
        raise BadInput(f"{label} has no {want} GGUF file; choose one with --quant: {avail}")
    if len(hits) > 1:
        raise BadInput(f"{label}: several {want} GGUF files ({', '.join(hits[:6])}); name one with --gguf hf://{label}/FILE")
    first = hits[0]
    names = split_names(first.rsplit("/", 1)[-1])
    if names is None:
        return [first]
    folder = first[: len(first) - len(names[0])]
    missing = [n for n in names if folder + n not in files]
    if missing:
        raise BadInput(f"{label}: shard {folder + missing[0]} of {first} is not in the repo")
    return [folder + n for n in names]


def read_repo_gguf(ref: HubRef, filenames: list[str], revision: str | None) -> HubAnswer:
    """The header(s) of GGUF file(s) in a Hub repo, read with range requests (the token goes with them)."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers

    from hwbench.models.remote_gguf import FetchStats, read_remote_gguf

    headers = build_hf_headers()
    stats = FetchStats()
    rev = revision or ref.revision or "main"

    def url(name: str) -> str:
        return hf_hub_url(ref.repo_id, name, revision=rev, endpoint=endpoint())

    folder = filenames[0].rsplit("/", 1)[0] + "/" if "/" in filenames[0] else ""
    info = read_remote_gguf(url(filenames[0]), headers, stats, shard_url=lambda n: url(folder + n))
    shards = f" ({len(filenames)} shards)" if len(filenames) > 1 else ""
    src = f"GGUF header of {ref.repo_id}/{filenames[0]}{shards}"
    note = f"{src}: read {stats.bytes_fetched:,} bytes in {stats.requests} range request(s) of a {info.file_size:,}-byte model (no weights)"
    return HubAnswer(ref, gguf=info, source=src, notes=[note], stats=stats)


def fetch(ref: HubRef, quant: str | None) -> HubAnswer:
    """config.json or a GGUF header for ``ref``; ``quant`` (a file type name) picks the file of a GGUF repo."""
    if ref.filename is not None:
        if not ref.filename.lower().endswith(".gguf"):
            raise BadInput(f"{ref.label}/{ref.filename}: only GGUF files (.gguf) or the model itself (its config.json) can be read")
        if offline():
            raise HubUnavailable(f"{ref.label}/{ref.filename}: HF_HUB_OFFLINE=1 is set; a remote GGUF header needs the network")
        return _with_errors(ref, lambda: _gguf_file(ref))
    hit = cached_config(ref)
    if hit is not None:
        return hit
    if offline():
        raise HubUnavailable(
            f"{ref.label} is not in the local Hugging Face cache and HF_HUB_OFFLINE=1 is set; "
            "run once online (or unset HF_HUB_OFFLINE), or use a bundled model (hwbench profiles list models)"
        )
    return _with_errors(ref, lambda: _online(ref, quant))


def _with_errors(ref: HubRef, fn):  # type: ignore[no-untyped-def]
    try:
        return fn()
    except BadInput:
        raise
    except Exception as e:  # noqa: BLE001 - huggingface_hub and its HTTP client raise many kinds; each becomes one line
        raise _hub_error(ref, e, "config.json") from None


def _gguf_file(ref: HubRef) -> HubAnswer:
    assert ref.filename is not None
    names = split_names(ref.filename.rsplit("/", 1)[-1])
    if names is None or len(names) == 1:
        return read_repo_gguf(ref, [ref.filename], ref.revision)
    folder = ref.filename[: len(ref.filename) - len(ref.filename.rsplit("/", 1)[-1])]
    return read_repo_gguf(ref, [folder + n for n in names], ref.revision)


def _online(ref: HubRef, quant: str | None) -> HubAnswer:
    from huggingface_hub import HfApi, hf_hub_download

    info = HfApi(endpoint=endpoint()).model_info(ref.repo_id, revision=ref.revision)
    files = [s.rfilename for s in (info.siblings or [])]
    sha = info.sha or ref.revision
    has_config = "config.json" in files
    ggufs = [f for f in files if f.lower().endswith(".gguf")]
    if ggufs and (not has_config or (quant and any(_quant_in(f, quant) for f in ggufs))):
        return read_repo_gguf(ref, choose_gguf(files, quant, ref.label), sha)
    if not has_config:
        raise BadInput(f"{ref.label} has neither a config.json nor GGUF files; hwbench sizes a model from one of them")
    # by the name asked for (None: main), so the cache records that name and answers it next time without the network
    path = hf_hub_download(ref.repo_id, "config.json", revision=ref.revision, endpoint=endpoint())
    return HubAnswer(ref, config=_load_config(str(path), ref), source=f"{ref.repo_id} config.json (Hub, revision {(sha or 'main')[:12]})")
