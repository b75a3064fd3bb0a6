"""Scenarios: rthreading's primitives that the stdlib lacks (AtomicInt, RWLock, CountDownLatch),
each against what a program uses instead with the stdlib alone: a counter behind a Lock, a Lock
for readers and writers alike, a latch written with a Condition."""

from __future__ import annotations

import threading as stdlib

import rthreading

from ._harness import Scenario, ThreadedSide, TimeitSide, share

GROUP = "beyond"


class CondLatch:
    """The count-down latch a stdlib program writes: a count behind a Condition."""

    def __init__(self, count):
        self.count = count
        self.cond = stdlib.Condition()

    def count_down(self):
        with self.cond:
            if self.count:
                self.count -= 1
                if not self.count:
                    self.cond.notify_all()

    def wait(self, timeout=None):
        with self.cond:
            return self.cond.wait_for(lambda: not self.count, timeout)


# (name, stdlib (setup, statement), rthreading (setup, statement), target)
TIMEIT = [
    (
        "AtomicInt: a.add(1) vs with lock: x += 1",
        ("lock = mod.Lock(); x = 0", "with lock: x += 1"),
        ("a = mod.AtomicInt()", "a.add(1)"),
        5.0,
    ),
    # The same, the method looked up once (as a hot loop would): the stdlib's statement needs
    # no lookup. On 3.13t (no specialisation) the lookup of `a.add` alone costs ~40% of the call.
    (
        "AtomicInt: add(1) (add = a.add) vs with lock: x += 1",
        ("lock = mod.Lock(); x = 0", "with lock: x += 1"),
        ("a = mod.AtomicInt(); add = a.add", "add(1)"),
        None,
    ),
    (
        "AtomicInt: a += 1 vs with lock: x += 1",
        ("lock = mod.Lock(); x = 0", "with lock: x += 1"),
        ("a = mod.AtomicInt()", "a += 1"),
        None,
    ),
    (
        "RWLock: with rw.read() vs with Lock",
        ("lock = mod.Lock()", "with lock: pass"),
        ("rw = mod.RWLock()", "with rw.read(): pass"),
        None,
    ),
    (
        "RWLock: with rw.write() vs with Lock",
        ("lock = mod.Lock()", "with lock: pass"),
        ("rw = mod.RWLock()", "with rw.write(): pass"),
        None,
    ),
    (
        "RWLock: acquire_read(); release_read() vs Lock acquire(); release()",
        ("lock = mod.Lock(); acq = lock.acquire; rel = lock.release", "acq(); rel()"),
        ("rw = mod.RWLock(); acq = rw.acquire_read; rel = rw.release_read", "acq(); rel()"),
        None,
    ),
    # What a stdlib program does to take from whichever of two queues has an item: try each
    # with get_nowait(). rthreading: select(), which could also wait for the first put.
    (
        "queue.select(a, b), item in b, vs get_nowait() on each",
        (
            "import queue\na, b = queue.Queue(), queue.Queue()\n"
            "def take():\n"
            "    for q in (a, b):\n"
            "        try:\n"
            "            return q, q.get_nowait()\n"
            "        except queue.Empty:\n"
            "            pass",
            "b.put(1); take()",
        ),
        ("from rthreading.queue import Queue, select\na, b = Queue(), Queue()", "b.put(1); select(a, b)"),
        None,
    ),
    (
        "CountDownLatch(1): make, count_down(), wait() vs a Condition latch",
        ("from rthreading.bench.beyond import CondLatch", "l = CondLatch(1); l.count_down(); l.wait()"),
        ("", "l = mod.CountDownLatch(1); l.count_down(); l.wait()"),
        None,
    ),
]


def counters(k):
    """k threads counting to n together: through a Lock (stdlib) or an AtomicInt."""

    def make(mod):
        if mod is stdlib:
            lock, box = stdlib.Lock(), [0]

            def loop_for(i):
                def loop(n):
                    for _ in range(share(n, k, i)):
                        with lock:
                            box[0] += 1

                return loop
        else:
            a = mod.AtomicInt()

            def loop_for(i):
                def loop(n):
                    add = a.add
                    for _ in range(share(n, k, i)):
                        add(1)

                return loop

        return [loop_for(i) for i in range(k)]

    return make


DATA = {i: i * i for i in range(64)}
VALUES = list(range(256))


def readers(k):
    """k threads each reading shared data per critical section (8 dict lookups and a sum over
    256 items, ~1-2 us): under a Lock (stdlib) or a read lock, which lets them overlap."""

    def make(mod):
        def loop_for(i):
            if mod is stdlib:
                lock = shared.setdefault("lock", stdlib.Lock())

                def loop(n):
                    d = DATA
                    for j in range(share(n, k, i)):
                        with lock:
                            for m in range(8):
                                d[(j + m) & 63]
                            sum(VALUES)

            else:
                rw = shared.setdefault("rw", mod.RWLock())

                def loop(n):
                    d, read = DATA, rw.read()
                    for j in range(share(n, k, i)):
                        with read:
                            for m in range(8):
                                d[(j + m) & 63]
                            sum(VALUES)

            return loop

        shared = {}
        return [loop_for(i) for i in range(k)]

    return make


def scenarios():
    out = [
        Scenario(
            name,
            GROUP,
            {
                "stdlib": lambda s=std: TimeitSide(stdlib, *s),
                "rthreading": lambda s=ours: TimeitSide(rthreading, *s),
            },
            target=target,
        )
        for name, std, ours, target in TIMEIT
    ]
    out += [
        Scenario(
            f"AtomicInt: {k} threads counting, per increment (stdlib: with lock: x += 1)",
            GROUP,
            {label: (lambda mod=mod, k=k: ThreadedSide(mod, counters(k))) for label, mod in MODULES.items()},
            unit="items/s",
        )
        for k in (1, 4)
    ]
    out += [
        Scenario(
            f"RWLock: {k} readers, 8 dict lookups + sum of 256 per read (stdlib: under a Lock)",
            GROUP,
            {label: (lambda mod=mod, k=k: ThreadedSide(mod, readers(k))) for label, mod in MODULES.items()},
            unit="items/s",
        )
        for k in (1, 2, 4)
    ]
    return out


MODULES = {"stdlib": stdlib, "rthreading": rthreading}
