"""Queue, LifoQueue, PriorityQueue: differential tests against the stdlib's queue module.

Every scenario runs against `queue` and `rthreading.queue` and compares what is observable:
return values, ordering, exceptions (type and message) and the state after each step. Shutdown
(3.13) is checked against the stdlib where it has it; on older interpreters only rthreading's
half runs, against the behaviour the 3.13+ docs describe (the same assertions the stdlib passes
on 3.13).
"""

import dataclasses
import decimal
import fractions
import inspect
import queue as std_queue
import random
import threading
import time
import weakref

import pytest

import rthreading
import rthreading.queue as rt_queue
from helpers import (
    QUEUE_CLASSES,
    QUEUE_OPS,
    Truthy,
    apply_queue_op,
    assert_queues_agree,
    outcome,
    queue_state,
)

HAS_STD_SHUTDOWN = hasattr(std_queue.Queue, "shutdown")


@pytest.fixture(params=QUEUE_CLASSES)
def cls_name(request):
    return request.param


# --- the classes and their namespace ------------------------------------------------------------


def test_exception_classes_are_the_stdlibs():
    assert rt_queue.Empty is std_queue.Empty
    assert rt_queue.Full is std_queue.Full
    if HAS_STD_SHUTDOWN:
        assert rt_queue.ShutDown is std_queue.ShutDown
    else:
        assert issubclass(rt_queue.ShutDown, Exception)
    assert set(rt_queue.__all__) == {"Empty", "Full", "ShutDown", "Queue", "PriorityQueue", "LifoQueue", "SimpleQueue"}


def test_top_level_names():
    for name in ["Queue", "LifoQueue", "PriorityQueue", "SimpleQueue", "Empty", "Full", "ShutDown"]:
        assert getattr(rthreading, name) is getattr(rt_queue, name)


def test_classes_are_native_and_related():
    for name in QUEUE_CLASSES + ["SimpleQueue"]:
        cls = getattr(rt_queue, name)
        assert cls is not getattr(std_queue, name)
        assert cls.__module__ == "rthreading.queue"
        assert cls.__name__ == name
    assert issubclass(rt_queue.LifoQueue, rt_queue.Queue)
    assert issubclass(rt_queue.PriorityQueue, rt_queue.Queue)
    assert isinstance(rt_queue.PriorityQueue(), rt_queue.Queue)
    assert not issubclass(rt_queue.SimpleQueue, rt_queue.Queue)


@pytest.mark.parametrize(
    "method", ["put", "get", "put_nowait", "get_nowait", "qsize", "empty", "full", "task_done", "join"]
)
def test_signatures_match(cls_name, method):
    std = inspect.signature(getattr(getattr(std_queue, cls_name)(), method))
    rt = inspect.signature(getattr(getattr(rt_queue, cls_name)(), method))
    assert str(rt) == str(std)


def test_shutdown_signature():
    assert str(inspect.signature(rt_queue.Queue().shutdown)) == "(immediate=False)"


def test_generic_alias(qmod, cls_name):
    cls = getattr(qmod, cls_name)
    alias = cls[int]
    assert alias.__origin__ is cls and alias.__args__ == (int,)


def test_weakref_and_repr(cls_name):
    q = getattr(rt_queue, cls_name)()
    assert weakref.ref(q)() is q
    assert repr(q).startswith(f"<rthreading.queue.{cls_name} object at 0x")


# --- ordering -----------------------------------------------------------------------------------


@dataclasses.dataclass(order=True)
class Job:
    priority: int
    name: str = dataclasses.field(compare=False)


ITEMS = {
    "ints": [5, 3, 9, 1, 3, 7, 0, 8, 2, 2, 6],
    "tuples": [(2, "b"), (1, "z"), (2, "a"), (0, "q"), (1, "a")],
    "strings": list("queueing-theory"),
    # Equal priorities with distinct payloads: the order among equals is the heap's.
    "dataclass-ties": [Job(p, f"j{i}") for i, p in enumerate([1, 0, 1, 2, 0, 1, 1, 2, 0, 1, 0])],
}


