"""rthreading.Lock against the stdlib's threading.Lock: every method, argument and error."""

import gc
import os
import re
import signal
import threading
import time
import weakref

import pytest

from _acquire_args import BLOCKING_ARGS, ERROR_KWARGS, NON_BLOCKING_ARGS, outcome_when_held, skip_old_blocking
from helpers import MODULES, both, in_thread, outcome, raises_same

# ---------------------------------------------------------------------------------------------
# acquire() arguments: same result or same exception (type and message) as the stdlib


@pytest.mark.parametrize("args, kwargs", NON_BLOCKING_ARGS)
def test_acquire_args_on_held_lock(args, kwargs):
    skip_old_blocking(args, kwargs)
    std, ours = both(lambda m: outcome_when_held(m.Lock, lambda l: l.acquire(*args, **kwargs)))
    assert ours == std
    assert std != "blocked"


@pytest.mark.parametrize("args, kwargs", NON_BLOCKING_ARGS + BLOCKING_ARGS)
def test_acquire_args_on_free_lock(args, kwargs):
    skip_old_blocking(args, kwargs)

    def run(m):
        lock = m.Lock()
        got = outcome(lambda: lock.acquire(*args, **kwargs))
        return got, lock.locked()

    std, ours = both(run)
    assert ours == std


@pytest.mark.parametrize("kwargs", ERROR_KWARGS)
def test_acquire_errors_raises_same(kwargs):
    std, ours = raises_same(lambda m: m.Lock().acquire(**kwargs))
    assert std is not None
    assert ours == std


def test_acquire_too_many_arguments_is_type_error():
    std, ours = raises_same(lambda m: m.Lock().acquire(True, 1, 2))
    assert std[0] is TypeError and ours[0] is TypeError
    std, ours = raises_same(lambda m: m.Lock().acquire(bogus=1))
    assert std[0] is TypeError and ours[0] is TypeError
    std, ours = raises_same(lambda m: m.Lock(1))
    assert std[0] is TypeError and ours[0] is TypeError


def test_acquire_keywords(mod):
    lock = mod.Lock()
    assert lock.acquire(blocking=True, timeout=0.5) is True
    assert lock.acquire(blocking=False) is False
    assert lock.acquire(timeout=0) is False
    assert lock.acquire(True, 0.001) is False
    lock.release()
    assert lock.acquire(timeout=0) is True
    lock.release()


# ---------------------------------------------------------------------------------------------
# basic behaviour


def test_acquire_release_locked(mod):
    lock = mod.Lock()
    assert lock.locked() is False
    assert lock.acquire() is True
    assert lock.locked() is True
    assert lock.acquire(False) is False
    assert lock.release() is None
    assert lock.locked() is False
    assert lock.acquire(False) is True
    lock.release()


def test_release_unlocked(mod):
    std, ours = raises_same(lambda m: m.Lock().release())
    assert std == (RuntimeError, "release unlocked lock")
    assert ours == std
    lock = mod.Lock()
    lock.acquire()
    lock.release()
    with pytest.raises(RuntimeError):
        lock.release()


def test_deprecated_aliases(mod):
    lock = mod.Lock()
    for name in ("acquire_lock", "release_lock", "locked_lock"):
        assert hasattr(lock, name) == hasattr(threading.Lock(), name)
    if not hasattr(lock, "acquire_lock"):
        pytest.skip("this stdlib has no acquire_lock alias")
    assert lock.acquire_lock() is True
    assert lock.locked_lock() is True
    assert lock.acquire_lock(False) is False
    assert lock.acquire_lock(timeout=0.001) is False
    assert lock.release_lock() is None
    assert lock.locked_lock() is False
    std, ours = raises_same(lambda m: m.Lock().release_lock())
    assert ours == std


def test_with_statement(mod):
    lock = mod.Lock()
    with lock as entered:
        assert lock.locked()
        assert lock.acquire(False) is False
    assert entered is True
    assert not lock.locked()
    assert lock.__enter__() is True
    assert lock.__exit__(None, None, None) is None
    assert not lock.locked()


def test_with_releases_on_exception(mod):
    lock = mod.Lock()
    with pytest.raises(ZeroDivisionError):
        with lock:
            1 / 0
    assert not lock.locked()


