"""Scenarios: realistic workloads, end to end. The same program runs with the stdlib's imports
(`threading`, `queue`, `concurrent.futures`) and with rthreading's (`rthreading`,
`rthreading.queue`, `rthreading.futures`): its threads started and joined, its pool made and
shut down, the garbage collector on, as a user's program would run. The main thread does what
a program's main thread does (feeds the pipeline, submits to the pool, joins), under the
harness's watchdog (see _harness.on_main_thread).

* pipeline: the main thread feeds 3 stages (parse, enrich, score) of N threads each, through
  bounded queues (Queue(100)), small work per item per stage;
* fan-out: small tasks submitted to a ThreadPoolExecutor(N), then their results collected;
* cache: N threads look keys up in a lock-protected dict (the seeds' Cache class), computing
  and storing the value on a miss (100 keys: most lookups hit);
* crawler: N threads take URLs from a queue and "fetch" each (a ~0.1 ms sleep: simulated I/O)
  under a Semaphore(4) that limits the connections, then parse and record the page under a Lock;
* producer/consumer: the seeds' program, one producer thread putting records into a
  Queue(maxsize=5), N consumers doing realistic per-record work (split, convert, summarise,
  format a report line) and task_done(); the main thread join()s the queue, then sends one
  sentinel per consumer.

Each at 1, 2, 4 and 8 threads, then at 4 threads with 10x and 100x the items (the cheap ones),
so that the table shows how the cost per item behaves as the work grows (flat: linear). A row
is the time per item of one whole run; every run's result is checked against the sequential
answer (a side that loses or repeats items is n/a). --quick divides the item counts by 10.
"""

from __future__ import annotations

import concurrent.futures as std_futures
import queue as std_queue
import threading as std_threading
import time
import types
from dataclasses import dataclass
from typing import Callable

import rthreading
import rthreading.futures as rt_futures
import rthreading.queue as rt_queue

from ._harness import HANG_SECONDS, Failed, Scenario, describe, in_thread, interleaved_orders, on_main_thread

SIDES = {
    "stdlib": types.SimpleNamespace(threading=std_threading, queue=std_queue, futures=std_futures),
    "rthreading": types.SimpleNamespace(threading=rthreading, queue=rt_queue, futures=rt_futures),
}
THREADS = (1, 2, 4, 8)
GROWTH_THREADS = 4
RUN_LIMIT = 6 * HANG_SECONDS  # seconds one run may take before it is reported as a hang
# Repetitions at most, to keep the group within ~2 minutes (a few seconds with --quick): a run
# of the base item count takes up to ~1 s, one of 10x or 100x the items up to ~10 s.
BASE_REPEAT, GROWTH_REPEAT = 5, 3


# --- the work done per item ---------------------------------------------------------------


def parse(i):
    """A CSV line into a record."""
    ident, user, amount = f"{i},user{i % 97},{i * 7919 % 1000}".split(",")
    return int(ident), user, int(amount)


def enrich(rec):
    ident, user, amount = rec
    return ident, user.upper(), amount * 3 % 1013


def score(rec):
    return rec[2] + len(rec[1])


def task(i):
    return score(enrich(parse(i)))


def make_record(i):
    return f"Item-{i},{i % 13},{i % 101},{i * 31 % 997},{i % 7},{i * 17 % 89}"


def process(record):
    """The seeds' "process(item)": split a record, convert, summarise, format a report line."""
    name, *fields = record.split(",")
    values = [int(v) for v in fields]
    line = f"{name}: n={len(values)} sum={sum(values)} max={max(values)} mean={sum(values) / len(values):.2f}"
    return len(line) + sum(values) % 101


# --- the programs: run(ns, threads, items) -> checksum ------------------------------------


