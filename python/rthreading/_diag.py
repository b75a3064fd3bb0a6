"""Finding deadlocks and hot locks: who holds what, who waits for it, and where time goes.

Nothing here costs anything until it is used. A thread that must wait for an rthreading
primitive (its first try failed) registers its wait in a process-wide wait-for graph and
deregisters when the wait ends; every Lock and RLock records the thread that acquired it. From
those two, ``find_deadlocks()`` follows thread -> lock it waits for -> thread holding that lock
-> ... and reports the cycles. Semaphores, Events and a Condition's wait queue have no owner:
their waiters are listed by ``dump()`` but never form a cycle.

asyncio tasks are waiters too: a task awaiting ``async_acquire``, ``async_get``, ``async_put``,
``async_join`` or ``async_wait`` is registered (by the task, and the thread running its loop)
once its first try has failed, and reports name it as ``task 'name' (loop in thread 'X'
(ident))``. The holder of a Lock is whoever acquired it: a Lock acquired with ``await
lock.async_acquire()`` or ``async with lock:`` is held by that task (until it is released, by
anyone), one acquired with ``acquire()`` or ``with`` by the calling thread, even when a task
calls it (then by its loop's thread). So a cycle through tasks, on one loop or several, or
through tasks and threads, is found as one through threads is, and strict mode refuses a
task's untimed ``async_acquire`` that would close one (``DeadlockError`` raised in the task).
The limit: a task holding a Lock taken with a plain ``acquire()`` counts as its loop's thread,
which is never waiting itself, so a cycle through it is not seen.

Contention statistics are off by default. ``enable_stats()`` tracks every Lock, RLock and
Condition created from then on (with the call site that created it); ``track(obj)`` tracks one
existing object. An untracked object's uncontended acquire pays one well-predicted branch. A
task's wait counts as a thread's (a Lock's acquisition; a Queue's wait for an item or room).
"""

import gc as _gc
import os as _os
import sys as _sys
import threading as _threading
import traceback as _traceback
import warnings as _warnings

from rthreading import _core
from rthreading._patch import stdlib as _stdlib

DeadlockError = _core.DeadlockError

# A waiter's key: a thread's ident, or this bit with the address of an asyncio task (src/sync/
# waitgraph.rs, `task_key`); a Lock's owner is one of those too.
_TASK = _core._TASK_BIT


def _thread_names():
    return {t.ident: t.name for t in _threading.enumerate()}


def _thread_label(ident, names):
    name = names.get(ident)
    return f"thread {name!r} ({ident})" if name is not None else f"thread {ident}"


def _task_label(key, task, thread, names):
    """``task 'name' (loop in thread 'X' (ident))``; the task's address if it is gone."""
    if task is None:
        what = f"task at {key & ~_TASK:#x} (gone)"
    else:
        try:
            what = f"task {task.get_name()!r}"
        except Exception:
            what = f"task at {key & ~_TASK:#x}"
    return f"{what} (loop in {_thread_label(thread, names)})" if thread else what


def _waiter_label(key, task, thread, names):
    if key & _TASK:
        return _task_label(key, task, thread, names)
    return _thread_label(key, names)


def _loop_thread(task):
    """The ident of the thread running ``task``'s loop (None if not running)."""
    try:
        return getattr(task.get_loop(), "_thread_id", None)
    except Exception:
        return None


def _object_label(kind, address):
    return f"<{kind} at {address:#x}>"


def _describe_cycle(edges, names=None):
    """The one wording of a deadlock, ``thread A waits for <kind at 0x...> held by thread B;
    ...``, for ``edges`` as ``(waiter, object address, kind, task or None, thread)`` (see
    ``Deadlock``): behind ``str(Deadlock)`` and the message of ``DeadlockError`` (raised by
    src/py/waitgraph.rs). A task is named ``task 'name' (loop in thread 'X' (ident))``."""
    edges = list(edges)
    if names is None:
        names = _thread_names()
    labels = [_waiter_label(key, task, thread, names) for key, _address, _kind, task, thread in edges]
    n = len(edges)
    steps = []
    for i, (_key, address, kind, _task, _thread) in enumerate(edges):
        steps.append(f"{labels[i]} waits for {_object_label(kind, address)} held by {labels[(i + 1) % n]}")
    return "; ".join(steps)


