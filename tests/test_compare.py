"""`hwbench compare`: grouping, prices, cost per token, bad files, HTML/JSON/CSV output."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from hwbench.cli import main
from hwbench.compare import compare_records, comparison_rows, parse_prices
from hwbench.errors import BadInput
from hwbench.report.compare_page import render_compare_html
from hwbench.report.records import load_records

RECORDS = Path(__file__).resolve().parent / "fixtures" / "records"
GOOD = ["workstation-3090.json", "aws-g5-2xlarge.json", "aws-c8g-4xlarge.json", "aws-c8g-4xlarge-q8.json"]
BAD = ["bad-malformed.json", "bad-newer-schema.json", "bad-missing-field.json"]


def parsed_problems(html: str) -> list[str]:
    """Tags that run or load something, event-handler attributes and outside URLs, in the parsed page."""
    from html.parser import HTMLParser

    out: list[str] = []

    class P(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("script", "iframe", "img", "object", "embed", "link", "base", "form", "foreignobject"):
                out.append(f"<{tag}>")
            for k, v in attrs:
                if k.startswith("on"):
                    out.append(f"{tag} {k}")
                if k in ("src", "href", "xlink:href", "action", "data", "poster") and v and not v.startswith("#"):
                    out.append(f"{tag} {k}={v}")

    P().feed(html)
    return out


def paths(*names: str) -> list[Path]:
    return [RECORDS / n for n in names]


@pytest.fixture(scope="module")
def cmp():
    ok, errors = load_records(paths(*GOOD, "hostile.json", *BAD))
    return compare_records(ok, errors, prices=parse_prices("workstation-3090=0.25"))


def group(c, quant: str, test: str, model: str = "llama-3.1-8b"):
    return next(g for g in c.groups if g.quant == quant and g.test == test and g.model == model)


def test_groups_never_mix_quant_test_or_shape(cmp):
    keys = [(g.shape, g.quant, g.test, g.backend) for g in cmp.groups]
    assert len(keys) == len(set(keys))
    q4 = group(cmp, "Q4_K_M", "tg128")
    q8 = group(cmp, "Q8_0", "tg128")
    assert {r.label for r in q4.rows} == {"workstation-3090", "aws-g5-2xlarge", "aws-c8g-4xlarge"}
    assert {r.label for r in q8.rows} == {"aws-c8g-4xlarge-q8"}
    assert group(cmp, "Q4_K_M", "tg128@d4096").rows[0].label == "workstation-3090"
    assert all(g.rows for g in cmp.groups)
    hostile = [g for g in cmp.groups if "alert" in g.model]
    assert hostile and all(r.label == "hostile" for g in hostile for r in g.rows)


def test_ranking_and_costs(cmp):
    g = group(cmp, "Q4_K_M", "tg128")
    assert [r.tokens_per_s for r in g.rows] == sorted((r.tokens_per_s for r in g.rows), reverse=True)
    assert g.fastest == "workstation-3090"
    by = {(r.label, r.threads): r for r in g.rows}
    aws = by[("aws-g5-2xlarge", 8)]
    assert aws.usd_per_hour == 1.212  # from the aws/g5.2xlarge instance profile (detected from DMI)
    assert aws.usd_per_million_tokens == pytest.approx(1.212 / (74.6 * 3600) * 1e6, rel=1e-3)
    assert aws.tokens_per_s_per_usd_hour == pytest.approx(74.6 / 1.212, rel=1e-3)
    c8g = by[("aws-c8g-4xlarge", 16)]
    assert c8g.usd_per_hour == 0.63584 and ("aws-c8g-4xlarge", 8) in by  # both thread counts kept
    assert by[("workstation-3090", 16)].usd_per_hour == 0.25  # given on the command line
    assert g.best_value == "workstation-3090"
    assert group(cmp, "Q4_K_M", "pp512").token_kind == "prompt" and g.token_kind == "generated"


def test_machines_and_price_sources(cmp):
    m = {x.label: x for x in cmp.machines}
    assert "aws/g5.2xlarge" in m["aws-g5-2xlarge"].price_source and "as of 2026-11-29" in m["aws-g5-2xlarge"].price_source
    assert m["workstation-3090"].price_source == "given (--price-per-hour)"
    assert "aws/c8g.4xlarge" in m["aws-c8g-4xlarge"].price_source
    assert m["hostile"].usd_per_hour is None and "--price-per-hour" in m["hostile"].price_source  # no price invented


def test_bad_files_reported_by_name(cmp):
    files = {Path(e["file"]).name: e["reason"] for e in cmp.errors}
    assert set(files) == set(BAD)
    assert len(cmp.machines) == len(GOOD) + 1


def test_parse_prices():
    assert parse_prices("a=0.44, b=1.10") == {"a": 0.44, "b": 1.10}
    assert parse_prices(None) == {}
    for bad in ("a", "a=x", "a=-1", "=1", "a=nan", "a=inf"):
        with pytest.raises(BadInput):
            parse_prices(bad)


def test_price_keys_must_match_one_file():
    ok, _ = load_records(paths(*GOOD))
    with pytest.raises(BadInput, match="no result file labelled 'nope'"):
        compare_records(ok, prices={"nope": 1.0})
    with pytest.raises(BadInput, match="matches 2 files"):
        compare_records(ok, prices={"aws-c8g": 1.0})
    c = compare_records(ok, prices={"20261121T140500Z-0f0e0d0c": 2.0})  # a run id works too
    assert {m.label: m.usd_per_hour for m in c.machines}["aws-g5-2xlarge"] == 2.0


def test_comparison_html_escaped_self_contained(cmp):
    html = render_compare_html(cmp)
    low = html.lower()
    assert "<script" not in low and "<iframe" not in low and "<img" not in low
    assert "&lt;script&gt;alert(&#39;model&#39;)&lt;/script&gt;" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html, re.I)
    assert "<link" not in low and "@import" not in low
    assert parsed_problems(html) == []
    assert html.count("<svg") >= 4
    assert "Not compared: bad-newer-schema.json" in html
    assert "74.60" in html and "1.212" in html and "USD / M generated tokens" in html


def test_comparison_rows_flat(cmp):
    rows = comparison_rows(cmp)
    assert rows and {"group", "rank", "label", "tokens_per_s", "usd_per_million_tokens"} <= set(rows[0])


# ----------------------------------------------------------------------------- the command


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ex:
        main(list(args))
    out, err = capsys.readouterr()
    return int(ex.value.code or 0), out, err


def test_cli_table(capsys):
    rc, out, err = run(capsys, "compare", *map(str, paths(*GOOD, "bad-malformed.json")), "--price-per-hour", "workstation-3090=0.25")
    assert rc == 0
    assert "workstation-3090" in out and "USD/M generated tok" in out and "118.40" in out
    assert "bad-malformed.json" in err


def test_cli_json_and_html(tmp_path: Path, capsys):
    page = tmp_path / "cmp.html"
    rc, out, err = run(capsys, "compare", *map(str, paths(*GOOD)), "--json", "-o", str(page))
    assert rc == 0, err
    d = json.loads(out)
    assert len(d["machines"]) == 4 and d["groups"]
    assert page.exists() and "<svg" in page.read_text()


def test_cli_csv_neutralises_formulas(capsys):
    rc, out, _ = run(capsys, "compare", *map(str, paths("hostile.json", *GOOD)), "--csv")
    assert rc == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][0] == "group"
    for row in rows[1:]:
        for cell in row:
            assert not (cell and cell[0] in "=+@"), cell


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--json", "--csv"], "choose one"),
        (["-o", "x.png"], "name it .html"),
        (["--price-per-hour", "zzz=1"], "no result file labelled"),
    ],
)
def test_cli_bad_input(capsys, args, needle):
    rc, _, err = run(capsys, "compare", *map(str, paths(*GOOD)), *args)
    assert rc == 2 and needle in err


def test_cli_unwritable_page_is_one_line_exit_2(tmp_path: Path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    rc, out, err = run(capsys, "compare", *map(str, paths(*GOOD)), "-o", str(blocker / "cmp.html"))
    assert rc == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert "cannot write there" in line and "internal error" not in line


def test_cli_all_files_bad(capsys):
    rc, _, err = run(capsys, "compare", *map(str, paths(*BAD)))
    assert rc == 2 and "none of the 3 result file(s) could be read" in err.splitlines()[-1]


def test_record_notes_shown_per_machine(cmp):
    """A record's own notes (e.g. 'illustrative fixture') travel to the machines table of the page."""
    ws = next(m for m in cmp.machines if m.label == "workstation-3090")
    assert ws.notes[0].startswith("illustrative fixture record")
    html = render_compare_html(cmp)
    assert "illustrative fixture record (tests and examples): not a measurement of a real machine" in html


