"""rthreading: Python's threading toolkit in Rust, for free-threaded CPython.

Use it in place of the stdlib module: ``import rthreading as threading``. Every wait releases
the interpreter; on the main thread every wait is interrupted by Ctrl-C.
"""

from threading import BrokenBarrierError, TIMEOUT_MAX

from rthreading._core import (
    Barrier,
    BoundedSemaphore,
    Condition,
    Event,
    Lock,
    RLock,
    Semaphore,
)

__all__ = [
    "Barrier",
    "BoundedSemaphore",
    "BrokenBarrierError",
    "Condition",
    "Event",
    "Lock",
    "RLock",
    "Semaphore",
    "TIMEOUT_MAX",
]
