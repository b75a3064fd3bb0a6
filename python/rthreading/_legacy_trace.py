"""``settrace_all_threads`` and ``setprofile_all_threads`` for CPython 3.11, which lacks them
(3.12 added them; rthreading re-exports the stdlib's there). Like 3.12's, each sets the hook
for the threads the threading module starts from now on (``threading.settrace`` /
``threading.setprofile``) and for every thread running now: the native part is 3.12's
``sys._settraceallthreads`` / ``sys._setprofileallthreads`` (see src/py/trace.rs)."""

import threading as _threading

from rthreading._core import _setprofileallthreads, _settraceallthreads


def setprofile_all_threads(func):
    """Set a profile function for all threads started from the threading module
    and all Python threads that are currently executing.

    The func will be passed to sys.setprofile() for each thread, before its
    run() method is called.
    """
    _threading.setprofile(func)
    _setprofileallthreads(func)


def settrace_all_threads(func):
    """Set a trace function for all threads started from the threading module
    and all Python threads that are currently executing.

    The func will be passed to sys.settrace() for each thread, before its run()
    method is called.
    """
    _threading.settrace(func)
    _settraceallthreads(func)


setprofile_all_threads.__module__ = settrace_all_threads.__module__ = "rthreading"
