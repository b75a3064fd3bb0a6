# rthreading.queue is a drop-in for the stdlib's queue module. Its classes are declared (in
# _core.pyi) as subclasses of the stdlib's, so code annotated with queue.Queue accepts
# rthreading's; they add the awaitables (async_get, async_put, async_join).
import sys
from typing import SupportsFloat, TypeVar

from queue import Empty as Empty
from queue import Full as Full
from rthreading._core import LifoQueue as LifoQueue
from rthreading._core import PriorityQueue as PriorityQueue
from rthreading._core import Queue as Queue
from rthreading._core import SimpleQueue as SimpleQueue

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
