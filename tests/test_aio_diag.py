"""Diagnostics see asyncio tasks (rthreading only: the stdlib has no diagnostics): dump() names a
waiting task and its loop's thread, find_deadlocks() finds cycles through tasks (two tasks on
one loop, tasks on two loops, a task and a thread), strict mode refuses a task's wait that
would close one, and contention statistics count a task's wait as a thread's.

Each deadlock here is broken by cancelling a task (its `async with` then releases what it
holds), so no task or thread is left waiting; every wait is bounded by the suite's timeout."""

import asyncio
import io
import threading
import time

import pytest

import rthreading
from helpers import run_python, start, wait_until
from rthreading.queue import Queue


def run(coro, timeout=20):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


async def until(pred, timeout=10.0):
    """Let the loop run until pred() is true; fail if it is not within `timeout` seconds."""
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, "condition never became true"
        await asyncio.sleep(0.001)


def _waiting(task):
    """Whether `task` is registered as waiting (in the wait-for graph)."""
    return any(w[6] is task for w in rthreading._core._waits())


def _cycles_of(*waiters):
    """The deadlocks that involve one of `waiters` (tasks or threads)."""
    tasks = {id(w) for w in waiters if isinstance(w, asyncio.Task)}
    idents = {w.ident for w in waiters if isinstance(w, threading.Thread)}
    return [
        d
        for d in rthreading.find_deadlocks()
        if any(t is not None and id(t) in tasks for t in d.tasks)
        or any(t is None and th in idents for t, th in zip(d.tasks, d.threads))
    ]


def _task_label(task, thread):
    return f"task {task.get_name()!r} (loop in thread {thread.name!r} ({thread.ident}))"


heap_scan = pytest.mark.thread_unsafe(reason="held_locks()/dump() scan the whole heap")


def _dump():
    out = io.StringIO()
    rthreading.dump(out, stacks=True)
    return out.getvalue()


@heap_scan
def test_dump_names_a_waiting_task_its_loop_thread_and_the_object():
    async def scenario():
        me = threading.current_thread()
        q = Queue()
        ev = rthreading.Event()
        getter = asyncio.create_task(q.async_get(), name="getter")
        waiter = asyncio.create_task(ev.async_wait(timeout=30), name="waiter")
        await until(lambda: _waiting(getter) and _waiting(waiter))
        [row] = [w for w in rthreading._core._waits() if w[6] is getter]
        assert row[0] == rthreading._core._TASK_BIT | id(getter)
        assert row[1] is q and row[2] == "rthreading.queue.Queue" and row[7] == me.ident
        text = _dump()
        assert f"    {_task_label(getter, me)} waits on <rthreading.queue.Queue at {id(q):#x}> (" in text
        assert f"    {_task_label(waiter, me)} waits on <rthreading.Event at {id(ev):#x}> (with a timeout, " in text
        assert f"Stack of {_task_label(getter, me)} (most recent call last):" in text
        q.put(1)
        ev.set()
        assert await getter == 1
        assert await waiter is True
        assert not _waiting(getter) and not _waiting(waiter)

    run(scenario())


@heap_scan
def test_dump_names_the_task_holding_a_lock_and_the_one_waiting_for_it():
    async def scenario():
        me = threading.current_thread()
        lock = rthreading.Lock()
        release = asyncio.Event()

        async def hold():
            async with lock:
                assert lock in rthreading.held_locks()
                await release.wait()

        holder = asyncio.create_task(hold(), name="holder")
        await until(lock.locked)
        assert f"owner=<task at {id(holder):#x}>" in repr(lock)
        assert lock not in rthreading.held_locks()  # held by the task, not by this one
        acquirer = asyncio.create_task(lock.async_acquire(), name="acquirer")
        await until(lambda: _waiting(acquirer))
        text = _dump()
        lines = text.splitlines()
        i = lines.index(repr(lock))
        assert lines[i + 1] == f"    held by {_task_label(holder, me)}"
        assert lines[i + 2].startswith(f"    waited for by {_task_label(acquirer, me)} (")
        release.set()
        assert await acquirer is True
        await holder
        assert f"owner=<task at {id(acquirer):#x}>" in repr(lock)  # the acquirer holds it now
        lock.release()
        assert not lock.locked()

    run(scenario())


