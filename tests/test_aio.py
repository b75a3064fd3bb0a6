"""Awaitable waits (rthreading._aio): async_acquire / `async with`, Event.async_wait, the queues'
async_get / async_put / async_join. Where asyncio has a counterpart (asyncio.Lock, Semaphore,
Event, Queue) the same scenario runs on both and the outcomes must agree; the rest checks the
documented behaviour: thread <-> task hand-offs, several loops at once, timeouts raising the
blocking calls' exceptions, and cancellation that loses nothing (exact counts)."""

import asyncio
import queue as std_queue
import random
import signal
import sys
import threading
import time

import pytest

import rthreading
from _sigint import interrupted_state, needs_signals
from helpers import start, wait_until
from rthreading.queue import Empty, Full, LifoQueue, PriorityQueue, Queue, ShutDown, SimpleQueue

QUEUES = [Queue, LifoQueue, PriorityQueue]
has_shutdown = pytest.mark.skipif(not hasattr(Queue, "shutdown"), reason="Queue.shutdown is 3.13+")


def run(coro, timeout=20):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


# --- against asyncio's own primitives ----------------------------------------------------------


async def lock_scenario(lock):
    log = []

    async def worker(name):
        async with lock:
            log.append((name, "in", lock.locked()))
            await asyncio.sleep(0)
            log.append((name, "out"))

    await asyncio.gather(*(worker(i) for i in range(4)))
    log.append(("after", lock.locked()))
    return log


def test_async_with_lock_serializes_like_asyncio_lock():
    mine = run(lock_scenario(rthreading.Lock()))
    theirs = run(lock_scenario(asyncio.Lock()))
    # Which task enters first is the scheduler's; that each enters alone is the point.
    assert sorted(mine, key=repr) == sorted(theirs, key=repr)
    for i in range(0, 8, 2):
        assert mine[i][0] == mine[i + 1][0]


async def semaphore_scenario(sem):
    inside, peak = 0, 0

    async def worker():
        nonlocal inside, peak
        async with sem:
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.001)
            inside -= 1

    await asyncio.gather(*(worker() for _ in range(10)))
    return peak, inside


@pytest.mark.parametrize("kind", ["Semaphore", "BoundedSemaphore"])
def test_async_with_semaphore_bounds_like_asyncio(kind):
    assert run(semaphore_scenario(getattr(rthreading, kind)(3))) == run(semaphore_scenario(getattr(asyncio, kind)(3)))


async def event_scenario(ev):
    got = []

    async def waiter():
        got.append(await ev.wait() if isinstance(ev, asyncio.Event) else await ev.async_wait())

    tasks = [asyncio.create_task(waiter()) for _ in range(3)]
    await asyncio.sleep(0.01)
    before = list(got)
    ev.set()
    await asyncio.gather(*tasks)
    return before, got, ev.is_set()


def test_event_async_wait_like_asyncio_event():
    assert run(event_scenario(rthreading.Event())) == run(event_scenario(asyncio.Event()))


async def queue_scenario(q, put, get, maxsize):
    out = []
    for i in (3, 1, 2):
        await put(q, i)
    if maxsize:
        try:
            q.put_nowait(9)
        except Exception as e:  # noqa: BLE001 - compared by kind
            out.append(type(e).__name__)
    out += [await get(q) for _ in range(3)]
    try:
        q.get_nowait()
    except Exception as e:  # noqa: BLE001 - compared by kind
        out.append(type(e).__name__)
    for _ in range(3):
        q.task_done()
    await (q.join() if isinstance(q, asyncio.Queue) else q.async_join())
    out.append(q.qsize())
    return out


@pytest.mark.parametrize("maxsize", [0, 3])
@pytest.mark.parametrize("kind", QUEUES)
def test_queue_awaitables_like_asyncio_queue(kind, maxsize):
    async def aput(q, x):
        await q.put(x)

    async def aget(q):
        return await q.get()

    async def rput(q, x):
        await q.async_put(x)

    async def rget(q):
        return await q.async_get()

    theirs = run(queue_scenario(getattr(asyncio, kind.__name__)(maxsize), aput, aget, maxsize))
    mine = run(queue_scenario(kind(maxsize), rput, rget, maxsize))
    names = {"QueueFull": "Full", "QueueEmpty": "Empty"}
    assert mine == [names.get(x, x) if isinstance(x, str) else x for x in theirs]


