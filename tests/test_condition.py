"""Condition: differential tests against threading.Condition, over every kind of lock."""

import threading
import time
import weakref

import pytest

import rthreading
from helpers import raises_same, wait_until

LOCK_FACTORIES = {
    "default": lambda: None,
    "std.Lock": threading.Lock,
    "std.RLock": threading.RLock,
    "rt.Lock": rthreading.Lock,
    "rt.RLock": rthreading.RLock,
}


@pytest.fixture(params=list(LOCK_FACTORIES), ids=list(LOCK_FACTORIES))
def make_cond(request, mod):
    """A Condition factory of module `mod` over one kind of lock."""
    factory = LOCK_FACTORIES[request.param]
    return lambda: mod.Condition(factory())


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.wait(),
        lambda c: c.wait(0.01),
        lambda c: c.wait_for(lambda: False, 0.01),
        lambda c: c.notify(),
        lambda c: c.notify(3),
        lambda c: c.notify_all(),
    ],
    ids=["wait", "wait-timeout", "wait_for", "notify", "notify-n", "notify_all"],
)
@pytest.mark.parametrize("lock", ["default", "rt.Lock", "std.Lock", "rt.RLock"])
def test_unacquired_errors_match(call, lock):
    factory = LOCK_FACTORIES[lock]
    std, rt = raises_same(lambda m: call(m.Condition(factory())))
    assert std is not None and std[0] is RuntimeError
    assert rt == std


@pytest.mark.parametrize("timeout", [0, -1, 0.0, -0.5, float("nan"), 0.02, 1e-9, False])
def test_wait_timeout_returns_false(make_cond, timeout):
    c = make_cond()
    with c:
        t0 = time.monotonic()
        assert c.wait(timeout) is False
        if isinstance(timeout, float) and timeout > 0.001:
            assert time.monotonic() - t0 >= timeout * 0.99
        assert c._is_owned()


@pytest.mark.parametrize("timeout", ["1", 1e100, 2**80, [1], 1j, float("inf")])
def test_wait_bad_timeouts_match(timeout):
    def scenario(m):
        c = m.Condition()
        with c:
            try:
                c.wait(timeout)
            finally:
                assert c._is_owned()  # the lock is held again whatever happened

    std, rt = raises_same(scenario)
    assert rt == std


@pytest.mark.parametrize("timeout", ["1", [1], None])
def test_wait_for_bad_timeouts_match(timeout):
    def scenario(m):
        c = m.Condition()
        with c:
            return c.wait_for(lambda: 0, timeout) if timeout is not None else None

    std, rt = raises_same(scenario)
    assert rt == std


def test_wait_for_returns_predicate_value(make_cond):
    c = make_cond()
    with c:
        assert c.wait_for(lambda: "yes") == "yes"
        assert c.wait_for(lambda: 0, timeout=0.01) == 0
        assert c.wait_for(lambda: None, timeout=0) is None
        assert c.wait_for(lambda: [], timeout=-1) == []


def test_notify_wakes_waiter_and_lock_is_released_meanwhile(make_cond):
    c = make_cond()
    state = {"ready": False, "woke": None}

    def waiter():
        with c:
            state["ready"] = True
            state["woke"] = c.wait(5)

    t = threading.Thread(target=waiter)
    t.start()
    wait_until(lambda: state["ready"])
    with c:  # acquirable: the waiter released the lock while it waits
        c.notify()
    t.join(5)
    assert not t.is_alive()
    assert state["woke"] is True


def test_wait_for_with_producer(make_cond):
    c = make_cond()
    items = []
    got = []

    def consumer():
        with c:
            got.append(c.wait_for(lambda: len(items) >= 3, timeout=5))

    t = threading.Thread(target=consumer)
    t.start()
    for i in range(3):
        time.sleep(0.005)
        with c:
            items.append(i)
            c.notify()
    t.join(5)
    assert got == [True]


