"""rthreading: Python's threading toolkit in Rust, for free-threaded CPython.

Use it in place of the stdlib module: ``import rthreading as threading``. Every wait releases
the interpreter; on the main thread every wait is interrupted by Ctrl-C.

The synchronisation primitives are native. The rest of the ``threading`` namespace (Thread,
Timer, local, current_thread, ...) is the stdlib's own, re-exported so that every program
written for ``threading`` runs unchanged.
"""

import threading as _threading

from rthreading._core import (
    Barrier,
    BoundedSemaphore,
    Condition,
    Event,
    Lock,
    RLock,
    Semaphore,
)

_NATIVE = ["Barrier", "BoundedSemaphore", "Condition", "Event", "Lock", "RLock", "Semaphore"]

# Everything else in the running interpreter's threading namespace, from the stdlib.
for _name in _threading.__all__:
    if _name not in _NATIVE:
        globals()[_name] = getattr(_threading, _name)

__all__ = sorted(set(_threading.__all__) | set(_NATIVE))

# The queue module's classes, at the top level too (``rthreading.Queue``): see rthreading.queue.
from rthreading.queue import (  # noqa: E402
    Empty,
    Full,
    LifoQueue,
    PriorityQueue,
    Queue,
    ShutDown,
    SimpleQueue,
)

del _name
