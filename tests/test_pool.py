"""rthreading.futures.ThreadPoolExecutor: differential against concurrent.futures'."""

import concurrent.futures as cf
import logging
import re
import threading
import time

import pytest

import rthreading
import rthreading.futures as rf
from helpers import both_futures, outcome_any, wait_until


def settle(pred, timeout=10.0):
    """Wait (bounded) until pred() is true; returns pred()."""
    end = time.monotonic() + timeout
    while not pred() and time.monotonic() < end:
        time.sleep(0.005)
    return pred()


# --- the class -----------------------------------------------------------------------------------


def test_is_an_executor():
    ex = rf.ThreadPoolExecutor(1)
    assert isinstance(ex, cf.Executor)
    assert isinstance(ex, cf.ThreadPoolExecutor)  # loop.set_default_executor requires it
    assert rthreading.ThreadPoolExecutor is rf.ThreadPoolExecutor
    assert "ThreadPoolExecutor" in dir(rthreading)
    assert rf.ThreadPoolExecutor.BROKEN is rf.BrokenThreadPool
    ex.shutdown()


def test_default_max_workers():
    std, ours = both_futures(lambda m: m.ThreadPoolExecutor()._max_workers)
    assert std == ours


@pytest.mark.parametrize(
    "args",
    [
        (0,),
        (-1,),
        ("3",),
        (None, "", 5),
        (2, "", None, 5),
        (1.5,),
    ],
)
def test_constructor_arguments(args):
    def scenario(m):
        r = outcome_any(lambda: m.ThreadPoolExecutor(*args))
        if r[0] == "ok":
            ex = r[1]
            r = ("ok", ex._max_workers, ex._initializer, ex._initargs)
            ex.shutdown()
        return r

    std, ours = both_futures(scenario)
    assert std == ours


def test_constructor_keywords_and_errors():
    def scenario(m):
        return [
            outcome_any(lambda: m.ThreadPoolExecutor(max_workers=1, initializer=5)),
            outcome_any(lambda: m.ThreadPoolExecutor(bogus=1)),
            outcome_any(lambda: m.ThreadPoolExecutor(1, "p", None, (), 5)),
        ]

    std, ours = both_futures(scenario)
    assert [r[0] for r in std] == [r[0] for r in ours]
    assert std[0] == ours[0] == (TypeError, "initializer must be a callable")


@pytest.mark.parametrize("max_workers", [True, 1.5, 2])
def test_worker_count_limit(max_workers):
    def scenario(m):
        ex = m.ThreadPoolExecutor(max_workers)
        gate = threading.Event()
        fs = [ex.submit(gate.wait, 10) for _ in range(4)]
        started = len(ex._threads)
        gate.set()
        ex.shutdown()
        return started, [f.result() for f in fs]

    std, ours = both_futures(scenario)
    assert std == ours


# --- submit --------------------------------------------------------------------------------------


def test_submit_passes_arguments(fm):
    with fm.ThreadPoolExecutor(2) as ex:
        f = ex.submit(lambda *a, **k: (a, k), 1, 2, fn=3, x=4)
        assert f.result() == ((1, 2), {"fn": 3, "x": 4})
        assert ex.submit(max, [3, 1, 2]).result() == 3
        assert ex.submit(dict, a=1).result() == {"a": 1}
        assert isinstance(ex.submit(int), cf.Future)


def test_submit_argument_errors():
    def scenario(m):
        with m.ThreadPoolExecutor(1) as ex:
            return [
                outcome_any(lambda: ex.submit()),
                outcome_any(lambda: ex.submit(fn=int)),
                outcome_any(lambda: ex.submit(5).result()),  # not callable: raised by the task
            ]

    std, ours = both_futures(scenario)
    assert std == ours


def test_submit_after_shutdown():
    def scenario(m):
        ex = m.ThreadPoolExecutor(1)
        ex.submit(int).result()
        ex.shutdown()
        out = [outcome_any(lambda: ex.submit(int)), outcome_any(lambda: list(ex.map(int, [1])))]
        ex.shutdown()  # twice is fine
        ex.shutdown(wait=False)
        out.append(ex._shutdown)
        return out

    std, ours = both_futures(scenario)
    assert std == ours
    assert std[0] == (RuntimeError, "cannot schedule new futures after shutdown")


