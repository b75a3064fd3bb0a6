"""The measuring machinery every scenario module uses: sides, threads, calibration, interleaving.

A *side* is one implementation's half of a scenario (the stdlib's, rthreading's, a peer's):
``sample(n)`` returns the seconds n operations took. A *scenario* builds its sides (in the
worker process that runs it), probes each one (a side that raises or hangs makes the scenario
n/a), calibrates one operation count for all sides so that the slowest takes about the target
sample length, then takes ``repeat`` samples of every side, interleaved: each repetition times
every side once, the order rotating and reversing from one repetition to the next, so that
machine noise hits all sides alike and a per-repetition ratio compares samples taken moments
apart.
"""

from __future__ import annotations

import gc
import signal
import sys
import threading as _stdlib_threading
import time
import timeit
from dataclasses import dataclass, field
from typing import Callable

HANG_SECONDS = 10.0  # a probe or sample still running after this is reported as a hang
# The order of the columns: the stdlib, rthreading, then the peers (ft_utils in the queue rows,
# janus, culsans and aiologic in the async rows).
LABELS = ("stdlib", "rthreading", "ft_utils", "janus", "culsans", "aiologic")


class Failed(Exception):
    """A side of a scenario raised or hung: the scenario is n/a."""


def describe(exc):
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else f"{type(exc).__name__} raised"


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


# --- running one sample -------------------------------------------------------------------


