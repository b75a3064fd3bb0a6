"""rthreading.RWLock. acquire_read/acquire_write take Lock.acquire's arguments, so those are
checked differentially against the stdlib's Lock (same result or same exception, on a free lock
and on one another thread holds for writing); the rest (sharing, exclusion, fairness, recursion,
ownership errors, downgrade, Ctrl-C, deadlock reports, statistics) against the documented
behaviour."""

import threading
import time

import pytest

import _acquire_args as shared
import rthreading
from _acquire_args import outcome_when_held, skip_old_blocking
from _sigint import interrupted_state, needs_signals
from helpers import in_thread, outcome, start, wait_until
from rthreading import RWLock

ACQUIRES = ["acquire_read", "acquire_write"]


class _WriteHeld:
    """An RWLock seen as a Lock whose acquire/release take/release the write lock, so
    outcome_when_held can hold it; calls under test go to `.rw`."""

    def __init__(self):
        self.rw = RWLock()

    def acquire(self):
        return self.rw.acquire_write()

    def release(self):
        self.rw.release_write()


def _new_reader_queues(rw):
    """True if a new reader (another thread) does not get in at once (it leaves nothing held)."""
    return in_thread(lambda: rw.acquire_read(False) and rw.release_read()) == ("ok", False)


def _waiting(rw, n=1):
    """True once n threads wait for `rw` (as the wait-for graph lists them)."""
    return sum(1 for w in rthreading._core._waits() if w[1] is rw) >= n


# --- Lock.acquire's arguments ------------------------------------------------------------------


@pytest.mark.parametrize("method", ACQUIRES)
@pytest.mark.parametrize("args, kwargs", shared.NON_BLOCKING_ARGS)
def test_acquire_args_when_write_held_by_another_thread(method, args, kwargs):
    skip_old_blocking(args, kwargs)
    std = outcome_when_held(threading.Lock, lambda l: l.acquire(*args, **kwargs))
    ours = outcome_when_held(_WriteHeld, lambda l: getattr(l.rw, method)(*args, **kwargs))
    assert ours == std
    assert std != "blocked"


@pytest.mark.parametrize("method", ACQUIRES)
@pytest.mark.parametrize("args, kwargs", shared.NON_BLOCKING_ARGS + shared.BLOCKING_ARGS)
def test_acquire_args_on_a_free_lock(method, args, kwargs):
    skip_old_blocking(args, kwargs)
    std = outcome(lambda: threading.Lock().acquire(*args, **kwargs))
    ours = outcome(lambda: getattr(RWLock(), method)(*args, **kwargs))
    assert ours == std


@pytest.mark.parametrize("method", ACQUIRES)
def test_bad_keywords_as_lock(method):
    std = outcome(lambda: threading.Lock().acquire(nope=1))
    ours = outcome(lambda: getattr(RWLock(), method)(nope=1))
    assert ours[0] is std[0] is TypeError


# --- sharing and exclusion ---------------------------------------------------------------------


def test_many_readers_at_once():
    rw = RWLock()
    inside = threading.Barrier(4)  # only passes if all four hold the read lock together
    results = []

    def reader():
        with rw.read():
            results.append(inside.wait(10))

    threads = [start(reader) for _ in range(4)]
    for t in threads:
        t.join(30)
    assert len(results) == 4
    assert repr(rw).startswith("<unlocked rthreading.RWLock object at 0x")


def test_writer_excludes_readers_and_writers():
    rw = RWLock()
    assert rw.acquire_write()
    assert "write-locked" in repr(rw) and f"owner={threading.get_ident()}" in repr(rw)
    assert in_thread(lambda: rw.acquire_read(False)) == ("ok", False)
    assert in_thread(lambda: rw.acquire_write(timeout=0.01)) == ("ok", False)
    rw.release_write()
    assert rw.acquire_read()
    assert "read-locked" in repr(rw) and "readers=1" in repr(rw)
    assert in_thread(lambda: rw.acquire_write(False)) == ("ok", False)
    assert in_thread(lambda: rw.acquire_read(False)) != ("ok", False)  # readers share
    rw.release_read()


def test_context_managers_release_on_error():
    rw = RWLock()
    with pytest.raises(ZeroDivisionError):
        with rw.write() as got:
            assert got is True
            1 / 0
    with pytest.raises(ZeroDivisionError):
        with rw.read():
            1 / 0
    assert rw.acquire_write(False)
    rw.release_write()
    guard = rw.read()
    with guard, guard:  # a guard object can be reused (here: a recursive read)
        pass
    assert rw.acquire_write(False)
    rw.release_write()


# --- recursion, ownership ----------------------------------------------------------------------


def test_recursive_read_passes_a_waiting_writer():
    rw = RWLock()
    rw.acquire_read()
    got = []
    writer = start(lambda: got.append(rw.acquire_write(timeout=30)))
    # Once the writer sleeps, a new reader queues behind it...
    wait_until(lambda: _new_reader_queues(rw))
    assert in_thread(lambda: rw.acquire_read(timeout=0.01)) == ("ok", False)
    # ... but this thread, which reads already, reads again at once (even non-blocking).
    assert rw.acquire_read(False) is True
    with rw.read():
        pass
    rw.release_read()
    assert got == []
    rw.release_read()
    writer.join(30)
    assert got == [True]