# --- timeouts and errors: those of the blocking calls ------------------------------------------


def test_timeouts_raise_the_blocking_calls_exceptions():
    async def main():
        q = Queue(1)
        with pytest.raises(Empty):
            await q.async_get(timeout=0.01)
        with pytest.raises(Empty):
            await q.async_get(timeout=0)
        await q.async_put(1, timeout=0)
        with pytest.raises(Full):
            await q.async_put(2, timeout=0.01)
        with pytest.raises(Empty):
            await SimpleQueue().async_get(timeout=0.01)
        lock = rthreading.Lock()
        assert await lock.async_acquire(timeout=0) is True
        assert await lock.async_acquire(timeout=0.01) is False
        assert await rthreading.Semaphore(0).async_acquire(timeout=0.01) is False
        assert await rthreading.Event().async_wait(timeout=0.01) is False
        with pytest.raises(TypeError):
            await lock.async_acquire(timeout="soon")
        return True

    assert run(main())


def test_a_timed_out_get_is_empty_like_the_blocking_get():
    mine, theirs = Queue(), std_queue.Queue()
    with pytest.raises(std_queue.Empty) as e1:
        theirs.get(timeout=0.001)
    with pytest.raises(std_queue.Empty) as e2:
        run(mine.async_get(timeout=0.001))
    assert (type(e1.value), e1.value.args) == (type(e2.value), e2.value.args)


@has_shutdown
def test_shutdown_wakes_waiting_tasks_with_shutdown():
    async def main():
        q = Queue(1)
        getter = asyncio.create_task(Queue().async_get())
        q2 = Queue()
        getter = asyncio.create_task(q2.async_get())
        await q.async_put(1)
        putter = asyncio.create_task(q.async_put(2))
        await asyncio.sleep(0.01)
        threading.Thread(target=q2.shutdown).start()
        threading.Thread(target=q.shutdown).start()
        with pytest.raises(ShutDown):
            await getter
        with pytest.raises(ShutDown):
            await putter
        assert await q.async_get() == 1  # a shut-down queue still hands out what it holds
        with pytest.raises(ShutDown):
            await q.async_get()
        return True

    assert run(main())


# --- threads and tasks on the same objects -----------------------------------------------------

N = 2000


@pytest.mark.parametrize("kind", [Queue, SimpleQueue])
def test_thread_to_task(kind):
    async def main():
        q = kind()
        t = start(lambda: [q.put(i) for i in range(N)])
        got = [await q.async_get() for _ in range(N)]
        t.join()
        return got

    assert run(main()) == list(range(N))


def test_task_to_thread_through_a_bounded_queue():
    q = Queue(4)
    got = []
    t = start(lambda: got.extend(q.get() for _ in range(N)))

    async def main():
        for i in range(N):
            await q.async_put(i)

    run(main())
    t.join(10)
    assert got == list(range(N))


def test_tasks_on_two_loops_and_threads_share_one_queue():
    q = Queue(8)
    results = []

    def loop_thread(n):
        async def consume():
            return [await q.async_get() for _ in range(n)]

        results.append(run(consume()))

    consumers = [start(loop_thread, N) for _ in range(2)] + [start(lambda: results.append([q.get() for _ in range(N)]))]

    def loop_producer():
        async def produce():
            for i in range(N):
                await q.async_put(("task", i))

        run(produce())

    producers = [start(loop_producer), start(lambda: [q.put(("thread", i)) for i in range(2 * N)])]
    for t in producers + consumers:
        t.join(30)
    items = sorted(x for r in results for x in r)
    assert items == sorted([("task", i) for i in range(N)] + [("thread", i) for i in range(2 * N)])


