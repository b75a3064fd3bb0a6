"""Shared fixtures and helpers. Most tests are differential: they take the `mod` fixture and run
the same scenario against the stdlib's `threading` and against `rthreading`, asserting the same
outcome."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import rthreading

MODULES = {"threading": threading, "rthreading": rthreading}


@pytest.fixture(params=list(MODULES), ids=list(MODULES))
def mod(request):
    """The module under test: the stdlib's threading, then rthreading."""
    return MODULES[request.param]


def both(fn):
    """fn(module) for the stdlib's threading, then for rthreading: both results."""
    return fn(threading), fn(rthreading)


def raises_same(fn):
    """Run fn(module) for both modules; return (type, message) of what each raised (or None)."""
    out = {}
    for name, m in MODULES.items():
        try:
            fn(m)
        except BaseException as e:  # noqa: BLE001 - we compare whatever is raised
            out[name] = (type(e), str(e))
        else:
            out[name] = None
    return out["threading"], out["rthreading"]


def outcome(fn):
    """('ok', value) or (exception type, message): what calling fn() did."""
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001 - compared as a whole
        return (type(e), str(e))


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


def norm(text):
    """A repr with the address and the module prefix made comparable."""
    return re.sub(r" at 0x[0-9a-f]+", " at ADDR", text).replace("rthreading.", "threading.")


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
