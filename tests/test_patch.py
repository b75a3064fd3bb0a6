"""rthreading.patch() / unpatch() / patched(), and the RTHREADING_PATCH=1 start-up hook (the
rthreading_patch.pth file the wheel installs in site-packages)."""

import asyncio
import concurrent.futures
import concurrent.futures.thread
import logging
import os
import pathlib
import queue
import shutil
import subprocess
import sys
import textwrap
import threading

import pytest

import rthreading
import rthreading.futures
import rthreading.queue
from rthreading import _patch

pytestmark = [
    pytest.mark.thread_unsafe(
        reason="patches the process's threading, queue and concurrent.futures modules, or starts interpreters"
    ),
    pytest.mark.timeout(120),
]

THREADING = ["Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore", "Event", "Barrier"]
QUEUE = ["Queue", "LifoQueue", "PriorityQueue", "SimpleQueue"]
FUTURES = [concurrent.futures, concurrent.futures.thread]
ABSENT = object()


def snapshot():
    """What every attribute patch() may touch holds in its module's dict."""
    out = {}
    for mod, names in [(threading, THREADING), (queue, QUEUE)] + [(m, ["ThreadPoolExecutor"]) for m in FUTURES]:
        for name in names:
            out[mod.__name__, name] = vars(mod).get(name, ABSENT)
    return out


@pytest.fixture
def patched():
    """rthreading.patch() for the test; unpatched after it, whatever happened."""
    assert not rthreading.patched()
    before = snapshot()
    rthreading.patch()
    try:
        yield
    finally:
        rthreading.unpatch()
        assert snapshot() == before


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("RTHREADING_PATCH", "PYTHONPATH")}
    env.update(extra)
    return env


def run(code, *, env=None, args=()):
    return subprocess.run(
        [sys.executable, *args, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=90,
        env=env or _env(),
    )


# --- patch() / unpatch() ----------------------------------------------------------------------


def test_patch_replaces_every_name(patched):
    assert rthreading.patched()
    for name in THREADING:
        assert getattr(threading, name) is getattr(rthreading, name)
    for name in QUEUE:
        assert getattr(queue, name) is getattr(rthreading.queue, name)
    for mod in FUTURES:
        assert mod.ThreadPoolExecutor is rthreading.futures.ThreadPoolExecutor
    # What stays the stdlib's.
    assert queue.Empty is rthreading.queue.Empty
    assert threading.Thread is rthreading.Thread or sys.version_info < (3, 13)
    assert concurrent.futures.Future is not rthreading.futures.Future


def test_unpatch_restores_exactly():
    before = snapshot()
    lock_type = threading.Lock
    rthreading.patch()
    assert snapshot() != before
    rthreading.unpatch()
    assert snapshot() == before
    assert threading.Lock is lock_type
    assert not rthreading.patched()


def test_patch_twice_is_a_no_op_and_unpatch_when_not_patched_too():
    before = snapshot()
    rthreading.unpatch()
    assert snapshot() == before and not rthreading.patched()
    rthreading.patch()
    once = snapshot()
    rthreading.patch()
    assert snapshot() == once and rthreading.patched()
    rthreading.unpatch()
    assert snapshot() == before and not rthreading.patched()
    rthreading.unpatch()
    assert snapshot() == before


def test_an_absent_attribute_is_absent_again():
    # concurrent.futures gives ThreadPoolExecutor through its module __getattr__: until it is
    # first asked for, its dict does not hold it.
    proc = run("""\
        import concurrent.futures as cf, rthreading
        assert "ThreadPoolExecutor" not in vars(cf)
        rthreading.patch()
        assert cf.ThreadPoolExecutor is rthreading.futures.ThreadPoolExecutor
        rthreading.unpatch()
        assert "ThreadPoolExecutor" not in vars(cf)
        import concurrent.futures.thread as t
        assert cf.ThreadPoolExecutor is t.ThreadPoolExecutor
        assert cf.ThreadPoolExecutor is not rthreading.futures.ThreadPoolExecutor
        print("ok")
        """)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "ok\n", "")


