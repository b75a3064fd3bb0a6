#!/usr/bin/env python3
"""Benchmark rthreading's synchronisation primitives against the stdlib's, in the same run.

    python benches/bench_primitives.py [--quick] [--repeat N] [--json PATH] [-k FILTER]

Every scenario is timed for both modules with the same operation count, interleaved
repetition by repetition (stdlib, rthreading, then rthreading, stdlib, ...) so that machine
noise hits both sides alike. Each sample is one tight loop of ~0.15 s (~0.03 s with --quick).
Reported per module: the median ns/op over the repetitions and its spread (min..max, min
being the best); the ratio is stdlib / rthreading (>1: rthreading is faster), the median of
the per-repetition ratios. Single-thread scenarios are timeit statements (loop overhead
included, nothing subtracted); two-thread scenarios run both sides in fresh threads (neither
is the main thread) and time the loops only, not thread start-up. A scenario whose rthreading
side raises (a placeholder class) or hangs is reported as n/a. Progress goes to stderr; the
Markdown table and a line naming the interpreter and the machine go to stdout.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import sysconfig
import threading as stdlib
import time
import timeit

try:
    import rthreading
except ImportError as exc:  # pragma: no cover - a usage error, not a benchmark result
    sys.exit(f"cannot import rthreading ({exc}); build and install it first: "
             "scripts/venv.sh .venv-ft \"$(scripts/ft-python.sh)\"")

MODULES = (("stdlib", stdlib), ("rthreading", rthreading))
HANG_SECONDS = 10.0  # a probe or sample still running after this is reported as a hang


# --- single-thread scenarios: (name, setup, statement); `mod` is threading or rthreading ---
TIMEIT = [
    ("Lock: with", "lock = mod.Lock()", "with lock: pass"),
    ("Lock: acquire(); release()", "lock = mod.Lock(); acq = lock.acquire; rel = lock.release",
     "acq(); rel()"),
    ("RLock: with", "lock = mod.RLock()", "with lock: pass"),
    ("RLock: acquire(); release()", "lock = mod.RLock(); acq = lock.acquire; rel = lock.release",
     "acq(); rel()"),
    ("Semaphore: with", "sem = mod.Semaphore()", "with sem: pass"),
    ("BoundedSemaphore: with", "sem = mod.BoundedSemaphore()", "with sem: pass"),
    ("Event: wait() when set", "ev = mod.Event(); ev.set()", "ev.wait()"),
    ("Event: is_set()", "ev = mod.Event()", "ev.is_set()"),
    ("Event: set(); clear()", "ev = mod.Event()", "ev.set(); ev.clear()"),
    ("Condition: with + notify(), no waiter", "cond = mod.Condition()",
     "with cond: cond.notify()"),
    ("Condition: with + notify_all(), no waiter", "cond = mod.Condition()",
     "with cond: cond.notify_all()"),
]


# --- two-thread scenarios: f(mod) -> (loop_a, loop_b); loop(n) does n operations ------------
# The primitives are made and every method looked up here, in the calling thread, so that a
# placeholder class fails before any thread starts. One operation is one round trip A->B->A
# unless the name says otherwise.

def lock_handoff(mod):
    """Two Locks used as binary semaphores (the stdlib lets any thread release a Lock)."""
    ping, pong = mod.Lock(), mod.Lock()
    ping.acquire(); pong.acquire()

    def a(n):
        rel, acq = ping.release, pong.acquire
        for _ in range(n):
            rel(); acq()

    def b(n):
        acq, rel = ping.acquire, pong.release
        for _ in range(n):
            acq(); rel()
    return a, b


def lock_contended(mod):
    """Both threads hammer one Lock; n is split between them, so an op is one acquisition."""
    lock = mod.Lock()

    def loop(n):
        for _ in range(n):
            with lock:
                pass
    return (lambda n: loop(n - n // 2)), (lambda n: loop(n // 2))


def event_pingpong(mod):
    ping, pong = mod.Event(), mod.Event()
    ping_set, ping_wait, ping_clear = ping.set, ping.wait, ping.clear
    pong_set, pong_wait, pong_clear = pong.set, pong.wait, pong.clear

    def a(n):
        for _ in range(n):
            ping_set(); pong_wait(); pong_clear()

    def b(n):
        for _ in range(n):
            ping_wait(); ping_clear(); pong_set()
    return a, b


def semaphore_pingpong(mod):
    ping, pong = mod.Semaphore(0), mod.Semaphore(0)
    ping_rel, ping_acq, pong_rel, pong_acq = ping.release, ping.acquire, pong.release, pong.acquire

    def a(n):
        for _ in range(n):
            ping_rel(); pong_acq()

    def b(n):
        for _ in range(n):
            ping_acq(); pong_rel()
    return a, b


def condition_pingpong(mod):
    cond, turn = mod.Condition(), [0]
    wait, notify = cond.wait, cond.notify

    def side(me, other):
        def loop(n):
            for _ in range(n):
                with cond:
                    while turn[0] != me:
                        wait()
                    turn[0] = other
                    notify()
        return loop
    return side(0, 1), side(1, 0)


def barrier_wait(mod):
    """Both threads call Barrier(2).wait(); an op is one crossing of the barrier."""
    barrier = mod.Barrier(2)
    wait = barrier.wait

    def loop(n):
        for _ in range(n):
            wait()
    return loop, loop


THREADED = [
    ("2 threads: Lock hand-off, round trip", lock_handoff),
    ("2 threads: Lock with, contended, per acquire", lock_contended),
    ("2 threads: Event ping-pong, round trip", event_pingpong),
    ("2 threads: Semaphore(0) ping-pong, round trip", semaphore_pingpong),
    ("2 threads: Condition ping-pong, round trip", condition_pingpong),
    ("2 threads: Barrier(2).wait, per crossing", barrier_wait),
]


# --- running one sample -------------------------------------------------------------------

class Failed(Exception):
    """A side of a scenario raised or hung: the scenario is n/a for that module."""


def in_thread(fn, *args):
    """Run fn(*args) in a daemon thread: return its result, raise Failed if it raises or hangs.

    A hung thread is left behind (daemon, blocked on the module under test)."""
    out = {}

    def body():
        try:
            out["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - reported, not swallowed
            out["error"] = exc
    t = stdlib.Thread(target=body, daemon=True)
    t.start()
    t.join(HANG_SECONDS)
    if "error" in out:
        raise Failed(describe(out["error"])) from out["error"]
    if t.is_alive():
        raise Failed(f"hung for {HANG_SECONDS:.0f} s")
    return out["value"]


def run_pair(loops, n):
    """Time n operations of a two-thread scenario: (loop_a, loop_b) in two fresh threads."""
    go, starts, ends, errors = stdlib.Event(), [], [], []

    def body(loop):
        try:
            go.wait()
            starts.append(time.perf_counter())
            loop(n)
            ends.append(time.perf_counter())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
    threads = [stdlib.Thread(target=body, args=(loop,), daemon=True) for loop in loops]
    for t in threads:
        t.start()
    go.set()
    deadline = time.monotonic() + HANG_SECONDS
    for t in threads:  # short slices, so that a dead partner is noticed at once
        while t.is_alive() and not errors and time.monotonic() < deadline:
            t.join(0.05)
    if errors:
        raise Failed(describe(errors[0])) from errors[0]
    if any(t.is_alive() for t in threads):
        raise Failed(f"hung for {HANG_SECONDS:.0f} s")
    return max(ends) - min(starts)


def describe(exc):
    return f"{type(exc).__name__}: {exc}"


class Side:
    """One module's half of a scenario: sample(n) -> seconds for n operations."""

    def __init__(self, mod, setup, stmt=None):
        self.mod, self.setup, self.stmt = mod, setup, stmt

    def sample(self, n):
        if self.stmt is not None:  # timeit: statement inlined in its loop, gc off
            return timeit.Timer(self.stmt, self.setup, globals={"mod": self.mod}).timeit(n)
        loops = self.setup(self.mod)  # fresh primitives for every sample
        enabled = gc.isenabled()
        gc.disable()
        try:
            return run_pair(loops, n)
        finally:
            if enabled:
                gc.enable()

    def probe(self):
        """Raise Failed if this side does not work (placeholder, wrong result, hang)."""
        in_thread(self.sample, 50)


