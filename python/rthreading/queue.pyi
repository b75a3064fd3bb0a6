# rthreading.queue is a drop-in for the stdlib's queue module. SimpleQueue is typed as the
# stdlib's class, so code annotated with queue.SimpleQueue accepts rthreading's and the other way
# round. Queue, LifoQueue and PriorityQueue are the native classes, declared (in _core.pyi) as
# subclasses of the stdlib's: code annotated with queue.Queue accepts them, and their additions
# (sync_q, async_q, close(), ...) type-check.
import sys
from typing import SupportsFloat, TypeVar

from queue import Empty as Empty
from queue import Full as Full
from queue import SimpleQueue as SimpleQueue

from rthreading._async_queue import AsyncQueueProxy as AsyncQueueProxy
from rthreading._core import LifoQueue as LifoQueue
from rthreading._core import PriorityQueue as PriorityQueue
from rthreading._core import Queue as Queue

if sys.version_info >= (3, 13):
    from queue import ShutDown as ShutDown
else:
    class ShutDown(Exception): ...

__all__ = ["Empty", "Full", "ShutDown", "Queue", "PriorityQueue", "LifoQueue", "SimpleQueue"]

_T = TypeVar("_T")

# Beyond the stdlib (not in __all__): one item from whichever queue has one first.
def select(
    *queues: Queue[_T] | SimpleQueue[_T], timeout: SupportsFloat | None = None
) -> tuple[Queue[_T] | SimpleQueue[_T], _T]: ...
