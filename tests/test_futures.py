"""rthreading.futures.Future: differential against concurrent.futures.Future, and the stdlib's
own consumers of futures (wait, as_completed, asyncio) fed rthreading's futures."""

import asyncio
import concurrent.futures as cf
import gc
import logging
import threading
import time
import traceback
import weakref

import pytest

import rthreading.futures as rf
from helpers import both_futures, mask_addresses, outcome_any
from rthreading.futures import ThreadPoolExecutor


def later(delay, fn, *args):
    t = threading.Timer(delay, fn, args)
    t.daemon = True
    t.start()
    return t


# --- the type ----------------------------------------------------------------------------------


def test_is_a_concurrent_futures_future():
    f = rf.Future()
    assert isinstance(f, cf.Future)
    assert rf.Future[int].__origin__ is rf.Future  # __class_getitem__, as the stdlib's
    assert rf.ThreadPoolExecutor(1).submit(int).result() == 0


def test_namespace_is_the_stdlibs():
    for name in [
        "wait",
        "as_completed",
        "FIRST_COMPLETED",
        "FIRST_EXCEPTION",
        "ALL_COMPLETED",
        "CancelledError",
        "TimeoutError",
        "BrokenExecutor",
        "InvalidStateError",
        "Executor",
    ]:
        assert getattr(rf, name) is getattr(cf, name), name
    assert rf.BrokenThreadPool is cf.thread.BrokenThreadPool
    for name in rf.__all__:
        assert hasattr(rf, name)


def test_takes_attributes_like_the_stdlibs(fm):
    f = fm.Future()
    f.url = "https://example.com"
    assert f.url == "https://example.com"


# --- states and transitions ----------------------------------------------------------------------


def test_life_cycle():
    def scenario(m):
        f = m.Future()
        out = [(f.done(), f.running(), f.cancelled(), mask_addresses(repr(f)))]
        out.append(f.set_running_or_notify_cancel())
        out.append((f.done(), f.running(), f.cancelled(), mask_addresses(repr(f)), f.cancel()))
        out.append(f.set_result([1]))
        out.append((f.done(), f.running(), f.cancelled(), mask_addresses(repr(f)), f.cancel()))
        out.append((f.result(), f.exception(), f.result(timeout=0), f.exception(-1)))
        return out

    std, ours = both_futures(scenario)
    assert std == ours
    assert ours[-2][3] == "<Future at ADDR state=finished returned list>"


def test_exception_outcome():
    def scenario(m):
        f = m.Future()
        err = ValueError("boom")
        f.set_exception(err)
        return (mask_addresses(repr(f)), f.exception() is err, outcome_any(f.result), f.done(), f.running())

    std, ours = both_futures(scenario)
    assert std == ours
    assert ours[0] == "<Future at ADDR state=finished raised ValueError>"


def test_odd_exceptions_are_kept_as_given():
    def scenario(m):
        out = []
        for exc in [ValueError, None, "not an exception", KeyboardInterrupt()]:
            f = m.Future()
            f.set_exception(exc)
            out.append((mask_addresses(repr(f)), outcome_any(f.result), f.exception() is exc))
        return out

    std, ours = both_futures(scenario)
    assert std == ours


def test_cancel():
    def scenario(m):
        f = m.Future()
        calls = []
        f.add_done_callback(lambda fut: calls.append(("cb", fut.cancelled())))
        out = [f.cancel(), f.cancel(), f.cancelled(), f.done(), mask_addresses(repr(f)), calls[:]]
        out.append(outcome_any(f.result))
        out.append(outcome_any(f.exception))
        out.append(outcome_any(lambda: f.set_result(1)))
        out.append(f.set_running_or_notify_cancel())  # CANCELLED -> CANCELLED_AND_NOTIFIED
        out.append((f.cancelled(), f.done(), f.cancel(), mask_addresses(repr(f))))
        return [mask_addresses(str(x)) for x in out]

    std, ours = both_futures(scenario)
    assert std == ours


def test_cannot_cancel_running_or_finished():
    def scenario(m):
        f = m.Future()
        f.set_running_or_notify_cancel()
        a = f.cancel()
        f.set_result(None)
        return (a, f.cancel(), f.cancelled())

    std, ours = both_futures(scenario)
    assert std == ours == (False, False, False)


