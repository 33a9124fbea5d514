"""The single-run report with `bench --parallel` results (issue 13): each N's aggregate, per-user and prompt figures,
measured, with the estimates beside them; the flat result writers carry the same columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwbench.report.records import load_records
from hwbench.report.views import record_view
from hwbench.report.writers import COLUMNS, result_rows


@pytest.fixture
def loaded(tmp_path: Path):  # type: ignore[no-untyped-def]
    from tests_helpers_parallel import parallel_record

    ok, errors = load_records([parallel_record(tmp_path / "box.json")])
    assert not errors
    return ok


def test_record_view_has_a_serving_row_per_n(loaded) -> None:  # type: ignore[no-untyped-def]
    from tests_helpers_parallel import AGG, PRED_AGG

    v = record_view(loaded[0])
    rows = {p["n"]: p for p in v["parallel"]}
    assert sorted(rows) == sorted(AGG)
    p8 = rows[8]
    assert p8["test"] == "tg128@d512@np8" and p8["prompt_per_sequence"] == 512
    assert (p8["aggregate"], p8["per_user"], p8["prompt"]) == ("120.00", "15.00", "400.00")  # measured
    assert (p8["est_aggregate"], p8["est_per_user"], p8["est_prompt"]) == ("130.00", "16.25", "440.00")  # estimated
    assert p8["error_pct"] == f"{100 * (PRED_AGG[8] - AGG[8]) / AGG[8]:+.1f}%" and p8["prompt_error_pct"] == "+10.0%"
    assert p8["prompt_ms"] == "10,240"  # 8 x 512 tokens at 400 tok/s
    main = next(x for x in v["results"] if x["test"] == "tg128@d512@np8")
    assert "all 8 sequences together" in main["note"]


def test_report_html_shows_the_serving_table(loaded) -> None:  # type: ignore[no-untyped-def]
    from hwbench.report.html import build_report

    html = build_report(loaded, [], generated_at="2026-12-02 12:00 UTC")
    sec = html[html.index("Serving several sequences at once (bench --parallel)") :]
    table = sec[: sec.index("</table>")]
    for head in ("measured tok/s (all)", "measured per user", "measured prompt tok/s (all)", "estimated tok/s (all)", "estimated per user"):
        assert head in table, head
    assert table.count("tg128@d512@np") == 4 and ">15.00<" in table and ">16.25<" in table


def test_an_older_record_without_prompt_timing_shows_dashes(tmp_path: Path, loaded) -> None:  # type: ignore[no-untyped-def]
    d = loaded[0].record.model_dump(mode="json")
    for r in d["results"]:  # what a record from before the prompt phase was timed holds
        for k in [k for k in r["settings"] if k.startswith(("prompt_", "predicted_prompt", "total_"))]:
            if k != "prompt_per_sequence":
                del r["settings"][k]
    p = tmp_path / "old.json"
    p.write_text(json.dumps(d), encoding="utf-8")
    ok, _ = load_records([p])
    row = record_view(ok[0])["parallel"][0]
    assert row["prompt"] == row["prompt_ms"] == row["est_prompt"] == "-" and row["aggregate"] == "20.00"


def test_flat_results_carry_the_parallel_columns(loaded) -> None:  # type: ignore[no-untyped-def]
    rows = result_rows(loaded)
    assert all(set(r) == set(COLUMNS) for r in rows)
    r4 = next(r for r in rows if r["test"] == "tg128@d512@np4")
    assert r4["n_parallel"] == 4 and r4["per_user_tokens_per_s"] == pytest.approx(17.5, rel=1e-3)
    assert r4["prompt_tokens_per_s"] == pytest.approx(400.0, rel=1e-3) and r4["predicted_prompt_tokens_per_s"] == 440.0


def test_bench_table_note_gives_per_user_and_prompt(loaded) -> None:  # type: ignore[no-untyped-def]
    from hwbench.commands.bench import _fmt_result

    r = next(x for x in loaded[0].record.results if x.test == "tg128@d512@np8")
    note = _fmt_result(r)[-1]
    assert note.startswith("measured; all 8 sequences, per user 15.00; prompt 400.00 tok/s (all), est. 440.00"), note
