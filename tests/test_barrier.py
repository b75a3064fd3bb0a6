"""rthreading.Barrier against threading.Barrier: every scenario runs on both (the `mod`
fixture) or compares both directly (`raises_same`, `both`)."""

import gc
import inspect
import re
import sys
import threading
import time
import weakref
from decimal import Decimal
from fractions import Fraction

import pytest

import rthreading
from helpers import MODULES, both, raises_same, run_python, wait_until

SHORT = 0.02  # a timeout that is meant to expire
LONG = 10.0  # a bound for waits that are meant to succeed


class Party:
    """A thread calling fn(); records its return value or exception."""

    def __init__(self, fn, *args):
        self.result = self.error = None
        self.ident = None
        self.thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self.thread.start()

    def _run(self, fn, args):
        self.ident = threading.get_ident()
        try:
            self.result = fn(*args)
        except BaseException as e:  # noqa: BLE001 - recorded for the test
            self.error = e

    def join(self):
        self.thread.join(LONG)
        assert not self.thread.is_alive(), "party still waiting"
        return self

    def outcome(self):
        """('ok', index) or the exception's type (types are the same across modules)."""
        self.join()
        return ("ok", self.result) if self.error is None else type(self.error)


def shape(text, mod):
    """A repr with the address and the module's name taken out."""
    return re.sub(r"0x[0-9a-f]+", "0x?", text).replace(mod.__name__ + ".", "MOD.")


def is_311_overflow_text(pair):
    """3.11's PyTime overflow messages differ from 3.13+'s, which rthreading follows."""
    return sys.version_info < (3, 13) and pair is not None and pair[0] is OverflowError


# ---------------------------------------------------------------- construction and properties


def test_broken_barrier_error_is_the_stdlibs():
    assert rthreading.BrokenBarrierError is threading.BrokenBarrierError
    b = rthreading.Barrier(2)
    b.abort()
    with pytest.raises(threading.BrokenBarrierError) as info:
        b.wait()
    assert type(info.value) is threading.BrokenBarrierError
    assert info.value.args == ()


def test_signatures():
    s, r = both(lambda m: (str(inspect.signature(m.Barrier)), str(inspect.signature(m.Barrier(1).wait))))
    assert s == r


@pytest.mark.parametrize("parties", [0, -1, -2.5, "2", None, [], object()])
def test_bad_parties(parties):
    s, r = raises_same(lambda m: m.Barrier(parties))
    if sys.version_info >= (3, 13):
        assert s == r
    else:
        # 3.11's Barrier checks nothing; 3.13+ compares `parties < 1`: its error or this one
        assert s is None
        try:
            small = parties < 1
        except TypeError as e:
            assert r == (TypeError, str(e))
        else:
            assert small and r == (ValueError, "parties must be >= 1")


@pytest.mark.parametrize("parties", [1, 2, 5, True, 2.0, 1.5, Fraction(3), 10**30])
def test_properties_keep_what_was_given(mod, parties):
    b = mod.Barrier(parties)
    assert b.parties is parties
    assert b.n_waiting == 0
    assert b.broken is False


def test_keywords(mod):
    calls = []
    b = mod.Barrier(parties=1, action=lambda: calls.append(1), timeout=SHORT)
    assert b.wait(timeout=None) == 0
    assert calls == [1]


def test_repr(mod):
    b = mod.Barrier(2)
    assert repr(b) == f"<{mod.__name__}.Barrier at {id(b):#x}: waiters=0/2>"
    p = Party(b.wait)
    wait_until(lambda: b.n_waiting == 1)
    waiting = repr(b)
    b.abort()
    assert p.outcome() is threading.BrokenBarrierError
    assert repr(b) == f"<{mod.__name__}.Barrier at {id(b):#x}: broken>"
    assert waiting.endswith(": waiters=1/2>")


def test_repr_same_shape_as_stdlib():
    def reprs(m):
        class Sub(m.Barrier):
            pass

        broken = m.Barrier(3)
        broken.abort()
        return [shape(repr(x), m) for x in (m.Barrier(2.0), Sub(3), broken)]

    s, r = both(reprs)
    assert s == r


def test_repr_reads_the_properties(mod):
    class Sub(mod.Barrier):
        n_waiting = 7
        parties = "many"

    assert repr(Sub(2)).endswith(": waiters=7/many>")


def test_subclass_init_calls_super(mod):
    class Sub(mod.Barrier):
        def __init__(self, n):
            self.trips = 0
            super().__init__(n, action=self.trip)

        def trip(self):
            self.trips += 1

    b = Sub(1)
    assert b.parties == 1
    assert [b.wait(), b.wait()] == [0, 0]
    assert b.trips == 2