def pipeline(ns, threads, items):
    q1, q2, q3 = ns.queue.Queue(100), ns.queue.Queue(100), ns.queue.Queue(100)
    totals = []

    def stage(source, sink, fn):
        get, put = source.get, sink.put
        while (item := get()) is not None:
            put(fn(item))

    def last_stage():
        get, total = q3.get, 0
        while (item := get()) is not None:
            total += score(item)
        totals.append(total)

    stages = [
        [ns.threading.Thread(target=stage, args=(q1, q2, parse)) for _ in range(threads)],
        [ns.threading.Thread(target=stage, args=(q2, q3, enrich)) for _ in range(threads)],
        [ns.threading.Thread(target=last_stage) for _ in range(threads)],
    ]
    for group in stages:
        for t in group:
            t.start()
    put = q1.put
    for i in range(items):
        put(i)
    for source, group in zip((q1, q2, q3), stages):
        for _ in group:
            source.put(None)
        for t in group:
            t.join()
    return sum(totals)


def fan_out(ns, threads, items):
    with ns.futures.ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(task, i) for i in range(items)]
        return sum(f.result() for f in futures)


CACHE_KEYS = 100


class Cache:
    """The seeds' cache: a dict behind a Lock."""

    def __init__(self, lock):
        self.data = {}
        self.lock = lock

    def get(self, key):
        with self.lock:
            return self.data.get(key)

    def set(self, key, value):
        with self.lock:
            self.data[key] = value


def cache_key(i):
    return i * 7919 % CACHE_KEYS