def test_task_exceptions_are_stored(fm):
    def raiser(exc):
        raise exc

    with fm.ThreadPoolExecutor(2) as ex:
        for exc in [ValueError("v"), KeyboardInterrupt(), SystemExit(2), GeneratorExit()]:
            f = ex.submit(raiser, exc)
            assert f.exception() is exc
            with pytest.raises(type(exc)):
                f.result()
        assert ex.submit(int, "7").result() == 7  # the workers survived


def test_context_manager_waits_for_the_work(fm):
    done = []
    with fm.ThreadPoolExecutor(2) as ex:
        for i in range(10):
            ex.submit(lambda i=i: (time.sleep(0.002), done.append(i)))
    assert sorted(done) == list(range(10))


def test_result_order_of_many_futures(fm):
    with fm.ThreadPoolExecutor(4) as ex:
        fs = [ex.submit(pow, i, 2) for i in range(2000)]
        assert [f.result() for f in fs] == [i * i for i in range(2000)]


# --- map -----------------------------------------------------------------------------------------


def test_map_results_in_order(fm):
    with fm.ThreadPoolExecutor(4) as ex:

        def slow_square(x):
            time.sleep(0.001 * (x % 4))
            return x * x

        assert list(ex.map(slow_square, range(40))) == [x * x for x in range(40)]
        assert list(ex.map(pow, [2, 3, 4], [5, 6])) == [32, 729]  # zip semantics
        assert list(ex.map(int, [])) == []
        assert list(ex.map(lambda: 1)) == []
        assert list(ex.map(divmod, range(3), [3] * 3, timeout=10)) == [(0, 0), (0, 1), (0, 2)]


def test_map_returns_an_iterator_and_submits_eagerly():
    def scenario(m):
        with m.ThreadPoolExecutor(2) as ex:
            ran = []
            it = ex.map(ran.append, range(5))
            settled = settle(lambda: len(ran) == 5)
            return (iter(it) is it, settled, list(it), sorted(ran))

    std, ours = both_futures(scenario)
    assert std == ours == (True, True, [None] * 5, list(range(5)))


def test_map_argument_errors():
    def scenario(m):
        with m.ThreadPoolExecutor(1) as ex:
            return [
                outcome_any(lambda: ex.map(int, 5)),
                outcome_any(lambda: ex.map(int, [1], 5)),
                outcome_any(lambda: ex.map()),
                outcome_any(lambda: list(ex.map(int, ["x"]))),
                outcome_any(lambda: ex.map(int, [1], timeout="soon")),
            ]

    std, ours = both_futures(scenario)
    assert std == ours


def test_map_exception_when_reached_cancels_the_rest():
    def scenario(m):
        gate = threading.Event()
        ran = []

        def task(x):
            if x == 0:
                gate.wait(10)
            if x == 1:
                raise ValueError("item 1")
            ran.append(x)
            return x

        with m.ThreadPoolExecutor(1) as ex:
            it = ex.map(task, range(6))
            got = [next(it)] if gate.set() is None else []
            got.append(outcome_any(lambda: next(it)))
            got.append(outcome_any(lambda: next(it)))  # the iterator is finished
        return got, ran[0]

    std, ours = both_futures(scenario)
    assert std == ours
    assert std[0][1] == (ValueError, "item 1")
    assert std[0][2][0] is StopIteration


def test_map_timeout():
    def scenario(m):
        gate = threading.Event()
        with m.ThreadPoolExecutor(1) as ex:
            it = ex.map(lambda x: gate.wait(10) if x == 1 else x, range(4), timeout=0.05)
            got = [next(it), outcome_any(lambda: next(it))]
            gate.set()
            got.append(outcome_any(lambda: next(it)))
        return got

    std, ours = both_futures(scenario)
    assert std == ours == [0, (cf.TimeoutError, ""), (StopIteration, "")]


