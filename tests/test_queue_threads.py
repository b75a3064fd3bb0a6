"""Queues between threads: the seed documents' producer/consumer programs (with
`import rthreading as threading` / `from rthreading.queue import Queue` swapped in), a stress
test, garbage collection of cycles through queued items, and Ctrl-C on a blocked wait."""

import gc
import queue as std_queue
import random
import threading as std_threading
import time
import weakref

import pytest

import rthreading
import rthreading.queue as rt_queue
from helpers import run_python

PAIRS = {"stdlib": (std_threading, std_queue), "rthreading": (rthreading, rt_queue)}


@pytest.fixture(params=list(PAIRS), ids=list(PAIRS))
def mods(request):
    """(threading, queue) of the stdlib, then of rthreading."""
    return PAIRS[request.param]


# --- the seeds' programs (sleeps shortened) -------------------------------------------------------


def test_seed_single_consumer_sentinel(mods):
    """Producer-consumer with an unbounded Queue, a None sentinel and task_done."""
    threading, queue = mods
    log = []

    def producer(q):
        for i in range(5):
            q.put(i)
            log.append(f"Produced {i}")

    def consumer(q):
        while True:
            item = q.get()
            if item is None:
                break
            log.append(f"Consumed {item}")
            q.task_done()

    q = queue.Queue()
    p = threading.Thread(target=producer, args=(q,))
    c = threading.Thread(target=consumer, args=(q,))
    p.start()
    c.start()
    p.join()
    q.put(None)
    c.join()
    assert [x for x in log if x.startswith("Consumed")] == [f"Consumed {i}" for i in range(5)]
    assert sorted(x for x in log if x.startswith("Produced")) == [f"Produced {i}" for i in range(5)]
    assert q.unfinished_tasks == 1  # the sentinel was never task_done'd


