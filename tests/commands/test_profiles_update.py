"""`hwbench profiles update`: SkyPilot catalog files served by a real local HTTP server (never the internet)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from hwbench.cli import main
from hwbench.paths import profiles_dir
from hwbench.profiles import load_gpus, load_instances

HEADER = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,SpotPrice\n"


def _lambda_rows() -> str:
    """A catalog for lambda: one bundled type cheaper, one dearer, one new; every other bundled type gone."""
    cur = {i.instance_type: i for i in load_instances() if i.provider == "lambda"}
    a, b = sorted(cur)[:2]
    pa, pb = cur[a].price_usd_per_hour, cur[b].price_usd_per_hour
    assert pa and pb
    return (
        HEADER
        + f"{a},{cur[a].gpu_model},{cur[a].gpu_count},8,64,{pa * 2:.2f},us-east-1,,\n"
        + f"{a},{cur[a].gpu_model},{cur[a].gpu_count},8,64,{pa * 3:.2f},us-west-1,,\n"  # the dearer region is not kept
        + f"{b},{cur[b].gpu_model},{cur[b].gpu_count},8,64,{pb / 2:.2f},us-east-1,,\n"
        + "gpu_1x_h100_test,H100,1,26,200,2.49,us-east-3,\"{'Gpus': [{'MemoryInfo': {'SizeInMiB': 81920}}]}\",\n"
    )


@pytest.fixture
def catalogs(tmp_path: Path) -> Path:
    root = tmp_path / "catalogs"
    (root / "lambda").mkdir(parents=True)
    (root / "lambda" / "vms.csv").write_text(_lambda_rows())
    (root / "runpod").mkdir()
    (root / "runpod" / "vms.csv").write_text("<html>rate limited</html>\n")  # malformed: not a catalog
    (root / "vast").mkdir()
    full = HEADER + "1x-A100-4-8192,A100,1,4,8,\"{'Gpus': []}\",0.8,0.8,any\n"
    (root / "vast" / "vms.csv").write_text(full[: len(full) - 12])  # truncated mid-row
    return root


@pytest.fixture
def server(catalogs: Path) -> Iterator[str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # the server's access log is not the CLI's output
            pass

    handler = partial(Quiet, directory=str(catalogs))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    load_instances.cache_clear()
    load_gpus.cache_clear()
    yield
    load_instances.cache_clear()
    load_gpus.cache_clear()


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(args)
    out = capsys.readouterr()
    return int(e.value.code or 0), out.out, out.err


def test_update_from_http_shows_changes_and_writes_dated_rows(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    bundled_file = Path(__import__("hwbench").__file__).parent / "data" / "instances" / "lambda.yaml"
    before = bundled_file.read_bytes()
    code, out, _ = _run(["profiles", "update", "--from", server, "--provider", "lambda,runpod,vast,nosuch", "--json"], capsys)
    assert code == 0, out
    res = {r["provider"]: r for r in json.loads(out)}
    lam = res["lambda"]
    assert lam["instance_types"] == 3 and lam["new"] == ["gpu_1x_h100_test"]
    assert len(lam["up"]) == 1 and len(lam["down"]) == 1
    up = lam["up"][0]
    assert up["new_usd_per_hour"] == pytest.approx(2 * up["old_usd_per_hour"], abs=0.01)  # the cheaper region's price
    assert len(lam["gone"]) == len([i for i in load_instances() if i.provider == "lambda"]) - 2
    assert "not a SkyPilot vms.csv" in res["runpod"]["error"] and res["runpod"]["written"] is None
    assert "truncated" in res["vast"]["error"] and res["vast"]["written"] is None
    assert res["nosuch"]["source"] is None and res["nosuch"]["error"] is None
    # written atomically into the user's profile dir, dated, sourced; the bundled file untouched
    written = profiles_dir() / "instances" / "lambda.yaml"
    assert lam["written"] == str(written)
    rows = yaml.safe_load(written.read_text())["instances"]
    today = __import__("datetime").date.today().isoformat()
    assert all(r["as_of"] == today and server in r["source"] for r in rows)
    h100 = next(r for r in rows if r["instance_type"] == "gpu_1x_h100_test")
    assert h100["gpu_memory_gib"] == 80.0 and h100["price_usd_per_hour"] == 2.49
    assert bundled_file.read_bytes() == before
    assert not list((profiles_dir() / "instances").glob(".*.tmp"))
    # the refreshed rows replace the bundled ones when profiles load; the others stay
    load_instances.cache_clear()
    now = {i.instance_type: i for i in load_instances() if i.provider == "lambda"}
    assert now["gpu_1x_h100_test"].as_of == today
    assert {i.provider for i in load_instances()} >= {"aws", "runpod", "vast"}


def test_human_output_names_new_gone_up_down(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["profiles", "update", "--from", server, "--provider", "lambda", "--dry-run"], capsys)
    assert code == 0
    assert "1 new" in out and "1 up" in out and "1 down" in out and "new   gpu_1x_h100_test" in out and "gone" in out
    assert "dry run: nothing written" in out
    assert not (profiles_dir() / "instances" / "lambda.yaml").exists()


def test_only_bad_files_is_an_error_line(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["profiles", "update", "--from", server, "--provider", "vast"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "truncated" in err


def test_offline_is_one_line_and_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: connection refused, as when offline
    code, _, err = _run(["profiles", "update", "--from", f"http://127.0.0.1:{port}", "--provider", "lambda"], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "offline?" in err
    assert not (profiles_dir() / "instances").exists()


def test_from_a_folder_and_bad_provider_name(catalogs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["profiles", "update", "--from", str(catalogs), "--provider", "lambda", "--json"], capsys)
    assert code == 0 and json.loads(out)[0]["new"] == ["gpu_1x_h100_test"]
    code, _, err = _run(["profiles", "update", "--from", str(catalogs), "--provider", "../etc"], capsys)
    assert code == 2 and "not a provider name" in err