def test_map_iterator_dropped_unstarted_still_runs_everything():
    def scenario(m):
        ran = []
        with m.ThreadPoolExecutor(1) as ex:
            gate = threading.Event()
            ex.submit(gate.wait, 10)
            it = ex.map(ran.append, range(5))
            del it  # never started: the stdlib's generator cancels nothing
            gate.set()
        return sorted(ran)

    std, ours = both_futures(scenario)
    assert std == ours == list(range(5))


def test_map_iterator_closed_after_start_cancels_the_rest():
    def scenario(m):
        ran = []
        gates = [threading.Event(), threading.Event()]
        second_started = threading.Event()

        def task(x):
            if x == 1:
                second_started.set()
            if x < 2:
                gates[x].wait(10)
            ran.append(x)

        with m.ThreadPoolExecutor(1) as ex:
            it = ex.map(task, range(5))
            gates[0].set()
            next(it)
            second_started.wait(10)
            it.close()  # item 1 is running; 2..4 are cancelled
            gates[1].set()
        return ran

    std, ours = both_futures(scenario)
    assert std == ours == [0, 1]


def test_map_buffersize():
    ex = rf.ThreadPoolExecutor(2)
    submitted = []

    def items():
        for i in range(10):
            submitted.append(i)
            yield i

    it = ex.map(lambda x: x * 10, items(), buffersize=3)
    assert submitted == [0, 1, 2]
    assert next(it) == 0
    assert submitted == [0, 1, 2, 3]
    assert list(it) == [x * 10 for x in range(1, 10)]
    assert outcome_any(lambda: ex.map(int, [], buffersize=0)) == (ValueError, "buffersize must be None or > 0")
    assert outcome_any(lambda: ex.map(int, [], buffersize=1.0)) == (TypeError, "buffersize must be an integer or None")
    assert list(ex.map(pow, [2, 3], [3, 2], buffersize=1, timeout=10)) == [8, 9]
    ex.shutdown()


def test_map_goes_through_a_subclass_submit():
    def scenario(m):
        class Counting(m.ThreadPoolExecutor):
            submitted = 0

            def submit(self, fn, /, *args, **kwargs):
                type(self).submitted += 1
                return super().submit(fn, *args, **kwargs)

        with Counting(2) as ex:
            out = list(ex.map(pow, range(5), [2] * 5))
        return out, Counting.submitted

    std, ours = both_futures(scenario)
    assert std == ours == ([0, 1, 4, 9, 16], 5)


def test_map_of_100k_items(fm):
    with fm.ThreadPoolExecutor(4) as ex:
        assert sum(ex.map(abs, range(-100_000, 0))) == 100_000 * 100_001 // 2


# --- shutdown ------------------------------------------------------------------------------------


def test_shutdown_cancel_futures():
    def scenario(m):
        gate = threading.Event()
        ex = m.ThreadPoolExecutor(1)
        running = ex.submit(gate.wait, 10)
        queued = [ex.submit(int, i) for i in range(5)]
        settle(running.running)
        t = threading.Timer(0.02, gate.set)
        t.start()
        ex.shutdown(wait=True, cancel_futures=True)
        t.join()
        return running.result(), [f.cancelled() for f in queued], [f._state for f in queued]

    std, ours = both_futures(scenario)
    assert std == ours == (True, [True] * 5, ["CANCELLED"] * 5)


def test_shutdown_without_wait_still_runs_queued_work(fm):
    ex = fm.ThreadPoolExecutor(1)
    gate = threading.Event()
    ex.submit(gate.wait, 10)
    fs = [ex.submit(pow, i, 2) for i in range(5)]
    ex.shutdown(wait=False)
    gate.set()
    assert [f.result(timeout=10) for f in fs] == [0, 1, 4, 9, 16]


def test_shutdown_wait_returns_when_workers_are_gone(fm):
    ex = fm.ThreadPoolExecutor(3, thread_name_prefix="gone")
    list(ex.map(time.sleep, [0.01] * 6))
    threads = list(ex._threads)
    ex.shutdown(wait=True)
    assert threads and not any(t.is_alive() for t in threads)
    assert not [t for t in threading.enumerate() if t in threads]