@pytest.mark.parametrize(
    "first",
    [
        "from concurrent.futures import ThreadPoolExecutor as T",
        "import concurrent.futures as cf; T = cf.ThreadPoolExecutor",
        "import concurrent.futures.thread as t; T = t.ThreadPoolExecutor",
        "import rthreading.futures as rf; T = rf.ThreadPoolExecutor",
    ],
)
def test_concurrent_futures_is_patched_when_the_program_imports_it(first):
    """patch() does not import concurrent.futures (nor logging, which it imports): the
    program's first import of it, whichever way, finds rthreading's ThreadPoolExecutor."""
    proc = run(f"""\
        import sys, rthreading
        rthreading.patch()
        assert "concurrent.futures" not in sys.modules and "logging" not in sys.modules
        {first}
        import concurrent.futures as cf, concurrent.futures.thread as t
        import rthreading.futures as rf
        assert T is rf.ThreadPoolExecutor is cf.ThreadPoolExecutor is t.ThreadPoolExecutor
        with cf.ThreadPoolExecutor(2) as pool:
            assert pool.submit(pow, 2, 3).result() == 8
        rthreading.unpatch()
        assert "ThreadPoolExecutor" not in vars(cf) or cf.ThreadPoolExecutor is not rf.ThreadPoolExecutor
        assert t.ThreadPoolExecutor is not rf.ThreadPoolExecutor
        assert cf.ThreadPoolExecutor is t.ThreadPoolExecutor
        print("ok")
        """)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "ok\n", "")


def test_unpatch_before_concurrent_futures_is_imported():
    proc = run("""\
        import sys, rthreading
        rthreading.patch()
        rthreading.unpatch()
        import concurrent.futures as cf
        assert cf.ThreadPoolExecutor.__module__ == "concurrent.futures.thread"
        print("ok")
        """)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "ok\n", "")


def test_objects_made_before_stay_the_stdlibs():
    lock, event, q = threading.Lock(), threading.Event(), queue.Queue()
    handler = logging.Handler()
    rthreading.patch()
    try:
        assert type(lock) is not rthreading.Lock
        assert type(event) is not rthreading.Event
        assert type(q) is not rthreading.queue.Queue
        assert type(handler.lock) is not rthreading.RLock
        with lock:
            event.set()
            q.put(1)
        assert event.wait(0) and q.get_nowait() == 1
    finally:
        rthreading.unpatch()


def test_library_code_gets_rthreading_at_call_time(patched):
    assert type(logging.Handler().lock) is rthreading.RLock
    assert type(queue.Queue()) is rthreading.queue.Queue
    assert type(threading.Condition()) is rthreading.Condition
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        assert type(pool) is rthreading.futures.ThreadPoolExecutor
        assert isinstance(pool.submit(pow, 2, 5), concurrent.futures.Future)
        assert list(pool.map(abs, [-1, -2, -3])) == [1, 2, 3]
    # The stdlib's own pure-Python classes made after the patch run on rthreading's locks.
    assert type(threading.Timer(1, print).finished) is rthreading.Event


def test_stdlib_threads_and_timers_work_under_the_patch(patched):
    box = []
    t = threading.Thread(target=box.append, args=(1,))
    t.start()
    t.join(10)
    timer = threading.Timer(0.01, box.append, (2,))
    timer.start()
    timer.join(10)
    assert box == [1, 2]


def test_asyncio_default_executor(patched):
    async def main():
        loop = asyncio.get_running_loop()
        value = await loop.run_in_executor(None, pow, 3, 3)
        return value, type(loop._default_executor)

    assert asyncio.run(main()) == (27, rthreading.futures.ThreadPoolExecutor)


def test_rthreading_keeps_the_stdlibs_where_it_means_them(patched):
    std = _patch.stdlib
    assert std(threading, "Lock") is not rthreading.Lock
    assert std(threading, "Event") is not rthreading.Event
    assert std(concurrent.futures.thread, "ThreadPoolExecutor") is not rthreading.futures.ThreadPoolExecutor
    assert rthreading.futures.ThreadPoolExecutor.__mro__[2] is std(concurrent.futures.thread, "ThreadPoolExecutor")
    rthreading.enable_deadlock_watchdog(interval=60)
    try:
        from rthreading import _diag

        assert type(_diag._watchdog.stop) is std(threading, "Event")
        assert type(_diag._watchdog_lock) is type(std(threading, "Lock")())
    finally:
        rthreading.disable_deadlock_watchdog()


def test_patch_not_in_star_import():
    for name in ("patch", "unpatch", "patched"):
        assert name not in rthreading.__all__
        assert callable(getattr(rthreading, name))


def test_fork_child_under_the_patch():
    if not hasattr(os, "fork"):
        pytest.skip("no fork")
    proc = run("""\
        import logging, os, sys, threading, queue, rthreading
        rthreading.patch()
        logging.basicConfig(stream=sys.stdout, format="%(message)s", level=logging.INFO)
        assert type(logging.getLogger().handlers[0].lock) is rthreading.RLock
        e = threading.Event()
        pid = os.fork()
        if pid == 0:
            logging.info("child logs")
            t = threading.Thread(target=e.set)
            t.start(); t.join()
            os._exit(0 if e.is_set() else 1)
        _, status = os.waitpid(pid, 0)
        logging.info("child exit %d", os.waitstatus_to_exitcode(status))
        """)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "child logs\nchild exit 0\n", "")


