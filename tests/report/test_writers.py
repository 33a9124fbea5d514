"""JSON / CSV / Markdown writers; CSV formula injection is neutralised."""

from __future__ import annotations

import csv
import io
import json

from hwbench.report.records import load_records
from hwbench.report.writers import COLUMNS, csv_cell, md_cell, result_rows, to_csv, write_results


def test_csv_cell_neutralises_formulas_but_not_numbers():
    for bad in ("=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=x"):
        assert csv_cell(bad).startswith("'")
    assert csv_cell(-5.2) == -5.2 and csv_cell(3) == 3 and csv_cell(None) == "" and csv_cell("ok") == "ok"


def test_csv_of_hostile_record_has_no_live_formula(fx):
    ok, _ = load_records(fx.record_paths(fx.HOSTILE, *fx.GOOD))
    text = write_results(ok, "csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == COLUMNS
    for row in rows[1:]:
        for cell in row:
            if cell and cell[0] in "=+@\t\r":
                raise AssertionError(f"live formula in CSV: {cell!r}")
            if cell.startswith("-"):
                float(cell)  # only negative numbers may start with '-'
    assert any(c.startswith("'=cmd") for r in rows for c in r)


def test_numbers_present_in_every_format(fx):
    ok, _ = load_records(fx.record_paths(*fx.GOOD))
    rows = result_rows(ok)
    assert any(r["tokens_per_s"] == 118.4 and r["test"] == "tg128" and r["label"] == "workstation-3090" for r in rows)
    assert "118.4" in write_results(ok, "csv")
    md = write_results(ok, "md")
    assert "| workstation-3090 |" in md and "118.40" in md
    data = json.loads(write_results(ok, "json"))
    assert data[0]["run_id"] == ok[0].record.run_id


def test_markdown_escapes_pipes_and_html():
    assert md_cell("a|b") == "a\\|b"
    assert md_cell("<script>") == "&lt;script&gt;"
    assert md_cell("x\ny") == "x y"


def test_carriage_returns_cannot_split_a_row():
    text = to_csv([{"a": "\r=1+1", "b": "x\ry", "c": 1.5}], ["a", "b", "c"])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["a", "b", "c"], ["'\n=1+1", "x\ny", "1.5"]]


def test_to_csv_empty():
    assert to_csv([], ["a", "b"]) == "a,b\n"
