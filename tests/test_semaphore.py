"""Semaphore and BoundedSemaphore: differential against the stdlib's threading."""

import os
import signal
import sys
import threading
import time
import weakref
from decimal import Decimal
from fractions import Fraction

import pytest

import rthreading
from helpers import both, norm_repr, raises_same, run_python, sigusr1_after, start, wait_until

SEMAPHORES = ["Semaphore", "BoundedSemaphore"]


# --- construction -----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", SEMAPHORES)
@pytest.mark.parametrize("value", [0, 1, 2, 5, True, 2.0])
def test_initial_value_counts(mod, cls, value):
    s = getattr(mod, cls)(value)
    got = [s.acquire(blocking=False) for _ in range(7)]
    assert got == [True] * int(value) + [False] * (7 - int(value))


@pytest.mark.parametrize("cls", SEMAPHORES)
def test_default_value_is_one(mod, cls):
    s = getattr(mod, cls)()
    assert s.acquire(False) is True
    assert s.acquire(False) is False


@pytest.mark.parametrize("cls", SEMAPHORES)
def test_value_keyword(mod, cls):
    s = getattr(mod, cls)(value=2)
    assert [s.acquire(False) for _ in range(3)] == [True, True, False]


@pytest.mark.parametrize("cls", SEMAPHORES)
@pytest.mark.parametrize("value", [-1, -1.5, -(10**30), "a", None, 1j])
def test_bad_initial_value(cls, value):
    std, ours = raises_same(lambda m: getattr(m, cls)(value))
    assert std is not None
    assert std == ours


@pytest.mark.parametrize("cls", SEMAPHORES)
@pytest.mark.parametrize("value", [10**30, 2**64, float("inf")])
def test_initial_value_beyond_counter_is_overflow_error(cls, value):
    # The stdlib's Python int has no limit; our counter is 64 bits: a clear error, no panic.
    with pytest.raises(OverflowError, match="semaphore value too large"):
        getattr(rthreading, cls)(value)


@pytest.mark.parametrize("cls", SEMAPHORES)
def test_non_integral_float_value_refused(cls):
    with pytest.raises(TypeError, match="cannot be interpreted as an integer"):
        getattr(rthreading, cls)(1.5)


def test_largest_value_then_release_overflows():
    s = rthreading.Semaphore(2**64 - 1)
    with pytest.raises(OverflowError, match="semaphore value too large"):
        s.release()
    assert s.acquire(False)
    s.release()
    with pytest.raises(OverflowError, match="semaphore value too large"):
        s.release(10**30)


def test_bounded_is_a_semaphore(mod):
    assert isinstance(mod.BoundedSemaphore(), mod.Semaphore)
    assert issubclass(mod.BoundedSemaphore, mod.Semaphore)


@pytest.mark.parametrize("cls", SEMAPHORES)
def test_weakref(mod, cls):
    s = getattr(mod, cls)()
    assert weakref.ref(s)() is s


# --- reprs ------------------------------------------------------------------------------------


def test_repr_semaphore():
    def scenario(m):
        s = m.Semaphore(3)
        out = [repr(s)]
        s.acquire()
        out.append(repr(s))
        s.release(5)
        out.append(repr(s))
        return [norm_repr(r) for r in out]

    std, ours = both(scenario)
    assert std == ours
    assert ours[0].startswith("<threading.Semaphore at ADDR: value=3>")
    assert repr(rthreading.Semaphore()).startswith("<rthreading.Semaphore at 0x")


def test_repr_bounded():
    def scenario(m):
        s = m.BoundedSemaphore(3)
        out = [repr(s)]
        s.acquire()
        s.acquire()
        out.append(repr(s))
        return [norm_repr(r) for r in out]

    std, ours = both(scenario)
    assert std == ours
    assert repr(rthreading.BoundedSemaphore(2)).startswith("<rthreading.BoundedSemaphore at 0x")