def test_shutdown_from_a_task():
    def scenario(m):
        ex = m.ThreadPoolExecutor(2)
        no_wait = ex.submit(lambda: ex.shutdown(wait=False))
        r1 = outcome_any(no_wait.result)
        ex2 = m.ThreadPoolExecutor(1)
        r2 = outcome_any(ex2.submit(lambda: ex2.shutdown(wait=True)).result)
        ex.shutdown()
        ex2.shutdown()
        return r1, r2

    std, ours = both_futures(scenario)
    assert std == ours
    assert std[1] == (RuntimeError, "cannot join current thread")


def test_unreferenced_pool_lets_its_workers_go(fm):
    ex = fm.ThreadPoolExecutor(2, thread_name_prefix="orphan")
    fs = [ex.submit(time.sleep, 0.01) for _ in range(4)]
    threads = list(ex._threads)
    del ex
    for f in fs:
        f.result(timeout=10)  # queued work still runs
    for t in threads:
        t.join(timeout=10)
    assert not any(t.is_alive() for t in threads)


def test_pool_referenced_only_by_its_queue_runs_the_work(fm):
    out = []
    ex = fm.ThreadPoolExecutor(1)
    gate = threading.Event()
    ex.submit(gate.wait, 10)
    f = ex.submit(lambda pool: out.append(pool._max_workers), ex)
    del ex
    gate.set()
    f.result(timeout=10)
    assert out == [1]


# --- workers -------------------------------------------------------------------------------------


@pytest.mark.thread_unsafe  # counts the process's threads
def test_worker_names_and_enumerate():
    def scenario(m):
        with m.ThreadPoolExecutor(3, thread_name_prefix="named") as ex:
            barrier = threading.Barrier(3)

            def name():
                barrier.wait(10)
                return threading.current_thread().name

            names = sorted(f.result() for f in [ex.submit(name) for _ in range(3)])
            listed = sorted(t.name for t in threading.enumerate() if t.name.startswith("named_"))
            return names, listed, sorted(t.name for t in ex._threads)

    std, ours = both_futures(scenario)
    assert std == ours == (["named_0", "named_1", "named_2"],) * 3


def test_default_thread_names():
    ex = rf.ThreadPoolExecutor(1)
    name = ex.submit(lambda: threading.current_thread().name).result()
    assert re.fullmatch(r"ThreadPoolExecutor-\d+_0", name)
    assert name.startswith(ex._thread_name_prefix + "_")
    ex2 = cf.ThreadPoolExecutor(1)  # the counter is shared with the stdlib's pools
    assert ex2._thread_name_prefix != ex._thread_name_prefix
    ex.shutdown()
    ex2.shutdown()


def test_sequential_work_uses_one_thread():
    """submit(...).result() in a loop needs one worker. The stdlib's worker releases its idle
    token after completing the future, so its pool may start a second thread when the caller is
    quicker; rthreading's releases it before, so one thread does all the work."""
    with rf.ThreadPoolExecutor(4) as ex:
        for i in range(200):
            ex.submit(abs, i).result()
        time.sleep(0.01)  # the worker parks
        for i in range(200):
            ex.submit(abs, i).result()
        assert len(ex._threads) == 1


def test_thread_local_persists_per_worker(fm):
    local = threading.local()

    def count():
        local.n = getattr(local, "n", 0) + 1
        return threading.current_thread().name, local.n

    with fm.ThreadPoolExecutor(1) as ex:
        assert [ex.submit(count).result() for _ in range(3)] == [(ex._thread_name_prefix + "_0", i) for i in (1, 2, 3)]


def test_workers_are_real_threads(fm):
    with fm.ThreadPoolExecutor(1) as ex:
        t = ex.submit(threading.current_thread).result()
        assert isinstance(t, threading.Thread) and t.is_alive()
        assert t.ident == ex.submit(threading.get_ident).result()
        assert t.daemon is threading.current_thread().daemon