class Deadlock:
    """A deadlock: a cycle of threads (or asyncio tasks), each waiting for a lock the next holds.

    ``threads[i]`` (a thread ident) waits for ``locks[i]`` (an rthreading Lock or RLock),
    which is held by ``threads[i + 1]``; the last lock is held by ``threads[0]``. Where a task
    waits, ``tasks[i]`` is that asyncio task and ``threads[i]`` the thread running its loop
    (two tasks of one loop share it); ``tasks[i]`` is None where a thread waits. The cycle
    starts with a thread when one is in it (the smallest ident). ``len(d)`` is the number of
    waiters; ``str(d)`` describes the cycle with the threads' and tasks' names.
    ``find_deadlocks()`` returns these.
    """

    __slots__ = ("threads", "tasks", "locks", "_keys", "_kinds", "_names")

    def __init__(self, edges, names=None):
        self._keys = tuple(e[0] for e in edges)
        self.locks = tuple(e[1] for e in edges)
        self._kinds = tuple(e[2] for e in edges)
        self.tasks = tuple(e[3] for e in edges)
        self.threads = tuple(e[4] for e in edges)
        self._names = names if names is not None else _thread_names()

    @property
    def edges(self):
        """The cycle as pairs ``(thread_ident, lock it waits for)``."""
        return tuple(zip(self.threads, self.locks))

    @property
    def thread_names(self):
        """The threads' names (None for a thread no longer known to ``threading``)."""
        return tuple(self._names.get(t) for t in self.threads)

    def __len__(self):
        return len(self.threads)

    def __eq__(self, other):
        if not isinstance(other, Deadlock):
            return NotImplemented
        return self._keys == other._keys and all(a is b for a, b in zip(self.locks, other.locks))

    def __hash__(self):
        return hash((self._keys, tuple(id(lock) for lock in self.locks)))

    def __str__(self):
        edges = zip(self._keys, map(id, self.locks), self._kinds, self.tasks, self.threads)
        return "deadlock: " + _describe_cycle(edges, self._names)

    def __repr__(self):
        return f"<rthreading.Deadlock {self}>"


def find_deadlocks():
    """Return the deadlocks among rthreading locks right now, as a list of ``Deadlock``.

    A deadlock is a cycle of threads and asyncio tasks, each waiting for an rthreading Lock or
    RLock held by the next (a task holds the Locks it acquired with ``async_acquire`` or
    ``async with``). The list is empty when there is none, and sorted by each cycle's first
    waiter. Cheap enough to call from a monitoring
    thread; see also ``enable_deadlock_watchdog()``.
    """
    cycles = _core._cycles()
    if not cycles:
        return []
    names = _thread_names()
    return [Deadlock(c, names) for c in cycles]


def enable_strict_deadlocks():
    """Turn strict deadlock mode on: a wait that would deadlock raises ``DeadlockError``.

    In strict mode, a thread whose wait without a timeout for an rthreading Lock or RLock
    would close a cycle of threads waiting for each other gets ``DeadlockError`` (a
    ``RuntimeError``) instead of hanging; it acquires nothing. So does an asyncio task's
    ``async_acquire`` without a timeout (raised in the task). Waits with a timeout and a
    Condition's re-acquisition of its lock are never refused. A Lock used as a signal
    (released by another thread than the one that acquired it) can form a "cycle" that another
    thread would break: don't use strict mode with that pattern. Off by default.
    """
    _core._set_strict_deadlocks(True)


def disable_strict_deadlocks():
    """Turn strict deadlock mode off (the default): waits are never refused."""
    _core._set_strict_deadlocks(False)


def _is_lock(obj):
    return type(obj) is _core.Lock or type(obj) is _core.RLock or type(obj) is _core.RWLock


def _live_locks():
    """The rthreading Locks, RLocks and RWLocks reachable from objects the garbage collector
    knows (module globals, instances, containers, Conditions) and from the calling thread's
    frames."""
    types = (_core.Lock, _core.RLock, _core.RWLock)
    objects = _gc.get_objects()
    # Module globals too: the free-threaded collector may stop tracking a module's dict (it
    # is then missing from get_objects()).
    objects.extend(vars(m) for m in list(_sys.modules.values()) if hasattr(m, "__dict__"))
    try:
        found = {id(r): r for r in _gc.get_referents(*objects) if type(r) in types}
    finally:
        del objects
    frame = _sys._getframe(1)
    while frame is not None:
        for v in list(frame.f_locals.values()):
            if _is_lock(v):
                found[id(v)] = v
        frame = frame.f_back
    return list(found.values())


