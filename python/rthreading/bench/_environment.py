"""What a result records of where it was measured: the interpreter and the machine, and how
much CPU other processes took while it ran."""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
import time


def cpu_snapshot():
    """The machine's busy CPU seconds (steal included: a hypervisor's other guests) and this
    process tree's own CPU seconds, now; None where /proc/stat is missing."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal (guest time is counted in user already)
    busy = sum(fields[:8]) - fields[3] - fields[4]
    own = os.times()
    return {
        "busy": busy / os.sysconf("SC_CLK_TCK"),
        "wall": time.monotonic(),
        "own": own.user + own.system + own.children_user + own.children_system,
    }


def others_cpu(start):
    """How many CPUs, on average since `start` (a `cpu_snapshot`), other processes kept busy:
    the run's own work (this process and the workers it waited for) does not count, unlike in
    the load average, which the benchmark's own threads and the build before it raise."""
    end = cpu_snapshot()
    if start is None or end is None or end["wall"] <= start["wall"]:
        return None
    others = (end["busy"] - start["busy"]) - (end["own"] - start["own"])
    return round(max(others, 0.0) / (end["wall"] - start["wall"]), 3)


def environment():
    gil_disabled_build = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    gil_on = getattr(sys, "_is_gil_enabled", lambda: True)()
    if not gil_disabled_build:
        build = "GIL"
    elif gil_on:  # e.g. PYTHON_GIL=1, or an extension module that is not free-threading-safe
        build = "free-threaded build, GIL RE-ENABLED"
    else:
        build = "free-threaded, GIL disabled"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        from importlib.metadata import version

        rt_version = version("rthreading")
    except Exception:  # noqa: BLE001 - informational only
        rt_version = "?"
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "build": build,
        "gil_enabled": gil_on,
        "rthreading": rt_version,
        "system": f"{platform.system()} {platform.machine()}",
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "loadavg_start": list(os.getloadavg()),
    }
