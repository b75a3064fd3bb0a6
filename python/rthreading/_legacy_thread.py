"""Thread and Timer for CPython before 3.13, where the stdlib's join mistreats a thread whose
join() was interrupted (Ctrl-C): rthreading imports these there, and the stdlib's own classes
from 3.13 on.

Before 3.13, ``Thread.join()`` waits in ``_wait_for_tstate_lock``: it acquires the lock the
interpreter releases when the thread is gone, then releases it again, in Python. A signal
handler can raise between the two, so on an exception the stdlib guesses whether it held the
lock (``if lock.locked(): lock.release(); self._stop()``) and guesses wrong while the thread is
still running and holds it: the running thread is marked dead and its lock released under it
(CPython gh-90882). Then ``is_alive()`` is False, a second ``join()`` returns at once, and at
exit the interpreter does not wait for that (non-daemon) thread.

This ``Thread`` is the stdlib's with that one method replaced: the acquire and the release are
one native call (``_acquire_and_release``), so an exception means the lock was not acquired and
nothing needs guessing. Everything else is inherited; instances are ``threading.Thread``
instances, registered, named, hooked and joined at exit by the stdlib's own machinery.
"""

import threading as _threading

from rthreading._core import _acquire_and_release


class Thread(_threading.Thread):
    __doc__ = _threading.Thread.__doc__

    def _wait_for_tstate_lock(self, block=True, timeout=-1):
        # The stdlib's method (3.11/3.12) without its guess in `except:`. If a signal handler
        # raises after the call returned True and before _stop() ran, the lock is free again:
        # the next is_alive()/join() acquires it at once and calls _stop() then.
        lock = self._tstate_lock
        if lock is None:
            # already determined that the C code is done
            assert self._is_stopped
            return
        if _acquire_and_release(lock, block, timeout):
            self._stop()


class Timer(Thread, _threading.Timer):
    __doc__ = _threading.Timer.__doc__


Thread.__module__ = Timer.__module__ = "rthreading"