def calibrate(side, target):
    """An operation count for which side.sample takes about `target` seconds."""
    n = 1
    while True:
        t = side.sample(n)
        if t >= target / 8 or n >= 1 << 30:
            return max(1, int(n * target / max(t, 1e-9)))
        n *= 4 if t < target / 100 else 2


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def run_scenario(name, sides, repeat, target):
    result = {"name": name, "status": "ok"}
    for label, side in sides.items():
        try:
            side.probe()
        except Failed as exc:
            result.update(status="n/a", reason=f"{label}: {exc}")
            progress(f"{name}: n/a ({label} side: {exc})")
            return result
    number = min(calibrate(side, target) for side in sides.values())
    samples = {label: [] for label in sides}
    order = list(sides)
    for rep in range(repeat):  # ABBA: each module goes first in every other repetition
        for label in (order if rep % 2 == 0 else order[::-1]):
            try:
                samples[label].append(sides[label].sample(number) / number * 1e9)
            except Failed as exc:
                result.update(status="n/a", reason=f"{label}: {exc}")
                progress(f"{name}: n/a ({label} side: {exc})")
                return result
    ratios = [s / r for s, r in zip(samples["stdlib"], samples["rthreading"])]
    result.update(number=number, ratio=summary(ratios), ratios=ratios)
    for label, values in samples.items():
        result[label] = {**summary(values), "samples_ns": values}
    progress(f"{name}: stdlib {fmt_ns(result['stdlib'])},"
             f" rthreading {fmt_ns(result['rthreading'])} ns/op,"
             f" ratio {fmt_ratio(result['ratio'])}  (n={number})")
    return result


