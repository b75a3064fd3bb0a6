"""rthreading: Python's threading toolkit in Rust, for free-threaded CPython.

Use it in place of the stdlib module: ``import rthreading as threading``. Every wait releases
the interpreter; on the main thread every wait is interrupted by Ctrl-C.

The synchronisation primitives are native. The rest of the ``threading`` namespace (Thread,
Timer, local, current_thread, ...) is the stdlib's own, re-exported so that every program
written for ``threading`` runs unchanged.

``rthreading.ThreadPoolExecutor`` is ``rthreading.futures.ThreadPoolExecutor`` (imported on
first use, as ``threading`` does not import ``concurrent.futures`` either).
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

del _name


def __getattr__(name):
    if name == "ThreadPoolExecutor":
        from rthreading.futures import ThreadPoolExecutor

        globals()["ThreadPoolExecutor"] = ThreadPoolExecutor
        return ThreadPoolExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"ThreadPoolExecutor"})
