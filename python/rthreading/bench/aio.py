"""Scenarios: threads and asyncio tasks handing items to each other through one queue (the
`async` group). One producer puts n items, one consumer takes them, in four layouts:

* thread -> task: a plain thread puts, a task on an event loop in another thread awaits;
* task -> thread: a task puts, a plain thread takes with a blocking get();
* task -> task on one loop: a producer and a consumer task on the same loop;
* task -> task between two loops: each task on its own loop, each loop in its own thread.

The implementations, one column each: rthreading (one `rthreading.queue.Queue`: threads call
put()/get(), tasks await async_put()/async_get()); the peers janus (`sync_q`/`async_q`),
culsans (`sync_put`/`async_get`, ...) and aiologic (`green_put`/`async_get`, ...), each where
it is installed; and in the stdlib column what a program writes without them: an
`asyncio.Queue` fed through `loop.call_soon_threadsafe` when the consumer is a task on another
thread, a `queue.Queue` fed with put_nowait() when a task produces for a thread (the queues are
unbounded, so put_nowait never blocks the loop), and a plain `asyncio.Queue` on one loop.

The four rows with targets use unbounded queues: the producer is never held back, so a row
measures what an item costs through each implementation's put and get (and the wake-ups of a
consumer that caught up), not a ping-pong. The same four through a Queue(100) follow (no
targets): a producer that runs ahead waits for room there, so the waits of put count too, and
the stdlib's bridge needs a round trip to the other side for such a put
(`run_coroutine_threadsafe(...).result()` from a thread, `await to_thread(q.put, x)` from a
task when put_nowait() finds the queue full). A sample makes fresh event loops (one per loop in the layout) and a
fresh queue, runs each loop in its own thread (released together by a barrier, as every
threaded scenario: see _harness.run_threads), and checks the consumer's sum, so a side that
loses or repeats an item is left out of the row (a peer) or makes it n/a (rthreading)."""

from __future__ import annotations

import asyncio
import gc
import importlib
import queue as std_queue
import sys
import sysconfig
from dataclasses import dataclass

import rthreading.queue as rt_queue

from ._harness import Failed, Scenario, Side, run_threads

GROUP = "async"
PEERS = ("janus", "culsans", "aiologic")


def peers():
    """({label: module} of the peers that import, {label: why it is left out} of the others)."""
    found, missing = {}, {}
    for name in PEERS:
        try:
            found[name] = importlib.import_module(name)
        except ImportError as exc:
            missing[name] = f"not installed ({exc}): pip install {name}"
            continue
        if sysconfig.get_config_var("Py_GIL_DISABLED") and sys._is_gil_enabled():
            del found[name]
            missing[name] = "importing it re-enabled the GIL"
    return found, missing


