"""Scenarios: Thread, Timer and local, stdlib against rthreading.

From CPython 3.13 on rthreading.Thread and Timer *are* the stdlib's (threads are started and
joined in C there, detached and interruptibly), so the ratios show that rthreading adds
nothing on the way (1.0 by construction, within noise); before 3.13 they are subclasses whose
join() is one native call (rthreading._legacy_thread), and the ratios show what that costs.
Thread start+join is dominated by the interpreter's own per-thread set-up and tear-down: the
last row times the bare C calls (no Thread object), the floor under any Thread class.
"""

from __future__ import annotations

import sys
import threading as stdlib

import rthreading

from ._harness import timeit_scenarios

MODULES = {"stdlib": stdlib, "rthreading": rthreading}
START_JOIN = "t = mod.Thread(target=target); t.start(); t.join()"

# The floor: an OS thread and its interpreter state started and waited for, no Thread object
# (the same statement for both sides). From 3.13 on, the C calls Thread.start()/join() make.
if sys.version_info >= (3, 13):
    FLOOR = (
        "floor: _thread.start_joinable_thread(f).join()",
        "import _thread\nf = lambda: None",
        "_thread.start_joinable_thread(f).join()",
    )
else:
    FLOOR = (
        "floor: _thread.start_new_thread + lock hand-off",
        "import _thread\nlock = _thread.allocate_lock()",
        "lock.acquire(); _thread.start_new_thread(lock.release, ()); lock.acquire(); lock.release()",
    )

TIMEIT = [
    ("Thread: start(); join()", "target = lambda: None", START_JOIN),
    (
        "Thread subclass: start(); join()",
        "class Worker(mod.Thread):\n    def run(self):\n        self.result = 1",
        "t = Worker(); t.start(); t.join()",
    ),
    (
        "Thread(daemon=True, args): start(); join()",
        "target = lambda x: x",
        "t = mod.Thread(target=target, args=(1,), daemon=True); t.start(); t.join()",
    ),
    (
        "4 Threads: start all, join all, per thread",
        "target = lambda: None",
        "ts = [mod.Thread(target=target) for _ in range(4)]\nfor t in ts: t.start()\nfor t in ts: t.join()",
    ),
    ("Timer(0, f): start(); join()", "f = lambda: None", "t = mod.Timer(0, f); t.start(); t.join()"),
    ("Thread: join() when finished", "t = mod.Thread(target=lambda: None); t.start(); t.join()", "t.join()"),
    ("Thread: is_alive() when finished", "t = mod.Thread(target=lambda: None); t.start(); t.join()", "t.is_alive()"),
    ("current_thread()", "", "mod.current_thread()"),
    ("local: set and get an attribute", "data = mod.local()", "data.x = 1; data.x"),
    FLOOR,
]
TARGETS = {"Thread: start(); join()": 1.0}


def same_code(name):
    """Whether a row times the same object on both sides: from 3.13 on rthreading.Thread and
    Timer are the stdlib's; local and current_thread always are; the floor is one statement."""
    if name.startswith("floor"):
        return True
    if name.startswith("current_thread"):
        return rthreading.current_thread is stdlib.current_thread
    if name.startswith("local"):
        return rthreading.local is stdlib.local
    return rthreading.Thread is stdlib.Thread and rthreading.Timer is stdlib.Timer


def scenarios():
    rows = timeit_scenarios("thread", TIMEIT, MODULES, TARGETS, per={"4 Threads: start all, join all, per thread": 4})
    for s in rows:
        s.same_code = same_code(s.name)
    return rows
