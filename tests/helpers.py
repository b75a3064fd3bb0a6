"""Helpers the test modules share (`from helpers import ...`); conftest.py keeps the fixtures.

Most tests are differential: the same scenario runs against the stdlib and against rthreading,
and what is observable must be the same. Each helper here has one meaning, and its name says
which modules it compares:

- threading / rthreading: `MODULES`, `both`, `raises_same`
- concurrent.futures / rthreading.futures: `FUTURES_MODULES`, `both_futures`
- queue / rthreading.queue: `QUEUE_MODULES`, `queue_outcomes`, `assert_queues_agree`

An outcome is what calling a function did, as a comparable value: `("ok", value)`, or
`(exception type, message)`. `outcome` records an `Exception` (anything else, such as a
KeyboardInterrupt, propagates); `outcome_any` records a `BaseException` too.
"""

import concurrent.futures as cf
import contextlib
import os
import queue as std_queue
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import rthreading
import rthreading.futures as rf
import rthreading.queue as rt_queue

MODULES = {"threading": threading, "rthreading": rthreading}
FUTURES_MODULES = {"stdlib": cf, "rthreading": rf}
QUEUE_MODULES = {"queue": std_queue, "rthreading.queue": rt_queue}
QUEUE_CLASSES = ["Queue", "LifoQueue", "PriorityQueue"]

# From 3.13 on, rthreading.Thread and Timer are the stdlib's own classes (and rthreading.local
# is threading.local on every version), so a test that runs them against the stdlib's compares
# CPython with itself there. Such tests run before 3.13 only, where rthreading's Thread and
# Timer are its own subclasses (rthreading._legacy_thread).
THREAD_IS_THE_STDLIBS = sys.version_info >= (3, 13)
legacy_thread_only = pytest.mark.skipif(
    THREAD_IS_THE_STDLIBS,
    reason="from 3.13 on rthreading.Thread/Timer/local are threading's own: this would compare CPython with itself",
)


# --- outcomes --------------------------------------------------------------------------------


def outcome(fn):
    """('ok', value) or (exception type, message): what calling fn() did. Records an
    Exception; a BaseException that is not one propagates."""
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001 - compared as a whole
        return (type(e), str(e))


def outcome_any(fn):
    """As `outcome`, but records any BaseException too (KeyboardInterrupt, SystemExit,
    GeneratorExit, asyncio.CancelledError)."""
    try:
        return ("ok", fn())
    except BaseException as e:  # noqa: BLE001 - compared, not swallowed
        return (type(e), str(e))


# --- threading against rthreading ------------------------------------------------------------


def both(fn):
    """fn(module) for the stdlib's threading, then for rthreading: both results."""
    return fn(threading), fn(rthreading)


def raises_same(fn):
    """Run fn(module) for threading and rthreading; return (type, message) of what each raised
    (any BaseException), or None where it returned."""
    out = {}
    for name, m in MODULES.items():
        try:
            fn(m)
        except BaseException as e:  # noqa: BLE001 - we compare whatever is raised
            out[name] = (type(e), str(e))
        else:
            out[name] = None
    return out["threading"], out["rthreading"]


def norm_repr(text):
    """A threading or rthreading repr made comparable: its address masked (" at ADDR"), the
    module prefix "rthreading." read as "threading."."""
    return re.sub(r" at 0x[0-9a-f]+", " at ADDR", text).replace("rthreading.", "threading.")


# --- concurrent.futures against rthreading.futures -----------------------------------------


def both_futures(fn):
    """fn(module) for concurrent.futures, then for rthreading.futures: both results."""
    return fn(cf), fn(rf)


def mask_addresses(text):
    """`text` with every hexadecimal address (0x...) replaced by ADDR."""
    return re.sub(r"0x[0-9a-f]+", "ADDR", text)


# --- queue against rthreading.queue --------------------------------------------------------


def queue_outcomes(scenario):
    """[outcome of scenario(queue), outcome of scenario(rthreading.queue)]."""
    return [outcome(lambda m=m: scenario(m)) for m in QUEUE_MODULES.values()]


def assert_queues_agree(scenario):
    """scenario(module) has the same outcome with the stdlib's queue and rthreading's; return it."""
    std, rt = queue_outcomes(scenario)
    assert rt == std
    return std


def queue_state(q):
    """What a Queue shows of its state: (qsize, empty, full, unfinished_tasks)."""
    return (q.qsize(), q.empty(), q.full(), q.unfinished_tasks)


QUEUE_OPS = [
    "put",
    "put_nowait",
    "put_block_false",
    "put_timeout0",
    "get",
    "get_nowait",
    "get_block_false",
    "get_timeout0",
    "task_done",
    "qsize",
]


def apply_queue_op(q, op, x):
    """Do QUEUE_OPS' `op` on q (with item x where it takes one), never blocking: a blocking
    put or get that would wait times out at once instead."""
    return {
        "put": lambda: q.put(x, True, 0) if q.full() else q.put(x),
        "put_nowait": lambda: q.put_nowait(x),
        "put_block_false": lambda: q.put(x, block=False),
        "put_timeout0": lambda: q.put(x, timeout=0),
        "get": lambda: q.get(True, 0) if q.empty() else q.get(),
        "get_nowait": q.get_nowait,
        "get_block_false": lambda: q.get(block=False),
        "get_timeout0": lambda: q.get(timeout=0),
        "task_done": q.task_done,
        "qsize": q.qsize,
    }[op]()


class Truthy:
    """An object whose truth value is `value`; bool() raises RuntimeError if it is None."""

    def __init__(self, value):
        self.value = value

    def __bool__(self):
        if self.value is None:
            raise RuntimeError("no truth value")
        return self.value


# --- threads, waiting, signals, child interpreters --------------------------------------------


def in_thread(fn, limit=10.0):
    """outcome(fn) in a new thread (joined); 'blocked' if it did not finish within `limit`."""
    box = []
    t = threading.Thread(target=lambda: box.append(outcome(fn)), daemon=True)
    t.start()
    t.join(limit)
    return box[0] if box else "blocked"


def start(fn, *args):
    """A started daemon thread running fn(*args)."""
    t = threading.Thread(target=fn, args=args, daemon=True)
    t.start()
    return t


def wait_until(pred, timeout=10.0):
    """Poll until pred() is true; fail the test if it is not within `timeout` seconds."""
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, "condition never became true"
        time.sleep(0.001)


@contextlib.contextmanager
def sigusr1_after(delay):
    """Within the block, SIGUSR1 arrives after `delay` seconds and raises the exception class
    this yields. Skips the test off the main thread (as under pytest-run-parallel): only the
    main thread runs signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals run on the main thread")

    class Interrupted(Exception):
        pass

    def handler(signum, frame):
        raise Interrupted

    old = signal.signal(signal.SIGUSR1, handler)
    timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGUSR1))
    try:
        timer.start()
        yield Interrupted
    finally:
        timer.cancel()  # the block ended before the signal came: it must not come later
        timer.join()
        signal.signal(signal.SIGUSR1, old)


def run_python(code, *, timeout=30, env=None):
    """Run `code` in a fresh interpreter (the one running the tests); return CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
