"""Reading result files: every bad file reported by name with the reason and field; the rest used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwbench.report.records import load_record, load_records
from hwbench.schema import SCHEMA_VERSION


def test_good_records_load_with_unique_labels(tmp_path: Path, fx):
    paths = fx.record_paths(*fx.GOOD)
    dup = tmp_path / "aws-c8g-4xlarge.json"
    dup.write_text(paths[2].read_text())
    ok, errors = load_records([*paths, dup])
    assert errors == []
    labels = [lr.label for lr in ok]
    assert labels[:4] == ["workstation-3090", "aws-g5-2xlarge", "aws-c8g-4xlarge", "aws-c8g-4xlarge-q8"]
    assert labels[4] == "aws-c8g-4xlarge-2"


def test_bad_files_are_named_with_reason_and_others_still_used(fx):
    ok, errors = load_records(fx.record_paths(*fx.GOOD, *fx.BAD))
    assert len(ok) == len(fx.GOOD)
    by = {e.path.name: e.reason for e in errors}
    assert set(by) == set(fx.BAD)
    assert "malformed JSON at line 2" in by["bad-malformed.json"]
    assert "'schema_version' is 99" in by["bad-newer-schema.json"] and str(SCHEMA_VERSION) in by["bad-newer-schema.json"]
    assert "'run_id'" in by["bad-missing-field.json"]


@pytest.mark.parametrize(
    "content,needle",
    [
        ("[]", "expected a JSON object"),
        ('{"run_id": "x"}', "'schema_version' is missing"),
        ('{"schema_version": "1"}', "expected an integer"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (
            '{"schema_version": 1, "run_id": "r", "created_at": "t", "hwbench_version": "0", "host": {}, "results": [{"test": 5}]}',
            "results.0.test",
        ),
    ],
)
def test_reasons_name_the_field(tmp_path: Path, content, needle):
    p = tmp_path / "x.json"
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ValueError) as ex:
        load_record(p)
    assert needle in str(ex.value)


def test_missing_file_and_directory(tmp_path: Path):
    ok, errors = load_records([tmp_path / "nope.json", tmp_path])
    assert not ok and len(errors) == 2
    assert "cannot read" in errors[0].reason


def test_extra_fields_from_a_same_version_writer_are_ignored(tmp_path: Path, fx):
    data = json.loads(fx.record_paths("aws-g5-2xlarge.json")[0].read_text())
    data["some_future_optional_field"] = {"x": 1}
    p = tmp_path / "extra.json"
    p.write_text(json.dumps(data))
    assert load_record(p).run_id == data["run_id"]
