# rthreading's namespace for type checkers: threading's, name for name. The native primitives
# come from rthreading._core (declared there as subtypes of the stdlib's classes); everything
# else is the stdlib's own object at run time and is re-exported from typeshed's threading
# stub here, so it has exactly the stdlib's types on every Python version.
#
# rthreading.queue and rthreading.futures have their own stubs (queue.pyi, futures.pyi). The
# docstrings are the run-time objects' (help(), and the API reference, which imports the
# package); the stubs carry types only.

import asyncio
import sys

__version__: str

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

# Beyond the stdlib: primitives threading never had (not in __all__).
from rthreading._core import AtomicInt as AtomicInt
from rthreading._core import CountDownLatch as CountDownLatch
from rthreading._core import RWLock as RWLock

# Beyond the stdlib: finding deadlocks and hot locks (not in __all__).
from typing import Any, SupportsFloat, TextIO

from rthreading._core import DeadlockError as DeadlockError

class Deadlock:
    threads: tuple[int, ...]
    tasks: tuple[asyncio.Task[Any] | None, ...]
    locks: tuple[Any, ...]
    def __init__(
        self, edges: list[tuple[int, Any, str, Any | None, int]], names: dict[int | None, str] | None = None
    ) -> None: ...
    @property
    def edges(self) -> tuple[tuple[int, Any], ...]: ...
    @property
    def thread_names(self) -> tuple[str | None, ...]: ...
    def __len__(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class LockStats:
    object: Any | None
    kind: str
    name: str
    site: str | None
    acquisitions: int
    contended: int
    total_wait: float
    max_wait: float
    put_waits: int
    get_waits: int
    def __init__(
        self,
        obj: Any | None,
        kind: str,
        site: str | None,
        acquisitions: int,
        contended: int,
        wait_ns: int,
        max_wait_ns: int,
        put_waits: int = 0,
        get_waits: int = 0,
    ) -> None: ...

def find_deadlocks() -> list[Deadlock]: ...
def held_locks() -> list[Lock | RLock | RWLock]: ...
def dump(file: TextIO | None = None, stacks: bool = False) -> None: ...
def enable_deadlock_watchdog(interval: SupportsFloat = 10.0, file: TextIO | None = None) -> None: ...
def disable_deadlock_watchdog() -> None: ...
def enable_strict_deadlocks() -> None: ...
def disable_strict_deadlocks() -> None: ...
def enable_stats() -> None: ...
def disable_stats() -> None: ...
def reset_stats() -> None: ...
def track(obj: Lock | RLock | RWLock | Condition | Queue[Any]) -> None: ...
def stats() -> list[LockStats]: ...
def patch() -> None: ...
def unpatch() -> None: ...
def patched() -> bool: ...

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