def test_exit_without_arguments(mod):
    lock = mod.Lock()
    lock.acquire()
    assert lock.__exit__() is None  # the stdlib's takes *args
    assert not lock.locked()
    std, ours = raises_same(lambda m: m.Lock().__exit__())
    assert ours == std


@pytest.mark.parametrize("kind", ["Lock", "RLock"])
def test_cannot_pickle_or_copy(kind):
    import copy
    import pickle

    for fn in (pickle.dumps, copy.copy, copy.deepcopy):
        std, ours = raises_same(lambda m: fn(getattr(m, kind)()))
        assert std[0] is TypeError and ours[0] is TypeError
        assert ours[1] == std[1].replace(
            type(getattr(threading, kind)()).__module__ + "." + type(getattr(threading, kind)()).__name__,
            f"rthreading.{kind}",
        )


def test_exit_of_unlocked_lock(mod):
    std, ours = raises_same(lambda m: m.Lock().__exit__(None, None, None))
    assert std == (RuntimeError, "release unlocked lock")
    assert ours == std


def test_release_from_another_thread(mod):
    lock = mod.Lock()
    lock.acquire()
    assert in_thread(lock.release) == ("ok", None)
    assert not lock.locked()


def test_timed_acquire_returns_false_after_timeout(mod):
    lock = mod.Lock()
    lock.acquire()
    for timeout in (0.05, 0.02):
        t0 = time.monotonic()
        assert lock.acquire(timeout=timeout) is False
        assert time.monotonic() - t0 >= timeout
    lock.release()


def test_acquire_by_another_thread_while_held(mod):
    lock = mod.Lock()
    lock.acquire()
    seen = []
    started = threading.Event()

    def other():
        seen.append(lock.acquire(False))
        t0 = time.monotonic()
        seen.append(lock.acquire(timeout=0.03))
        seen.append(time.monotonic() - t0 >= 0.03)
        started.set()
        seen.append(lock.acquire())  # blocks until the main thread releases
        seen.append("acquired")
        lock.release()

    t = threading.Thread(target=other)
    t.start()
    assert started.wait(10)
    time.sleep(0.02)
    assert seen == [False, False, True]  # still waiting
    lock.release()
    t.join(10)
    assert not t.is_alive()
    assert seen == [False, False, True, True, "acquired"]
    assert not lock.locked()


def test_blocked_acquire_wakes_on_release_from_third_thread(mod):
    lock = mod.Lock()
    lock.acquire()
    got = []
    waiter = threading.Thread(target=lambda: got.append(lock.acquire(timeout=10)))
    waiter.start()
    time.sleep(0.02)
    releaser = threading.Thread(target=lock.release)
    releaser.start()
    releaser.join(10)
    waiter.join(10)
    assert got == [True]
    assert lock.locked()
    lock.release()