def test_lock_shared_by_threads_and_tasks_on_two_loops():
    lock = rthreading.Lock()
    count = 0

    def bump():
        nonlocal count
        c = count
        count = c + 1

    def thread_worker():
        for _ in range(500):
            with lock:
                bump()

    def loop_worker():
        async def task():
            for _ in range(250):
                async with lock:
                    bump()
                    await asyncio.sleep(0)

        async def main():
            await asyncio.gather(task(), task())

        run(main())

    ts = [start(thread_worker), start(thread_worker), start(loop_worker), start(loop_worker)]
    for t in ts:
        t.join(30)
    assert count == 2000 and not lock.locked()


def test_event_set_from_a_thread_wakes_tasks_even_if_cleared_at_once():
    ev = rthreading.Event()

    async def main():
        waiters = [asyncio.create_task(ev.async_wait()) for _ in range(5)]
        await asyncio.sleep(0.01)

        def pulse():
            ev.set()
            ev.clear()

        start(pulse).join()
        return await asyncio.gather(*waiters)

    assert run(main()) == [True] * 5


def test_the_loop_keeps_running_while_a_task_waits():
    async def main():
        q = Queue(1)
        q.put_nowait(0)
        blocked = asyncio.create_task(q.async_put(1))
        ticks = 0
        for _ in range(20):
            await asyncio.sleep(0)
            ticks += 1
        assert not blocked.done()
        assert q.get_nowait() == 0
        await blocked
        return ticks

    assert run(main()) == 20


def test_join_waits_for_task_done_from_threads():
    q = Queue()
    for i in range(10):
        q.put(i)

    def worker():
        while True:
            try:
                q.get(timeout=0.5)
            except Empty:
                return
            q.task_done()

    async def main():
        ts = [start(worker) for _ in range(2)]
        await q.async_join()
        for t in ts:
            t.join(5)
        return q.unfinished_tasks

    assert run(main()) == 0


def test_compatibility_mode_queue_still_awaitable():
    class Custom(Queue):
        def _put(self, item):
            self.queue.append(item * 10)

    q = Custom()

    async def main():
        t = start(lambda: [q.put(i) for i in range(50)])
        got = [await q.async_get(timeout=5) for _ in range(50)]
        t.join()
        with pytest.raises(Empty):
            await q.async_get(timeout=0.01)
        return got

    assert run(main()) == [i * 10 for i in range(50)]


def test_a_closed_loop_does_not_wedge_the_queue():
    q = Queue()

    def abandoned_loop():
        loop = asyncio.new_event_loop()
        task = loop.create_task(q.async_get())
        loop.run_until_complete(asyncio.sleep(0.01))  # the task now waits on q
        loop.close()  # with the task still pending
        del task

    start(abandoned_loop).join(10)
    q.put(1)  # wakes the abandoned waker: must neither raise nor lose the item
    assert q.get(timeout=1) == 1


def test_a_simple_queue_put_from_within_a_tasks_waker_is_reentrant():
    # SimpleQueue.put is reentrant, as the stdlib's: here the put that wakes a waiting task runs
    # the task's loop's call_soon_threadsafe (with the queue's internal mutex held), and that
    # puts into the same queue (as a finaliser the garbage collector ran there, or a handler
    # logging to this queue, would). It must neither deadlock nor lose or reorder an item.
    q = SimpleQueue()

    class LoggingLoop(asyncio.SelectorEventLoop):
        def call_soon_threadsafe(self, *args, **kwargs):
            q.put("from the waker")
            return super().call_soon_threadsafe(*args, **kwargs)

    loop = LoggingLoop()
    got = []

    async def two_gets():
        got.append(await q.async_get())
        got.append(await q.async_get())

    consumer = start(lambda: loop.run_until_complete(two_gets()))
    try:
        wait_until(lambda: q._waiting() == 1)
        putter = start(q.put, "item")
        putter.join(10)
        assert not putter.is_alive(), "the put deadlocked on its own waker"
        consumer.join(10)
        assert got == ["item", "from the waker"]
        assert q.empty()
    finally:
        if not consumer.is_alive():
            loop.close()


# --- cancellation loses nothing ----------------------------------------------------------------


