"""rthreading.futures: a drop-in for ``concurrent.futures``' ThreadPoolExecutor, in Rust.

    from rthreading.futures import ThreadPoolExecutor, as_completed

The pool's queue, its hand-off to the workers and every wait (``Future.result()``, idle
workers, ``shutdown(wait=True)``) are native and release the interpreter; on the main thread
``result()`` is interrupted by Ctrl-C. The workers are ordinary ``threading.Thread`` objects
named ``f"{thread_name_prefix}_{i}"``, each running its native loop for its whole life.

Futures are instances of ``concurrent.futures.Future`` and executors of
``concurrent.futures.ThreadPoolExecutor`` (hence of ``Executor``), so ``asyncio.wrap_future``,
``loop.run_in_executor``, ``loop.set_default_executor`` and the stdlib's ``wait()`` and
``as_completed()`` accept them. ``wait``, ``as_completed``, the ``*_COMPLETED`` constants and
the exception classes here are the stdlib's own.
"""

import collections
import itertools
import math
import os
import threading
import time
import weakref

from concurrent.futures import _base
from concurrent.futures import thread as _thread
from concurrent.futures import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    BrokenExecutor,
    CancelledError,
    Executor,
    InvalidStateError,
    TimeoutError,
    as_completed,
    wait,
)
from concurrent.futures.thread import BrokenThreadPool

from rthreading import _core
from rthreading import _patch
from rthreading._patch import stdlib as _stdlib

# The stdlib's class, even if this module is (re)imported while rthreading.patch() has put ours
# in its place.
_StdThreadPoolExecutor = _stdlib(_thread, "ThreadPoolExecutor")

__all__ = [
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "BrokenExecutor",
    "BrokenThreadPool",
    "CancelledError",
    "Executor",
    "Future",
    "InvalidStateError",
    "ThreadPoolExecutor",
    "TimeoutError",
    "as_completed",
    "wait",
]


class Future(_core.Future, _base.Future):
    """The result of a call executed asynchronously: the drop-in for ``concurrent.futures.Future``.

    ``ThreadPoolExecutor.submit()`` returns one. It is a ``concurrent.futures.Future``
    instance, so ``concurrent.futures.wait()``, ``as_completed()`` and ``asyncio.wrap_future()``
    accept it. Its state lives in native code: ``result()`` and ``exception()`` wait with the
    interpreter released (on the main thread, Ctrl-C interrupts them), and ``done()``,
    ``running()`` and ``cancelled()`` cost one atomic read. Like the stdlib's, a future takes
    arbitrary attributes.

    Futures are made by executors; create one directly only in tests or to implement an
    executor.
    """

    # The stdlib's `_condition` and `_waiters` (used by its wait() and as_completed()) are made
    # on first use, by the native base.


_core._register_future_class(Future)


def _worker(ticket, initializer, initargs):
    """A worker thread's target: the initializer, then the native loop for life."""
    if initializer is not None:
        try:
            initializer(*initargs)
        except BaseException:
            _base.LOGGER.critical("Exception in initializer:", exc_info=True)
            ticket.initializer_failed()
            return
    ticket.run()


def _default_max_workers():
    cpus = getattr(os, "process_cpu_count", os.cpu_count)()
    return min(32, (cpus or 1) + 4)