def held_locks():
    """Return the rthreading Locks and RLocks the calling thread holds, as a list (and the
    RWLocks it holds for writing).

    A lock counts if the calling thread acquired it and has not released it, and it is
    reachable from Python objects or from the caller's frames. Called in an asyncio task, the
    Locks that task holds (acquired with ``async_acquire`` or ``async with``) count too. A debugging aid: it scans the
    garbage collector's objects, so its cost grows with the heap.
    """
    me = {_threading.get_ident()}
    task = _current_task()
    if task is not None:
        me.add(_TASK | id(task))
    held = []
    for lock in _live_locks():
        state = _core._lock_owner(lock)
        if state is not None and state[0] and state[1] in me:
            held.append(lock)
    return held


def _current_task():
    asyncio = _sys.modules.get("asyncio")
    if asyncio is None:
        return None
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop in this thread
        return None


def _tasks_by_key(keys):
    """The asyncio tasks behind task keys (``_TASK | id(task)``) that are still alive, found
    among the garbage collector's objects."""
    asyncio = _sys.modules.get("asyncio")
    wanted = {k & ~_TASK for k in keys}
    if asyncio is None or not wanted:
        return {}
    found = {}
    for obj in _gc.get_objects():
        if id(obj) in wanted and isinstance(obj, asyncio.Task):
            found[_TASK | id(obj)] = obj
    return found


def dump(file=None, stacks=False):
    """Print who holds and who waits for what, for debugging a program that hangs.

    Lists every rthreading lock that is held or waited on (reachable from Python objects, or
    waited on), with the thread that holds it and the threads waiting for it (name, ident,
    how long they have waited); the threads waiting on objects without an owner (Semaphore,
    Event, Condition, Queue); the deadlocks; and with ``stacks=True`` the Python stack of every
    thread involved. asyncio tasks appear as threads do, as ``task 'name' (loop in thread 'X'
    (ident))`` (see the module notes), with their own stacks. Writes to ``file`` (default:
    ``sys.stderr``). Returns None.
    """
    if file is None:
        file = _sys.stderr
    live = _live_locks()  # the slow part first: the rest is a snapshot taken right after it
    names = _thread_names()
    waits = _core._waits()
    cycles = _core._cycles()
    by_obj = {}
    tasks = {}  # task key -> (task, the thread running its loop)
    for waiter, obj, kind, _owner, timed, since, task, thread in waits:
        by_obj.setdefault(id(obj), (obj, kind, []))[2].append((waiter, timed, since))
        if task is not None:
            tasks[waiter] = (task, thread)
    locks = {}
    for key, (obj, kind, _) in by_obj.items():
        if _is_lock(obj):
            locks[key] = (obj, _core._lock_owner(obj), repr(obj))
    for lock in live:
        state = _core._lock_owner(lock)
        if state is not None and state[0] and id(lock) not in locks:
            locks[id(lock)] = (lock, state, repr(lock))
    del live
    held_by_tasks = {s[1] for _, s, _ in locks.values() if s[0] and s[1] & _TASK and s[1] not in tasks}
    for key, task in _tasks_by_key(held_by_tasks).items():
        tasks[key] = (task, _loop_thread(task))

    def who(key):
        task, thread = tasks.get(key, (None, None))
        return _waiter_label(key, task, thread, names)

    involved = set()
    out = [f"rthreading: {len(locks)} lock(s) held or waited on"]

    def most_waited_first(kv):
        return -len(by_obj.get(kv[0], (None, None, ()))[2])

    for key, (lock, (locked, owner), text) in sorted(locks.items(), key=most_waited_first):
        out.append(text)
        if locked and owner:
            out.append(f"    held by {who(owner)}")
            involved.add(owner)
        elif locked:
            out.append("    held (acquiring thread unknown)")
        for waiter, timed, since in by_obj.get(key, (None, None, ()))[2]:
            how = "with a timeout, " if timed else ""
            out.append(f"    waited for by {who(waiter)} ({how}{since:.3f} s)")
            involved.add(waiter)
    others = [(obj, kind, w) for obj, kind, w in by_obj.values() if not _is_lock(obj)]
    if others:
        out.append("waits on objects without an owner:")
        for obj, kind, ws in others:
            for waiter, timed, since in ws:
                how = "with a timeout, " if timed else ""
                out.append(f"    {who(waiter)} waits on {_object_label(kind, id(obj))} ({how}{since:.3f} s)")
                involved.add(waiter)
    for c in cycles:
        out.append(str(Deadlock(c, names)))
    if stacks:
        out.extend(_stacks(sorted(involved), names, {k: t for k, (t, _) in tasks.items()}))
    print("\n".join(out), file=file, flush=True)