def test_repr_has_the_address():
    s = rthreading.Semaphore()
    assert f"at {id(s):#x}:" in repr(s)


# --- acquire ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", SEMAPHORES)
def test_acquire_returns_true(mod, cls):
    s = getattr(mod, cls)(2)
    assert s.acquire() is True
    assert s.acquire(True) is True
    assert s.acquire(blocking=False) is False


@pytest.mark.parametrize("cls", SEMAPHORES)
def test_nonblocking_with_timeout_is_value_error(cls):
    for args, kwargs in [((False, 1), {}), ((False,), {"timeout": 0}), ((), {"blocking": 0, "timeout": 1.5})]:
        std, ours = raises_same(lambda m: getattr(m, cls)(1).acquire(*args, **kwargs))
        assert std is not None and std[0] is ValueError
        assert std == ours


@pytest.mark.parametrize("blocking", [None, 0, "", [], False])
def test_blocking_falsy_values_mean_nonblocking(blocking):
    def scenario(m):
        s = m.Semaphore(1)
        return s.acquire(blocking), s.acquire(blocking), s.acquire(blocking, None)

    std, ours = both(scenario)
    assert std == ours == (True, False, False)


def test_blocking_bool_error_propagates():
    class Bad:
        def __bool__(self):
            raise ZeroDivisionError("no truth")

    std, ours = raises_same(lambda m: m.Semaphore(1).acquire(Bad()))
    assert std is not None
    assert std == ours


@pytest.mark.parametrize("timeout", ["a", None, -1, 0, 1.5, float("nan"), 10**400, Decimal(1), object()])
def test_timeout_not_looked_at_when_available(timeout):
    # The stdlib only does arithmetic on the timeout when it has to wait.
    std, ours = both(lambda m: m.Semaphore(1).acquire(timeout=timeout))
    assert std is ours is True


@pytest.mark.parametrize(
    "timeout",
    ["a", b"x", [], Decimal("0.01"), Fraction(1, 100), 10**400, -(10**400), 2**63, 10**10, 1e10, float("inf"), 1j],
    ids=repr,
)
def test_timeout_errors_when_it_must_wait(timeout):
    std, ours = raises_same(lambda m: m.Semaphore(0).acquire(timeout=timeout))
    assert std is not None, "the stdlib accepted it"
    assert std == ours


@pytest.mark.parametrize("timeout", [0, 0.0, -1, -0.5, float("-inf"), False, Fraction(-1, 2)], ids=repr)
def test_non_positive_timeout_does_not_wait(mod, timeout):
    s = mod.Semaphore(0)
    assert s.acquire(timeout=timeout) is False
    assert s.acquire(True, timeout) is False


def test_timed_acquire_waits_at_least_the_timeout(mod):
    s = mod.Semaphore(0)
    t0 = time.monotonic()
    assert s.acquire(timeout=0.05) is False
    assert time.monotonic() - t0 >= 0.05
    t0 = time.monotonic()
    assert s.acquire(True, 0.03) is False
    assert time.monotonic() - t0 >= 0.03


def test_timed_acquire_succeeds_when_released(mod):
    s = mod.Semaphore(0)
    t = start(lambda: (time.sleep(0.02), s.release()))
    assert s.acquire(timeout=5) is True
    t.join()
    assert s.acquire(False) is False


def test_nan_timeout_waits_until_released(mod):
    # The stdlib's deadline arithmetic never finishes with NaN: it waits until released.
    s = mod.Semaphore(0)
    t = start(lambda: (time.sleep(0.05), s.release()))
    assert s.acquire(timeout=float("nan")) is True
    t.join()


def test_blocking_acquire_waits_for_release(mod):
    s = mod.Semaphore(0)
    got = []
    t = start(lambda: got.append(s.acquire()))
    time.sleep(0.02)
    assert got == []
    s.release()
    t.join(5)
    assert got == [True]


