"""SimpleQueue: differential tests against the stdlib's C `_queue.SimpleQueue`."""

import decimal
import inspect
import queue as std_queue
import random
import threading
import time
import weakref

import pytest

import rthreading.queue as rt_queue
from helpers import Truthy, assert_queues_agree, outcome, queue_outcomes


def test_is_native():
    assert rt_queue.SimpleQueue is not std_queue.SimpleQueue
    assert rt_queue.SimpleQueue.__module__ == "rthreading.queue"
    q = rt_queue.SimpleQueue()
    assert weakref.ref(q)() is q
    assert rt_queue.SimpleQueue[int].__args__ == (int,)


@pytest.mark.parametrize("method", ["put", "get", "put_nowait", "get_nowait", "qsize", "empty"])
def test_signatures_match(method):
    std = inspect.signature(getattr(std_queue.SimpleQueue(), method))
    rt = inspect.signature(getattr(rt_queue.SimpleQueue(), method))
    assert str(rt) == str(std)


def test_no_task_accounting_or_bounds():
    names = {n for n in dir(std_queue.SimpleQueue) if not n.startswith("__")}
    # Beyond the stdlib, only the awaitable get (rthreading._aio) and its private hooks.
    beyond = {"async_get", "_get_or", "_watch", "_unwatch", "_pass_on", "_waiting"}
    assert names == {n for n in dir(rt_queue.SimpleQueue) if not n.startswith("__")} - beyond


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_sequences_match(seed):
    rnd = random.Random(seed)
    ops = [
        (
            rnd.choice(
                [
                    "put",
                    "put_nowait",
                    "put_args",
                    "get",
                    "get_nowait",
                    "get_block_false",
                    "get_timeout0",
                    "qsize",
                    "empty",
                ]
            ),
            rnd.randrange(10),
        )
        for _ in range(400)
    ]

    def scenario(m):
        q = m.SimpleQueue()
        trace = []
        for op, x in ops:
            fn = {
                "put": lambda: q.put(x),
                "put_nowait": lambda: q.put_nowait(x),
                "put_args": lambda: q.put(x, False, -5),
                "get": lambda: q.get(True, 0) if q.empty() else q.get(),
                "get_nowait": q.get_nowait,
                "get_block_false": lambda: q.get(block=False),
                "get_timeout0": lambda: q.get(timeout=0),
                "qsize": q.qsize,
                "empty": q.empty,
            }[op]
            trace.append((op, outcome(fn), q.qsize(), q.empty()))
        return trace

    assert_queues_agree(scenario)


BAD_TIMEOUTS = [
    -1,
    -0.5,
    "1",
    [1],
    1j,
    decimal.Decimal(1),
    10**400,
    float("inf"),
    1e300,
    -1e300,
    float("nan"),
    -(10**30),
    1e10,
]


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS, ids=repr)
@pytest.mark.parametrize("filled", [False, True], ids=["empty", "filled"])
def test_get_timeout_arguments_match(timeout, filled):
    def scenario(m):
        q = m.SimpleQueue()
        if filled:
            q.put(1)
        if timeout == 1e10 and not filled:
            return q.get(False, timeout)  # the C queue would wait 317 years
        return q.get(timeout=timeout)

    assert_queues_agree(scenario)


@pytest.mark.parametrize("timeout", [0, 0.0, -1e-10, False, 0.02])
def test_get_times_out(qmod, timeout):
    q = qmod.SimpleQueue()
    t0 = time.monotonic()
    with pytest.raises(std_queue.Empty):
        q.get(timeout=timeout)
    assert time.monotonic() - t0 >= max(timeout, 0) * 0.99


@pytest.mark.parametrize("block", [False, 0, None, True, "x", Truthy(False), Truthy(None)], ids=repr)
def test_block_argument_match(block):
    def scenario(m):
        q = m.SimpleQueue()
        trace = [outcome(lambda: q.put(1, block)), outcome(lambda: q.put(2, block, "ignored"))]
        trace.append(outcome(lambda: q.get(block, 0)))
        trace.append(outcome(lambda: q.get(block, 0)))
        trace.append(outcome(lambda: q.get(block, 0)))
        return trace, q.qsize()

    assert_queues_agree(scenario)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.SimpleQueue(1),
        lambda m: m.SimpleQueue(x=1),
        lambda m: m.SimpleQueue().put(),
        lambda m: m.SimpleQueue().put(1, 2, 3, 4),
        lambda m: m.SimpleQueue().get(1, 2, 3),
        lambda m: m.SimpleQueue().get_nowait(1),
        lambda m: m.SimpleQueue().put_nowait(),
    ],
    ids=["ctor-arg", "ctor-kwarg", "put-none", "put-many", "get-many", "get_nowait-arg", "put_nowait-none"],
)
def test_call_errors_match_type(call):
    std, rt = queue_outcomes(call)
    assert std[0] is rt[0] is TypeError


@pytest.mark.parametrize("call", [lambda m: m.SimpleQueue(1), lambda m: m.SimpleQueue(x=1)])
def test_constructor_messages_match(call):
    assert_queues_agree(call)


def test_subclass_with_own_init_takes_arguments(qmod):
    class Named(qmod.SimpleQueue):
        def __init__(self, name):
            self.name = name

    q = Named("jobs")
    q.put(1)
    assert q.name == "jobs" and q.get() == 1


def test_blocked_get_receives_item(qmod):
    q = qmod.SimpleQueue()
    got = []
    t = threading.Thread(target=lambda: got.append(q.get(timeout=10)))
    t.start()
    time.sleep(0.02)
    q.put("x")
    t.join(10)
    assert got == ["x"]


def test_reentrant_put_from_finalizer():
    q = rt_queue.SimpleQueue()

    class Reporter:
        def __del__(self):
            q.put("finalized")

    q.put(Reporter())
    q.get()  # the last reference goes here: the finalizer puts while get returns
    assert q.get(timeout=5) == "finalized"


def test_many_threads_every_item_once():
    q = rt_queue.SimpleQueue()
    n_producers, n_consumers, per = 4, 4, 20_000
    results = []

    def producer(p):
        for i in range(per):
            q.put(p * per + i)

    def consumer():
        got = []
        while True:
            x = q.get()
            if x is None:
                break
            got.append(x)
        results.append(got)

    consumers = [threading.Thread(target=consumer) for _ in range(n_consumers)]
    producers = [threading.Thread(target=producer, args=(p,)) for p in range(n_producers)]
    for t in consumers + producers:
        t.start()
    for t in producers:
        t.join()
    for _ in consumers:
        q.put(None)
    for t in consumers:
        t.join()
    allgot = [x for got in results for x in got]
    assert len(allgot) == n_producers * per
    assert sorted(allgot) == list(range(n_producers * per))
    for got in results:  # FIFO: each producer's items arrive in order at each consumer
        for p in range(n_producers):
            mine = [x for x in got if x // per == p]
            assert mine == sorted(mine)
