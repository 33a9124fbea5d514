"""Both pages in real headless Chromium: no console errors, no network requests, a screenshot saved."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwbench.compare import compare_records
from hwbench.report.compare_page import render_compare_html
from hwbench.report.html import build_report
from hwbench.report.records import load_records
from hwbench.report.writers import write_output

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, fx) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("pages")
    ok, errors = load_records(fx.record_paths(*fx.GOOD, fx.HOSTILE, *fx.BAD))
    report = write_output(d / "report.html", build_report(ok, errors, recommend_models=["8b", "70b"]))
    cmp = compare_records(ok, errors, prices={"workstation-3090": 0.25})
    compare = write_output(d / "compare.html", render_compare_html(cmp))
    return {"report": report, "compare": compare}


@pytest.mark.parametrize("name", ["report", "compare"])
def test_page_in_headless_chromium(browser, pages, name, tmp_path: Path):
    page = pages[name]
    shot = tmp_path / f"{name}.png"
    res = browser.open(page, shot)
    # the only request is the page itself: no images, fonts, stylesheets or scripts from anywhere
    assert res["requests"] == [res["url"]], res["requests"]
    assert res["errors"] == [], res["errors"]
    assert res["scripts"] == 0
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = res["text"]
    # outside markup is shown as text, not run
    assert "<script>alert('model')</script>" in text
    if name == "report":
        assert "What fits here" in text and "Prices as of 2026-11-29" in text
    else:
        assert "hwbench comparison" in text and "bad-newer-schema.json" in text
    print(f"screenshot: {shot}")


def test_the_harness_sees_requests_and_console_errors(browser, tmp_path: Path):
    """A page that loads an image and logs an error must fail the checks above (the harness is not blind)."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><body><p>x</p><img src="http://127.0.0.1:9/pixel.png"><script>console.error("boom")</script></body></html>'
    )
    res = browser.open(bad, tmp_path / "bad.png")
    assert "http://127.0.0.1:9/pixel.png" in res["requests"]
    assert any("boom" in str(e) for e in res["errors"])
    assert res["scripts"] == 1