def test_mutual_exclusion(mod):
    lock = mod.Lock()
    inside = []
    overlaps = []
    n = 4

    def work():
        for _ in range(2000):
            with lock:
                inside.append(1)
                if len(inside) != 1:
                    overlaps.append(len(inside))
                inside.pop()

    ts = [threading.Thread(target=work) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert overlaps == []


def test_at_fork_reinit(mod):
    lock = mod.Lock()
    lock.acquire()
    assert lock._at_fork_reinit() is None
    assert not lock.locked()
    assert lock.acquire(False) is True
    lock._at_fork_reinit()
    assert not lock.locked()
    free = mod.Lock()
    free._at_fork_reinit()
    assert free.acquire(False) is True
    free.release()


# ---------------------------------------------------------------------------------------------
# repr, weakref, threading.Condition over it


def _repr_shape(r, name):
    assert name in r, r
    return re.sub(r"0x[0-9a-f]+", "ADDR", r.replace(name, "NAME"))


def test_repr_names_the_owner():
    # rthreading's repr of a locked Lock adds the acquiring thread (the stdlib's has no owner);
    # test_repr_matches_stdlib_shape compares the rest with the stdlib's.
    lock = MODULES["rthreading"].Lock()
    with lock:
        assert f" owner={threading.get_ident()} " in repr(lock)
    assert "owner" not in repr(lock)


def test_repr_matches_stdlib_shape():
    names = {
        "threading": type(threading.Lock()).__module__ + "." + type(threading.Lock()).__name__,
        "rthreading": "rthreading.Lock",
    }
    shapes = {}
    for mname, m in MODULES.items():
        lock = m.Lock()
        free = repr(lock)
        lock.acquire()
        held = repr(lock).replace(f" owner={threading.get_ident()}", "")
        lock.release()
        assert hex(id(lock)) in free
        shapes[mname] = (_repr_shape(free, names[mname]), _repr_shape(held, names[mname]))
    assert shapes["rthreading"] == shapes["threading"]
    assert shapes["threading"] == ("<unlocked NAME object at ADDR>", "<locked NAME object at ADDR>")


def test_weakref(mod):
    lock = mod.Lock()
    ref = weakref.ref(lock)
    assert ref() is lock
    del lock
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize("kind", ["Lock", "RLock"])
def test_stdlib_condition_over_our_lock(mod, kind):
    cond = threading.Condition(getattr(mod, kind)())
    state = {"ready": False}
    got = []

    def consumer():
        with cond:
            got.append(cond.wait_for(lambda: state["ready"], timeout=10))

    t = threading.Thread(target=consumer)
    t.start()
    time.sleep(0.02)
    with cond:
        state["ready"] = True
        cond.notify()
    t.join(10)
    assert got == [True]

    with cond:  # a timed wait with nobody to notify
        t0 = time.monotonic()
        assert cond.wait(0.03) is False
        assert time.monotonic() - t0 >= 0.03
    with pytest.raises(RuntimeError):
        cond.wait(0.01)  # not holding the lock
    with pytest.raises(RuntimeError):
        cond.notify()


@pytest.mark.parametrize("kind", ["Lock", "RLock"])
def test_stdlib_condition_notify_all(mod, kind):
    cond = threading.Condition(getattr(mod, kind)())
    woke = []
    waiting = threading.Semaphore(0)

    def waiter(i):
        with cond:
            waiting.release()
            if cond.wait(10):
                woke.append(i)

    ts = [threading.Thread(target=waiter, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for _ in ts:
        assert waiting.acquire(timeout=10)
    with cond:  # every waiter is inside wait() once we hold the lock
        cond.notify_all()
    for t in ts:
        t.join(10)
    assert sorted(woke) == [0, 1, 2, 3]


# ---------------------------------------------------------------------------------------------
# fork


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_child_after_fork_can_use_locks(mod):
    held = mod.Lock()
    held.acquire()
    rheld = mod.RLock()
    rheld.acquire()
    rheld.acquire()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report failures through the pipe, always _exit
        code = 3
        try:
            os.close(r)
            signal.alarm(20)
            problems = []

            def check(what, ok):
                if not ok:
                    problems.append(what)

            lock = mod.Lock()
            check("new acquire", lock.acquire() is True)
            check("new locked", lock.locked())
            t0 = time.monotonic()
            check("timed acquire", lock.acquire(timeout=0.02) is False)
            check("timed acquire waited", time.monotonic() - t0 >= 0.02)
            got = []
            th = threading.Thread(target=lambda: got.append(lock.acquire(timeout=10)))
            th.start()
            time.sleep(0.01)
            lock.release()
            th.join(10)
            check("thread acquired after release", got == [True])
            lock.release()
            rl = mod.RLock()
            with rl:
                with rl:
                    check("new rlock count", rl._recursion_count() == 2)
            check("new rlock released", rl.acquire(False) is True)
            rl.release()
            # inherited state: the lock stays locked; the RLock stays owned by this thread
            check("inherited lock locked", held.locked())
            held._at_fork_reinit()
            check("reinit lock usable", held.acquire(False) is True)
            held.release()
            check("inherited rlock owned", rheld._is_owned() and rheld._recursion_count() == 2)
            rheld.release()
            rheld.release()
            check("inherited rlock released", not rheld._is_owned())
            os.write(w, repr(problems).encode())
            code = 0 if not problems else 1
        except BaseException as e:  # noqa: BLE001
            os.write(w, repr(e).encode())
            code = 2
        finally:
            os._exit(code)
    os.close(w)
    held.release()
    rheld.release()
    rheld.release()
    with os.fdopen(r, "rb") as f:
        report = f.read().decode()
    _, status = os.waitpid(pid, 0)
    assert (os.waitstatus_to_exitcode(status), report) == (0, "[]")
