"""Results records: statistics, RunRecord assembly, atomic never-overwriting writes."""

from __future__ import annotations

import math
import secrets
import statistics
from datetime import UTC, datetime
from pathlib import Path

from hwbench.atomicio import write_text_atomic
from hwbench.errors import BenchError
from hwbench.machine import minimal_host  # noqa: F401 - its home is hwbench.machine; records made without detection use it
from hwbench.schema import BenchResult, HostInfo, RunRecord


def tokens_per_s_stats(n_tokens: int, samples_ns: list[int]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation of per-repetition tokens/s (llama-bench's avg_ts/stdev_ts)."""
    ts = [n_tokens * 1e9 / ns for ns in samples_ns if ns > 0]
    if not ts:
        return None, None
    mean = statistics.fmean(ts)
    sd = statistics.stdev(ts) if len(ts) > 1 else 0.0
    return mean, sd


def relative_spread_pct(r: BenchResult) -> float | None:
    if not r.tokens_per_s or r.stddev_tokens_per_s is None:
        return None
    return 100.0 * r.stddev_tokens_per_s / r.tokens_per_s


def prediction_error_pct(measured: float | None, predicted: float | None) -> float | None:
    """(predicted - measured) / measured, in percent: positive = the estimator was optimistic."""
    if not measured or predicted is None or not math.isfinite(predicted):
        return None
    return round(100.0 * (predicted - measured) / measured, 2)


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S}Z-{secrets.token_hex(4)}"


def hwbench_version() -> str:
    try:
        from hwbench import __version__

        return str(__version__)
    except Exception:  # noqa: BLE001
        return "0+unknown"


def new_record(host: HostInfo, **fields: object) -> RunRecord:
    now = datetime.now(UTC)
    return RunRecord(
        run_id=new_run_id(now),
        created_at=now.isoformat(),
        hwbench_version=hwbench_version(),
        host=host,
        **fields,  # type: ignore[arg-type]
    )


def write_record(rec: RunRecord, out_dir: Path | None = None) -> Path:
    """Write ``rec`` as ``<out_dir>/<run_id>.json`` atomically; never replaces an existing file."""
    from hwbench.paths import results_dir

    d = Path(out_dir) if out_dir is not None else results_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BenchError(f"cannot create results directory {d}: {e.strerror}") from None
    text = rec.model_dump_json(indent=2)
    for attempt in range(5):
        name = rec.run_id if attempt == 0 else f"{rec.run_id}-{secrets.token_hex(2)}"
        try:
            return write_text_atomic(d / f"{name}.json", text, overwrite=False)
        except FileExistsError:
            continue
    raise BenchError(f"could not find a free file name for run {rec.run_id} in {d}")


def read_record(path: Path) -> RunRecord:
    return RunRecord.model_validate_json(Path(path).read_text(encoding="utf-8"))
