"""q.async_q against asyncio.Queue, and janus-style use of one queue by threads and tasks.

Differential: each scenario runs on asyncio's Queue (LifoQueue, PriorityQueue) and on
`rthreading.queue.Queue().async_q` (likewise), each in an event loop of its own, and must give
the same results and exceptions (type and message). asyncio's queues have no shutdown before
3.13: there the shutdown scenarios run on rthreading's half only, against the outcomes written
out in the test (the ones asyncio gives on 3.13), with `rthreading.queue.ShutDown` in place of
`asyncio.QueueShutDown`, which that asyncio lacks.

Then the janus/culsans API: `sync_q` is the queue, threads and tasks (on one or several loops)
hand items over through one queue, and `close()`/`closed`/`wait_closed()`/`aclose()` behave as
janus 2 and culsans have them.
"""

import asyncio
import queue as std_queue
import random
import sys

import pytest

import rthreading.queue as rt_queue
from helpers import start

pytestmark = pytest.mark.timeout(60)

ASYNCIO_CLASSES = {"Queue": asyncio.Queue, "LifoQueue": asyncio.LifoQueue, "PriorityQueue": asyncio.PriorityQueue}
HAS_ASYNCIO_SHUTDOWN = hasattr(asyncio.Queue, "shutdown")
# What q.async_q raises once the queue is shut down.
SHUTDOWN = getattr(asyncio, "QueueShutDown", rt_queue.ShutDown)
# The queue module's (what q and q.sync_q raise).
SYNC_SHUTDOWN = rt_queue.ShutDown


@pytest.fixture(params=list(ASYNCIO_CLASSES))
def cls_name(request):
    return request.param


async def aoutcome(awaitable):
    """('ok', value) or (exception type, message): what awaiting did."""
    try:
        return ("ok", await awaitable)
    except Exception as e:  # noqa: BLE001 - compared as a whole
        return (type(e), str(e))


def outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except Exception as e:  # noqa: BLE001 - compared as a whole
        return (type(e), str(e))


def state(q):
    return (q.qsize(), q.empty(), q.full(), q.maxsize)


def run_on(cls_name, maxsize, scenario):
    """scenario(q) in a fresh event loop, for asyncio's class and for rthreading's async_q."""

    async def on_asyncio():
        return await scenario(ASYNCIO_CLASSES[cls_name](maxsize))

    async def on_rthreading():
        return await scenario(getattr(rt_queue, cls_name)(maxsize).async_q)

    return asyncio.run(on_asyncio()), asyncio.run(on_rthreading())


def assert_same(cls_name, maxsize, scenario):
    std, rt = run_on(cls_name, maxsize, scenario)
    assert rt == std
    return rt


def assert_shutdown_outcomes(cls_name, maxsize, scenario, expected):
    """A scenario that shuts the queue down: the outcomes written out in the test, on
    rthreading and (3.13+) on asyncio."""

    async def on_rthreading():
        return await scenario(getattr(rt_queue, cls_name)(maxsize).async_q)

    assert asyncio.run(on_rthreading()) == expected
    if HAS_ASYNCIO_SHUTDOWN:

        async def on_asyncio():
            return await scenario(ASYNCIO_CLASSES[cls_name](maxsize))

        assert asyncio.run(on_asyncio()) == expected


async def settle():
    """Let the other tasks of the loop run until they block."""
    for _ in range(10):
        await asyncio.sleep(0)


# --- the view and its exceptions ---------------------------------------------------------------


def test_exceptions_are_asyncios():
    q = rt_queue.Queue(1)
    aq = q.async_q
    with pytest.raises(asyncio.QueueEmpty):
        aq.get_nowait()
    aq.put_nowait(1)
    with pytest.raises(asyncio.QueueFull):
        aq.put_nowait(2)
    aq.shutdown()
    with pytest.raises(SHUTDOWN):
        aq.put_nowait(2)
    # The queue itself (sync_q) raises the queue module's, on the same queue.
    with pytest.raises(SYNC_SHUTDOWN):
        q.put_nowait(2)
    assert not issubclass(asyncio.QueueEmpty, std_queue.Empty)


