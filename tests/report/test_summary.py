"""The report's 'In short' lines: the best quant that meets the target, else the fastest that runs."""

from hwbench.report.matrix import MatrixCell, MatrixRow
from hwbench.report.views import summary_lines


def row(cells):
    return MatrixRow(label="8b", model="llama-3.1-8b", params=8 * 10**9, active_params=8 * 10**9, source="profile", cells=cells)


def test_best_quality_that_meets_the_target():
    r = row([MatrixCell(quant="F16", verdict="cpu", gen_tokens_per_s=4.0), MatrixCell(quant="Q8_0", verdict="cpu", gen_tokens_per_s=11.0), MatrixCell(quant="Q4_K_M", verdict="cpu", gen_tokens_per_s=19.0)])
    (line,) = summary_lines([r], 10.0, [], [])
    assert line == "8b (llama-3.1-8b): runs at Q8_0 (CPU), ~11.0 tokens/s"


def test_below_target_names_the_fastest_quant_not_the_largest():
    r = row([MatrixCell(quant="F16", verdict="cpu", gen_tokens_per_s=0.6), MatrixCell(quant="Q4_K_M", verdict="cpu", gen_tokens_per_s=1.7), MatrixCell(quant="Q2_K", verdict="cpu", gen_tokens_per_s=2.5)])
    (line,) = summary_lines([r], 10.0, [], [])
    assert "at best ~2.5 tokens/s (Q2_K" in line and "below the target" in line


def test_nothing_fits():
    (line,) = summary_lines([row([MatrixCell(quant="Q4_K_M", verdict="none")])], 10.0, [], [])
    assert "does not fit" in line