def test_invalid_state_errors():
    def scenario(m):
        out = []
        f = m.Future()
        f.set_result(1)
        out.append(outcome_any(lambda: f.set_result(2)))
        out.append(outcome_any(lambda: f.set_exception(ValueError())))
        g = m.Future()
        g.cancel()
        out.append(outcome_any(lambda: g.set_result(2)))
        g.set_running_or_notify_cancel()
        out.append(outcome_any(lambda: g.set_exception(ValueError())))
        return [(t, mask_addresses(msg)) for t, msg in out]

    std, ours = both_futures(scenario)
    assert std == ours
    assert std[0] == (cf.InvalidStateError, "FINISHED: <Future at ADDR state=finished returned int>")


@pytest.mark.thread_unsafe  # caplog collects every thread's records
def test_set_running_twice_is_an_executor_error(caplog):
    def scenario(m):
        caplog.clear()
        f = m.Future()
        f.set_running_or_notify_cancel()
        r = outcome_any(f.set_running_or_notify_cancel)
        f.set_result(3)
        r2 = outcome_any(f.set_running_or_notify_cancel)
        return r, r2, [(rec.levelname, rec.getMessage().replace(str(id(f)), "ID")) for rec in caplog.records]

    with caplog.at_level(logging.CRITICAL, logger="concurrent.futures"):
        std, ours = both_futures(scenario)
    assert std == ours
    assert std[0] == (RuntimeError, "Future in unexpected state")
    assert std[2] == [
        ("CRITICAL", "Future ID in unexpected state: RUNNING"),
        ("CRITICAL", "Future ID in unexpected state: FINISHED"),
    ]


# --- result() and exception() waits ---------------------------------------------------------------


@pytest.mark.parametrize("timeout", [0, 0.0, -1, 0.05, False])
def test_pending_times_out(fm, timeout):
    f = fm.Future()
    t0 = time.monotonic()
    with pytest.raises(cf.TimeoutError) as info:
        f.result(timeout)
    assert str(info.value) == ""
    with pytest.raises(cf.TimeoutError):
        f.exception(timeout=timeout)
    if timeout and timeout > 0:
        assert time.monotonic() - t0 >= 2 * timeout * 0.99


@pytest.mark.parametrize("timeout", ["1", [], float("nan"), 10**30, float("inf")])
def test_bad_timeouts(timeout):
    def scenario(m):
        f = m.Future()
        pending = outcome_any(lambda: f.result(timeout))
        f.set_result(7)
        return pending, outcome_any(lambda: f.result(timeout))  # a done future never looks at it

    std, ours = both_futures(scenario)
    assert std == ours


def test_result_wakes_when_set_from_another_thread(fm):
    f = fm.Future()
    later(0.02, f.set_result, "late")
    assert f.result(timeout=10) == "late"
    g = fm.Future()
    later(0.02, g.set_exception, OSError("late"))
    assert isinstance(g.exception(timeout=10), OSError)
    h = fm.Future()
    later(0.02, h.cancel)
    with pytest.raises(cf.CancelledError):
        h.result(timeout=10)


def test_many_waiters_all_wake(fm):
    f = fm.Future()
    results = []
    threads = [threading.Thread(target=lambda: results.append(f.result(timeout=10))) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.02)
    f.set_result(42)
    for t in threads:
        t.join()
    assert results == [42] * 8


def test_result_reraises_with_the_tasks_traceback(fm):
    def task():
        raise KeyError("deep")

    with fm.ThreadPoolExecutor(1) as ex:
        f = ex.submit(task)
        with pytest.raises(KeyError) as info:
            f.result()
    frames = [fr.name for fr in traceback.extract_tb(info.value.__traceback__)]
    assert "task" in frames
    assert frames[0] == "test_result_reraises_with_the_tasks_traceback"
    assert f.exception() is info.value


# --- done callbacks ------------------------------------------------------------------------------


def test_callbacks_order_and_immediate_call():
    def scenario(m):
        f = m.Future()
        seen = []
        f.add_done_callback(lambda fut: seen.append(("a", fut.result())))
        f.add_done_callback(lambda fut: seen.append(("b", fut.done())))
        f.set_result(5)
        f.add_done_callback(lambda fut: seen.append(("late", fut.result())))
        return seen

    std, ours = both_futures(scenario)
    assert std == ours == [("a", 5), ("b", True), ("late", 5)]


