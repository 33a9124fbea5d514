"""Redaction of hostnames, addresses, serial numbers and GPU UUIDs."""

from __future__ import annotations

from hwbench.report.records import load_record
from hwbench.report.redact import REDACTED, redact_host, redact_record, scrub_text


def test_scrub_text_addresses_and_ids():
    t = "ip 10.0.0.12 v6 fe80::1ff:fe23:4567:890a 2001:db8::1 mac 00:1A:2b:3c:4d:5e uuid GPU-12345678-1234-1234-1234-123456789abc"
    s = scrub_text(t)
    for secret in ("10.0.0.12", "fe80::", "2001:db8", "00:1A", "GPU-1234"):
        assert secret not in s
    assert s.count(REDACTED) == 5


def test_scrub_text_keeps_versions_times_and_model_names():
    for t in ("llama.cpp b4567 v1.2.3.4.5", "12:30:45", "llama-3.1-8b Q4_K_M", "6.8.0-49-generic", "pp512 tg128@d4096"):
        assert scrub_text(t) == t


def test_scrub_home_and_serials():
    assert scrub_text("/home/alice/models/x.gguf") == "~/models/x.gguf"
    assert scrub_text("/Users/bob/x") == "~/x"
    assert REDACTED in scrub_text("Serial Number: ABC123XYZ")


def test_redact_record_removes_every_identifier(fx):
    rec = load_record(fx.record_paths("workstation-3090.json")[0])
    raw = rec.model_dump_json()
    for secret in ("alice-ws", "192.168.1.23", "00:1a:2b:3c:4d:5e", "GPU-5f1c2a9e", "1324520012345", "/home/alice"):
        assert secret in raw
    red = redact_record(rec).model_dump_json()
    for secret in ("alice-ws", "192.168.1.23", "00:1a:2b:3c:4d:5e", "GPU-5f1c2a9e", "1324520012345", "/home/alice", "fe80::"):
        assert secret not in red, secret
    r2 = redact_record(rec)
    assert r2.host.hostname == REDACTED and r2.host.gpus[0].uuid == REDACTED and r2.host.gpus[0].serial == REDACTED
    # what the report needs survives
    assert r2.host.gpus[0].name == "NVIDIA GeForce RTX 3090" and r2.results[0].tokens_per_s == rec.results[0].tokens_per_s
    assert r2.model["file"] == "~/.cache/hwbench/synthetic/llama-3.1-8b-Q4_K_M.gguf"


def test_redact_host_cloud_hostname(fx):
    rec = load_record(fx.record_paths("aws-g5-2xlarge.json")[0])
    h = redact_host(rec.host)
    assert "172-31" not in h.model_dump_json()