def test_sync_q_is_the_queue_and_async_q_a_view(cls_name):
    q = getattr(rt_queue, cls_name)(5)
    assert q.sync_q is q
    aq = q.async_q
    assert type(aq) is rt_queue.AsyncQueueProxy
    assert aq == q.async_q and hash(aq) == hash(q.async_q)
    assert aq != getattr(rt_queue, cls_name)(5).async_q
    assert aq.wrapped is q
    assert f"of {q!r}" in repr(aq)
    assert rt_queue.AsyncQueueProxy[int] is not None  # generic at run time, as asyncio.Queue
    assert "AsyncQueueProxy" not in rt_queue.__all__  # the stdlib module's names only


def test_async_q_of_a_subclass_uses_its_hooks():
    """A subclass overriding the stdlib's hooks (compatibility mode) works through async_q as
    the same subclass of asyncio.Queue does."""

    class StdDoubling(asyncio.Queue):
        def _put(self, item):
            super()._put(item * 2)

    class RtDoubling(rt_queue.Queue):
        def _put(self, item):
            self.queue.append(item * 2)

    async def scenario(q):
        q.put_nowait(1)
        await q.put(2)
        return [q.get_nowait(), await q.get(), q.qsize()]

    async def std():
        return await scenario(StdDoubling())

    async def rt():
        return await scenario(RtDoubling().async_q)

    assert asyncio.run(rt()) == asyncio.run(std()) == [2, 4, 0]


# --- differential: asyncio.Queue against q.async_q ---------------------------------------------


@pytest.mark.parametrize("maxsize", [0, 1, 3, -1])
@pytest.mark.parametrize("seed", range(8))
def test_random_nowait_operations(cls_name, maxsize, seed):
    """A random sequence of the non-waiting calls: every result, exception and state alike."""

    async def scenario(q):
        rnd = random.Random(seed)
        log = []
        for _ in range(60):
            op = rnd.choice(["put_nowait", "put_nowait", "get_nowait", "task_done", "qsize"])
            if op == "put_nowait":
                log.append(outcome(q.put_nowait, rnd.randrange(100)))
            else:
                log.append(outcome(getattr(q, op)))
            log.append(state(q))
        return log

    assert_same(cls_name, maxsize, scenario)


def test_awaited_put_and_get_order(cls_name):
    async def scenario(q):
        for item in [5, 1, 4, 2, 3]:
            await q.put(item)
        got = [await q.get() for _ in range(5)]
        return got, state(q)

    assert_same(cls_name, 0, scenario)


def test_bounded_producer_and_consumer_tasks(cls_name):
    """A producer task waits on a full queue while a consumer task drains it."""

    async def scenario(q):
        got = []

        async def consume():
            for _ in range(50):
                got.append(await q.get())
                q.task_done()

        async def produce():
            for i in range(50):
                await q.put(i)

        await asyncio.gather(consume(), produce())
        await q.join()
        # FIFO keeps the order across the waits; LIFO and priority order depend on when the
        # consumer ran, so those compare as sets.
        return got if cls_name == "Queue" else sorted(got), state(q)

    got, _ = assert_same(cls_name, 2, scenario)
    assert sorted(got) == list(range(50))


def test_join_waits_for_task_done(cls_name):
    async def scenario(q):
        events = []
        for i in range(3):
            q.put_nowait(i)

        async def joiner():
            await q.join()
            events.append("joined")

        task = asyncio.create_task(joiner())
        await settle()
        for _ in range(3):
            q.get_nowait()
            events.append("done")
            q.task_done()
        await asyncio.wait_for(task, 10)
        events.append(outcome(q.task_done))
        return events

    events = assert_same(cls_name, 0, scenario)
    assert events[:4] == ["done", "done", "done", "joined"]
    assert events[4] == (ValueError, "task_done() called too many times")


def test_join_of_an_idle_queue_returns(cls_name):
    async def scenario(q):
        await q.join()
        return state(q)

    assert_same(cls_name, 0, scenario)


