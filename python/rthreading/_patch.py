"""Running a whole program on rthreading: ``patch()`` puts rthreading's classes in place of the
stdlib's in the running interpreter, so that every library creating ``threading.Lock()``,
``queue.Queue()`` or ``concurrent.futures.ThreadPoolExecutor()`` from then on gets rthreading's.

Replaced (module attribute -> rthreading's class):

- ``threading``: Lock, RLock, Condition, Semaphore, BoundedSemaphore, Event, Barrier
- ``queue``: Queue, LifoQueue, PriorityQueue, SimpleQueue
- ``concurrent.futures`` and ``concurrent.futures.thread``: ThreadPoolExecutor

Not replaced: ``_thread`` (its ``allocate_lock``/``LockType``/``RLock`` are what the import
system, ``threading``'s own bookkeeping and a few C modules use), objects that already exist,
and names a module bound before the patch (``from threading import Lock`` at its import).

``python -m rthreading`` and ``RTHREADING_PATCH=1`` (through the ``rthreading_patch.pth`` file the
wheel installs in site-packages) call ``patch()`` before the program's first import.
"""

import _thread
import sys

__all__ = ["patch", "unpatch", "patched", "stdlib"]

THREADING_NAMES = ("Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore", "Event", "Barrier")
QUEUE_NAMES = ("Queue", "LifoQueue", "PriorityQueue", "SimpleQueue")
FUTURES_MODULES = ("concurrent.futures", "concurrent.futures.thread")

# Marks an attribute that was absent from the module's dict (concurrent.futures provides
# ThreadPoolExecutor through its module __getattr__ until someone first asks for it).
_ABSENT = object()

# The C RLock of the _thread module (never one of the names patch() replaces); reentrant, as
# patching concurrent.futures on its import may import rthreading.futures, which calls back.
_lock = _thread.RLock()

# While patched: [(module, name, what its __dict__ held before, or _ABSENT)], in patch order.
_saved = None


def patched():
    """Return True while ``patch()`` is in effect (until ``unpatch()``)."""
    return _saved is not None


def stdlib(module, name):
    """``getattr(module, name)`` as it was before ``patch()``: the stdlib's own object even
    while patched (for rthreading's own modules, which must never pick up their own classes
    where they mean the stdlib's)."""
    saved = _saved
    if saved is not None:
        for mod, attr, old in saved:
            if mod is module and attr == name:
                if old is _ABSENT:
                    # Absent from the dict (a module __getattr__ provides it, and may bind
                    # what is patched now): no stdlib object to give.
                    raise AttributeError(f"{module.__name__}.{name} was not set before patch()")
                return old
    return getattr(module, name)


def _set(saved, module, name, value):
    saved.append((module, name, module.__dict__.get(name, _ABSENT)))
    setattr(module, name, value)


def patch():
    """Run the whole program on rthreading: put its classes in place of the stdlib's.

    From the call on, ``threading.Lock``, ``RLock``, ``Condition``, ``Semaphore``,
    ``BoundedSemaphore``, ``Event`` and ``Barrier``, ``queue.Queue``, ``LifoQueue``,
    ``PriorityQueue`` and ``SimpleQueue``, and ``concurrent.futures.ThreadPoolExecutor`` are
    rthreading's, so every library that creates one gets rthreading's (``concurrent.futures``
    is patched when it is first imported). Objects created before the call stay what they
    were, and so do names a module imported before (``from threading import Lock``): patch as
    early as possible, or start the program with ``python -m rthreading`` or with
    ``RTHREADING_PATCH=1`` in its environment. ``_thread`` is never patched. A second call
    while patched does nothing; ``unpatch()`` restores the stdlib's classes.
    """
    global _saved
    with _lock:
        if _saved is not None:
            return
        import queue
        import threading

        import rthreading
        import rthreading.queue as rqueue

        saved = []
        try:
            # threading and queue first: the imports below (concurrent.futures pulls in
            # logging) then make their module-level locks with rthreading's classes.
            for name in THREADING_NAMES:
                _set(saved, threading, name, getattr(rthreading, name))
            for name in QUEUE_NAMES:
                _set(saved, queue, name, getattr(rqueue, name))
            # concurrent.futures (which imports logging) is patched when the program first
            # imports it, not imported here: the program keeps its own import order and
            # start-up cost (a test of logging at exit, for one, sees the difference).
            if all(m in sys.modules for m in FUTURES_MODULES):
                _patch_futures(saved)
            else:
                sys.meta_path.insert(0, _FuturesFinder)
        except BaseException:
            _restore(saved)
            raise
        _saved = saved


def _patch_futures(saved):
    import concurrent.futures  # noqa: F401 - both modules are patched below, by name
    import concurrent.futures.thread  # noqa: F401

    from rthreading.futures import ThreadPoolExecutor

    for modname in FUTURES_MODULES:
        _set(saved, sys.modules[modname], "ThreadPoolExecutor", ThreadPoolExecutor)


# concurrent.futures.thread was imported by rthreading.futures's own import, which then patches.
_futures_pending = False


def futures_imported():
    """Called by rthreading.futures once imported: patches concurrent.futures if its import
    of concurrent.futures.thread came first (see _PatchingLoader)."""
    global _futures_pending
    with _lock:
        if _futures_pending and _saved is not None:
            _patch_futures(_saved)
        _futures_pending = False


class _FuturesFinder:
    """On ``sys.meta_path`` while patched and ``concurrent.futures.thread`` not yet imported: lets
    the other finders find it and patches it and its package once it has executed (the package
    is always imported first, and its ``ThreadPoolExecutor`` comes from ``.thread``), then
    leaves ``sys.meta_path``."""

    _busy = False

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname != "concurrent.futures.thread" or cls._busy:
            return None
        import importlib.util

        cls._busy = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            cls._busy = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _PatchingLoader(spec.loader)
        return spec


class _PatchingLoader:
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        with _lock:
            saved = _saved
            if saved is None or _FuturesFinder not in sys.meta_path:
                return
            sys.meta_path.remove(_FuturesFinder)
            ours = sys.modules.get("rthreading.futures")
            if ours is not None and not hasattr(ours, "ThreadPoolExecutor"):
                # rthreading.futures itself is importing concurrent.futures.thread: it
                # finishes first and then calls futures_imported().
                global _futures_pending
                _futures_pending = True
                return
            _patch_futures(saved)

    def __getattr__(self, name):  # get_resource_reader, is_package, ...
        return getattr(self._loader, name)


def unpatch():
    """Undo ``patch()``: put the stdlib's classes back.

    Every replaced attribute gets back exactly what it held (an attribute that was absent is
    removed again). Objects created while patched stay rthreading's. Does nothing when not
    patched.
    """
    global _saved
    with _lock:
        if _saved is None:
            return
        saved, _saved = _saved, None
        if _FuturesFinder in sys.meta_path:
            sys.meta_path.remove(_FuturesFinder)
        global _futures_pending
        _futures_pending = False
        _restore(saved)


def _restore(saved):
    for module, name, old in reversed(saved):
        if old is _ABSENT:
            module.__dict__.pop(name, None)
        else:
            setattr(module, name, old)