def shared_cache(ns, threads, items):
    cache, totals = Cache(ns.threading.Lock()), []

    def worker(first):
        total = 0
        for i in range(first, items, threads):
            key = cache_key(i)
            value = cache.get(key)
            if value is None:
                value = task(key)
                cache.set(key, value)
            total += value
        totals.append(total)

    workers = [ns.threading.Thread(target=worker, args=(j,)) for j in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return sum(totals)


CONNECTIONS, FETCH_SECONDS = 4, 0.0001


def page_links(url):
    return int(url.rsplit("/", 1)[1]) % 7


def crawler(ns, threads, items):
    urls = ns.queue.Queue()
    for i in range(items):
        urls.put(f"https://example.org/page/{i}")
    for _ in range(threads):
        urls.put(None)
    connections, lock, links = ns.threading.Semaphore(CONNECTIONS), ns.threading.Lock(), {}

    def worker():
        while (url := urls.get()) is not None:
            with connections:
                time.sleep(FETCH_SECONDS)  # the request
            found = page_links(url)
            with lock:
                links[url] = found

    workers = [ns.threading.Thread(target=worker) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return sum(links.values())


def producer_consumer(ns, threads, items):
    q, totals = ns.queue.Queue(maxsize=5), []

    def producer():
        for i in range(items):
            q.put(make_record(i))

    def consumer():
        total = 0
        while True:
            item = q.get()
            if item is None:
                q.task_done()
                break
            total += process(item)
            q.task_done()
        totals.append(total)

    prod = ns.threading.Thread(target=producer)
    consumers = [ns.threading.Thread(target=consumer) for _ in range(threads)]
    for t in consumers:
        t.start()
    prod.start()
    prod.join()
    q.join()
    for _ in consumers:
        q.put(None)
    for t in consumers:
        t.join()
    return sum(totals)


# --- the scenarios ------------------------------------------------------------------------


@dataclass
class Workload:
    key: str  # the scenario's name after "workloads: "
    run: Callable
    expect: Callable  # items -> the checksum a correct run returns
    label: Callable  # (threads, items) -> the row's name
    items: int  # items of the 1, 2, 4, 8 thread rows (full run; --quick: a tenth)
    growth: tuple  # multiples of `items` for the GROWTH_THREADS rows


def count(n):
    exp = len(str(n)) - 1
    return f"10^{exp}" if n == 10**exp else f"{n:,}"


def plural(n, word):
    return f"{n} {word}{'s' * (n != 1)}"


WORKLOADS = [
    Workload(
        "pipeline, 3 stages through Queue(100)",
        pipeline,
        lambda n: sum(task(i) for i in range(n)),
        lambda k, n: (
            f"pipeline: main feeds 3 stages x {plural(k, 'thread')}, Queue(100) between, {count(n)} items, per item"
        ),
        10**4,
        (1, 10),
    ),
    Workload(
        "fan-out to ThreadPoolExecutor",
        fan_out,
        lambda n: sum(task(i) for i in range(n)),
        lambda k, n: f"fan-out: {count(n)} small tasks to ThreadPoolExecutor({k}), submit all + results, per task",
        10**4,
        (1, 10),
    ),
    Workload(
        "Lock-protected shared dict cache",
        shared_cache,
        lambda n: sum(task(cache_key(i)) for i in range(n)),
        lambda k, n: (
            f"cache: {plural(k, 'thread')} on a Lock-protected dict ({CACHE_KEYS} keys), {count(n)} lookups, per lookup"
        ),
        10**4,
        (1, 10, 100),
    ),
    Workload(
        "Semaphore-limited crawler, simulated I/O",
        crawler,
        lambda n: sum(i % 7 for i in range(n)),
        lambda k, n: (
            f"crawler: {plural(k, 'thread')}, Semaphore({CONNECTIONS}) around"
            f" a {FETCH_SECONDS * 1e3:g} ms fetch, {count(n)} URLs, per URL"
        ),
        10**3,
        (1, 10),
    ),
    Workload(
        "producer/consumer as in the seeds",
        producer_consumer,
        lambda n: sum(process(make_record(i)) for i in range(n)),
        lambda k, n: (
            f"producer/consumer: 1 producer, {plural(k, 'consumer')},"
            f" Queue(maxsize=5), per-record work, {count(n)} records, per record"
        ),
        10**4,
        (1, 10),
    ),
]


def grid(workload, quick):
    """(threads, items) of each row, in table order."""
    base = workload.items // 10 if quick else workload.items
    points = [(k, base) for k in THREADS]
    points += [(GROWTH_THREADS, base * m) for m in workload.growth if m > 1]
    return points


def run_checked(ns, threads, items, expected, run):
    """Seconds one whole run took; Failed if it raised, hung or returned a wrong checksum."""
    t0 = time.perf_counter()
    try:
        got = on_main_thread(lambda: run(ns, threads, items), RUN_LIMIT)
    except Failed:
        raise
    except Exception as exc:  # noqa: BLE001 - the side's failure
        raise Failed(describe(exc)) from exc
    seconds = time.perf_counter() - t0
    if got != expected:
        raise Failed(f"wrong result with {threads} threads, {items} items: {got!r}, expected {expected!r}")
    return seconds


class WorkloadScenario(Scenario):
    """One workload: every (threads, items) point a row, both sides interleaved per point
    (at most BASE_REPEAT repetitions at the base item count, GROWTH_REPEAT above it)."""

    workload: Workload | None = None

    def measure(self, repeat, target, quick):
        w = self.workload
        assert w is not None
        sides = {label: ns for label, ns in SIDES.items()}
        try:  # a probe: each side once, small, in a thread (a hang cannot block the worker)
            small = max(8, w.items // 100)
            for ns in sides.values():
                in_thread(run_checked, ns, 2, small, w.expect(small), w.run)
        except Failed as exc:
            return [self.row(status="n/a", reason=str(exc))]
        rows, expected = [], {}
        base = grid(w, quick)[0][1]
        for threads, items in grid(w, quick):
            row = Scenario(w.label(threads, items), self.group)
            if items not in expected:
                expected[items] = w.expect(items)
            samples = {label: [] for label in sides}
            reps = min(repeat, BASE_REPEAT if items == base else GROWTH_REPEAT)
            try:
                for order in interleaved_orders(list(sides), reps):
                    for label in order:
                        seconds = run_checked(sides[label], threads, items, expected[items], w.run)
                        samples[label].append(seconds / items * 1e9)
            except Failed as exc:
                rows.append(row.row(status="n/a", reason=str(exc)))
                failed = f"not run after a failure: {exc}"
                break
            rows.append(row.row(status="ok", number=items, samples=samples))
        else:
            return rows
        # A side that failed (and may have left threads blocked) is not run again.
        rows += [
            Scenario(w.label(k, n), self.group).row(status="n/a", reason=failed) for k, n in grid(w, quick)[len(rows) :]
        ]
        return rows


def scenarios():
    out = []
    for w in WORKLOADS:
        s = WorkloadScenario(f"workloads: {w.key}", "workloads", dict.fromkeys(SIDES, True))
        s.workload = w
        out.append(s)
    return out
