"""rthreading.local is the stdlib's (C) thread-local type; these check it against rthreading's
threads as the seeds use it: every thread sees only its own attributes, a subclass's __init__
runs again in each thread, and a thread's values go when the thread ends. From 3.13 on
rthreading.Thread is the stdlib's too, so this would compare CPython with itself: it runs
before 3.13 only."""

import _thread
import gc
import threading
import weakref

import pytest

import rthreading
from helpers import legacy_thread_only, raises_same, wait_until

pytestmark = legacy_thread_only


def test_local_is_the_stdlibs():
    assert rthreading.local is threading.local


def in_threads(mod, fn, n):
    """fn(i) in n mod.Threads started together; their results in order."""
    results = [None] * n
    start = threading.Barrier(n)

    def work(i):
        start.wait()
        results[i] = fn(i)

    threads = [mod.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_each_thread_sees_its_own_values(mod):
    data = mod.local()
    data.x = "main"

    def work(i):
        seen_before = hasattr(data, "x")
        data.x = i
        data.counter = 0
        for _ in range(1000):
            data.counter += 1
        return seen_before, data.x, data.counter, sorted(vars(data))

    assert in_threads(mod, work, 4) == [(False, i, 1000, ["counter", "x"]) for i in range(4)]
    assert (data.x, hasattr(data, "counter")) == ("main", False)


def test_missing_attribute_raises_the_same():
    std, ours = raises_same(lambda m: m.local().missing)
    assert std == ours and ours[0] is AttributeError


def test_arguments_without_init_are_refused():
    std, ours = raises_same(lambda m: m.local(1, k=2))
    assert std == ours and ours[0] is TypeError


def test_subclass_init_runs_in_each_thread_with_the_same_arguments(mod):
    inits = []

    class Context(mod.local):
        def __init__(self, user, role="guest"):
            inits.append(threading.get_ident())
            self.user, self.role = user, role

    ctx = Context("alice", role="admin")
    ctx.user = "changed in main"

    def work(i):
        return ctx.user, ctx.role

    assert in_threads(mod, work, 3) == [("alice", "admin")] * 3
    assert len(set(inits)) == 4 and ctx.user == "changed in main"


def test_values_are_released_when_the_thread_ends(mod):
    class Resource:
        pass

    data = mod.local()
    refs = []

    def work():
        data.resource = Resource()
        refs.append(weakref.ref(data.resource))

    t = mod.Thread(target=work)
    t.start()
    t.join()

    def released():
        gc.collect()
        return refs[0]() is None

    wait_until(released)


@pytest.mark.parametrize("kind", ["local", "subclass"])
def test_local_is_usable_from_a_thread_that_is_not_a_threading_thread(mod, kind):
    cls = mod.local if kind == "local" else type("Sub", (mod.local,), {})
    data = cls()
    data.x = 1
    box = []
    done = threading.Event()

    def raw():
        box.append(hasattr(data, "x"))
        data.x = 2
        box.append(data.x)
        done.set()

    _thread.start_new_thread(raw, ())
    assert done.wait(10)
    assert (box, data.x) == ([False, 2], 1)
