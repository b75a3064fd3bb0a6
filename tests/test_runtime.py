"""The runtime: importing rthreading keeps the free-threaded interpreter free-threaded, the locks
count exactly under real parallel contention, and the tests run against the installed wheel."""

import importlib.metadata
import os
import pathlib
import subprocess
import sys
import sysconfig
import threading

import pytest

import rthreading

FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
REPO = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not FREE_THREADED, reason="needs a free-threaded (Py_GIL_DISABLED) build")
def test_import_leaves_the_gil_disabled():
    code = (
        "import importlib, pkgutil, sys\n"
        "assert not sys._is_gil_enabled(), 'GIL enabled before the import'\n"
        "import rthreading, rthreading._core\n"
        "for m in pkgutil.iter_modules(rthreading.__path__, 'rthreading.'):\n"
        "    importlib.import_module(m.name)\n"
        "lock = rthreading.Lock()\n"
        "with lock:\n"
        "    pass\n"
        "print(sys._is_gil_enabled())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}  # no override
    proc = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "False\n"
    assert "GIL" not in proc.stderr


@pytest.mark.parametrize("kind", ["Lock", "RLock"])
def test_many_threads_count_exactly(mod, kind):
    """8 threads x 100_000 `with lock: counter += 1`: on a free-threaded build the increments
    really run in parallel, so any hole in mutual exclusion loses updates."""
    lock = getattr(mod, kind)()
    threads_n, per_thread = 8, 100_000
    counter = 0
    start = threading.Barrier(threads_n)

    def work():
        nonlocal counter
        start.wait()
        for _ in range(per_thread):
            with lock:
                counter += 1

    threads = [threading.Thread(target=work) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert counter == threads_n * per_thread
    assert lock.acquire(False) is True
    lock.release()


def test_many_threads_acquire_release_with_timeouts(mod):
    """Contended timed acquires: every one that returns True got the lock alone."""
    lock = mod.Lock()
    inside = []
    overlaps = []
    got = [0] * 4
    counter = 0

    def work(i):
        nonlocal counter
        for _ in range(3000):
            if lock.acquire(timeout=0.5):
                inside.append(i)
                if len(inside) != 1:
                    overlaps.append(list(inside))
                inside.pop()
                counter += 1
                got[i] += 1
                lock.release()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert overlaps == []
    assert counter == sum(got) > 0


def test_installed_package_is_the_wheel():
    pkg = pathlib.Path(rthreading.__file__).resolve()
    core = pathlib.Path(rthreading._core.__file__).resolve()
    site_dirs = {pathlib.Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}
    assert any(pkg.is_relative_to(d) for d in site_dirs), pkg
    assert core.parent == pkg.parent
    assert not pkg.is_relative_to(REPO / "python"), "tests import the source tree, not the wheel"
    dist = importlib.metadata.distribution("rthreading")
    files = {str(f) for f in dist.files or ()}
    assert any(f.startswith("rthreading/_core") for f in files), files
    assert "rthreading/__init__.py" in files
    # rthreading_patch.pth is the wheel's RTHREADING_PATCH=1 hook; an editable install adds another.
    assert not any(f.endswith(".pth") for f in files - {"rthreading_patch.pth"}), "an editable install, not the wheel"