@pytest.mark.thread_unsafe(reason="a long stress; other tests cover the parallel case")
def test_cancelled_getters_swallow_no_item():
    total = 3000
    q = Queue()
    got = []

    async def getter():
        while True:
            got.append(await q.async_get())

    async def main():
        rng = random.Random(1)
        tasks = [asyncio.create_task(getter()) for _ in range(4)]
        producer = start(lambda: [q.put(i) for i in range(total)])
        while producer.is_alive() or not q.empty():
            await asyncio.sleep(rng.random() * 0.001)
            victim = rng.randrange(len(tasks))
            tasks[victim].cancel()
            tasks[victim] = asyncio.create_task(getter())
        producer.join()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    run(main(), timeout=60)
    leftover = []
    while not q.empty():
        leftover.append(q.get_nowait())
    assert sorted(got + leftover) == list(range(total))


@pytest.mark.thread_unsafe(reason="a long stress; other tests cover the parallel case")
def test_cancelled_acquirers_leak_no_permit_and_putters_put_once():
    sem = rthreading.BoundedSemaphore(2)
    lock = rthreading.Lock()
    q = Queue(2)
    put_ok = []

    async def holder():
        async with sem:
            await asyncio.sleep(0)
        async with lock:
            await asyncio.sleep(0)

    async def putter(i):
        await q.async_put(i)
        put_ok.append(i)

    async def main():
        rng = random.Random(2)
        for round_ in range(300):
            tasks = [asyncio.create_task(holder()) for _ in range(4)]
            tasks += [asyncio.create_task(putter((round_, k))) for k in range(3)]
            await asyncio.sleep(0)
            for t in rng.sample(tasks, 3):
                t.cancel()
            while not q.empty():
                q.get_nowait()
                await asyncio.sleep(0)
            await asyncio.gather(*tasks, return_exceptions=True)
            while not q.empty():
                q.get_nowait()

    run(main(), timeout=60)
    # Every permit came back (a third release would overflow the bound), the lock is free, and
    # every put that took effect was reported, none more: q.unfinished_tasks counts them.
    assert sem.acquire(False) and sem.acquire(False) and not sem.acquire(False)
    assert not lock.locked()
    assert q.unfinished_tasks == len(put_ok)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is 3.11+")
def test_asyncio_timeout_around_async_get_takes_nothing():
    q = Queue()

    async def main():
        for _ in range(50):
            try:
                async with asyncio.timeout(0.0005):
                    await q.async_get()
            except TimeoutError:
                pass
        q.put_nowait("x")
        return await q.async_get(timeout=1)

    assert run(main()) == "x"
    assert q.empty()


# --- Barrier -----------------------------------------------------------------------------------


async def barrier_scenario(b):
    wait = b.wait if isinstance(b, asyncio.Barrier) else b.async_wait
    indices = await asyncio.gather(*(wait() for _ in range(3)))
    again = await asyncio.gather(*(wait() for _ in range(3)))
    return sorted(indices), sorted(again), b.n_waiting, b.broken


def test_barrier_async_wait_like_asyncio_barrier():
    assert run(barrier_scenario(rthreading.Barrier(3))) == run(barrier_scenario(asyncio.Barrier(3)))


def test_barrier_threads_and_tasks_are_parties_together():
    actions = []
    b = rthreading.Barrier(3, action=lambda: actions.append(1))

    def thread_party():
        for _ in range(100):
            b.wait()

    async def task_party():
        for _ in range(100):
            await b.async_wait()

    threads = [start(thread_party), start(thread_party)]
    run(task_party())
    for t in threads:
        t.join(10)
    assert len(actions) == 100 and not b.broken


def test_barrier_timeout_breaks_it_and_cancellation_does_not():
    async def main():
        b = rthreading.Barrier(2)
        with pytest.raises(threading.BrokenBarrierError):
            await b.async_wait(timeout=0.01)
        assert b.broken
        b.reset()
        task = asyncio.create_task(b.async_wait())
        await asyncio.sleep(0.01)
        assert b.n_waiting == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (b.n_waiting, b.broken) == (0, False)
        default = rthreading.Barrier(2, timeout=0.01)
        with pytest.raises(threading.BrokenBarrierError):
            await default.async_wait()
        return True

    assert run(main())


