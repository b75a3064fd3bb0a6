"""Event: differential against the stdlib's threading."""

import os
import signal
import threading
import time
import warnings
import weakref
from decimal import Decimal
from fractions import Fraction

import pytest

import rthreading
from helpers import both, norm_repr, raises_same, run_python, sigusr1_after, start


def test_set_clear_is_set():
    def scenario(m):
        e = m.Event()
        out = [e.is_set()]
        out.append(e.set())
        out.append(e.is_set())
        e.set()
        out.append(e.is_set())
        out.append(e.clear())
        out.append(e.is_set())
        e.clear()
        out.append(e.is_set())
        return out

    std, ours = both(scenario)
    assert std == ours == [False, None, True, True, None, False, False]


def test_is_set_returns_bool(mod):
    e = mod.Event()
    assert e.is_set() is False
    e.set()
    assert e.is_set() is True


def test_isset_is_deprecated(mod):
    e = mod.Event()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert e.isSet() is False
    assert [(x.category, str(x.message)) for x in w] == [
        (DeprecationWarning, "isSet() is deprecated, use is_set() instead")
    ]
    assert w[0].filename == __file__  # attributed to the caller, as stacklevel=2 does


def test_repr():
    def scenario(m):
        e = m.Event()
        out = [norm_repr(repr(e))]
        e.set()
        out.append(norm_repr(repr(e)))
        return out

    std, ours = both(scenario)
    assert std == ours == ["<threading.Event at ADDR: unset>", "<threading.Event at ADDR: set>"]
    e = rthreading.Event()
    assert repr(e) == f"<rthreading.Event at {id(e):#x}: unset>"


def test_constructor_takes_no_arguments():
    std, ours = raises_same(lambda m: m.Event(1))
    assert std[0] is ours[0] is TypeError
    std, ours = raises_same(lambda m: m.Event(flag=True))
    assert std[0] is ours[0] is TypeError


def test_weakref(mod):
    e = mod.Event()
    assert weakref.ref(e)() is e


# --- wait -------------------------------------------------------------------------------------


@pytest.mark.parametrize("timeout", [None, 0, -1, 0.01, "a", float("nan"), 10**400, Decimal(1), object()], ids=repr)
def test_wait_on_set_event_returns_true_without_looking_at_timeout(mod, timeout):
    e = mod.Event()
    e.set()
    assert e.wait(timeout) is True
    assert e.wait(timeout=timeout) is True


def test_wait_no_argument_on_set(mod):
    e = mod.Event()
    e.set()
    assert e.wait() is True


@pytest.mark.parametrize(
    "timeout", [0, 0.0, -1, -0.5, float("-inf"), float("nan"), False, Fraction(-1, 2), -(10**400)], ids=repr
)
def test_non_positive_timeout_returns_false_at_once(timeout):
    std, ours = both(lambda m: m.Event().wait(timeout))
    assert std is ours is False


@pytest.mark.parametrize(
    "timeout",
    ["a", b"x", [], 1j, Decimal("0.01"), Fraction(1, 100), 10**400, 2**63, 10**10, 1e10, float("inf")],
    ids=repr,
)
def test_timeout_errors_when_it_must_wait(timeout):
    std, ours = raises_same(lambda m: m.Event().wait(timeout))
    assert std is not None, "the stdlib accepted it"
    assert std == ours


def test_timed_wait_returns_false_after_at_least_the_timeout(mod):
    e = mod.Event()
    t0 = time.monotonic()
    assert e.wait(0.05) is False
    assert time.monotonic() - t0 >= 0.05
    t0 = time.monotonic()
    assert e.wait(timeout=0.03) is False
    assert time.monotonic() - t0 >= 0.03
    assert e.is_set() is False


def test_signalling_between_threads(mod):
    e = mod.Event()
    got = []
    t = start(lambda: got.append(e.wait()))
    time.sleep(0.02)
    assert got == []
    e.set()
    t.join(5)
    assert got == [True]


def test_timed_wait_returns_true_when_set_in_time(mod):
    e = mod.Event()
    t = start(lambda: (time.sleep(0.02), e.set()))
    assert e.wait(10) is True
    t.join()


def test_set_wakes_every_waiter(mod):
    e = mod.Event()
    got = []
    lock = threading.Lock()

    def waiter(timeout):
        r = e.wait(timeout)
        with lock:
            got.append(r)

    threads = [start(waiter, None) for _ in range(3)] + [start(waiter, 10) for _ in range(3)]
    time.sleep(0.05)
    e.set()
    for t in threads:
        t.join(10)
    assert got == [True] * 6


def test_set_then_clear_still_wakes_current_waiters(mod):
    # Every thread waiting when set() runs returns True, even if clear() follows at once.
    e = mod.Event()
    got = []
    lock = threading.Lock()

    def waiter():
        r = e.wait(5)
        with lock:
            got.append(r)

    threads = [start(waiter) for _ in range(4)]
    time.sleep(0.2)
    e.set()
    e.clear()
    for t in threads:
        t.join(10)
    assert got == [True] * 4
    assert e.is_set() is False


def test_ping_pong(mod):
    ping, pong = mod.Event(), mod.Event()
    rounds = 200

    def other():
        for _ in range(rounds):
            assert ping.wait(10)
            ping.clear()
            pong.set()

    t = start(other)
    for _ in range(rounds):
        ping.set()
        assert pong.wait(10)
        pong.clear()
    t.join(10)
    assert not t.is_alive()


# --- subclasses, __init__, fork ---------------------------------------------------------------


def test_subclass():
    def scenario(m):
        class Named(m.Event):
            def __init__(self, name):
                super().__init__()
                self.name = name

            def set(self):
                self.calls = getattr(self, "calls", 0) + 1
                super().set()

        e = Named("x")
        r = [e.name, e.is_set(), norm_repr(repr(e))]
        e.set()
        r += [e.is_set(), e.wait(), e.calls, norm_repr(repr(e)), isinstance(e, m.Event)]
        return r

    std, ours = both(scenario)
    assert std == ours
    assert "Named at ADDR: set>" in std[-2]


def test_init_again_clears(mod):
    e = mod.Event()
    e.set()
    e.__init__()
    assert e.is_set() is False


def test_at_fork_reinit_keeps_flag():
    def scenario(m):
        e = m.Event()
        e.set()
        e._at_fork_reinit()
        out = [e.is_set(), e.wait(0)]
        e.clear()
        e._at_fork_reinit()
        out += [e.is_set(), e.wait(0.01)]
        e.set()
        out.append(e.wait())
        return out

    std, ours = both(scenario)
    assert std == ours == [True, True, False, False, True]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_usable_in_fork_child():
    r = run_python(
        """
        import os, threading, rthreading
        e = rthreading.Event()
        waiter = threading.Thread(target=e.wait, args=(5,))
        waiter.start()
        pid = os.fork()
        if pid == 0:
            e._at_fork_reinit()
            ok = not e.wait(0.01)
            t = threading.Thread(target=lambda: e.set())
            t.start()
            ok = ok and e.wait(5)
            t.join()
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        e.set()
        waiter.join()
        print(os.waitstatus_to_exitcode(status), e.is_set())
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0", "True"]


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="needs SIGUSR1")
@pytest.mark.parametrize("timeout", [None, 10])
def test_signal_interrupts_wait(mod, timeout):
    e = mod.Event()
    with sigusr1_after(0.05) as Interrupted:
        with pytest.raises(Interrupted):
            e.wait(timeout)
        assert e.is_set() is False
        e.set()
        assert e.wait(timeout) is True