class ThreadPoolExecutor(_core.ThreadPoolExecutor, _StdThreadPoolExecutor):
    """An executor that runs calls asynchronously in a pool of at most ``max_workers`` threads.

    The drop-in for ``concurrent.futures.ThreadPoolExecutor`` (an instance of it, hence of
    ``Executor``: ``asyncio``'s ``loop.run_in_executor()`` and ``set_default_executor()``
    accept it). ``submit()`` returns a ``Future``; ``map()`` an iterator of results;
    ``shutdown()`` (or the end of a ``with`` block) frees the workers once the queued work is
    done.

    ``max_workers`` defaults to ``min(32, cpu count + 4)`` (ValueError if not positive).
    Worker threads are started as work arrives, while fewer than ``max_workers`` exist and
    none is idle; each is named ``f"{thread_name_prefix}_{i}"``. ``initializer``, if given, is
    called as ``initializer(*initargs)`` at the start of each worker thread; if it raises, the
    pool is broken: pending and later calls fail with
    ``concurrent.futures.thread.BrokenThreadPool``.

    The queue and the hand-off to the workers are native: idle workers and every wait for a
    result release the interpreter. After ``os.fork()`` a pool made before the fork starts new
    workers in the child when it is given work.
    """

    BROKEN = BrokenThreadPool

    # `_counter`, which numbers the default thread name prefixes, is the stdlib class's: pools
    # of both kinds get distinct names.

    def __init__(self, max_workers=None, thread_name_prefix="", initializer=None, initargs=()):
        """Create an executor with at most ``max_workers`` threads (see the class's documentation).

        ``thread_name_prefix`` names the worker threads (default: ``"ThreadPoolExecutor-N"``);
        ``initializer(*initargs)`` runs at the start of each worker thread. Raises ValueError
        if ``max_workers`` is not positive, TypeError if ``initializer`` is not callable.
        """
        if max_workers is None:
            max_workers = _default_max_workers()
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")

        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")

        self._max_workers = max_workers
        self._thread_name_prefix = thread_name_prefix or ("ThreadPoolExecutor-%d" % self._counter())
        self._initializer = initializer
        self._initargs = initargs
        # The stdlib starts a thread while `len(threads) < max_workers`.
        limit = max_workers if isinstance(max_workers, int) else math.ceil(max_workers)
        self._setup(min(limit, 2**62), "%s" % (self._thread_name_prefix,))

    def _new_worker_thread(self, ticket, name):
        return threading.Thread(name=name, target=_worker, args=(ticket, self._initializer, self._initargs))

    def map(self, fn, *iterables, timeout=None, chunksize=1, buffersize=None):
        """Return an iterator of ``fn(*args)`` for each ``args`` of ``zip(*iterables)``, like ``map()``.

        Unlike the builtin ``map()``, the calls are made concurrently by the pool's workers,
        and the iterables are read at once (all of them, or with ``buffersize=n`` at most
        ``n`` calls ahead of the results consumed). The results come back in the order of the
        inputs.

        ``timeout`` (seconds, None for no limit) bounds the whole iteration, counted from
        this call: ``__next__()`` raises TimeoutError if the next result is not available in
        time. If a call raised an exception, that exception is raised when its result would
        have been returned, and the calls not yet started are cancelled. ``chunksize`` is
        accepted for compatibility with ``ProcessPoolExecutor`` and ignored. ``buffersize``
        (Python 3.14's parameter) must be None or a positive integer.

        Waiting for a result releases the interpreter; on the main thread Ctrl-C interrupts
        it.
        """
        if buffersize is not None and not isinstance(buffersize, int):
            raise TypeError("buffersize must be an integer or None")
        if buffersize is not None and buffersize < 1:
            raise ValueError("buffersize must be None or > 0")
        end_time = None if timeout is None else timeout + time.monotonic()
        if buffersize is None and type(self).submit is _NATIVE_SUBMIT:
            return self._map(fn, iterables, end_time)
        # A subclass's own submit() sees every item, as with the stdlib's Executor.map.
        return _map_with_submit(self, fn, iterables, end_time, buffersize)

    # The stdlib's map is Executor.map: its argument errors name it so.
    map.__qualname__ = "Executor.map"


_NATIVE_SUBMIT = _core.ThreadPoolExecutor.submit


def _map_with_submit(executor, fn, iterables, end_time, buffersize):
    """``map`` through ``executor.submit``: every item at once, or with ``buffersize=n`` at
    most n results not yet yielded (one more is submitted as each is yielded)."""
    args_iter = zip(*iterables)
    if buffersize:
        fs = collections.deque(executor.submit(fn, *args) for args in itertools.islice(args_iter, buffersize))
    else:
        fs = collections.deque(executor.submit(fn, *args) for args in args_iter)
    executor_ref = weakref.ref(executor)
    del executor

    def result_iterator():
        try:
            while fs:
                if buffersize:
                    ex = executor_ref()
                    args = next(args_iter, None) if ex is not None else None
                    if args:
                        fs.append(ex.submit(fn, *args))
                    del ex
                fut = fs.popleft()
                try:
                    if end_time is None:
                        yield fut.result()
                    else:
                        yield fut.result(end_time - time.monotonic())
                finally:
                    fut.cancel()
                    del fut
        finally:
            for f in fs:
                f.cancel()

    return result_iterator()


# Interpreter exit: pools stop taking work and their workers leave once the queue is empty,
# before the interpreter joins its non-daemon threads (the stdlib's hook does the same).
threading._register_atexit(_core._python_exit)

# A fork child has none of the parent's workers: pools start new ones when given work (the
# handler is registered by rthreading._core, see src/py/fork.rs).

# Under rthreading.patch(), this import may have been the program's first of
# concurrent.futures: its ThreadPoolExecutor becomes this one now that it exists.
_patch.futures_imported()
