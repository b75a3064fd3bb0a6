"""Drop-in details that real libraries and CPython's own suites rely on: instance attributes
and weak references on the classes that are Python classes in the stdlib, a Condition's
`_release_save`/`_acquire_restore`/`_is_owned` (so a Condition can be another Condition's lock),
and 3.13's deprecation of RLock arguments. Differential: each scenario runs against the stdlib
and rthreading."""

import gc
import queue as std_queue
import sys
import threading
import warnings
import weakref

import pytest

import rthreading
import rthreading.queue as r_queue

from helpers import outcome

# The classes that are Python classes in the stdlib, by name, in both modules.
PY_CLASSES = {
    "Condition": (threading.Condition, rthreading.Condition),
    "Semaphore": (threading.Semaphore, rthreading.Semaphore),
    "BoundedSemaphore": (threading.BoundedSemaphore, rthreading.BoundedSemaphore),
    "Event": (threading.Event, rthreading.Event),
    "Barrier": (lambda: threading.Barrier(2), lambda: rthreading.Barrier(2)),
    "Queue": (std_queue.Queue, r_queue.Queue),
    "LifoQueue": (std_queue.LifoQueue, r_queue.LifoQueue),
    "PriorityQueue": (std_queue.PriorityQueue, r_queue.PriorityQueue),
}


# Before 3.13, CPython's object_new makes each instance's dict at once, inside PyO3's allocation
# (the collector may then see the instance half-made): the native classes take attributes from
# 3.13 on only. Python subclasses have their own dict on every version.
needs_dict = pytest.mark.skipif(sys.version_info < (3, 13), reason="instance attributes on the native classes: 3.13+")


def attributes(make):
    obj = make()
    obj.owner = "me"
    obj.__dict__["tag"] = 1
    ref = weakref.ref(obj)
    setattr(obj, "owner", obj.owner + "!")
    state = (obj.owner, obj.tag, "owner" in vars(obj), ref() is obj)
    del obj.owner
    return state, outcome(lambda: obj.owner)[0], hasattr(obj, "owner")


@needs_dict
@pytest.mark.parametrize("name", list(PY_CLASSES))
def test_instance_attributes_and_weakrefs(name):
    std, ours = PY_CLASSES[name]
    assert attributes(ours) == attributes(std)


@needs_dict
@pytest.mark.parametrize("name", list(PY_CLASSES))
def test_attributes_do_not_shadow_the_api(name):
    """Instance attributes live beside the methods: the object keeps working."""
    std, ours = PY_CLASSES[name]

    def use(make):
        obj = make()
        obj.extra = [1]
        names = sorted(n for n in vars(obj) if not n.startswith("_"))
        return "extra" in names, obj.extra, type(obj).__name__

    assert use(ours) == use(std)


def collected(make, subclass):
    """Whether the collector frees an object kept alive only by a cycle through its dict."""
    if subclass:
        base = type(make())
        cls = type("Sub", (base,), {})
        obj = cls(2) if base.__name__ == "Barrier" else cls()
    else:
        obj = make()
    obj.me = obj
    obj.others = [obj, {"x": obj}]
    ref = weakref.ref(obj)
    del obj
    gc.collect()
    return ref() is None


@pytest.mark.thread_unsafe(reason="gc.collect() is process-wide")
@pytest.mark.parametrize("subclass", [False, True], ids=["class", "subclass"])
@pytest.mark.parametrize("name", list(PY_CLASSES))
def test_cycle_through_instance_dict_is_collected(name, subclass):
    if not subclass and sys.version_info < (3, 13):
        pytest.skip("instance attributes on the native classes: 3.13+")
    std, ours = PY_CLASSES[name]
    assert collected(ours, subclass) == collected(std, subclass) == True  # noqa: E712


@needs_dict
def test_queue_tagged_with_its_own_lock():
    """A pattern from a real library: the queue carries the lock guarding what it feeds."""

    def scenario(mod, qmod):
        q = qmod.Queue()
        q.lock = mod.Lock()
        with q.lock:
            q.put("x")
        return q.get_nowait(), q.lock.locked()

    assert scenario(rthreading, r_queue) == scenario(threading, std_queue)


# --- a Condition's lock protocol -------------------------------------------------------------


def release_save_scenario(mod, lock_factory):
    cond = mod.Condition(lock_factory(mod))
    log = [outcome(cond._release_save)[0], cond._is_owned()]
    cond.acquire()
    cond.acquire() if lock_factory is rlock else None
    log.append(cond._is_owned())
    state = cond._release_save()
    log.append((type(state).__name__, cond._is_owned()))
    cond._acquire_restore(state)
    log.append(cond._is_owned())
    cond.release()
    if lock_factory is rlock:
        log.append(cond._is_owned())
        cond.release()
    log.append((cond._is_owned(), outcome(cond.release)[0]))
    return log


