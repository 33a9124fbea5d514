"""Bad input to `hwbench fleet bench` is one line and exit status 2, before any connection; the inventory format."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests_helpers_cli import error_lines, run_cli

from hwbench.errors import BadInput
from hwbench.fleet.inventory import FleetHost, load_inventory, parse_destination, select_hosts


@pytest.mark.parametrize(
    ("text", "host", "user", "port", "label"),
    [
        ("gpu-box", "gpu-box", None, None, "gpu-box"),
        ("ubuntu@203.0.113.7", "203.0.113.7", "ubuntu", None, "ubuntu@203.0.113.7"),
        ("ubuntu@203.0.113.7:2222", "203.0.113.7", "ubuntu", 2222, "ubuntu@203.0.113.7_2222"),
        ("[2001:db8::1]:22", "2001:db8::1", None, 22, "2001_db8__1__22"),
        ("root@[::1]", "::1", "root", None, "root@___1"),
        ("2001:db8::1", "2001:db8::1", None, None, "2001_db8__1"),
    ],
)
def test_parse_destination(text: str, host: str, user: str | None, port: int | None, label: str) -> None:
    h = parse_destination(text)
    assert (h.host, h.user, h.port, h.label) == (host, user, port, label)


def test_destination_round_trips() -> None:
    assert FleetHost("x", "2001:db8::1", "root", 2222).destination == "root@[2001:db8::1]:2222"
    assert FleetHost("x", "box").destination == "box"


@pytest.mark.parametrize(
    "text", ["", "-oProxyCommand=sh", "a b", "host:0", "host:99999", "host:abc", "@host", "u;x@host", "[::1", "host;rm"]
)
def test_bad_destinations(text: str) -> None:
    with pytest.raises(BadInput) as e:
        parse_destination(text)
    assert "\n" not in str(e.value)


def test_inventory_fields(tmp_path: Path) -> None:
    p = tmp_path / "hosts.yaml"
    p.write_text(
        "hosts:\n"
        "  - {name: vps-a, host: 203.0.113.10, user: ubuntu, port: 2222, identity_file: ~/.ssh/vps, usd_per_hour: 0.44}\n"
        "  - host: deploy@gpu-box\n"
        "  - plain-alias\n"
        "  - {host: box, hwbench: ~/venv/bin/hwbench}\n"
    )
    a, b, c, d = load_inventory(p)
    assert a == FleetHost("vps-a", "203.0.113.10", "ubuntu", 2222, "~/.ssh/vps", 0.44, "inventory hosts.yaml")
    assert (b.label, b.host, b.user) == ("deploy@gpu-box", "gpu-box", "deploy")
    assert (c.label, c.host, c.usd_per_hour) == ("plain-alias", "plain-alias", None)
    assert d.remote_hwbench == "~/venv/bin/hwbench"
    assert [h.label for h in select_hosts(["vps-a", "other:22"], [a, b])] == ["vps-a", "other_22"]
    assert select_hosts([], [a, b]) == [a, b]


@pytest.mark.parametrize(
    ("yaml_text", "needle"),
    [
        ("hosts:\n  - {host: a, password: hunter2}\n", "passwords are never read from files"),
        ("hosts:\n  - {host: a, usd_per_hour: -1}\n", "usd_per_hour must be a positive number"),
        ("hosts:\n  - {host: a, usd_per_hour: cheap}\n", "is not a number of USD"),
        ("hosts:\n  - {host: a, port: 70000}\n", "out of range"),
        ("hosts:\n  - {name: ../x, host: a}\n", "names a folder"),
        ("hosts:\n  - {user: a}\n", "'host' is missing"),
        ("hosts: []\n", "expected a list of hosts"),
        ("servers: [a]\n", "unknown top-level field"),
        ("hosts:\n  - {host: a\n", "not valid YAML at line"),
        ("hosts:\n  - {host: a, name: x}\n  - {host: b, name: x}\n", "used twice"),
    ],
)
def test_bad_inventory_is_one_line_exit_2(tmp_path: Path, yaml_text: str, needle: str) -> None:
    p = tmp_path / "hosts.yaml"
    p.write_text(yaml_text)
    code, out, err = run_cli(["fleet", "bench", "--inventory", str(p), "--out", str(tmp_path / "res")])
    assert code == 2
    [line] = error_lines(err)
    assert line.startswith("hwbench: error: ") and needle in line, line
    assert out == "" and not (tmp_path / "res").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "no hosts"),
        (["a", "a"], "used twice"),
        (["a", "--jobs", "0"], "--jobs must be at least 1"),
        (["a", "--timeout", "0"], "must be positive"),
        (["a", "-p", "x"], "--n-prompt 'x'"),
        (["a", "--kv-type", "q9"], "--kv-type"),
        (["a", "--model", "x", "--params", "8b"], "choose one model"),
        (["a", "--remote-hwbench", "hw", "--install", "pip"], "choose one"),
        (["a", "--install", "maybe"], "'maybe' is not one of"),
        (["a", "--install-spec", "--index-url=http://x"], "expected a pip requirement"),
        (["a", "--inventory", "/nonexistent/hosts.yaml"], "cannot read"),
        (["-oProxyCommand=touch /tmp/x"], "No such option"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    code, out, err = run_cli(["fleet", "bench", *args, "--out", str(tmp_path / "res")])
    assert code == 2, err
    [line] = error_lines(err)
    assert needle in line, line
    assert not (tmp_path / "res").exists()


def test_fleet_is_listed_in_help() -> None:
    code, out, _ = run_cli(["--help"])
    assert code == 0 and "fleet" in out
    code, out, _ = run_cli(["fleet", "--help"])
    assert code == 0 and "bench" in out


def test_without_asyncssh_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "asyncssh", None)  # as if the [fleet] extra were not installed
    code, out, err = run_cli(["fleet", "bench", "somehost", "--out", str(tmp_path / "res")])
    assert code == 1
    assert error_lines(err) == [
        "hwbench: error: hwbench fleet needs asyncssh: pip install 'hwbench[fleet]' (or pip install 'asyncssh>=2.14')"
    ]