def versions(found):
    """{label: version} of the peers found (as pip installed them)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in found:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "?"
    return out


# --- the layouts: where the producer and the consumer run ----------------------------------


@dataclass(frozen=True)
class Layout:
    name: str
    producer: int | None  # the index of the producer's event loop, None: a plain thread
    consumer: int | None
    loops: int
    target: float | None = None  # stdlib / rthreading
    peer_targets: dict | None = None  # peer -> peer / rthreading
    note: str = ""
    maxsize: int = 0


# The targets of issue 17 (on the free-threaded build): 5x janus and 2x culsans where threads
# and tasks meet, and a task->task hand-off on one loop at least as fast as asyncio.Queue.
CROSS = {"janus": 5.0, "culsans": 2.0}
THREAD_TO_TASK = Layout(
    "thread -> task, per item (stdlib: asyncio.Queue + call_soon_threadsafe)", None, 0, 1, peer_targets=CROSS
)
TASK_TO_THREAD = Layout(
    "task -> thread, per item (stdlib: queue.Queue, put_nowait() in the task)", 0, None, 1, peer_targets=CROSS
)
ONE_LOOP = Layout("task -> task on one loop, per item (stdlib: asyncio.Queue)", 0, 0, 1, target=1.0)
TWO_LOOPS = Layout(
    "task -> task between two loops in two threads, per item (stdlib: asyncio.Queue + call_soon_threadsafe)",
    0,
    1,
    2,
    note="janus is left out: a janus.Queue binds its async side to one event loop.",
)
# The same through a bounded queue (no targets): a producer that runs ahead waits for room, so
# the waits of put (a task's async_put, a thread's put) are measured too. The stdlib's bridges
# then need a round trip to the other side for a put that has to wait.
BOUND = 100
BOUNDED = (
    Layout(
        f"thread -> task, Queue({BOUND}), per item (stdlib: asyncio.Queue({BOUND}),"
        " run_coroutine_threadsafe(q.put(x), loop).result())",
        None,
        0,
        1,
        maxsize=BOUND,
    ),
    Layout(
        f"task -> thread, Queue({BOUND}), per item (stdlib: queue.Queue({BOUND}), put_nowait(),"
        " when full await to_thread(q.put, x))",
        0,
        None,
        1,
        maxsize=BOUND,
    ),
    Layout(
        f"task -> task on one loop, Queue({BOUND}), per item (stdlib: asyncio.Queue({BOUND}))", 0, 0, 1, maxsize=BOUND
    ),
    Layout(
        f"task -> task between two loops in two threads, Queue({BOUND}), per item (stdlib: asyncio.Queue({BOUND}),"
        " await wrap_future(run_coroutine_threadsafe(q.put(x), loop)))",
        0,
        1,
        2,
        note=TWO_LOOPS.note,
        maxsize=BOUND,
    ),
)
LAYOUTS = (THREAD_TO_TASK, TASK_TO_THREAD, ONE_LOOP, TWO_LOOPS, *BOUNDED)


# --- the implementations: (put, get) for the producer and the consumer ----------------------
# Each returns put(item) and get() for its side of the layout, given the queue it made and the
# consumer's event loop (None for a thread); `awaited` says whether a task awaits put(item).


class Endpoints:
    """A queue and its four entries: threads put/get, tasks put/get (awaited)."""

    put_awaited = True

    def __init__(self, layout, consumer_loop):
        self.layout, self.consumer_loop = layout, consumer_loop

    def thread_put(self):
        raise NotImplementedError

    def thread_get(self):
        raise NotImplementedError

    def task_put(self):
        raise NotImplementedError

    def task_get(self):
        raise NotImplementedError


class Rthreading(Endpoints):
    def __init__(self, layout, consumer_loop):
        super().__init__(layout, consumer_loop)
        if not hasattr(rt_queue.Queue, "async_get"):
            raise Failed("this rthreading has no async API (Queue.async_get): issue 17")
        self.q = rt_queue.Queue(layout.maxsize)

    def thread_put(self):
        return self.q.put

    def thread_get(self):
        return self.q.get

    def task_put(self):
        return self.q.async_put

    def task_get(self):
        return self.q.async_get


class Stdlib(Endpoints):
    """What a program writes with the stdlib alone (see the module's docstring)."""

    def __init__(self, layout, consumer_loop):
        super().__init__(layout, consumer_loop)
        # A task consumer takes from an asyncio.Queue, a thread consumer from a queue.Queue.
        bound = layout.maxsize
        self.q = std_queue.Queue(bound) if layout.consumer is None else asyncio.Queue(bound)
        # The producer awaits put() when it is a task on the consumer's own loop, or when it
        # may have to wait for room in a bounded queue.
        self.put_awaited = layout.producer is not None and (layout.producer == layout.consumer or bound > 0)

    def thread_put(self):
        loop, q = self.consumer_loop, self.q
        if self.layout.maxsize:  # wait for room: a round trip to the consumer's loop
            run = asyncio.run_coroutine_threadsafe
            return lambda item: run(q.put(item), loop).result()
        call, put = loop.call_soon_threadsafe, q.put_nowait
        return lambda item: call(put, item)

    def thread_get(self):
        return self.q.get

    def task_put(self):
        lay, q = self.layout, self.q
        if lay.producer == lay.consumer:
            return q.put
        if lay.consumer is None:  # to a thread: a queue.Queue
            if not lay.maxsize:
                return q.put_nowait  # unbounded: never blocks the loop
            to_thread, full, put_nowait, put = asyncio.to_thread, std_queue.Full, q.put_nowait, q.put

            async def put_or_wait(item):
                try:
                    put_nowait(item)
                except full:  # wait for room in a worker thread, not on the loop
                    await to_thread(put, item)

            return put_or_wait
        # To a task on another loop.
        if not lay.maxsize:
            return self.thread_put()
        run, wrap, loop = asyncio.run_coroutine_threadsafe, asyncio.wrap_future, self.consumer_loop

        async def put_there(item):
            await wrap(run(q.put(item), loop))

        return put_there

    def task_get(self):
        return self.q.get


class Janus(Endpoints):
    def __init__(self, layout, consumer_loop, mod):
        super().__init__(layout, consumer_loop)
        if layout.loops > 1:
            raise Failed("a janus.Queue binds its async side to one event loop")
        self.q = mod.Queue(layout.maxsize)

    def thread_put(self):
        return self.q.sync_q.put

    def thread_get(self):
        return self.q.sync_q.get

    def task_put(self):
        return self.q.async_q.put

    def task_get(self):
        return self.q.async_q.get


class MixedQueue(Endpoints):
    """culsans and aiologic: one queue with async_put/async_get for tasks and a prefix's
    put/get for threads (culsans: sync_, aiologic: green_)."""

    def __init__(self, layout, consumer_loop, mod, prefix):
        super().__init__(layout, consumer_loop)
        # Unbounded by default (aiologic takes None, not 0, for no bound).
        self.q = mod.Queue(layout.maxsize) if layout.maxsize else mod.Queue()
        self.prefix = prefix

    def thread_put(self):
        return getattr(self.q, f"{self.prefix}_put")

    def thread_get(self):
        return getattr(self.q, f"{self.prefix}_get")

    def task_put(self):
        return self.q.async_put

    def task_get(self):
        return self.q.async_get


def implementations():
    """label -> make(layout, consumer_loop) -> Endpoints, or None for a peer that is missing."""
    found, _ = peers()
    out = {"stdlib": Stdlib, "rthreading": Rthreading}
    out["janus"] = (lambda l, loop, m=found["janus"]: Janus(l, loop, m)) if "janus" in found else None
    for name, prefix in (("culsans", "sync"), ("aiologic", "green")):
        out[name] = (lambda l, loop, m=found[name], p=prefix: MixedQueue(l, loop, m, p)) if name in found else None
    return out


# --- the producer's and the consumer's loops -----------------------------------------------


def expect(total, n):
    if total != n * (n - 1) // 2:
        raise RuntimeError(f"the consumer's items add up to {total}, not {n * (n - 1) // 2}: lost or repeated")


def thread_producer(put):
    def loop(n):
        for i in range(n):
            put(i)

    return loop


def thread_consumer(get):
    def loop(n):
        total = 0
        for _ in range(n):
            total += get()
        expect(total, n)

    return loop


def task_producer(put, awaited):
    if awaited:

        async def produce(n):
            for i in range(n):
                await put(i)

    else:

        async def produce(n):
            for i in range(n):
                put(i)

    return produce


def task_consumer(get):
    async def consume(n):
        total = 0
        for _ in range(n):
            total += await get()
        expect(total, n)

    return consume


def run_loop(loop, coros):
    """loop(n) for run_threads: run the coroutine functions together on `loop`, in this thread."""

    async def main(n):
        await asyncio.gather(*(c(n) for c in coros))

    return lambda n: loop.run_until_complete(main(n))


def close_loop(loop):
    """After a sample (untimed): let callbacks and tasks still scheduled (a peer's notifiers)
    finish, cancel what is left, close the loop. A loop still running (its thread hung) is
    left alone: the scenario is failing already."""
    if loop.is_running() or loop.is_closed():
        return

    async def drain():
        await asyncio.sleep(0)
        me = asyncio.current_task()
        rest = [t for t in asyncio.all_tasks() if t is not me]
        if rest:
            _, pending = await asyncio.wait(rest, timeout=1.0)
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    try:
        loop.run_until_complete(drain())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())  # to_thread's workers
    finally:
        loop.close()