# ----------------------------------------------------------------------------- bench --parallel rows (issue 13)


@pytest.fixture
def parallel_files(tmp_path: Path) -> list[Path]:
    from tests_helpers_parallel import parallel_record

    return [parallel_record(tmp_path / "box-a.json", "CPU A"), parallel_record(tmp_path / "box-b.json", "CPU B")]


def test_parallel_groups_carry_per_user_prompt_and_estimates(parallel_files: list[Path]) -> None:
    from tests_helpers_parallel import AGG, PRED_AGG, PRED_PROMPT, PROMPT_TPS

    ok, _ = load_records(parallel_files)
    c = compare_records(ok, prices=parse_prices("box-a=2.0"))
    by_test = {g.test: g for g in c.groups}
    assert set(by_test) == {f"tg128@d512@np{n}" for n in AGG}  # each N its own group, never mixed
    for n, agg in AGG.items():
        g = by_test[f"tg128@d512@np{n}"]
        assert g.n_parallel == n and len(g.rows) == 2
        r = next(r for r in g.rows if r.label == "box-a")
        assert r.n_parallel == n and r.tokens_per_s == pytest.approx(agg, rel=1e-3)  # measured, all N sequences
        assert r.per_user_tokens_per_s == pytest.approx(agg / n, rel=1e-3)
        assert r.prompt_tokens_per_s == pytest.approx(PROMPT_TPS, rel=1e-3)
        assert r.prompt_time_ms == pytest.approx(n * 512 / PROMPT_TPS * 1e3, rel=1e-3)
        assert r.predicted_tokens_per_s == PRED_AGG[n] and r.predicted_prompt_tokens_per_s == PRED_PROMPT
        assert r.predicted_per_user_tokens_per_s == pytest.approx(PRED_AGG[n] / n, abs=0.01)
        # the cost of serving N users at once: from the aggregate
        assert r.usd_per_million_tokens == pytest.approx(2.0 / (agg * 3600) * 1e6, rel=1e-3)
    rows = comparison_rows(c)
    flat = next(x for x in rows if x["test"] == "tg128@d512@np4" and x["label"] == "box-a")
    assert flat["n_parallel"] == 4 and flat["per_user_tokens_per_s"] == pytest.approx(17.5, rel=1e-3)
    assert flat["prompt_tokens_per_s"] == pytest.approx(PROMPT_TPS, rel=1e-3) and flat["predicted_prompt_tokens_per_s"] == PRED_PROMPT
    html = render_compare_html(c)
    sec = html[html.index("tg128@d512@np4") :]
    sec = sec[: sec.index("</table>")]
    assert "measured per user" in sec and "measured prompt tok/s (all 4)" in sec and "estimated per user" in sec
    for v in ("70.00", "17.50", "400", "75.00", "18.75", "440"):  # measured agg / per user / prompt; estimated the same
        assert f">{v}<" in sec, v
    assert "4 sequences decoded together" in html


def test_cli_table_and_csv_show_parallel_columns(parallel_files: list[Path], capsys) -> None:
    rc, out, _ = run(capsys, "compare", *map(str, parallel_files))
    assert rc == 0
    assert "tokens/s (all 8)" in out and "prompt tok/s (all 8)" in out and "est. per user" in out
    assert re.search(r"┃\s*per user\s*┃", out)  # the measured per-user column, beside the estimated one
    assert "15.00" in out  # 120 tok/s of 8 sequences: 15 per user
    assert "measured; est.: estimated" in out
    rc, out, _ = run(capsys, "compare", *map(str, parallel_files), "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    np8 = next(r for r in rows if r["test"] == "tg128@d512@np8")
    assert float(np8["per_user_tokens_per_s"]) == pytest.approx(15.0, rel=1e-3) and np8["n_parallel"] == "8"