def test_write_is_not_reentrant():
    rw = RWLock()
    with rw.write():
        for call in (rw.acquire_write, lambda: rw.acquire_write(False), rw.acquire_read):
            with pytest.raises(RuntimeError):
                call()
        with pytest.raises(RuntimeError):
            with rw.write():
                pass
    with rw.read():
        with pytest.raises(RuntimeError, match="holding a read lock"):
            rw.acquire_write()
        with pytest.raises(RuntimeError):
            rw.acquire_write(timeout=1)
    # nothing was left acquired
    assert rw.acquire_write(False)
    rw.release_write()


def test_releasing_what_is_not_held():
    rw = RWLock()
    for call in (rw.release_read, rw.release_write, rw.downgrade):
        with pytest.raises(RuntimeError):
            call()
    rw.acquire_write()
    assert in_thread(rw.release_write)[0] is RuntimeError
    assert in_thread(rw.release_read)[0] is RuntimeError
    with pytest.raises(RuntimeError):
        rw.release_read()
    rw.release_write()
    rw.acquire_read()
    assert in_thread(rw.release_read)[0] is RuntimeError
    with pytest.raises(RuntimeError):
        rw.release_write()
    rw.release_read()
    with pytest.raises(RuntimeError):
        rw.release_read()


def test_read_and_write_state_is_per_lock():
    a, b = RWLock(), RWLock()
    with a.read():
        assert b.acquire_write(False)  # holding a read of `a` says nothing about `b`
        b.release_write()


# --- downgrade ---------------------------------------------------------------------------------


def test_downgrade():
    rw = RWLock()
    rw.acquire_write()
    rw.downgrade()
    assert in_thread(lambda: rw.acquire_write(False)) == ("ok", False)
    assert in_thread(lambda: (rw.acquire_read(False), rw.release_read())) == ("ok", (True, None))
    with pytest.raises(RuntimeError):
        rw.release_write()
    rw.release_read()
    assert rw.acquire_write(False)
    rw.release_write()


@pytest.mark.thread_unsafe(reason="timing of its own threads")
def test_downgrade_under_contention():
    """A writer publishes a value and downgrades while readers and writers wait: no writer comes
    between the write and the downgraded read; each reader sees the published value or (if it
    queued behind a waiting writer: phase-fair) the next writer's, never an older one."""
    rw = RWLock()
    value = [0]
    errors = []
    rw.acquire_write()

    def reader():
        with rw.read():
            if value[0] not in (1, 2):
                errors.append(("reader saw", value[0]))

    def writer():
        with rw.write():
            value[0] = 2

    readers = [start(reader) for _ in range(3)]
    writers = [start(writer) for _ in range(2)]
    wait_until(lambda: _waiting(rw, 5))
    value[0] = 1
    rw.downgrade()
    if value[0] != 1:
        errors.append(("downgraded saw", value[0]))
    rw.release_read()
    for t in readers + writers:
        t.join(30)
        assert not t.is_alive()
    assert errors == [] and value[0] == 2


# --- fairness ----------------------------------------------------------------------------------


@pytest.mark.thread_unsafe(reason="starts a stream of threads of its own")
def test_writer_not_starved_by_a_stream_of_readers():
    rw = RWLock()
    stop = threading.Event()
    reads = [0]

    def reader():
        while not stop.is_set():
            with rw.read():
                reads[0] += 1
                time.sleep(0.0005)  # readers overlap: the lock is never free of readers

    threads = [start(reader) for _ in range(4)]
    try:
        wait_until(lambda: reads[0] > 100)
        for _ in range(5):
            assert rw.acquire_write(timeout=20), "writer starved"
            rw.release_write()
    finally:
        stop.set()
        for t in threads:
            t.join(30)


@pytest.mark.thread_unsafe(reason="starts a stream of threads of its own")
def test_readers_not_starved_by_a_stream_of_writers():
    rw = RWLock()
    stop = threading.Event()
    writes = [0]

    def writer():
        while not stop.is_set():
            with rw.write():
                writes[0] += 1
                time.sleep(0.0005)

    threads = [start(writer) for _ in range(3)]
    try:
        wait_until(lambda: writes[0] > 100)
        for _ in range(5):
            assert rw.acquire_read(timeout=20), "reader starved"
            rw.release_read()
    finally:
        stop.set()
        for t in threads:
            t.join(30)


