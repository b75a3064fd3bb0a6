"""Bad input, as a property (hypothesis): every public method of every class, called with
arguments of wrong types and out-of-range values, on a stdlib object and an rthreading object in
the same state, does the same thing: the same exception type (and message, but for argument-count
errors whose wording PyO3 phrases its own way), the same result otherwise, no crash, and the
object is left in the same, usable state.

No call can block for long: objects are in states where the call returns at once, and in the few
states where it would wait, a timeout argument that would wait (a positive number, or
None/absent where that means "forever") is replaced by a few milliseconds.
"""

import concurrent.futures as std_futures
import math
import queue as std_queue
import re
import sys
import threading

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import rthreading  # noqa: E402
import rthreading.futures as r_futures  # noqa: E402
import rthreading.queue as r_queue  # noqa: E402

pytestmark = [
    pytest.mark.thread_unsafe(reason="hypothesis, and pools started per example"),
    # 3.13's RLock(*args) is deprecated: both modules' constructors are called with junk
    pytest.mark.filterwarnings("ignore:Passing arguments to RLock:DeprecationWarning"),
]

MODS = {
    "std": {"threading": threading, "queue": std_queue, "futures": std_futures},
    "r": {"threading": rthreading, "queue": r_queue, "futures": r_futures},
}


class BadIndex:
    def __index__(self):
        raise ZeroDivisionError("index")


class BadFloat:
    def __float__(self):
        raise ZeroDivisionError("float")


class BadBool:
    def __bool__(self):
        raise ZeroDivisionError("bool")


class GoodIndex:
    def __index__(self):
        return 1


class BadCompare:
    def __lt__(self, other):
        raise ZeroDivisionError("lt")

    __gt__ = __le__ = __ge__ = __lt__


BAD_VALUES = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2,
    3,
    0.0,
    -0.0,
    0.5,
    -0.5,
    1e-9,
    -1e-9,
    1e300,
    -1e300,
    math.nan,
    math.inf,
    -math.inf,
    2**31,
    2**63 - 1,
    2**63,
    -(2**63),
    2**64,
    10**30,
    -(10**30),
    "1",
    "",
    b"x",
    [],
    (),
    {},
    object(),
    BadIndex(),
    BadFloat(),
    BadBool(),
    GoodIndex(),
    BadCompare(),
    1j,
    (lambda *a: True),
    (lambda *a: False),
    (lambda *a: 1 / 0),
    print,
]
KEYWORDS = [
    "timeout",
    "blocking",
    "block",
    "n",
    "item",
    "predicate",
    "fn",
    "wait",
    "cancel_futures",
    "immediate",
    "result",
    "exception",
    "bogus",
]

values = st.sampled_from(BAD_VALUES)
args_st = st.lists(values, max_size=3)
kwargs_st = st.dictionaries(st.sampled_from(KEYWORDS), values, max_size=2)

SHORT = 0.003