def test_two_tasks_on_one_loop_deadlock_and_cancelling_one_breaks_it():
    async def scenario():
        me = threading.current_thread()
        l1, l2 = rthreading.Lock(), rthreading.Lock()
        a_in, b_in = asyncio.Event(), asyncio.Event()

        async def worker(mine, other, here, there):
            async with mine:
                here.set()
                await there.wait()
                async with other:  # the other task holds it: waits for ever
                    pass

        ta = asyncio.create_task(worker(l1, l2, a_in, b_in), name="task-a")
        tb = asyncio.create_task(worker(l2, l1, b_in, a_in), name="task-b")
        await until(lambda: len(_cycles_of(ta, tb)) == 1)
        [d] = _cycles_of(ta, tb)
        # A cycle of tasks starts with the task of the smaller key (address).
        edges = [(ta, l2), (tb, l1)]
        if id(tb) < id(ta):
            edges.reverse()
        assert d.tasks == tuple(t for t, _ in edges)
        assert all(got is want for got, want in zip(d.locks, (lk for _, lk in edges)))
        assert d.threads == (me.ident, me.ident) and len(d) == 2
        (t0, k0), (t1, k1) = edges
        assert str(d) == (
            f"deadlock: {_task_label(t0, me)} waits for <rthreading.Lock at {id(k0):#x}> held by "
            f"{_task_label(t1, me)}; {_task_label(t1, me)} waits for <rthreading.Lock at {id(k1):#x}> "
            f"held by {_task_label(t0, me)}"
        )
        assert d == _cycles_of(ta, tb)[0]
        ta.cancel()
        results = await asyncio.gather(ta, tb, return_exceptions=True)
        assert isinstance(results[0], asyncio.CancelledError) and results[1] is None
        assert not l1.locked() and not l2.locked()
        assert not _cycles_of(ta, tb)

    run(scenario())


def test_a_task_and_a_thread_deadlock_and_cancelling_the_task_breaks_it():
    async def scenario():
        me = threading.current_thread()
        l1, l2 = rthreading.Lock(), rthreading.Lock()
        task_in = asyncio.Event()
        thread_in = threading.Event()
        got = []

        def other():
            with l2:
                thread_in.set()
                got.append(l1.acquire(timeout=30))  # the task holds l1
                l1.release()

        async def task_body():
            async with l1:
                task_in.set()
                await until(thread_in.is_set)
                async with l2:  # the thread holds it
                    pass

        task = asyncio.create_task(task_body(), name="the-task")
        await task_in.wait()
        thread = threading.Thread(target=other, name="the-thread", daemon=True)
        thread.start()
        await until(lambda: len(_cycles_of(task, thread)) == 1)
        [d] = _cycles_of(task, thread)
        # Threads come first in a cycle.
        assert d.tasks == (None, task)
        assert d.threads == (thread.ident, me.ident)
        assert d.locks[0] is l1 and d.locks[1] is l2
        t_label, k_label = f"thread 'the-thread' ({thread.ident})", _task_label(task, me)
        assert str(d) == (
            f"deadlock: {t_label} waits for <rthreading.Lock at {id(l1):#x}> held by {k_label}; "
            f"{k_label} waits for <rthreading.Lock at {id(l2):#x}> held by {t_label}"
        )
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await until(lambda: not thread.is_alive())
        assert got == [True]
        assert not l1.locked() and not l2.locked()

    run(scenario())


