"""Calibration: applies to the machine and the speed formulas it was measured under, and is refreshed by each bench."""

import json

from hwbench.calibration import Calibration, calibration_path, load_calibration, machine_key, save_calibration, speed_model_id
from hwbench.hardware import target_from_host
from hwbench.schema import CpuInfo, HostInfo, MemoryInfo

KEY = machine_key("AMD EPYC", 2, 24 * 2**30)


def cal(**kw):
    base = {"run_id": "r1", "created_at": "2026-11-29T00:00:00+00:00", "machine_key": KEY}
    return Calibration(**{**base, **kw})


def test_round_trip_and_machine_key():
    save_calibration(cal(cpu_bandwidth_gbps=44.5, cpu_pp_tflops=0.6))
    got = load_calibration(KEY)
    assert got is not None and got.cpu_bandwidth_gbps == 44.5 and got.speed_model == speed_model_id()
    assert load_calibration(machine_key("Other CPU", 2, 24 * 2**30)) is None


def test_speed_model_id_is_the_explicit_version():
    # not a hash of speed.py's bytes: a comment edit must not throw away every user's calibration
    from hwbench.estimate.speed import SPEED_MODEL_VERSION

    assert speed_model_id() == SPEED_MODEL_VERSION


def test_calibration_from_other_speed_formulas_is_ignored():
    save_calibration(cal(cpu_bandwidth_gbps=44.5))
    p = calibration_path()
    d = json.loads(p.read_text())
    d["speed_model"] = "0123456789abcdef"  # made under other formulas
    p.write_text(json.dumps(d))
    assert load_calibration(KEY) is None


def test_new_bench_refreshes_and_keeps_other_fields():
    save_calibration(cal(cpu_bandwidth_gbps=44.5, cpu_pp_tflops=0.6))
    save_calibration(cal(run_id="r2", cpu_pp_tflops=0.7))
    got = load_calibration(KEY)
    assert got is not None and got.run_id == "r2" and got.cpu_pp_tflops == 0.7 and got.cpu_bandwidth_gbps == 44.5


def test_check_says_calibrated_and_uses_measured_figures():
    save_calibration(cal(cpu_bandwidth_gbps=44.5, cpu_pp_tflops=0.6))
    host = HostInfo(cpu=CpuInfo(model="AMD EPYC", logical_cores=2, physical_cores=2, flags=["avx2", "fma"]), memory=MemoryInfo(total_bytes=24 * 2**30))
    t = target_from_host(host, load_calibration(KEY))
    assert t.cpu_bandwidth_gbps == 44.5 and t.cpu_bandwidth_source == "measured"
    assert t.cpu_tflops == 0.6 and t.cpu_tflops_source == "measured"
    assert t.calibration is not None and t.calibration.startswith("calibrated from run r1")
    assert target_from_host(host, None).cpu_bandwidth_source == "assumed"


def test_corrupt_calibration_is_ignored():
    calibration_path().parent.mkdir(parents=True, exist_ok=True)
    calibration_path().write_text("{not json")
    assert load_calibration(KEY) is None


def test_bench_calibration_refreshes_an_earlier_measured_peak():
    """calibrate() scales the peak the prediction used (even an earlier calibration's) by measured/predicted."""
    from hwbench.bench.calibrate import calibrate
    from hwbench.schema import BenchResult, HardwareTarget, RunRecord

    host = HostInfo(cpu=CpuInfo(model="AMD EPYC", logical_cores=2), memory=MemoryInfo(total_bytes=24 * 2**30))
    rec = RunRecord(
        run_id="r9",
        created_at="2026-11-29T01:00:00+00:00",
        hwbench_version="0.1.0",
        host=host,
        results=[BenchResult(test="pp512", device="CPU", n_prompt=512, tokens_per_s=300.0, predicted_tokens_per_s=500.0)],
    )
    hw = HardwareTarget(label="x", ram_bytes=24 * 2**30, cpu_bandwidth_gbps=44.5, cpu_tflops=0.8, cpu_tflops_source="measured", cpu_cores=2)
    assert calibrate(rec, hw, None) is not None
    got = load_calibration(KEY)
    assert got is not None and got.run_id == "r9"
    assert got.cpu_pp_tflops == round(0.8 * 300 / 500, 4)


