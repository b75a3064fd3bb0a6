"""rthreading: Python's threading toolkit in Rust, for free-threaded CPython.

Use it in place of the stdlib module: ``import rthreading as threading``. Every wait releases
the interpreter; on the main thread every wait is interrupted by Ctrl-C.

The synchronisation primitives are native. The rest of the ``threading`` namespace is the
stdlib's own objects, re-exported where the stdlib is already native and right: ``local``,
``get_ident``, ``get_native_id``, ``stack_size`` and ``excepthook`` are C; ``Thread`` starts and
(from 3.13) joins threads in C, waiting detached and interruptibly, and its bookkeeping is what
``current_thread()``, ``enumerate()``, ``excepthook``, ``logging`` and the exit-time join of
non-daemon threads rely on, so an rthreading ``Thread`` *is* a ``threading.Thread``. Before
3.13, ``Thread`` and ``Timer`` are subclasses that fix an interrupted ``join()`` (see
``rthreading._legacy_thread``). Any other attribute of ``threading`` (deprecated aliases such
as ``currentThread``, private helpers) is read from the stdlib module.

``rthreading.ThreadPoolExecutor`` is ``rthreading.futures.ThreadPoolExecutor`` (imported on
first use, as ``threading`` does not import ``concurrent.futures`` either).
"""

import sys as _sys
import threading as _threading
import types as _types

from rthreading._core import (
    Barrier,
    BoundedSemaphore,
    Condition,
    Event,
    Lock,
    RLock,
    Semaphore,
)
from threading import (
    TIMEOUT_MAX,
    BrokenBarrierError,
    ExceptHookArgs,
    ThreadError,
    __excepthook__,
    active_count,
    current_thread,
    enumerate,
    get_ident,
    get_native_id,
    getprofile,
    gettrace,
    local,
    main_thread,
    setprofile,
    settrace,
    stack_size,
)

if _sys.version_info >= (3, 13):
    from threading import Thread, Timer
else:
    from rthreading._legacy_thread import Thread, Timer

if _sys.version_info >= (3, 12):
    from threading import setprofile_all_threads, settrace_all_threads
else:
    from rthreading._legacy_trace import setprofile_all_threads, settrace_all_threads

__all__ = [
    "Barrier",
    "BoundedSemaphore",
    "BrokenBarrierError",
    "Condition",
    "Event",
    "ExceptHookArgs",
    "Lock",
    "RLock",
    "Semaphore",
    "TIMEOUT_MAX",
    "Thread",
    "ThreadError",
    "Timer",
    "active_count",
    "current_thread",
    "enumerate",
    "excepthook",
    "get_ident",
    "get_native_id",
    "getprofile",
    "gettrace",
    "local",
    "main_thread",
    "setprofile",
    "setprofile_all_threads",
    "settrace",
    "settrace_all_threads",
    "stack_size",
]

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

# Beyond the stdlib: primitives threading never had. Not in __all__ (see below).
from rthreading._core import AtomicInt, CountDownLatch, RWLock  # noqa: E402

# Beyond the stdlib: asyncio tasks await the same objects threads wait on (async_acquire,
# `async with`, async_wait, async_get/async_put/async_join), see rthreading._aio.
from rthreading import _aio  # noqa: E402

_aio.install()

# Beyond the stdlib: finding deadlocks and hot locks (see rthreading._diag). Not in __all__, so
# `from rthreading import *` brings exactly the threading namespace.
from rthreading._diag import (  # noqa: E402
    Deadlock,
    DeadlockError,
    LockStats,
    disable_deadlock_watchdog,
    disable_stats,
    disable_strict_deadlocks,
    dump,
    enable_deadlock_watchdog,
    enable_stats,
    enable_strict_deadlocks,
    find_deadlocks,
    held_locks,
    reset_stats,
    stats,
    track,
)

# Beyond the stdlib: the whole program on rthreading (python -m rthreading, RTHREADING_PATCH=1),
# see rthreading._patch. Not in __all__ either.
from rthreading._patch import patch, patched, unpatch  # noqa: E402


class _Module(_types.ModuleType):
    """rthreading's module type. ``excepthook`` is the stdlib module's attribute, read and
    written through: the threads' machinery calls ``threading.excepthook``, so a program that
    installs its hook with ``rthreading.excepthook = hook`` must set that one."""

    @property
    def excepthook(self):
        return _threading.excepthook

    @excepthook.setter
    def excepthook(self, hook):
        _threading.excepthook = hook


def __getattr__(name):
    if name == "__version__":  # the installed distribution's, read on first use
        from importlib.metadata import version

        globals()["__version__"] = v = version("rthreading")
        return v
    if name == "ThreadPoolExecutor":  # imported on first use, as threading doesn't either
        from rthreading.futures import ThreadPoolExecutor

        globals()["ThreadPoolExecutor"] = ThreadPoolExecutor
        return ThreadPoolExecutor
    # The rest of the stdlib module (deprecated aliases, private helpers some libraries use).
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        return getattr(_threading, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__():
    return sorted(set(globals()) | {"excepthook", "ThreadPoolExecutor"})


_sys.modules[__name__].__class__ = _Module

# RTHREADING_DEADLOCK_WATCHDOG=<seconds> starts the deadlock watchdog for the whole program.
from rthreading import _diag  # noqa: E402

_diag._watchdog_from_environment()