def test_tasks_on_two_loops_deadlock_and_cancelling_one_breaks_it():
    l1, l2 = rthreading.Lock(), rthreading.Lock()
    holding = [threading.Event(), threading.Event()]
    tasks, loops, outcome = [None, None], [None, None], [None, None]

    def loop_thread(i, mine, other):
        async def body():
            async with mine:
                holding[i].set()
                await until(holding[1 - i].is_set)
                async with other:
                    pass

        async def main():
            loops[i] = asyncio.get_running_loop()
            tasks[i] = asyncio.create_task(body(), name=f"loop-task-{i}")
            try:
                await tasks[i]
                outcome[i] = "done"
            except asyncio.CancelledError:
                outcome[i] = "cancelled"

        asyncio.run(main())

    threads = [
        threading.Thread(target=loop_thread, args=(0, l1, l2), name="loop-0", daemon=True),
        threading.Thread(target=loop_thread, args=(1, l2, l1), name="loop-1", daemon=True),
    ]
    for t in threads:
        t.start()
    wait_until(lambda: None not in tasks and len(_cycles_of(*tasks)) == 1)
    [d] = _cycles_of(*tasks)
    assert set(d.tasks) == set(tasks)
    by_task = dict(zip(d.tasks, d.threads))
    assert by_task == {tasks[0]: threads[0].ident, tasks[1]: threads[1].ident}
    assert _task_label(tasks[0], threads[0]) in str(d) and _task_label(tasks[1], threads[1]) in str(d)
    loops[0].call_soon_threadsafe(tasks[0].cancel)
    for t in threads:
        t.join(20)
        assert not t.is_alive()
    assert outcome == ["cancelled", "done"]
    assert not l1.locked() and not l2.locked()


@pytest.mark.thread_unsafe(reason="switches the process-wide strict mode")
def test_strict_mode_refuses_a_task_wait_that_would_close_a_cycle():
    async def scenario():
        me = threading.current_thread()
        l1, l2 = rthreading.Lock(), rthreading.Lock()
        thread_in = threading.Event()

        def other():
            with l2:
                thread_in.set()
                with l1:  # the task holds it
                    pass

        await l1.async_acquire()
        thread = start(other)
        await until(thread_in.is_set)
        await until(lambda: any(w[0] == thread.ident for w in rthreading._core._waits()))
        task = asyncio.current_task()
        rthreading.enable_strict_deadlocks()
        try:
            with pytest.raises(rthreading.DeadlockError) as info:
                await l2.async_acquire()
            assert await l2.async_acquire(timeout=0.01) is False  # a timed wait is never refused
        finally:
            rthreading.disable_strict_deadlocks()
        t_label, k_label = f"thread {thread.name!r} ({thread.ident})", _task_label(task, me)
        assert str(info.value) == (
            f"acquiring would deadlock: {k_label} waits for <rthreading.Lock at {id(l2):#x}> held by "
            f"{t_label}; {t_label} waits for <rthreading.Lock at {id(l1):#x}> held by {k_label}"
        )
        assert not _waiting(task)
        l1.release()
        await until(lambda: not thread.is_alive())
        assert not l1.locked() and not l2.locked()

    run(scenario())


def _counts(obj):
    [r] = [r for r in rthreading.stats() if r.object is obj]
    return r.acquisitions, r.contended, r.put_waits, r.get_waits


def _lock_scenario_with_threads(lock):
    release, in_lock = threading.Event(), threading.Event()

    def hold():
        with lock:
            in_lock.set()
            release.wait(10)

    holder = start(hold)
    in_lock.wait(10)
    assert lock.acquire(timeout=0.01) is False  # a wait that times out
    waiter = start(lock.acquire)
    wait_until(lambda: any(w[0] == waiter.ident for w in rthreading._core._waits()))
    release.set()
    holder.join(10)
    waiter.join(10)
    lock.release()