def test_barrier_abort_from_a_thread_breaks_waiting_tasks():
    b = rthreading.Barrier(3)

    async def main():
        tasks = [asyncio.create_task(b.async_wait()) for _ in range(2)]
        await asyncio.sleep(0.01)
        start(b.abort).join()
        return await asyncio.gather(*tasks, return_exceptions=True)

    assert [type(r) for r in run(main())] == [threading.BrokenBarrierError] * 2


# --- one waiter woken per item or release, in the order they came ------------------------------


async def getters_order_scenario(q, get):
    order = []

    async def getter(name):
        order.append((name, await get(q)))

    tasks = []
    for name in range(5):
        tasks.append(asyncio.create_task(getter(name)))
        await asyncio.sleep(0)  # each starts waiting before the next
    for item in "abcde":
        q.put_nowait(item)
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    return order


def test_waiting_tasks_get_items_in_the_order_they_came_like_asyncio():
    mine = run(getters_order_scenario(Queue(), lambda q: q.async_get()))
    theirs = run(getters_order_scenario(asyncio.Queue(), lambda q: q.get()))
    assert mine == theirs == [(0, "a"), (1, "b"), (2, "c"), (3, "d"), (4, "e")]


async def lock_order_scenario(lock):
    order = []

    async def taker(name):
        async with lock:
            order.append(name)

    await (lock.acquire() if isinstance(lock, asyncio.Lock) else lock.async_acquire())
    tasks = []
    for name in range(5):
        tasks.append(asyncio.create_task(taker(name)))
        await asyncio.sleep(0)
    lock.release()
    await asyncio.gather(*tasks)
    return order


def test_tasks_acquire_a_lock_in_the_order_they_came_like_asyncio():
    assert run(lock_order_scenario(rthreading.Lock())) == run(lock_order_scenario(asyncio.Lock()))


# --- one line for threads and tasks ------------------------------------------------------------


