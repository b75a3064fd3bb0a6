"""Where the kernel puts four threads decides the 2-producer/2-consumer queue rows: this runs
them with the threads pinned, both producers on one CPU and both consumers on the other
("split"), or one producer and one consumer on each ("mixed"), the stdlib and rthreading
interleaved run by run, and prints each side's ns per item (median, min..max) and the median of
the per-run ratios stdlib / rthreading.

Usage: python scripts/placement.py [simple|bounded] [int|none] [RUNS]   (Linux, 2+ CPUs, with
the interpreter under test, rthreading installed; defaults: simple int 10). "simple" is the
bench's "2 producers/2 consumers, SimpleQueue" row, "bounded" its "Queue(100)" row; "none" puts
None, which no thread reference-counts, instead of the producers' ints.
"""

import gc
import os
import queue
import statistics
import sys
import threading
import time

import rthreading.queue

ITEMS = 200_000
PLACEMENTS = {"split": (0, 0, 1, 1), "mixed": (0, 1, 0, 1)}  # CPUs of P0, P1, C0, C1


def run(mod, kind, ints, cpus):
    """ns per item, 2 producers and 2 consumers pinned to `cpus`, from the first thread's start
    to the last one's end."""
    q = mod.SimpleQueue() if kind == "simple" else mod.Queue(100)
    barrier = threading.Barrier(4)
    starts, ends = [], []

    def producer(n, cpu):
        os.sched_setaffinity(0, {cpu})
        put = q.put
        barrier.wait()
        starts.append(time.perf_counter())
        if ints:
            for x in range(n):
                put(x)
        else:
            for _ in range(n):
                put(None)
        ends.append(time.perf_counter())

    def consumer(n, cpu):
        os.sched_setaffinity(0, {cpu})
        get = q.get
        barrier.wait()
        starts.append(time.perf_counter())
        for _ in range(n):
            get()
        ends.append(time.perf_counter())

    roles = [producer, producer, consumer, consumer]
    threads = [threading.Thread(target=f, args=(ITEMS // 2, cpu)) for f, cpu in zip(roles, cpus)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (max(ends) - min(starts)) / ITEMS * 1e9


def summary(xs):
    return f"{statistics.median(xs):5.0f} ns ({min(xs):.0f}..{max(xs):.0f})"


def main(kind="simple", items="int", runs="10"):
    gc.disable()
    for name, cpus in PLACEMENTS.items():
        std, ours = [], []
        for _ in range(int(runs)):
            std.append(run(queue, kind, items == "int", cpus))
            ours.append(run(rthreading.queue, kind, items == "int", cpus))
        ratio = statistics.median(s / r for s, r in zip(std, ours))
        print(f"{kind} {items} {name}: stdlib {summary(std)}, rthreading {summary(ours)}, ratio {ratio:.2f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