def test_seed_results_collected_through_queue(mods):
    threading, queue = mods

    def compute(value, result_queue):
        result_queue.put((value, value**2))

    result_queue = queue.Queue()
    threads = [threading.Thread(target=compute, args=(i, result_queue)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = []
    while not result_queue.empty():
        results.append(result_queue.get())
    assert sorted(results) == [(i, i * i) for i in range(5)]


def test_seed_bounded_back_pressure(mods):
    """Queue(maxsize=5): a fast producer is held back by a slow consumer."""
    threading, queue = mods
    q = queue.Queue(maxsize=5)
    high_water = []
    consumed = []

    def producer(num_items):
        for i in range(num_items):
            q.put(f"Item-{i}")
            high_water.append(q.qsize())
        q.put(None)

    def consumer():
        while True:
            item = q.get()
            if item is None:
                break
            consumed.append(item)
            time.sleep(0.002)
            q.task_done()

    pt = threading.Thread(target=producer, args=(30,))
    ct = threading.Thread(target=consumer)
    pt.start()
    ct.start()
    pt.join()
    ct.join()
    assert consumed == [f"Item-{i}" for i in range(30)]
    assert max(high_water) <= 5


def test_seed_two_consumers_pass_the_sentinel(mods):
    threading, queue = mods
    got = {"C1": [], "C2": []}

    def producer(q, name):
        for i in range(20):
            q.put(f"{name}-item-{i}")
            time.sleep(random.uniform(0, 0.002))
        q.put(None)

    def consumer(q, name):
        while True:
            item = q.get()
            if item is None:
                q.put(None)  # pass the signal on
                break
            got[name].append(item)
            q.task_done()

    q = queue.Queue(maxsize=3)
    threads = [
        threading.Thread(target=producer, args=(q, "P1")),
        threading.Thread(target=consumer, args=(q, "C1")),
        threading.Thread(target=consumer, args=(q, "C2")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got["C1"] + got["C2"], key=lambda s: int(s.rsplit("-", 1)[1])) == [f"P1-item-{i}" for i in range(20)]
    assert q.get_nowait() is None


def test_seed_thread_pool(mods):
    threading, queue = mods
    done = []
    lock = threading.Lock()

    class ThreadPool:
        def __init__(self, num_threads):
            self.tasks = queue.Queue()
            self.threads = []
            for _ in range(num_threads):
                t = threading.Thread(target=self._worker)
                t.daemon = True
                t.start()
                self.threads.append(t)

        def _worker(self):
            while True:
                task = self.tasks.get()
                if task is None:
                    break
                func, args, kwargs = task
                func(*args, **kwargs)

        def submit(self, func, *args, **kwargs):
            self.tasks.put((func, args, kwargs))

        def shutdown(self):
            for _ in self.threads:
                self.tasks.put(None)
            for t in self.threads:
                t.join()

    def task(n, scale=1):
        with lock:
            done.append(n * scale)

    pool = ThreadPool(4)
    for n in range(50):
        pool.submit(task, n, scale=2)
    pool.shutdown()
    assert sorted(done) == [2 * n for n in range(50)]


def test_seed_join_waits_for_processing(mods):
    """task_done()/join(): join returns once every item has been processed."""
    threading, queue = mods
    q = queue.Queue()
    processed = []

    def worker():
        while True:
            item = q.get()
            time.sleep(0.001)
            processed.append(item)
            q.task_done()

    for _ in range(3):
        threading.Thread(target=worker, daemon=True).start()
    for i in range(30):
        q.put(i)
    q.join()
    assert sorted(processed) == list(range(30))


# --- stress -----------------------------------------------------------------------------------


@pytest.mark.thread_unsafe  # heavy already: 8 threads of its own
@pytest.mark.timeout(120)
def test_stress_4x4_million_items_bounded():
    """4 producers x 4 consumers, 10**6 items through Queue(maxsize=256): each exactly once."""
    n_items, n_producers, n_consumers = 10**6, 4, 4
    q = rt_queue.Queue(maxsize=256)
    per = n_items // n_producers
    sums = []

    def producer(p):
        put = q.put
        for i in range(p * per + 1, (p + 1) * per + 1):
            put(i)

    def consumer():
        get = q.get
        count = total = 0
        while True:
            x = get()
            if x is None:
                break
            count += 1
            total += x
        sums.append((count, total))

    consumers = [rthreading.Thread(target=consumer) for _ in range(n_consumers)]
    producers = [rthreading.Thread(target=producer, args=(p,)) for p in range(n_producers)]
    for t in consumers + producers:
        t.start()
    for t in producers:
        t.join()
    for _ in consumers:
        q.put(None)
    for t in consumers:
        t.join()
    assert sum(c for c, _ in sums) == n_items
    assert sum(s for _, s in sums) == n_items * (n_items + 1) // 2
    assert q.qsize() == 0 and q.unfinished_tasks == n_items + n_consumers


@pytest.mark.parametrize("cls", ["LifoQueue", "PriorityQueue"])
@pytest.mark.timeout(60)
def test_stress_other_orders(cls):
    n_items, n_threads = 40_000, 4
    q = getattr(rt_queue, cls)(maxsize=16)
    per = n_items // n_threads
    sums = []

    def producer(p):
        for i in range(p * per + 1, (p + 1) * per + 1):
            q.put(i)

    def consumer():
        count = total = 0
        while True:
            try:
                x = q.get(timeout=5)
            except rt_queue.ShutDown:
                break
            count += 1
            total += x
            q.task_done()
        sums.append((count, total))

    threads = [rthreading.Thread(target=producer, args=(p,)) for p in range(n_threads)]
    consumers = [rthreading.Thread(target=consumer) for _ in range(n_threads)]
    for t in threads + consumers:
        t.start()
    for t in threads:
        t.join()
    q.join()
    q.shutdown()
    for t in consumers:
        t.join()
    assert sum(c for c, _ in sums) == n_items
    assert sum(s for _, s in sums) == n_items * (n_items + 1) // 2


# --- garbage collection ------------------------------------------------------------------------

ALL_CLASSES = ["Queue", "LifoQueue", "PriorityQueue", "SimpleQueue"]


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_queue_holding_itself_is_collected(cls):
    q = getattr(rt_queue, cls)()
    q.put(q)
    ref = weakref.ref(q)
    del q
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_cycle_through_an_item_is_collected(cls):
    class Node:
        pass

    q = getattr(rt_queue, cls)()
    node = Node()
    node.q = q
    q.put(node)
    refs = weakref.ref(q), weakref.ref(node)
    del q, node
    gc.collect()
    assert [r() for r in refs] == [None, None]


@pytest.mark.parametrize("cls", ["Queue", "LifoQueue", "PriorityQueue"])
def test_compatibility_mode_cycle_is_collected(cls):
    q = getattr(rt_queue, cls)()
    q.put(q)
    assert q.mutex is not None  # switches to the stdlib's representation
    ref = weakref.ref(q)
    del q
    gc.collect()
    assert ref() is None


def test_subclass_cycle_is_collected():
    class Sub(rt_queue.Queue):
        pass

    q = Sub()
    q.put(q)
    q.me = q
    ref = weakref.ref(q)
    del q
    gc.collect()
    assert ref() is None


def test_maxsize_object_cycle_is_collected():
    class Size(int):
        pass

    q = rt_queue.Queue()
    size = Size(3)
    size.q = q
    q.maxsize = size
    ref = weakref.ref(q)
    del q, size
    gc.collect()
    assert ref() is None


def test_finalizer_using_the_queue_during_collection():
    q = rt_queue.Queue()

    class Reporter:
        def __del__(self):
            q.put("finalized")

    holder = rt_queue.Queue()
    r = Reporter()
    r.cycle = holder
    holder.put(r)
    del r, holder
    gc.collect()
    assert q.get(timeout=5) == "finalized"


# --- Ctrl-C --------------------------------------------------------------------------------------

SIGINT_SCRIPT = """
    import os, signal, threading, time, sys
    import rthreading.queue as queue

    q = {make}
    {prepare}
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
    t0 = time.monotonic()
    try:
        {call}
    except KeyboardInterrupt:
        print("interrupted after", round(time.monotonic() - t0, 1))
    else:
        print("not interrupted")
    # The queue still works.
    {after}
    print("ok")
"""


@pytest.mark.parametrize(
    "make,prepare,call,after",
    [
        ("queue.Queue()", "", "q.get()", "q.put(1); assert q.get() == 1"),
        ("queue.Queue()", "", "q.get(timeout=30)", "q.put(1); assert q.get() == 1"),
        ("queue.Queue(1)", "q.put(0)", "q.put(1)", "assert q.get() == 0; q.put(2); assert q.qsize() == 1"),
        ("queue.Queue()", "q.put(0)", "q.join()", "q.task_done(); q.join()"),
        ("queue.PriorityQueue()", "", "q.get()", "q.put(1); assert q.get() == 1"),
        ("queue.SimpleQueue()", "", "q.get()", "q.put(1); assert q.get() == 1"),
        ("queue.Queue()", "q.mutex", "q.get()", "q.put(1); assert q.get() == 1"),
    ],
    ids=["get", "get-timeout", "put-full", "join", "priority-get", "simple-get", "compat-get"],
)
def test_ctrl_c_interrupts_blocked_call(make, prepare, call, after):
    r = run_python(SIGINT_SCRIPT.format(make=make, prepare=prepare, call=call, after=after))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("interrupted after 0.")
    assert r.stdout.splitlines()[-1] == "ok"


@pytest.mark.parametrize("cls", ["Queue", "LifoQueue", "PriorityQueue"])
@pytest.mark.timeout(60)
def test_switch_to_compatibility_mode_under_load(cls):
    """Producers and consumers keep going, nothing lost or duplicated, while another thread
    reaches for q.mutex (moving the queue to the stdlib's representation) mid-stream."""
    n_items, n_threads = 20_000, 3
    q = getattr(rt_queue, cls)(maxsize=8)
    per = n_items // n_threads
    got = []

    midway = std_threading.Event()

    def producer(p):
        for i in range(p * per, (p + 1) * per):
            q.put(i)
            if i == per // 3:
                midway.set()

    def consumer():
        mine = []
        while True:
            x = q.get()
            q.task_done()
            if x is None or x == float("inf"):
                break
            mine.append(x)
        got.append(mine)

    consumers = [rthreading.Thread(target=consumer, daemon=True) for _ in range(n_threads)]
    producers = [rthreading.Thread(target=producer, args=(p,), daemon=True) for p in range(n_threads)]
    for t in consumers + producers:
        t.start()
    assert midway.wait(30)
    with q.mutex:  # the switch, then the stdlib's own lock held for a moment
        time.sleep(0.005)
    for t in producers:
        t.join()
    q.join()  # drained: a LifoQueue's sentinels would otherwise overtake the last items
    for _ in consumers:  # a PriorityQueue cannot compare None with ints: +inf sorts last
        q.put(float("inf") if cls == "PriorityQueue" else None)
    for t in consumers:
        t.join(30)
    items = sorted(x for mine in got for x in mine)
    assert items == list(range(per * n_threads))
    assert q.unfinished_tasks == 0


@pytest.mark.timeout(60)
def test_blocked_calls_do_not_stall_the_collector():
    """Threads blocked in get/put/join wait detached: a collection (which stops the world on
    the free-threaded build) still completes, and so does every other thread's work."""
    empty, full, pending, simple = (
        rt_queue.Queue(),
        rt_queue.PriorityQueue(1),
        rt_queue.LifoQueue(),
        rt_queue.SimpleQueue(),
    )
    full.put(0)
    pending.put(0)
    blocked = [
        rthreading.Thread(target=f, daemon=True) for f in (empty.get, lambda: full.put(1), pending.join, simple.get)
    ]
    for t in blocked:
        t.start()
    time.sleep(0.05)
    done = std_threading.Event()

    def collect():
        for _ in range(3):
            gc.collect()
        done.set()

    std_threading.Thread(target=collect, daemon=True).start()
    assert done.wait(20), "gc.collect() stalled by a blocked queue call"
    assert all(t.is_alive() for t in blocked)
    empty.put(1)
    assert full.get() == 0
    pending.get()
    pending.task_done()
    simple.put(1)
    for t in blocked:
        t.join(10)
        assert not t.is_alive()