@pytest.mark.parametrize("items", list(ITEMS), ids=list(ITEMS))
def test_ordering(cls_name, items):
    def scenario(m):
        q = getattr(m, cls_name)()
        for x in ITEMS[items]:
            q.put(x)
        return [q.get() for _ in ITEMS[items]]

    assert_queues_agree(scenario)


def test_priority_ties_interleaved_match_heapq():
    rnd = random.Random(3)
    ops = [rnd.random() < 0.6 for _ in range(2000)]
    prios = [rnd.randrange(4) for _ in range(2000)]

    def scenario(m):
        q, out = m.PriorityQueue(), []
        for i, (is_put, p) in enumerate(zip(ops, prios)):
            if is_put:
                q.put(Job(p, f"j{i}"))
            elif not q.empty():
                out.append(q.get().name)
        while not q.empty():
            out.append(q.get().name)
        return out

    assert_queues_agree(scenario)


def test_priority_by_lt_only():
    class OnlyLt:
        def __init__(self, v):
            self.v = v

        def __lt__(self, other):
            return self.v < other.v

    def scenario(m):
        q = m.PriorityQueue()
        for v in [3, 1, 2, 5, 4]:
            q.put(OnlyLt(v))
        return [q.get().v for _ in range(5)]

    assert assert_queues_agree(scenario) == ("ok", [1, 2, 3, 4, 5])


def test_priority_uncomparable_items_raise_the_same():
    def scenario(m):
        q = m.PriorityQueue()
        q.put(1)
        q.put("a")

    std = assert_queues_agree(scenario)
    assert std[0] is TypeError


class Bomb:
    """Compares by value, but raising once `armed` is set."""

    armed = False

    def __init__(self, v):
        self.v = v

    def __lt__(self, other):
        if Bomb.armed:
            raise ZeroDivisionError("comparison failed")
        return self.v < other.v


@pytest.fixture
def bombs():
    Bomb.armed = False
    yield
    Bomb.armed = False


@pytest.mark.thread_unsafe  # Bomb.armed is shared
def test_priority_comparison_error_leaves_queue_consistent(bombs):
    q = rt_queue.PriorityQueue(10)
    for v in [5, 3, 8, 1, 9, 2]:
        q.put(Bomb(v))
    Bomb.armed = True
    with pytest.raises(ZeroDivisionError, match="comparison failed"):
        q.put(Bomb(0))
    with pytest.raises(ZeroDivisionError, match="comparison failed"):
        q.get()
    # Nothing was added or lost, nothing counted.
    assert q.qsize() == 6 and q.unfinished_tasks == 6
    Bomb.armed = False
    assert [q.get().v for _ in range(6)] == [1, 2, 3, 5, 8, 9]
    q.put(Bomb(4))
    assert q.get().v == 4


@pytest.mark.thread_unsafe  # Bomb.armed is shared
def test_priority_comparison_error_propagates_like_stdlib(bombs):
    def scenario(m):
        q = m.PriorityQueue()
        q.put(Bomb(1))
        Bomb.armed = True
        try:
            q.put(Bomb(0))
        finally:
            Bomb.armed = False

    assert assert_queues_agree(scenario) == (ZeroDivisionError, "comparison failed")


def test_priority_reentrant_comparison_raises_instead_of_deadlock():
    q = rt_queue.PriorityQueue()

    class Nosy:
        def __init__(self, v):
            self.v = v

        def __lt__(self, other):
            q.qsize()  # the stdlib's PriorityQueue deadlocks here
            return self.v < other.v

    q.put(Nosy(1))
    with pytest.raises(RuntimeError, match="comparison of its own items"):
        q.put(Nosy(0))
    assert q.qsize() == 1


# --- random operation sequences -------------------------------------------------------------------


@pytest.mark.parametrize("maxsize", [0, 1, 3, -2])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_sequences_match(cls_name, maxsize, seed):
    rnd = random.Random(seed * 100 + maxsize)
    ops = [(rnd.choice(QUEUE_OPS), rnd.randrange(8)) for _ in range(300)]

    def scenario(m):
        q = getattr(m, cls_name)(maxsize)
        trace = []
        for op, x in ops:
            trace.append((op, outcome(lambda: apply_queue_op(q, op, x)), queue_state(q)))
        return trace

    assert_queues_agree(scenario)