@pytest.mark.thread_unsafe(reason="starts threads of its own")
def test_exclusion_stress():
    rw = RWLock()
    state = {"readers": 0, "writers": 0}
    guard = threading.Lock()  # the stdlib's, for the bookkeeping only
    errors = []

    def enter(kind):
        with guard:
            state[kind] += 1
            if state["writers"] > 1 or (state["writers"] and state["readers"]):
                errors.append(dict(state))

    def leave(kind):
        with guard:
            state[kind] -= 1

    def work(i):
        for k in range(400):
            if (i + k) % 4 == 0:
                with rw.write():
                    enter("writers")
                    leave("writers")
            else:
                with rw.read():
                    enter("readers")
                    if k % 7 == 0:
                        with rw.read():  # recursive
                            pass
                    leave("readers")

    threads = [start(work, i) for i in range(6)]
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    assert errors == []
    assert rw.acquire_write(False)
    rw.release_write()


# --- diagnostics -------------------------------------------------------------------------------


def test_deadlock_report_includes_rwlock_waits():
    """Thread A holds rw for writing and waits for lock L; thread B holds L and waits to read
    rw: find_deadlocks() reports the cycle through the RWLock."""
    rw, lock = RWLock(), rthreading.Lock()
    a_holds, b_holds = threading.Event(), threading.Event()

    def a():
        rw.acquire_write()
        a_holds.set()
        assert b_holds.wait(10)
        lock.acquire()  # released by the test
        rw.release_write()

    def b():
        lock.acquire()
        b_holds.set()
        assert a_holds.wait(10)
        assert rw.acquire_read(timeout=30)
        rw.release_read()

    ta, tb = start(a), start(b)
    try:
        wait_until(lambda: any(rw in d.locks for d in rthreading.find_deadlocks()))
        [d] = [d for d in rthreading.find_deadlocks() if rw in d.locks]
        assert set(d.threads) == {ta.ident, tb.ident}
        assert set(d.locks) == {rw, lock}
    finally:
        lock.release()  # A gets L, releases the write lock; B reads
        ta.join(30)
        tb.join(30)
    assert not ta.is_alive() and not tb.is_alive()


def test_contention_statistics():
    rw = RWLock()
    rthreading.track(rw)
    [rec] = [r for r in rthreading.stats() if r.object is rw]
    assert rec.kind == "rthreading.RWLock"
    with rw.read():
        pass
    with rw.write():
        pass
    rw.acquire_write()
    t = start(lambda: (rw.acquire_read(timeout=30), rw.release_read()))
    wait_until(lambda: _waiting(rw))
    rw.release_write()
    t.join(30)
    [rec] = [r for r in rthreading.stats() if r.object is rw]
    assert rec.acquisitions == 4 and rec.contended == 1


# --- Ctrl-C ------------------------------------------------------------------------------------

HELD_ELSEWHERE = """\
rw = rthreading.RWLock()
held = std.Event()
def hold():
    rw.acquire_{mode}()
    held.set()
    std.Event().wait()
std.Thread(target=hold, daemon=True).start()
assert held.wait(10)
"""


@needs_signals
@pytest.mark.parametrize(
    ("held", "call"),
    [
        ("write", "rw.acquire_read()"),
        ("write", "rw.acquire_read(timeout=60)"),
        ("write", "rw.acquire_write()"),
        ("read", "rw.acquire_write(True, 60)"),
        ("read", "rw.write().__enter__()"),
        ("write", "rw.read().__enter__()"),
    ],
)
def test_ctrl_c_interrupts_acquire(held, call):
    """Interrupted, nothing is left acquired on the main thread's behalf: it holds no read lock
    (release_read refuses) and no write lock (release_write refuses)."""
    state = "[type(e).__name__ for e in _errs(rw.release_read, rw.release_write)]"
    setup = HELD_ELSEWHERE.format(mode=held) + (
        "def _errs(*fs):\n"
        "    out = []\n"
        "    for f in fs:\n"
        "        try: f()\n"
        "        except Exception as e: out.append(e)\n"
        "    return out\n"
    )
    assert interrupted_state(setup, call, state) == "['RuntimeError', 'RuntimeError']"


def test_guards_are_reused_and_collected():
    import gc
    import weakref

    rw = RWLock()
    assert rw.read() is rw.read() and rw.write() is rw.write() and rw.read() is not rw.write()
    guard = rw.read()
    ref = weakref.ref(rw)
    del rw
    with guard:  # a guard keeps its lock alive
        pass
    assert ref() is not None
    del guard
    gc.collect()
    assert ref() is None, "the lock-guard cycle is collected"


@pytest.mark.thread_unsafe(reason="held_locks() and dump() scan every object: one at a time")
def test_dump_and_held_locks_show_rwlocks():
    import io

    rw = RWLock()
    rw.acquire_write()
    try:
        assert rw in rthreading.held_locks()
        t = start(lambda: rw.acquire_read(timeout=30) and rw.release_read())
        wait_until(lambda: _waiting(rw))
        buf = io.StringIO()
        rthreading.dump(buf)
        text = buf.getvalue()
        assert "write-locked rthreading.RWLock" in text
        assert f"held by thread '{threading.current_thread().name}'" in text
        assert "waited for by" in text
    finally:
        rw.release_write()
    t.join(30)
    assert rw not in rthreading.held_locks()
