"""Scenarios: the queues, stdlib `queue` against `rthreading.queue`, and Meta's `ft_utils` as a
peer where it is installed (its `StdConcurrentQueue`, the drop-in for `queue.Queue`, in the
Queue rows; its `ConcurrentQueue`, whose push/pop are SimpleQueue's put/get without the
extras, in the SimpleQueue rows). Single-thread put+get, ping-pong between two threads (the
main thread driving, and two workers), M producers x N consumers (1, 2, 4, 8 of each: a
throughput curve), task_done/join, the CPU a consumer burns while it waits for a slow
producer, and the memory a queue costs per queued item."""

from __future__ import annotations

import os
import queue as std_queue
import subprocess
import sys
import textwrap
import time
import types

import rthreading.queue as rt_queue

from ._harness import (
    Failed,
    Scenario,
    Side,
    guarded,
    handoff_scenarios,
    in_thread,
    interleaved_orders,
    run_threads,
    share,
    threaded_scenarios,
    timeit_scenarios,
)


def peer():
    """(module-like namespace, None) for ft_utils, or (None, why it is left out)."""
    if sys.version_info < (3, 13):
        return None, "ft_utils needs Python 3.13+"
    try:
        from ft_utils import concurrency  # type: ignore[import-not-found, unused-ignore]
    except ImportError as exc:
        return None, f"ft_utils is not installed ({exc}): pip install ft-utils (3.13+, builds from source)"
    if _free_threaded_build() and sys._is_gil_enabled():
        return None, "importing ft_utils re-enabled the GIL"

    # ConcurrentQueue under SimpleQueue's method names (the same functions, no wrapper).
    base = concurrency.ConcurrentQueue
    simple_queue = type("SimpleQueue", (base,), {"put": base.push, "get": base.pop})
    return types.SimpleNamespace(
        Queue=concurrency.StdConcurrentQueue, SimpleQueue=simple_queue, Empty=std_queue.Empty
    ), None


def _free_threaded_build():
    import sysconfig

    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


# --- single-thread scenarios: (name, setup, statement); `mod` is queue or rthreading.queue ---
TIMEIT = [
    ("Queue: q.put(x); q.get()", "q = mod.Queue()", "q.put(1); q.get()"),
    ("Queue: put(x); get() (bound methods)", "q = mod.Queue(); put = q.put; get = q.get", "put(1); get()"),
    ("Queue(100): q.put(x); q.get()", "q = mod.Queue(100)", "q.put(1); q.get()"),
    ("Queue: put_nowait(x); get_nowait()", "q = mod.Queue()", "q.put_nowait(1); q.get_nowait()"),
    ("Queue: put(x, timeout=1); get(timeout=1)", "q = mod.Queue(100)", "q.put(1, timeout=1.0); q.get(timeout=1.0)"),
    (
        "Queue: 1000 puts then 1000 gets, per item",
        "q = mod.Queue(); r = range(1000)",
        "for i in r: q.put(i)\nfor i in r: q.get()",
    ),
    (
        "Queue: get_nowait() on empty (Empty raised)",
        "q = mod.Queue(); E = mod.Empty",
        "try: q.get_nowait()\nexcept E: pass",
    ),
    ("Queue: qsize()", "q = mod.Queue(); q.put(1)", "q.qsize()"),
    ("LifoQueue: q.put(x); q.get()", "q = mod.LifoQueue()", "q.put(1); q.get()"),
    ("PriorityQueue: q.put(x); q.get()", "q = mod.PriorityQueue()", "q.put(1); q.get()"),
    (
        "PriorityQueue(100 queued): put(x); get()",
        "import random; q = mod.PriorityQueue(); [q.put(random.random()) for _ in range(100)]; x = 0.5",
        "q.put(x); q.get()",
    ),
    ("SimpleQueue: q.put(x); q.get()", "q = mod.SimpleQueue()", "q.put(1); q.get()"),
    ("SimpleQueue: put(x); get() (bound methods)", "q = mod.SimpleQueue(); put = q.put; get = q.get", "put(1); get()"),
    ("SimpleQueue: put_nowait(x); get_nowait()", "q = mod.SimpleQueue()", "q.put_nowait(1); q.get_nowait()"),
]
PER_ITEM = {"Queue: 1000 puts then 1000 gets, per item": 1000}
# The rows where the peer has the same operation (ft_utils has no LifoQueue/PriorityQueue,
# and ConcurrentQueue has no put_nowait).
PEER_TIMEIT = {
    "Queue: q.put(x); q.get()",
    "Queue: put(x); get() (bound methods)",
    "Queue(100): q.put(x); q.get()",
    "Queue: put_nowait(x); get_nowait()",
    "Queue: 1000 puts then 1000 gets, per item",
    "Queue: qsize()",
    "SimpleQueue: q.put(x); q.get()",
    "SimpleQueue: put(x); get() (bound methods)",
}


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


