"""Contention statistics (rthreading only): off by default, switched on globally (objects
created meanwhile are tracked, with their call site) or per object (track); they count exactly
what a scripted scenario did."""

import sys
import threading
import time

import pytest

import rthreading
from rthreading.queue import Empty, Full, Queue
from helpers import run_python, start, wait_until


def _record(obj):
    [r] = [r for r in rthreading.stats() if r.object is obj]
    return r


def _line():
    return sys._getframe(1).f_lineno


def _parked(thread):
    wait_until(lambda: any(w[0] == thread.ident for w in rthreading._core._waits()))


@pytest.mark.thread_unsafe(reason="switches the process-wide statistics")
def test_off_by_default_and_created_objects_tracked_while_on():
    r = run_python("""
        import rthreading
        lock = rthreading.Lock()
        with lock:
            pass
        print(rthreading.stats())
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "[]\n"
    rthreading.enable_stats()
    try:
        lock = rthreading.Lock()
        line = _line() - 1  # the line above: the lock's call site
        rlock = rthreading.RLock()
        cond = rthreading.Condition()
        q = Queue()
    finally:
        rthreading.disable_stats()
    untracked = rthreading.Lock()
    tracked = {id(r.object) for r in rthreading.stats()}
    assert {id(lock), id(rlock), id(cond._lock), id(q)} <= tracked
    assert id(untracked) not in tracked
    rec = _record(lock)
    assert rec.site == f"{__file__}:{line}"
    assert rec.kind == "rthreading.Lock" and rec.name == repr(lock)
    assert (rec.acquisitions, rec.contended, rec.total_wait, rec.max_wait) == (0, 0, 0.0, 0.0)
    assert _record(q).kind == "rthreading.queue.Queue"


@pytest.mark.thread_unsafe(reason="reset_stats() zeroes every tracked object's counters")
def test_counts_a_scripted_scenario():
    lock = rthreading.Lock()
    rthreading.track(lock)
    for _ in range(5):
        with lock:
            pass
    assert lock.acquire()  # the C-level fast entry
    lock.release()
    assert lock.acquire(True, 1)  # the full method
    assert lock.acquire(False) is False  # a failed try: neither acquisition nor wait
    lock.release()
    rec = _record(lock)
    assert (rec.acquisitions, rec.contended, rec.total_wait) == (7, 0, 0.0)

    # One contended acquisition: another thread holds the lock for 0.1 s more after this one
    # has started waiting.
    holding = threading.Event()

    def holder():
        lock.acquire()
        holding.set()
        time.sleep(0.1)
        lock.release()

    holding.clear()
    t = start(holder)
    assert holding.wait(10)
    with lock:
        pass
    t.join(10)
    # And one wait that timed out.
    lock.acquire()
    assert in_other_thread(lambda: lock.acquire(timeout=0.05)) is False
    lock.release()
    rec = _record(lock)
    assert rec.acquisitions == 7 + 1 + 1 + 1  # + holder's, the contended one, the last
    assert rec.contended == 2
    assert rec.max_wait >= 0.05
    assert rec.total_wait >= rec.max_wait + 0.04
    rthreading.reset_stats()
    rec = _record(lock)
    assert (rec.acquisitions, rec.contended, rec.total_wait, rec.max_wait) == (0, 0, 0.0, 0.0)


def in_other_thread(fn):
    box = []
    t = start(lambda: box.append(fn()))
    t.join(10)
    return box[0]


def test_rlock_and_condition_count_through_their_lock():
    cond = rthreading.Condition(rthreading.RLock())
    rthreading.track(cond)
    rlock = cond._lock
    with cond:
        with rlock:  # re-entry counts as an acquisition too
            pass
    notified = threading.Event()

    def waiter():
        with cond:
            notified.set()
            cond.wait(10)

    t = start(waiter)
    assert notified.wait(10)
    with cond:  # the waiter released it in wait()
        cond.notify()
    t.join(10)
    rec = _record(rlock)
    assert rec.kind == "rthreading.RLock"
    # with cond, with rlock, the waiter's with, this with, the waiter's re-acquisition.
    assert rec.acquisitions == 5


def test_queue_counts_put_and_get_waits():
    q = Queue(maxsize=1)
    rthreading.track(q)
    with pytest.raises(Empty):
        q.get(timeout=0.05)
    q.put(1)
    with pytest.raises(Full):
        q.put(2, timeout=0.05)
    with pytest.raises(Full):
        q.put_nowait(2)  # no wait: not counted
    rec = _record(q)
    assert (rec.put_waits, rec.get_waits, rec.contended, rec.acquisitions) == (1, 1, 2, 0)
    assert rec.total_wait >= 0.1 and rec.max_wait >= 0.05
    assert "1 put waits, 1 get waits" in repr(rec)


def test_sorted_by_total_wait_and_gone_objects_kept():
    hot, cold = rthreading.Lock(), rthreading.Lock()
    rthreading.track(cold)
    rthreading.track(hot)
    hot.acquire()
    assert in_other_thread(lambda: hot.acquire(timeout=0.05)) is False
    hot.release()
    with cold:
        pass
    records = [r for r in rthreading.stats() if r.object is hot or r.object is cold]
    assert [r.object for r in records] == [hot, cold]
    waits = [r.total_wait for r in rthreading.stats()]
    assert waits == sorted(waits, reverse=True)
    del records
    gone = rthreading.Lock()
    rthreading.track(gone)
    with gone:
        pass
    del gone
    assert any(
        r.object is None and r.name == "<rthreading.Lock (gone)>" and r.acquisitions == 1 for r in rthreading.stats()
    )


def test_track_refuses_other_objects():
    for obj in (object(), threading.Lock(), rthreading.Semaphore(), rthreading.Condition(threading.Lock())):
        with pytest.raises(TypeError, match="track\\(\\) takes an rthreading Lock, RLock, Queue"):
            rthreading.track(obj)


def test_tracking_twice_keeps_one_record():
    lock = rthreading.Lock()
    rthreading.track(lock)
    rthreading.track(lock)
    with lock:
        pass
    assert [r.acquisitions for r in rthreading.stats() if r.object is lock] == [1]