def test_action_cycle_is_collected(mod):
    class Owner:
        def __init__(self):
            self.barrier = mod.Barrier(1, action=self.hook)

        def hook(self):
            pass

    o = Owner()
    o.barrier.wait()
    ref = weakref.ref(o)
    del o
    gc.collect()
    assert ref() is None


def test_weakref(mod):
    b = mod.Barrier(1)
    r = weakref.ref(b)
    assert r() is b


# ---------------------------------------------------------------- rounds, indices, the action


@pytest.mark.parametrize("parties", [1, 2, 4])
def test_rounds_hand_out_each_index_once(mod, parties):
    rounds = 15
    trips = []
    b = mod.Barrier(parties, action=lambda: trips.append(threading.get_ident()))
    got = {}

    def run():
        for r in range(rounds):
            i = b.wait(LONG)
            # the action ran before anyone was released
            assert len(trips) > r
            got.setdefault(r, []).append((i, threading.get_ident()))
        return True

    parties_ = [Party(run) for _ in range(parties)]
    for p in parties_:
        assert p.outcome() == ("ok", True)
    assert len(trips) == rounds
    for r in range(rounds):
        assert sorted(i for i, _ in got[r]) == list(range(parties))
        # the action ran in the last party to arrive
        assert dict(got[r])[parties - 1] == trips[r]
    assert (b.n_waiting, b.broken) == (0, False)


def test_non_integer_parties_trip_where_they_compare_equal(mod):
    assert mod.Barrier(True).wait() == 0
    assert mod.Barrier(1.0).wait() == 0
    b = mod.Barrier(Fraction(2))
    p = Party(b.wait, LONG)
    assert b.wait(LONG) in (0, 1)
    assert p.outcome()[0] == "ok"
    b = mod.Barrier(1.5)  # never equal to an arrival count: never trips
    with pytest.raises(threading.BrokenBarrierError):
        b.wait(SHORT)


def test_n_waiting_counts_arrivals(mod):
    b = mod.Barrier(3)
    seen = [b.n_waiting]
    p1 = Party(b.wait)
    wait_until(lambda: b.n_waiting == 1)
    p2 = Party(b.wait)
    wait_until(lambda: b.n_waiting == 2)
    seen.append(b.n_waiting)
    assert b.wait() == 2
    assert sorted([p1.outcome(), p2.outcome()]) == [("ok", 0), ("ok", 1)]
    assert seen == [0, 2]
    assert b.n_waiting == 0


def test_action_sees_a_full_unbroken_barrier(mod):
    seen = []
    b = mod.Barrier(2, action=lambda: seen.append((b.n_waiting, b.broken)))
    p = Party(b.wait)
    wait_until(lambda: b.n_waiting == 1)
    assert b.wait() == 1
    assert p.outcome() == ("ok", 0)
    assert seen == [(2, False)]


def test_action_raising_breaks_the_barrier(mod):
    def boom():
        raise ValueError("boom")

    b = mod.Barrier(3, action=boom)
    waiting = [Party(b.wait) for _ in range(2)]
    wait_until(lambda: b.n_waiting == 2)
    with pytest.raises(ValueError, match="^boom$"):
        b.wait()
    assert [p.outcome() for p in waiting] == [threading.BrokenBarrierError] * 2
    assert b.broken and b.n_waiting == 0
    with pytest.raises(threading.BrokenBarrierError):
        b.wait()
    b.reset()
    assert not b.broken


@pytest.mark.parametrize("action", [0, "", 1, "run", None])
def test_falsy_and_uncallable_actions(action):
    """The stdlib runs the action only if it is truthy."""
    s, r = raises_same(lambda m: m.Barrier(1, action=action).wait())
    assert s == r


def test_uncallable_action_leaves_barrier_broken(mod):
    b = mod.Barrier(1, action=1)
    with pytest.raises(TypeError):
        b.wait()
    assert b.broken


def test_action_is_called_with_no_arguments(mod):
    args = []
    b = mod.Barrier(1, action=lambda *a, **k: args.append((a, k)))
    b.wait()
    assert args == [((), {})]


def test_arrivals_wait_for_the_action(mod):
    """A party arriving while the action runs joins the next round."""
    started, go = threading.Event(), threading.Event()
    order = []

    def action():
        started.set()
        go.wait(LONG)
        order.append("action")

    b = mod.Barrier(2, action=action)
    first = Party(b.wait)
    wait_until(lambda: b.n_waiting == 1)
    last = Party(b.wait)
    assert started.wait(LONG)
    late = Party(lambda: (b.wait(LONG), order.append("late"))[0])
    time.sleep(SHORT)
    go.set()
    assert sorted([first.outcome(), last.outcome()]) == [("ok", 0), ("ok", 1)]
    wait_until(lambda: b.n_waiting == 1)  # the late party starts the next round
    assert b.wait() == 1
    assert late.outcome() == ("ok", 0)
    assert order == ["action", "action", "late"]  # round 1, then round 2 with the late party


