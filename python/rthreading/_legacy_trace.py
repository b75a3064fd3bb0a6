"""``settrace_all_threads`` and ``setprofile_all_threads`` for CPython 3.11, which lacks them
(3.12 added them; rthreading re-exports the stdlib's there). Like 3.12's, each sets the hook
for the threads the threading module starts from now on (``threading.settrace`` /
``threading.setprofile``) and for every thread running now: the native part is 3.12's
``sys._settraceallthreads`` / ``sys._setprofileallthreads`` (see src/py/trace.rs)."""

import threading as _threading

from rthreading._core import _setprofileallthreads, _settraceallthreads


def setprofile_all_threads(func):
    """Set a profile function for every thread: those running now and those started later.

    ``func`` is passed to ``sys.setprofile()`` in each Python thread running now, and in each
    thread the threading module starts from now on, before its ``run()`` method is called.
    None removes the profile function. (Python 3.12's ``threading.setprofile_all_threads``,
    provided on 3.11.)
    """
    _threading.setprofile(func)
    _setprofileallthreads(func)


def settrace_all_threads(func):
    """Set a trace function for every thread: those running now and those started later.

    ``func`` is passed to ``sys.settrace()`` in each Python thread running now, and in each
    thread the threading module starts from now on, before its ``run()`` method is called.
    None removes the trace function. (Python 3.12's ``threading.settrace_all_threads``,
    provided on 3.11.)
    """
    _threading.settrace(func)
    _settraceallthreads(func)


setprofile_all_threads.__module__ = settrace_all_threads.__module__ = "rthreading"
