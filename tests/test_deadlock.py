"""Deadlock detection (rthreading only: the stdlib has none): find_deadlocks() gives the exact
cycle of threads waiting for each other's locks, the watchdog reports one in a subprocess's
stderr, strict mode raises DeadlockError instead of hanging.

Deadlocked threads here are daemon threads waiting for plain Locks, which any thread may
release: each test breaks its cycle by releasing the locks from the test's thread, so no thread
is left waiting. RLock cycles (which only their owners could break) run in subprocesses."""

import threading

import pytest

import rthreading
from helpers import run_python, start, wait_until


def _rotated(edges):
    """The cycle as find_deadlocks() gives it: starting with the smallest thread ident."""
    i = min(range(len(edges)), key=lambda k: edges[k][0])
    return edges[i:] + edges[:i]


def _cycle_of(threads):
    """The one deadlock among the current ones that involves exactly `threads`' idents."""
    idents = {t.ident for t in threads}
    return [d for d in rthreading.find_deadlocks() if set(d.threads) & idents]


def _deadlock(n):
    """n daemon threads; thread i holds locks[i], then waits for locks[(i + 1) % n]. Returns
    (threads, locks) once every thread is parked."""
    locks = [rthreading.Lock() for _ in range(n)]
    holding = [threading.Event() for _ in range(n)]
    go = threading.Event()

    def worker(i):
        locks[i].acquire()
        holding[i].set()
        go.wait()
        locks[(i + 1) % n].acquire()  # blocks: the next thread holds it

    threads = [threading.Thread(target=worker, args=(i,), name=f"dl-{n}-{i}", daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for h in holding:
        assert h.wait(10)
    go.set()
    wait_until(lambda: len(_cycle_of(threads)) == 1)
    return threads, locks


def _break(threads, locks):
    """Release every lock from here: each thread then gets the one it waits for and ends."""
    for lock in locks:
        lock.release()
    for t in threads:
        t.join(10)
        assert not t.is_alive()
    for lock in locks:
        lock.release()
    assert not _cycle_of(threads)


@pytest.mark.parametrize("n", [2, 3])
def test_find_deadlocks_gives_the_exact_cycle(n):
    threads, locks = _deadlock(n)
    try:
        [d] = _cycle_of(threads)
        expected = _rotated([(threads[i].ident, locks[(i + 1) % n]) for i in range(n)])
        assert d.threads == tuple(t for t, _ in expected)
        assert all(got is want for got, want in zip(d.locks, (lock for _, lock in expected)))
        assert d.edges == tuple(zip(d.threads, d.locks))
        assert len(d) == n
        names = {t.ident: t.name for t in threads}
        assert d.thread_names == tuple(names[t] for t in d.threads)
        steps = [
            f"thread {names[t]!r} ({t}) waits for <rthreading.Lock at {id(lock):#x}> held by "
            f"thread {names[d.threads[(k + 1) % n]]!r} ({d.threads[(k + 1) % n]})"
            for k, (t, lock) in enumerate(expected)
        ]
        assert str(d) == "deadlock: " + "; ".join(steps)
        assert d == _cycle_of(threads)[0]
    finally:
        _break(threads, locks)


def test_a_chain_is_not_a_deadlock():
    a, b = rthreading.Lock(), rthreading.Lock()
    a.acquire()
    b.acquire()
    t1 = start(a.acquire)  # waits for a, held here (this thread waits for nothing)
    t2 = start(b.acquire)
    try:
        wait_until(lambda: {t1.ident, t2.ident} <= {w[0] for w in rthreading._core._waits()})
        assert not _cycle_of([t1, t2, threading.current_thread()])
    finally:
        a.release()
        b.release()
        t1.join(10)
        t2.join(10)
        a.release()
        b.release()


def test_timed_waits_in_a_cycle_are_found_too():
    a = rthreading.Lock()
    b = rthreading.Lock()
    a_held = threading.Event()
    done = threading.Event()

    def other():
        b.acquire()
        a_held.wait()
        a.acquire(timeout=30)  # waits for a, held by the test's thread
        done.set()

    t = start(other)
    a.acquire()
    a_held.set()
    wait_until(lambda: any(w[0] == t.ident for w in rthreading._core._waits()))
    # This thread waits (with a timeout) for b while `other` waits for a: a cycle while it lasts.
    seen = []
    probe = start(lambda: (wait_until(lambda: bool(_cycle_of([t]))), seen.extend(_cycle_of([t]))))
    assert not b.acquire(timeout=0.5) or b.release() is None
    probe.join(10)
    a.release()
    t.join(10)
    assert done.is_set()
    b.release()
    a.release()
    assert len(seen) == 1 and set(seen[0].threads) == {t.ident, threading.get_ident()}


@pytest.mark.thread_unsafe(reason="switches the process-wide strict mode")
def test_strict_mode_raises_instead_of_hanging():
    assert issubclass(rthreading.DeadlockError, RuntimeError)
    assert rthreading.DeadlockError.__module__ == "rthreading"
    a, b = rthreading.Lock(), rthreading.Lock()
    in_b = threading.Event()

    def other():
        a.acquire()
        in_b.set()
        b.acquire()  # waits: the test's thread holds b
        b.release()
        a.release()

    b.acquire()
    t = threading.Thread(target=other, name="strict-other", daemon=True)
    t.start()
    assert in_b.wait(10)
    wait_until(lambda: any(w[0] == t.ident for w in rthreading._core._waits()))
    me = threading.current_thread()
    rthreading.enable_strict_deadlocks()
    try:
        with pytest.raises(rthreading.DeadlockError) as info:
            a.acquire()
        # A timed wait is never refused (it ends by itself).
        assert a.acquire(timeout=0.02) is False
    finally:
        rthreading.disable_strict_deadlocks()
    assert str(info.value) == (
        f"acquiring would deadlock: thread {me.name!r} ({me.ident}) waits for "
        f"<rthreading.Lock at {id(a):#x}> held by thread 'strict-other' ({t.ident}); "
        f"thread 'strict-other' ({t.ident}) waits for <rthreading.Lock at {id(b):#x}> held by "
        f"thread {me.name!r} ({me.ident})"
    )
    # Nothing was acquired: a is still the other thread's.
    assert f"owner={t.ident} " in repr(a)
    b.release()
    t.join(10)
    assert not a.locked() and not b.locked()


@pytest.mark.thread_unsafe(reason="switches the process-wide strict mode")
def test_strict_mode_self_deadlock_on_a_lock():
    lock = rthreading.Lock()
    lock.acquire()
    rthreading.enable_strict_deadlocks()
    try:
        with pytest.raises(rthreading.DeadlockError, match="waits for <rthreading.Lock at"):
            lock.acquire()
        with pytest.raises(rthreading.DeadlockError):
            with lock:
                pass
    finally:
        rthreading.disable_strict_deadlocks()
    lock.release()
    assert not lock.locked()


def test_strict_mode_off_by_default_in_a_fresh_interpreter():
    r = run_python("""
        import threading, rthreading
        lock = rthreading.Lock()
        lock.acquire()
        threading.Timer(0.2, lock.release).start()
        print(lock.acquire(), flush=True)  # a Lock used as a signal: released by another thread
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "True\n"


WATCHDOG_PROGRAM = """
    import os, sys, threading, time
    import rthreading

    a, b = rthreading.RLock(), rthreading.RLock()
    both = threading.Barrier(2)

    def first():
        with a:
            both.wait()
            with b:
                pass

    def second():
        with b:
            both.wait()
            with a:
                pass

    {enable}
    threading.Thread(target=first, name="first", daemon=True).start()
    threading.Thread(target=second, name="second", daemon=True).start()
    time.sleep(1.0)
    print("ids", id(a), id(b), flush=True)
    sys.stderr.flush()
    os._exit(0)  # the deadlocked daemon threads are never woken
"""


@pytest.mark.parametrize("how", ["call", "environment"])
def test_watchdog_reports_a_persistent_cycle_once(how):
    enable = "rthreading.enable_deadlock_watchdog(0.1)" if how == "call" else ""
    env = {"RTHREADING_DEADLOCK_WATCHDOG": "0.1"} if how == "environment" else {}
    r = run_python(WATCHDOG_PROGRAM.format(enable=enable), env=env)
    assert r.returncode == 0, r.stderr
    ida, idb = (int(x) for x in r.stdout.split()[1:])
    err = r.stderr
    assert err.count("rthreading: deadlock detected") == 1, err
    assert f"<rthreading.RLock at {ida:#x}>" in err and f"<rthreading.RLock at {idb:#x}>" in err
    assert "thread 'first' (" in err and "thread 'second' (" in err
    # The stacks of both threads, down to the line where each waits.
    assert "Stack of thread 'first'" in err and "Stack of thread 'second'" in err
    assert "in first\n" in err and "in second\n" in err


def test_watchdog_bad_environment_value_warns():
    r = run_python("import rthreading; print(rthreading._diag._watchdog)", env={"RTHREADING_DEADLOCK_WATCHDOG": "soon"})
    assert r.returncode == 0, r.stderr
    assert r.stdout == "None\n"
    assert "RuntimeWarning" in r.stderr and "RTHREADING_DEADLOCK_WATCHDOG='soon'" in r.stderr


def test_watchdog_stops_and_survives_fork():
    r = run_python("""
        import os, threading, rthreading
        from rthreading import _diag
        rthreading.enable_deadlock_watchdog(0.05)
        w = _diag._watchdog
        assert w.thread.is_alive()
        pid = os.fork()
        if pid == 0:
            ok = _diag._watchdog is not None and _diag._watchdog.thread.is_alive()
            rthreading.disable_deadlock_watchdog()
            os._exit(0 if ok and _diag._watchdog is None else 1)
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status))
        rthreading.disable_deadlock_watchdog()
        print("stopped", not w.thread.is_alive(), _diag._watchdog)
        rthreading.disable_deadlock_watchdog()  # again: nothing to do
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "child 0\nstopped True None\n"


def test_watchdog_interval_must_be_positive():
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="interval must be a positive number of seconds"):
            rthreading.enable_deadlock_watchdog(bad)