def rlock(mod):
    return mod.RLock()


def lock(mod):
    return mod.Lock()


def default(mod):
    return None


@pytest.mark.parametrize("factory", [rlock, lock, default], ids=["RLock", "Lock", "default"])
def test_condition_release_save(factory):
    assert release_save_scenario(rthreading, factory) == release_save_scenario(threading, factory)


def nested_condition_scenario(mod):
    """A Condition whose lock is another Condition (over an RLock): waits and notifies work
    through both, and the inner condition's RLock is released fully while waiting."""
    inner = mod.Condition()
    outer = mod.Condition(inner)
    with outer:
        with outer:  # the inner RLock, twice
            timed_out = outer.wait(0.01)
            held = inner._is_owned()
    woken = []

    def waiter():
        with outer:
            woken.append(outer.wait(10))

    t = mod.Thread(target=waiter)
    t.start()
    for _ in range(1000):  # notify until the waiter has been woken (it may not wait yet)
        with outer:
            outer.notify()
        t.join(0.01)
        if not t.is_alive():
            break
    t.join(10)
    return timed_out, held, woken, inner._is_owned()


def test_condition_as_lock_of_condition():
    assert nested_condition_scenario(rthreading) == nested_condition_scenario(threading)


def test_condition_as_rlock_release_save_unacquired():
    """lock_tests.RLockTests.test_release_save_unacquired with Condition as the lock type."""

    def scenario(mod):
        lock = mod.Condition()
        log = [outcome(lock._release_save)[0]]
        lock.acquire()
        lock.acquire()
        lock.release()
        lock.acquire()
        lock.release()
        lock.release()
        log.append(outcome(lock._release_save)[0])
        return log

    assert scenario(rthreading) == scenario(threading) == [RuntimeError, RuntimeError]


# --- RLock's arguments -----------------------------------------------------------------------


@pytest.mark.thread_unsafe(reason="catch_warnings is process-wide")
@pytest.mark.parametrize("args,kwargs", [((), {}), ((1,), {}), ((), {"a": 1}), ((1, 2), {"a": 1})])
def test_rlock_arguments_warning(args, kwargs):
    def scenario(mod):
        with warnings.catch_warnings(record=True) as log:
            warnings.simplefilter("always")
            mod.RLock(*args, **kwargs)
        return [(w.category, str(w.message), w.filename) for w in log]

    assert scenario(rthreading) == scenario(threading)
    if sys.version_info >= (3, 13) and (args or kwargs):
        assert scenario(rthreading)[0][2] == __file__


# --- subclasses with their own __init__ ------------------------------------------------------

SUBCLASS_ARGS = {
    "Condition": (lambda m, q: m.Condition, (None,)),
    "Semaphore": (lambda m, q: m.Semaphore, (2,)),
    "BoundedSemaphore": (lambda m, q: m.BoundedSemaphore, (2,)),
    "Event": (lambda m, q: m.Event, ()),
    "Barrier": (lambda m, q: m.Barrier, (2,)),
    "Queue": (lambda m, q: q.Queue, (3,)),
    "LifoQueue": (lambda m, q: q.LifoQueue, (3,)),
    "PriorityQueue": (lambda m, q: q.PriorityQueue, (3,)),
}


@pytest.mark.parametrize("name", list(SUBCLASS_ARGS))
def test_subclass_with_own_init_signature(name):
    """A subclass whose __init__ takes other parameters and calls super().__init__(...) (as
    cachetools' tests subclass Condition)."""
    get, args = SUBCLASS_ARGS[name]

    def scenario(mod, qmod):
        base = get(mod, qmod)

        class Named(base):
            def __init__(self, label, *a):
                super().__init__(*a)
                self.label = label

        obj = Named("x", *args)
        return obj.label, outcome(lambda: Named())[0]

    assert scenario(rthreading, r_queue) == scenario(threading, std_queue)


def test_condition_subclass_init_passes_the_lock():
    def scenario(mod):
        class WaitCondition(mod.Condition):
            def __init__(self, lock=None):
                super().__init__(lock)
                self.waits = 0

            def wait(self, timeout=None):
                self.waits += 1
                return super().wait(timeout)

        lock = mod.Lock()
        cond = WaitCondition(lock)
        with cond:
            r = cond.wait(0.001)
            held = lock.locked()
        return r, held, cond.waits, cond._lock is lock

    assert scenario(rthreading) == scenario(threading) == (False, True, 1, True)