def served_order(kinds, wait_thread, wait_task, waiting, release_one, main_first=None):
    """Starts one waiter per entry of `kinds` ("thread": a thread calling `wait_thread()`, "task":
    a task awaiting `wait_task()` on an event loop in another thread), each in line (`waiting()`
    counts them) before the next starts; then releases one at a time (`release_one()`) and
    returns the order in which the waiters were served.

    With `main_first` (a wait), the calling thread, the main one, waits with it first in line
    (served as 0; the others count from 1) while the others line up behind it, and for 0.1 s
    more, several of the 20 ms slices in which it waits to run signal handlers."""
    served = []
    done = threading.Semaphore(0)
    loop = asyncio.new_event_loop()
    runner = start(loop.run_forever)
    pending = []
    errors = []
    first = 0 if main_first is None else 1

    def record(i):
        served.append(i)
        done.release()

    def line_up_and_release():
        try:
            wait_until(lambda: waiting() == first)
            for i, kind in enumerate(kinds, first):
                if kind == "thread":
                    pending.append(start(lambda i=i: (wait_thread(), record(i))))
                else:

                    async def task(i=i):
                        await wait_task()
                        record(i)

                    pending.append(asyncio.run_coroutine_threadsafe(task(), loop))
                wait_until(lambda i=i: waiting() == i + 1)
            if main_first is not None:
                time.sleep(0.1)
            for _ in range(first + len(kinds)):
                release_one()
                assert done.acquire(timeout=10)
        except BaseException as e:
            errors.append(e)
            raise

    try:
        if main_first is None:
            line_up_and_release()
        else:
            assert threading.current_thread() is threading.main_thread()
            helper = start(line_up_and_release)
            main_first()
            record(0)
            helper.join(30)
            assert not helper.is_alive() and not errors, errors
        for p in pending:
            p.join(10) if isinstance(p, threading.Thread) else p.result(10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join(10)
        loop.close()
    return served


MIXED = ["thread", "task", "thread", "task", "task", "thread"]


@pytest.mark.parametrize("kinds", [MIXED, ["thread"] * 4], ids=["mixed", "threads"])
def test_getters_served_in_arrival_order_threads_and_tasks(kinds):
    q = Queue()
    mine = served_order(kinds, q.get, q.async_get, lambda: q._waiting(0), lambda: q.put(1))
    assert mine == list(range(len(kinds)))
    if "task" not in kinds:  # the stdlib's Queue serves its waiting threads in order too
        std = std_queue.Queue()
        theirs = served_order(kinds, std.get, None, lambda: len(std.not_empty._waiters), lambda: std.put(1))
        assert mine == theirs


def test_putters_served_in_arrival_order_threads_and_tasks():
    q = Queue(1)
    q.put(0)
    mine = served_order(MIXED, lambda: q.put(1), lambda: q.async_put(1), lambda: q._waiting(1), q.get)
    assert mine == list(range(len(MIXED)))


def test_simple_queue_getters_served_in_arrival_order_threads_and_tasks():
    q = SimpleQueue()
    mine = served_order(MIXED, q.get, q.async_get, q._waiting, lambda: q.put(1))
    assert mine == list(range(len(MIXED)))


@pytest.mark.parametrize("kind", ["lock", "semaphore", "queue"])
def test_a_task_whose_turn_came_to_nothing_keeps_its_place(kind):
    # A's turn comes, but a caller that did not wait (here: in the same loop, before A runs)
    # takes what it was woken for; A then waits again at the head of the line, before B.
    if kind == "queue":
        q = Queue()
        wait, give = q.async_get, lambda: q.put(1)
        barge = q.get_nowait
    else:
        obj = rthreading.Lock() if kind == "lock" else rthreading.Semaphore(0)
        if kind == "lock":
            obj.acquire()
        wait, give = obj.async_acquire, obj.release
        barge = lambda: obj.acquire(False)  # noqa: E731

    async def main():
        order = []

        async def waiter(name):
            await wait()
            order.append(name)

        a = asyncio.create_task(waiter("A"))
        await asyncio.sleep(0)
        b = asyncio.create_task(waiter("B"))
        await asyncio.sleep(0)
        give()  # A's turn ...
        assert barge()  # ... taken before A runs
        await asyncio.sleep(0.01)
        assert order == []
        for _ in range(2):
            give()
            await asyncio.sleep(0.01)
        await asyncio.gather(a, b)
        return order

    assert run(main()) == ["A", "B"]


def test_a_timed_out_thread_leaves_the_line_to_the_next():
    q = Queue()
    got = []
    timed_out = start(lambda: got.append(std_queue.Empty if _empty(q, 0.3) else "item"))
    wait_until(lambda: q._waiting(0) == 1)
    waiter = start(lambda: got.append(q.get(timeout=10)))
    timed_out.join(10)
    wait_until(lambda: q._waiting(0) == 1)
    q.put("x")
    waiter.join(10)
    assert got == [std_queue.Empty, "x"]


def _empty(q, timeout):
    try:
        q.get(timeout=timeout)
    except Empty:
        return True
    return False


@pytest.mark.parametrize("kind", ["Lock", "Semaphore", "BoundedSemaphore"])
def test_acquirers_served_in_arrival_order_threads_and_tasks(kind):
    # One line for both kinds of waiter on a Lock / Semaphore (a Lock may be released by any
    # thread, so the test releases each unit itself).
    obj = rthreading.Lock() if kind == "Lock" else getattr(rthreading, kind)(1)
    assert obj.acquire(timeout=10)

    def acquire():
        assert obj.acquire(timeout=30)

    async def async_acquire():
        assert await obj.async_acquire(timeout=30)

    mine = served_order(MIXED, acquire, async_acquire, obj._waiting, obj.release)
    assert mine == list(range(len(MIXED)))
    assert obj._waiting() == 0


# --- the main thread keeps its place in line ----------------------------------------------------
# A wait on the main thread wakes every 20 ms to run signal handlers (Ctrl-C); it keeps its place
# in line over those slices, and leaves the line cleanly when a handler's exception ends it.

LINES = ["Queue.get", "Queue.put", "SimpleQueue.get", "Lock", "Semaphore", "BoundedSemaphore"]


def lined_up(kind, stdlib=False):
    """(wait, async_wait, waiting, give) on a fresh object for a line of `kind` (the stdlib's
    Queue with `stdlib`): `wait()` waits in line (a thread), `async_wait()` too (a task),
    `waiting()` counts the line, `give()` lets the first in line through."""
    if kind.startswith("Queue."):
        q = (std_queue.Queue if stdlib else Queue)(1 if kind == "Queue.put" else 0)
        if stdlib:
            cond = q.not_full if kind == "Queue.put" else q.not_empty
            waiting = lambda: len(cond._waiters)  # noqa: E731
        else:  # (not_full and not_empty would put rthreading's Queue in compatibility mode)
            waiting = lambda: q._waiting(1 if kind == "Queue.put" else 0)  # noqa: E731
        if kind == "Queue.get":
            return lambda: q.get(timeout=30), lambda: q.async_get(timeout=30), waiting, lambda: q.put(1)
        q.put(0)
        return lambda: q.put(1, timeout=30), lambda: q.async_put(1, timeout=30), waiting, q.get
    if kind == "SimpleQueue.get":
        q = SimpleQueue()
        return lambda: q.get(timeout=30), lambda: q.async_get(timeout=30), q._waiting, lambda: q.put(1)
    obj = rthreading.Lock() if kind == "Lock" else getattr(rthreading, kind)(1)
    assert obj.acquire(timeout=10)
    return lambda: obj.acquire(timeout=30), lambda: obj.async_acquire(timeout=30), obj._waiting, obj.release


def main_thread_only():
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("the waiter under test is the main thread's")


@pytest.mark.thread_unsafe(reason="the waiter under test is the main thread's")
@pytest.mark.parametrize("kind", LINES)
def test_a_main_thread_waiter_keeps_its_place_over_its_slices(kind):
    main_thread_only()
    wait, async_wait, waiting, give = lined_up(kind)
    mine = served_order(MIXED, wait, async_wait, waiting, give, main_first=wait)
    assert mine == list(range(len(MIXED) + 1))
    assert waiting() == 0
    if kind.startswith("Queue."):  # the stdlib's Queue serves its waiting threads in order too
        wait, _, waiting, give = lined_up(kind, stdlib=True)
        theirs = served_order(["thread"] * 3, wait, None, waiting, give, main_first=wait)
        assert theirs == mine[:4]


@pytest.mark.thread_unsafe(reason="the waiter under test is the main thread's")
def test_a_main_thread_waiting_for_an_rlock_keeps_its_place_over_its_slices():
    # An RLock (thread-only) waits in its inner lock's line. Each waiter records its turn while
    # it holds the RLock, so the record is the order in which they acquired it.
    main_thread_only()
    rlock = rthreading.RLock()
    served = []
    held, go = threading.Event(), threading.Event()

    def holder():
        with rlock:
            held.set()
            go.wait(30)

    def waiter(i):
        if rlock.acquire(timeout=30):
            served.append(i)
            rlock.release()

    def line_up_behind_main():
        wait_until(lambda: rlock._waiting() == 1)
        for i in (1, 2):
            behind.append(start(waiter, i))
            wait_until(lambda i=i: rlock._waiting() == i + 1)
        time.sleep(0.1)  # several of the main thread's 20 ms slices
        go.set()

    behind = []
    start(holder)
    assert held.wait(10)
    helper = start(line_up_behind_main)
    waiter(0)
    helper.join(10)
    for t in behind:
        t.join(10)
    assert served == [0, 1, 2]
    assert rlock._waiting() == 0


@needs_signals
@pytest.mark.thread_unsafe(reason="the waiter under test is the main thread's")
@pytest.mark.parametrize("woken", [False, True], ids=["interrupted", "woken-then-interrupted"])
@pytest.mark.parametrize("kind", LINES)
def test_a_main_thread_wait_ended_by_a_signal_handler_leaves_the_line_clean(kind, woken):
    # The main thread waits first in line, a thread behind it; a signal handler's exception ends
    # the main thread's wait (after giving it its turn, when `woken`): the line is left as it
    # would be without the main thread, and a turn it was given goes to the thread behind it.
    main_thread_only()
    wait, _, waiting, give = lined_up(kind)

    class Interrupted(Exception):
        pass

    def handler(signum, frame):
        if woken:
            give()  # the main thread is first in line: its turn
        raise Interrupted

    behind = []

    def line_up_then_signal():
        wait_until(lambda: waiting() == 1)
        behind.append(start(wait))
        wait_until(lambda: waiting() == 2)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1)

    old = signal.signal(signal.SIGUSR1, handler)
    try:
        helper = start(line_up_then_signal)
        with pytest.raises(Interrupted):
            wait()
        helper.join(10)
    finally:
        signal.signal(signal.SIGUSR1, old)
    (thread,) = behind
    if not woken:
        assert waiting() == 1  # the thread behind, alone
        give()
    thread.join(10)
    assert not thread.is_alive() and waiting() == 0


