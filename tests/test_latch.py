"""rthreading.CountDownLatch. Its wait() takes the timeout as Event.wait() does, so the
argument handling is checked against the stdlib's Event (differential); the rest against the
documented behaviour."""

import threading

import pytest

import rthreading
from rthreading import CountDownLatch

from _sigint import interrupted_state, needs_signals
from helpers import in_thread, start, wait_until


def test_count_and_count_down():
    latch = CountDownLatch(2)
    assert latch.count == 2
    assert latch.wait(0) is False
    latch.count_down()
    assert latch.count == 1
    latch.count_down()
    assert latch.count == 0
    latch.count_down()  # no-op at zero
    assert latch.count == 0
    assert latch.wait() is True and latch.wait(0) is True
    assert CountDownLatch(0).wait() is True
    assert "count=0" in repr(latch)


@pytest.mark.parametrize("bad", [-1, -(2**70)])
def test_negative_count(bad):
    with pytest.raises((ValueError, OverflowError)):
        CountDownLatch(bad)
    with pytest.raises(ValueError, match="non-negative"):
        CountDownLatch(-1)


def test_bad_count_types():
    for bad in (1.5, "3", None):
        with pytest.raises(TypeError):
            CountDownLatch(bad)
    with pytest.raises(TypeError):
        CountDownLatch()


@pytest.mark.parametrize("timeout", [0, 0.0, -1, -0.5, 0.01, None, float("nan"), "x", 2**70, float("inf")])
def test_timeout_arguments_as_event_wait(timeout):
    """wait(timeout) on a latch that does not reach zero behaves as Event.wait(timeout) on an
    event that is not set (same result or same exception); timeouts that would wait long are
    run on both against a count that reaches zero / an event that gets set."""

    def outcome(waiter, release):
        timer = threading.Timer(0.05, release)
        timer.start()
        try:
            return ("ok", waiter(timeout))
        except Exception as e:  # noqa: BLE001 - compared as a whole
            return (type(e), str(e))
        finally:
            timer.cancel()

    latch, event = CountDownLatch(1), threading.Event()
    assert outcome(latch.wait, latch.count_down) == outcome(event.wait, event.set)


def test_releases_every_waiter():
    latch = CountDownLatch(3)
    results = []
    threads = [start(lambda: results.append(latch.wait(30))) for _ in range(4)]
    for _ in range(3):
        assert in_thread(lambda: latch.wait(0.001)) == ("ok", False)
        latch.count_down()
    for t in threads:
        t.join(30)
    assert results == [True] * 4


def test_timeout_returns_false():
    latch = CountDownLatch(1)
    assert latch.wait(0.01) is False
    assert latch.count == 1


def test_waits_are_listed_by_dump():
    latch = CountDownLatch(1)
    t = start(latch.wait, 30)
    wait_until(lambda: any(w[1] is latch for w in rthreading._core._waits()))
    latch.count_down()
    t.join(30)
    assert not t.is_alive()


@needs_signals
@pytest.mark.parametrize("call", ["latch.wait()", "latch.wait(60)"])
def test_ctrl_c_interrupts_wait(call):
    got = interrupted_state("latch = rthreading.CountDownLatch(1)", call, "(latch.count, latch.wait(0))")
    assert got == "(1, False)"
