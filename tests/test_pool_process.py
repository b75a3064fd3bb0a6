"""ThreadPoolExecutor at the edges of a process, each scenario in a fresh interpreter: exiting
with work pending or a pool never shut down, submitting during interpreter shutdown, Ctrl-C on
a blocked wait, and fork. Run against concurrent.futures too wherever the stdlib behaves."""

import sys

import pytest

from helpers import run_python

IMPORTS = {
    "stdlib": "from concurrent.futures import ThreadPoolExecutor",
    "rthreading": "from rthreading.futures import ThreadPoolExecutor",
}


@pytest.fixture(params=list(IMPORTS), ids=list(IMPORTS))
def pool_import(request):
    return IMPORTS[request.param]


def run(code, pool_import, timeout=30):
    proc = run_python(pool_import + "\n" + code, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def test_exit_finishes_pending_work_of_a_pool_never_shut_down(pool_import):
    rc, out, err = run(
        """
import sys, time
ex = ThreadPoolExecutor(2)
def work(i):
    time.sleep(0.02)
    sys.stdout.write(f"done {i}\\n")  # one write: lines of two threads do not interleave
for i in range(8):
    ex.submit(work, i)
print("main exits", flush=True)
""",
        pool_import,
    )
    assert (rc, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "main exits"
    assert sorted(lines[1:]) == [f"done {i}" for i in range(8)]


def test_exit_with_idle_workers_does_not_hang(pool_import):
    rc, out, err = run(
        """
ex = ThreadPoolExecutor(4)
print(sum(ex.map(abs, range(-1000, 0))))
""",
        pool_import,
    )
    assert (rc, out, err) == (0, "500500\n", "")


def test_exit_with_an_unreferenced_pool_finishes_its_work(pool_import):
    rc, out, err = run(
        """
import time
def make():
    ex = ThreadPoolExecutor(1)
    for i in range(3):
        ex.submit(lambda i=i: (time.sleep(0.01), print("done", i, flush=True)))
make()
""",
        pool_import,
    )
    assert (rc, err) == (0, "")
    assert out.splitlines() == ["done 0", "done 1", "done 2"]


def test_exit_while_tasks_are_running_and_queued(pool_import):
    rc, out, err = run(
        """
import sys, threading, time
ex = ThreadPoolExecutor(2)
started = threading.Barrier(3)
def long(i):
    started.wait()
    time.sleep(0.05)
    sys.stdout.write(f"long {i}\\n")
for i in range(2):
    ex.submit(long, i)
futs = [ex.submit(sys.stdout.write, f"queued {i}\\n") for i in range(3)]
started.wait()
""",
        pool_import,
    )
    assert (rc, err) == (0, "")
    assert sorted(out.splitlines()) == ["long 0", "long 1", "queued 0", "queued 1", "queued 2"]


def test_exit_with_a_pool_made_by_a_daemon_thread(pool_import):
    """Its workers are daemon threads; exit still waits for its work (the stdlib's exit hook
    joins every worker), and no worker is left to wake up while the interpreter finalizes."""
    rc, out, err = run(
        """
import sys, threading, time
pools = []
def make():
    ex = ThreadPoolExecutor(2)
    pools.append(ex)
    ex.submit(lambda: (time.sleep(0.05), sys.stdout.write("slow task done\\n")))
    ex.submit(int).result()
t = threading.Thread(target=make, daemon=True)
t.start()
t.join()
print("daemon workers:", all(w.daemon for w in pools[0]._threads), flush=True)
""",
        pool_import,
    )
    assert (rc, out, err) == (0, "daemon workers: True\nslow task done\n", "")


def test_submit_during_interpreter_shutdown(pool_import):
    rc, out, err = run(
        """
import atexit
ex = ThreadPoolExecutor(1)
ex.submit(int).result()
def late():
    try:
        ex.submit(int)
    except RuntimeError as e:
        print(type(e).__name__, e)
atexit.register(late)
""",
        pool_import,
    )
    assert (rc, err) == (0, "")
    assert out == "RuntimeError cannot schedule new futures after shutdown\n"


def test_ctrl_c_interrupts_result_on_the_main_thread(pool_import):
    rc, out, err = run(
        """
import os, signal, threading, time
gate = threading.Event()
ex = ThreadPoolExecutor(1)
f = ex.submit(gate.wait, 30)
threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()
t0 = time.monotonic()
try:
    f.result()
except KeyboardInterrupt:
    print("interrupted", time.monotonic() - t0 < 10, flush=True)
gate.set()
print(f.result(timeout=10))
ex.shutdown()
""",
        pool_import,
    )
    assert (rc, out, err) == (0, "interrupted True\nTrue\n", "")


def test_ctrl_c_interrupts_map_and_shutdown():
    rc, out, err = run(
        """
import os, signal, threading, time
gate = threading.Event()
ex = ThreadPoolExecutor(1)
it = ex.map(lambda x: gate.wait(30) and x, range(3))
for blocked in ("map", "shutdown"):
    threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
        next(it) if blocked == "map" else ex.shutdown(wait=True)
    except KeyboardInterrupt:
        print("interrupted", blocked, flush=True)
gate.set()
ex.shutdown(wait=True)
print("clean")
""",
        IMPORTS["rthreading"],
    )
    assert (rc, out, err) == (0, "interrupted map\ninterrupted shutdown\nclean\n", "")


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_fork_child_can_use_pools():
    rc, out, err = run(
        """
import os, warnings
warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads running
ex = ThreadPoolExecutor(2)
print(sum(ex.map(abs, range(100))), flush=True)
pid = os.fork()
if pid == 0:
    code = 3
    try:
        with ThreadPoolExecutor(2) as new:
            r1 = new.submit(pow, 2, 5).result(timeout=10)
        r2 = ex.submit(pow, 3, 2).result(timeout=10)  # the parent's pool starts new workers
        r3 = list(ex.map(abs, [-1, -2], timeout=10))
        code = 0 if (r1, r2, r3) == (32, 9, [1, 2]) else 1
        ex.shutdown()
    finally:
        os._exit(code)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
print(ex.submit(pow, 2, 3).result(timeout=10))
ex.shutdown()
""",
        IMPORTS["rthreading"],
    )
    assert (rc, out, err) == (0, "4950\n0\n8\n", "")


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_fork_child_can_make_a_new_pool(pool_import):
    rc, out, err = run(
        """
import os, warnings
warnings.simplefilter("ignore", DeprecationWarning)
ex = ThreadPoolExecutor(2)
ex.submit(int).result()
pid = os.fork()
if pid == 0:
    code = 3
    try:
        with ThreadPoolExecutor(2) as new:
            code = 0 if list(new.map(abs, [-1, -2])) == [1, 2] else 1
    finally:
        os._exit(code)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
ex.shutdown()
""",
        pool_import,
    )
    assert (rc, out, err) == (0, "0\n", "")


def test_importing_futures_keeps_the_gil_disabled():
    if getattr(sys, "_is_gil_enabled", lambda: True)() is not False:
        pytest.skip("needs a free-threaded build")
    rc, out, err = run(
        """
import sys
ex = ThreadPoolExecutor(2)
ex.submit(int).result()
print(sys._is_gil_enabled())
""",
        IMPORTS["rthreading"],
    )
    assert (rc, out, err) == (0, "False\n", "")
