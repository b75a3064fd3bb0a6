"""Thread and Timer: rthreading's behave as the stdlib's. Each scenario runs against both
modules (the `mod` fixture, or `both`/`raises_same`) and compares what is observable.

Before 3.13 rthreading.Thread/Timer are subclasses whose join() survives an interruption
(CPython gh-90882: the stdlib's marks the still running thread dead). The cases that show that
difference expect the stdlib to fail there (strict xfail), so they fail the day the stdlib does
not. From 3.13 on rthreading.Thread/Timer *are* the stdlib's classes (tests/test_namespace.py
checks that), so this module would compare CPython with itself there: it runs before 3.13 only.
The Thread tests that wait on rthreading's primitives run everywhere (tests/test_exit.py).
"""

import contextlib
import inspect
import io
import logging
import os
import re
import sys
import threading
import time
import weakref

import pytest

import rthreading
from helpers import both, legacy_thread_only, raises_same, run_python, sigusr1_after

pytestmark = legacy_thread_only

STDLIB_LOSES_INTERRUPTED_THREAD = pytest.mark.xfail(
    strict=True, reason="before 3.13 an interrupted join marks the thread dead (gh-90882)"
)


def mark_stdlib(mark):
    """A `mod` parametrization whose stdlib case carries `mark`."""
    return pytest.mark.parametrize(
        "mod", [pytest.param(threading, id="threading", marks=mark), pytest.param(rthreading, id="rthreading")]
    )


@contextlib.contextmanager
def running(mod, **kwargs):
    """A started mod.Thread blocked until the block ends (then joined): yields the thread."""
    release = threading.Event()
    t = mod.Thread(target=release.wait, **kwargs)
    t.start()
    try:
        yield t
    finally:
        release.set()
        t.join()


def run_in_thread(mod, fn, **kwargs):
    """fn() in a mod.Thread (started, joined); returns its result."""
    box = []
    t = mod.Thread(target=lambda: box.append(fn()), **kwargs)
    t.start()
    t.join()
    return box[0]


def shape(name):
    """An auto-generated thread name with its counter made comparable."""
    return re.sub(r"^Thread-\d+", "Thread-N", name)


# ---------------------------------------------------------------------------------------------
# the classes


def test_thread_and_timer_are_subclasses_of_the_stdlibs():
    assert issubclass(rthreading.Thread, threading.Thread)
    assert issubclass(rthreading.Timer, threading.Timer)
    assert issubclass(rthreading.Timer, rthreading.Thread)
    assert rthreading.Thread.__module__ == "rthreading"
    assert rthreading.Thread.__name__ == "Thread" and rthreading.Timer.__name__ == "Timer"


@pytest.mark.parametrize("name", ["Thread", "Timer"])
def test_signatures_are_the_stdlibs(name):
    std, ours = getattr(threading, name), getattr(rthreading, name)
    assert inspect.signature(ours) == inspect.signature(std)
    for method in ["start", "run", "join", "is_alive"]:
        assert inspect.signature(getattr(ours, method)) == inspect.signature(getattr(std, method))
    assert ours.__doc__ == std.__doc__


# ---------------------------------------------------------------------------------------------
# arguments, names, attributes


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((), None),
        ((1, 2), None),
        ([1, 2], None),
        ((), {"a": 1}),
        ((1,), {"b": 2}),
    ],
)
def test_target_gets_args_and_kwargs(mod, args, kwargs):
    got = []
    t = mod.Thread(target=lambda *a, **k: got.append((a, k)), args=args, kwargs=kwargs)
    t.start()
    t.join()
    assert got == [(tuple(args), kwargs or {})]


def test_positional_parameters(mod):
    got = []
    t = mod.Thread(None, lambda *a, **k: got.append((a, k)), "pos", (1,), {"k": 2})
    t.start()
    t.join()
    assert (t.name, got) == ("pos", [((1,), {"k": 2})])


def test_group_must_be_none():
    std, ours = raises_same(lambda m: m.Thread(group=object()))
    assert std == ours and ours[0] is AssertionError


def test_names():
    def names(m):
        def work():
            pass

        return [
            shape(m.Thread().name),
            shape(m.Thread(target=work).name),
            shape(m.Thread(target=lambda: None).name),
            m.Thread(name="Mine").name,
            m.Thread(name=5).name,
            shape(m.Timer(1, work).name),
        ]

    std, ours = both(names)
    assert std == ours
    assert ours[:3] == ["Thread-N", "Thread-N (work)", "Thread-N (<lambda>)"]


@pytest.mark.thread_unsafe(reason="counts the threads named while it runs")
def test_auto_names_share_the_stdlibs_counter():
    numbers = [int(re.match(r"Thread-(\d+)", m.Thread().name).group(1)) for m in (threading, rthreading, threading)]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_name_is_settable_and_current_thread_sees_it(mod):
    t = mod.Thread(target=lambda: box.append(mod.current_thread().name))
    box = []
    t.name = "Renamed"
    t.start()
    t.join()
    assert (t.name, box) == ("Renamed", ["Renamed"])


