"""The HTML report rendered from fixture records: content, numbers, escaping, redaction, no external loads."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from hwbench.cli import main
from hwbench.report.html import build_report
from hwbench.report.records import load_records


@pytest.fixture(scope="module")
def rendered(fx) -> dict:
    ok, errors = load_records(fx.record_paths("workstation-3090.json", *fx.GOOD[1:], fx.HOSTILE, *fx.BAD))
    t0 = time.perf_counter()
    html = build_report(ok, errors, generated_at="2026-11-29 12:00 UTC")
    elapsed = time.perf_counter() - t0
    raw = build_report(ok[:1], [], redact=False, generated_at="2026-11-29 12:00 UTC", recommend_models=["8b"])
    return {"html": html, "elapsed": elapsed, "raw": raw}


def test_sections_and_inventory(rendered):
    html = rendered["html"]
    for h in (
        "1. Hardware inventory",
        "2. What fits here",
        "3. Benchmark results",
        "4. What to rent or buy",
        "5. How these numbers were obtained",
    ):
        assert h in html
    assert "Inventory stored in result file workstation-3090.json" in html
    assert "AMD Ryzen 9 5950X" in html and "NVIDIA GeForce RTX 3090" in html
    assert html.startswith("<!DOCTYPE html>") and html.count("<style>") == 1


def test_fit_matrix_covers_sizes_quants_and_moe(rendered):
    html = rendered["html"]
    matrix = html[html.index('<table class="matrix">') : html.index("</table>", html.index('<table class="matrix">'))]
    for label in ("1b", "3b", "8b", "14b", "32b", "70b", "405b", "deepseek-v3", "mixtral-8x7b"):
        assert f"<b>{label}</b>" in matrix
    for q in ("Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "F16"):
        assert f"<th>{q}</th>" in matrix
    for v in ("v-gpu", "v-partial", "v-none"):
        assert v in matrix  # a 24 GB GPU + 64 GiB RAM: small models on GPU, 70B partial, 405B no
    assert "tok/s" in matrix and "ctx &le;" in matrix


def test_measured_and_estimated_numbers_and_errors_present(rendered):
    html = rendered["html"]
    for n in ("4,531", "118.40", "124.90", "+5.5%", "2,874", "74.60", "7.90", "851.30 GB/s"):
        assert n in html, n
    assert html.count("<svg") >= 4  # pp, tg, estimate vs measured (pp, tg)
    assert "Estimated vs measured" in html


def test_bad_files_named_with_reason(rendered):
    html = rendered["html"]
    for name in ("bad-malformed.json", "bad-newer-schema.json", "bad-missing-field.json"):
        assert f"Result file not used: {name}" in html
    assert "malformed JSON at line 2" in html and "newer than the 1 this hwbench reads" in html


def test_recommendation_has_prices_dates_and_no_invented_purchase_price(rendered):
    html = rendered["html"]
    assert "Prices as of 2026-11-29" in html
    assert "USD/hour" in html and "USD / M tokens" in html
    for m in ("8b: llama-3.1-8b", "32b: qwen2.5-32b", "70b: llama-3.1-70b"):
        assert m in html
    assert re.search(r"<td>\d+ x NVIDIA", html)
    # every purchase price shown names its kind, date, age and source (none invented: issue 12)
    buy_rows = re.findall(r"<td>(\d[\d,]*) USD \(", html)
    assert buy_rows, "some configuration is priced"
    assert html.count("price source: ") >= len(buy_rows)
    assert "launch MSRP, as of 2020-09-24 (6.2 years, old)" in html  # RTX 3090, aged to the report's date
    assert "buying pays off after" in html


def test_method_section_formulas_sources_versions(rendered):
    html = rendered["html"]
    method = html[html.index("5. How these numbers were obtained") :]
    assert "USD per million generated tokens" in method
    assert "SkyPilot" in method and "TechPowerUp" in method and "as of 2026-11-29" in method
    assert "meta-llama/Llama-3.1-8B config.json" in method
    assert "llama.cpp 0.3.16" in method and "matplotlib" in method and "jinja2" in method


def test_formulas_are_the_speed_codes_own_words(rendered):
    """The Formulas section prints what the estimator says it computes, not a copy of its own."""
    from markupsafe import escape

    from hwbench.estimate.speed import formula_lines

    html = rendered["html"]
    formulas = html[html.index("<h3>Formulas</h3>") : html.index("<h3>Assumptions</h3>")]
    lines = formula_lines()
    assert len(lines) >= 2
    for line in lines:
        assert f"<li>{escape(line)}</li>" in formulas, line


def test_assumptions_section_lists_the_one_table(rendered):
    from markupsafe import escape

    from hwbench.assumptions import table

    html = rendered["html"]
    section = html[html.index("<h3>Assumptions</h3>") : html.index("<h3>Profiles: sources and dates</h3>")]
    rows = table()
    assert any(a.key == "target_tokens_per_s" for a in rows)
    for a in rows:
        row = (
            f'<tr><td class="mono">{escape(a.key)}</td><td class="num">{escape(a.text())}</td>'
            f"<td>{escape(a.why)}</td><td>{escape(a.source)}</td></tr>"
        )
        assert row in section, a.key


def test_no_script_and_outside_text_escaped(rendered, fx):
    html = rendered["html"]
    low = html.lower()
    assert "<script" not in low
    for tag in ("<iframe", "<img", "<b>evil", "<style>body", "<object", "<embed"):
        assert tag not in low, tag
    assert fx.active_markup(html) == []
    assert "&lt;script&gt;alert(&#39;model&#39;)&lt;/script&gt;" in html
    assert "&lt;iframe src=&#34;http://evil.example/frame&#34;&gt;" in html
    assert "tg128&lt;img src=x onerror=alert(1)&gt;" in html


def test_no_external_resources(rendered, fx):
    for html in (rendered["html"], rendered["raw"]):
        assert fx.external_references(html) == []
        assert "<link" not in html.lower()
        # URLs may appear as text (sources), never as something a browser loads
        assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html, re.I)


def test_redaction_default_and_no_redact(rendered):
    html = rendered["html"]
    for secret in ("alice-ws", "192.168.1.23", "00:1a:2b:3c:4d:5e", "GPU-5f1c2a9e", "1324520012345", "/home/alice", "evil</b>.example.com"):
        assert secret not in html, secret
    assert "[redacted]" in html and "are redacted" in html
    raw = rendered["raw"]
    assert "alice-ws.lan" in raw and "Not redacted" in raw


def test_generation_is_fast(rendered):
    assert rendered["elapsed"] < 15.0, f"report took {rendered['elapsed']:.1f}s"


def test_charts_are_deterministic():
    from hwbench.report.charts import estimate_vs_measured_chart, hbar_chart

    a = hbar_chart([("x <b>", 1.0), ("y $z$", 2.0)], title="t", xlabel="tokens/s", salt="s1")
    b = hbar_chart([("x <b>", 1.0), ("y $z$", 2.0)], title="t", xlabel="tokens/s", salt="s1")
    assert a == b and a.startswith("<svg") and "<b>" not in a and "&lt;b&gt;" in a
    assert "<dc:date" not in a and "<metadata" not in a and "DOCTYPE" not in a
    c = estimate_vs_measured_chart([("tg128", 10.0, 11.0)], salt="s2")
    assert "+10%" in c and 'id="s2-' in c


# ----------------------------------------------------------------------------- the command


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ex:
        main(list(args))
    out, err = capsys.readouterr()
    return int(ex.value.code or 0), out, err


def test_cli_report_from_results(tmp_path: Path, capsys, fx):
    out_file = tmp_path / "r.html"
    rc, out, err = run(
        capsys,
        "report",
        *map(str, fx.record_paths(*fx.GOOD, "bad-newer-schema.json")),
        "-o",
        str(out_file),
        "--models",
        "8b,405b",
        "--target-tokens-per-s",
        "20",
    )
    assert rc == 0, err
    assert out.strip() == str(out_file)
    assert "bad-newer-schema.json" in err and "report written in" in err
    html = out_file.read_text()
    assert "405b: llama-3.1-405b" in html and "8b: llama-3.1-8b" in html and "32b: qwen2.5-32b" not in html
    assert "target 20 tokens/s" in html


def test_cli_report_this_machine(tmp_path: Path, capsys):
    out_file = tmp_path / "sub" / "me.html"
    rc, _, err = run(capsys, "report", "-o", str(out_file), "--models", "1b")
    assert rc == 0, err
    html = out_file.read_text()
    assert "This machine, detected now" in html and "No result files were given" in html


def test_cli_report_results_as_csv(tmp_path: Path, capsys, fx):
    out_file = tmp_path / "r.csv"
    rc, _, err = run(capsys, "report", *map(str, fx.record_paths(fx.HOSTILE)), "-o", str(out_file))
    assert rc == 0, err
    text = out_file.read_text()
    assert "'=cmd" in text and "\n=" not in text and ",=" not in text


@pytest.mark.parametrize(
    "args,needle",
    [
        (["-o", "x.txt"], "unknown file type"),
        (["--models", ","], "--models"),
        (["--context", "10"], "--context"),
        (["--target-tokens-per-s", "-3"], "--target-tokens-per-s"),
    ],
)
def test_cli_report_bad_input(capsys, args, needle):
    rc, _, err = run(capsys, "report", *args)
    assert rc == 2 and needle in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("suffix", ["html", "csv"])
def test_cli_report_unwritable_output_is_one_line_exit_2(tmp_path: Path, capsys, fx, suffix: str):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    target = blocker / f"r.{suffix}"
    rc, _, err = run(capsys, "report", *map(str, fx.record_paths("workstation-3090.json")), "-o", str(target), "--models", "8b")
    assert rc == 2, err
    (line,) = err.strip().splitlines()
    assert f"-o {target}: cannot write there" in line and "internal error" not in err
    assert blocker.read_text() == "not a folder"


def test_cli_report_all_files_bad_is_exit_2(tmp_path: Path, capsys, fx):
    rc, _, err = run(capsys, "report", *map(str, fx.record_paths(*fx.BAD)), "-o", str(tmp_path / "x.html"))
    assert rc == 2 and "none of the 3 result file(s) could be read" in err.splitlines()[-1]
    assert not (tmp_path / "x.html").exists()


USER_GPU_YAML = """\
gpus:
- name: Acme Quasar Q9000
  vendor: Acme
  memory_gib: 48
  bandwidth_gbps: 1234
  fp16_tflops: 150
  backend: vulkan
  form: workstation
  source: my own spec sheet
  as_of: '2026-12-01'
