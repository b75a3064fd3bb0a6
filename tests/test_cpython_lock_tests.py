"""CPython's own conformance tests of the primitives (Lib/test/lock_tests.py, as test_threading
runs them against the stdlib), run against rthreading's classes on every interpreter the suite
runs on. (Under the whole-program patch, scripts/cpython-suites.py runs test_threading itself;
there `RLock` is tested only through `Condition`, as test_threading tests the stdlib's
`_CRLock`/`_PyRLock` by name.)"""

import fnmatch
import pathlib

import pytest

import rthreading

lock_tests = pytest.importorskip("test.lock_tests", reason="this interpreter ships no Lib/test")

# lock_tests' set-up counts every thread of the process, and its tests start their own.
pytestmark = pytest.mark.thread_unsafe(reason="lock_tests count the process's threads")

EXCLUSIONS = pathlib.Path(__file__).resolve().parent / "cpython_exclusions.txt"


def excluded():
    """{glob: reason} from the one list of inherent differences."""
    lines = EXCLUSIONS.read_text().splitlines()
    pairs = (line.strip().partition("  ") for line in lines if line.strip() and not line.startswith("#"))
    return {glob: reason.strip() for glob, _, reason in pairs}


def skip_excluded(cls):
    """Skips the methods of lock_tests' base class that the list excludes (with its reason)."""
    base = cls.__mro__[1].__name__
    for name in dir(cls):
        for glob, reason in excluded().items():
            if name.startswith("test") and fnmatch.fnmatchcase(f"test.lock_tests.{base}.{name}", glob):
                setattr(cls, name, pytest.mark.skip(reason=reason)(getattr(cls, name)))
    return cls


@skip_excluded
class TestLock(lock_tests.LockTests):
    locktype = staticmethod(rthreading.Lock)


@skip_excluded
class TestRLock(lock_tests.RLockTests):
    locktype = staticmethod(rthreading.RLock)


@skip_excluded
class TestConditionAsRLock(lock_tests.RLockTests):
    # Condition uses an RLock by default and exports its API.
    locktype = staticmethod(rthreading.Condition)

    def test_recursion_count(self):
        self.skipTest("Condition does not expose _recursion_count() (nor does the stdlib's)")


@skip_excluded
class TestEvent(lock_tests.EventTests):
    eventtype = staticmethod(rthreading.Event)


@skip_excluded
class TestCondition(lock_tests.ConditionTests):
    condtype = staticmethod(rthreading.Condition)


@skip_excluded
class TestSemaphore(lock_tests.SemaphoreTests):
    semtype = staticmethod(rthreading.Semaphore)


@skip_excluded
class TestBoundedSemaphore(lock_tests.BoundedSemaphoreTests):
    semtype = staticmethod(rthreading.BoundedSemaphore)


@skip_excluded
class TestBarrier(lock_tests.BarrierTests):
    barriertype = staticmethod(rthreading.Barrier)