def test_solve_for_inverts_a_sublinear_prediction():
    """Generation rises sublinearly with bandwidth (fixed costs, ALU time): the solver inverts the estimator itself."""
    from hwbench.bench.calibrate import solve_for

    def predict(r, cpu_bandwidth_gbps, **_):
        return 1.0 / (0.002 + 1.0 / cpu_bandwidth_gbps)  # tokens/s with a fixed 2 ms per token

    bw = solve_for(predict, None, "cpu_bandwidth_gbps", 80.0, 0.5, 5000.0)
    assert bw is not None and abs(predict(None, bw) - 80.0) < 1e-6
    assert solve_for(predict, None, "cpu_bandwidth_gbps", 600.0, 0.5, 5000.0) is None  # unreachable: above 1/0.002


def test_calibrate_with_predict_reproduces_the_run():
    from hwbench.bench.calibrate import calibrate
    from hwbench.schema import BenchResult, HardwareTarget, RunRecord

    def predict(r, cpu_bandwidth_gbps=20.0, cpu_tflops=0.3):
        if r.n_prompt:
            return 1000.0 * cpu_tflops
        return 1.0 / (0.004 + 1.0 / cpu_bandwidth_gbps)

    host = HostInfo(cpu=CpuInfo(model="AMD EPYC", logical_cores=2), memory=MemoryInfo(total_bytes=24 * 2**30))
    rec = RunRecord(
        run_id="r10",
        created_at="2026-11-29T02:00:00+00:00",
        hwbench_version="0.1.0",
        host=host,
        results=[
            BenchResult(test="pp512", device="CPU", n_prompt=512, tokens_per_s=320.0, predicted_tokens_per_s=300.0),
            BenchResult(test="tg128", device="CPU", n_gen=128, tokens_per_s=80.0, predicted_tokens_per_s=40.0),
        ],
    )
    hw = HardwareTarget(label="x", ram_bytes=24 * 2**30, cpu_bandwidth_gbps=20.0, cpu_tflops=0.3, cpu_cores=2)
    calibrate(rec, hw, None, predict=predict)
    got = load_calibration(KEY)
    assert got is not None
    assert abs(predict(rec.results[1], cpu_bandwidth_gbps=got.cpu_bandwidth_gbps) - 80.0) < 0.01
    assert abs(got.cpu_pp_tflops - 0.32) < 1e-3


def test_record_carries_its_calibration_and_report_uses_it(tmp_path):
    """A report rendered from a results file estimates that machine with the figures the run measured."""
    from hwbench.bench.calibrate import calibrate
    from hwbench.calibration import from_record
    from hwbench.report.html import build_report
    from hwbench.report.records import LoadedRecord
    from hwbench.schema import BenchResult, HardwareTarget, RunRecord

    host = HostInfo(cpu=CpuInfo(model="AMD EPYC", logical_cores=2, physical_cores=2), memory=MemoryInfo(total_bytes=24 * 2**30))
    rec = RunRecord(
        run_id="r11",
        created_at="2026-11-29T03:00:00+00:00",
        hwbench_version="0.1.0",
        host=host,
        results=[BenchResult(test="pp512", device="CPU", n_prompt=512, tokens_per_s=300.0, predicted_tokens_per_s=500.0)],
    )
    hw = HardwareTarget(label="x", ram_bytes=24 * 2**30, cpu_bandwidth_gbps=44.5, cpu_tflops=0.8, cpu_cores=2)
    calibrate(rec, hw, None)
    assert rec.calibration is not None and from_record(rec.calibration).cpu_pp_tflops == 0.48
    assert from_record({**rec.calibration, "speed_model": "other"}) is None
    html = build_report([LoadedRecord(tmp_path / "r.json", rec, "r")], [], matrix_models=["1b"], recommend_models=[])
    assert "0.48 TFLOPS (measured)" in html or "0.48 TFLOP" in html
