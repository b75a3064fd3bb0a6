"""rthreading.queue.select(*queues, timeout=None) -> (queue, item). No stdlib analogue; its
timeout argument is Queue.get's (checked differentially against the stdlib's Queue.get), the
rest against the documented behaviour: any mix of queue kinds, fairness, task_done accounting,
ShutDown, exactly-once delivery racing plain get() callers and other selectors, Ctrl-C."""

import queue as std_queue
import sys
import threading

import pytest

import rthreading
from _sigint import interrupted_state, needs_signals
from helpers import outcome, start, wait_until
from rthreading.queue import Empty, LifoQueue, PriorityQueue, Queue, ShutDown, SimpleQueue, select

KINDS = [Queue, LifoQueue, PriorityQueue, SimpleQueue]
has_shutdown = pytest.mark.skipif(not hasattr(Queue, "shutdown"), reason="Queue.shutdown is 3.13+")


@pytest.mark.parametrize("kind", KINDS)
def test_takes_from_the_queue_that_has_an_item(kind):
    a, b = Queue(), kind()
    b.put(3)
    assert select(a, b) == (b, 3)
    with pytest.raises(Empty):
        select(a, b, timeout=0)
    with pytest.raises(Empty):
        select(a, b, timeout=0.01)


def test_order_within_a_queue_is_the_queues():
    lifo, prio = LifoQueue(), PriorityQueue()
    for x in (2, 1, 3):
        lifo.put(x)
        prio.put(x)
    assert [select(lifo)[1] for _ in range(3)] == [3, 1, 2]
    assert [select(prio)[1] for _ in range(3)] == [1, 2, 3]


def test_wakes_on_a_put_from_another_thread():
    qs = [Queue(), SimpleQueue(), LifoQueue()]
    t = start(lambda: (wait_until(lambda: _listed(qs[0])), qs[1].put("x")))
    assert select(*qs, timeout=30) == (qs[1], "x")
    t.join(10)


def _listed(q):
    return any(w[1] is q and w[2].startswith("rthreading.queue.select") for w in rthreading._core._waits())


@pytest.mark.parametrize("timeout", [-1, -0.5, "x", None, 0, 0.0, 1e-9, float("nan")])
def test_timeout_argument_as_queue_get(timeout):
    """With an item ready (so nothing waits), select accepts or refuses `timeout` as
    Queue.get(True, timeout) does: same result or same exception."""

    def run(q):
        q.put(1)
        return q.get(True, timeout)

    std = outcome(lambda: run(std_queue.Queue()))
    q = Queue()
    ours = outcome(lambda: (q.put(1), select(q, timeout=timeout)[1])[1])
    assert ours == std


def test_bad_arguments():
    with pytest.raises(ValueError):
        select()
    for bad in (std_queue.Queue(), [], None):
        with pytest.raises(TypeError, match="rthreading queues"):
            select(Queue(), bad)
    with pytest.raises(TypeError):
        select(Queue(), nope=1)


def test_fair_when_several_are_ready():
    qs = [Queue(), SimpleQueue(), LifoQueue()]
    for q in qs:
        for i in range(300):
            q.put(i)
    counts = {id(q): 0 for q in qs}
    for _ in range(300):
        q, _item = select(*qs)
        counts[id(q)] += 1
    assert all(c >= 50 for c in counts.values()), counts


def test_task_done_accounting_as_get():
    q, other = Queue(), Queue()
    q.put("a")
    assert q.unfinished_tasks == 1
    assert select(other, q) == (q, "a")
    assert q.unfinished_tasks == 1  # taken, not yet done: as after get()
    q.task_done()
    q.join()  # returns: all done
    with pytest.raises(ValueError):
        q.task_done()


def test_bounded_queue_putter_woken_by_select():
    q = Queue(maxsize=1)
    q.put(1)
    done = []
    t = start(lambda: done.append(q.put(2, timeout=30)))
    wait_until(lambda: any(w[1] is q for w in rthreading._core._waits()))
    assert select(q) == (q, 1)
    t.join(30)
    assert done == [None] and q.get_nowait() == 2


@has_shutdown
def test_shutdown_rules():
    a, b = Queue(), Queue()
    a.shutdown()
    b.put(1)
    assert select(a, b) == (b, 1)  # a shut-down empty queue is skipped
    with pytest.raises(Empty):
        select(a, b, timeout=0)  # b is not shut down: nothing yet
    b.shutdown()
    with pytest.raises(ShutDown):
        select(a, b)
    c = Queue()
    c.put(1)
    c.shutdown()  # shut down but not empty: still hands out what it holds
    assert select(a, c) == (c, 1)
    with pytest.raises(ShutDown):
        select(a, c, timeout=0)


@has_shutdown
def test_shutdown_wakes_a_waiting_selector():
    a, b = Queue(), Queue()
    a.shutdown()
    t = start(lambda: (wait_until(lambda: _listed(a)), b.shutdown()))
    with pytest.raises(ShutDown):
        select(a, b, timeout=30)
    t.join(10)


def test_compatibility_mode_queue_refused():
    class Hooked(Queue):
        def _put(self, item):
            super()._put(item)

    q = Hooked()
    q.put(1)
    with pytest.raises(TypeError, match="compatibility mode"):
        select(Queue(), q)


@pytest.mark.thread_unsafe(reason="starts threads of its own")
def test_exactly_once_against_getters_and_selectors():
    n_items = 3000
    qs = [Queue(), SimpleQueue(), LifoQueue(maxsize=10), PriorityQueue()]
    taken = []
    lock = threading.Lock()
    remaining = rthreading.AtomicInt(n_items)

    def producer(p):
        for i in range(p, n_items, 3):
            qs[i % len(qs)].put(i)

    def record(x):
        with lock:
            taken.append(x)
        remaining.sub()

    def selector():
        while remaining.get() > 0:
            try:
                _q, x = select(*qs, timeout=0.02)
            except Empty:
                continue
            record(x)

    def getter(q):
        while remaining.get() > 0:
            try:
                x = q.get(timeout=0.02)
            except Empty:
                continue
            record(x)
            if isinstance(q, Queue):
                q.task_done()

    threads = [start(selector) for _ in range(3)] + [start(getter, qs[0]), start(getter, qs[1])]
    threads += [start(producer, p) for p in range(3)]
    for t in threads:
        t.join(120)
        assert not t.is_alive()
    assert sorted(taken) == list(range(n_items))


@needs_signals
def test_ctrl_c_interrupts_select():
    got = interrupted_state(
        "import rthreading.queue as rq\na, b = rq.Queue(), rq.SimpleQueue()",
        "rq.select(a, b)",
        "(a.qsize(), b.qsize(), rq.select(a, b, timeout=0) if a.put(1) is None else None)",
    )
    assert got.startswith("(0, 0, (") and got.endswith(", 1))")


def test_unregisters_after_each_select():
    """A selector leaves nothing behind in the queues: later puts wake nobody, and the queues
    stay usable by plain getters."""
    a, b = Queue(), SimpleQueue()
    for _ in range(3):
        with pytest.raises(Empty):
            select(a, b, timeout=0.001)
    a.put(1)
    b.put(2)
    assert a.get_nowait() == 1 and b.get_nowait() == 2
    assert sys.getrefcount(a) < 10
