"""Subclasses and the stdlib's internals: overridden hooks are honoured, attributes the stdlib
keeps (mutex, queue, not_empty, ...) work, with the same observable behaviour as the stdlib."""

import heapq
import random
import threading
import time

import pytest

import rthreading.queue as rt_queue
from helpers import QUEUE_CLASSES, apply_queue_op, assert_queues_agree, outcome, queue_state


def run_ops(q, seed, n=200):
    rnd = random.Random(seed)
    trace = []
    for _ in range(n):
        op, x = rnd.choice(["put", "put_nowait", "get", "get_nowait", "task_done", "qsize"]), rnd.randrange(6)
        trace.append((op, outcome(lambda: apply_queue_op(q, op, x)), outcome(lambda: queue_state(q))))
    return trace


def unique_queue(base):
    """The classic subclass: a set-backed queue that drops duplicates."""

    class UniqueQueue(base):
        def _init(self, maxsize):
            self.queue = []
            self.seen = set()

        def _qsize(self):
            return len(self.queue)

        def _put(self, item):
            if item not in self.seen:
                self.seen.add(item)
                self.queue.append(item)

        def _get(self):
            item = self.queue.pop(0)
            self.seen.discard(item)
            return item

    return UniqueQueue


@pytest.mark.parametrize("maxsize", [0, 3])
@pytest.mark.parametrize("seed", [1, 2])
def test_overridden_hooks_are_honoured(maxsize, seed):
    assert_queues_agree(lambda m: run_ops(unique_queue(m.Queue)(maxsize), seed))


def test_hooks_see_their_own_container(qmod):
    q = unique_queue(qmod.Queue)()
    for x in [1, 2, 1, 3, 2]:
        q.put(x)
    assert q.queue == [1, 2, 3] and q.qsize() == 3 and q.unfinished_tasks == 5


@pytest.mark.parametrize("base", QUEUE_CLASSES)
def test_partial_override_with_super(base):
    def scenario(m):
        class Doubling(getattr(m, base)):
            def _put(self, item):
                super()._put(item * 2)

        return run_ops(Doubling(3), 7)

    assert_queues_agree(scenario)


@pytest.mark.parametrize("base", QUEUE_CLASSES)
def test_exceptions_in_hooks_leave_queue_usable(base):
    def scenario(m):
        class Picky(getattr(m, base)):
            def _put(self, item):
                if item == 3:
                    raise ValueError("no threes")
                super()._put(item)

            def _get(self):
                item = super()._get()
                if item == 4:
                    raise KeyError("four is lost")
                return item

        return run_ops(Picky(4), 3, 300)

    assert_queues_agree(scenario)


def test_priority_subclass_with_own_heap():
    def scenario(m):
        class Reversed(m.PriorityQueue):
            def _put(self, item):
                heapq.heappush(self.queue, -item)

            def _get(self):
                return -heapq.heappop(self.queue)

        return run_ops(Reversed(), 5)

    assert_queues_agree(scenario)


def test_subclass_with_own_init_signature(qmod):
    class Named(qmod.Queue):
        def __init__(self, name, maxsize=0):
            super().__init__(maxsize)
            self.name = name

    q = Named("jobs", 1)
    assert q.name == "jobs" and q.maxsize == 1
    q.put(1)
    with pytest.raises(qmod.Full):
        q.put_nowait(2)


def test_put_nowait_goes_through_overridden_put(qmod):
    class Logged(qmod.LifoQueue):
        log = []

        def put(self, item, block=True, timeout=None):
            self.log.append(("put", item, block))
            super().put(item, block, timeout)

        def get(self, block=True, timeout=None):
            item = super().get(block, timeout)
            self.log.append(("get", item, block))
            return item

    q = Logged()
    q.put_nowait(1)
    q.put(2)
    assert q.get_nowait() == 2 and q.get() == 1
    assert Logged.log == [("put", 1, False), ("put", 2, True), ("get", 2, False), ("get", 1, True)]


def test_plain_subclass_stays_native():
    class Plain(rt_queue.Queue):
        def describe(self):
            return f"{self.qsize()} items"

    q = Plain(2)
    q.put(1)
    assert q.describe() == "1 items" and q.get() == 1


# --- code that uses the stdlib's internals -------------------------------------------------------


def clear_queue(q):
    """The common recipe: empty a queue under its mutex and release join()."""
    with q.mutex:
        q.queue.clear()
        q.all_tasks_done.notify_all()
        q.unfinished_tasks = 0


@pytest.mark.parametrize("base", QUEUE_CLASSES)
def test_clear_recipe(qmod, base):
    q = getattr(qmod, base)(5)
    for i in range(4):
        q.put(i)
    joined = threading.Event()
    t = threading.Thread(target=lambda: (q.join(), joined.set()))
    t.start()
    time.sleep(0.02)
    clear_queue(q)
    t.join(10)
    assert joined.is_set()
    assert queue_state(q) == (0, True, False, 0)
    q.put(7)
    assert q.get() == 7


@pytest.mark.parametrize("base", QUEUE_CLASSES)
def test_peek_recipes_then_normal_use(base):
    def scenario(m):
        q = getattr(m, base)(4)
        for x in [3, 1, 2]:
            q.put(x)
        seen = (list(q.queue), q.queue[0], len(q.queue), 2 in q.queue, q.maxsize, q.unfinished_tasks)
        return seen, run_ops(q, 11)

    assert_queues_agree(scenario)


def test_attributes_exist_like_the_stdlibs(qmod):
    q = qmod.Queue()
    for name in ["mutex", "not_empty", "not_full", "all_tasks_done", "queue", "maxsize", "unfinished_tasks"]:
        assert hasattr(q, name), name
    assert q.not_empty._lock is q.mutex


def test_switch_wakes_native_waiters():
    """A getter blocked natively keeps working when another thread switches the queue over."""
    q = rt_queue.Queue()
    got = []
    t = threading.Thread(target=lambda: got.append(q.get(timeout=10)))
    t.start()
    time.sleep(0.03)
    assert len(q.queue) == 0  # switches
    q.put("x")
    t.join(10)
    assert got == ["x"]


def test_switch_carries_state_over():
    q = rt_queue.PriorityQueue(5)
    for x in [5, 1, 4, 2]:
        q.put(x)
    q.get()
    q.task_done()
    assert q.queue[0] == 2  # a valid heapq heap
    assert queue_state(q) == (3, False, False, 3)
    assert [q.get() for _ in range(3)] == [2, 4, 5]


def test_condition_use_from_outside(qmod):
    """Waiting on q.not_empty directly, as some code does."""
    q = qmod.Queue()
    got = []

    def waiter():
        with q.not_empty:
            while not q._qsize():
                q.not_empty.wait(5)
            got.append(q._get())

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.02)
    q.put(42)
    t.join(10)
    assert got == [42]