def test_timeout_during_the_action_does_not_break(mod):
    go = threading.Event()
    b = mod.Barrier(2, action=lambda: go.wait(LONG))
    waiter = Party(b.wait, SHORT)
    wait_until(lambda: b.n_waiting == 1)
    last = Party(b.wait)
    time.sleep(3 * SHORT)  # the waiter's timeout passes while the action runs
    go.set()
    assert (waiter.outcome(), last.outcome()) == (("ok", 0), ("ok", 1))
    assert not b.broken


def test_abort_from_another_thread_waits_for_the_action(mod):
    started, go = threading.Event(), threading.Event()
    done = []

    def action():
        started.set()
        go.wait(LONG)
        done.append(True)

    b = mod.Barrier(1, action=action)
    last = Party(b.wait)
    assert started.wait(LONG)
    aborter = Party(lambda: (b.abort(), list(done))[1])
    time.sleep(SHORT)
    assert aborter.thread.is_alive()  # held back by the running action
    go.set()
    assert last.outcome() == ("ok", 0)
    assert aborter.outcome() == ("ok", [True])
    assert b.broken


# ---------------------------------------------------------------- timeouts


def test_timeout_breaks_the_barrier(mod):
    b = mod.Barrier(3)
    other = Party(b.wait)
    wait_until(lambda: b.n_waiting == 1)
    t0 = time.monotonic()
    with pytest.raises(threading.BrokenBarrierError):
        b.wait(SHORT)
    assert time.monotonic() - t0 >= SHORT
    assert other.outcome() is threading.BrokenBarrierError
    assert (b.broken, b.n_waiting) == (True, 0)
    with pytest.raises(threading.BrokenBarrierError):
        b.wait()


def test_default_timeout(mod):
    b = mod.Barrier(2, timeout=SHORT)
    t0 = time.monotonic()
    with pytest.raises(threading.BrokenBarrierError):
        b.wait(None)  # None means the default
    assert time.monotonic() - t0 >= SHORT
    assert b.broken


def test_explicit_timeout_overrides_default(mod):
    b = mod.Barrier(2, timeout=0)
    p = Party(b.wait, LONG)
    wait_until(lambda: b.n_waiting == 1)
    assert b.wait(LONG) == 1
    assert p.outcome() == ("ok", 0)


@pytest.mark.parametrize("timeout", [0, 0.0, -0.0, -1, -1.5, float("-inf"), False])
def test_non_positive_timeout_breaks_at_once(mod, timeout):
    b = mod.Barrier(2)
    with pytest.raises(threading.BrokenBarrierError):
        b.wait(timeout)
    assert (b.broken, b.n_waiting) == (True, 0)


def test_nan_timeout_waits_for_the_others(mod):
    b = mod.Barrier(2)
    p = Party(b.wait, float("nan"))
    wait_until(lambda: b.n_waiting == 1)
    time.sleep(SHORT)
    assert b.wait() == 1
    assert p.outcome() == ("ok", 0)


BAD_TIMEOUTS = ["1", b"1", Decimal("0.01"), Fraction(1, 100), [], 1e300, float("inf"), 2**70, 2**1100, 9223372037]


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS, ids=repr)
def test_bad_timeout(timeout):
    def scenario(m):
        b = m.Barrier(2)
        try:
            b.wait(timeout)
        finally:
            assert (b.broken, b.n_waiting) == (False, 0), "a bad timeout leaves the barrier alone"

    s, r = raises_same(scenario)
    assert s is not None
    if is_311_overflow_text(s):
        assert s[0] is r[0]
    else:
        assert s == r


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS[:4], ids=repr)
def test_bad_default_timeout(timeout):
    assert raises_same(lambda m: m.Barrier(2, timeout=timeout))[1] is None  # not read yet
    s, r = raises_same(lambda m: m.Barrier(2, timeout=timeout).wait())
    assert s == r and s is not None


def test_last_party_never_reads_the_timeout(mod):
    assert mod.Barrier(1).wait("nonsense") == 0
    assert mod.Barrier(1, timeout=[]).wait() == 0
    b = mod.Barrier(2)
    p = Party(b.wait, LONG)
    wait_until(lambda: b.n_waiting == 1)
    assert b.wait(2**1100) == 1
    assert p.outcome() == ("ok", 0)


