"""rthreading.RLock against the stdlib's threading.RLock: recursion, ownership, the private hooks
Condition uses, every acquire() argument and error."""

import gc
import re
import threading
import time
import weakref

import pytest

import _acquire_args as shared
from _acquire_args import ERROR_KWARGS, outcome_when_held, pick, skip_old_blocking
from helpers import MODULES, both, in_thread, outcome, raises_same

# ---------------------------------------------------------------------------------------------
# helpers


def has_locked(m):
    return hasattr(m.RLock(), "locked")


# The Lock tests' acquire() arguments that the RLock tests check too, and a few of their own.
NON_BLOCKING_ARGS = pick(
    shared.NON_BLOCKING_ARGS,
    "blocking=False",
    "positional-False",
    "blocking=0",
    "blocking=None",
    "timeout=0",
    "timeout=1ns",
    "positional-timeout",
    "nonblocking-timeout=-1",
    "timeout=-2",
    "nonblocking-with-timeout",
    "positional-nonblocking-with-timeout",
    "timeout=nan",
    "timeout=inf",
    "timeout=1e300",
    "timeout=2*TIMEOUT_MAX",
    "timeout=2**63",
    "timeout=2**70",
    "timeout=-2**70",
    "timeout=str",
    "timeout=None",
    "timeout=complex",
) + [pytest.param((), {"timeout": -0.25}, id="timeout=-0.25")]

BLOCKING_ARGS = pick(
    shared.BLOCKING_ARGS,
    "no-args",
    "blocking=True",
    "timeout=TIMEOUT_MAX",
    "timeout=TIMEOUT_MAX+0.5",
) + [
    pytest.param((), {"timeout": -1}, id="timeout=-1"),  # the Lock's passes blocking=True too
    pytest.param((), {"timeout": 5.5}, id="timeout=5.5"),
]


# ---------------------------------------------------------------------------------------------
# acquire() arguments


@pytest.mark.parametrize("args, kwargs", NON_BLOCKING_ARGS)
def test_acquire_args_when_held_by_another_thread(args, kwargs):
    skip_old_blocking(args, kwargs)
    std, ours = both(lambda m: outcome_when_held(m.RLock, lambda l: l.acquire(*args, **kwargs), depth=2))
    assert ours == std
    assert std != "blocked"


@pytest.mark.parametrize("args, kwargs", NON_BLOCKING_ARGS + BLOCKING_ARGS)
@pytest.mark.parametrize("depth", [0, 1], ids=["free", "owned"])
def test_acquire_args_free_or_owned(args, kwargs, depth):
    """On a free lock, and re-entering one this thread owns: same result, same depth after."""
    skip_old_blocking(args, kwargs)

    def run(m):
        lock = m.RLock()
        for _ in range(depth):
            lock.acquire()
        got = outcome(lambda: lock.acquire(*args, **kwargs))
        return got, lock._recursion_count(), lock._is_owned()

    std, ours = both(run)
    assert ours == std


@pytest.mark.parametrize("kwargs", ERROR_KWARGS)
def test_acquire_errors_raises_same(kwargs):
    std, ours = raises_same(lambda m: m.RLock().acquire(**kwargs))
    assert std is not None
    assert ours == std


def test_acquire_too_many_arguments_is_type_error():
    std, ours = raises_same(lambda m: m.RLock().acquire(True, 1, 2))
    assert std[0] is TypeError and ours[0] is TypeError
    std, ours = raises_same(lambda m: m.RLock().acquire(bogus=1))
    assert std[0] is TypeError and ours[0] is TypeError


# ---------------------------------------------------------------------------------------------
# recursion and ownership


def test_recursion(mod):
    lock = mod.RLock()
    assert lock._is_owned() is False
    assert lock._recursion_count() == 0
    for depth in range(1, 6):
        assert lock.acquire() is True
        assert lock._recursion_count() == depth
    assert lock.acquire(False) is True
    assert lock.acquire(timeout=0) is True
    assert lock._recursion_count() == 7
    assert lock._is_owned() is True
    for depth in range(6, -1, -1):
        assert lock.release() is None
        assert lock._recursion_count() == depth
    assert lock._is_owned() is False
    std, ours = raises_same(lambda m: m.RLock().release())
    assert std == (RuntimeError, "cannot release un-acquired lock")
    assert ours == std
    with pytest.raises(RuntimeError):
        lock.release()


def test_release_by_non_owner(mod):
    lock = mod.RLock()
    lock.acquire()
    got = in_thread(lock.release)
    assert got == (RuntimeError, "cannot release un-acquired lock")
    assert lock._recursion_count() == 1  # still ours
    lock.release()