def _stacks(waiters, names, tasks=None):
    """The stacks of ``waiters`` (thread idents, or task keys with their task in ``tasks``)."""
    frames = _sys._current_frames()
    out = []
    for t in waiters:
        if t & _TASK:
            task = (tasks or {}).get(t)
            if task is not None:
                out.extend(_task_stack(t, task, names))
            continue
        frame = frames.get(t)
        if frame is None:
            continue
        out.append(f"\nStack of {_thread_label(t, names)} (most recent call last):")
        out.extend(line.rstrip("\n") for line in _traceback.format_stack(frame))
    return out


def _task_stack(key, task, names):
    try:
        # The task is suspended in its wait: the frames of the coroutines it awaits through,
        # outermost first (Task.get_stack() gives the outermost only).
        frames = []
        coro = task.get_coro()
        while coro is not None and len(frames) < 1000:
            frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
            if frame is None:
                break
            frames.append(frame)
            coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
        summary = _traceback.StackSummary.extract((f, f.f_lineno) for f in frames)
    except Exception:
        return []
    label = _task_label(key, task, _loop_thread(task), names)
    return [f"\nStack of {label} (most recent call last):"] + [s.rstrip("\n") for s in summary.format()]


# ---------------------------------------------------------------------------------------------
# The watchdog


class _Watchdog:
    def __init__(self, interval, file):
        self.interval = interval
        self.file = file
        self.stop = _stdlib(_threading, "Event")()  # the stdlib's, even under rthreading.patch()
        self.thread = _threading.Thread(target=self.run, name="rthreading-deadlock-watchdog", daemon=True)

    def run(self):
        previous = set()
        reported = set()
        while not self.stop.wait(self.interval):
            found = {self._key(c): c for c in _core._cycles()}
            for key, cycle in found.items():
                if key in previous and key not in reported:
                    reported.add(key)
                    self.report(cycle)
            previous = set(found)
            reported &= previous

    @staticmethod
    def _key(cycle):
        return tuple((waiter, id(obj)) for waiter, obj, *_ in cycle)

    def report(self, cycle):
        names = _thread_names()
        d = Deadlock(cycle, names)
        lines = [
            f"rthreading: deadlock detected (the same cycle at two checks {self.interval:g} s apart)",
            str(d),
        ]
        lines.extend(_stacks(list(d._keys), names, dict(zip(d._keys, d.tasks))))
        file = self.file if self.file is not None else _sys.stderr
        try:
            print("\n".join(lines), file=file, flush=True)
        except Exception:
            pass


_watchdog = None
_watchdog_lock = _stdlib(_threading, "Lock")()


def enable_deadlock_watchdog(interval=10.0, file=None):
    """Start (or restart) a watchdog thread that reports deadlocks.

    A daemon thread looks for deadlocks every ``interval`` seconds (a positive number, else
    ValueError) and reports a cycle seen at two checks in a row, once, with the stacks of its
    threads, to ``file`` (default: ``sys.stderr`` at the time of the report). The environment
    variable ``RTHREADING_DEADLOCK_WATCHDOG=<seconds>`` starts it when rthreading is imported.
    """
    global _watchdog
    interval = float(interval)
    if not interval > 0:
        raise ValueError("interval must be a positive number of seconds")
    with _watchdog_lock:
        _stop_locked()
        _watchdog = _Watchdog(interval, file)
        _watchdog.thread.start()


def disable_deadlock_watchdog():
    """Stop the deadlock watchdog (nothing happens if it is not running)."""
    with _watchdog_lock:
        _stop_locked()


