"""`__enter__`/`__exit__` of Lock, RLock, Condition and the semaphores bound to an instance (src/py/bound.rs).

rthreading hands out bound methods whose memory the instance keeps from one `with` to the
next. Whatever a program can observe of them must be what the stdlib's bound methods show:
what a call does (arguments and errors included), `__self__`, `__name__`, `==`, `hash`, the
instance's lifetime (freed by its reference count, not later), and `with` from many threads.
"""

import gc
import inspect
import pydoc
import threading
import weakref

import pytest

import rthreading
from helpers import both, outcome

CLASSES = ["Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore"]
# Lock and RLock are C classes in both modules: their bound methods are builtin methods.
C_CLASSES = ["Lock", "RLock"]


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("name", ["__enter__", "__exit__"])
def test_bound_method_attributes(cls, name):
    def run(m):
        obj, other = getattr(m, cls)(), getattr(m, cls)()
        meth = getattr(obj, name)
        return (
            meth.__self__ is obj,
            # The stdlib's Semaphore.__enter__ is its acquire (the same method, so named).
            meth.__name__.replace("acquire", "__enter__"),
            callable(meth),
            meth == getattr(obj, name),
            meth != getattr(obj, name),
            hash(meth) == hash(getattr(obj, name)),
            meth == getattr(other, name),
            meth == getattr(obj, "__enter__" if name == "__exit__" else "__exit__"),
        )

    std, ours = both(run)
    assert ours == std
    assert ours == (True, name, True, True, False, True, False, False)


@pytest.mark.parametrize("cls", C_CLASSES)
def test_bound_method_looks_builtin(cls):
    def run(m):
        obj = getattr(m, cls)()
        meth = obj.__enter__
        shown = repr(meth).replace(type(obj).__module__ + "." + type(obj).__name__, "<cls>")
        return (
            inspect.isbuiltin(meth),
            type(type(obj).__enter__).__name__,
            shown.split(" at ")[0],
            type(obj).__enter__.__name__,
        )

    std, ours = both(run)
    assert ours == std


CALLS = [
    ("__enter__", (), {}),
    ("__enter__", (1,), {}),
    ("__enter__", (), {"x": 1}),
    ("__exit__", (None, None, None), {}),
    ("__exit__", (), {}),
    ("__exit__", (1, 2, 3, 4), {}),
    ("__exit__", (), {"x": 1}),
]


def call_on_fresh(m, cls, name, args, kwargs, bound):
    """The outcome of one call of `name` on a new object (held first for `__exit__`), made
    through a bound method or through the class, and whether the object is held after."""
    obj = getattr(m, cls)()
    if name == "__exit__":
        obj.acquire()
    meth = getattr(obj, name) if bound else getattr(type(obj), name).__get__(obj)
    got = outcome(lambda: meth(*args, **kwargs))
    return got[0], held(obj)


def held(obj):
    """Whether `obj` (a new object, used by this thread only) is held after a call."""
    if hasattr(obj, "_is_owned"):
        return obj._is_owned()
    if hasattr(obj, "locked") and not hasattr(obj, "_value"):
        return obj.locked()
    return not obj.acquire(False)  # a semaphore: no permit left


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("name, args, kwargs", CALLS)
def test_calls_through_a_bound_method(cls, name, args, kwargs):
    # Bound (rthreading's reused bound methods) or bound by the class's descriptor (an ordinary
    # bound method): the same outcome, error message included.
    ours = call_on_fresh(rthreading, cls, name, args, kwargs, bound=True)
    assert ours == call_on_fresh(rthreading, cls, name, args, kwargs, bound=False)
    # Where the stdlib's call succeeds, ours does the same.
    std = call_on_fresh(threading, cls, name, args, kwargs, bound=True)
    if std[0] == "ok" and not (cls in C_CLASSES and name == "__enter__" and (args or kwargs)):
        assert ours == std


