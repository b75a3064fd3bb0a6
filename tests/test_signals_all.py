"""Ctrl-C interrupts every blocking call on the main thread, and the object stays usable.

tests/test_signals.py covers Lock/RLock/Condition.wait/Semaphore/Event/Barrier with a fresh
interpreter per case; this file covers every other blocking call (BoundedSemaphore, wait_for,
timed variants, each queue class's get/put/join, SimpleQueue.get, Thread.join, Future.result and
exception, concurrent.futures' wait/as_completed over our futures, the pool's shutdown and map)
and then checks that the object still works (nothing left acquired, counts intact).

One child interpreter per module runs every case in turn: a timer sends SIGINT 0.15 s into the
call; a watchdog ends the child (reported as "hung") if the call has not raised 20 s later. The
same cases run against the stdlib (threading, queue, concurrent.futures), and the outcomes and
states after must be the same and what the case expects (a stdlib case that hung is excused).
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = [
    pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals"),
    pytest.mark.thread_unsafe(reason="runs child interpreters that signal themselves"),
]

CHILD = r'''
import json, os, signal, sys, time
import threading as std

if sys.argv[1] == "threading":
    import threading, queue
    import concurrent.futures as futures
else:
    import rthreading as threading
    import rthreading.queue as queue
    import rthreading.futures as futures

def held_by_other_thread(acquire):
    """`acquire()` in a stdlib thread that then keeps what it took."""
    done = std.Event()
    def hold():
        acquire()
        done.set()
        std.Event().wait()
    std.Thread(target=hold, daemon=True).start()
    assert done.wait(10)

CASES = []
def case(fn):
    CASES.append(fn)
    return fn

# Each case returns (the blocking call, what to report afterwards).

@case
def BoundedSemaphore_acquire():
    sem = threading.BoundedSemaphore(1)
    sem.acquire()
    def after():
        r = [sem.acquire(False), sem.release(), sem.acquire(False), sem.release()]
        try:
            sem.release()
        except ValueError as e:
            r.append(str(e))
        return r
    return sem.acquire, after

@case
def BoundedSemaphore_acquire_timeout():
    sem = threading.BoundedSemaphore(2)
    sem.acquire(); sem.acquire()
    return (lambda: sem.acquire(timeout=60)), (lambda: [sem.release(), sem.release(),
                                                       sem.acquire(False), sem.acquire(False),
                                                       sem.acquire(False)])

@case
def Semaphore_acquire_timeout():
    sem = threading.Semaphore(0)
    return (lambda: sem.acquire(True, 60)), (lambda: [sem.acquire(False), sem.release(2),
                                                     sem.acquire(False), sem.acquire(False),
                                                     sem.acquire(False)])

def cond_state(cond):
    return lambda: [cond._is_owned(), cond.notify_all(), cond.release(), cond.acquire(False),
                    cond.wait(0.001), cond.release()]

@case
def Condition_wait_for():
    cond = threading.Condition()
    cond.acquire()
    return (lambda: cond.wait_for(lambda: False)), cond_state(cond)

@case
def Condition_wait_for_timeout():
    cond = threading.Condition(threading.Lock())
    cond.acquire()
    return (lambda: cond.wait_for(lambda: False, 60)), cond_state(cond)

@case
def Condition_wait_rlock_recursion():
    lock = threading.RLock()
    cond = threading.Condition(lock)
    cond.acquire(); cond.acquire()
    def after():
        r = [lock._is_owned(), lock._recursion_count()]
        cond.release(); cond.release()
        return r + [lock._is_owned(), lock.acquire(False), lock.release()]
    return cond.wait, after

@case
def Event_wait_timeout():
    ev = threading.Event()
    def after():
        t = std.Timer(0.05, ev.set); t.start()
        r = [ev.is_set(), ev.wait(10), ev.is_set()]
        t.join()
        return r
    return (lambda: ev.wait(60)), after

@case
def Barrier_wait_timeout():
    b = threading.Barrier(2)
    def after():
        r = [b.n_waiting, b.broken]
        t = std.Thread(target=b.wait, args=(10,)); t.start()
        r.append(b.wait(10) in (0, 1))
        t.join()
        return r + [b.n_waiting, b.broken]
    return (lambda: b.wait(60)), after

def queue_cases(cls):
    def get():
        q = getattr(queue, cls)()
        return q.get, lambda: [q.qsize(), q.put(1), q.get(timeout=5), q.empty()]
    def get_timeout():
        q = getattr(queue, cls)()
        return (lambda: q.get(True, 60)), lambda: [q.put(2), q.put(1), q.qsize(),
                                                 sorted([q.get(), q.get()])]
    def put_full():
        q = getattr(queue, cls)(1)
        q.put(0)
        return (lambda: q.put(1)), lambda: [q.qsize(), q.full(), q.get(), q.put(5), q.get()]
    def put_full_timeout():
        q = getattr(queue, cls)(2)
        q.put(0); q.put(1)
        return (lambda: q.put(2, timeout=60)), lambda: [q.qsize(), q.unfinished_tasks,
                                                       sorted([q.get(), q.get()]), q.empty()]
    def join():
        q = getattr(queue, cls)()
        q.put(0); q.put(1)
        def after():
            r = [q.unfinished_tasks, q.get(), q.get()]
            q.task_done(); q.task_done()
            return r + [q.join(), q.unfinished_tasks]
        return q.join, after
    for fn in (get, get_timeout, put_full, put_full_timeout, join):
        fn.__name__ = f"{cls}_{fn.__name__}"
        case(fn)

for cls in ("Queue", "LifoQueue", "PriorityQueue"):
    queue_cases(cls)

@case
def SimpleQueue_get():
    q = queue.SimpleQueue()
    return q.get, lambda: [q.qsize(), q.put(1), q.get(timeout=5), q.empty()]

@case
def SimpleQueue_get_timeout():
    q = queue.SimpleQueue()
    return (lambda: q.get(timeout=60)), lambda: [q.put(1), q.get(False), q.empty()]

def thread_case(timeout):
    gate = std.Event()
    t = threading.Thread(target=gate.wait, args=(30,))
    t.start()
    def after():
        r = [t.is_alive()]
        gate.set()
        t.join(10)
        return r + [t.is_alive()]
    return (lambda: t.join(timeout)), after

@case
def Thread_join():
    return thread_case(None)

@case
def Thread_join_timeout():
    return thread_case(60)

def pool_case(call):
    gate = std.Event()
    ex = futures.ThreadPoolExecutor(1)
    f = ex.submit(gate.wait, 30)
    def after():
        r = [f.done(), f.cancelled()]
        gate.set()
        r += [f.result(10), f.exception(10), ex.submit(pow, 2, 5).result(10)]
        ex.shutdown(wait=True)
        return r
    return (lambda: call(ex, f)), after

@case
def Future_result():
    return pool_case(lambda ex, f: f.result())

@case
def Future_result_timeout():
    return pool_case(lambda ex, f: f.result(60))

@case
def Future_exception():
    return pool_case(lambda ex, f: f.exception())

@case
def Future_exception_timeout():
    return pool_case(lambda ex, f: f.exception(timeout=60))

@case
def futures_wait():
    return pool_case(lambda ex, f: futures.wait([f]))

@case
def futures_wait_first_completed():
    return pool_case(lambda ex, f: futures.wait([f], return_when=futures.FIRST_COMPLETED))

@case
def futures_as_completed():
    return pool_case(lambda ex, f: list(futures.as_completed([f])))

@case
def pool_map_iteration():
    gate = std.Event()
    ex = futures.ThreadPoolExecutor(1)
    it = ex.map(lambda x: gate.wait(30) and x, range(3))
    def after():
        gate.set()
        r = [list(it), ex.submit(pow, 2, 5).result(10)]  # an interrupted generator is closed
        ex.shutdown(wait=True)
        return r
    return (lambda: next(it)), after

@case
def pool_shutdown_wait():
    gate = std.Event()
    ex = futures.ThreadPoolExecutor(1)
    f = ex.submit(gate.wait, 30)
    def after():
        r = [f.done()]
        gate.set()
        ex.shutdown(wait=True)
        r += [f.result(0), f.done()]
        try:
            ex.submit(int)
        except RuntimeError as e:
            r.append(str(e))
        return r
    return (lambda: ex.shutdown(wait=True)), after

@case
def pool_context_exit():
    gate = std.Event()
    ex = futures.ThreadPoolExecutor(1)
    f = ex.submit(gate.wait, 30)
    def call():
        with ex:
            pass
    def after():
        gate.set()
        ex.shutdown()
        return [f.result(0)]
    return call, after

@case
def Lock_acquire_notify_handoff():
    # a lock released by another thread while the main thread is in a signal slice
    lock = threading.Lock()
    held_by_other_thread(lock.acquire)
    return lock.acquire, lambda: [lock.locked(), lock.release(), lock.acquire(False),
                                  lock.release(), lock.locked()]

only = set(sys.argv[2:])
for make in CASES:
    name = make.__name__
    if only and name not in only:
        continue
    call, after = make()
    def hung(name=name):
        print(json.dumps([name, "hung", None]), flush=True)
        os._exit(3)
    watchdog = std.Timer(20.15, hung)
    sender = std.Timer(0.15, os.kill, (os.getpid(), signal.SIGINT))
    try:
        watchdog.start()
        sender.start()
        try:
            call()
            result = "returned"
        except KeyboardInterrupt:
            result = "KeyboardInterrupt"
        except BaseException as e:
            result = repr(e)
        sender.join()
        watchdog.cancel()
        state = repr(after())
    except BaseException as e:
        result, state = "harness", repr(e)
    print(json.dumps([name, result, state]), flush=True)
print(json.dumps(["done", None, None]), flush=True)
'''

# What each case's after() reports once the call was interrupted: the stdlib must agree.
EXPECTED = {
    "BoundedSemaphore_acquire": [False, None, True, None, "Semaphore released too many times"],
    "BoundedSemaphore_acquire_timeout": [None, None, True, True, False],
    "Semaphore_acquire_timeout": [False, None, True, True, False],
    "Condition_wait_for": [True, None, None, True, False, None],
    "Condition_wait_for_timeout": [True, None, None, True, False, None],
    "Condition_wait_rlock_recursion": [True, 2, False, True, None],
    "Event_wait_timeout": [False, True, True],
    "Barrier_wait_timeout": [0, False, True, 0, False],
    "SimpleQueue_get": [0, None, 1, True],
    "SimpleQueue_get_timeout": [None, 1, True],
    "Thread_join": [True, False],
    "Thread_join_timeout": [True, False],
    "Future_result": [False, False, True, None, 32],
    "Future_result_timeout": [False, False, True, None, 32],
    "Future_exception": [False, False, True, None, 32],
    "Future_exception_timeout": [False, False, True, None, 32],
    "futures_wait": [False, False, True, None, 32],
    "futures_wait_first_completed": [False, False, True, None, 32],
    "futures_as_completed": [False, False, True, None, 32],
    "pool_map_iteration": [[], 32],
    "pool_shutdown_wait": [False, True, True, "cannot schedule new futures after shutdown"],
    "pool_context_exit": [True],
    "Lock_acquire_notify_handoff": [True, None, True, None, False],
}
for _cls in ("Queue", "LifoQueue", "PriorityQueue"):
    EXPECTED.update(
        {
            f"{_cls}_get": [0, None, 1, True],
            f"{_cls}_get_timeout": [None, None, 2, [1, 2]],
            f"{_cls}_put_full": [1, True, 0, None, 5],
            f"{_cls}_put_full_timeout": [2, 2, [0, 1], True],
            f"{_cls}_join": [2, *((0, 1) if _cls != "LifoQueue" else (1, 0)), None, 0],
        }
    )

# Before 3.13 the stdlib's interrupted Thread.join() (which the pool's shutdown uses) marks the
# thread as stopped while it runs on: a later join() returns at once. rthreading's
# Thread fixes that there; the stdlib is checked for these cases from 3.13 only.
STDLIB_BROKEN_BEFORE_313 = {"Thread_join", "Thread_join_timeout", "pool_shutdown_wait", "pool_context_exit"}

_RUNS = {}


def child_results(module):
    """{case: (outcome, state)} from one child interpreter running every case."""
    if module not in _RUNS:
        proc = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(CHILD), module], capture_output=True, text=True, timeout=300
        )
        lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("[")]
        _RUNS[module] = ({name: (res, state) for name, res, state in lines}, proc)
    return _RUNS[module]


@pytest.mark.parametrize("case", list(EXPECTED))
@pytest.mark.timeout(300)
def test_sigint_interrupts_and_object_stays_usable(case):
    modules = ["threading", "rthreading"]
    if sys.version_info < (3, 13) and case in STDLIB_BROKEN_BEFORE_313:
        modules.remove("threading")
    for module in modules:
        results, proc = child_results(module)
        if module == "threading" and results.get(case, ("hung",))[0] == "hung":
            # The stdlib's own waits are interruptible only when the signal lands on the main
            # thread's wait; on a loaded machine they have been seen to miss it. Only the
            # stdlib's run is excused: it is the reference for EXPECTED, not under test.
            continue
        assert case in results, (module, proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
        outcome, state = results[case]
        assert outcome == "KeyboardInterrupt", (module, outcome, state, proc.stderr[-2000:])
        assert state == repr(EXPECTED[case]), module


def test_child_ran_every_case_cleanly():
    for module in ("rthreading",):  # (the stdlib's run: see above)
        results, proc = child_results(module)
        assert (proc.returncode, proc.stderr) == (0, ""), module
        assert set(results) == set(EXPECTED) | {"done"}