@pytest.mark.thread_unsafe  # caplog
def test_callback_exception_is_logged_not_raised(caplog):
    def scenario(m):
        caplog.clear()
        f = m.Future()
        seen = []

        def bad(fut):
            raise ZeroDivisionError("in callback")

        f.add_done_callback(bad)
        f.add_done_callback(seen.append)
        f.set_result(1)
        f.add_done_callback(bad)  # already done: called now, still only logged
        recs = [(r.levelname, mask_addresses(r.getMessage()), r.exc_info[0]) for r in caplog.records]
        return len(seen), recs

    with caplog.at_level(logging.ERROR, logger="concurrent.futures"):
        std, ours = both_futures(scenario)
    assert std == ours
    assert std[1][0] == (
        "ERROR",
        "exception calling callback for <Future at ADDR state=finished returned int>",
        ZeroDivisionError,
    )


def test_callback_base_exception_propagates():
    def scenario(m):
        f = m.Future()
        seen = []

        def stop(fut):
            raise SystemExit(3)

        f.add_done_callback(stop)
        f.add_done_callback(seen.append)
        r = outcome_any(lambda: f.set_result(1))
        return r, len(seen), f.done()

    std, ours = both_futures(scenario)
    assert std == ours


def test_callbacks_run_in_the_worker_thread(fm):
    with fm.ThreadPoolExecutor(1, thread_name_prefix="cbpool") as ex:
        names = []
        gate = threading.Event()
        f = ex.submit(gate.wait, 10)
        f.add_done_callback(lambda fut: names.append(threading.current_thread().name))
        gate.set()
        f.result()
    assert names == ["cbpool_0"]


# --- the stdlib's wait() and as_completed() on rthreading futures ---------------------------------


def test_stdlib_wait_return_when():
    with ThreadPoolExecutor(4) as ex:
        gate = threading.Event()
        quick = ex.submit(lambda: 1)
        slow = ex.submit(gate.wait, 10)
        bad = ex.submit(lambda: 1 / 0)
        quick.result()
        bad.exception()
        done, not_done = cf.wait([quick, slow, bad], timeout=0.05)
        assert done == {quick, bad} and not_done == {slow}
        done, not_done = cf.wait([quick, slow], return_when=cf.FIRST_COMPLETED)
        assert done == {quick}
        done, not_done = cf.wait([slow, bad], return_when=cf.FIRST_EXCEPTION)
        assert done == {bad} and not_done == {slow}
        waiter = threading.Thread(target=lambda: out.append(cf.wait([slow], timeout=10)))
        out = []
        waiter.start()
        time.sleep(0.02)
        gate.set()
        waiter.join()
        assert out[0].done == {slow}
        for f in (quick, slow, bad):
            assert f._waiters == []  # the stdlib removed its waiters again


def test_stdlib_wait_first_completed_while_pending():
    with ThreadPoolExecutor(2) as ex:
        gates = [threading.Event(), threading.Event()]
        fs = [ex.submit(g.wait, 10) for g in gates]
        later(0.03, gates[1].set)
        done, not_done = rf.wait(fs, timeout=10, return_when=rf.FIRST_COMPLETED)
        assert done == {fs[1]} and not_done == {fs[0]}
        gates[0].set()


def test_stdlib_wait_all_completed_counts_exactly():
    """Futures finishing while wait() registers its waiter are counted once."""
    with ThreadPoolExecutor(4) as ex:
        for _ in range(50):
            fs = [ex.submit(time.sleep, 0.0005 * (i % 3)) for i in range(20)]
            done, not_done = cf.wait(fs, timeout=10)
            assert len(done) == 20 and not not_done


def test_stdlib_as_completed():
    with ThreadPoolExecutor(3) as ex:
        gates = {name: threading.Event() for name in "abc"}
        futures = {ex.submit(gates[n].wait, 10): n for n in "abc"}
        order = []
        for delay, n in [(0.01, "b"), (0.04, "c"), (0.07, "a")]:
            later(delay, gates[n].set)
        for f in cf.as_completed(futures, timeout=10):
            order.append(futures[f])
        assert order == ["b", "c", "a"]


def test_stdlib_as_completed_timeout():
    def scenario(m):
        ex = m.ThreadPoolExecutor(2)
        gate = threading.Event()
        fs = [ex.submit(lambda: 1), ex.submit(gate.wait, 10)]
        fs[0].result()
        got = []
        try:
            for f in cf.as_completed(fs, timeout=0.05):
                got.append(f is fs[0])
        except cf.TimeoutError as e:
            got.append(str(e))
        gate.set()
        ex.shutdown()
        return got

    std, ours = both_futures(scenario)
    assert std == ours == [True, "1 (of 2) futures unfinished"]


