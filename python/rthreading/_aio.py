"""Awaitable waits on rthreading's primitives and queues, for asyncio tasks.

The native classes get these methods at import (``install``): ``Lock``, ``Semaphore`` and
``BoundedSemaphore`` gain ``async_acquire`` and ``async with``; ``Event`` gains ``async_wait``;
``Queue``, ``LifoQueue`` and ``PriorityQueue`` gain ``async_get``, ``async_put`` and
``async_join``; ``SimpleQueue`` gains ``async_get``. Threads and tasks (on any number of event
loops) can wait on the same object at once.
"""

# How a task waits (the waiting core's watchers, src/sync/park.rs): it registers a waker on the
# object (`_watch`), looks once more, and awaits a future that the waker's callback resolves
# through `loop.call_soon_threadsafe`. Whatever may let it proceed (a put, a release, a set)
# wakes every registered waker of that object, and each task then tries again for itself
# (`get_nowait`, `acquire(False)`, ...). Nothing is ever handed to a waiting task, so a task
# cancelled at any point takes nothing with it and swallows no wake-up meant for another
# waiter. Each wait is a fresh waker (one-shot), removed from the object however the wait ends.
#
# asyncio is imported on first use only: `import rthreading` must not pay for it.
#
# The diagnostics (rthreading._diag) see a task's wait as a thread's: `_wait` registers it
# (`_core._task_wait`: the task, its loop's thread, the object; counted if the object is tracked)
# once the first try has failed, until it ends; and a Lock taken by `async_acquire` is held by
# the task (`Lock._acquire_for`), so deadlocks through tasks are found.

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


def _make_waker(loop, fut):
    call = loop.call_soon_threadsafe

    def wake():
        try:
            call(_resolve, fut)
        except RuntimeError:  # the loop is closed: nobody awaits the future any more
            pass

    return _Waker(wake)


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


def _registered(obj, what, timeout):
    # The diagnostics' record of this wait (None: not recorded); see the notes at the top.
    task = _task() if obj is not None else None
    return None if task is None else _task_wait(obj, task, what, timeout is not None)


async def _wait(watch, unwatch, attempt, timeout, obj=None, what=_JOIN):
    """Calls ``attempt(waker)`` until it returns something else than ``_AGAIN``; returns that,
    or ``_TIMED_OUT`` once ``timeout`` seconds (None: no limit) have passed. The wait on ``obj``
    is shown to the diagnostics (``what``: as ``_task_wait`` takes it)."""
    r = attempt(None)
    if r is not _AGAIN:
        return r
    if timeout is not None and timeout <= 0:
        return _TIMED_OUT
    from asyncio import get_running_loop, sleep

    loop = get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    poll = 0.0005
    registered = _registered(obj, what, timeout)
    try:
        while True:
            fut = loop.create_future()
            waker = _make_waker(loop, fut)
            if watch(waker) is False:
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
            try:
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
                r = attempt(waker)
                if r is not _AGAIN:
                    return r
            finally:
                unwatch(waker)
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
    timeout = _check_timeout(timeout)
    task = _task() if type(self) is _Lock else None  # a Lock is held by the task (see the notes)
    take = self.acquire if task is None else self._acquire_for
    arg = False if task is None else task

    def attempt(_w):
        return True if take(arg) else _AGAIN

    r = await _wait(self._watch, self._unwatch, attempt, timeout, self, _ACQUIRE)
    return r is True


async def _aenter(self):
    await self.async_acquire()


async def _aexit(self, *exc_info):
    self.release()


# --- Event -------------------------------------------------------------------------------------


async def async_wait(self, timeout=None):
    """Wait, without blocking the event loop, until the flag is set; return True.

    Like ``wait()``: with a ``timeout`` (seconds), return the flag's value once it has passed
    (False unless set meanwhile). A set() while the task waits wakes it even if clear() follows.
    """
    timeout = _check_timeout(timeout)

    def attempt(waker):
        return True if self.is_set() or (waker is not None and waker.notified) else _AGAIN

    r = await _wait(self._watch, self._unwatch, attempt, timeout, self)
    return r is True or self.is_set()


# --- Queue, LifoQueue, PriorityQueue -----------------------------------------------------------


async def async_get(self, timeout=None):
    """Remove and return an item, waiting without blocking the event loop.

    Wait until an item is available, or at most ``timeout`` seconds when given: then raise
    ``queue.Empty``. Raises ``queue.ShutDown`` once the queue is shut down and empty (at once
    after ``shutdown(immediate=True)``). A task cancelled while waiting has taken no item.
    """
    from rthreading.queue import Empty

    timeout = _check_timeout(timeout)
    get = self.get_nowait

    def attempt(_w):
        try:
            return get()
        except Empty:
            return _AGAIN

    r = await _wait(lambda w: self._watch(_GET, w), lambda w: self._unwatch(_GET, w), attempt, timeout, self, _GET)
    if r is _TIMED_OUT:
        raise Empty
    return r


async def async_put(self, item, timeout=None):
    """Put an item, waiting without blocking the event loop while the queue is full.

    Wait until a slot is free, or at most ``timeout`` seconds when given: then raise
    ``queue.Full``. Raises ``queue.ShutDown`` if the queue is shut down. A task cancelled while
    waiting has put nothing.
    """
    from rthreading.queue import Full

    timeout = _check_timeout(timeout)
    put = self.put_nowait

    def attempt(_w):
        try:
            put(item)
        except Full:
            return _AGAIN
        return None

    r = await _wait(lambda w: self._watch(_PUT, w), lambda w: self._unwatch(_PUT, w), attempt, timeout, self, _PUT)
    if r is _TIMED_OUT:
        raise Full


async def async_join(self):
    """Wait, without blocking the event loop, until every item put has been processed.

    Like ``join()``: done when ``task_done()`` has been called once per item put.
    """

    def attempt(_w):
        return None if self.unfinished_tasks == 0 else _AGAIN

    await _wait(lambda w: self._watch(_JOIN, w), lambda w: self._unwatch(_JOIN, w), attempt, None, self)


# --- SimpleQueue -------------------------------------------------------------------------------


async def simple_async_get(self, timeout=None):
    """Remove and return an item, waiting without blocking the event loop.

    Wait until an item is available, or at most ``timeout`` seconds when given: then raise
    ``queue.Empty``. A task cancelled while waiting has taken no item.
    """
    from rthreading.queue import Empty

    timeout = _check_timeout(timeout)
    get = self.get_nowait

    def attempt(_w):
        try:
            return get()
        except Empty:
            return _AGAIN

    r = await _wait(self._watch, self._unwatch, attempt, timeout, self)
    if r is _TIMED_OUT:
        raise Empty
    return r


simple_async_get.__name__ = simple_async_get.__qualname__ = "async_get"


def install():
    """Attaches the awaitables to the native classes."""
    from rthreading import _core

    for cls in (_core.Lock, _core.Semaphore):
        cls.async_acquire = async_acquire
        cls.__aenter__ = _aenter
        cls.__aexit__ = _aexit
    _core.Event.async_wait = async_wait
    _core.Queue.async_get = async_get
    _core.Queue.async_put = async_put
    _core.Queue.async_join = async_join
    _core.SimpleQueue.async_get = simple_async_get
