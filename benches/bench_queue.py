#!/usr/bin/env python3
"""Benchmark rthreading.queue against the stdlib's queue module, in the same run.

    python benches/bench_queue.py [--quick] [--repeat N] [--json PATH] [-k FILTER] [--no-memory]

Same method as bench_primitives.py (whose helpers it uses): every scenario is timed for both
modules with the same operation count, interleaved repetition by repetition; reported are the
median ns/op per module with its spread and the median of the per-repetition ratios
stdlib / rthreading (>1: rthreading is faster). Single-thread scenarios are timeit statements;
threaded ones run every side in fresh threads and time the loops only (their samples are 4x
longer: ~0.6 s, quick ~0.12 s). After the timings, the
memory a queue holding 10**6 small ints costs (RSS growth measured in a fresh interpreter per
module, the ints made beforehand), per item.
"""

from __future__ import annotations

import argparse
import json
import os
import queue as std_queue
import subprocess
import sys
import textwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_primitives as bp  # noqa: E402  (also checks that rthreading is installed)

import rthreading.queue as rt_queue  # noqa: E402

MODULES = (("stdlib", std_queue), ("rthreading", rt_queue))

# --- single-thread scenarios: (name, setup, statement); `mod` is queue or rthreading.queue ---
TIMEIT = [
    ("Queue: q.put(x); q.get()", "q = mod.Queue()", "q.put(1); q.get()"),
    ("Queue: put(x); get() (bound methods)", "q = mod.Queue(); put = q.put; get = q.get",
     "put(1); get()"),
    ("Queue(100): q.put(x); q.get()", "q = mod.Queue(100)", "q.put(1); q.get()"),
    ("Queue: put_nowait(x); get_nowait()", "q = mod.Queue()", "q.put_nowait(1); q.get_nowait()"),
    ("Queue: put(x, timeout=1); get(timeout=1)", "q = mod.Queue(100)",
     "q.put(1, timeout=1.0); q.get(timeout=1.0)"),
    ("Queue: 1000 puts then 1000 gets, per item", "q = mod.Queue(); r = range(1000)",
     "for i in r: q.put(i)\nfor i in r: q.get()"),
    ("Queue: get_nowait() on empty (Empty raised)", "q = mod.Queue(); E = mod.Empty",
     "try: q.get_nowait()\nexcept E: pass"),
    ("Queue: qsize()", "q = mod.Queue(); q.put(1)", "q.qsize()"),
    ("LifoQueue: q.put(x); q.get()", "q = mod.LifoQueue()", "q.put(1); q.get()"),
    ("PriorityQueue: q.put(x); q.get()", "q = mod.PriorityQueue()", "q.put(1); q.get()"),
    ("PriorityQueue(100 queued): put(x); get()",
     "import random; q = mod.PriorityQueue(); [q.put(random.random()) for _ in range(100)];"
     " x = 0.5", "q.put(x); q.get()"),
    ("SimpleQueue: q.put(x); q.get()", "q = mod.SimpleQueue()", "q.put(1); q.get()"),
    ("SimpleQueue: put(x); get() (bound methods)",
     "q = mod.SimpleQueue(); put = q.put; get = q.get", "put(1); get()"),
    ("SimpleQueue: put_nowait(x); get_nowait()", "q = mod.SimpleQueue()",
     "q.put_nowait(1); q.get_nowait()"),
]

# TIMEIT scenarios that run per item, and how many items one statement moves.
PER_ITEM = {"Queue: 1000 puts then 1000 gets, per item": 1000}


# --- threaded scenarios: f(mod) -> loops; loop(n) does its share of n operations ------------

def pingpong(cls):
    """Two threads, two queues: A puts to q1, B gets it and puts to q2, A gets it back."""
    def make(mod):
        q1, q2 = getattr(mod, cls)(), getattr(mod, cls)()

        def a(n):
            put, get = q1.put, q2.get
            for _ in range(n):
                put(1)
                get()

        def b(n):
            put, get = q2.put, q1.get
            for _ in range(n):
                put(get())
        return a, b
    return make


def producers_consumers(n_producers, n_consumers, maxsize, cls="Queue"):
    """Producers put, consumers get; one operation is one item through the queue."""
    def make(mod):
        q = getattr(mod, cls)(maxsize) if cls != "SimpleQueue" else mod.SimpleQueue()

        def share(n, k, i):
            return n // k + (1 if i < n % k else 0)

        def producer(i):
            def loop(n):
                put = q.put
                for x in range(share(n, n_producers, i)):
                    put(x)
            return loop

        def consumer(i):
            def loop(n):
                get = q.get
                for _ in range(share(n, n_consumers, i)):
                    get()
            return loop
        return ([producer(i) for i in range(n_producers)]
                + [consumer(i) for i in range(n_consumers)])
    return make


def task_done_join(mod):
    """A worker gets and task_done()s; the main side puts a batch of 100 and join()s."""
    q = mod.Queue()

    def main_side(n):
        for start in range(0, n, 100):
            for x in range(min(100, n - start)):
                q.put(x)
            q.join()
        q.put(None)

    def worker(n):
        while q.get() is not None:
            q.task_done()
        q.task_done()
    return main_side, worker