def _stop_locked():
    global _watchdog
    w, _watchdog = _watchdog, None
    if w is not None:
        w.stop.set()
        if w.thread is not _threading.current_thread():
            w.thread.join()


def _after_fork_in_child():
    # Run in a fork child by the Rust side's fork handler (src/py/fork.rs): the watchdog thread
    # does not exist in the child, so start a new one with the same settings.
    global _watchdog, _watchdog_lock
    _watchdog_lock = _stdlib(_threading, "Lock")()
    w, _watchdog = _watchdog, None
    if w is not None:
        _watchdog = _Watchdog(w.interval, w.file)
        _watchdog.thread.start()


def _watchdog_from_environment():
    value = _os.environ.get("RTHREADING_DEADLOCK_WATCHDOG")
    if not value:
        return
    try:
        enable_deadlock_watchdog(float(value))
    except ValueError:
        _warnings.warn(
            f"RTHREADING_DEADLOCK_WATCHDOG={value!r} is not a positive number of seconds; watchdog not started",
            RuntimeWarning,
            stacklevel=3,
        )


# ---------------------------------------------------------------------------------------------
# Contention statistics


class LockStats:
    """The contention counters of one tracked object, as ``stats()`` returns them.

    ``acquisitions`` (successful acquires), ``contended`` (acquisitions that had to wait,
    plus waits that timed out), ``total_wait`` and ``max_wait`` in seconds, ``name`` (the
    object's repr, or its kind if it is gone), ``kind`` (``"rthreading.Lock"``, ...), ``site``
    (``file:line`` that created it, when created with statistics on), ``object`` (None if
    gone). A queue counts its waits only: ``put_waits`` (for room), ``get_waits`` (for an
    item), their time in ``total_wait``/``max_wait``, and ``contended`` = both; its
    ``acquisitions`` stay 0.
    """

    __slots__ = (
        "object",
        "kind",
        "name",
        "site",
        "acquisitions",
        "contended",
        "total_wait",
        "max_wait",
        "put_waits",
        "get_waits",
    )

    def __init__(self, obj, kind, site, acquisitions, contended, wait_ns, max_wait_ns, put_waits=0, get_waits=0):
        self.object = obj
        self.kind = kind
        self.name = repr(obj) if obj is not None else f"<{kind} (gone)>"
        self.site = site
        self.acquisitions = acquisitions
        self.contended = contended
        self.total_wait = wait_ns / 1e9
        self.max_wait = max_wait_ns / 1e9
        self.put_waits = put_waits
        self.get_waits = get_waits

    def __repr__(self):
        site = f" created at {self.site}" if self.site else ""
        if self.put_waits or self.get_waits:
            counts = f"{self.put_waits} put waits, {self.get_waits} get waits"
        else:
            counts = f"{self.acquisitions} acquisitions, {self.contended} contended"
        return (
            f"<LockStats {self.name}{site}: {counts}, "
            f"waited {self.total_wait:.6f} s in total, {self.max_wait:.6f} s at most>"
        )


def enable_stats():
    """Turn contention statistics on for every Lock, RLock, Condition and Queue created from now on.

    Each is tracked with the call site that created it; ``stats()`` reports the counters.
    Objects created before stay untracked (see ``track()``). Off by default.
    """
    _core._set_stats_enabled(True)


def disable_stats():
    """Stop tracking the objects created from now on (tracked ones keep counting)."""
    _core._set_stats_enabled(False)


def track(obj):
    """Count the contention of one existing object from now on.

    ``obj`` is an rthreading Lock, RLock, Queue (``rthreading.queue.Queue`` and its
    subclasses) or Condition over a Lock or RLock (its lock is tracked); anything else raises
    TypeError. Tracking an object twice changes nothing.
    """
    _core._track(obj)


def reset_stats():
    """Zero every tracked object's counters, and forget the tracked objects that are gone."""
    _core._reset_stats()


def stats():
    """Return the tracked objects' counters, as a list of ``LockStats``, most waited-on first.

    Sorted by total waiting time, then contended and total acquisitions. Objects are tracked
    after ``enable_stats()`` (those created from then on) or ``track(obj)``.
    """
    records = [LockStats(*row) for row in _core._stats()]
    records.sort(key=lambda r: (-r.total_wait, -r.contended, -r.acquisitions))
    return records
