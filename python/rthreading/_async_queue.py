"""janus/culsans-style views of rthreading's queues: ``q.sync_q``, ``q.async_q``, ``q.close()``.

One rthreading queue is both the threads' queue and the tasks' queue; these attributes let code
written for janus (or culsans) switch by changing an import:

- ``q.sync_q`` is ``q`` itself (the stdlib's ``queue.Queue`` API).
- ``q.async_q`` is a view with ``asyncio.Queue``'s API (``await put()``, ``await get()``,
  ``put_nowait``, ``get_nowait``, ``task_done``, ``await join()``, ``qsize``, ``empty``, ``full``,
  ``maxsize``, ``shutdown``) raising asyncio's exceptions (``asyncio.QueueEmpty``,
  ``asyncio.QueueFull``, ``asyncio.QueueShutDown``; before 3.13, where asyncio has no
  ``QueueShutDown``, ``rthreading.queue.ShutDown``).
- ``q.close()``, ``q.closed``, ``await q.wait_closed()``, ``await q.aclose()`` as janus 2 and
  culsans have them: ``close()`` is ``shutdown(immediate=True)``, ``closed`` is true once the
  queue is shut down, ``wait_closed()`` raises ``RuntimeError`` on a queue that is not.

The view keeps no state of its own: every call goes to the native queue (its ``*_nowait``
methods and the awaitables ``async_put``/``async_get``/``async_join``), which does all the
waiting, so threads and tasks on any number of event loops share one queue.
"""

# Implementer notes.
# - asyncio is imported on first use (creating a view, awaiting wait_closed), never by
#   `import rthreading`: it costs more than the whole of rthreading's import.
# - A view per access of `q.async_q`: it holds nothing but its queue, so two views of one queue
#   behave (and compare) as one. Measured on 3.13t here: making one costs ~220 ns; a cache of one
#   view per queue cost ~300 ns a hit and ~1.9 us a miss (a weak-valued map: the view holds its
#   queue, so the queue can't hold its view without a reference cycle, and queues before 3.13
#   have no instance dict to hold it in).
# - Semantics followed: culsans 0.11 (janus 2.0's, without janus's notifier tasks, which
#   rthreading does not need): closed == is_shutdown, wait_closed() checks then yields once.

import queue as _queue
import types as _types

__all__ = ["AsyncQueueProxy", "install"]

_Empty = _queue.Empty
_Full = _queue.Full
# The classes the native queues raise; set with asyncio's by _load().
_ShutDown = None
QueueEmpty = None
QueueFull = None
QueueShutDown = None


def _load():
    """Bind asyncio's exception classes (and the native ShutDown) to this module's globals."""
    global _ShutDown, QueueEmpty, QueueFull, QueueShutDown
    import asyncio

    from rthreading.queue import ShutDown

    _ShutDown = ShutDown
    QueueFull = asyncio.QueueFull
    # Before 3.13 asyncio has no QueueShutDown: the view raises what the native queue raises.
    QueueShutDown = getattr(asyncio, "QueueShutDown", ShutDown)
    # Last: the one a view's __init__ looks at; a thread that sees it set finds the others set.
    QueueEmpty = asyncio.QueueEmpty