def test_release_by_non_owner_raises_same():
    def scenario(m):
        lock = m.RLock()
        lock.acquire()
        try:
            return in_thread(lock.release)
        finally:
            lock.release()

    std, ours = both(scenario)
    assert ours == std


def test_other_thread_sees_no_ownership(mod):
    lock = mod.RLock()
    lock.acquire()
    lock.acquire()
    assert in_thread(lambda: (lock._is_owned(), lock._recursion_count())) == ("ok", (False, 0))
    lock.release()
    lock.release()


def test_acquire_by_another_thread_while_held(mod):
    lock = mod.RLock()
    lock.acquire()
    lock.acquire()
    seen = []
    tried = threading.Event()

    def other():
        seen.append(lock.acquire(False))
        t0 = time.monotonic()
        seen.append(lock.acquire(timeout=0.03))
        seen.append(time.monotonic() - t0 >= 0.03)
        tried.set()
        seen.append(lock.acquire())  # until the owner has released every level
        seen.append(lock._recursion_count())
        lock.release()

    t = threading.Thread(target=other)
    t.start()
    assert tried.wait(10)
    lock.release()  # one level left: still held
    time.sleep(0.03)
    assert seen == [False, False, True]
    lock.release()
    t.join(10)
    assert not t.is_alive()
    assert seen == [False, False, True, True, 1]
    assert lock.acquire(False) is True
    lock.release()


def test_timed_acquire_returns_false_after_timeout(mod):
    lock = mod.RLock()
    lock.acquire()

    def timed():
        t0 = time.monotonic()
        got = lock.acquire(timeout=0.05)
        return got, time.monotonic() - t0 >= 0.05

    assert in_thread(timed) == ("ok", (False, True))
    lock.release()


def test_owner_exits_without_releasing(mod):
    lock = mod.RLock()
    assert in_thread(lock.acquire) == ("ok", True)
    assert lock._is_owned() is False
    assert lock.acquire(timeout=0.01) is False
    with pytest.raises(RuntimeError):
        lock.release()


def test_with_statement(mod):
    lock = mod.RLock()
    with lock as a:
        with lock as b:
            assert lock._recursion_count() == 2
        assert lock._recursion_count() == 1
    assert (a, b) == (True, True)
    assert lock._recursion_count() == 0
    with pytest.raises(KeyError):
        with lock:
            with lock:
                raise KeyError
    assert lock._is_owned() is False
    assert lock.__enter__() is True
    assert lock.__exit__(None, None, None) is None
    std, ours = raises_same(lambda m: m.RLock().__exit__(None, None, None))
    assert ours == std
    lock.acquire()
    assert lock.__exit__() is None  # the stdlib's takes *args
    assert lock._is_owned() is False


def test_mutual_exclusion_with_recursion(mod):
    lock = mod.RLock()
    inside = []
    overlaps = []

    def work():
        for _ in range(1000):
            with lock:
                with lock:
                    inside.append(1)
                    if len(inside) != 1:
                        overlaps.append(len(inside))
                    inside.pop()

    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert overlaps == []
    assert lock._recursion_count() == 0


# ---------------------------------------------------------------------------------------------
# locked() (new in 3.14's stdlib)


def test_locked(mod):
    if not has_locked(mod):
        pytest.skip("this stdlib's RLock has no locked() (added in 3.14)")
    lock = mod.RLock()
    assert lock.locked() is False
    lock.acquire()
    lock.acquire()
    assert lock.locked() is True
    assert in_thread(lock.locked) == ("ok", True)
    lock.release()
    assert lock.locked() is True
    lock.release()
    assert lock.locked() is False
    assert in_thread(lock.acquire) == ("ok", True)  # owner gone, still locked
    assert lock.locked() is True


def test_locked_matches_stdlib_where_it_exists():
    """Same answers as the stdlib's RLock.locked() (3.14+) or, before it, as "is it held"."""

    def trace(m):
        lock = m.RLock()
        out = []

        def held():  # what locked() answers, from the older stdlib's public behaviour
            if lock._is_owned() or not lock.acquire(False):
                return True
            lock.release()
            return False

        probe = lock.locked if has_locked(m) else held
        out.append(probe())
        lock.acquire()
        out.append(probe())
        out.append(in_thread(probe))
        lock.release()
        out.append(probe())
        return out

    std, ours = both(trace)
    assert ours == std == [False, True, ("ok", True), False]


# ---------------------------------------------------------------------------------------------
# the private hooks threading.Condition uses