async def _lock_scenario_with_tasks(lock):
    release, in_lock = asyncio.Event(), asyncio.Event()

    async def hold():
        async with lock:
            in_lock.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await in_lock.wait()
    assert await lock.async_acquire(timeout=0.01) is False  # a wait that times out
    cancelled = asyncio.create_task(lock.async_acquire())  # cancelled: not counted
    await until(lambda: _waiting(cancelled))
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    waiter = asyncio.create_task(lock.async_acquire())
    await until(lambda: _waiting(waiter))
    release.set()
    await holder
    assert await waiter is True
    lock.release()


def test_stats_count_a_task_lock_wait_as_a_thread_wait():
    by_threads, by_tasks = rthreading.Lock(), rthreading.Lock()
    rthreading.track(by_threads)
    rthreading.track(by_tasks)
    _lock_scenario_with_threads(by_threads)
    run(_lock_scenario_with_tasks(by_tasks))
    # The holder's and the waiter's acquisitions; the timed-out and the waiter's waits.
    assert _counts(by_tasks) == _counts(by_threads) == (2, 2, 0, 0)
    [rec] = [r for r in rthreading.stats() if r.object is by_tasks]
    assert 0 < rec.max_wait <= rec.total_wait


def test_stats_count_a_task_queue_wait_as_a_thread_wait():
    async def scenario(q):
        getter = asyncio.create_task(q.async_get())
        await until(lambda: _waiting(getter))
        q.put(1)
        assert await getter == 1
        q.put(2)  # full now
        putter = asyncio.create_task(q.async_put(3))
        await until(lambda: _waiting(putter))
        assert q.get() == 2
        await putter
        assert q.get() == 3

    def with_threads(q):
        getter = start(q.get)
        wait_until(lambda: any(w[0] == getter.ident for w in rthreading._core._waits()))
        q.put(1)
        getter.join(10)
        q.put(2)
        putter = start(q.put, 3)
        wait_until(lambda: any(w[0] == putter.ident for w in rthreading._core._waits()))
        assert q.get() == 2
        putter.join(10)
        assert q.get() == 3

    by_threads, by_tasks = Queue(1), Queue(1)
    rthreading.track(by_threads)
    rthreading.track(by_tasks)
    with_threads(by_threads)
    run(scenario(by_tasks))
    assert _counts(by_tasks) == _counts(by_threads) == (0, 2, 1, 1)


WATCHDOG_PROGRAM = """
    import asyncio, os, sys
    import rthreading

    async def main():
        a, b = rthreading.Lock(), rthreading.Lock()
        first_in, second_in = asyncio.Event(), asyncio.Event()

        async def worker(mine, other, here, there):
            async with mine:
                here.set()
                await there.wait()
                async with other:
                    pass

        asyncio.create_task(worker(a, b, first_in, second_in), name="first")
        asyncio.create_task(worker(b, a, second_in, first_in), name="second")
        rthreading.enable_deadlock_watchdog(0.1)
        await asyncio.sleep(1.0)
        print("ids", id(a), id(b), flush=True)
        sys.stderr.flush()
        os._exit(0)  # the deadlocked tasks are never woken

    asyncio.run(main())
"""


def test_watchdog_reports_a_cycle_of_tasks_with_their_stacks():
    r = run_python(WATCHDOG_PROGRAM)
    assert r.returncode == 0, r.stderr
    ida, idb = (int(x) for x in r.stdout.split()[1:])
    err = r.stderr
    assert err.count("rthreading: deadlock detected") == 1, err
    assert f"<rthreading.Lock at {ida:#x}>" in err and f"<rthreading.Lock at {idb:#x}>" in err
    for name in ("first", "second"):
        assert f"task {name!r} (loop in thread 'MainThread' (" in err
    # The stacks of both tasks, down to the line where each waits.
    assert "Stack of task 'first' (loop in thread 'MainThread'" in err and "Stack of task 'second'" in err
    assert "in worker\n" in err and "in _aenter\n" in err
