"""Awaitable waits on rthreading's primitives and queues, for asyncio tasks.

The native classes get these methods at import (``install``): ``Lock``, ``Semaphore`` and
``BoundedSemaphore`` gain ``async_acquire`` and ``async with``; ``Event`` gains ``async_wait``;
``Barrier`` gains ``async_wait``;
``Queue``, ``LifoQueue`` and ``PriorityQueue`` gain ``async_get``, ``async_put`` and
``async_join``; ``SimpleQueue`` gains ``async_get``. Threads and tasks (on any number of event
loops) can wait on the same object at once.
"""

# How a task waits (the waiting core's watchers, src/sync/park.rs): it registers a waker on the
# object (`_watch`), looks once more, and awaits a future that the waker's callback resolves
# through `loop.call_soon_threadsafe` (or directly, from the loop's own thread). Each item put,
# release or unit wakes the first waker in line (an Event's set(), a Barrier's release, a
# shutdown wake them all), and the task then tries again for itself (`_get_or`,
# `acquire(False)`, ...). Nothing is ever handed to a waiting task, so a task cancelled at any
# point takes nothing with it; one that was woken and leaves without trying again passes the
# wake-up on (`_pass_on`), as does a waker whose loop is gone. Threads wait in the same line
# (a Lock's, a Semaphore's, a queue's), so waiters of both kinds are served in arrival order.
# Each wait is a fresh waker (one-shot), removed from the object however the wait ends (except
# when the garbage collector closes the coroutine: see `_wait`).
#
# asyncio is imported on first use only: `import rthreading` must not pay for it.
#
# The diagnostics (rthreading._diag) see a task's wait as a thread's: `_wait` registers it
# (`_core._task_wait`: the task, its loop's thread, the object; counted if the object is tracked)
# once the first try has failed, until it ends; and a Lock taken by `async_acquire` is held by
# the task (`Lock._acquire_for`), so deadlocks through tasks are found.

from _thread import get_ident as _get_ident

from rthreading._core import Lock as _Lock
from rthreading._core import _task_wait, _Waker

_AGAIN = object()  # the attempt failed: wait
_TIMED_OUT = object()
_GET, _PUT, _JOIN = 0, 1, 2  # a queue's watchers (Queue._watch); also what `_task_wait` counts
_ACQUIRE = 3  # `_task_wait`: a lock's acquisition (and _JOIN: a wait it does not count)
_current_task = None  # asyncio.current_task, once imported


def _resolve(fut):
    if not fut.done():
        fut.set_result(None)


def _make_waker(loop, fut, first=False):
    call = loop.call_soon_threadsafe
    loop_thread = _get_ident()

    def wake():
        # Returns whether the wake-up reaches the task; if not (the task is gone, its loop
        # closed), the notifier wakes the next waiter instead.
        if fut.done():
            return False
        try:
            if _get_ident() == loop_thread:
                # Notified from the loop's own thread (another task, a callback): resolve the
                # future directly, sparing the loop's self-pipe a write and a wake-up.
                fut.set_result(None)
            else:
                call(_resolve, fut)
        except RuntimeError:  # the loop is closed: nobody awaits the future any more
            return False
        return True

    return _Waker(wake, first)


def _task():
    """The asyncio task running now, or None (no running loop, or not in a task)."""
    global _current_task
    if _current_task is None:
        from asyncio import current_task

        _current_task = current_task
    try:
        return _current_task()
    except RuntimeError:
        return None