class AsyncSide(Side):
    """One implementation in one layout: each sample makes the event loops and the queue anew,
    runs the producer and the consumer (the loops each in a thread), gc off while it runs."""

    min_n = 400  # as ThreadedSide's 200 per thread: below that, the scheduler is measured

    def __init__(self, layout, make):
        self.layout, self.make = layout, make
        make(layout, None)  # raises Failed here if this side cannot run the layout at all

    def sample(self, n):
        lay = self.layout
        loops = [asyncio.new_event_loop() for _ in range(lay.loops)]
        try:
            ends = self.make(lay, None if lay.consumer is None else loops[lay.consumer])
            threads, coros = [], {i: [] for i in range(lay.loops)}
            if lay.producer is None:
                threads.append(thread_producer(ends.thread_put()))
            else:
                coros[lay.producer].append(task_producer(ends.task_put(), ends.put_awaited))
            if lay.consumer is None:
                threads.append(thread_consumer(ends.thread_get()))
            else:
                coros[lay.consumer].append(task_consumer(ends.task_get()))
            threads += [run_loop(loops[i], c) for i, c in coros.items()]
            enabled = gc.isenabled()
            gc.disable()
            try:
                return run_threads(threads, n)
            finally:
                if enabled:
                    gc.enable()
        finally:
            for loop in loops:
                close_loop(loop)


def scenarios():
    makes = implementations()
    return [
        Scenario(
            lay.name,
            GROUP,
            {
                label: (None if make is None else (lambda lay=lay, make=make: AsyncSide(lay, make)))
                for label, make in makes.items()
                if not (label == "janus" and lay.loops > 1)  # see TWO_LOOPS's note
            },
            target=lay.target,
            peer_targets=lay.peer_targets,
            unit="items/s",
            length=3.0,
            note=lay.note,
            own_counts=True,
        )
        for lay in LAYOUTS
    ]