def test_lifecycle(mod):
    t = mod.Thread(target=lambda: None)
    before = (t.is_alive(), t.ident, t.native_id)
    with running(mod) as t:
        inside = (t.is_alive(), type(t.ident), type(t.native_id))
        ident, native_id = t.ident, t.native_id
    after = (t.is_alive(), t.ident == ident, t.native_id == native_id)
    assert (before, inside, after) == ((False, None, None), (True, int, int), (False, True, True))


def test_ident_and_native_id_are_the_threads(mod):
    box = []
    t = mod.Thread(target=lambda: box.append((mod.get_ident(), mod.get_native_id())))
    t.start()
    t.join()
    assert box == [(t.ident, t.native_id)]
    assert t.ident != mod.get_ident() and t.native_id != mod.get_native_id()


def test_repr_follows_the_state():
    def reprs(m):
        def repr_tail(t):
            return re.sub(r" \d+\)", " IDENT)", shape(repr(t)[len("<Thread(") :]))

        out = [repr_tail(m.Thread(name="a")), repr_tail(m.Thread(target=lambda: None, daemon=True))]
        with running(m) as t:
            out.append(repr_tail(t))
        out.append(repr_tail(t))
        return out

    std, ours = both(reprs)
    assert std == ours
    assert ours == [
        "a, initial)>",
        "Thread-N (<lambda>), initial daemon)>",
        "Thread-N (wait), started IDENT)>",
        "Thread-N (wait), stopped IDENT)>",
    ]


def test_daemon_defaults_to_the_creators(mod):
    assert mod.Thread().daemon is False
    assert run_in_thread(mod, lambda: mod.Thread().daemon, daemon=True) is True
    assert mod.Thread(daemon=True).daemon is True
    assert mod.Thread(daemon=False).daemon is False


def test_daemon_is_settable_until_started():
    def set_daemon_on_started(m):
        with running(m) as t:
            t.daemon = True

    std, ours = raises_same(set_daemon_on_started)
    assert std == ours == (RuntimeError, "cannot set daemon status of active thread")


def test_deprecated_accessors_warn_the_same():
    def calls(m):
        t = m.Thread(name="n")
        with pytest.warns(DeprecationWarning) as w:
            t.setDaemon(True)
            t.setName("m")
            got = (t.isDaemon(), t.getName())
        return got, [str(x.message) for x in w]

    std, ours = both(calls)
    assert std == ours
    assert ours[0] == (True, "m")


# ---------------------------------------------------------------------------------------------
# start, run, join


def test_start_twice_raises():
    def start_twice(m):
        t = m.Thread(target=lambda: None)
        t.start()
        t.join()
        t.start()

    std, ours = raises_same(start_twice)
    assert std == ours == (RuntimeError, "threads can only be started once")


def test_join_before_start_raises():
    std, ours = raises_same(lambda m: m.Thread().join())
    assert std == ours == (RuntimeError, "cannot join thread before it is started")


def test_join_current_thread_raises():
    def join_self(m):
        return run_in_thread(m, lambda: outcome_of(lambda: m.current_thread().join()))

    std, ours = both(join_self)
    assert std == ours == (RuntimeError, "cannot join current thread")


def test_join_main_thread_on_itself_raises():
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("joining the main thread from another thread waits for it")
    std, ours = raises_same(lambda m: m.main_thread().join())
    assert std == ours == (RuntimeError, "cannot join current thread")


def outcome_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - compared
        return (type(e), str(e))
    return None


def test_join_with_timeout_then_is_alive(mod):
    with running(mod) as t:
        start = time.monotonic()
        assert t.join(timeout=0.05) is None
        assert time.monotonic() - start >= 0.05
        assert t.is_alive()
    assert not t.is_alive()


@pytest.mark.parametrize("timeout", [0, 0.0, -1, -1e300])
def test_join_non_positive_timeout_does_not_wait(mod, timeout):
    with running(mod) as t:
        assert t.join(timeout) is None
        assert t.is_alive()


@pytest.mark.parametrize("timeout", [float("nan"), 1e300, 2**70, "1", [1]])
def test_join_bad_timeout_raises_as_the_stdlib(timeout):
    def join(m):
        with running(m) as t:
            t.join(timeout)

    std, ours = raises_same(join)
    assert std == ours and ours is not None


@pytest.mark.parametrize("timeout", [float("nan"), 1e300])
@mark_stdlib(STDLIB_LOSES_INTERRUPTED_THREAD)
def test_thread_stays_alive_after_a_join_that_raised(mod, timeout):
    with running(mod) as t:
        with pytest.raises((ValueError, OverflowError)):
            t.join(timeout)
        assert t.is_alive()
        assert t.join(0.01) is None
        assert t.is_alive()