# --- release ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", SEMAPHORES)
@pytest.mark.parametrize("n", [0, -1, -(10**30), None, "a", 0.5, -2.0])
def test_release_bad_n(cls, n):
    def scenario(m):
        s = getattr(m, cls)(3)
        s.acquire()
        s.acquire()
        s.release(n)

    std, ours = raises_same(scenario)
    assert std is not None
    assert std == ours


@pytest.mark.parametrize("cls", SEMAPHORES)
def test_release_returns_none_and_counts(cls):
    def scenario(m):
        s = getattr(m, cls)(3)
        for _ in range(3):
            s.acquire()
        out = [s.release(), s.release(n=2), norm_repr(repr(s))]
        out.append([s.acquire(False) for _ in range(4)])
        return out

    std, ours = both(scenario)
    assert std == ours
    assert std[:2] == [None, None]


def test_release_integral_float_n():
    if sys.version_info < (3, 12):
        pytest.skip("3.11's stdlib does range(n) with the float")
    std, ours = both(lambda m: (lambda s: (s.release(2.0), [s.acquire(False) for _ in range(3)]))(m.Semaphore(0)))
    assert std == ours == (None, [True, True, False])


def test_unbounded_release_beyond_initial(mod):
    s = mod.Semaphore(1)
    s.release(3)
    assert [s.acquire(False) for _ in range(5)] == [True] * 4 + [False]


@pytest.mark.parametrize("n", [1, 2, 10**30])
def test_bounded_over_release(n):
    if n == 10**30 and sys.version_info < (3, 12):
        pytest.skip("3.11's stdlib loops range(n) before the check")

    def scenario(m):
        s = m.BoundedSemaphore(2)
        s.acquire()
        s.release(n + 1 if n == 1 else n)

    std, ours = raises_same(scenario)
    assert std is not None and std[0] is ValueError
    assert std == ours


def test_bounded_over_release_leaves_value(mod):
    s = mod.BoundedSemaphore(2)
    s.acquire()
    with pytest.raises(ValueError):
        s.release(2)
    s.release()
    with pytest.raises(ValueError):
        s.release()
    assert [s.acquire(False) for _ in range(3)] == [True, True, False]


def test_bounded_zero(mod):
    s = mod.BoundedSemaphore(0)
    assert s.acquire(False) is False
    with pytest.raises(ValueError):
        s.release()


def test_release_n_wakes_n_waiters(mod):
    s = mod.Semaphore(0)
    got = []
    lock = threading.Lock()

    def worker():
        r = s.acquire(timeout=10)
        with lock:
            got.append(r)

    threads = [start(worker) for _ in range(5)]
    time.sleep(0.05)
    s.release(3)
    wait_until(lambda: len(got) >= 3)
    time.sleep(0.05)
    assert got == [True] * 3
    s.release(2)
    for t in threads:
        t.join(10)
    assert got == [True] * 5
    assert s.acquire(False) is False


def test_limits_concurrency(mod):
    s = mod.Semaphore(2)
    lock = threading.Lock()
    inside = [0]
    peak = [0]

    def worker():
        for _ in range(3):
            with s:
                with lock:
                    inside[0] += 1
                    peak[0] = max(peak[0], inside[0])
                time.sleep(0.01)
                with lock:
                    inside[0] -= 1

    threads = [start(worker) for _ in range(8)]
    for t in threads:
        t.join(30)
    assert peak[0] == 2
    assert [s.acquire(False) for _ in range(3)] == [True, True, False]


def test_bounded_under_contention_loses_nothing(mod):
    s = mod.BoundedSemaphore(3)

    def worker():
        for _ in range(300):
            with s:
                pass
            if s.acquire(timeout=0.5):
                s.release()

    threads = [start(worker) for _ in range(4)]
    for t in threads:
        t.join(30)
    assert norm_repr(repr(s)).endswith("value=3/3>")


