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
    """Represents the result of an asynchronous computation.

    A ``concurrent.futures.Future`` whose state is native: ``result()`` and ``exception()``
    wait detached, ``done()`` & co. read one atomic. ``_condition`` and ``_waiters`` (used by
    the stdlib's ``wait()`` and ``as_completed()``) are made on first use. Like the stdlib's,
    a future takes arbitrary attributes.
    """


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
    """A pool of threads executing calls asynchronously; see ``concurrent.futures``."""

    BROKEN = BrokenThreadPool

    # `_counter`, which numbers the default thread name prefixes, is the stdlib class's: pools
    # of both kinds get distinct names.

    def __init__(self, max_workers=None, thread_name_prefix="", initializer=None, initargs=()):
        """Initializes a new ThreadPoolExecutor instance.

        Args:
            max_workers: The maximum number of threads that can be used to
                execute the given calls.
            thread_name_prefix: An optional name prefix to give our threads.
            initializer: A callable used to initialize worker threads.
            initargs: A tuple of arguments to pass to the initializer.
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
        """Returns an iterator equivalent to map(fn, iter).

        Args:
            fn: A callable that will take as many arguments as there are
                passed iterables.
            timeout: The maximum number of seconds to wait. If None, then there
                is no limit on the wait time.
            chunksize: Ignored by ThreadPoolExecutor.
            buffersize: The number of submitted tasks whose results have not
                yet been yielded. If the buffer is full, iteration over the
                iterables pauses until a result is yielded from the buffer.
                If None, all input elements are eagerly collected.

        Returns:
            An iterator equivalent to: map(func, *iterables) but the calls may
            be evaluated out-of-order.

        Raises:
            TimeoutError: If the entire result iterator could not be generated
                before the given timeout.
            Exception: If fn(*args) raises for any values.
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