def test_release_save_and_acquire_restore(mod):
    lock = mod.RLock()
    for _ in range(3):
        lock.acquire()
    state = lock._release_save()
    assert state == (3, threading.get_ident())
    assert lock._is_owned() is False
    assert lock._recursion_count() == 0
    assert in_thread(lambda: (lock.acquire(False), lock.release())) == ("ok", (True, None))
    assert lock._acquire_restore(state) is None
    assert lock._is_owned() is True
    assert lock._recursion_count() == 3
    for _ in range(3):
        lock.release()
    assert lock._is_owned() is False


def test_acquire_restore_waits_for_other_owner(mod):
    lock = mod.RLock()
    lock.acquire()
    lock.acquire()
    state = lock._release_save()
    holding = threading.Event()
    release = threading.Event()

    def holder():
        with lock:
            holding.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    assert holding.wait(10)
    done = []
    restorer = threading.Thread(
        target=lambda: done.append(
            (lock._acquire_restore((2, threading.get_ident())), lock._recursion_count(), lock.release(), lock.release())
        )
    )
    restorer.start()
    time.sleep(0.03)
    assert done == []
    release.set()
    t.join(10)
    restorer.join(10)
    assert done == [(None, 2, None, None)]
    del state


def test_release_save_errors():
    std, ours = raises_same(lambda m: m.RLock()._release_save())
    assert std == (RuntimeError, "cannot release un-acquired lock")
    assert ours == std
    # (Called by a thread that does not own the lock, the stdlib's C RLock releases it anyway
    # and returns the owner's state; rthreading refuses. Condition checks _is_owned() first.)


@pytest.mark.parametrize("state", [5, (1,), "ab", None], ids=["int", "1-tuple", "str", "None"])
def test_acquire_restore_bad_state_is_type_error(state):
    std, ours = raises_same(lambda m: m.RLock()._acquire_restore(state))
    assert std is not None and std[0] is TypeError
    assert ours is not None and ours[0] is TypeError


def test_at_fork_reinit(mod):
    lock = mod.RLock()
    lock.acquire()
    lock.acquire()
    assert lock._at_fork_reinit() is None
    assert lock._is_owned() is False
    assert lock._recursion_count() == 0
    assert in_thread(lambda: (lock.acquire(False), lock.release())) == ("ok", (True, None))
    held_elsewhere = mod.RLock()
    in_thread(held_elsewhere.acquire)
    held_elsewhere._at_fork_reinit()
    assert held_elsewhere.acquire(False) is True
    held_elsewhere.release()


# ---------------------------------------------------------------------------------------------
# threading.Condition over it


def test_stdlib_condition_keeps_recursion_depth(mod):
    lock = mod.RLock()
    cond = threading.Condition(lock)
    with lock:
        with cond:
            assert lock._recursion_count() == 2
            t0 = time.monotonic()
            assert cond.wait(0.03) is False
            assert time.monotonic() - t0 >= 0.03
            assert lock._recursion_count() == 2
    assert lock._recursion_count() == 0


def test_stdlib_condition_wait_notify(mod):
    lock = mod.RLock()
    cond = threading.Condition(lock)
    items = []
    got = []

    def consumer():
        with cond:
            with cond:  # waits at depth 2: the lock is fully released while waiting
                got.append(cond.wait_for(lambda: items, timeout=10))
                got.append(lock._recursion_count())

    t = threading.Thread(target=consumer)
    t.start()
    time.sleep(0.02)
    with cond:
        items.append(1)
        cond.notify()
    t.join(10)
    assert got == [[1], 2]


# ---------------------------------------------------------------------------------------------
# repr, weakref


def _repr_shape(r, name):
    assert name in r, r
    r = r.replace(name, "NAME").replace(f"owner={threading.get_ident()}", "owner=ME")
    return re.sub(r"0x[0-9a-f]+", "ADDR", r)


def test_repr_matches_stdlib_shape():
    std_type = type(threading.RLock())
    names = {"threading": f"{std_type.__module__}.{std_type.__name__}", "rthreading": "rthreading.RLock"}
    shapes = {}
    for mname, m in MODULES.items():
        lock = m.RLock()
        free = repr(lock)
        lock.acquire()
        lock.acquire()
        held = repr(lock)
        lock.release()
        lock.release()
        assert hex(id(lock)) in free
        shapes[mname] = (_repr_shape(free, names[mname]), _repr_shape(held, names[mname]))
    assert shapes["rthreading"] == shapes["threading"]
    assert shapes["threading"][1] == "<locked NAME object owner=ME count=2 at ADDR>"


def test_weakref(mod):
    lock = mod.RLock()
    ref = weakref.ref(lock)
    assert ref() is lock
    del lock
    gc.collect()
    assert ref() is None
