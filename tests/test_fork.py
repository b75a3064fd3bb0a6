"""os.fork(): the child can use every primitive, queue and a new pool; what other threads held
at fork time behaves in the child as it does with the stdlib. Each scenario runs in a fresh
interpreter once per module (threading/queue/concurrent.futures, then rthreading's), and the
two reports must be the same."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    pytest.mark.thread_unsafe(reason="forks child interpreters"),
]

PRELUDE = r'''
import json, os, sys, time, warnings
import threading as std
warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads running
if sys.argv[1] == "threading":
    import threading, queue
    import concurrent.futures as futures
else:
    import rthreading as threading
    import rthreading.queue as queue
    import rthreading.futures as futures

def in_child(fn):
    """fn() in a fork child; its JSON report (or the exception it raised)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        import faulthandler
        faulthandler.dump_traceback_later(5, exit=True)  # a hang in the child ends it (code 1)
        try:
            out = fn()
        except BaseException as e:
            out = ["raised", type(e).__name__, str(e)]
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    _, status = os.waitpid(pid, 0)
    return [os.waitstatus_to_exitcode(status), json.loads(b"".join(chunks) or b"null")]
'''

FRESH = r"""
def use_everything():
    out = {}
    lock = threading.Lock()
    out["lock"] = [lock.acquire(), lock.locked(), lock.acquire(timeout=0.01), lock.release()]
    rlock = threading.RLock()
    out["rlock"] = [rlock.acquire(), rlock.acquire(), rlock._recursion_count(), rlock.release(),
                    rlock.release()]
    cond = threading.Condition()
    box = []
    def waiter():
        with cond:
            box.append(bool(cond.wait_for(lambda: box, 10)))
    t = threading.Thread(target=waiter); t.start()
    with cond:
        box.append("go"); cond.notify_all()
    t.join(10)
    out["condition"] = [box, t.is_alive()]
    sem = threading.BoundedSemaphore(2)
    out["semaphore"] = [sem.acquire(), sem.acquire(), sem.acquire(timeout=0.01), sem.release(2)]
    ev = threading.Event()
    threading.Timer(0.01, ev.set).start()
    out["event"] = ev.wait(10)
    b = threading.Barrier(2)
    t = threading.Thread(target=b.wait, args=(10,)); t.start()
    out["barrier"] = [b.wait(10) in (0, 1), t.join(10), b.broken]
    for cls in ("Queue", "LifoQueue", "PriorityQueue", "SimpleQueue"):
        q = getattr(queue, cls)()
        t = threading.Thread(target=lambda: [q.put(i) for i in range(100)]); t.start()
        got = sorted(q.get(timeout=10) for _ in range(100))
        t.join(10)
        out[cls] = [got == list(range(100)), q.empty()]
    with futures.ThreadPoolExecutor(3) as ex:
        out["pool"] = [sum(ex.map(abs, range(-50, 50))), ex.submit(pow, 2, 10).result(10)]
    return out
"""

SCENARIOS = {
    # a fork with no other thread around: everything works in the child
    "quiet": FRESH
    + r"""
print(json.dumps(in_child(use_everything)))
""",
    # a fork while other threads hold every kind of primitive and others wait in some
    "busy": FRESH
    + r"""
lock = threading.Lock(); rlock = threading.RLock(); cond = threading.Condition()
sem = threading.Semaphore(1); ev = threading.Event(); barrier = threading.Barrier(3)
q = queue.Queue(2); q.put("a"); q.put("b"); sq = queue.SimpleQueue(); sq.put("s")
held = std.Barrier(2)
def holder():
    lock.acquire(); rlock.acquire(); rlock.acquire(); cond.acquire(); sem.acquire()
    held.wait()
    std.Event().wait()
std.Thread(target=holder, daemon=True).start()
held.wait()
std.Thread(target=ev.wait, daemon=True).start()
std.Thread(target=barrier.wait, daemon=True).start()
time.sleep(0.1)  # let the waiters wait
def child():
    out = {
        "lock": [lock.locked(), lock.acquire(False), lock.acquire(timeout=0.01)],
        "rlock": [rlock._is_owned(), rlock.acquire(False), rlock.acquire(timeout=0.01)],
        "cond": [cond._is_owned(), cond.acquire(False)],
        "sem": [sem.acquire(False), sem.release(), sem.acquire(False)],
        "event": [ev.is_set(), ev.wait(0.01), ev.set(), ev.wait(0)],
        "barrier": [barrier.n_waiting, barrier.broken],
        "queue": [q.qsize(), q.get(timeout=1), q.get(timeout=1), q.put("d", timeout=1),
                  q.qsize(), q.unfinished_tasks],
        "simple": [sq.get(timeout=1), sq.empty()],
    }
    out["fresh"] = use_everything()
    return out
print(json.dumps(in_child(child)))
""",
    # a fork while a thread waits to put into a full queue (a waiter the child does not have)
    "queue-waiter": r"""
q = queue.Queue(2); q.put("a"); q.put("b")
std.Thread(target=q.put, args=("c",), daemon=True).start()
time.sleep(0.1)
print(json.dumps(in_child(lambda: [q.qsize(), q.get(timeout=1), q.get(timeout=1),
                                   q.put("d", timeout=1), q.qsize(), q.unfinished_tasks])))
""",
    # a fork from a thread other than the main one: it is the child's main thread
    "from-thread": FRESH
    + r"""
res = []
t = std.Thread(target=lambda: res.append(in_child(lambda: [
    threading.current_thread() is threading.main_thread(), use_everything()])))
t.start(); t.join(60)
print(json.dumps(res))
""",
}


# Several threads wait on each kind of primitive at fork time; the child wakes, releases and
# uses each one three times. (parking_lot's table of sleeping threads is copied into the child
# with those threads in it: unless they are forgotten, the child's wake-ups go to them and a
# mutex may be handed to one of them for good. src/sync/fork.rs.)
GHOSTS = r"""
lock = threading.Lock(); lock.acquire()
sem = threading.Semaphore(0); cond = threading.Condition(); ev = threading.Event()
q = queue.Queue(); full = queue.Queue(1); full.put(0); lifo = queue.LifoQueue()
prio = queue.PriorityQueue(); sq = queue.SimpleQueue(); barrier = threading.Barrier(4)
def cond_wait():
    with cond:
        cond.wait()
waits = [lock.acquire, sem.acquire, cond_wait, ev.wait, q.get, lambda: full.put(1), lifo.get,
         prio.get, sq.get, barrier.wait]
for wait in waits:
    for _ in range(3):
        std.Thread(target=wait, daemon=True).start()
time.sleep(0.3)  # let them all park
def child():
    out = {k: [] for k in ("lock", "sem", "cond", "event", "queues", "full", "barrier")}
    for i in range(3):
        lock.release(); out["lock"].append(lock.acquire(timeout=1))
        sem.release(); out["sem"].append(sem.acquire(timeout=1))
        with cond:
            cond.notify()
        out["cond"].append(cond.acquire(timeout=1)); cond.release()
        ev.set(); out["event"].append(ev.wait(1)); ev.clear()
        for each in (q, lifo, prio, sq):
            each.put(i); out["queues"].append(each.get(timeout=1))
        out["full"].append([full.get(timeout=1), full.put(i, timeout=1)])
        barrier.reset(); out["barrier"].append(barrier.broken)
    # and a waiter of the child's own, woken once the others have been
    box = []
    t = std.Thread(target=lambda: box.append(q.get(timeout=5))); t.start()
    time.sleep(0.1); q.put("mine"); t.join(10)
    out["own waiter"] = box
    return out
print(json.dumps(in_child(child)))
"""
SCENARIOS["many-waiters"] = GHOSTS


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.timeout(120)
def test_fork_child_same_as_stdlib(scenario):
    reports = {}
    for module in ("threading", "rthreading"):
        proc = subprocess.run(
            [sys.executable, "-c", PRELUDE + SCENARIOS[scenario], module], capture_output=True, text=True, timeout=60
        )
        assert (proc.returncode, proc.stderr) == (0, ""), (module, proc.stdout)
        reports[module] = proc.stdout
    assert reports["rthreading"] == reports["threading"]
    assert '"raised"' not in reports["threading"], reports["threading"]
    assert json.loads(reports["threading"].splitlines()[-1])  # something was reported


# (A pool made before the fork: the stdlib's is dead in the child, rthreading's starts new
# workers; tests/test_pool_process.py covers that.)