def test_cancelled_get_loses_no_item(cls_name):
    async def scenario(q):
        getter = asyncio.create_task(q.get())
        await settle()
        getter.cancel()
        await asyncio.wait([getter])
        q.put_nowait(7)
        return getter.cancelled(), q.get_nowait(), state(q)

    assert assert_same(cls_name, 0, scenario) == (True, 7, (0, True, False, 0))


def test_cancelled_put_enqueues_nothing(cls_name):
    async def scenario(q):
        q.put_nowait(1)
        putter = asyncio.create_task(q.put(2))
        await settle()
        putter.cancel()
        await asyncio.wait([putter])
        return putter.cancelled(), q.get_nowait(), state(q)

    assert assert_same(cls_name, 1, scenario) == (True, 1, (0, True, False, 1))


def test_wait_for_timeout_on_get_and_put(cls_name):
    """asyncio.wait_for times out a get on an empty queue and a put on a full one; neither
    takes nor leaves an item."""

    async def scenario(q):
        got = await aoutcome(asyncio.wait_for(q.get(), 0.01))
        q.put_nowait(1)
        put = await aoutcome(asyncio.wait_for(q.put(2), 0.01))
        return got[0], put[0], q.get_nowait(), state(q)

    std, rt = run_on(cls_name, 1, scenario)
    assert rt == std
    assert rt[0] is rt[1] is asyncio.TimeoutError


# --- shutdown (asyncio's from 3.13; the view's on every version) -------------------------------


def test_shutdown_lets_gets_drain_then_raises(cls_name):
    async def scenario(q):
        await q.put(1)
        q.put_nowait(2)
        q.shutdown()
        return [
            outcome(q.put_nowait, 3),
            await aoutcome(q.put(3)),
            outcome(q.get_nowait),
            await aoutcome(q.get()),
            outcome(q.get_nowait),
            await aoutcome(q.get()),
            state(q),
        ]

    assert_shutdown_outcomes(
        cls_name,
        0,
        scenario,
        [
            (SHUTDOWN, ""),
            (SHUTDOWN, ""),
            ("ok", 1 if cls_name != "LifoQueue" else 2),
            ("ok", 2 if cls_name != "LifoQueue" else 1),
            (SHUTDOWN, ""),
            (SHUTDOWN, ""),
            (0, True, False, 0),
        ],
    )


def test_shutdown_immediate_drops_items_and_releases_join(cls_name):
    async def scenario(q):
        for i in range(3):
            q.put_nowait(i)
        q.get_nowait()
        q.task_done()
        joiner = asyncio.create_task(q.join())
        await settle()
        q.shutdown(immediate=True)  # marks the two items left done
        await asyncio.wait_for(joiner, 10)
        return [state(q), outcome(q.get_nowait), outcome(q.task_done)]

    assert_shutdown_outcomes(
        cls_name,
        0,
        scenario,
        [(0, True, False, 0), (SHUTDOWN, ""), (ValueError, "task_done() called too many times")],
    )


def test_shutdown_wakes_waiting_getters_and_putters(cls_name):
    async def full_putter(q):
        q.put_nowait(0)
        putter = asyncio.create_task(q.put(1))
        await settle()
        q.shutdown()
        return [await aoutcome(putter), outcome(q.get_nowait), outcome(q.get_nowait)]

    assert_shutdown_outcomes(cls_name, 1, full_putter, [(SHUTDOWN, ""), ("ok", 0), (SHUTDOWN, "")])

    async def empty_getters(q):
        getters = [asyncio.create_task(q.get()) for _ in range(3)]
        await settle()
        q.shutdown()
        return [await aoutcome(g) for g in getters]

    assert_shutdown_outcomes(cls_name, 0, empty_getters, [(SHUTDOWN, "")] * 3)


def test_shutdown_from_a_thread_wakes_a_task():
    async def main():
        q = rt_queue.Queue()
        getter = asyncio.create_task(q.async_q.get())
        await settle()
        t = start(q.shutdown)
        result = await aoutcome(asyncio.wait_for(getter, 10))
        t.join(10)
        return result

    assert asyncio.run(main()) == (SHUTDOWN, "")


# --- janus-style: threads and tasks on one queue -----------------------------------------------

N = 500


