"""acquire() arguments and helpers shared by test_lock.py and test_rlock.py."""

import sys
import threading

import pytest

from helpers import outcome


def outcome_when_held(make_lock, call, depth=1, limit=2.0):
    """What `call(lock)` does in another thread while this thread holds the lock (`depth` times);
    'blocked' if it has not returned within `limit` (the lock is then released so it can end)."""
    lock = make_lock()
    for _ in range(depth):
        lock.acquire()
    box = []
    t = threading.Thread(target=lambda: box.append(outcome(lambda: call(lock))), daemon=True)
    t.start()
    t.join(limit)
    blocked = t.is_alive()
    for _ in range(depth):
        lock.release()
    if blocked:
        t.join(5)
        return "blocked"
    return box[0]


# Behaviour that changed in CPython 3.13 (rthreading follows the newest): before it, `blocking`
# had to be an int, so `acquire(None)` / `acquire(())` raised TypeError.
OLD_BLOCKING_PARSE = sys.version_info < (3, 13)


def skip_old_blocking(args, kwargs):
    """Skip where this stdlib predates 3.13's parsing of `blocking`."""
    b = args[0] if args else kwargs.get("blocking", True)
    if OLD_BLOCKING_PARSE and not isinstance(b, int):
        pytest.skip("CPython < 3.13 parsed `blocking` as an int; rthreading follows 3.13+")


def pick(params, *ids):
    """The entries of a pytest.param table with these ids, in the table's order."""
    missing = set(ids) - {p.id for p in params}
    assert not missing, missing
    return [p for p in params if p.id in ids]


class Index:
    """Not an int, but has __index__ (read as an integer number of seconds)."""

    def __init__(self, v):
        self.v = v

    def __index__(self):
        return self.v


class Seconds(float):
    pass


NAN = float("nan")
INF = float("inf")

# acquire() arguments that return at once (or raise) even when the lock is held by another
# thread: checked on a held and on a free lock.
NON_BLOCKING_ARGS = [
    pytest.param((), {"blocking": False}, id="blocking=False"),
    pytest.param((False,), {}, id="positional-False"),
    pytest.param((0,), {}, id="blocking=0"),
    pytest.param((None,), {}, id="blocking=None"),
    pytest.param(((),), {}, id="blocking=()"),
    pytest.param((), {"blocking": False, "timeout": -1}, id="nonblocking-timeout=-1"),
    pytest.param((), {"blocking": False, "timeout": -1.0}, id="nonblocking-timeout=-1.0"),
    pytest.param((), {"timeout": 0}, id="timeout=0"),
    pytest.param((), {"timeout": 0.0}, id="timeout=0.0"),
    pytest.param((True, 0.001), {}, id="positional-timeout"),
    pytest.param((), {"timeout": 1e-9}, id="timeout=1ns"),
    pytest.param((), {"timeout": Index(0)}, id="timeout=__index__"),
    pytest.param((), {"timeout": Seconds(0.001)}, id="timeout=float-subclass"),
    pytest.param((), {"timeout": False}, id="timeout=False"),
    # errors
    pytest.param((), {"timeout": -2}, id="timeout=-2"),
    pytest.param((), {"timeout": -0.5}, id="timeout=-0.5"),
    pytest.param((), {"timeout": -1e-10}, id="timeout=-1e-10"),
    pytest.param((), {"timeout": -(2**40)}, id="timeout=-2**40"),
    pytest.param((), {"blocking": False, "timeout": 1}, id="nonblocking-with-timeout"),
    pytest.param((), {"blocking": False, "timeout": 0}, id="nonblocking-timeout=0"),
    pytest.param((), {"blocking": False, "timeout": -2}, id="nonblocking-timeout=-2"),
    pytest.param((0, 0.5), {}, id="positional-nonblocking-with-timeout"),
    pytest.param((), {"timeout": NAN}, id="timeout=nan"),
    pytest.param((), {"timeout": INF}, id="timeout=inf"),
    pytest.param((), {"timeout": -INF}, id="timeout=-inf"),
    pytest.param((), {"timeout": 1e300}, id="timeout=1e300"),
    pytest.param((), {"timeout": threading.TIMEOUT_MAX * 2}, id="timeout=2*TIMEOUT_MAX"),
    pytest.param((), {"timeout": threading.TIMEOUT_MAX + 1}, id="timeout=TIMEOUT_MAX+1"),
    pytest.param((), {"timeout": 2**62}, id="timeout=2**62"),
    pytest.param((), {"timeout": 2**63}, id="timeout=2**63"),
    pytest.param((), {"timeout": 2**70}, id="timeout=2**70"),
    pytest.param((), {"timeout": -(2**70)}, id="timeout=-2**70"),
    pytest.param((), {"timeout": 10**100}, id="timeout=10**100"),
    pytest.param((), {"timeout": "1"}, id="timeout=str"),
    pytest.param((), {"timeout": None}, id="timeout=None"),
    pytest.param((), {"timeout": b"1"}, id="timeout=bytes"),
    pytest.param((), {"timeout": 1j}, id="timeout=complex"),
    pytest.param((), {"timeout": []}, id="timeout=list"),
    pytest.param((), {"timeout": Index(-5)}, id="timeout=__index__-negative"),
    pytest.param((), {"blocking": False, "timeout": None}, id="nonblocking-timeout=None"),
    pytest.param((), {"blocking": False, "timeout": NAN}, id="nonblocking-timeout=nan"),
]

# Arguments that wait forever (or for ages) on a held lock: checked on a free lock only.
BLOCKING_ARGS = [
    pytest.param((), {}, id="no-args"),
    pytest.param((True,), {}, id="blocking=True"),
    pytest.param((1,), {}, id="blocking=1"),
    pytest.param((), {"blocking": True, "timeout": -1}, id="timeout=-1"),
    pytest.param((), {"timeout": -1.0}, id="timeout=-1.0"),
    pytest.param((), {"timeout": 5}, id="timeout=5"),
    pytest.param((), {"timeout": threading.TIMEOUT_MAX}, id="timeout=TIMEOUT_MAX"),
    # above TIMEOUT_MAX (a float) but within PY_TIMEOUT_MAX (microseconds): accepted
    pytest.param((), {"timeout": threading.TIMEOUT_MAX + 0.5}, id="timeout=TIMEOUT_MAX+0.5"),
    pytest.param((), {"timeout": 2**33}, id="timeout=2**33"),
    pytest.param((), {"timeout": True}, id="timeout=True"),
]

# acquire() keywords that raise: the same exception type and message as the stdlib's.
ERROR_KWARGS = [
    {"timeout": -2},
    {"blocking": False, "timeout": 1},
    {"timeout": NAN},
    {"timeout": 2**70},
    {"timeout": 1e300},
    {"timeout": "x"},
    {"timeout": None},
]
