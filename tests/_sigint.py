"""A helper for the Ctrl-C tests of rthreading's own primitives (those without a stdlib
analogue): a fresh interpreter runs `setup`, blocks in `call` on its main thread, gets SIGINT,
and must raise KeyboardInterrupt out of that call promptly; it then prints `repr(state)`."""

import os
import select
import signal
import subprocess
import sys
import time

import pytest

CHILD = """\
import sys, time
import threading as std
import rthreading

{setup}
print("ready", flush=True)
try:
    {call}
except KeyboardInterrupt:
    print("KeyboardInterrupt", repr({state}), flush=True)
    sys.exit(0)
print("returned", flush=True)
sys.exit(1)
"""

needs_signals = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")


def _read_line(proc, limit):
    ready, _, _ = select.select([proc.stdout], [], [], limit)
    return proc.stdout.readline() if ready else None


def interrupted_state(setup, call, state):
    """repr(state) as the child printed it after `call` raised KeyboardInterrupt."""
    code = CHILD.format(setup=setup, call=call, state=state)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = _read_line(proc, 30)
        if first != "ready\n":
            out, err = proc.communicate(timeout=10)
            pytest.fail(f"child did not get ready: {first!r}{out}\n{err}")
        time.sleep(0.15)  # let it enter the blocking call
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{call} did not raise KeyboardInterrupt on SIGINT")
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, (out, err)
    marker, got = out.strip().split(" ", 1)
    assert marker == "KeyboardInterrupt"
    assert took < 5.0, "KeyboardInterrupt came long after SIGINT"
    return got
