# rthreading.futures is a drop-in for concurrent.futures' thread pool: typed as the stdlib's
# classes (its Future and ThreadPoolExecutor are subclasses of them at run time too).
from concurrent.futures import ALL_COMPLETED as ALL_COMPLETED
from concurrent.futures import FIRST_COMPLETED as FIRST_COMPLETED
from concurrent.futures import FIRST_EXCEPTION as FIRST_EXCEPTION
from concurrent.futures import BrokenExecutor as BrokenExecutor
from concurrent.futures import CancelledError as CancelledError
from concurrent.futures import Executor as Executor
from concurrent.futures import Future as Future
from concurrent.futures import InvalidStateError as InvalidStateError
from concurrent.futures import ThreadPoolExecutor as ThreadPoolExecutor
from concurrent.futures import TimeoutError as TimeoutError
from concurrent.futures import as_completed as as_completed
from concurrent.futures import wait as wait
from concurrent.futures.thread import BrokenThreadPool as BrokenThreadPool

__all__ = [
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "BrokenExecutor",
    "BrokenThreadPool",
    "CancelledError",
    "Executor",
    "Future",
    "InvalidStateError",
    "ThreadPoolExecutor",
    "TimeoutError",
    "as_completed",
    "wait",
]