async def _wait(obj, what, attempt, timeout, wakes_one=True):
    """After a first ``attempt`` found nothing: calls ``attempt(waker)`` on every wake-up until
    it returns something else than ``_AGAIN``, and returns that, or ``_TIMED_OUT`` once
    ``timeout`` seconds (None: no limit) have passed. ``what`` selects a queue's watchers (None
    for the other objects). ``wakes_one``: the object wakes one task per release or item (not
    all, as an Event's set() does), so a task woken that leaves without what it was woken for
    passes the wake-up on (``obj._pass_on``)."""
    if timeout is not None and timeout <= 0:
        return _TIMED_OUT
    from asyncio import current_task, get_running_loop, sleep

    loop = get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    watch, unwatch = obj._watch, obj._unwatch
    poll = 0.0005
    # The diagnostics' record of this wait (see the notes at the top); None if not recorded.
    task = current_task(loop)
    registered = (
        None if task is None else _task_wait(obj, task, _ACQUIRE if what is None else what, deadline is not None)
    )
    first = False  # this task's turn came to nothing (a quicker caller): back at the head
    try:
        while True:
            fut = loop.create_future()
            waker = _make_waker(loop, fut, first)
            args = (waker,) if what is None else (what, waker)
            if watch(*args) is False:
                # A queue in compatibility mode (its waits are the stdlib's Conditions): poll.
                r = attempt(None)
                if r is not _AGAIN:
                    return r
                delay = poll if deadline is None else min(poll, deadline - loop.time())
                if delay <= 0:
                    return _TIMED_OUT
                await sleep(delay)
                poll = min(poll * 2, 0.02)
                continue
            r = _AGAIN
            closed = False
            # Whether an attempt ran after the waker was notified: then it used the wake-up (it
            # took what the wake-up was for, or found that a quicker caller had, whose release
            # wakes the next); otherwise a notified waker passes the wake-up on as it leaves.
            used = False
            try:
                used = waker.notified
                r = attempt(waker)
                if r is not _AGAIN:
                    return r
                if deadline is None:
                    await fut
                else:
                    delay = deadline - loop.time()
                    if delay <= 0:
                        return _TIMED_OUT
                    timer = loop.call_later(delay, _resolve, fut)
                    try:
                        await fut
                    finally:
                        timer.cancel()
                # Woken (or the deadline passed): try with this waker, which may itself be the news
                # (an Event's set() that a clear() has already undone).
                used = waker.notified
                r = attempt(waker)
                if r is not _AGAIN:
                    return r
                first = used
            except GeneratorExit:
                # The coroutine is closed without running to its end: its task was destroyed
                # (its loop closed), by the garbage collector, perhaps on a thread that is
                # waking this object's waiters and holds its internal lock. Touch nothing: the
                # waker stays registered until the object's next wake-up drops it (it reports
                # it could not deliver, and the next waiter is woken instead).
                closed = True
                raise
            finally:
                if not closed:
                    unwatch(*args)
                    if wakes_one and not used and waker.notified:
                        # Woken for something this task did not try for (cancelled, timed out,
                        # or it had already taken a unit or an item when the wake-up came):
                        # the next waiter's turn. (Not when a try after the wake-up failed: a
                        # quicker caller took it, and the wake-up is spent, as a thread's is;
                        # passed on, it would circle between the waiting tasks until the next
                        # release.)
                        obj._pass_on(*args[:-1])
    except BaseException:
        if registered is not None:
            registered.close(False)
        raise
    finally:
        if registered is not None:
            registered.close(True)


def _check_timeout(timeout):
    if timeout is not None:
        if not isinstance(timeout, (int, float)):
            raise TypeError(f"timeout must be a number or None, not {type(timeout).__name__}")
        timeout = float(timeout)
        if timeout != timeout:
            raise ValueError("timeout must be a number, not NaN")
    return timeout


# --- Lock, Semaphore, BoundedSemaphore -------------------------------------------------------


async def async_acquire(self, timeout=None):
    """Acquire without blocking the event loop; return True once acquired.

    Wait until it can be acquired (other tasks of the loop run meanwhile), or at most
    ``timeout`` seconds when given: then return False. Threads and tasks wait for it alike. A
    task cancelled while waiting has not acquired it.
    """
    if timeout is not None:
        timeout = _check_timeout(timeout)
    task = _task() if type(self) is _Lock else None  # a Lock is held by the task (see the notes)
    if self.acquire(False) if task is None else self._acquire_for(task):
        return True
    return await _wait(self, None, _acquirer(self, task), timeout) is True


def _acquirer(obj, task):
    if task is None:

        def attempt(_w):
            return True if obj.acquire(False) else _AGAIN

    else:
        take = obj._acquire_for

        def attempt(_w):
            return True if take(task) else _AGAIN

    return attempt


async def _aenter(self):
    task = _task() if type(self) is _Lock else None
    if not (self.acquire(False) if task is None else self._acquire_for(task)):
        await _wait(self, None, _acquirer(self, task), None)


async def _aexit(self, *exc_info):
    self.release()


# --- Event -------------------------------------------------------------------------------------


async def async_wait(self, timeout=None):
    """Wait, without blocking the event loop, until the flag is set; return True.

    Like ``wait()``: with a ``timeout`` (seconds), return the flag's value once it has passed
    (False unless set meanwhile). A set() while the task waits wakes it even if clear() follows.
    """
    if timeout is not None:
        timeout = _check_timeout(timeout)
    return True if self.is_set() else await _event_waiting(self, timeout)


async def _event_waiting(ev, timeout):
    """The rest of ``async_wait`` once the flag was found clear."""

    def attempt(waker):
        return True if ev.is_set() or (waker is not None and waker.notified) else _AGAIN

    r = await _wait(ev, None, attempt, timeout, wakes_one=False)
    return r is True or ev.is_set()


# --- Barrier -----------------------------------------------------------------------------------