THREADED = [
    ("2 threads: Queue ping-pong, round trip", pingpong("Queue")),
    ("2 threads: SimpleQueue ping-pong, round trip", pingpong("SimpleQueue")),
    ("1 producer/1 consumer, Queue(), per item", producers_consumers(1, 1, 0)),
    ("2 producers/2 consumers, Queue(100), per item", producers_consumers(2, 2, 100)),
    ("2 producers/2 consumers, Queue(10), per item", producers_consumers(2, 2, 10)),
    ("2 producers/2 consumers, SimpleQueue, per item",
     producers_consumers(2, 2, 0, "SimpleQueue")),
    ("2 threads: put x100 + join / get + task_done, per item", task_done_join),
]


THREADED_TARGET_FACTOR = 4


class ItemSide(bp.Side):
    """A timeit side whose statement moves `per` items: an operation is one item."""

    def __init__(self, mod, setup, stmt, per):
        super().__init__(mod, setup, stmt)
        self.per = per

    def sample(self, n):
        """Seconds for n items: n // per statements, scaled."""
        k = max(1, n // self.per)
        return super().sample(k) * n / (k * self.per)


# --- memory ---------------------------------------------------------------------------------

MEMORY_SCRIPT = """
    import gc, time
    import {module} as mod
    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * {page}
    # Small ints (cached: nothing allocated per item), from a bytes object: no big temporary
    # list whose freed memory the queue could reuse unseen.
    items = bytes(range(256)) * ({n} // 256 + 1)
    q = mod.{cls}()
    gc.collect()
    time.sleep(0.05)
    before = rss()
    n = 0
    for x in items:
        q.put(x)
        n += 1
        if n == {n}:
            break
    after = rss()
    assert q.qsize() == {n}
    print(after - before)
"""


def queue_memory(module, cls, n=10**6):
    """Bytes of RSS a queue of `cls` grows by while 10**6 small ints are put in it."""
    code = textwrap.dedent(MEMORY_SCRIPT).format(module=module, cls=cls, n=n,
                                                 page=os.sysconf("SC_PAGE_SIZE"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise bp.Failed(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "failed")
    return int(r.stdout.strip())


def memory_table(classes, repeat):
    rows = ["| 10**6 small ints queued | stdlib bytes/item | rthreading bytes/item | ratio |",
            "|---|---:|---:|---:|"]
    results = []
    for cls in classes:
        per = {}
        for label, module in (("stdlib", "queue"), ("rthreading", "rthreading.queue")):
            try:
                per[label] = min(queue_memory(module, cls) for _ in range(repeat)) / 10**6
            except bp.Failed as exc:
                per[label] = None
                bp.progress(f"memory {cls}: {label} failed: {exc}")
        ok = all(v is not None for v in per.values())
        ratio = per["stdlib"] / per["rthreading"] if ok and per["rthreading"] else None
        bp.progress(f"memory {cls}: stdlib {per['stdlib']}, rthreading {per['rthreading']}"
                    f" bytes/item")
        results.append({"class": cls, **per, "ratio": ratio})
        fmt = (lambda v: "n/a" if v is None else f"{v:.2f}")
        rows.append(f"| {cls} | {fmt(per['stdlib'])} | {fmt(per['rthreading'])} |"
                    f" {fmt(ratio)} |")
    return "\n".join(rows), results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="short samples, 5 repetitions: seconds, not minutes")
    p.add_argument("--repeat", type=int, help="repetitions per module (default 9, quick 5)")
    p.add_argument("--json", metavar="PATH", help="also write every sample to PATH as JSON")
    p.add_argument("-k", metavar="FILTER", default="",
                   help="only scenarios whose name contains FILTER (case-insensitive; "
                        "several alternatives separated by commas)")
    p.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    args = p.parse_args(argv)
    repeat = args.repeat or (5 if args.quick else 9)
    if repeat < 1:
        p.error("--repeat must be at least 1")
    target = 0.03 if args.quick else 0.15

    scenarios = []
    for name, setup, stmt in TIMEIT:
        per = PER_ITEM.get(name, 1)
        scenarios.append((name, {label: (ItemSide(mod, setup, stmt, per) if per > 1
                                         else bp.Side(mod, setup, stmt))
                                 for label, mod in MODULES}))
    scenarios += [(name, {label: bp.Side(mod, make) for label, mod in MODULES})
                  for name, make in THREADED]
    wanted = [w.strip().lower() for w in args.k.split(",") if w.strip()]
    if wanted:
        scenarios = [(n, s) for n, s in scenarios if any(w in n.lower() for w in wanted)]
    memory = not args.no_memory and (not wanted or any(w in "memory" for w in wanted))
    if not scenarios and not memory:
        p.error(f"no scenario matches -k {args.k!r}")

    env = bp.environment()
    bp.progress(f"{bp.environment_line(env)}\n{len(scenarios)} scenarios, {repeat} repetitions,"
                f" ~{target:.2f} s per sample")
    # Threaded samples get a longer target: the rthreading side of a producers/consumers
    # scenario at the stdlib's operation count would last a few milliseconds, where the start-up
    # of four threads released at once weighs on the result.
    threaded = {name for name, _ in THREADED}
    results = [bp.run_scenario(name, sides, repeat,
                               target * THREADED_TARGET_FACTOR if name in threaded else target)
               for name, sides in scenarios]
    mem_md, mem_results = (memory_table(["Queue", "LifoQueue", "PriorityQueue", "SimpleQueue"], 3)
                           if memory else ("", []))

    if results:
        print(bp.markdown_table(results))
        print()
    if mem_md:
        print(mem_md)
        print()
    print(bp.environment_line(env))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, "repeat": repeat, "target_seconds": target,
                       "results": results, "memory": mem_results}, f, indent=1)
        bp.progress(f"wrote {args.json}")


if __name__ == "__main__":
    main()
