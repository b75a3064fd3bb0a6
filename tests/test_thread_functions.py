"""The module functions and constants of the threading namespace, against the stdlib's:
current_thread, main_thread, enumerate, active_count, get_ident, get_native_id, stack_size,
settrace/setprofile (with gettrace/getprofile and the _all_threads variants), TIMEOUT_MAX.
Most are the stdlib's own objects (tests/test_namespace.py checks that); these check that they
see rthreading's threads, and the _all_threads variants that rthreading has on 3.11 too. From
3.13 on rthreading's Thread is the stdlib's as well, so this would compare CPython with itself:
it runs before 3.13 only."""

import _thread
import re
import sys
import threading

import pytest

import rthreading
from helpers import both, legacy_thread_only, raises_same, wait_until

pytestmark = legacy_thread_only


def test_current_thread_of_a_raw_thread_is_a_dummy(mod):
    box = []
    done = threading.Event()

    def raw():
        me = mod.current_thread()
        box.append(
            (
                type(me).__name__,
                re.sub(r"\d+", "N", me.name),
                me.daemon,
                me.ident == mod.get_ident(),
                me in mod.enumerate(),
            )
        )
        done.set()

    _thread.start_new_thread(raw, ())
    assert done.wait(10)
    assert box == [("_DummyThread", "Dummy-N", True, True, True)]


def test_get_ident_and_native_id_of_the_current_thread(mod):
    me = mod.current_thread()
    assert (mod.get_ident(), mod.get_native_id()) == (me.ident, me.native_id)
    assert mod.get_ident() == threading.get_ident() == _thread.get_ident()


@pytest.mark.thread_unsafe(reason="counts every thread of the process")
def test_enumerate_and_active_count(mod):
    release = threading.Event()
    threads = [mod.Thread(target=release.wait) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        listed = mod.enumerate()
        assert all(t in listed for t in threads) and threading.main_thread() in listed
        assert mod.active_count() >= 4
        # (threads that earlier tests started may still be ending: compare once they have)
        wait_until(lambda: mod.active_count() == len(mod.enumerate()))
    finally:
        release.set()
        for t in threads:
            t.join()
    assert not any(t in mod.enumerate() for t in threads)


@pytest.mark.parametrize("size", [-1, 1, 4096, 2**80, "x", 1.5])
def test_stack_size_refuses_what_the_stdlib_refuses(size):
    std, ours = raises_same(lambda m: m.stack_size(size))
    assert std == ours and ours is not None


def test_stack_size_reads_the_same():
    std, ours = both(lambda m: m.stack_size())
    assert std == ours


def test_timeout_max():
    assert rthreading.TIMEOUT_MAX == threading.TIMEOUT_MAX == _thread.TIMEOUT_MAX


@pytest.mark.thread_unsafe(reason="sets the trace function of threads started meanwhile")
@pytest.mark.parametrize("kind", ["trace", "profile"])
def test_settrace_and_setprofile_apply_to_threads_started_after(mod, kind):
    set_hook, get_hook = getattr(mod, f"set{kind}"), getattr(mod, f"get{kind}")
    sys_get = getattr(sys, f"get{kind}")
    calls = []

    def hook(frame, event, arg):
        if frame.f_code.co_name == "probe" and event == "call":
            calls.append(threading.current_thread().name)

    def probe():
        return sys_get()

    set_hook(hook)
    try:
        assert get_hook() is hook and getattr(threading, f"get{kind}")() is hook
        box = []
        t = mod.Thread(target=lambda: box.append(probe()), name="hooked")
        t.start()
        t.join()
    finally:
        set_hook(None)
    assert get_hook() is None
    assert box == [hook] and calls == ["hooked"]
    assert sys_get() is None  # only threads started meanwhile


# The _all_threads variants: 3.12 added them, rthreading has them on 3.11 too.
ALL_THREADS = pytest.mark.parametrize(
    "mod",
    [
        pytest.param(
            threading,
            id="threading",
            marks=pytest.mark.skipif(sys.version_info < (3, 12), reason="added to the stdlib in 3.12"),
        ),
        pytest.param(rthreading, id="rthreading"),
    ],
)


@pytest.mark.thread_unsafe(reason="sets the trace/profile function of every thread")
@pytest.mark.parametrize("kind", ["trace", "profile"])
@ALL_THREADS
def test_set_all_threads_reaches_running_and_new_threads(mod, kind):
    set_all = getattr(mod, f"set{kind}_all_threads")
    sys_get = getattr(sys, f"get{kind}")
    calls = []
    loops = [0]
    stop = threading.Event()

    def hook(frame, event, arg):
        if frame.f_code.co_name == "probe" and event == "call":
            calls.append(threading.current_thread().name)
        return None

    def probe():
        pass

    def spin():
        while not stop.is_set():
            probe()
            loops[0] += 1

    running = mod.Thread(target=spin, name="running")
    running.start()
    try:
        wait_until(lambda: loops[0] > 0)
        set_all(hook)
        try:
            assert sys_get() is hook  # this thread too
            assert getattr(mod, f"get{kind}")() is hook
            wait_until(lambda: "running" in calls)
            box = []
            new = mod.Thread(target=lambda: (probe(), box.append(sys_get())), name="new")
            new.start()
            new.join()
            assert "new" in calls and box == [hook]
        finally:
            set_all(None)
        assert sys_get() is None and getattr(mod, f"get{kind}")() is None
        seen, mark = len(calls), loops[0]
        wait_until(lambda: loops[0] > mark + 100)
        assert len(calls) - seen < 100  # the running thread is no longer traced
    finally:
        stop.set()
        running.join()


@pytest.mark.thread_unsafe(reason="sets the trace function of every thread")
@ALL_THREADS
def test_settrace_all_threads_local_trace_function_and_errors(mod):
    """The trace function's result traces the frame's lines; an exception from it stops
    tracing in that thread and propagates, as with sys.settrace."""
    lines = []

    def local(frame, event, arg):
        if event == "line":
            lines.append(frame.f_lineno - frame.f_code.co_firstlineno)
        return local

    def hook(frame, event, arg):
        if frame.f_code.co_name == "probe":
            return local
        if frame.f_code.co_name == "explode":
            raise KeyError("from the hook")
        return None

    def probe():
        a = 1
        return a

    def explode():
        return 1

    def work():
        probe()
        try:
            explode()
        except KeyError as e:
            return repr(e), sys.gettrace()
        return None, sys.gettrace()

    mod.settrace_all_threads(hook)
    try:
        box = []
        t = mod.Thread(target=lambda: box.append(work()))
        t.start()
        t.join()
    finally:
        mod.settrace_all_threads(None)
    assert lines == [1, 2]
    assert box == [("KeyError('from the hook')", None)]