def test_stdlib_wait_sees_cancelled_futures_once_the_worker_has():
    with ThreadPoolExecutor(1) as ex:
        gate = threading.Event()
        first = ex.submit(gate.wait, 10)
        queued = ex.submit(int)
        assert queued.cancel()
        assert cf.wait([queued], timeout=0.02).not_done == {queued}  # CANCELLED, not yet notified
        later(0.02, gate.set)
        done, _ = cf.wait([queued], timeout=10)
        assert done == {queued} and queued._state == "CANCELLED_AND_NOTIFIED"
        first.result()


def test_stdlib_and_rthreading_futures_mix_in_one_wait():
    ours, theirs = rf.Future(), cf.Future()
    later(0.02, theirs.set_result, "stdlib")
    later(0.04, ours.set_result, "rthreading")
    got = [f.result() for f in cf.as_completed([ours, theirs], timeout=10)]
    assert got == ["stdlib", "rthreading"]
    assert cf.wait([ours, theirs], timeout=10).done == {ours, theirs}


def test_private_attributes_follow_the_stdlib():
    f = rf.Future()
    assert f._state == cf._base.PENDING
    assert f._condition is f._condition and f._waiters is f._waiters
    with f._condition:
        f._waiters.append("x")
    f._waiters.remove("x")
    f.set_result(1)
    assert (f._state, f._result, f._exception) == ("FINISHED", 1, None)


# --- asyncio -------------------------------------------------------------------------------------


def test_asyncio_wrap_future_and_run_in_executor():
    async def main(ex):
        loop = asyncio.get_running_loop()
        a = await asyncio.wrap_future(ex.submit(pow, 2, 10))
        b = await loop.run_in_executor(ex, threading.current_thread)
        with pytest.raises(ZeroDivisionError):
            await loop.run_in_executor(ex, divmod, 1, 0)
        loop.set_default_executor(ex)
        c = await loop.run_in_executor(None, sum, [1, 2, 3])
        return a, b.name, c

    with ThreadPoolExecutor(2, thread_name_prefix="aio") as ex:
        a, name, c = asyncio.run(main(ex))
    assert (a, c) == (1024, 6)
    assert name.startswith("aio_")


def test_asyncio_cancel_propagates_to_the_future():
    async def main(ex, gate):
        blocker = ex.submit(gate.wait, 10)
        queued = ex.submit(int)
        wrapped = asyncio.wrap_future(queued)
        wrapped.cancel()
        await asyncio.sleep(0.01)
        gate.set()
        await asyncio.wrap_future(blocker)
        return queued.cancelled()

    with ThreadPoolExecutor(1) as ex:
        assert asyncio.run(main(ex, threading.Event())) is True


def test_asyncio_gather_many():
    async def main(ex):
        loop = asyncio.get_running_loop()
        return await asyncio.gather(*(loop.run_in_executor(ex, abs, -i) for i in range(500)))

    with ThreadPoolExecutor(4) as ex:
        assert asyncio.run(main(ex)) == list(range(500))


# --- garbage collection --------------------------------------------------------------------------


def collect():
    for _ in range(3):  # functions are freed by the collector on 3.13t (deferred refcounts)
        gc.collect()


@pytest.mark.thread_unsafe  # gc.collect
def test_cycles_through_futures_are_collected(fm):
    class Node:
        pass

    n = Node()
    f = fm.Future()
    f.set_result(n)
    n.future = f
    f.add_done_callback(lambda fut, n=n: None)
    g = fm.Future()
    g.add_done_callback(lambda fut, g=g: None)  # pending, callback refers back to it
    g.me = g
    h = fm.Future()
    h.set_exception(ValueError(h))
    refs = [weakref.ref(x) for x in (n, f, g, h)]
    del n, f, g, h
    collect()
    assert [r() for r in refs] == [None] * 4


@pytest.mark.thread_unsafe  # gc.collect
def test_cycle_through_a_pool_result_is_collected(fm):
    class Node:
        pass

    with fm.ThreadPoolExecutor(2) as ex:
        n = Node()
        n.future = ex.submit(lambda n=n: n)
        n.future.result()
        r = weakref.ref(n)
        del n
    collect()
    assert r() is None


@pytest.mark.thread_unsafe  # gc.collect
def test_observed_future_cycle_is_collected():
    f = rf.Future()
    cf.wait([f], timeout=0)  # makes _condition and _waiters
    f.set_result(f)
    r = weakref.ref(f)
    del f
    collect()
    assert r() is None