def in_thread(fn, *args):
    """Run fn(*args) in a daemon thread: return its result, raise Failed if it raises or hangs.

    A hung thread is left behind (daemon, blocked on the module under test); the worker
    process it lives in ends with the scenario."""
    out = {}

    def body():
        try:
            out["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - reported, not swallowed
            out["error"] = exc

    t = _stdlib_threading.Thread(target=body, daemon=True)
    t.start()
    t.join(HANG_SECONDS)
    if "error" in out:
        raise Failed(describe(out["error"])) from out["error"]
    if t.is_alive():
        raise Failed(f"hung for {HANG_SECONDS:.0f} s")
    return out["value"]


def _start_timed(loops, n, parties):
    """The timed threads of run_threads and run_main: a fresh stdlib thread per loop, released
    with the others by a barrier of `parties`; returns (barrier, starts, ends, errors, threads)."""
    barrier, starts, ends, errors = _stdlib_threading.Barrier(parties), [], [], []

    def body(loop):
        try:
            barrier.wait(HANG_SECONDS)
            starts.append(time.perf_counter())
            loop(n)
            ends.append(time.perf_counter())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
            barrier.abort()

    threads = [_stdlib_threading.Thread(target=body, args=(loop,), daemon=True) for loop in loops]
    for t in threads:
        t.start()
    return barrier, starts, ends, errors, threads


def _join_timed(threads, errors):
    deadline = time.monotonic() + 2 * HANG_SECONDS
    for t in threads:  # short slices, so that a dead partner is noticed at once
        while t.is_alive() and not errors and time.monotonic() < deadline:
            t.join(0.05)


def run_threads(loops, n):
    """Time n operations of a threaded scenario: every loop(n) in a fresh thread, all
    released together by a barrier once every thread runs; seconds from the first thread
    leaving the barrier to the last one's end (thread start-up and join excluded). Threads
    are the stdlib's for every side: the primitives are under test, not the threads."""
    _, starts, ends, errors, threads = _start_timed(loops, n, len(loops))
    _join_timed(threads, errors)
    if errors:
        raise Failed(describe(errors[0])) from errors[0]
    if any(t.is_alive() for t in threads):
        raise Failed(f"hung for {HANG_SECONDS:.0f} s")
    return max(ends) - min(starts)


class _Interrupted(BaseException):
    """Raised on the main thread by the watchdog's signal (see on_main_thread)."""


_watch = {"armed": False}


def _interrupt(signum, frame):
    if _watch["armed"]:
        raise _Interrupted


def on_main_thread(fn, limit, partner_failed=lambda: None):
    """fn() on the calling thread, which is the main thread of the worker process: a scenario
    whose main thread waits (the way most programs' main thread does) times it there.

    A watchdog thread interrupts the main thread with a signal (SIGUSR1, sent to that thread so
    that a blocked wait sees EINTR: the stdlib's waits and rthreading's both run signal
    handlers on the main thread) when fn is still running after `limit` seconds or when
    partner_failed() returns a reason (a partner thread raised): the wait is left with Failed,
    instead of hanging the worker process until the parent kills it. Off the main thread (a
    probe runs in a thread, see in_thread), or without pthread_kill, fn() runs unwatched."""
    main = _stdlib_threading.main_thread()
    if (
        _stdlib_threading.current_thread() is not main
        or not hasattr(signal, "pthread_kill")
        or not hasattr(signal, "SIGUSR1")
    ):
        return fn()
    if signal.getsignal(signal.SIGUSR1) is not _interrupt:
        # Installed once and never restored: a signal still in flight when fn returns finds
        # the handler disarmed, never the default action (which would end the process).
        signal.signal(signal.SIGUSR1, _interrupt)
    why, stop = [], _stdlib_threading.Event()

    def watch():
        deadline = time.monotonic() + limit
        while not stop.wait(0.05):
            reason = partner_failed()
            if reason is None and time.monotonic() > deadline:
                reason = f"hung for {limit:.0f} s"
            if reason is not None:
                why.append(reason)
                signal.pthread_kill(main.ident, signal.SIGUSR1)
                return

    watcher = _stdlib_threading.Thread(target=watch, daemon=True)
    _watch["armed"] = True
    watcher.start()
    try:
        return fn()
    except _Interrupted:
        raise Failed(why[0] if why else "interrupted") from None
    finally:
        _watch["armed"] = False
        stop.set()
        watcher.join()


def run_main(loops, n):
    """As run_threads, but loops[0] runs on the calling thread (the main thread, when a sample
    is timed: see on_main_thread) and the other loops in fresh threads."""
    barrier, starts, ends, errors, threads = _start_timed(loops[1:], n, len(loops))

    def main_side():
        barrier.wait(HANG_SECONDS)
        starts.append(time.perf_counter())
        loops[0](n)
        ends.append(time.perf_counter())

    def partner_failed():
        return describe(errors[0]) if errors else None

    try:
        on_main_thread(main_side, 2 * HANG_SECONDS, partner_failed)
    except Failed:  # hung, or interrupted because a partner raised
        barrier.abort()
        raise
    except Exception as exc:  # noqa: BLE001 - reported below
        errors.append(exc)
        barrier.abort()
    _join_timed(threads, errors)
    if errors:
        # The partner's error, rather than the main side's broken barrier it caused.
        broken = _stdlib_threading.BrokenBarrierError
        first = next((e for e in errors if not isinstance(e, broken)), errors[0])
        raise Failed(describe(first)) from first
    if any(t.is_alive() for t in threads):
        raise Failed(f"hung for {HANG_SECONDS:.0f} s")
    return max(ends) - min(starts)


def guarded(fn, *args):
    """fn(*args), any exception but KeyboardInterrupt turned into Failed."""
    try:
        return fn(*args)
    except Failed:
        raise
    except Exception as exc:  # noqa: BLE001 - reported as the side's failure
        raise Failed(describe(exc)) from exc


def share(n, k, i):
    """Thread i's share when n operations are split between k threads."""
    return n // k + (1 if i < n % k else 0)


class Side:
    """One implementation's half of a scenario: sample(n) -> seconds for n operations."""

    fixed = None  # an operation count the scenario fixes (no calibration)

    def sample(self, n):
        raise NotImplementedError

    def probe(self):
        """Raise Failed if this side does not work (placeholder, wrong result, hang)."""
        in_thread(self.sample, self.fixed or 50)

    def close(self):
        pass


class TimeitSide(Side):
    """A timeit statement (inlined in timeit's loop, gc off). `per`: operations the statement
    does (e.g. 1000 items moved), so that n is still an operation count."""

    def __init__(self, mod, setup, stmt, per=1):
        self.timer = timeit.Timer(stmt, setup, globals={"mod": mod})
        self.per = per

    def sample(self, n):
        k = max(1, n // self.per)
        return self.timer.timeit(k) * n / (k * self.per)


class ThreadedSide(Side):
    """make(mod) -> loops; each loop(n) runs in its own fresh thread (see run_threads), or with
    main=True the first loop on the main thread and the others in fresh threads (run_main). The
    primitives are made anew for every sample, gc off while it runs. Calibration starts at
    MIN_PER_THREAD operations per thread: below that, a sample measures how late the
    scheduler runs the threads (milliseconds on a busy 2-core machine), not the primitive."""

    MIN_PER_THREAD = 200

    def __init__(self, mod, make, main=False):
        self.mod, self.make, self.main = mod, make, main
        self.min_n = self.MIN_PER_THREAD * len(make(mod))

    def sample(self, n):
        loops = self.make(self.mod)
        enabled = gc.isenabled()
        gc.disable()
        try:
            return (run_main if self.main else run_threads)(loops, n)
        finally:
            if enabled:
                gc.enable()


def calibrate(side, target):
    """An operation count for which side.sample takes about `target` seconds."""
    if side.fixed:
        return side.fixed
    n = min_n = getattr(side, "min_n", 1)
    while True:
        t = side.sample(n)
        if t >= target / 4 or n >= 1 << 30:
            return max(min_n, int(n * target / max(t, 1e-9)))
        n *= 4 if t < target / 100 else 2


def interleaved_orders(labels, repeat):
    """The order of the sides in each repetition: rotated by one every other repetition and
    reversed every other one (ABBA for two sides), so every side goes first as often."""
    labels = list(labels)
    for rep in range(repeat):
        k = (rep // 2) % len(labels)
        order = labels[k:] + labels[:k]
        yield order if rep % 2 == 0 else order[::-1]


# --- scenarios ----------------------------------------------------------------------------


@dataclass
class Scenario:
    """One row of the table (or, for a `measure` override, several rows measured together).

    sides: label -> factory building that side (called in the worker); a label whose factory
    is None (e.g. a peer that is not installed) is left out. target: the ratio
    stdlib/rthreading set as this row's performance goal, if any; peer_targets: peer label ->
    the ratio peer/rthreading set as a goal (checked where that peer ran). unit: "ns/op" (lower is better) or
    "items/s" (shown as throughput; still measured as time per item). length: sample length
    as a multiple of the target sample length. curve: (curve title, threads) puts the row on
    a throughput-vs-threads curve of the chart. same_code: both sides run the very same code
    (rthreading re-exports the stdlib's object), so the ratio is the machine's run-to-run
    noise and no target can be met or missed by it. own_counts: each side is calibrated and
    sampled with its own operation count (each sample about the target length) instead of the
    slowest side's count for all: for rows whose sides differ by orders of magnitude, where the
    slowest side's count would leave the fastest a sample too short to time (the row's number
    is then the smallest count, and `numbers` has each side's)."""

    name: str
    group: str
    sides: dict = field(default_factory=dict)
    target: float | None = None
    peer_targets: dict | None = None
    unit: str = "ns/op"
    length: float = 1.0
    curve: tuple | None = None
    kind: str = "time"
    note: str = ""
    same_code: bool = False
    own_counts: bool = False

    def row(self, **extra):
        return {
            "name": self.name,
            "group": self.group,
            "kind": self.kind,
            "unit": self.unit,
            "target": self.target,
            "peer_targets": dict(self.peer_targets) if self.peer_targets else None,
            "curve": list(self.curve) if self.curve else None,
            "note": self.note,
            "same_code": self.same_code,
            **extra,
        }

    def measure(self, repeat, target, quick):
        """Run the scenario: a list of rows, each with per-side sample lists (ns per op).

        A failing stdlib or rthreading side makes the row n/a; a failing peer is dropped
        from the row (with its reason), the row goes on without it."""
        sides, dropped = {}, {}

        def fail(label, exc):
            if label in ("stdlib", "rthreading"):
                raise Failed(f"{label}: {exc}") from exc
            dropped[label] = str(exc)
            sides.pop(label).close()
            samples.pop(label, None)

        samples = {}
        try:
            for label, factory in self.sides.items():
                if factory is not None:
                    try:
                        sides[label] = guarded(factory)
                    except Failed as exc:
                        sides[label] = Side()
                        fail(label, exc)
            for label in list(sides):
                try:
                    sides[label].probe()
                except Failed as exc:
                    fail(label, exc)
            counts = {}
            for label in list(sides):
                try:
                    counts[label] = guarded(calibrate, sides[label], target * self.length)
                except Failed as exc:
                    fail(label, exc)
            number = min(counts[label] for label in sides)
            if not self.own_counts:
                counts = dict.fromkeys(counts, number)
            samples = {label: [] for label in sides}
            for order in interleaved_orders(list(sides), repeat):
                for label in order:
                    if label not in sides:
                        continue
                    try:
                        count = counts[label]
                        samples[label].append(guarded(sides[label].sample, count) / count * 1e9)
                    except Failed as exc:
                        fail(label, exc)
        except Failed as exc:
            return [self.row(status="n/a", reason=str(exc))]
        finally:
            for side in sides.values():
                side.close()
        extra = {"dropped": dropped} if dropped else {}
        if self.own_counts:
            extra["numbers"] = {label: counts[label] for label in samples}
        return [self.row(status="ok", number=number, samples=samples, **extra)]


def timeit_scenarios(group, table, modules, targets=None, per=None, **kw):
    """Scenarios from (name, setup, statement) rows; modules: label -> module (or None)."""
    targets, per = targets or {}, per or {}
    return [
        Scenario(
            name,
            group,
            {
                label: (
                    None
                    if mod is None
                    else (lambda mod=mod, setup=setup, stmt=stmt: TimeitSide(mod, setup, stmt, per.get(name, 1)))
                )
                for label, mod in modules.items()
            },
            target=targets.get(name),
            **kw,
        )
        for name, setup, stmt in table
    ]


def threaded_scenarios(group, table, modules, targets=None, length=1.0):
    """Scenarios from (name, make) rows, make(mod) -> loops."""
    targets = targets or {}
    return [
        Scenario(
            name,
            group,
            {
                label: (None if mod is None else (lambda mod=mod, make=make: ThreadedSide(mod, make)))
                for label, mod in modules.items()
            },
            target=targets.get(name),
            length=length,
        )
        for name, make in table
    ]


MAIN, WORKERS = "(main thread driving)", "(2 workers)"


def handoff_scenarios(group, table, modules, targets=None, length=1.0):
    """Two scenarios per (name, make) row of a two-thread hand-off: "NAME (main thread driving)",
    the first loop on the main thread (which waits in signal-checked slices in rthreading), and
    "NAME (2 workers)", both loops in worker threads. targets: name (without the suffix) ->
    target, for both."""
    targets = targets or {}
    return [
        Scenario(
            f"{name} {suffix}",
            group,
            {
                label: (
                    None if mod is None else (lambda mod=mod, make=make, main=main: ThreadedSide(mod, make, main=main))
                )
                for label, mod in modules.items()
            },
            target=targets.get(name),
            length=length,
        )
        for name, make in table
        for suffix, main in ((MAIN, True), (WORKERS, False))
    ]


def gc_off(fn: Callable[[], float]) -> float:
    enabled = gc.isenabled()
    gc.disable()
    try:
        return fn()
    finally:
        if enabled:
            gc.enable()