# --- maxsize ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "maxsize", [0, -1, 1, 2, 2.5, 0.5, True, False, float("inf"), float("-inf"), float("nan"), 10**30, -(10**30), 2**63]
)
def test_maxsize_values(cls_name, maxsize):
    def scenario(m):
        q = getattr(m, cls_name)(maxsize)
        trace = [q.maxsize, queue_state(q)]
        for i in range(4):
            trace.append(outcome(lambda: q.put_nowait(i)))
            trace.append(queue_state(q))
        return trace

    assert_queues_agree(scenario)


@pytest.mark.parametrize("maxsize", [None, "3", [1], decimal.Decimal(2), fractions.Fraction(3, 2)])
def test_unusual_maxsize_objects(cls_name, maxsize):
    def scenario(m):
        q = getattr(m, cls_name)(maxsize)
        trace = [q.maxsize]
        for i in range(3):
            trace.append(outcome(lambda: q.put_nowait(i)))
            trace.append(outcome(lambda: queue_state(q)))
        trace.append(outcome(q.get_nowait))
        return trace

    assert_queues_agree(scenario)


def test_maxsize_keyword_and_assignment(qmod, cls_name):
    q = getattr(qmod, cls_name)(maxsize=1)
    assert q.maxsize == 1
    q.put(1)
    assert q.full()
    q.maxsize = 3
    assert not q.full()
    q.put(2)
    q.put(3)
    with pytest.raises(std_queue.Full):
        q.put_nowait(4)
    q.maxsize = 0
    q.put_nowait(4)
    assert q.qsize() == 4


@pytest.mark.parametrize(
    "args,kwargs", [((1, 2), {}), ((), {"size": 1}), ((1,), {"maxsize": 2}), ((), {"maxsize": 2, "x": 1})]
)
def test_constructor_errors_match(cls_name, args, kwargs):
    std = assert_queues_agree(lambda m: getattr(m, cls_name)(*args, **kwargs))
    assert std[0] is TypeError


# --- blocking, timeouts and argument errors -------------------------------------------------------

BAD_TIMEOUTS = [
    -1,
    -0.5,
    -1e-10,
    "1",
    [1],
    1j,
    decimal.Decimal(1),
    decimal.Decimal(-1),
    10**400,
    float("inf"),
    1e300,
    1e10,
    -(10**400),
]


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS, ids=repr)
@pytest.mark.parametrize("filled", [False, True], ids=["empty", "filled"])
def test_get_timeout_arguments_match(cls_name, timeout, filled):
    def scenario(m):
        q = getattr(m, cls_name)()
        if filled:
            q.put(1)
        return q.get(timeout=timeout)

    assert_queues_agree(scenario)


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS, ids=repr)
@pytest.mark.parametrize("maxsize,filled", [(0, 0), (2, 0), (2, 2)], ids=["unbounded", "bounded", "full"])
def test_put_timeout_arguments_match(cls_name, timeout, maxsize, filled):
    def scenario(m):
        q = getattr(m, cls_name)(maxsize)
        for i in range(filled):
            q.put(i)
        q.put(9, timeout=timeout)
        return queue_state(q)

    assert_queues_agree(scenario)


@pytest.mark.parametrize("block", [False, 0, None, "", True, 1, "x", Truthy(False), Truthy(None)], ids=repr)
@pytest.mark.parametrize("maxsize", [0, 1])
def test_block_argument_match(cls_name, block, maxsize):
    def scenario(m):
        q = getattr(m, cls_name)(maxsize)
        trace = [outcome(lambda: q.put(1, block, -1))]
        trace.append(outcome(lambda: q.put(2, block, 0)))
        trace.append(outcome(lambda: q.get(block, -1)))
        trace.append(outcome(lambda: q.get(block, 0)))
        trace.append(outcome(lambda: q.get(block, 0)))
        return trace, queue_state(q)

    assert_queues_agree(scenario)