def test_join_returns_none_and_joins_a_finished_thread_again(mod):
    t = mod.Thread(target=lambda: None)
    t.start()
    assert (t.join(), t.join(), t.join(0), t.is_alive()) == (None, None, None, False)


def test_many_joiners(mod):
    release = threading.Event()
    t = mod.Thread(target=release.wait)
    t.start()
    joined = []
    joiners = [threading.Thread(target=lambda: (t.join(), joined.append(t.is_alive()))) for _ in range(4)]
    for j in joiners:
        j.start()
    release.set()
    for j in joiners:
        j.join()
    assert joined == [False] * 4


def test_run_without_target_does_nothing_and_run_is_callable_directly(mod):
    got = []
    t = mod.Thread(target=got.append, args=(1,))
    t.run()  # in this thread, as the stdlib allows
    mod.Thread().run()
    assert got == [1]


def test_target_references_are_dropped_after_run(mod):
    class Target:
        def __call__(self):
            pass

    target = Target()
    ref = weakref.ref(target)
    t = mod.Thread(target=target)
    del target
    t.start()
    t.join()
    assert ref() is None


def test_subclass_run_stores_results_on_the_instance(mod):
    class Compute(mod.Thread):
        def __init__(self, value):
            super().__init__()
            self.value = value
            self.result = None

        def run(self):
            self.result = self.value**2

    threads = [Compute(i) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [t.result for t in threads] == [0, 1, 4, 9, 16]
    assert all(isinstance(t, threading.Thread) for t in threads)


@pytest.mark.parametrize(
    "use",
    [
        "start",
        "join",
        "is_alive",
        "name",
        "ident",
        "daemon",
        "repr",
        "native_id",
        "set daemon",
    ],
)
def test_subclass_that_forgets_super_init_fails_as_the_stdlibs(use):
    def forgetful(m):
        class Forgetful(m.Thread):
            def __init__(self):
                self.value = 1

        t = Forgetful()
        if use == "repr":
            return repr(t)
        if use == "set daemon":
            t.daemon = True
            return None
        attr = getattr(t, use)
        return attr() if callable(attr) else attr

    std, ours = raises_same(forgetful)
    assert std == ours
    assert ours is not None


def test_subclass_with_start_overridden_to_call_super(mod):
    order = []

    class Logged(mod.Thread):
        def start(self):
            order.append("start")
            super().start()

        def run(self):
            order.append("run")

    t = Logged()
    t.start()
    t.join()
    assert order == ["start", "run"]


# ---------------------------------------------------------------------------------------------
# the stdlib's bookkeeping sees rthreading's threads


def test_current_thread_enumerate_and_active_count_inside(mod):
    def inside():
        me = threading.current_thread()
        return (
            me,
            mod.current_thread() is me,
            me in threading.enumerate(),
            me in mod.enumerate(),
            mod.active_count() >= 2,
        )

    box = []
    t = mod.Thread(target=lambda: box.append(inside()))
    t.start()
    t.join()
    me, *checks = box[0]
    assert me is t
    assert checks[:4] == [True, True, True, True]
    assert t not in threading.enumerate()


def test_main_thread(mod):
    assert mod.main_thread() is threading.main_thread()
    assert run_in_thread(mod, mod.main_thread) is threading.main_thread()
    assert mod.main_thread().name == "MainThread"


def test_logging_thread_name(mod):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(threadName)s|%(thread)d|%(message)s"))
    log = logging.getLogger(f"rthreading-test-{id(stream)}")
    log.propagate = False
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        t = mod.Thread(target=log.info, args=("hello",), name="Worker-7")
        t.start()
        t.join()
        u = mod.Thread(target=log.info, args=("auto",))
        u.start()
        u.join()
    finally:
        log.removeHandler(handler)
    assert stream.getvalue().splitlines() == [f"Worker-7|{t.ident}|hello", f"{u.name}|{u.ident}|auto"]


@pytest.mark.thread_unsafe(reason="replaces the process-wide threading.excepthook")
def test_excepthook_receives_uncaught_exceptions(mod):
    got = []
    old = threading.excepthook
    mod.excepthook = lambda args: got.append(
        (args.exc_type, str(args.exc_value), args.exc_traceback is not None, args.thread)
    )
    try:
        assert threading.excepthook is mod.excepthook  # set through rthreading, seen by threading

        def boom():
            raise ValueError("boom")

        t = mod.Thread(target=boom)
        t.start()
        assert t.join() is None  # the exception does not propagate to join
    finally:
        mod.excepthook = old
    assert threading.excepthook is old
    assert got == [(ValueError, "boom", True, t)]


@pytest.mark.thread_unsafe(reason="replaces the process-wide threading.excepthook")
def test_system_exit_in_a_thread_is_silent(mod):
    got = []
    old = threading.excepthook
    threading.excepthook = got.append
    try:
        t = mod.Thread(target=sys.exit, args=(3,))
        t.start()
        t.join()
    finally:
        threading.excepthook = old
    assert [a.exc_type for a in got] == [SystemExit]  # the hook decides; the default ignores it


DEFAULT_HOOK = """\
import {module} as threading

def risky_task():
    raise ValueError("Something went wrong!")

thread = threading.Thread(target=risky_task, name="Risky")
thread.start()
thread.join()
print("Main continues...", thread.is_alive())
"""


def test_default_excepthook_prints_and_main_continues(mod):
    proc = run_python(DEFAULT_HOOK.format(module=mod.__name__))
    assert (proc.returncode, proc.stdout) == (0, "Main continues... False\n")
    assert proc.stderr.startswith("Exception in thread Risky:\nTraceback (most recent call last):")
    assert proc.stderr.rstrip().endswith("ValueError: Something went wrong!")


# ---------------------------------------------------------------------------------------------
# Ctrl-C and exit


@mark_stdlib(STDLIB_LOSES_INTERRUPTED_THREAD)
@pytest.mark.parametrize("timeout", [None, 60])
def test_interrupted_join_leaves_the_thread_alive_and_joinable(mod, timeout):
    release = threading.Event()
    t = mod.Thread(target=release.wait)
    t.start()
    try:
        with sigusr1_after(0.05) as Interrupted:
            with pytest.raises(Interrupted):
                t.join(timeout)
        assert t.is_alive()
        assert t.join(0.01) is None and t.is_alive()
    finally:
        release.set()
        t.join(10)
    assert not t.is_alive()


EXIT_CHILD = """\
import time
import {module} as threading

def background():
    while True:
        time.sleep(0.01)

def worker():
    time.sleep(0.2)
    print("worker done", flush=True)

threading.Thread(target=background, daemon=True).start()
threading.Thread(target=worker).start()
print("main done", flush=True)
"""


def test_exit_joins_non_daemon_threads_and_not_daemon_ones(mod):
    proc = run_python(EXIT_CHILD.format(module=mod.__name__))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["main done", "worker done"]


FORK_CHILD = """\
import os, warnings
import {module} as threading

# fork() warns when the process has another OS thread, and a joined thread's OS thread may
# still be exiting (with either module): not what this test is about.
warnings.simplefilter("ignore", DeprecationWarning)

box = []
t = threading.Thread(target=box.append, args=(1,))
t.start()
t.join()
pid = os.fork()
if pid == 0:
    u = threading.Thread(target=box.append, args=(2,))
    u.start()
    u.join()
    timer = threading.Timer(0, box.append, args=(3,))
    timer.start()
    timer.join()
    ok = (box == [1, 2, 3] and not u.is_alive() and threading.active_count() == 1
          and threading.current_thread() is threading.main_thread())
    os._exit(0 if ok else 1)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status), box, t.is_alive())
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_threads_start_and_join_in_a_fork_child(mod):
    proc = run_python(FORK_CHILD.format(module=mod.__name__))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "0 [1] False\n", "")


# ---------------------------------------------------------------------------------------------
# Timer


def test_timer_runs_function_with_args_after_interval(mod):
    got = threading.Event()
    box = []
    t = mod.Timer(0.02, lambda *a, **k: (box.append((a, k)), got.set()), args=(1, 2), kwargs={"k": 3})
    start = time.monotonic()
    t.start()
    t.join()
    assert time.monotonic() - start >= 0.02
    assert got.is_set() and box == [((1, 2), {"k": 3})]


def test_timer_defaults(mod):
    box = []
    t = mod.Timer(0, lambda *a, **k: box.append((a, k)))
    assert (t.interval, t.args, t.kwargs) == (0, [], {})
    t.start()
    t.join()
    assert box == [((), {})]
    assert isinstance(t, mod.Thread) and isinstance(t, threading.Timer)


def test_timer_cancel_before_it_fires(mod):
    box = []
    t = mod.Timer(60, box.append, args=(1,))
    t.start()
    t.cancel()
    t.join(10)
    assert (t.is_alive(), box) == (False, [])


def test_timer_cancel_before_start_and_after_firing(mod):
    box = []
    t = mod.Timer(0, box.append, args=(1,))
    t.cancel()
    t.start()
    t.join()
    assert box == []
    u = mod.Timer(0, box.append, args=(2,))
    u.start()
    u.join()
    u.cancel()
    assert box == [2]


def test_timer_signature_errors():
    for call in [lambda m: m.Timer(), lambda m: m.Timer(1), lambda m: m.Timer(1, print, 1, 2, 3)]:
        std, ours = raises_same(call)
        assert std == ours and ours is not None