@pytest.mark.skipif(not hasattr(time, "pthread_getcpuclockid"), reason="needs per-thread CPU clocks")
def test_idle_workers_use_no_cpu():
    """Idle workers park, after a short spin: then their own CPU clocks stand still. A parked
    thread's clock does not move however busy the machine is, and a worker that kept polling
    (or woke up on a timer) would move its clock each time it ran."""
    with rf.ThreadPoolExecutor(4) as ex:
        list(ex.map(abs, range(10_000)))
        clocks = [time.pthread_getcpuclockid(t.ident) for t in ex._threads]
        assert len(clocks) == 4

        def clocks_stand_still():
            before = [time.clock_gettime(c) for c in clocks]
            time.sleep(0.2)
            return [time.clock_gettime(c) for c in clocks] == before

        wait_until(clocks_stand_still, timeout=30)


# --- initializer ---------------------------------------------------------------------------------


def test_initializer_runs_in_every_worker(fm):
    local = threading.local()
    seen = []

    def init(tag, more):
        local.tag = (tag, more)
        seen.append(threading.current_thread().name)

    with fm.ThreadPoolExecutor(2, thread_name_prefix="init", initializer=init, initargs=("t", 1)) as ex:
        barrier = threading.Barrier(2)
        fs = [ex.submit(lambda: (barrier.wait(10), local.tag)[1]) for _ in range(2)]
        assert [f.result() for f in fs] == [("t", 1)] * 2
    assert sorted(seen) == ["init_0", "init_1"]


@pytest.mark.thread_unsafe  # caplog
def test_failing_initializer_breaks_the_pool(caplog):
    def scenario(m):
        caplog.clear()

        def init():
            raise OSError("no")

        ex = m.ThreadPoolExecutor(1, initializer=init)
        f = ex.submit(int)
        r = [outcome_any(lambda: f.result(timeout=10))]
        settle(lambda: ex._broken)
        r.append(outcome_any(lambda: ex.submit(int)))
        r.append(outcome_any(lambda: list(ex.map(int, [1]))))
        r.append(ex._broken)
        ex.shutdown()
        recs = [(x.levelname, x.getMessage(), x.exc_info[0]) for x in caplog.records]
        return r, recs

    with caplog.at_level(logging.CRITICAL, logger="concurrent.futures"):
        std, ours = both_futures(scenario)
    assert std == ours
    broken = (cf.thread.BrokenThreadPool, "A thread initializer failed, the thread pool is not usable anymore")
    assert std[0][:3] == [broken] * 3
    assert std[1] == [("CRITICAL", "Exception in initializer:", OSError)]


# --- many submitters ------------------------------------------------------------------------------


def test_many_submitters_lose_no_task(fm):
    """10^5 tasks from 8 threads: every one runs exactly once."""
    per_thread, n_threads = 12_500, 8
    seen = [0] * (per_thread * n_threads)

    def task(i):
        seen[i] += 1
        return i

    with fm.ThreadPoolExecutor(4) as ex:
        totals = [0] * n_threads

        def submitter(k):
            fs = [ex.submit(task, k * per_thread + i) for i in range(per_thread)]
            totals[k] = sum(f.result() for f in fs)

        threads = [threading.Thread(target=submitter, args=(k,)) for k in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    n = per_thread * n_threads
    assert sum(totals) == n * (n - 1) // 2
    assert seen == [1] * n


def test_submit_and_shutdown_race(fm):
    """Every submit either raises or its future completes: no task is orphaned by a shutdown."""
    for _ in range(20):
        ex = fm.ThreadPoolExecutor(2)
        accepted = []
        start = threading.Event()

        def submitter():
            start.wait()
            for i in range(200):
                try:
                    accepted.append(ex.submit(abs, i))
                except RuntimeError:
                    return

        threads = [threading.Thread(target=submitter) for _ in range(3)]
        for t in threads:
            t.start()
        start.set()
        ex.shutdown(wait=True)
        for t in threads:
            t.join()
        assert all(f.done() for f in accepted)
