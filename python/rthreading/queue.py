"""rthreading.queue: the stdlib's ``queue`` module in Rust, for free-threaded CPython.

Use it in place of the stdlib module: ``from rthreading.queue import Queue``. Queue, LifoQueue,
PriorityQueue and SimpleQueue are native; every blocking call waits with the interpreter
released and, on the main thread, is interrupted by Ctrl-C. ``Empty``, ``Full`` and ``ShutDown``
are the stdlib's own classes, so ``except queue.Empty:`` keeps working.

Subclasses may override the stdlib's hooks (``_init``, ``_qsize``, ``_put``, ``_get``) and use
its attributes (``mutex``, ``not_empty``, ``not_full``, ``all_tasks_done``, ``queue``, ...): such
a queue runs the stdlib's own algorithm below (the *compatibility mode*), over rthreading's Lock
and Conditions. Other queues never touch this Python code.
"""

import queue as _queue
from time import monotonic as _time

from rthreading._core import (
    Condition as _Condition,
    LifoQueue,
    Lock as _Lock,
    PriorityQueue,
    Queue,
    SimpleQueue,
    select,  # noqa: F401 - re-exported: rthreading.queue.select
)

# Beyond the stdlib: `select(*queues, timeout=None) -> (queue, item)` (not in __all__, which is
# the stdlib module's).
__all__ = ["Empty", "Full", "ShutDown", "Queue", "PriorityQueue", "LifoQueue", "SimpleQueue"]

Empty = _queue.Empty
Full = _queue.Full
try:
    ShutDown = _queue.ShutDown
except AttributeError:  # Python < 3.13: the same class as 3.13's, for our shutdown()

    class ShutDown(Exception):
        """Raised when put/get with shut-down queue."""


# --- compatibility mode -----------------------------------------------------------------------
# The state the stdlib's Queue keeps in its instance. The native queue's attributes of the same
# names (q.mutex, q.queue, q.unfinished_tasks, ...) read and write it once the queue has
# switched; the functions below are the stdlib's methods (3.13, with shutdown), taking the queue
# `q` (for maxsize and the hooks, which subclasses may override) and its state `s`.


class _Internals:
    __slots__ = ("mutex", "not_empty", "not_full", "all_tasks_done", "unfinished_tasks", "is_shutdown", "queue")

    def __init__(self):
        self.mutex = _Lock()
        self.not_empty = _Condition(self.mutex)
        self.not_full = _Condition(self.mutex)
        self.all_tasks_done = _Condition(self.mutex)
        self.unfinished_tasks = 0
        self.is_shutdown = False


def _task_done(q, s):
    with s.all_tasks_done:
        unfinished = s.unfinished_tasks - 1
        if unfinished <= 0:
            if unfinished < 0:
                raise ValueError("task_done() called too many times")
            s.all_tasks_done.notify_all()
        s.unfinished_tasks = unfinished


def _join(q, s):
    with s.all_tasks_done:
        while s.unfinished_tasks:
            s.all_tasks_done.wait()


def _qsize(q, s):
    with s.mutex:
        return q._qsize()


def _empty(q, s):
    with s.mutex:
        return not q._qsize()


def _full(q, s):
    with s.mutex:
        return 0 < q.maxsize <= q._qsize()


def _put(q, s, item, block=True, timeout=None):
    with s.not_full:
        if s.is_shutdown:
            raise ShutDown
        if q.maxsize > 0:
            if not block:
                if q._qsize() >= q.maxsize:
                    raise Full
            elif timeout is None:
                while q._qsize() >= q.maxsize:
                    s.not_full.wait()
                    if s.is_shutdown:
                        raise ShutDown
            elif timeout < 0:
                raise ValueError("'timeout' must be a non-negative number")
            else:
                endtime = _time() + timeout
                while q._qsize() >= q.maxsize:
                    remaining = endtime - _time()
                    if remaining <= 0.0:
                        raise Full
                    s.not_full.wait(remaining)
                    if s.is_shutdown:
                        raise ShutDown
        q._put(item)
        s.unfinished_tasks += 1
        s.not_empty.notify()


def _get(q, s, block=True, timeout=None):
    with s.not_empty:
        if s.is_shutdown and not q._qsize():
            raise ShutDown
        if not block:
            if not q._qsize():
                raise Empty
        elif timeout is None:
            while not q._qsize():
                s.not_empty.wait()
                if s.is_shutdown and not q._qsize():
                    raise ShutDown
        elif timeout < 0:
            raise ValueError("'timeout' must be a non-negative number")
        else:
            endtime = _time() + timeout
            while not q._qsize():
                remaining = endtime - _time()
                if remaining <= 0.0:
                    raise Empty
                s.not_empty.wait(remaining)
                if s.is_shutdown and not q._qsize():
                    raise ShutDown
        item = q._get()
        s.not_full.notify()
        return item


def _shutdown(q, s, immediate=False):
    with s.mutex:
        s.is_shutdown = True
        if immediate:
            while q._qsize():
                q._get()
                if s.unfinished_tasks > 0:
                    s.unfinished_tasks -= 1
            s.all_tasks_done.notify_all()
        s.not_empty.notify_all()
        s.not_full.notify_all()


# --- janus/culsans-style views: q.sync_q, q.async_q, close(), closed, wait_closed(), aclose() ---
from rthreading import _async_queue  # noqa: E402

AsyncQueueProxy = _async_queue.AsyncQueueProxy  # the type of q.async_q (not in __all__)
AsyncQueueProxy.__module__ = __name__
_async_queue.install((Queue,))  # LifoQueue and PriorityQueue inherit them, as the awaitables
