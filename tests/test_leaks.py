"""GC and leaks: cycles through what rthreading objects hold are collected (beyond those in
test_queue_threads.py and test_futures.py), and the process's RSS stays flat over many
operations of every kind, measured in a child interpreter (/proc/self/statm) after a warm-up,
with a generous bound."""

import gc
import json
import os
import subprocess
import sys
import weakref

import pytest

import rthreading
import rthreading.futures as r_futures
import rthreading.queue as r_queue

pytestmark = pytest.mark.thread_unsafe(reason="gc.collect and child interpreters")


class Node:
    pass


def collected(make):
    """make() builds a cycle and returns an object in it; True if the cycle is freed by gc."""
    gc.collect()
    ref = weakref.ref(make())
    gc.collect()
    gc.collect()
    return ref() is None


@pytest.mark.parametrize("cls", ["SimpleQueue", "PriorityQueue", "LifoQueue"])
def test_queue_item_cycle(cls):
    def make():
        q = getattr(r_queue, cls)()
        n = Node()
        n.q = q
        q.put((1, n) if cls == "PriorityQueue" else n)
        return n

    assert collected(make)


def test_barrier_action_cycle():
    def make():
        n = Node()
        n.barrier = rthreading.Barrier(1, action=lambda: n)
        n.barrier.wait()
        return n

    assert collected(make)


def test_condition_over_a_user_lock_cycle():
    class UserLock:
        def __init__(self):
            self.inner = rthreading.Lock()
            self.cond = rthreading.Condition(self)

        def acquire(self, *a):
            return self.inner.acquire(*a)

        def release(self):
            self.inner.release()

        __enter__ = acquire

        def __exit__(self, *a):
            self.release()

    assert collected(UserLock)


def test_future_exception_traceback_cycle():
    """A task's exception's traceback refers to the frame that holds its future."""

    def make():
        ex = r_futures.ThreadPoolExecutor(1)
        box = Node()

        def fail():
            box.keep = box  # noqa: B023 - a cycle through the frame's closure
            raise ValueError(box)

        box.fut = ex.submit(fail)
        box.fut.exception(10)
        ex.shutdown()
        return box

    assert collected(make)


def test_future_callback_and_result_cycle():
    def make():
        f = r_futures.Future()
        n = Node()
        n.f = f
        f.add_done_callback(lambda fut: n)
        f.set_result(n)
        return n

    assert collected(make)


def test_pool_holding_itself_is_collected():
    def make():
        n = Node()
        n.ex = r_futures.ThreadPoolExecutor(1)
        n.ex.submit(lambda: n).result(10)
        n.ex.shutdown()
        return n

    assert collected(make)


RSS_CHILD = r"""
import json, os, sys, time
import rthreading as threading
import rthreading.queue as queue
import rthreading.futures as futures

PAGE = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE

def lock(n, o=threading.Lock()):
    for _ in range(n):
        with o: pass
def rlock(n, o=threading.RLock()):
    for _ in range(n):
        o.acquire(); o.acquire(); o.release(); o.release()
def condition(n, c=threading.Condition()):
    with c:
        for _ in range(n):
            c.notify(); c.notify_all()
def condition_wait(n, c=threading.Condition()):
    with c:
        for _ in range(n):
            c.wait(0)
def semaphore(n, s=threading.BoundedSemaphore(2)):
    for _ in range(n):
        s.acquire(); s.release()
def event(n, e=threading.Event()):
    for _ in range(n):
        e.set(); e.wait(); e.clear(); e.wait(0)
def barrier(n, b=threading.Barrier(1)):
    for _ in range(n):
        b.wait()
def barrier_broken(n, b=threading.Barrier(2)):
    b.abort()
    for _ in range(n):
        try:
            b.wait()
        except threading.BrokenBarrierError:
            pass
def make_queue(cls, bounded):
    def run(n, q=getattr(queue, cls)(*((1,) if bounded else ()))):
        for i in range(n):
            q.put(i); q.get()
            if cls != "SimpleQueue":
                q.task_done()
            try:
                q.get_nowait()
            except queue.Empty:
                pass
    return run
def future(n):
    for i in range(n):
        f = futures.Future()
        f.add_done_callback(lambda f: None)
        f.set_result(i); f.result()
def future_exception(n):
    for i in range(n):
        f = futures.Future()
        f.set_exception(ValueError(i)); f.exception()
def objects(n):
    for _ in range(n):
        threading.Lock(); threading.RLock(); threading.Condition(); threading.Semaphore()
        threading.Event(); threading.Barrier(2); queue.Queue(); queue.SimpleQueue()
ex = futures.ThreadPoolExecutor(2)
def pool_submit(n):
    for _ in range(n // 100):
        fs = [ex.submit(abs, -i) for i in range(100)]
        for f in fs:
            f.result()
def pool_map(n):
    for _ in range(n // 1000):
        sum(ex.map(abs, range(1000)))

N = int(sys.argv[1])
KINDS = {
    "lock": (lock, N), "rlock": (rlock, N), "condition": (condition, N),
    "condition_wait": (condition_wait, N // 4), "semaphore": (semaphore, N),
    "event": (event, N), "barrier": (barrier, N // 4), "barrier_broken": (barrier_broken, N // 10),
    "objects": (objects, N // 20), "future": (future, N // 4),
    "future_exception": (future_exception, N // 10),
    "pool_submit": (pool_submit, N // 20), "pool_map": (pool_map, N // 20),
}
for cls in ("Queue", "LifoQueue", "PriorityQueue", "SimpleQueue"):
    KINDS[cls] = (make_queue(cls, False), N // 2)
    if cls != "SimpleQueue":
        KINDS[cls + "_bounded"] = (make_queue(cls, True), N // 4)
out = {}
for name, (fn, n) in KINDS.items():
    fn(n // 10)  # warm-up: caches, allocator pools, lazily made objects
    before = rss()
    fn(n)
    out[name] = [n, rss() - before]
ex.shutdown()
print(json.dumps(out))
"""

N_OPS = 1_000_000
BOUND = 20 * 2**20


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm")
@pytest.mark.timeout(300)
def test_rss_stays_flat():
    proc = subprocess.run([sys.executable, "-c", RSS_CHILD, str(N_OPS)], capture_output=True, text=True, timeout=280)
    assert (proc.returncode, proc.stderr) == (0, "")
    growth = json.loads(proc.stdout)
    grew = {k: f"{g / 2**20:.1f} MB over {n} ops" for k, (n, g) in growth.items() if g > BOUND}
    assert not grew, grew