# --- reporting ----------------------------------------------------------------------------

def progress(msg):
    print(msg, file=sys.stderr, flush=True)


def num(x):
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}"


def fmt_ns(s):
    return f"{num(s['median'])} ({num(s['min'])}..{num(s['max'])})"


def fmt_ratio(s):
    return f"{s['median']:.2f} ({s['min']:.2f}..{s['max']:.2f})"


def markdown_table(results):
    rows = ["| scenario | stdlib ns/op | rthreading ns/op | ratio |", "|---|---:|---:|---:|"]
    for r in results:
        if r["status"] == "ok":
            rows.append(f"| {r['name']} | {fmt_ns(r['stdlib'])} | {fmt_ns(r['rthreading'])}"
                        f" | {fmt_ratio(r['ratio'])} |")
        else:
            rows.append(f"| {r['name']} | n/a | n/a | n/a |")
    return "\n".join(rows)


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
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        from importlib.metadata import version
        rt_version = version("rthreading")
    except Exception:  # noqa: BLE001 - informational only
        rt_version = "?"
    return {
        "python": platform.python_version(), "implementation": platform.python_implementation(),
        "build": build, "gil_enabled": gil_on, "rthreading": rt_version,
        "system": f"{platform.system()} {platform.machine()}", "nproc": os.cpu_count(),
        "cpu": cpu,
    }


def environment_line(env):
    return (f"{env['implementation']} {env['python']} ({env['build']}),"
            f" rthreading {env['rthreading']}; {env['system']}, nproc {env['nproc']}, {env['cpu']}")


def main(argv=None, timeit_table=None, threaded_table=None, doc=None):
    """The command line of every benchmark in benches/ built from (name, setup, stmt) timeit
    rows and (name, make) threaded rows: by default this file's own tables."""
    timeit_table = TIMEIT if timeit_table is None else timeit_table
    threaded_table = THREADED if threaded_table is None else threaded_table
    p = argparse.ArgumentParser(description=(doc or __doc__).split("\n\n")[0])
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
    target = 0.03 if args.quick else 0.15  # seconds per sample for the slower module

    scenarios = ([(name, {label: Side(mod, setup, stmt) for label, mod in MODULES})
                  for name, setup, stmt in timeit_table]
                 + [(name, {label: Side(mod, make) for label, mod in MODULES})
                    for name, make in threaded_table])
    wanted = [w.strip().lower() for w in args.k.split(",") if w.strip()]
    if wanted:
        scenarios = [(n, s) for n, s in scenarios if any(w in n.lower() for w in wanted)]
        if not scenarios:
            p.error(f"no scenario matches -k {args.k!r}")

    env = environment()
    progress(f"{environment_line(env)}\n{len(scenarios)} scenarios, {repeat} repetitions,"
             f" ~{target:.2f} s per sample")
    results = [run_scenario(name, sides, repeat, target) for name, sides in scenarios]

    print(markdown_table(results))
    print()
    print(environment_line(env))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, "repeat": repeat, "target_seconds": target,
                       "results": results}, f, indent=1)
        progress(f"wrote {args.json}")


if __name__ == "__main__":
    main()