@pytest.mark.parametrize("timeout", [0, 0.0, False, fractions.Fraction(1, 50), 0.02])
def test_get_times_out_with_empty(qmod, cls_name, timeout):
    q = getattr(qmod, cls_name)()
    t0 = time.monotonic()
    with pytest.raises(std_queue.Empty):
        q.get(timeout=timeout)
    assert time.monotonic() - t0 >= float(timeout) * 0.99


@pytest.mark.parametrize("timeout", [0, 0.02])
def test_put_times_out_with_full(qmod, cls_name, timeout):
    q = getattr(qmod, cls_name)(1)
    q.put(0)
    t0 = time.monotonic()
    with pytest.raises(std_queue.Full):
        q.put(1, timeout=timeout)
    assert time.monotonic() - t0 >= timeout * 0.99
    assert q.qsize() == 1 and q.unfinished_tasks == 1


def test_nowait_errors_match(cls_name):
    def scenario(m):
        q = getattr(m, cls_name)(1)
        return [
            outcome(q.get_nowait),
            outcome(lambda: q.put_nowait(1)),
            outcome(lambda: q.put_nowait(2)),
            outcome(q.get_nowait),
            queue_state(q),
        ]

    std = assert_queues_agree(scenario)
    assert std[1][0][0] is std_queue.Empty
    assert std[1][2][0] is std_queue.Full


def test_keyword_arguments(qmod, cls_name):
    q = getattr(qmod, cls_name)(maxsize=2)
    q.put(item=1)
    q.put(2, block=True, timeout=0.5)
    with pytest.raises(std_queue.Full):
        q.put(3, timeout=0.01)
    assert q.get(block=True, timeout=0.5) in (1, 2)
    assert q.get(timeout=None) in (1, 2)
    with pytest.raises(TypeError):
        q.get(wait=False)
    with pytest.raises(TypeError):
        q.put()


def test_blocked_get_receives_item(qmod, cls_name):
    q = getattr(qmod, cls_name)()
    got = []
    t = threading.Thread(target=lambda: got.append(q.get(timeout=10)))
    t.start()
    time.sleep(0.02)
    q.put("x")
    t.join(10)
    assert got == ["x"]


def test_blocked_put_resumes_when_room(qmod, cls_name):
    q = getattr(qmod, cls_name)(1)
    q.put(1)
    done = threading.Event()
    t = threading.Thread(target=lambda: (q.put(2, timeout=10), done.set()))
    t.start()
    assert not done.wait(0.03)
    assert q.get() == 1
    t.join(10)
    assert done.is_set() and q.get() == 2


# --- task accounting ------------------------------------------------------------------------------


def test_task_done_too_many_times_matches(cls_name):
    def scenario(m):
        q = getattr(m, cls_name)()
        q.put(1)
        q.get()
        q.task_done()
        q.task_done()

    std = assert_queues_agree(scenario)
    assert std[0] is ValueError


def test_join_waits_for_task_done(qmod, cls_name):
    q = getattr(qmod, cls_name)()
    q.join()  # nothing unfinished
    for i in range(3):
        q.put(i)
    joined = threading.Event()
    t = threading.Thread(target=lambda: (q.join(), joined.set()))
    t.start()
    for _ in range(3):
        q.get()
    assert not joined.wait(0.03)
    q.task_done()
    q.task_done()
    assert not joined.wait(0.03)
    q.task_done()
    t.join(10)
    assert joined.is_set() and q.unfinished_tasks == 0


def test_unfinished_tasks_is_writable(qmod, cls_name):
    q = getattr(qmod, cls_name)()
    q.put(1)
    q.unfinished_tasks = 0
    q.join()
    assert q.unfinished_tasks == 0 and q.qsize() == 1


# --- shutdown (3.13) ----------------------------------------------------------------------------


@pytest.fixture
def smod(qmod):
    """Modules whose Queue has shutdown(): rthreading's always, the stdlib's from 3.13."""
    if not hasattr(qmod.Queue, "shutdown"):
        pytest.skip("the stdlib's queue has no shutdown() before 3.13")
    return qmod