class AsyncQueueProxy:
    """The ``asyncio.Queue`` API of an rthreading queue: ``q.async_q``.

    Every method acts on the queue itself, so what a task puts here a thread gets from ``q``
    and the other way round. It raises asyncio's exceptions where the queue raises the queue
    module's: ``asyncio.QueueEmpty``, ``asyncio.QueueFull`` and (from 3.13)
    ``asyncio.QueueShutDown``; before 3.13, ``rthreading.queue.ShutDown``.
    """

    __slots__ = ("_q", "__weakref__")

    __class_getitem__ = classmethod(_types.GenericAlias)

    def __init__(self, queue):
        if QueueEmpty is None:
            _load()
        self._q = queue

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self._q is other._q

    def __hash__(self):
        return hash((type(self), id(self._q)))

    def __repr__(self):
        return f"<{type(self).__name__} of {self._q!r}>"

    @property
    def wrapped(self):
        """The queue this is a view of (its ``sync_q``)."""
        return self._q

    @property
    def maxsize(self):
        """Number of items allowed in the queue (0 or less: no limit)."""
        return self._q.maxsize

    @property
    def closed(self):
        """True once the queue is shut down (closed), as janus's ``closed``."""
        return self._q.is_shutdown

    @property
    def unfinished_tasks(self):
        """The number of items put and not yet marked done with ``task_done()``."""
        return self._q.unfinished_tasks

    def qsize(self):
        """Number of items in the queue."""
        return self._q.qsize()

    def empty(self):
        """Return True if the queue is empty, False otherwise."""
        return self._q.empty()

    def full(self):
        """Return True if there are maxsize items in the queue.

        Note: if the Queue was initialized with maxsize=0 (the default), then full() is never
        True.
        """
        return self._q.full()

    async def put(self, item):
        """Put an item into the queue.

        If the queue is full, wait until a free slot is available before adding the item.
        Raises QueueShutDown if the queue has been shut down.
        """
        q = self._q
        try:
            # The first thing async_put does too; trying it here saves its set-up when it
            # succeeds (as it mostly does).
            return q.put_nowait(item)
        except _Full:
            pass
        except _ShutDown:
            raise QueueShutDown from None
        try:
            await q.async_put(item)
        except _ShutDown:
            raise QueueShutDown from None

    def put_nowait(self, item):
        """Put an item into the queue without blocking.

        If no free slot is immediately available, raise QueueFull. Raises QueueShutDown if the
        queue has been shut down.
        """
        try:
            self._q.put_nowait(item)
        except _Full:
            raise QueueFull from None
        except _ShutDown:
            raise QueueShutDown from None

    async def get(self):
        """Remove and return an item from the queue.

        If the queue is empty, wait until an item is available. Raises QueueShutDown if the
        queue has been shut down and is empty, or if it has been shut down immediately.
        """
        q = self._q
        try:
            return q.get_nowait()  # as async_get starts, without its set-up
        except _Empty:
            pass
        except _ShutDown:
            raise QueueShutDown from None
        try:
            return await q.async_get()
        except _ShutDown:
            raise QueueShutDown from None

    def get_nowait(self):
        """Remove and return an item from the queue.

        Return an item if one is immediately available, else raise QueueEmpty. Raises
        QueueShutDown if the queue has been shut down and is empty, or if it has been shut down
        immediately.
        """
        try:
            return self._q.get_nowait()
        except _Empty:
            raise QueueEmpty from None
        except _ShutDown:
            raise QueueShutDown from None

    def task_done(self):
        """Indicate that a formerly enqueued work item is complete.

        Raises ValueError if called more times than there were items placed in the queue.
        """
        self._q.task_done()

    async def join(self):
        """Block until all items in the queue have been received and processed."""
        await self._q.async_join()

    def shutdown(self, immediate=False):
        """Shut down the queue, making gets and puts raise QueueShutDown.

        By default, gets will only raise once the queue is empty. Set 'immediate' to True to
        make gets raise immediately instead. All blocked callers of put() and get() (tasks and
        threads) are woken; if 'immediate', each item left in the queue is marked done, which
        may unblock join().
        """
        self._q.shutdown(immediate)


_ASYNC_Q_DOC = """This queue's ``asyncio.Queue`` API (an ``rthreading.queue.AsyncQueueProxy``)."""


def _sync_q(self):
    """This queue itself: janus's ``sync_q``, the ``queue.Queue`` API."""
    return self


def _closed(self):
    """True once the queue is shut down (``close()`` or ``shutdown()``), as janus's ``closed``."""
    return self.is_shutdown


def close(self):
    """Close the queue: ``shutdown(immediate=True)``, as janus's and culsans's ``close()``.

    Gets and puts raise ShutDown (QueueShutDown on ``async_q``) from now on, the items left
    are dropped and marked done, and every waiting thread and task is woken.
    """
    self.shutdown(immediate=True)


async def wait_closed(self):
    """Wait until a closed queue has finished closing (as janus: call after ``close()``).

    rthreading has nothing left to finish once ``close()`` returns, so this only checks and
    yields to the event loop once. Raises RuntimeError if the queue is not closed.
    """
    if not self.is_shutdown:
        raise RuntimeError("Waiting for non-closed queue")
    import asyncio

    await asyncio.sleep(0)


async def aclose(self):
    """``close()``, then ``await wait_closed()``."""
    self.close()
    await self.wait_closed()


def install(classes):
    """Attach ``sync_q``, ``async_q``, ``closed``, ``close``, ``wait_closed`` and ``aclose`` to
    each of the queue classes given."""
    attributes = {
        "sync_q": property(_sync_q),
        "async_q": property(AsyncQueueProxy, doc=_ASYNC_Q_DOC),
        "closed": property(_closed),
        "close": close,
        "wait_closed": wait_closed,
        "aclose": aclose,
    }
    for cls in classes:
        for name, value in attributes.items():
            setattr(cls, name, value)