def producers_consumers(n_producers, n_consumers, maxsize, cls="Queue", immortal=False):
    """Producers put, consumers get; one operation is one item through the queue. The items
    are ints made by the producers, or with immortal=True always None: then no reference is
    counted and no memory freed across threads (the interpreter's share of the row's cost)."""

    def make(mod):
        q = getattr(mod, cls)(maxsize) if cls != "SimpleQueue" else mod.SimpleQueue()

        def producer(i):
            def loop(n):
                put = q.put
                if immortal:
                    for _ in range(share(n, n_producers, i)):
                        put(None)
                else:
                    for x in range(share(n, n_producers, i)):
                        put(x)

            return loop

        def consumer(i):
            def loop(n):
                get = q.get
                for _ in range(share(n, n_consumers, i)):
                    get()

            return loop

        return [producer(i) for i in range(n_producers)] + [consumer(i) for i in range(n_consumers)]

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


# Timed the main thread driving and in 2 workers (handoff_scenarios), with the peer.
HANDOFFS = [
    ("2 threads: Queue ping-pong, round trip", pingpong("Queue")),
    ("2 threads: SimpleQueue ping-pong, round trip", pingpong("SimpleQueue")),
]
THREADED = [
    ("1 producer/1 consumer, Queue(), per item", producers_consumers(1, 1, 0)),
    # What logging's QueueHandler/QueueListener pair does: threads put records, one thread gets.
    ("1 producer/1 consumer, SimpleQueue, per item", producers_consumers(1, 1, 0, "SimpleQueue")),
    ("2 producers/2 consumers, Queue(10), per item", producers_consumers(2, 2, 10)),
    ("2 producers/2 consumers, SimpleQueue, per item", producers_consumers(2, 2, 0, "SimpleQueue")),
    # The same two rows with None as every item (see producers_consumers): what is left of each
    # when the interpreter counts no reference and frees nothing across threads.
    (
        "2 producers/2 consumers, SimpleQueue, items None, per item",
        producers_consumers(2, 2, 0, "SimpleQueue", immortal=True),
    ),
    (
        "2 producers/2 consumers, Queue(100), items None, per item",
        producers_consumers(2, 2, 100, immortal=True),
    ),
    ("4 producers/4 consumers, Queue(), per item", producers_consumers(4, 4, 0)),
    ("2 threads: put x100 + join / get + task_done, per item", task_done_join),
]
PEER_THREADED = {
    "1 producer/1 consumer, Queue(), per item",
    "1 producer/1 consumer, SimpleQueue, per item",
    "2 producers/2 consumers, SimpleQueue, per item",
    "4 producers/4 consumers, Queue(), per item",
}
MXN_CURVE = "Queue(100), M x M threads: items/s"


def mxn_name(k):
    return f"{k} producer{'s' * (k > 1)}/{k} consumer{'s' * (k > 1)}, Queue(100), per item"


TARGETS = {
    "Queue: q.put(x); q.get()": 20.0,
    mxn_name(2): 10.0,
    "SimpleQueue: q.put(x); q.get()": 1.0,
    # The performance targets: every two-thread hand-off at least 10x, in both variants; 2P2C through
    # a SimpleQueue 1.2x the stdlib's C one; 4P4C through an unbounded Queue 10x.
    "2 producers/2 consumers, SimpleQueue, per item": 1.2,
    "4 producers/4 consumers, Queue(), per item": 10.0,
    "2 threads: Queue ping-pong, round trip": 10.0,
    "2 threads: SimpleQueue ping-pong, round trip": 10.0,
}


# --- the CPU a waiting consumer burns ------------------------------------------------------

CPU_NAME = "Consumer waiting on q.get(), producer sleeps 2 ms per item: CPU, % of a core"
CPU_SLEEP = 0.002
CPU_TARGET = 10.0  # the performance target: rthreading at most 10% of one core (the stdlib parks: ~0%)


def consumer_cpu(mod, items):
    """One run: a producer thread sleeps 2 ms before each put, a consumer thread get()s; the
    consumer's CPU time (time.thread_time: spinning counts, parked does not) over its wall
    time, in per cent of one core."""
    q, out = mod.Queue(), {}

    def producer(n):
        put, sleep = q.put, time.sleep
        for i in range(items):
            sleep(CPU_SLEEP)
            put(i)
        put(None)

    def consumer(n):
        get = q.get
        cpu, wall = time.thread_time(), time.perf_counter()
        while get() is not None:
            pass
        out["cpu"] = time.thread_time() - cpu
        out["wall"] = time.perf_counter() - wall

    run_threads([producer, consumer], items)
    return 100.0 * out["cpu"] / out["wall"]


