#!/usr/bin/env python3
"""Benchmark rthreading.futures' ThreadPoolExecutor against concurrent.futures', in the same run.

    python benches/bench_pool.py [--quick] [--repeat N] [--json PATH] [-k FILTER]

Same method as bench_primitives.py (whose helpers this uses): every scenario is timed for both
implementations, interleaved repetition by repetition; reported are the median ns/op with its
spread, and the ratio stdlib / rthreading (>1: rthreading is faster). Pools are made and warmed
(every worker started) before timing. Scenarios with a fixed size (map over 10^5 items, the
CPU-bound batches) time exactly that many operations per sample.

The CPU-bound scenarios run pure-Python tasks on a pool of 1 and of 2 workers; a second table
gives each implementation's speed-up from 1 to 2 workers (on a free-threaded interpreter with
two idle cores, ideally 2x).
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures as stdlib_futures
import gc
import json
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_primitives as bp  # noqa: E402 - the shared benchmark machinery

try:
    import rthreading.futures as rthreading_futures
except ImportError as exc:  # pragma: no cover - a usage error, not a benchmark result
    sys.exit(f"cannot import rthreading.futures ({exc}); build and install it first: "
             "scripts/venv.sh .venv-ft \"$(scripts/ft-python.sh)\"")

MODULES = (("stdlib", stdlib_futures), ("rthreading", rthreading_futures))
MAP_ITEMS = 100_000


def trivial():
    return None


def identity(x):
    return x


def burn(n):
    """Pure-Python CPU work: no allocation shared between threads, no call out."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


# --- single-thread timeit scenarios: (name, setup, statement) --------------------------------
# The pool is made and warmed in the setup; `mod` is concurrent.futures or rthreading.futures.

WARM = "ex = mod.ThreadPoolExecutor(4); list(ex.map(abs, range(1000))); f = lambda: None; "
TIMEIT = [
    ("ThreadPoolExecutor(4): submit(f).result(), per task", WARM, "ex.submit(f).result()"),
    ("ThreadPoolExecutor(4): 100 submits, then their 100 results, per 100 tasks",
     WARM + "r = range(100)", "for fut in [ex.submit(f) for _ in r]: fut.result()"),
    ("Future(): set_result(); result()", "F = mod.Future", "fut = F(); fut.set_result(1); fut.result()"),
]


class FixedSide(bp.Side):
    """A side that runs `run(pool, n)` on a warm pool of `workers` workers, with the number of
    operations fixed by the scenario (`number`), not calibrated."""

    def __init__(self, mod, workers, run, number):
        super().__init__(mod, setup=None)
        self.workers, self.run, self.number = workers, run, number
        self.pool = None

    def sample(self, n):
        if self.pool is None:
            self.pool = self.mod.ThreadPoolExecutor(self.workers)
            barrier = threading.Barrier(self.workers)
            list(self.pool.map(lambda _: barrier.wait(10), range(self.workers)))  # all started
        enabled = gc.isenabled()
        gc.disable()
        try:
            t0 = time.perf_counter()
            self.run(self.pool, n)
            return time.perf_counter() - t0
        finally:
            if enabled:
                gc.enable()

    def probe(self):
        bp.in_thread(self.sample, min(50, self.number))

    def close(self):
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None


def run_map(pool, n):
    collections.deque(pool.map(identity, range(n)), maxlen=0)


def cpu_batch(work):
    def run(pool, n):
        for fut in [pool.submit(burn, work) for _ in range(n)]:
            fut.result()
    return run


def calibrate(side, target):
    """bench_primitives' calibration, except for the sides whose operation count is fixed."""
    number = getattr(side, "number", None)
    return number if number else _calibrate(side, target)


_calibrate = bp.calibrate
bp.calibrate = calibrate  # bp.run_scenario looks it up at call time


def scenarios(quick):
    work = 20_000 if quick else 60_000
    tasks = 8 if quick else 16
    out = [(name, {label: bp.Side(mod, setup, stmt) for label, mod in MODULES})
           for name, setup, stmt in TIMEIT]
    out.append((f"ThreadPoolExecutor(4): map over {MAP_ITEMS:,} items, per item",
                {label: FixedSide(mod, 4, run_map, MAP_ITEMS) for label, mod in MODULES}))
    for workers in (1, 2):
        out.append((f"CPU-bound: {tasks} pure-Python tasks on {workers} worker{'s' * (workers > 1)},"
                    " per task",
                    {label: FixedSide(mod, workers, cpu_batch(work), tasks) for label, mod in MODULES}))
    return out


def speedup_table(results):
    """Each implementation's speed-up from 1 to 2 workers, from the medians."""
    cpu = {r["name"]: r for r in results if r["name"].startswith("CPU-bound") and r["status"] == "ok"}
    one = next((r for n, r in cpu.items() if " on 1 worker," in n), None)
    two = next((r for n, r in cpu.items() if " on 2 workers," in n), None)
    if not (one and two):
        return None, {}
    speedups = {label: one[label]["median"] / two[label]["median"] for label, _ in MODULES}
    rows = ["| CPU-bound tasks | stdlib | rthreading |", "|---|---:|---:|",
            f"| speed-up, 2 workers over 1 | {speedups['stdlib']:.2f}x | {speedups['rthreading']:.2f}x |"]
    return "\n".join(rows), speedups


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="short samples, 5 repetitions: seconds, not minutes")
    p.add_argument("--repeat", type=int, help="repetitions per module (default 9, quick 5)")
    p.add_argument("--json", metavar="PATH", help="also write every sample to PATH as JSON")
    p.add_argument("-k", metavar="FILTER", default="",
                   help="only scenarios whose name contains FILTER (case-insensitive; "
                        "several alternatives separated by commas)")
    args = p.parse_args(argv)
    repeat = args.repeat or (5 if args.quick else 9)
    if repeat < 1:
        p.error("--repeat must be at least 1")
    target = 0.03 if args.quick else 0.15

    chosen = scenarios(args.quick)
    wanted = [w.strip().lower() for w in args.k.split(",") if w.strip()]
    if wanted:
        chosen = [(n, s) for n, s in chosen if any(w in n.lower() for w in wanted)]
        if not chosen:
            p.error(f"no scenario matches -k {args.k!r}")

    env = bp.environment()
    bp.progress(f"{bp.environment_line(env)}\n{len(chosen)} scenarios, {repeat} repetitions,"
                f" ~{target:.2f} s per calibrated sample")
    results = []
    for name, sides in chosen:
        try:
            results.append(bp.run_scenario(name, sides, repeat, target))
        finally:
            for side in sides.values():
                if isinstance(side, FixedSide):
                    side.close()

    print(bp.markdown_table(results))
    table, speedups = speedup_table(results)
    if table:
        print()
        print(table)
    print()
    print(bp.environment_line(env))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, "repeat": repeat, "target_seconds": target,
                       "results": results, "speedup_2_over_1_worker": speedups}, f, indent=1)
        bp.progress(f"wrote {args.json}")


if __name__ == "__main__":
    main()
