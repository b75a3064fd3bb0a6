"""Scenarios: the synchronisation primitives, uncontended (timeit statements) and handed off
between two threads (round trips, the main thread driving and between two worker threads),
stdlib `threading` against `rthreading`."""

from __future__ import annotations

import threading as stdlib

import rthreading

from ._harness import handoff_scenarios, timeit_scenarios

MODULES = {"stdlib": stdlib, "rthreading": rthreading}

# --- single-thread scenarios: (name, setup, statement); `mod` is threading or rthreading ---
TIMEIT = [
    ("Lock: with", "lock = mod.Lock()", "with lock: pass"),
    # The cost of contention stats (rthreading.track) on a tracked lock; the stdlib has none.
    ("Lock: with, stats on", "lock = mod.Lock(); getattr(mod, 'track', lambda o: None)(lock)", "with lock: pass"),
    ("Lock: acquire(); release()", "lock = mod.Lock(); acq = lock.acquire; rel = lock.release", "acq(); rel()"),
    ("RLock: with", "lock = mod.RLock()", "with lock: pass"),
    ("RLock: acquire(); release()", "lock = mod.RLock(); acq = lock.acquire; rel = lock.release", "acq(); rel()"),
    ("Semaphore: with", "sem = mod.Semaphore()", "with sem: pass"),
    ("BoundedSemaphore: with", "sem = mod.BoundedSemaphore()", "with sem: pass"),
    ("Event: wait() when set", "ev = mod.Event(); ev.set()", "ev.wait()"),
    ("Event: is_set()", "ev = mod.Event()", "ev.is_set()"),
    ("Event: set(); clear()", "ev = mod.Event()", "ev.set(); ev.clear()"),
    ("Condition: with + notify(), no waiter", "cond = mod.Condition()", "with cond: cond.notify()"),
    ("Condition: with + notify_all(), no waiter", "cond = mod.Condition()", "with cond: cond.notify_all()"),
]

TARGETS = {
    "Lock: with": 1.2,
    "Lock: acquire(); release()": 1.0,
    "RLock: with": 1.2,
    "RLock: acquire(); release()": 1.0,
    "Semaphore: with": 10.0,
    "Event: wait() when set": 6.0,
    "Condition: with + notify(), no waiter": 4.0,
}


# --- two-thread scenarios: f(mod) -> (loop_a, loop_b); loop(n) does n operations ------------
# The primitives are made and every method looked up here, in the calling thread, so that a
# placeholder class fails before any thread starts. One operation is one round trip A->B->A
# unless the name says otherwise.


def lock_handoff(mod):
    """Two Locks used as binary semaphores (the stdlib lets any thread release a Lock)."""
    ping, pong = mod.Lock(), mod.Lock()
    ping.acquire()
    pong.acquire()

    def a(n):
        rel, acq = ping.release, pong.acquire
        for _ in range(n):
            rel()
            acq()

    def b(n):
        acq, rel = ping.acquire, pong.release
        for _ in range(n):
            acq()
            rel()

    return a, b


def event_pingpong(mod):
    ping, pong = mod.Event(), mod.Event()
    ping_set, ping_wait, ping_clear = ping.set, ping.wait, ping.clear
    pong_set, pong_wait, pong_clear = pong.set, pong.wait, pong.clear

    def a(n):
        for _ in range(n):
            ping_set()
            pong_wait()
            pong_clear()

    def b(n):
        for _ in range(n):
            ping_wait()
            ping_clear()
            pong_set()

    return a, b


def semaphore_pingpong(mod):
    ping, pong = mod.Semaphore(0), mod.Semaphore(0)
    ping_rel, ping_acq, pong_rel, pong_acq = ping.release, ping.acquire, pong.release, pong.acquire

    def a(n):
        for _ in range(n):
            ping_rel()
            pong_acq()

    def b(n):
        for _ in range(n):
            ping_acq()
            pong_rel()

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


# Each is timed twice (handoff_scenarios): with the first loop on the main thread ("main thread
# driving", as in most programs: rthreading's waits there run in signal-checked slices) and
# with both loops in worker threads ("2 workers").
HANDOFFS = [
    ("2 threads: Lock hand-off, round trip", lock_handoff),
    ("2 threads: Event ping-pong, round trip", event_pingpong),
    ("2 threads: Semaphore(0) ping-pong, round trip", semaphore_pingpong),
    ("2 threads: Condition ping-pong, round trip", condition_pingpong),
    ("2 threads: Barrier(2).wait, per crossing", barrier_wait),
]
# The performance target: every two-thread hand-off at least 10x, the main thread driving and in 2 workers
# (near the ~2 µs round trip of a waiter that is still spinning when its partner hands over).
HANDOFF_TARGET = 10.0


def scenarios():
    return timeit_scenarios("primitives", TIMEIT, MODULES, TARGETS) + handoff_scenarios(
        "primitives", HANDOFFS, MODULES, {name: HANDOFF_TARGET for name, _ in HANDOFFS}, length=2.0
    )
