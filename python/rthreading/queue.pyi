# rthreading.queue is a drop-in for the stdlib's queue module: typed as the stdlib's classes,
# so code annotated with queue.Queue accepts rthreading's and the other way round.
import sys
from typing import SupportsFloat, TypeVar

from queue import Empty as Empty
from queue import Full as Full
from queue import LifoQueue as LifoQueue
from queue import PriorityQueue as PriorityQueue
from queue import Queue as Queue
from queue import SimpleQueue as SimpleQueue

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