def test_a_task_beaten_to_a_unit_does_not_pass_the_wake_up_around():
    # A release wakes task A, and a caller that did not wait takes the unit before A runs: A's
    # try fails and A waits again, keeping the wake-up to itself (the unit is gone). Passed on,
    # the wake-up would circle between the waiting tasks until the next release.
    class Counted(rthreading.Semaphore):
        passes = 0

        def _pass_on(self):
            self.passes += 1
            super()._pass_on()

    sem = Counted(0)

    async def main():
        tasks = [asyncio.create_task(sem.async_acquire()) for _ in range(2)]
        while sem._waiting() < 2:
            await asyncio.sleep(0)
        sem.release()
        assert sem.acquire(False)  # before the woken task runs
        for _ in range(20):
            await asyncio.sleep(0)
        assert sem.passes == 0 and sem._waiting() == 2 and not any(t.done() for t in tasks)
        sem.release(2)
        assert await asyncio.gather(*tasks) == [True, True]

    run(main())


def test_many_waiting_tasks_each_item_delivered_once():
    q = Queue()
    n_tasks, n_items = 50, 2000
    got = []

    async def consumer():
        while (x := await q.async_get()) is not None:
            got.append(x)

    async def main():
        tasks = [asyncio.create_task(consumer()) for _ in range(n_tasks)]
        await asyncio.sleep(0.01)
        producer = start(lambda: [q.put(i) for i in [*range(n_items), *[None] * n_tasks]])
        await asyncio.gather(*tasks)
        producer.join(10)

    run(main(), timeout=60)
    assert sorted(got) == list(range(n_items))


