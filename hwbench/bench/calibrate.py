"""After a bench: store what `hwbench check` should use on this machine (hwbench.calibration).

- ``cpu_bandwidth_gbps``: the measured memory read bandwidth (``--micro``), else derived from the
  CPU generation result: the bandwidth at which the estimator's own formula reproduces the
  measured tokens/s (bytes per token / (efficiency x (1/tokens_per_s - fixed overheads))).
- ``cpu_gen_efficiency``: measured generation bytes/s over the measured bandwidth (``--micro`` only).
- ``cpu_pp_tflops``: the CPU peak at which the estimator reproduces the measured prompt tokens/s
  (assumed peak x measured / predicted), so `check` stays consistent with this run.

Only CPU-only llama.cpp results (no GPU layers on this machine), measured on the full model
(no extrapolated slice), at depth 0, count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hwbench.schema import HardwareTarget, ModelSpec, RunRecord


def _best(record: RunRecord, kind: str) -> list:  # type: ignore[type-arg]
    out = []
    for r in record.results:
        if r.backend != "llama.cpp" or r.error or not r.tokens_per_s or r.extrapolated_from_layers:
            continue
        if r.device != "CPU" or r.depth:
            continue
        if kind == "tg" and r.n_gen and not r.n_prompt:
            out.append(r)
        if kind == "pp" and r.n_prompt and not r.n_gen:
            out.append(r)
    return sorted(out, key=lambda r: r.tokens_per_s or 0.0, reverse=True)


Predict = Callable[..., "float | None"]


def solve_for(predict: Predict, r: Any, field: str, measured: float, lo: float, hi: float, **fixed: Any) -> float | None:
    """The value of hardware figure ``field`` at which the estimator predicts ``measured`` for ``r``.

    Predicted tokens/s rise with bandwidth or FLOPS, so bisection on a log scale finds it; None when
    the measurement lies outside what any value in [lo, hi] predicts (then the caller falls back).
    """
    import math

    p_lo, p_hi = predict(r, **fixed, **{field: lo}), predict(r, **fixed, **{field: hi})
    if p_lo is None or p_hi is None or not (p_lo <= measured <= p_hi):
        return None
    a, b = math.log(lo), math.log(hi)
    for _ in range(40):
        mid = (a + b) / 2
        pm = predict(r, **fixed, **{field: math.exp(mid)})
        if pm is None:
            return None
        if pm < measured:
            a = mid
        else:
            b = mid
    return math.exp((a + b) / 2)


def _refresh_probe(record: RunRecord) -> None:
    """`bench` measures the quick CPU probe anew (hwbench/probe.py), unless HWBENCH_PROBE=0; never raises."""
    import os

    if os.environ.get("HWBENCH_PROBE", "1") == "0":
        return
    try:
        from hwbench.calibration import machine_key_for
        from hwbench.probe import refresh_probe

        pr = refresh_probe(machine_key_for(record.host))
        record.notes.append(f"CPU probe refreshed: read {pr.cpu_bandwidth_gbps:g} GB/s, fp32 matmul {pr.sgemm_tflops:g} TFLOPS (probed)")
    except Exception as e:  # noqa: BLE001 - the probe is a bonus
        record.notes.append(f"CPU probe not refreshed: {type(e).__name__}: {e}")


def calibrate(record: RunRecord, hw: HardwareTarget, spec: ModelSpec | None, predict: Predict | None = None) -> str | None:
    """Save the figures at which the estimator reproduces this run. With ``predict`` (the
    estimator for one result with hardware figures replaced), they are solved for exactly;
    without it, from the closed-form parts of the speed formula."""
    from hwbench.calibration import Calibration, machine_key_for, save_calibration, speed_model_id
    from hwbench.estimate.speed import backend_constants

    c = backend_constants("cpu")
    bw_meas = None
    for r in record.results:
        if r.test == "membw_read_cpu" and r.value and not r.error:
            bw_meas = r.value
    bw = None
    eff = None
    tg = _best(record, "tg")
    if tg and spec is not None:
        r = tg[0]
        bpt = r.settings.get("bytes_per_token")
        if bpt:
            t_data = 1.0 / r.tokens_per_s - c.token_overhead_s - spec.n_layer * c.layer_overhead_s  # type: ignore[operator]
            if t_data > 0:
                achieved = bpt / t_data / 1e9  # GB/s actually moved
                if bw_meas:
                    eff = round(achieved / bw_meas, 4)
                else:
                    bw = round(achieved / c.bw_efficiency, 2)
    if bw_meas:
        bw = round(bw_meas, 2)
    elif tg and predict is not None:
        solved = solve_for(predict, tg[0], "cpu_bandwidth_gbps", float(tg[0].tokens_per_s or 0), 0.5, 5000.0)
        if solved is not None:
            bw = round(solved, 2)
    pp_tflops = None
    pp = _best(record, "pp")
    if pp and pp[0].predicted_tokens_per_s:
        # the prediction was made with hw.cpu_tflops (assumed, or an earlier calibration's): scaling
        # that same figure by measured/predicted gives the peak that reproduces this run, so a new
        # bench refreshes the calibration instead of compounding on the old one
        pp_tflops = round(hw.cpu_tflops * pp[0].tokens_per_s / pp[0].predicted_tokens_per_s, 4)  # type: ignore[operator]
        if predict is not None:
            fixed = {"cpu_bandwidth_gbps": bw} if bw else {}
            solved = solve_for(predict, pp[0], "cpu_tflops", float(pp[0].tokens_per_s or 0), 1e-3, 1e3, **fixed)
            if solved is not None:
                pp_tflops = round(solved, 4)
    _refresh_probe(record)
    if bw is None and eff is None and pp_tflops is None:
        return None
    cal = Calibration(
        run_id=record.run_id,
        created_at=record.created_at,
        machine_key=machine_key_for(record.host),
        cpu_bandwidth_gbps=bw,
        cpu_gen_efficiency=eff,
        cpu_pp_tflops=pp_tflops,
        source_test=("membw_read_cpu" if bw_meas else (tg[0].test if tg else None)),
    )
    path = save_calibration(cal)
    record.calibration = cal.model_dump(mode="json", exclude_none=True) | {"speed_model": speed_model_id()}
    parts = []
    if bw:
        parts.append(f"CPU bandwidth {bw:g} GB/s ({'measured' if bw_meas else 'derived from ' + tg[0].test})")
    if eff:
        parts.append(f"generation efficiency {eff:g}")
    if pp_tflops:
        parts.append(f"CPU prompt throughput {pp_tflops:g} TFLOP/s")
    return f"calibration saved to {path}: " + ", ".join(parts)