@pytest.mark.parametrize("how", ["notify1", "notify2", "notify_all", "notify_many", "notify0", "notify_neg"])
def test_notify_counts(mod, how):
    c = mod.Condition()
    n_waiters = 4
    ready = []
    woke = []

    def waiter(i):
        with c:
            ready.append(i)
            if c.wait(0.5):
                woke.append(i)

    threads = [threading.Thread(target=waiter, args=(i,)) for i in range(n_waiters)]
    for t in threads:
        t.start()
    wait_until(lambda: len(ready) == n_waiters)
    with c:
        {
            "notify1": lambda: c.notify(),
            "notify2": lambda: c.notify(2),
            "notify_all": c.notify_all,
            "notify_many": lambda: c.notify(100),
            "notify0": lambda: c.notify(0),
            "notify_neg": lambda: c.notify(-3),
        }[how]()
    for t in threads:
        t.join(5)
    expected = {"notify1": 1, "notify2": 2, "notify_all": 4, "notify_many": 4, "notify0": 0, "notify_neg": 0}[how]
    assert len(woke) == expected


def test_notify_wakes_in_fifo_order(mod):
    c = mod.Condition()
    queued, woke = [], []

    def waiter(i):
        with c:
            queued.append(i)  # under the lock, so this is the order of enqueueing
            c.wait(5)
            woke.append(i)

    threads = [threading.Thread(target=waiter, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    wait_until(lambda: len(queued) == 5)
    for k in range(1, 6):
        with c:
            c.notify()
        wait_until(lambda: len(woke) == k)
    for t in threads:
        t.join(5)
    assert woke == queued


def test_rlock_recursion_restored_after_wait(mod):
    lock = mod.RLock()
    c = mod.Condition(lock)
    with c:
        with c:
            assert lock._recursion_count() == 2
            assert c.wait(0.01) is False
            assert lock._recursion_count() == 2
    assert lock._recursion_count() == 0


def test_enter_exit_and_acquire_release(make_cond):
    c = make_cond()
    assert c.__enter__() is True
    assert c._is_owned()
    assert c.__exit__(None, None, None) is None
    assert c.acquire() is True
    assert c.acquire(False) in (True, False)  # re-entrant locks say True, plain locks False
    c.release()
    if c._is_owned():
        c.release()


def test_exit_propagates_exception(mod):
    c = mod.Condition()
    with pytest.raises(ZeroDivisionError):
        with c:
            1 / 0
    assert not c._is_owned()


def test_release_unheld_matches():
    for lock in ("default", "rt.Lock"):
        std, rt = raises_same(lambda m: m.Condition(LOCK_FACTORIES[lock]() if lock != "default" else None).release())
        assert std is not None and rt[0] is std[0]


def test_repr_shape(mod):
    c = mod.Condition()
    r = repr(c)
    assert r.startswith("<Condition(<unlocked ") and r.endswith(", 0)>")


def test_subclass_and_weakref(mod):
    class MyCond(mod.Condition):
        def __init__(self):
            super().__init__()
            self.extra = 1

    c = MyCond()
    with c:
        c.notify()
    assert c.extra == 1
    assert weakref.ref(c)() is c


def test_stdlib_condition_over_rthreading_locks():
    for lock in (rthreading.Lock(), rthreading.RLock()):
        c = threading.Condition(lock)
        flag = []

        def waiter():
            with c:
                flag.append(c.wait_for(lambda: len(flag) == 1 or flag, 5))

        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.01)
        with c:
            flag.append("go")
            c.notify()
        t.join(5)
        assert not t.is_alive()


def test_notifyall_alias_warns(mod):
    c = mod.Condition()
    with c, pytest.warns(DeprecationWarning):
        c.notifyAll()


def test_producer_consumer_many(mod):
    c = mod.Condition()
    buf, out = [], []
    n = 2000

    def producer():
        for i in range(n):
            with c:
                buf.append(i)
                c.notify()

    def consumer():
        while True:
            with c:
                c.wait_for(lambda: buf, timeout=5)
                item = buf.pop(0)
            if item is None:
                return
            out.append(item)

    cons = [threading.Thread(target=consumer) for _ in range(3)]
    for t in cons:
        t.start()
    producer()
    with c:
        buf.extend([None] * 3)
        c.notify_all()
    for t in cons:
        t.join(10)
    assert sorted(out) == list(range(n))
