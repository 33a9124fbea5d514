import pytest
from hypothesis import given
from hypothesis import strategies as st

from hwbench.errors import BadInput
from hwbench.units import fmt_bytes, parse_bandwidth_gbps, parse_bytes, parse_count, parse_params


@pytest.mark.parametrize(
    "text,expected",
    [
        ("32b", 32_000_000_000),
        ("32B", 32_000_000_000),
        ("7.6b", 7_600_000_000),
        ("405b", 405_000_000_000),
        ("500m", 500_000_000),
        ("1.5t", 1_500_000_000_000),
        ("70", 70_000_000_000),
        (" 8B ", 8_000_000_000),
    ],
)
def test_parse_count_forms(text, expected):
    assert parse_count(text) == expected


@pytest.mark.parametrize("text", ["abc", "0", "-5b", "", "b", "1.2.3b", "5x", "0.0001m", "200t", "nan", "inf"])
def test_parse_count_rejects(text):
    with pytest.raises(BadInput) as e:
        parse_count(text)
    assert "--params" in str(e.value)
    assert "accepted" in str(e.value)


def test_parse_params_moe():
    assert parse_params("8x7b") == (7_000_000_000, 8, 7_000_000_000)
    assert parse_params("8X22B")[1] == 8
    with pytest.raises(BadInput):
        parse_params("1x7b")


@pytest.mark.parametrize(
    "text,expected",
    [("64GB", 64 * 10**9), ("64GiB", 64 * 2**30), ("512MB", 512 * 10**6), ("24", 24 * 10**9), ("1.5TiB", int(1.5 * 2**40))],
)
def test_parse_bytes(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["lots", "-4GB", "0GB", "4XB"])
def test_parse_bytes_rejects(text):
    with pytest.raises(BadInput):
        parse_bytes(text)


def test_parse_bandwidth():
    assert parse_bandwidth_gbps("80GB/s") == 80.0
    assert parse_bandwidth_gbps("936.2") == 936.2
    for bad in ("fast", "-1GB/s", "0", "1e9"):
        with pytest.raises(BadInput):
            parse_bandwidth_gbps(bad)


def test_fmt_bytes_labels_binary_units():
    assert fmt_bytes(24 * 2**30) == "24.00 GiB"
    assert fmt_bytes(512 * 2**20) == "512.00 MiB"
    assert fmt_bytes(-2**30) == "-1.00 GiB"


@given(st.text(max_size=30))
def test_parse_params_never_crashes(text):
    try:
        total, n_exp, per = parse_params(text)
    except BadInput:
        return
    assert total >= 1_000_000
    assert n_exp is None or n_exp >= 2


@given(st.floats(min_value=0.01, max_value=90_000), st.sampled_from(["m", "b", "t"]))
def test_parse_count_roundtrip(value, suffix):
    text = f"{value:.6f}{suffix}"
    # expected from the text as typed (6 decimals), not from the float before formatting
    n_expected = round(float(f"{value:.6f}") * {"m": 1e6, "b": 1e9, "t": 1e12}[suffix])
    if n_expected < 1_000_000 or n_expected > 100e12:
        with pytest.raises(BadInput):
            parse_count(text)
    else:
        assert abs(parse_count(text) - n_expected) <= max(1, n_expected * 1e-6)
