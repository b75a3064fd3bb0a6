"""Type checkers accept rthreading.X wherever threading.X is accepted: mypy --strict passes a
typed program that hands rthreading's objects to code annotated with threading's types (and the
program runs), reports the wrong uses in another, and mypy's stubtest finds the stubs true to the
run time (tests/stubtest_allowlist.txt lists the accepted differences, each with its reason).

mypy runs on the installed package, as a user's checker would find it (py.typed, *.pyi)."""

import pathlib
import re
import subprocess
import sys

import pytest

from helpers import run_python

pytest.importorskip("mypy", reason="mypy is in requirements-dev.txt")

# One mypy at a time: it is slow (uncompiled on the free-threaded interpreter) and the runs
# share a cache.
pytestmark = pytest.mark.thread_unsafe(reason="runs mypy in subprocesses with a shared cache")

ALLOWLIST = pathlib.Path(__file__).resolve().parent / "stubtest_allowlist.txt"

EXAMPLE = '''\
"""rthreading.X wherever threading.X is accepted."""
import threading
from collections.abc import Callable

import rthreading


def locked_call(lock: threading.Lock, fn: Callable[[], int]) -> int:
    with lock:
        return fn()


def reentrant(lock: threading.RLock) -> bool:
    return lock.acquire(timeout=0.1)


def wait_ready(cond: threading.Condition, ready: Callable[[], bool]) -> bool:
    with cond:
        return cond.wait_for(ready, timeout=0.1)


def limited(sem: threading.Semaphore) -> None:
    with sem:
        pass


def bounded(sem: threading.BoundedSemaphore) -> None:
    sem.release()


def signalled(event: threading.Event) -> bool:
    return event.wait(0.01)


def meet(barrier: threading.Barrier) -> int:
    return barrier.wait()


def run(thread: threading.Thread) -> int | None:
    thread.start()
    thread.join(timeout=1.0)
    return thread.ident


class Worker(rthreading.Thread):
    def __init__(self, value: int) -> None:
        super().__init__(name=f"worker-{value}", daemon=True)
        self.value = value
        self.result: int | None = None

    def run(self) -> None:
        self.result = self.value * 2


def hook(args: threading.ExceptHookArgs) -> None:
    print(args.exc_type, args.thread)


lock = rthreading.Lock()
assert locked_call(lock, lambda: 1) == 1
assert reentrant(rthreading.RLock())
cond = threading.Condition(rthreading.Lock())
cond2: threading.Condition = rthreading.Condition(rthreading.RLock())
assert wait_ready(rthreading.Condition(threading.Lock()), lambda: True)
limited(rthreading.Semaphore(2))
limited(rthreading.BoundedSemaphore(2))
sem = rthreading.BoundedSemaphore(1)
sem.acquire()
bounded(sem)
assert not signalled(rthreading.Event())
barrier = rthreading.Barrier(1, action=lambda: None, timeout=1.0)
index: int = meet(barrier)
worker = Worker(21)
ident = run(worker)
assert worker.result == 42
timer: threading.Timer = rthreading.Timer(0.01, print, args=("tick",))
timer.start()
timer.cancel()
data: threading.local = rthreading.local()
data.x = 1
me: threading.Thread = rthreading.current_thread()
threads: list[threading.Thread] = rthreading.enumerate()
count: int = rthreading.active_count() + rthreading.get_ident() + rthreading.get_native_id()
size: int = rthreading.stack_size()
limit: float = rthreading.TIMEOUT_MAX
rthreading.excepthook = hook
rthreading.excepthook = rthreading.__excepthook__
rthreading.settrace(None)
rthreading.setprofile(None)
rthreading.settrace_all_threads(None)
rthreading.setprofile_all_threads(None)
assert rthreading.gettrace() is None and rthreading.getprofile() is None
try:
    barrier.abort()
    barrier.wait()
except rthreading.BrokenBarrierError:
    pass
try:
    lock.release()
except rthreading.ThreadError:
    pass
assert rthreading.RLock().locked() is False
assert rthreading.main_thread() is me


async def tasks() -> int:
    import rthreading.queue

    q: rthreading.queue.Queue[int] = rthreading.queue.Queue()
    await q.async_put(1)
    got: int = await q.async_get(timeout=1.0)
    q.task_done()
    await q.async_join()
    simple: rthreading.queue.SimpleQueue[str] = rthreading.queue.SimpleQueue()
    simple.put("x")
    s: str = await simple.async_get()
    async with rthreading.Lock():
        pass
    async with rthreading.BoundedSemaphore(1):
        pass
    ok: bool = await rthreading.Lock().async_acquire(timeout=0.1)
    ev = rthreading.Event()
    ev.set()
    set_: bool = await ev.async_wait()
    i: int = await rthreading.Barrier(1).async_wait()
    return got + len(s) + ok + set_ + i


import asyncio  # noqa: E402

assert asyncio.run(tasks()) == 4
'''

# Each line that mypy must reject, with its error code.
WRONG = """\
import threading

import rthreading
import rthreading.queue
rthreading.Lock().acquire(timeout="1")
rthreading.Thread(target=1)
rthreading.Lokc()
lock: rthreading.Lock = threading.Lock()
rthreading.Event().wait("soon")
rthreading.queue.Queue[int]().async_put("x")
"""
WRONG_ERRORS = {
    5: "arg-type",  # a str timeout
    6: "arg-type",  # a target that is not callable
    7: "attr-defined",  # a name threading does not have
    8: "assignment",  # a stdlib Lock where an rthreading Lock is declared
    9: "arg-type",  # a str timeout
    10: "arg-type",  # a str into a Queue[int]
}


@pytest.fixture
def mypy(tmp_path, request):
    """mypy --strict over a program (its source): (exit code, output)."""
    cache = request.config.cache.mkdir("mypy")

    def check(source):
        path = tmp_path / "program.py"
        path.write_text(source)
        proc = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), path.name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return proc.returncode, proc.stdout + proc.stderr

    return check


def test_rthreading_where_threading_is_expected_type_checks(mypy):
    code, out = mypy(EXAMPLE)
    assert code == 0, out
    assert out.startswith("Success")


def test_the_example_program_runs():
    proc = run_python(EXAMPLE)
    assert proc.returncode == 0, proc.stderr


def test_wrong_uses_are_reported(mypy):
    code, out = mypy(WRONG)
    assert code == 1
    found = {int(n): c for n, c in re.findall(r"^program\.py:(\d+): error: .*\[([\w-]+)\]$", out, re.M)}
    assert found == WRONG_ERRORS, out


# stubtest type-checks the stdlib's stubs first: about a minute on 3.13t, where mypy runs
# uncompiled (no mypyc wheel for the free-threaded build).
@pytest.mark.timeout(300)
def test_stubs_match_the_run_time(tmp_path):
    # rthreading.bench draws its chart with matplotlib, an optional (bench) dependency that the
    # test environment need not have.
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n[mypy-matplotlib.*]\nignore_missing_imports = True\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy.stubtest",
            "rthreading",
            "--allowlist",
            str(ALLOWLIST),
            "--ignore-unused-allowlist",
            "--mypy-config-file",
            str(config),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