@pytest.mark.parametrize("cls", CLASSES)
def test_descriptor_refuses_another_object(cls):
    def run(m):
        descr = vars(type(getattr(m, cls)())).get("__enter__")
        if cls not in C_CLASSES:  # the stdlib's is a Python function: it binds to anything
            return None
        return outcome(lambda: descr.__get__(object()))[0]

    std, ours = both(run)
    assert ours == std


@pytest.mark.parametrize("cls", CLASSES)
def test_instance_freed_by_its_refcount(cls):
    # After a `with` (and a bound method kept and dropped), the object goes with its last
    # reference, without the cyclic collector.
    def run(m):
        gc.disable()
        try:
            obj = getattr(m, cls)()
            ref = weakref.ref(obj)
            with obj:
                pass
            enter = obj.__enter__
            enter()
            obj.__exit__(None, None, None)
            with obj:
                with getattr(m, cls)():
                    pass
            del enter
            del obj
            return ref() is None
        finally:
            gc.enable()

    std, ours = both(run)
    assert ours == std == True  # noqa: E712


@pytest.mark.parametrize("cls", CLASSES)
def test_bound_method_outlives_its_reference(cls):
    # A bound method keeps its object alive, as the stdlib's do.
    def run(m):
        enter, exit_ = getattr(m, cls)().__enter__, None
        got = [enter()]
        exit_ = enter.__self__.__exit__
        del enter
        gc.collect()
        got.append(exit_(None, None, None))
        return got

    std, ours = both(run)
    assert ours == std


def test_temporary_condition_releases_its_lock():
    def run(m):
        lock = m.Lock()
        with m.Condition(lock):
            inside = lock.locked()
        return inside, lock.locked()

    std, ours = both(run)
    assert ours == std == (True, False)


@pytest.mark.parametrize("cls", CLASSES)
def test_with_from_many_threads(cls):
    # Bound methods made, freed and reused concurrently on one object.
    def run(m):
        obj = getattr(m, cls)()
        count = [0]

        def work():
            for _ in range(5000):
                with obj:
                    count[0] += 1
                exit_ = obj.__exit__
                with obj:
                    count[0] += 1
                obj.acquire()
                exit_(None, None, None)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        return count[0]

    std, ours = both(run)
    assert ours == std == 40000


def test_subclass_overrides_enter():
    def run(m):
        class Mine(m.Condition):
            def __enter__(self):
                super().__enter__()
                return "mine"

        c = Mine()
        with c as got:
            held = c._is_owned()
        return got, held, c._is_owned()

    std, ours = both(run)
    assert ours == std == ("mine", True, False)


@pytest.mark.parametrize("cls", C_CLASSES)
def test_help_lists_enter_and_exit(cls):
    text = pydoc.render_doc(getattr(rthreading, cls), renderer=pydoc.plaintext)
    assert "__enter__(self, /)" in text or "__enter__(...)" in text
    assert "__exit__" in text


@pytest.mark.parametrize("side", ["read", "write"])
def test_rwlock_guards(side):
    # rthreading only (the stdlib has no RWLock): a guard's bound methods, as a Lock's above.
    gc.disable()
    try:
        rw = rthreading.RWLock()
        ref = weakref.ref(rw)
        guard = getattr(rw, side)()
        enter = guard.__enter__
        assert enter.__self__ is guard and enter.__name__ == "__enter__"
        assert enter == guard.__enter__ and hash(enter) == hash(guard.__enter__)
        assert enter() is True
        assert guard.__exit__(None, None, None) is None
        with getattr(rw, side)():
            held = repr(rw)
        assert held.startswith("<write-locked" if side == "write" else "<read-locked")
        assert repr(rw).startswith("<unlocked")
        del enter, guard
        del rw
    finally:
        gc.enable()
    gc.collect()  # an RWLock and the guards it keeps are a cycle, as before
    assert ref() is None
