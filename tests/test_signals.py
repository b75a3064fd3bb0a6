"""Ctrl-C interrupts every blocking call on the main thread, as it does with the stdlib.

Each case starts a fresh interpreter whose main thread blocks forever in one call, sends it
SIGINT, and expects KeyboardInterrupt out of that call promptly, with the primitive left in the
state the stdlib leaves it in (nothing acquired on the interrupted thread's behalf). Every case
runs against the stdlib too: the same expectations hold there, which keeps the test honest.
"""

import os
import select
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="needs POSIX signals")

CHILD = """\
import sys, time
import threading as std
import {module} as threading

{setup}
print("ready", flush=True)
try:
    {call}
except KeyboardInterrupt:
    caught = time.monotonic()
    state = {state}
    print("KeyboardInterrupt", caught, repr(state), flush=True)
    sys.exit(0)
print("returned", flush=True)
sys.exit(1)
"""

# A thread (the stdlib's, so only the primitive under test differs) that takes `lock` and keeps it.
HOLD_IN_OTHER_THREAD = """\
held = std.Event()
def hold():
    lock.acquire()
    held.set()
    std.Event().wait()
std.Thread(target=hold, daemon=True).start()
assert held.wait(10)
"""

# (setup, state after the interrupt, expected state) that several cases share
LOCK = (
    "lock = threading.Lock()\nlock.acquire()",
    "(lock.locked(), lock.release(), lock.acquire(False))",
    (True, None, True),
)
RLOCK = (
    "lock = threading.RLock()\n" + HOLD_IN_OTHER_THREAD,
    "(lock._is_owned(), lock._recursion_count(), lock.acquire(False))",
    (False, 0, False),
)
CONDITION_STATE = ("(cond._is_owned(), cond.release(), cond.acquire(False))", (True, None, True))

# name: (the blocking call, setup, state after the interrupt, expected state)
CASES = {
    "Lock.acquire": ("lock.acquire()", *LOCK),
    "Lock.acquire-timeout": ("lock.acquire(timeout=60)", *LOCK),
    "Lock.with": ("with lock: pass", *LOCK),
    "RLock.acquire": ("lock.acquire()", *RLOCK),
    "RLock.acquire-timeout": ("lock.acquire(True, 60)", *RLOCK),
    "Condition.wait": (
        "cond.wait()",
        "cond = threading.Condition()\ncond.acquire()",
        *CONDITION_STATE,
    ),
    "Condition.wait-timeout": (
        "cond.wait(60)",
        "cond = threading.Condition(threading.Lock())\ncond.acquire()",
        *CONDITION_STATE,
    ),
    "Semaphore.acquire": (
        "sem.acquire()",
        "sem = threading.Semaphore(0)",
        "(sem.acquire(False), sem.release(), sem.acquire(False))",
        (False, None, True),
    ),
    "Event.wait": (
        "event.wait()",
        "event = threading.Event()",
        "(event.is_set(), event.wait(0))",
        (False, False),
    ),
    "Barrier.wait": (
        "barrier.wait()",
        "barrier = threading.Barrier(2)",
        "(barrier.n_waiting, barrier.broken)",
        (0, False),
    ),
}


def _read_line(proc, limit):
    ready, _, _ = select.select([proc.stdout], [], [], limit)
    return proc.stdout.readline() if ready else None


@pytest.mark.parametrize("case", list(CASES))
def test_sigint_interrupts_blocking_call(mod, case):
    call, setup, state, expected = CASES[case]
    code = CHILD.format(module=mod.__name__, setup=setup, call=call, state=state)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = _read_line(proc, 30)
        if first != "ready\n":
            out, err = proc.communicate(timeout=10)
            pytest.fail(f"child did not get ready: {first!r}{out}\n{err}")
        time.sleep(0.15)  # let it enter the blocking call
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the call returned on its own: {out}\n{err}")
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{mod.__name__}: {call} did not raise KeyboardInterrupt on SIGINT")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, (out, err)
    marker, caught, got_state = out.split(" ", 2)
    assert marker == "KeyboardInterrupt"
    assert got_state.strip() == repr(expected)
    assert float(caught) - sent < 1.0, "KeyboardInterrupt came more than a second after SIGINT"
