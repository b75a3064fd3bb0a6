"""Scenarios: contended lock throughput, 1, 2, 4 and 8 threads hammering one shared Lock
(`with lock: pass`), in acquisitions per second summed over the threads."""

from __future__ import annotations

import threading as stdlib

import rthreading

from ._harness import Scenario, ThreadedSide, share

MODULES = {"stdlib": stdlib, "rthreading": rthreading}
CURVE = "Lock, contended: acquires/s"


def lock_contended(k):
    def make(mod):
        lock = mod.Lock()

        def loop_for(i):
            def loop(n):
                for _ in range(share(n, k, i)):
                    with lock:
                        pass

            return loop

        return [loop_for(i) for i in range(k)]

    return make


def scenarios():
    return [
        Scenario(
            f"Lock contended: {k} thread{'s' * (k > 1)} on one Lock, per acquire",
            "contended",
            {label: (lambda mod=mod, k=k: ThreadedSide(mod, lock_contended(k))) for label, mod in MODULES.items()},
            unit="items/s",
            length=2.0,
            curve=(CURVE, k),
        )
        for k in (1, 2, 4, 8)
    ]
