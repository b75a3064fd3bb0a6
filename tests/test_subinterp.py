"""Subinterpreters: importing rthreading in one fails with a clear ImportError, and nothing a
subinterpreter does (importing rthreading, starting threads, several in a row) disturbs the main
interpreter's rthreading. Each scenario runs in a fresh process, so a hang or a crash there fails
the test instead of the run."""

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.thread_unsafe(reason="spawns interpreters in subprocesses")

# What the main interpreter checks after the subinterpreters ran: every primitive still works,
# and a bad release still raises (it used to spin forever in the fast entry).
MAIN_CHECKS = """
import queue, threading
import rthreading
from rthreading.futures import ThreadPoolExecutor
from rthreading.queue import Queue
try:
    rthreading.Lock().release()
except RuntimeError as e:
    print("lock:", e)
try:
    rthreading.RLock().release()
except RuntimeError as e:
    print("rlock:", e)
lock = rthreading.Lock()
with lock:
    assert lock.locked()
cond = rthreading.Condition()
with cond:
    cond.notify()
q = Queue()
t = threading.Thread(target=q.put, args=(42,))
t.start()
print("queue:", q.get(timeout=5))
t.join()
ev = rthreading.Event()
threading.Timer(0.01, ev.set).start()
print("event:", ev.wait(5))
with ThreadPoolExecutor(2) as pool:
    print("pool:", pool.submit(pow, 2, 10).result(timeout=5))
"""

MAIN_OUTPUT = [
    "lock: release unlocked lock",
    "rlock: cannot release un-acquired lock",
    "queue: 42",
    "event: True",
    "pool: 1024",
]

# Run in a subinterpreter: report what importing rthreading did, then use the stdlib's
# threading there (threads started and joined).
SUB_CODE = """
import threading, time
try:
    import rthreading
    outcome = "imported"
except ImportError as e:
    outcome = "ImportError: " + str(e)
with open({path!r}, "a") as f:
    f.write(outcome + "\\n")
if {threads!r}:
    t = threading.Thread(target=time.sleep, args=(0.005,))
    t.start()
    t.join()
"""


def run(code, tmp_path):
    r = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def outcomes(tmp_path):
    return (tmp_path / "sub.txt").read_text().splitlines()


def check_refused(lines, n):
    """Every import refused with an ImportError that says why: ours in a legacy
    subinterpreter, CPython's own ("does not support loading in subinterpreters") where the
    interpreter checks the module's multi-interpreter support itself."""
    assert len(lines) == n
    for line in lines:
        assert line.startswith("ImportError: "), line
        assert "subinterpreter" in line, line


@pytest.mark.parametrize("first", ["main", "sub"])
def test_legacy_subinterpreters(tmp_path, first):
    """_testcapi.run_in_subinterp (a legacy subinterpreter sharing the main one's GIL, as
    test_threading's SubinterpThreadingTests use), three in a row, with rthreading imported in
    the main interpreter before or after them."""
    pytest.importorskip("_testcapi")
    sub = SUB_CODE.format(path=str(tmp_path / "sub.txt"), threads=True)
    code = f"""
import _testcapi
{"import rthreading" if first == "main" else ""}
for _ in range(3):
    assert _testcapi.run_in_subinterp({sub!r}) == 0
{MAIN_CHECKS}
"""
    assert run(code, tmp_path) == MAIN_OUTPUT
    check_refused(outcomes(tmp_path), 3)


def test_isolated_subinterpreters(tmp_path):
    """The low-level interpreters module (_interpreters on 3.13, _xxsubinterpreters before):
    isolated interpreters with their own GIL, where the stdlib's threading works."""
    try:
        import _interpreters  # noqa: F401

        modname = "_interpreters"
    except ImportError:
        pytest.importorskip("_xxsubinterpreters")
        modname = "_xxsubinterpreters"
    # Before 3.12 an isolated interpreter may not start threads.
    threads = sys.version_info >= (3, 12)
    sub = SUB_CODE.format(path=str(tmp_path / "sub.txt"), threads=threads)
    run_fn = "exec" if modname == "_interpreters" else "run_string"
    code = f"""
import rthreading
import {modname} as interpreters
for _ in range(3):
    interp = interpreters.create()
    err = interpreters.{run_fn}(interp, {sub!r})
    assert err is None, err
    interpreters.destroy(interp)
{MAIN_CHECKS}
"""
    assert run(code, tmp_path) == MAIN_OUTPUT
    check_refused(outcomes(tmp_path), 3)


def test_concurrent_interpreters(tmp_path):
    """3.14's concurrent.interpreters, where the interpreter has it."""
    if sys.version_info < (3, 14):
        pytest.skip("concurrent.interpreters is new in 3.14")
    sub = SUB_CODE.format(path=str(tmp_path / "sub.txt"), threads=True)
    code = f"""
import rthreading
from concurrent import interpreters
for _ in range(3):
    interp = interpreters.create()
    interp.exec({sub!r})
    interp.close()
{MAIN_CHECKS}
"""
    assert run(code, tmp_path) == MAIN_OUTPUT
    check_refused(outcomes(tmp_path), 3)


def test_reimport_in_main_interpreter(tmp_path):
    """The native module executed a second time in the same interpreter (after leaving
    sys.modules) keeps the fast entries working instead of making them call themselves."""
    code = f"""
import importlib, sys
import rthreading._core
del sys.modules["rthreading._core"]
importlib.import_module("rthreading._core")
{MAIN_CHECKS}
"""
    assert run(code, tmp_path) == MAIN_OUTPUT