def test_broken_checked_before_the_timeout():
    def scenario(m):
        b = m.Barrier(2)
        b.abort()
        b.wait("nonsense")

    s, r = raises_same(scenario)
    assert s == r == (threading.BrokenBarrierError, "")


# ---------------------------------------------------------------- reset and abort


def test_reset_while_threads_wait(mod):
    b = mod.Barrier(3)
    waiting = [Party(b.wait) for _ in range(2)]
    wait_until(lambda: b.n_waiting == 2)
    b.reset()
    assert [p.outcome() for p in waiting] == [threading.BrokenBarrierError] * 2
    wait_until(lambda: b.n_waiting == 0)
    assert not b.broken
    # usable again: a whole round
    again = [Party(b.wait, LONG) for _ in range(2)]
    wait_until(lambda: b.n_waiting == 2)
    assert b.wait() == 2
    assert sorted(p.outcome() for p in again) == [("ok", 0), ("ok", 1)]


def test_reset_idle_and_broken(mod):
    b = mod.Barrier(1)
    b.reset()
    assert (b.broken, b.wait()) == (False, 0)
    b.abort()
    assert b.broken
    b.reset()
    assert (b.broken, b.wait()) == (False, 0)


def test_abort_while_threads_wait(mod):
    b = mod.Barrier(3)
    waiting = [Party(b.wait) for _ in range(2)]
    wait_until(lambda: b.n_waiting == 2)
    b.abort()
    assert [p.outcome() for p in waiting] == [threading.BrokenBarrierError] * 2
    assert (b.broken, b.n_waiting) == (True, 0)
    with pytest.raises(threading.BrokenBarrierError):
        b.wait()
    b.abort()  # idempotent
    assert b.broken


def test_reset_of_a_broken_barrier_with_waiters_refills_after_they_leave(mod):
    b = mod.Barrier(2)
    p = Party(b.wait)
    wait_until(lambda: b.n_waiting == 1)
    b.abort()
    assert p.outcome() is threading.BrokenBarrierError
    b.reset()
    q = Party(b.wait, LONG)
    wait_until(lambda: b.n_waiting == 1)
    assert b.wait(LONG) == 1
    assert q.outcome() == ("ok", 0)


def test_methods_take_no_extra_arguments():
    for call in (lambda b: b.reset(1), lambda b: b.abort(1), lambda b: b.wait(1, 2)):
        s, r = raises_same(lambda m: call(m.Barrier(1)))
        assert s[0] is r[0] is TypeError


def test_properties_are_read_only():
    for name in ("parties", "n_waiting", "broken"):
        s, r = raises_same(lambda m: setattr(m.Barrier(1), name, 3))
        assert s[0] is r[0] is AttributeError


# ---------------------------------------------------------------- Ctrl-C


KI_SCRIPT = """
import signal, threading, time, {mod} as m
b = m.Barrier(3)
main = threading.get_ident()
out = []
def party(name):
    out.append((name, b.wait(10)))
h = threading.Thread(target=party, args=("helper",)); h.start()
def interrupt():
    while b.n_waiting < 2:
        time.sleep(0.001)
    time.sleep(0.05)
    signal.pthread_kill(main, signal.SIGINT)
threading.Thread(target=interrupt).start()
try:
    b.wait()
except KeyboardInterrupt:
    out.append(("interrupted", b.n_waiting, b.broken))
third = threading.Thread(target=party, args=("third",)); third.start()
while b.n_waiting < 2:
    time.sleep(0.001)
party("main")
h.join(); third.join()
out.append(("after", b.n_waiting, b.broken))
print(out[0])
print(sorted(out[1:]))
"""


def test_ctrl_c_interrupts_wait_and_leaves_the_barrier_usable():
    outs = []
    for name in MODULES:
        proc = run_python(KI_SCRIPT.format(mod=name))
        assert proc.returncode == 0, proc.stderr
        outs.append(proc.stdout)
    assert outs[0] == outs[1]
    assert outs[1].startswith("('interrupted', 1, False)\n")


def test_ctrl_c_during_the_action_breaks_the_barrier():
    code = """
import signal, threading, {mod} as m
main = threading.get_ident()
b = m.Barrier(1, action=lambda: signal.raise_signal(signal.SIGINT))
try:
    b.wait()
except KeyboardInterrupt:
    print("interrupted", b.broken)
"""
    outs = [run_python(code.format(mod=name)).stdout for name in MODULES]
    assert outs[0] == outs[1] == "interrupted True\n"
