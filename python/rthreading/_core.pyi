# The native primitives. Each is declared a subclass of the threading class it replaces, so
# that type checkers accept an rthreading object wherever the stdlib's is accepted (annotations,
# threading.Condition(rthreading.Lock()), ...): at run time they are not subclasses, but they
# have the same methods, signatures and behaviour. What the stdlib's classes declare is
# inherited from typeshed's stubs; what rthreading adds is declared here.
#
# typeshed marks the stdlib's Lock and RLock final (they cannot be subclassed at run time, and
# neither can rthreading's): the `type: ignore[misc]` below waives that for these declarations.

import queue
import sys
import threading
from typing import Any, TypeVar, final

from _typeshed import ProfileFunction, TraceFunction
from typing_extensions import Self, disjoint_base

__all__ = [
    "Barrier",
    "BoundedSemaphore",
    "Condition",
    "DeadlockError",
    "Event",
    "Future",
    "LifoQueue",
    "Lock",
    "PriorityQueue",
    "Queue",
    "RLock",
    "Semaphore",
    "SimpleQueue",
    "ThreadPoolExecutor",
    "WorkerTicket",
    "_acquire_and_release",
    "_after_fork_in_child",
    "_cycles",
    "_lock_owner",
    "_python_exit",
    "_register_future_class",
    "_reset_stats",
    "_set_stats_enabled",
    "_set_strict_deadlocks",
    "_setprofileallthreads",
    "_settraceallthreads",
    "_stats",
    "_track",
    "_waits",
]

@final
class Lock(threading.Lock):  # type: ignore[misc]
    def _at_fork_reinit(self) -> None: ...

@final
class RLock(threading.RLock):  # type: ignore[misc]
    # 3.14's RLock.locked(), on every interpreter.
    def locked(self) -> bool: ...
    def _is_owned(self) -> bool: ...
    def _recursion_count(self) -> int: ...
    def _release_save(self) -> tuple[int, int]: ...
    def _acquire_restore(self, state: tuple[int, int]) -> None: ...
    def _at_fork_reinit(self) -> None: ...

@disjoint_base
class Condition(threading.Condition):
    def __new__(cls, lock: threading.Lock | threading._RLock | threading.RLock | None = None) -> Self: ...
    def _is_owned(self) -> bool: ...
    def _at_fork_reinit(self) -> None: ...

@disjoint_base
class Semaphore(threading.Semaphore): ...

@disjoint_base
class BoundedSemaphore(Semaphore, threading.BoundedSemaphore): ...

@disjoint_base
class Event(threading.Event):
    def _at_fork_reinit(self) -> None: ...

@disjoint_base
class Barrier(threading.Barrier): ...

# Helpers of the Python layer (CPython before 3.13 and 3.12; see _legacy_*.py).
def _acquire_and_release(lock: Any, *args: Any) -> bool: ...
def _settraceallthreads(func: TraceFunction | None) -> None: ...
def _setprofileallthreads(func: ProfileFunction | None) -> None: ...

# The queue classes, declared as the stdlib's (see rthreading.queue).
_T = TypeVar("_T")

@disjoint_base
class Queue(queue.Queue[_T]):
    def __new__(cls, maxsize: int = 0) -> Self: ...
    if sys.version_info < (3, 13):
        # 3.13's queue shutdown, which rthreading provides on every Python.
        is_shutdown: bool
        def shutdown(self, immediate: bool = False) -> None: ...

class LifoQueue(Queue[_T], queue.LifoQueue[_T]): ...
class PriorityQueue(Queue[Any], queue.PriorityQueue[Any]): ...  # typeshed bounds its item type

@disjoint_base
class SimpleQueue(queue.SimpleQueue[_T]): ...

# The thread pool's building blocks, used only by rthreading.futures (see futures.pyi).
class Future: ...
class ThreadPoolExecutor: ...
class WorkerTicket: ...

def _register_future_class(cls: type[Any], /) -> None: ...
def _python_exit() -> None: ...
def _after_fork_in_child() -> None: ...

# Finding deadlocks and hot locks: the native parts behind rthreading's functions of the same
# names (rthreading._diag).
class DeadlockError(RuntimeError): ...

def _waits() -> list[tuple[int, Any, str, int | None, bool, float]]: ...
def _cycles() -> list[list[tuple[int, Any, str]]]: ...
def _lock_owner(obj: object) -> tuple[bool, int] | None: ...
def _set_strict_deadlocks(on: bool) -> bool: ...
def _set_stats_enabled(on: bool) -> bool: ...
def _track(obj: object) -> None: ...
def _stats() -> list[tuple[Any, str, str | None, int, int, int, int, int, int]]: ...
def _reset_stats() -> None: ...