# --- with -------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", SEMAPHORES)
def test_with(cls):
    def scenario(m):
        s = getattr(m, cls)(1)
        out = []
        with s as entered:
            out.append(entered)
            out.append(s.acquire(False))
        out.append(s.acquire(False))
        s.release()
        try:
            with s:
                raise KeyError("x")
        except KeyError:
            pass
        out.append(s.acquire(False))
        return out

    std, ours = both(scenario)
    assert std == ours == [True, False, True, True]


def test_enter_takes_acquire_arguments(mod):
    s = mod.Semaphore(0)
    assert s.__enter__(False) is False
    assert s.__enter__(True, 0.01) is False
    s.release()
    assert s.__enter__(blocking=True, timeout=1) is True


def test_exit_arguments(mod):
    s = mod.Semaphore(0)
    assert s.__exit__(None, None, None) is None
    assert s.acquire(False)
    std, ours = raises_same(lambda m: m.Semaphore(0).__exit__(None, None))
    assert std[0] is ours[0] is TypeError


def test_with_bounded_over_release(mod):
    s = mod.BoundedSemaphore(1)
    with pytest.raises(ValueError, match="Semaphore released too many times"):
        s.__exit__(None, None, None)


# --- subclasses -------------------------------------------------------------------------------


def test_subclass_with_own_init_and_release():
    def scenario(m):
        class Named(m.Semaphore):
            def __init__(self, name, value=2):
                super().__init__(value)
                self.name = name
                self.released = 0

            def release(self, n=1):
                self.released += n
                super().release(n)

        s = Named("x", value=1)
        out = [s.name, s.acquire(False), s.acquire(False)]
        s.release()
        with s:  # __exit__ calls self.release()
            pass
        out += [s.released, isinstance(s, m.Semaphore), norm_repr(repr(s))]
        return out

    std, ours = both(scenario)
    assert std == ours
    assert "Named at ADDR: value=1>" in std[-1]


def test_subclass_of_bounded():
    def scenario(m):
        class Pool(m.BoundedSemaphore):
            pass

        s = Pool(2)
        s.acquire()
        r = norm_repr(repr(s))
        s.release()
        try:
            s.release()
        except ValueError as e:
            return r, str(e), isinstance(s, m.Semaphore)

    std, ours = both(scenario)
    assert std == ours


def test_subclass_acquire_override_not_used_by_enter():
    # The stdlib's `__enter__ = acquire` binds Semaphore.acquire itself.
    def scenario(m):
        calls = []

        class S(m.Semaphore):
            def acquire(self, *a, **k):
                calls.append("acquire")
                return super().acquire(*a, **k)

        s = S()
        with s:
            pass
        s.acquire()
        return calls

    std, ours = both(scenario)
    assert std == ours


def test_init_called_again_resets_value(mod):
    s = mod.Semaphore(1)
    s.acquire()
    s.__init__(2)
    assert [s.acquire(False) for _ in range(3)] == [True, True, False]


# --- interruption and fork --------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="needs SIGUSR1")
@pytest.mark.parametrize("timeout", [None, 10])
def test_signal_interrupts_acquire_nothing_acquired(mod, timeout):
    s = mod.Semaphore(0)
    with sigusr1_after(0.05) as Interrupted:
        with pytest.raises(Interrupted):
            s.acquire(timeout=timeout)
        assert s.acquire(False) is False
        s.release()
        assert s.acquire(False) is True


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_usable_in_fork_child():
    r = run_python(
        """
        import os, rthreading
        s = rthreading.BoundedSemaphore(2)
        s.acquire()
        pid = os.fork()
        if pid == 0:
            ok = s.acquire(False) and not s.acquire(timeout=0.01)
            s.release(); s.release()
            t = rthreading.Semaphore(0)
            t.release()
            os._exit(0 if ok and t.acquire(timeout=1) else 1)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), repr(s).split(": ")[1])
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0", "value=1/2>"]