def test_a_closed_loops_waiter_passes_the_item_to_the_next():
    q = Queue()
    registered = threading.Event()

    def abandoned_loop():
        loop = asyncio.new_event_loop()
        loop.create_task(q.async_get())
        loop.run_until_complete(asyncio.sleep(0.01))  # the task now waits on q, first in line
        loop.close()
        registered.set()

    async def live():
        start(abandoned_loop)
        await asyncio.to_thread(registered.wait, 10)
        task = asyncio.create_task(q.async_get())
        await asyncio.sleep(0.01)
        start(q.put, "item")
        return await task

    assert run(live(), timeout=10) == "item"


# --- Ctrl-C: as in any asyncio program ---------------------------------------------------------


@needs_signals
@pytest.mark.parametrize(
    "setup, call",
    [
        ("import asyncio\nq = asyncio.Queue()", "asyncio.run(q.get())"),
        ("import asyncio, rthreading.queue as rq\nq = rq.Queue()", "asyncio.run(q.async_get())"),
    ],
    ids=["asyncio.Queue", "rthreading.queue.Queue"],
)
def test_ctrl_c_interrupts_an_awaiting_program_like_asyncio(setup, call):
    # The interrupted wait took nothing and left the queue usable.
    got = interrupted_state(setup, call, "(q.qsize(), q.put_nowait(1), q.get_nowait(), q.empty())")
    assert got == "(0, None, 1, True)"


@needs_signals
def test_ctrl_c_while_tasks_wait_on_a_lock_leaves_it_usable():
    got = interrupted_state(
        "import asyncio\nlock = rthreading.Lock()\nlock.acquire()",
        "asyncio.run(lock.async_acquire())",
        "(lock.locked(), lock.release(), lock.acquire(False))",
    )
    assert got == "(True, None, True)"