def is_real(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def bounded(v, forever_if_none):
    """A timeout value that cannot make the call wait for long."""
    if v is None:
        return SHORT if forever_if_none else v
    if is_real(v) and SHORT < v < 1e12:  # beyond: refused (OverflowError) or NaN/inf rules
        return SHORT
    return v


# Each state: a factory (module dict -> object) and its methods, as
# {name: (index of the timeout argument or None, whether no timeout means "forever")}.
def q_with_item(cls, m):
    q = getattr(m["queue"], cls)(2)
    q.put(1)
    q.task_done()
    return q


QUEUE_METHODS = {
    "put": (2, True),
    "put_nowait": (None, False),
    "get": (1, False),
    "get_nowait": (None, False),
    "task_done": (None, False),
    "join": (None, False),
    "qsize": (None, False),
    "empty": (None, False),
    "full": (None, False),
    "shutdown": (None, False),
}


def _done_future(m):
    f = m["futures"].Future()
    f.set_result(1)
    return f


def _pending_future(m):
    return m["futures"].Future()


def _aborted_barrier(m):
    b = m["threading"].Barrier(2)
    b.abort()
    return b


def _held(cls):
    def make(m):
        o = getattr(m["threading"], cls)()
        o.acquire()
        return o

    return make


def _sem(cls, value, taken=0):
    def make(m):
        s = getattr(m["threading"], cls)(value)
        for _ in range(taken):
            s.acquire()
        return s

    return make


def _event(is_set):
    def make(m):
        e = m["threading"].Event()
        if is_set:
            e.set()
        return e

    return make


def _cond_owned(m):
    c = m["threading"].Condition()
    c.acquire()
    return c


LOCKISH = {"acquire": (1, False), "release": (None, False), "__enter__": (None, False), "__exit__": (None, False)}
COND = {
    "wait": (0, True),
    "wait_for": (1, True),
    "notify": (None, False),
    "notify_all": (None, False),
    "acquire": (1, False),
    "release": (None, False),
    "__enter__": (None, False),
    "__exit__": (None, False),
    "_is_owned": (None, False),
}
FUTURE = {
    "result": (0, True),
    "exception": (0, True),
    "cancel": (None, False),
    "cancelled": (None, False),
    "running": (None, False),
    "done": (None, False),
    "add_done_callback": (None, False),
    "set_result": (None, False),
    "set_exception": (None, False),
    "set_running_or_notify_cancel": (None, False),
}

STATES = {
    "Lock": (lambda m: m["threading"].Lock(), {**LOCKISH, "locked": (None, False)}),
    "Lock-held": (_held("Lock"), {"release": (None, False), "locked": (None, False), "__exit__": (None, False)}),
    "RLock": (
        lambda m: m["threading"].RLock(),
        {**LOCKISH, "_is_owned": (None, False), "_recursion_count": (None, False)},
    ),
    "RLock-held": (_held("RLock"), {**LOCKISH, "_is_owned": (None, False)}),
    "Condition": (_cond_owned, COND),
    "Condition-unowned": (lambda m: m["threading"].Condition(), COND),
    "Semaphore": (_sem("Semaphore", 1), {**LOCKISH}),
    "Semaphore-empty": (_sem("Semaphore", 0), {"acquire": (1, True), "release": (None, False)}),
    "BoundedSemaphore": (_sem("BoundedSemaphore", 2, 1), {**LOCKISH}),
    "Event-set": (
        _event(True),
        {"set": (None, False), "clear": (None, False), "is_set": (None, False), "wait": (0, False)},
    ),
    "Event-unset": (_event(False), {"set": (None, False), "is_set": (None, False), "wait": (0, True)}),
    "Barrier": (
        lambda m: m["threading"].Barrier(1),
        {"wait": (0, False), "reset": (None, False), "abort": (None, False)},
    ),
    "Barrier-broken": (_aborted_barrier, {"wait": (0, False), "reset": (None, False)}),
    "Queue": (lambda m: q_with_item("Queue", m), QUEUE_METHODS),
    "LifoQueue": (lambda m: q_with_item("LifoQueue", m), QUEUE_METHODS),
    "PriorityQueue": (lambda m: q_with_item("PriorityQueue", m), QUEUE_METHODS),
    "Queue-empty": (lambda m: m["queue"].Queue(), {"get": (1, True), "put": (2, False), "task_done": (None, False)}),
    "SimpleQueue": (
        lambda m: q_with_item_simple(m),
        {
            "put": (2, False),
            "put_nowait": (None, False),
            "get": (1, False),
            "get_nowait": (None, False),
            "qsize": (None, False),
            "empty": (None, False),
        },
    ),
    "Future-done": (_done_future, FUTURE),
    "Future-pending": (_pending_future, FUTURE),
}


def q_with_item_simple(m):
    q = m["queue"].SimpleQueue()
    q.put(1)
    return q


CONSTRUCTORS = {
    "Lock": ("threading", "Lock"),
    "RLock": ("threading", "RLock"),
    "Condition": ("threading", "Condition"),
    "Semaphore": ("threading", "Semaphore"),
    "BoundedSemaphore": ("threading", "BoundedSemaphore"),
    "Event": ("threading", "Event"),
    "Barrier": ("threading", "Barrier"),
    "Queue": ("queue", "Queue"),
    "LifoQueue": ("queue", "LifoQueue"),
    "PriorityQueue": ("queue", "PriorityQueue"),
    "SimpleQueue": ("queue", "SimpleQueue"),
    "Future": ("futures", "Future"),
}


def snapshot(obj):
    """What can be observed of obj's state without changing it."""
    out = {}
    for attr in (
        "locked",
        "_is_owned",
        "_recursion_count",
        "is_set",
        "qsize",
        "full",
        "empty",
        "done",
        "cancelled",
        "running",
    ):
        fn = getattr(obj, attr, None)
        if fn is not None:
            try:
                out[attr] = fn()
            except Exception as e:  # noqa: BLE001
                out[attr] = type(e).__name__
    for attr in ("n_waiting", "broken", "parties", "unfinished_tasks", "maxsize"):
        if hasattr(obj, attr):
            out[attr] = getattr(obj, attr)
    return out


ARITY = re.compile(r"argument|positional|keyword")
ADDR = re.compile(r" at 0x[0-9a-f]+")


def norm_value(v):
    if v is None or isinstance(v, (bool, int, float, str, bytes)):
        return v
    if isinstance(v, (list, tuple)):
        return type(v)(norm_value(x) for x in v)
    return "<object>"


def call(obj, name, args, kwargs):
    try:
        r = getattr(obj, name)(*args, **kwargs)
        return ("ok", norm_value(r))
    except Exception as e:  # noqa: BLE001 - compared
        msg = ADDR.sub("", str(e)).replace("rthreading.", "").replace("concurrent.futures.", "")
        msg = msg.replace("_base.", "")
        return (type(e).__name__, msg)


def known_difference(state, name, args, kwargs, std_out):
    """Differences found by this test and left as they are (documented), or None."""
    if name == "__enter__" and state.startswith(("Lock", "RLock")) and (args or kwargs):
        return "the stdlib's C lock's __enter__ is acquire itself and takes its arguments"
    if (
        state.startswith(("Semaphore", "BoundedSemaphore"))
        and name == "release"
        and any(isinstance(v, float) for v in [*args, *kwargs.values()])
        and std_out[0] == "ok"
    ):
        return "the stdlib's Semaphore counts in floats if given floats; rthreading's in integers"
    if state == "PriorityQueue" and name.startswith("put") and std_out[0] != "ok":
        return "a failed comparison leaves the stdlib's heap with the item; rthreading's unchanged"
    if sys.version_info < (3, 13):  # rthreading follows the newest stdlib where it changed
        if name == "acquire" and "cannot be interpreted as an integer" in str(std_out[1]):
            return "lock.acquire(None) is acquire(blocking=False) from 3.13"
        if state == "SimpleQueue" and name.endswith("_nowait") and kwargs:
            return "SimpleQueue's *_nowait take no keyword arguments from 3.13"
    return None


def same(a, b):
    if a == b:
        return True
    # argument-count/keyword errors: PyO3 words them its own way (documented): type only
    return a[0] == b[0] == "TypeError" and bool(ARITY.search(a[1])) and bool(ARITY.search(b[1]))


def prepared(state, name, args, kwargs):
    """args/kwargs with the timeout made short when the call could wait; None if it would wait
    forever with no timeout to shorten."""
    _, methods = STATES[state]
    index, forever = methods[name]
    args, kwargs = list(args), dict(kwargs)
    if index is not None:
        if len(args) > index:
            args[index] = bounded(args[index], forever)
        elif "timeout" in kwargs:
            kwargs["timeout"] = bounded(kwargs["timeout"], forever)
        elif forever:
            kwargs["timeout"] = SHORT
    return args, kwargs


settings.register_profile(
    "rthreading", max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
SETTINGS = settings.get_profile("rthreading")

METHOD_CASES = [(state, name) for state, (_, methods) in STATES.items() for name in methods]


@pytest.mark.parametrize("state,name", METHOD_CASES, ids=[f"{s}.{n}" for s, n in METHOD_CASES])
def test_method_bad_arguments_same_as_stdlib(state, name):
    make, _ = STATES[state]

    @SETTINGS
    @given(args=args_st, kwargs=kwargs_st)
    def prop(args, kwargs):
        a, k = prepared(state, name, args, kwargs)
        results = {}
        for mod_name, m in MODS.items():
            obj = make(m)
            if not hasattr(obj, name):  # e.g. shutdown() before 3.13 in the stdlib
                return
            results[mod_name] = (call(obj, name, a, k), snapshot(obj), obj)
        (std_out, std_snap, _), (r_out, r_snap, r_obj) = results["std"], results["r"]
        if known_difference(state, name, a, k, std_out):
            usable(state, r_obj)
            return
        assert same(std_out, r_out), (state, name, a, k, std_out, r_out)
        common = std_snap.keys() & r_snap.keys()  # e.g. RLock.locked() is 3.14's
        assert {k: std_snap[k] for k in common} == {k: r_snap[k] for k in common}, (state, name, a, k, std_snap, r_snap)
        usable(state, r_obj)

    prop()


def usable(state, obj):
    """The object still works after the call (rthreading's, whatever the call did)."""
    if state.startswith(("Lock", "RLock", "Semaphore", "BoundedSemaphore")):
        if obj.acquire(False):
            obj.release()
    elif state.startswith("Event"):
        obj.set()
        assert obj.wait(0)
    elif state.startswith("Barrier"):
        obj.reset()
        assert obj.n_waiting == 0 and not obj.broken
    elif "Queue" in state:
        if getattr(obj, "is_shutdown", False):
            return
        try:
            obj.put_nowait(0)
        except r_queue.Full:
            pass
        except getattr(r_queue, "ShutDown", ()):
            return
        obj.get_nowait()
    elif state.startswith("Future"):
        assert obj.done() in (True, False)


@pytest.mark.parametrize("cls", list(CONSTRUCTORS))
def test_constructor_bad_arguments_same_as_stdlib(cls):
    where, attr = CONSTRUCTORS[cls]

    @SETTINGS
    @given(args=args_st, kwargs=kwargs_st)
    def prop(args, kwargs):
        outs = []
        for m in MODS.values():
            outs.append(call(m[where], attr, args, kwargs))
        if (
            cls in ("Semaphore", "BoundedSemaphore")
            and outs[0][0] == "ok"
            and any(isinstance(v, float) for v in [*args, *kwargs.values()])
        ):
            return  # known: the stdlib's Semaphore takes a float count, rthreading's an integer
        if cls == "Barrier" and sys.version_info < (3, 13) and outs[0][0] == "ok":
            return  # the stdlib checks `parties` from 3.13 (rthreading as the newest does)
        assert same(outs[0], outs[1]), (cls, args, kwargs, outs)

    prop()


def test_pool_bad_arguments_same_as_stdlib():
    """submit/map/shutdown with bad arguments, on pools of both kinds."""

    @settings(max_examples=20, deadline=None, derandomize=True)
    @given(name=st.sampled_from(["submit", "map", "shutdown"]), args=args_st, kwargs=kwargs_st)
    def prop(name, args, kwargs):
        outs = []
        for m in MODS.values():
            ex = m["futures"].ThreadPoolExecutor(1)
            try:
                out = call(ex, name, args, kwargs)
                ex.shutdown(wait=True)
                after = call(ex, "submit", [int], {})
            finally:
                ex.shutdown(wait=True)
            outs.append((out, after))
        assert same(outs[0][0], outs[1][0]), (name, args, kwargs, outs)
        assert outs[0][1] == outs[1][1]

    prop()
