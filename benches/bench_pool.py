#!/usr/bin/env python3
"""Benchmark rthreading.futures' ThreadPoolExecutor against concurrent.futures', in the same run.

    python benches/bench_pool.py [--quick] [--repeat N] [--json PATH] [-k FILTER]

Same method as bench_primitives.py (whose helpers this uses): every scenario is timed for both
implementations, interleaved repetition by repetition; reported are the median ns/op with its
spread, and the ratio stdlib / rthreading (>1: rthreading is faster). Pools are made and warmed
(every worker started) before timing. Scenarios with a fixed size (map over 10^5 items, the
CPU-bound batches) time exactly that many operations per sample.

The CPU-bound scenarios run pure-Python tasks on a pool of 1 and of 2 workers, all four
configurations in every repetition; a second table gives each implementation's speed-up from 1
to 2 workers (on a free-threaded interpreter with two idle cores, ideally 2x).
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures as stdlib_futures
import gc
import json
import os
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


def scenarios():
    out = [(name, {label: bp.Side(mod, setup, stmt) for label, mod in MODULES})
           for name, setup, stmt in TIMEIT]
    out.append((f"ThreadPoolExecutor(4): map over {MAP_ITEMS:,} items, per item",
                {label: FixedSide(mod, 4, run_map, MAP_ITEMS) for label, mod in MODULES}))
    return out


CPU_NAME = "CPU-bound: {tasks} pure-Python tasks on {workers}, per task"


def run_cpu_scaling(repeat, quick):
    """The CPU-bound batch on pools of 1 and 2 workers, both implementations. The four
    configurations are timed in every repetition (orders alternating), because this machine's
    single-thread speed drifts over seconds (host frequency): the speed-up is the median of the
    per-repetition ratios, each from samples taken moments apart."""
    # Samples of ~0.2 s on one worker (~0.05 s quick): shorter ones measure scheduling noise.
    work, tasks = (40_000, 16) if quick else (100_000, 32)
    sides = {(label, w): FixedSide(mod, w, cpu_batch(work), tasks) for label, mod in MODULES for w in (1, 2)}
    labels = [label for label, _ in MODULES]
    try:
        for side in sides.values():
            side.probe()
        samples = {key: [] for key in sides}
        for rep in range(repeat):
            order = labels if rep % 2 == 0 else labels[::-1]
            workers = (1, 2) if rep % 2 == 0 else (2, 1)
            for label in order:
                for w in workers:
                    samples[(label, w)].append(sides[(label, w)].sample(tasks) / tasks * 1e9)
    except bp.Failed as exc:
        bp.progress(f"CPU-bound scenarios: n/a ({exc})")
        return [], {}
    finally:
        for side in sides.values():
            side.close()
    rows = []
    for w in (1, 2):
        name = CPU_NAME.format(tasks=tasks, workers=f"{w} worker" + "s" * (w > 1))
        row = {"name": name, "status": "ok", "number": tasks}
        for label in labels:
            row[label] = {**bp.summary(samples[(label, w)]), "samples_ns": samples[(label, w)]}
        ratios = [a / b for a, b in zip(samples[("stdlib", w)], samples[("rthreading", w)])]
        row.update(ratio=bp.summary(ratios), ratios=ratios)
        rows.append(row)
        bp.progress(f"{name}: stdlib {bp.fmt_ns(row['stdlib'])}, rthreading {bp.fmt_ns(row['rthreading'])}"
                    f" ns/op, ratio {bp.fmt_ratio(row['ratio'])}")
    speedups = {label: bp.summary([a / b for a, b in zip(samples[(label, 1)], samples[(label, 2)])])
                for label in labels}
    return rows, speedups


def speedup_table(speedups):
    cells = " | ".join(f"{bp.fmt_ratio(speedups[label])}x" for label, _ in MODULES)
    return "\n".join(["| CPU-bound tasks | stdlib | rthreading |", "|---|---:|---:|",
                      f"| speed-up, 2 workers over 1 (median of per-repetition ratios) | {cells} |"])


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

    chosen = scenarios()
    wanted = [w.strip().lower() for w in args.k.split(",") if w.strip()]
    cpu = not wanted or any(w in CPU_NAME.lower() for w in wanted)
    if wanted:
        chosen = [(n, s) for n, s in chosen if any(w in n.lower() for w in wanted)]
        if not chosen and not cpu:
            p.error(f"no scenario matches -k {args.k!r}")

    env = bp.environment()
    bp.progress(f"{bp.environment_line(env)}\n{len(chosen) + 2 * cpu} scenarios, {repeat} repetitions,"
                f" ~{target:.2f} s per calibrated sample")
    results = []
    for name, sides in chosen:
        try:
            results.append(bp.run_scenario(name, sides, repeat, target))
        finally:
            for side in sides.values():
                if isinstance(side, FixedSide):
                    side.close()

    speedups = {}
    if cpu:
        rows, speedups = run_cpu_scaling(repeat, args.quick)
        results += rows
    print(bp.markdown_table(results))
    if speedups:
        print()
        print(speedup_table(speedups))
    print()
    print(bp.environment_line(env))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, "repeat": repeat, "target_seconds": target,
                       "results": results, "speedup_2_over_1_worker": speedups}, f, indent=1)
        bp.progress(f"wrote {args.json}")


if __name__ == "__main__":
    main()
