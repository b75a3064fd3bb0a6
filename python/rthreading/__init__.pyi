# rthreading's namespace for type checkers: threading's, name for name. The native primitives
# come from rthreading._core (declared there as subtypes of the stdlib's classes); everything
# else is the stdlib's own object at run time and is re-exported from typeshed's threading
# stub here, so it has exactly the stdlib's types on every Python version.
#
# rthreading.queue and rthreading.futures have no stubs yet: type checkers read their sources.

import sys

from _typeshed import ProfileFunction, TraceFunction
from rthreading._core import (
    Barrier as Barrier,
    BoundedSemaphore as BoundedSemaphore,
    Condition as Condition,
    Event as Event,
    Lock as Lock,
    RLock as RLock,
    Semaphore as Semaphore,
)
from threading import (
    TIMEOUT_MAX as TIMEOUT_MAX,
    BrokenBarrierError as BrokenBarrierError,
    ExceptHookArgs as ExceptHookArgs,
    Thread as Thread,
    ThreadError as ThreadError,
    Timer as Timer,
    __excepthook__ as __excepthook__,
    active_count as active_count,
    activeCount as activeCount,
    current_thread as current_thread,
    currentThread as currentThread,
    enumerate as enumerate,
    excepthook as excepthook,
    get_ident as get_ident,
    get_native_id as get_native_id,
    getprofile as getprofile,
    gettrace as gettrace,
    local as local,
    main_thread as main_thread,
    setprofile as setprofile,
    settrace as settrace,
    stack_size as stack_size,
)

if sys.version_info >= (3, 12):
    from threading import (
        setprofile_all_threads as setprofile_all_threads,
        settrace_all_threads as settrace_all_threads,
    )
else:
    # The stdlib's from 3.12 on; rthreading's own before.
    def setprofile_all_threads(func: ProfileFunction | None) -> None: ...
    def settrace_all_threads(func: TraceFunction | None) -> None: ...

# The queue module's classes, also at the top level (see rthreading.queue).
from rthreading.queue import (
    Empty as Empty,
    Full as Full,
    LifoQueue as LifoQueue,
    PriorityQueue as PriorityQueue,
    Queue as Queue,
    ShutDown as ShutDown,
    SimpleQueue as SimpleQueue,
)

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
