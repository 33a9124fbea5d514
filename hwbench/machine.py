""""This machine": detected inventory + its calibration -> the HardwareTarget the estimator takes.

The one place that builds it; `check`, `bench`, `report --this-machine` and `recommend` all call
:func:`this_machine`, so a user's ``--profiles-dir`` (their own GPU profiles) and a calibration
saved by `hwbench bench` apply everywhere alike.
"""

from __future__ import annotations

import os
import platform
import socket
import sys
from dataclasses import dataclass
from datetime import UTC, datetime

from hwbench.calibration import Calibration
from hwbench.probe import Probe
from hwbench.schema import HardwareTarget, HostInfo


@dataclass
class Machine:
    host: HostInfo
    target: HardwareTarget
    calibration: Calibration | None


def minimal_host() -> HostInfo:
    """What is known without any probe (platform module, sysconf): for when detection is unavailable."""
    from hwbench import __version__
    from hwbench.schema import CpuInfo, MemoryInfo

    total = None
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        pass
    return HostInfo(
        hwbench_version=__version__,
        detected_at=datetime.now(UTC).isoformat(),
        hostname=socket.gethostname(),
        os=platform.platform(),
        kernel=platform.release(),
        python=sys.version.split()[0],
        cpu=CpuInfo(model=platform.processor() or None, arch=platform.machine(), logical_cores=os.cpu_count()),
        memory=MemoryInfo(total_bytes=total, effective_bytes=total),
        warnings=["full hardware detection unavailable; minimal host info recorded"],
    )


def calibration_for(host: HostInfo) -> Calibration | None:
    """The calibration `bench` saved for this host, or None (never raises: a bad file is ignored)."""
    from hwbench.calibration import load_calibration, machine_key_for

    try:
        return load_calibration(machine_key_for(host))
    except Exception:  # noqa: BLE001 - a calibration is an improvement, never a reason to fail
        return None


def this_machine(
    profiles_dir: str | None = None,
    *,
    include_gpus: bool = True,
    host: HostInfo | None = None,
    tolerate_detection_failure: bool = False,
) -> Machine:
    """Detect (quickly) unless ``host`` is given, load its calibration, build the target.

    ``include_gpus=False`` skips the GPU probes (a what-if replaces the GPUs anyway).
    ``tolerate_detection_failure``: a report or a benchmark must go on where detection itself
    fails; the failure then becomes a warning on a :func:`minimal_host` instead of an error.
    """
    from hwbench.hardware import target_from_host

    if host is None:
        from hwbench.detect import detect_all

        if tolerate_detection_failure:
            try:
                host = detect_all(quick=True, include_gpus=include_gpus)
            except Exception as e:  # noqa: BLE001 - detection must never stop a report or a benchmark
                host = minimal_host()
                host.warnings.append(f"detection failed: {type(e).__name__}: {e}")
        else:
            host = detect_all(quick=True, include_gpus=include_gpus)
    cal = calibration_for(host)
    # a calibration holding both CPU figures replaces the probe's anyway: use a saved probe, never measure one for it
    calibrated = cal is not None and bool(cal.cpu_bandwidth_gbps) and bool(cal.cpu_pp_tflops)
    probe = probe_for(host, run_if_missing=False if calibrated else None)
    return Machine(host=host, target=target_from_host(host, cal, profiles_dir, probe=probe), calibration=cal)


def probe_for(host: HostInfo, *, run_if_missing: bool | None = None) -> Probe | None:
    """This host's CPU probe (hwbench/probe.py): the saved one, else measured once and saved (well under a second).

    ``run_if_missing`` None: as the ``HWBENCH_PROBE`` environment variable says (``0``: never measure here,
    only use a saved probe; the test suite sets it). Never raises.
    """
    from hwbench.calibration import machine_key_for
    from hwbench.probe import load_probe, probe_once

    key = machine_key_for(host)
    if run_if_missing is None:
        run_if_missing = os.environ.get("HWBENCH_PROBE", "1") != "0"
    try:
        return probe_once(key) if run_if_missing else load_probe(key)
    except Exception:  # noqa: BLE001 - a probe improves an estimate, never a reason to fail
        return None
