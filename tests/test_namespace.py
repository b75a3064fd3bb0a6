"""The package is a drop-in for `threading`: every name is there, and the README's example runs."""

import pathlib
import re
import threading

import pytest

import rthreading

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"

NATIVE = ["Barrier", "BoundedSemaphore", "Condition", "Event", "Lock", "RLock", "Semaphore"]


def test_every_threading_name_exists():
    missing = [n for n in threading.__all__ if not hasattr(rthreading, n)]
    assert missing == []


@pytest.mark.parametrize("name", NATIVE)
def test_primitives_are_native(name):
    assert getattr(rthreading, name).__module__ == "rthreading"
    assert getattr(rthreading, name) is not getattr(threading, name)


def test_stdlib_exception_classes_are_the_stdlibs():
    assert rthreading.BrokenBarrierError is threading.BrokenBarrierError
    assert rthreading.TIMEOUT_MAX == threading.TIMEOUT_MAX


@pytest.mark.skipif(not README.exists(), reason="README not next to the tests (installed elsewhere)")
def test_readme_example_runs():
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["counter"] == 400_000