def test_thread_producer_task_consumer(cls_name):
    q = getattr(rt_queue, cls_name)(8)

    def produce():
        for i in range(N):
            q.sync_q.put(i)
        q.sync_q.join()  # every item gotten and marked done by the task

    async def consume():
        got = []
        for _ in range(N):
            got.append(await q.async_q.get())
            q.async_q.task_done()
        return got

    t = start(produce)
    got = asyncio.run(consume())
    t.join(30)
    assert not t.is_alive()
    assert got == list(range(N)) if cls_name == "Queue" else sorted(got) == list(range(N))
    assert q.empty() and q.unfinished_tasks == 0


def test_task_producer_thread_consumer(cls_name):
    q = getattr(rt_queue, cls_name)(4)
    got = []

    def consume():
        for _ in range(N):
            got.append(q.sync_q.get())
            q.sync_q.task_done()

    async def produce():
        for i in range(N):
            await q.async_q.put(i)
        await q.async_q.join()
        return q.async_q.unfinished_tasks

    t = start(consume)
    assert asyncio.run(produce()) == 0
    t.join(30)
    assert not t.is_alive()
    assert got == list(range(N)) if cls_name == "Queue" else sorted(got) == list(range(N))


def test_tasks_on_two_loops_share_a_queue():
    """A producer task on one loop (in a thread of its own), a consumer task on another."""
    q = rt_queue.Queue(3)

    async def produce():
        for i in range(N):
            await q.async_q.put(i)
        await q.async_q.put(None)

    async def consume():
        got = []
        while (item := await q.async_q.get()) is not None:
            got.append(item)
        return got

    t = start(asyncio.run, produce())
    got = asyncio.run(consume())
    t.join(30)
    assert not t.is_alive()
    assert got == list(range(N))


@pytest.mark.parametrize("seed", range(3))
def test_random_cancellations_lose_nothing(seed):
    """Tasks time out (so are cancelled) at random in async_q.get() and async_q.put() while a
    thread puts too: every item arrives exactly once."""
    q = rt_queue.Queue(4)
    rnd = random.Random(seed)
    count = 1000

    def thread_producer():
        for i in range(count, 2 * count):
            q.sync_q.put(i)

    async def main():
        got = []

        async def consumer():
            while True:
                try:
                    item = await asyncio.wait_for(q.async_q.get(), rnd.random() * 0.001)
                except asyncio.TimeoutError:
                    continue
                if item is None:
                    return
                got.append(item)

        async def task_producer():
            i = 0
            while i < count:
                try:
                    await asyncio.wait_for(q.async_q.put(i), rnd.random() * 0.001)
                except asyncio.TimeoutError:
                    continue  # not enqueued: put the same item again
                i += 1

        consumers = [asyncio.create_task(consumer()) for _ in range(3)]
        thread = start(thread_producer)
        await task_producer()
        await asyncio.to_thread(thread.join, 30)
        for _ in consumers:
            await q.async_q.put(None)
        await asyncio.wait_for(asyncio.gather(*consumers), 30)
        return got

    got = asyncio.run(main())
    assert sorted(got) == list(range(2 * count))
    assert q.empty()


# --- close(), closed, wait_closed(), aclose() (janus 2 / culsans semantics) ---------------------


def test_close_is_shutdown_immediate(cls_name):
    q = getattr(rt_queue, cls_name)()
    for i in range(3):
        q.put(i)
    assert not q.closed and not q.async_q.closed
    assert q.close() is None
    assert q.closed and q.async_q.closed and q.sync_q.closed and q.is_shutdown
    assert q.qsize() == 0 and q.unfinished_tasks == 0
    q.join()  # nothing left to wait for
    with pytest.raises(SYNC_SHUTDOWN):
        q.put(1)
    with pytest.raises(SYNC_SHUTDOWN):
        q.get(timeout=10)
    with pytest.raises(SHUTDOWN):
        q.async_q.put_nowait(1)
    with pytest.raises(SHUTDOWN):
        q.async_q.get_nowait()
    q.close()  # again: nothing changes
    assert q.closed


def test_shutdown_also_closes():
    q = rt_queue.Queue()
    q.put(1)
    q.async_q.shutdown()
    assert q.closed  # janus and culsans: closed once shut down, immediately or not
    assert q.get_nowait() == 1