# --- RTHREADING_PATCH=1: the .pth hook ---------------------------------------------------------

PROBE = """\
    import sys
    loaded = "rthreading" in sys.modules
    import threading, queue, rthreading, rthreading.queue
    print(loaded, rthreading.patched(), threading.Lock is rthreading.Lock,
          queue.Queue is rthreading.queue.Queue)
    """


def test_the_wheel_installed_the_hook():
    import sysconfig

    pth = pathlib.Path(sysconfig.get_paths()["purelib"]) / "rthreading_patch.pth"
    assert pth.is_file()
    assert "RTHREADING_PATCH" in pth.read_text()


def test_env_patches_at_start_up():
    proc = run(PROBE, env=_env(RTHREADING_PATCH="1"))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "True True True True\n", "")


@pytest.mark.parametrize("value", [None, "", "0"])
def test_without_env_start_up_does_not_import_rthreading(value):
    env = _env() if value is None else _env(RTHREADING_PATCH=value)
    proc = run(PROBE, env=env)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "False False False False\n", "")


def test_env_with_isolated_mode():
    # -I ignores PYTHON* variables and the user's site, not site-packages' .pth files.
    proc = run(PROBE, env=_env(RTHREADING_PATCH="1"), args=["-I"])
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "True True True True\n", "")


@pytest.fixture
def half_installed(tmp_path):
    """A directory for PYTHONPATH holding rthreading's Python files without its native
    module: the package found first, as a half-installed copy would be."""
    pkg = tmp_path / "rthreading"
    shutil.copytree(
        pathlib.Path(rthreading.__file__).parent,
        pkg,
        ignore=shutil.ignore_patterns("_core*.so", "_core*.pyd", "__pycache__"),
    )
    assert not list(pkg.glob("_core*.so"))
    return tmp_path


def test_half_installed_starts_unpatched_with_one_warning(half_installed):
    proc = run(
        "import threading, sys; print(type(threading.Lock()).__module__, 'rthreading' in sys.modules)",
        env=_env(RTHREADING_PATCH="1", PYTHONPATH=str(half_installed)),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "_thread False\n"
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("rthreading: RTHREADING_PATCH is set but rthreading could not")
    assert "running unpatched" in lines[0] and "rthreading._core" in lines[0]


@pytest.mark.parametrize(
    "source, shown",
    [
        ("def (:\n", "SyntaxError"),
        ("raise RuntimeError('broken\\nover two lines')\n", "RuntimeError: broken over two lines"),
    ],
)
def test_broken_package_starts_unpatched_with_one_warning(tmp_path, source, shown):
    (tmp_path / "rthreading").mkdir()
    (tmp_path / "rthreading" / "__init__.py").write_text(source)
    proc = run("print('running')", env=_env(RTHREADING_PATCH="1", PYTHONPATH=str(tmp_path)))
    assert (proc.returncode, proc.stdout) == (0, "running\n")
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("rthreading:") and shown in lines[0], lines


def test_refusal_in_a_subinterpreter_is_silent(tmp_path):
    # How rthreading's native module refuses a subinterpreter: an ImportError naming it.
    (tmp_path / "rthreading").mkdir()
    (tmp_path / "rthreading" / "__init__.py").write_text(
        "raise ImportError('rthreading does not support subinterpreters')\n"
    )
    proc = run("print('running')", env=_env(RTHREADING_PATCH="1", PYTHONPATH=str(tmp_path)))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "running\n", "")


def test_subinterpreter_stays_unpatched_and_the_main_one_unharmed():
    pytest.importorskip("_testcapi")
    proc = run(
        """\
        import sys, threading, _testcapi, rthreading
        assert threading.Lock is rthreading.Lock
        code = ("import sys, threading\\n"
                "assert 'rthreading' not in sys.modules, 'patched in a subinterpreter'\\n"
                "t = threading.Thread(target=print, args=('sub',)); t.start(); t.join()\\n")
        for _ in range(3):
            assert _testcapi.run_in_subinterp(code) == 0
        try:
            rthreading.Lock().release()
        except RuntimeError as e:
            print("main:", e)
        """,
        env=_env(RTHREADING_PATCH="1"),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "sub\nsub\nsub\nmain: release unlocked lock\n"
    assert proc.stderr == ""
