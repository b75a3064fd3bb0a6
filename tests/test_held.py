"""Who holds what (rthreading only): held_locks() and dump()."""

import io
import threading

import pytest

import rthreading
from rthreading.queue import Queue
from helpers import start, wait_until


_module_lock = rthreading.RLock()

# held_locks() and dump() scan every object of the process (stopping the world): several at
# once in a large test process take too long.
pytestmark = pytest.mark.thread_unsafe(reason="held_locks()/dump() scan the whole heap")


def test_held_locks_are_the_callers():
    local_lock = rthreading.Lock()
    assert not any(x is local_lock or x is _module_lock for x in rthreading.held_locks())
    with local_lock, _module_lock, _module_lock:
        held = rthreading.held_locks()
        assert any(x is local_lock for x in held) and any(x is _module_lock for x in held)
        # Another thread holds neither.
        box = []
        start(lambda: box.append(rthreading.held_locks())).join(10)
        assert not any(x is local_lock or x is _module_lock for x in box[0])
    assert not any(x is local_lock or x is _module_lock for x in rthreading.held_locks())


def test_held_locks_finds_a_lock_held_by_an_object():
    class Resource:
        def __init__(self):
            self.guard = rthreading.Lock()

    r = Resource()
    r.guard.acquire()
    try:
        assert any(x is r.guard for x in rthreading.held_locks())
    finally:
        r.guard.release()


def _dump(**kw):
    out = io.StringIO()
    rthreading.dump(out, **kw)
    return out.getvalue()


def test_dump_shows_owner_waiters_and_stacks():
    lock = rthreading.Lock()
    event = rthreading.Event()
    sem = rthreading.Semaphore(0)
    q = Queue()
    lock.acquire()

    def waiting_for_the_lock():
        with lock:
            pass

    waiters = [
        threading.Thread(target=waiting_for_the_lock, name="lock-waiter", daemon=True),
        threading.Thread(target=event.wait, name="event-waiter", daemon=True),
        threading.Thread(target=sem.acquire, name="sem-waiter", daemon=True),
        threading.Thread(target=q.get, kwargs={"timeout": 30}, name="queue-waiter", daemon=True),
    ]
    for t in waiters:
        t.start()
    try:
        wait_until(lambda: {t.ident for t in waiters} <= {w[0] for w in rthreading._core._waits()})
        me = threading.current_thread()
        text = _dump(stacks=True)
        lines = text.splitlines()
        i = lines.index(repr(lock))
        assert lines[i + 1] == f"    held by thread {me.name!r} ({me.ident})"
        lw = waiters[0]
        assert lines[i + 2].startswith(f"    waited for by thread 'lock-waiter' ({lw.ident}) (")
        assert "waits on objects without an owner:" in lines
        for kind, obj, name in (
            ("rthreading.Event", event, "event-waiter"),
            ("rthreading.Semaphore", sem, "sem-waiter"),
        ):
            t = next(t for t in waiters if t.name == name)
            assert any(
                line.startswith(f"    thread {name!r} ({t.ident}) waits on <{kind} at {id(obj):#x}> (")
                for line in lines
            ), text
        qt = waiters[3]
        expected = (
            f"    thread 'queue-waiter' ({qt.ident}) waits on <rthreading.queue.Queue at {id(q):#x}> (with a timeout, "
        )
        assert any(line.startswith(expected) for line in lines), text
        # Stacks of the waiters and of the holder, down to the waiting line.
        assert f"Stack of thread 'lock-waiter' ({lw.ident}) (most recent call last):" in lines
        assert "in waiting_for_the_lock" in text
        assert f"Stack of thread {me.name!r} ({me.ident}) (most recent call last):" in lines
        assert "Stack of" not in _dump()
    finally:
        lock.release()
        event.set()
        sem.release()
        q.put(None)
        for t in waiters:
            t.join(10)
    assert repr(lock) not in _dump()


def test_dump_lists_held_locks_nobody_waits_for():
    lock = rthreading.RLock()
    with lock:
        text = _dump()
        lines = text.splitlines()
        i = lines.index(repr(lock))
        me = threading.current_thread()
        assert lines[i + 1] == f"    held by thread {me.name!r} ({me.ident})"
    assert lines[0].startswith("rthreading: ") and lines[0].endswith(" lock(s) held or waited on")