def test_wait_closed_and_aclose():
    async def main():
        q = rt_queue.Queue()
        not_closed = await aoutcome(q.wait_closed())
        q.put_nowait(1)
        waiter = asyncio.create_task(q.async_q.get())
        empty_waiter = asyncio.create_task(q.async_q.get())
        await settle()
        await q.aclose()
        results = [await aoutcome(waiter), await aoutcome(empty_waiter)]
        again = await aoutcome(q.wait_closed())
        return not_closed, sorted(results, key=repr), q.closed, again

    not_closed, results, closed, again = asyncio.run(main())
    assert not_closed == (RuntimeError, "Waiting for non-closed queue")
    assert results == sorted([("ok", 1), (SHUTDOWN, "")], key=repr)
    assert closed and again == ("ok", None)


def test_close_wakes_a_waiting_thread():
    q = rt_queue.Queue()
    box = []
    t = start(lambda: box.append(outcome(q.get)))

    async def main():
        await asyncio.sleep(0.01)
        await q.aclose()

    asyncio.run(main())
    t.join(10)
    assert box == [(SYNC_SHUTDOWN, "")]


@pytest.mark.skipif(sys.version_info < (3, 13), reason="asyncio.Queue.shutdown is 3.13's")
def test_close_matches_asyncio_shutdown_immediate(cls_name):
    """close() is shutdown(immediate=True): compare with asyncio's queue so shut down."""

    async def scenario(q):
        for i in range(4):
            q.put_nowait(i)
        if isinstance(q, asyncio.Queue):
            q.shutdown(immediate=True)
        else:
            q.wrapped.close()
        return [state(q), outcome(q.get_nowait), outcome(q.put_nowait, 1), outcome(q.task_done)]

    assert_same(cls_name, 0, scenario)


def test_a_waiting_put_leaves_the_loop_running():
    """A task waiting on a full queue leaves its loop running other tasks."""

    async def main():
        q = rt_queue.Queue(1)
        q.put(0)
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        tick = asyncio.create_task(ticker())
        putter = asyncio.create_task(q.async_q.put(1))
        while ticks < 100:
            await asyncio.sleep(0)
        assert not putter.done()
        got = await asyncio.to_thread(q.get)
        await asyncio.wait_for(putter, 10)
        tick.cancel()
        return got, q.get_nowait()

    assert asyncio.run(main()) == (0, 1)


def test_close_semantics_match_janus():
    """Where janus is installed (requirements-bench.txt): the same close() scenario through
    janus.Queue and rthreading's queue, the same outcomes. From 3.13 both raise the stdlib's
    exception classes; before, janus has ShutDown classes of its own (its async one named
    QueueShutDown), so the classes compare by name there, the two shut-down names as one."""
    janus = pytest.importorskip("janus")

    def named(result):
        if result[0] == "ok" or HAS_ASYNCIO_SHUTDOWN:
            return result
        name = result[0].__name__
        return ("ShutDown" if name == "QueueShutDown" else name, result[1])

    async def scenario(q):
        log = [named(await aoutcome(q.wait_closed()))]
        q.sync_q.put(1)
        q.sync_q.put(2)
        log.append((q.closed, q.async_q.closed, q.sync_q.closed))
        log.append(named(outcome(q.close)))
        log.append((q.closed, q.async_q.closed, q.sync_q.closed, q.sync_q.qsize(), q.sync_q.unfinished_tasks))
        log.append(named(await aoutcome(q.wait_closed())))
        log.append(named(outcome(q.sync_q.put_nowait, 3)))
        log.append(named(outcome(q.async_q.get_nowait)))
        log.append(named(await aoutcome(q.async_q.put(3))))
        log.append(named(await aoutcome(q.async_q.get())))
        log.append(named(await aoutcome(q.aclose())))
        q.sync_q.join()
        await q.async_q.join()
        return log

    async def on_janus():
        return await scenario(janus.Queue())

    async def on_rthreading():
        return await scenario(rt_queue.Queue())

    assert asyncio.run(on_rthreading()) == asyncio.run(on_janus())