"""


def _matrix_row(html: str, label: str) -> str:
    start = html.index(f"<b>{label}</b>", html.index('<table class="matrix">'))
    return html[start : html.index("</tr>", start)]


def _gen_texts(row) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        ("-" if c.gen_tokens_per_s is None else f"{c.gen_tokens_per_s:,.0f}" if c.gen_tokens_per_s >= 100 else f"{c.gen_tokens_per_s:.1f}")
        for c in row.cells
    ]


@pytest.mark.parametrize("with_record", [True, False])
def test_cli_report_this_machine_uses_the_users_gpu_profile(tmp_path: Path, capsys, monkeypatch, fx, with_record: bool):
    """`report [RESULT --this-machine] --profiles-dir D`: a GPU only the user's profile knows is estimated
    with that profile's bandwidth (not an assumed figure), and the inventory names the profile."""
    import hwbench.detect
    from hwbench.hardware import target_from_host
    from hwbench.machine import minimal_host
    from hwbench.report.matrix import fit_matrix
    from hwbench.schema import GpuInfo

    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "gpus.yaml").write_text(USER_GPU_YAML, encoding="utf-8")
    host = minimal_host()
    host.memory.total_bytes = host.memory.effective_bytes = 64 * 2**30
    host.gpus = [GpuInfo(index=0, vendor="Acme", name="Acme Quasar Q9000", backend="vulkan", memory_total_bytes=48 * 2**30)]
    monkeypatch.setattr(hwbench.detect, "detect_all", lambda *a, **k: host.model_copy(deep=True))

    out_file = tmp_path / "me.html"
    # with a record, --this-machine: this inventory, not the record's; without one, this machine anyway
    args = [str(fx.record_paths("workstation-3090.json")[0]), "--this-machine"] if with_record else []
    rc, _, err = run(capsys, "report", *args, "-o", str(out_file), "--models", "8b", "--profiles-dir", str(profiles))
    assert rc == 0, err
    html = out_file.read_text()
    assert "This machine, detected now" in html and "AMD Ryzen 9 5950X" not in html.split('<h2 id="fit">')[0]
    assert "Acme Quasar Q9000 (1234.0 GB/s; as of 2026-12-01)" in html
    assert "no spec profile matches this name" not in html  # the estimate had the profile

    with_profile = fit_matrix(["8b"], target_from_host(host, None, str(profiles)))[0]
    without = fit_matrix(["8b"], target_from_host(host, None, None))[0]
    assert _gen_texts(with_profile) != _gen_texts(without)  # the profile changes the numbers: this test can tell
    row = _matrix_row(html, "8b")
    cells = row.split('<td class="v-')[1:]
    assert len(cells) == len(with_profile.cells)
    for cell, text in zip(cells, _gen_texts(with_profile), strict=True):
        assert (f"<br>{text} tok/s" in cell) if text != "-" else ("tok/s" not in cell), (cell, text)
