"""The package is a drop-in for `threading`: every name is there (the 3.14 list on older
interpreters too), the re-exported ones are the stdlib's own objects, `rthreading.excepthook`
is `threading.excepthook` read and written, and the README's example runs."""

import pathlib
import re
import sys
import threading

import pytest

import rthreading

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"

NATIVE = ["Barrier", "BoundedSemaphore", "Condition", "Event", "Lock", "RLock", "Semaphore"]

# threading.__all__ of CPython 3.14 (Lib/threading.py), with get_native_id, which it appends
# where the platform has native thread ids (Linux does). Written out because the interpreters
# the tests run on are older.
ALL_314 = [
    "get_ident",
    "active_count",
    "Condition",
    "current_thread",
    "enumerate",
    "main_thread",
    "TIMEOUT_MAX",
    "Event",
    "Lock",
    "RLock",
    "Semaphore",
    "BoundedSemaphore",
    "Thread",
    "Barrier",
    "BrokenBarrierError",
    "Timer",
    "ThreadError",
    "setprofile",
    "settrace",
    "local",
    "stack_size",
    "excepthook",
    "ExceptHookArgs",
    "gettrace",
    "getprofile",
    "setprofile_all_threads",
    "settrace_all_threads",
    "get_native_id",
]

# Names rthreading takes from the running interpreter's threading module as they are.
REEXPORTED = (
    [
        "TIMEOUT_MAX",
        "BrokenBarrierError",
        "ExceptHookArgs",
        "ThreadError",
        "__excepthook__",
        "active_count",
        "current_thread",
        "enumerate",
        "excepthook",
        "get_ident",
        "get_native_id",
        "getprofile",
        "gettrace",
        "local",
        "main_thread",
        "setprofile",
        "settrace",
        "stack_size",
    ]
    + (["setprofile_all_threads", "settrace_all_threads"] if sys.version_info >= (3, 12) else [])
    + (["Thread", "Timer"] if sys.version_info >= (3, 13) else [])
)


def test_every_threading_name_exists():
    missing = [n for n in threading.__all__ if not hasattr(rthreading, n)]
    assert missing == []


def test_every_name_of_the_314_namespace_exists():
    assert [n for n in ALL_314 if not hasattr(rthreading, n)] == []


def test_all_has_the_314_list_and_only_names_that_exist():
    assert set(ALL_314) <= set(rthreading.__all__)
    assert [n for n in rthreading.__all__ if not hasattr(rthreading, n)] == []
    assert len(set(rthreading.__all__)) == len(rthreading.__all__)


def test_star_import_gives_exactly_all():
    namespace = {}
    exec("from rthreading import *", namespace)
    del namespace["__builtins__"]
    assert sorted(namespace) == sorted(rthreading.__all__)


@pytest.mark.parametrize("name", REEXPORTED)
def test_reexported_names_are_the_stdlibs_objects(name):
    assert getattr(rthreading, name) is getattr(threading, name)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the stdlib has them from 3.12 on")
@pytest.mark.parametrize("name", ["setprofile_all_threads", "settrace_all_threads"])
def test_all_threads_hooks_before_312_are_rthreadings(name):
    assert getattr(rthreading, name).__module__ == "rthreading"


@pytest.mark.thread_unsafe(reason="replaces the process-wide threading.excepthook")
def test_excepthook_is_the_stdlib_modules_attribute_read_and_written():
    old = threading.excepthook

    def hook(args):
        pass

    def other(args):
        pass

    try:
        rthreading.excepthook = hook
        assert threading.excepthook is hook and rthreading.excepthook is hook
        threading.excepthook = other
        assert rthreading.excepthook is other
        from rthreading import excepthook

        assert excepthook is other
    finally:
        threading.excepthook = old
    assert rthreading.excepthook is old
    assert rthreading.__excepthook__ is threading.__excepthook__


@pytest.mark.parametrize(
    "name", ["currentThread", "activeCount", "_shutdown", "_active", "_register_atexit", "_DummyThread"]
)
def test_other_attributes_are_read_from_the_stdlib(name):
    if not hasattr(threading, name):
        pytest.skip(f"this interpreter's threading has no {name}")
    assert getattr(rthreading, name) is getattr(threading, name)


def test_missing_attributes_are_rthreadings_errors():
    with pytest.raises(AttributeError, match="^module 'rthreading' has no attribute 'nope'$"):
        rthreading.nope
    with pytest.raises(AttributeError, match="__wrapped__"):
        rthreading.__wrapped__
    assert not hasattr(rthreading, "__file__x")
    assert all(hasattr(rthreading, n) for n in ("__file__", "__spec__", "__path__"))


def test_dir_lists_the_namespace():
    assert set(rthreading.__all__) <= set(dir(rthreading))


@pytest.mark.parametrize("name", NATIVE)
def test_primitives_are_native(name):
    assert getattr(rthreading, name).__module__ == "rthreading"
    assert getattr(rthreading, name) is not getattr(threading, name)


def test_stdlib_exception_classes_are_the_stdlibs():
    assert rthreading.BrokenBarrierError is threading.BrokenBarrierError
    assert rthreading.TIMEOUT_MAX == threading.TIMEOUT_MAX


@pytest.mark.skipif(not README.exists(), reason="README not next to the tests (installed elsewhere)")
def test_readme_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks
    for code in blocks:  # each runs as a program of its own
        exec(compile(code, "README.md", "exec"), {})
    namespace = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    assert namespace["counter"] == 400_000


def test_version_is_the_installed_distributions():
    from importlib.metadata import version

    assert rthreading.__version__ == version("rthreading")
    assert "__version__" not in rthreading.__all__