def test_shutdown_then_puts_raise_and_gets_drain(smod, cls_name):
    q = getattr(smod, cls_name)()
    for i in [2, 1]:
        q.put(i)
    assert q.is_shutdown is False
    q.shutdown()
    assert q.is_shutdown is True
    with pytest.raises(smod.ShutDown):
        q.put(3)
    with pytest.raises(smod.ShutDown):
        q.put_nowait(3)
    assert sorted([q.get(), q.get_nowait()]) == [1, 2]
    for get in (q.get, q.get_nowait, lambda: q.get(timeout=-1), lambda: q.get(False)):
        with pytest.raises(smod.ShutDown):
            get()
    assert q.unfinished_tasks == 2 and q.empty()


def test_shutdown_immediate_empties_and_releases_join(smod, cls_name):
    q = getattr(smod, cls_name)()
    for i in range(4):
        q.put(i)
    q.get()  # got, not task_done'd: still unfinished after the shutdown
    joined = threading.Event()
    t = threading.Thread(target=lambda: (q.join(), joined.set()))
    t.start()
    q.shutdown(immediate=True)
    assert q.qsize() == 0 and q.unfinished_tasks == 1
    with pytest.raises(smod.ShutDown):
        q.get()
    assert not joined.wait(0.03)
    q.task_done()
    t.join(10)
    assert joined.is_set()


def test_shutdown_immediate_releases_join_of_queued_items(smod, cls_name):
    q = getattr(smod, cls_name)()
    for i in range(3):
        q.put(i)
    t = threading.Thread(target=q.join)
    t.start()
    time.sleep(0.02)
    q.shutdown(True)
    t.join(10)
    assert not t.is_alive() and q.unfinished_tasks == 0


@pytest.mark.parametrize("immediate", [False, True])
def test_shutdown_wakes_blocked_getters_and_putters(smod, cls_name, immediate):
    q = getattr(smod, cls_name)(1)
    results = []
    getters = [threading.Thread(target=lambda: results.append(outcome(q.get))) for _ in range(2)]
    for t in getters:
        t.start()
    time.sleep(0.03)
    q.put(1)  # one getter gets it
    q2 = getattr(smod, cls_name)(1)
    q2.put(0)
    putters = [threading.Thread(target=lambda: results.append(outcome(lambda: q2.put(5)))) for _ in range(2)]
    for t in putters:
        t.start()
    time.sleep(0.03)
    q.shutdown(immediate)
    q2.shutdown(immediate)
    for t in getters + putters:
        t.join(10)
    kinds = sorted(repr(r if r[0] == "ok" else r[0]) for r in results)  # what, not the message
    assert kinds == sorted([repr(("ok", 1)), repr(smod.ShutDown), repr(smod.ShutDown), repr(smod.ShutDown)])
    assert q2.qsize() == (0 if immediate else 1)


def test_shutdown_takes_precedence_over_argument_errors(smod, cls_name):
    q = getattr(smod, cls_name)(1)
    q.shutdown()
    with pytest.raises(smod.ShutDown):
        q.get(timeout=-1)
    with pytest.raises(smod.ShutDown):
        q.put(1, timeout=-1)
    with pytest.raises(smod.ShutDown):
        q.put(1, block=Truthy(None))


@pytest.mark.skipif(not HAS_STD_SHUTDOWN, reason="the stdlib's queue has no shutdown() before 3.13")
@pytest.mark.parametrize("seed", [1, 2])
def test_random_sequences_with_shutdown_match(cls_name, seed):
    rnd = random.Random(seed)
    ops = [
        (rnd.choice(QUEUE_OPS + ["shutdown", "shutdown_now"] if i > 20 else QUEUE_OPS), rnd.randrange(8))
        for i in range(150)
    ]

    def scenario(m):
        q = getattr(m, cls_name)(3)
        trace = []
        for op, x in ops:
            if op.startswith("shutdown"):
                trace.append(outcome(lambda: q.shutdown(op == "shutdown_now")))
            else:
                trace.append(outcome(lambda: apply_queue_op(q, op, x)))
            trace.append((queue_state(q), q.is_shutdown))
        return trace

    assert_queues_agree(scenario)