async def barrier_async_wait(self, timeout=None):
    """Pass the barrier without blocking the event loop: wait until all the parties arrived.

    Like ``wait()``: returns the arrival index (0 to parties - 1), runs the action (in the task
    that arrives last) before any party is released, breaks the barrier when ``timeout`` (or
    the barrier's default) passes first, and raises ``threading.BrokenBarrierError`` when the
    barrier is broken or reset. Threads and tasks may be parties of the same barrier. A task
    cancelled while waiting leaves the barrier as it stands (it does not break it).
    """
    from threading import BrokenBarrierError

    if timeout is not None:
        timeout = _check_timeout(timeout)

    def arrive(_w):
        a = self._async_arrive()
        return _AGAIN if a is None else a

    def released(_w):
        r = self._async_released()
        return _AGAIN if r is None else r

    arrival = arrive(None)
    if arrival is _AGAIN:  # the barrier drains or resets: wait to arrive
        arrival = await _wait(self, None, arrive, None, wakes_one=False)
    waiting, index, default = arrival
    if not waiting:
        return index
    if timeout is None and default is not None:
        timeout = _check_timeout(default)
    try:
        r = released(None)
        if r is _AGAIN:
            r = await _wait(self, None, released, timeout, wakes_one=False)
        if r is _TIMED_OUT:
            r = self._async_expire()
            if r is None:  # the last party runs the action: wait for it, without a deadline
                r = await _wait(self, None, released, None, wakes_one=False)
    except BaseException:
        # Cancelled (or interrupted) before released: leave, unless already left.
        if self._async_released() is None:
            self._async_abandon()
        raise
    if r:
        return index
    raise BrokenBarrierError


# --- Queue, LifoQueue, PriorityQueue -----------------------------------------------------------


async def async_get(self, timeout=None):
    """Remove and return an item, waiting without blocking the event loop.

    Wait until an item is available, or at most ``timeout`` seconds when given: then raise
    ``queue.Empty``. Raises ``queue.ShutDown`` once the queue is shut down and empty (at once
    after ``shutdown(immediate=True)``). A task cancelled while waiting has taken no item.
    """
    if timeout is not None:
        timeout = _check_timeout(timeout)
    item = self._get_or(_AGAIN)
    return item if item is not _AGAIN else await _get_waiting(self, _GET, timeout)


async def _get_waiting(q, what, timeout):
    """The rest of a queue's ``async_get`` once its first try found nothing."""
    get_or = q._get_or

    def attempt(_w):
        return get_or(_AGAIN)

    item = await _wait(q, what, attempt, timeout)
    if item is _TIMED_OUT:
        from rthreading.queue import Empty

        raise Empty
    return item


async def async_put(self, item, timeout=None):
    """Put an item, waiting without blocking the event loop while the queue is full.

    Wait until a slot is free, or at most ``timeout`` seconds when given: then raise
    ``queue.Full``. Raises ``queue.ShutDown`` if the queue is shut down. A task cancelled while
    waiting has put nothing.
    """
    if timeout is not None:
        timeout = _check_timeout(timeout)
    if not self._put_or(item):
        await _put_waiting(self, item, timeout)


async def _put_waiting(q, item, timeout):
    """The rest of ``async_put`` once its first try found the queue full. (Apart, so that the
    first try pays for no closure cell.)"""
    put_or = q._put_or

    def attempt(_w):
        return None if put_or(item) else _AGAIN

    if await _wait(q, _PUT, attempt, timeout) is _TIMED_OUT:
        from rthreading.queue import Full

        raise Full


async def async_join(self):
    """Wait, without blocking the event loop, until every item put has been processed.

    Like ``join()``: done when ``task_done()`` has been called once per item put.
    """

    def attempt(_w):
        return None if self.unfinished_tasks == 0 else _AGAIN

    if attempt(None) is _AGAIN:
        await _wait(self, _JOIN, attempt, None, wakes_one=False)


# --- SimpleQueue -------------------------------------------------------------------------------


async def simple_async_get(self, timeout=None):
    """Remove and return an item, waiting without blocking the event loop.

    Wait until an item is available, or at most ``timeout`` seconds when given: then raise
    ``queue.Empty``. A task cancelled while waiting has taken no item.
    """
    if timeout is not None:
        timeout = _check_timeout(timeout)
    item = self._get_or(_AGAIN)
    return item if item is not _AGAIN else await _get_waiting(self, None, timeout)


simple_async_get.__name__ = simple_async_get.__qualname__ = "async_get"
barrier_async_wait.__name__ = barrier_async_wait.__qualname__ = "async_wait"


def install():
    """Attaches the awaitables to the native classes."""
    from rthreading import _core

    for cls in (_core.Lock, _core.Semaphore):
        cls.async_acquire = async_acquire
        cls.__aenter__ = _aenter
        cls.__aexit__ = _aexit
    _core.Event.async_wait = async_wait
    _core.Barrier.async_wait = barrier_async_wait
    _core.Queue.async_get = async_get
    _core.Queue.async_put = async_put
    _core.Queue.async_join = async_join
    _core.SimpleQueue.async_get = simple_async_get