class WaitCpuScenario(Scenario):
    """The waiting side's cost rather than its speed: each sample is one run of
    consumer_cpu, the sides interleaved; the row shows each side's percentage (lower is
    better) and no ratio (the stdlib's is ~0), and misses its target when rthreading's median
    is above it."""

    def measure(self, repeat, target, quick):
        items = 50 if quick else 200  # ~0.1 s (quick) / ~0.4 s per sample
        samples = {label: [] for label, mod in self.sides.items() if mod is not None}
        try:
            for label in samples:
                in_thread(consumer_cpu, self.sides[label], 5)  # a probe
            for order in interleaved_orders(list(samples), repeat):
                for label in order:
                    # > 0: pyperf's statistics take positive values only
                    samples[label].append(max(guarded(consumer_cpu, self.sides[label], items), 1e-6))
        except Failed as exc:
            return [self.row(status="n/a", reason=str(exc))]
        return [self.row(status="ok", number=items, samples=samples)]


# --- memory ---------------------------------------------------------------------------------

MEMORY_SCRIPT = """
    import gc, sys, time
    sys.path[:0] = {path!r}
    {import_line}
    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * {page}
    # Small ints (cached: nothing allocated per item), from a bytes object: no big temporary
    # list whose freed memory the queue could reuse unseen.
    items = bytes(range(256)) * ({n} // 256 + 1)
    q = mod.{cls}()
    put = q.put
    gc.collect()
    time.sleep(0.05)
    before = rss()
    n = 0
    for x in items:
        put(x)
        n += 1
        if n == {n}:
            break
    after = rss()
    print(after - before)
"""

IMPORTS = {
    "stdlib": "import queue as mod",
    "rthreading": "import rthreading.queue as mod",
    "ft_utils": "from rthreading.bench.queues import peer; mod = peer()[0]",
}


class MemorySide(Side):
    """Bytes of RSS a queue grows by per item while n small ints are put in it, measured in a
    fresh interpreter (a subprocess) for every sample."""

    def __init__(self, label, cls, n):
        self.label, self.cls, self.n = label, cls, n

    def sample(self, n=None):
        code = textwrap.dedent(MEMORY_SCRIPT).format(
            path=[p for p in sys.path if p],
            import_line=IMPORTS[self.label],
            cls=self.cls,
            n=self.n,
            page=os.sysconf("SC_PAGE_SIZE"),
        )
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            lines = r.stderr.strip().splitlines()
            raise Failed(lines[-1] if lines else f"exit status {r.returncode}")
        return max(int(r.stdout.strip()), 1) / self.n  # > 0: pyperf takes positive values


class MemoryScenario(Scenario):
    def measure(self, repeat, target, quick):
        n = 2 * 10**5 if quick else 10**6
        sides = {label: MemorySide(label, self.cls_for(label), n) for label, ok in self.sides.items() if ok is not None}
        samples = {label: [] for label in sides}
        try:
            for _ in range(1 if quick else 3):
                for label, side in sides.items():
                    samples[label].append(side.sample())
        except Failed as exc:
            return [self.row(status="n/a", reason=str(exc))]
        return [self.row(status="ok", number=n, samples=samples)]

    def cls_for(self, label):
        return self.name.split()[0]


def scenarios():
    mod_peer, _ = peer()
    modules = {"stdlib": std_queue, "rthreading": rt_queue}
    with_peer = {**modules, "ft_utils": mod_peer}
    out = []
    for name, setup, stmt in TIMEIT:
        out += timeit_scenarios(
            "queue", [(name, setup, stmt)], with_peer if name in PEER_TIMEIT else modules, TARGETS, PER_ITEM
        )
    out += handoff_scenarios("queue", HANDOFFS, with_peer, TARGETS, length=3.0)
    for name, make in THREADED:
        out += threaded_scenarios(
            "queue", [(name, make)], with_peer if name in PEER_THREADED else modules, TARGETS, length=3.0
        )
    for k in (1, 2, 4, 8):
        for s in threaded_scenarios(
            "queue", [(mxn_name(k), producers_consumers(k, k, 100))], with_peer, TARGETS, length=3.0
        ):
            s.unit, s.curve = "items/s", (MXN_CURVE, k)
            out.append(s)
    out.append(
        WaitCpuScenario(
            CPU_NAME,
            "queue",
            {"stdlib": std_queue, "rthreading": rt_queue},
            target=CPU_TARGET,
            unit="% of a core",
            kind="cpu",
        )
    )
    for cls in ("Queue", "LifoQueue", "PriorityQueue", "SimpleQueue"):
        sides = {"stdlib": True, "rthreading": True}
        if cls == "Queue" and mod_peer is not None:
            sides["ft_utils"] = True
        out.append(
            MemoryScenario(f"{cls} memory: small ints queued, per item", "memory", sides, unit="bytes", kind="memory")
        )
    return out
