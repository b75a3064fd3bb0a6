//! The one native piece of `rthreading.Thread`, used on CPython < 3.13 only (from 3.13 on the
//! stdlib's `Thread` joins in C, detached and interruptible, and rthreading re-exports it).
//!
//! Before 3.13, `Thread.join()` waits for the thread's end by acquiring the thread-state lock
//! that the interpreter releases when the thread is gone, then releasing it, in Python:
//! `if lock.acquire(block, timeout): lock.release(); self._stop()`. A signal handler may raise
//! (Ctrl-C) at a bytecode boundary between the acquire and the release, so the stdlib guesses
//! after an exception whether it had acquired the lock (`if lock.locked(): release; _stop()`),
//! and guesses wrong when the lock is held because the thread is still running: the thread is
//! marked dead and its lock released under it (CPython gh-90882; `is_alive()` is False, a
//! second `join()` returns at once, the exit-time join of non-daemon threads skips it).
//! `acquire_and_release` makes the pair one call: no bytecode runs between the two, so an
//! exception means "not acquired" and "acquired" is always followed by the release.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// `lock.acquire(*args)` and, if that succeeded, `lock.release()`, with no Python code in
/// between. Returns whether the lock was acquired; an exception raised by the acquire (a signal
/// handler's, while it waited) propagates with the lock not held. The arguments are passed on
/// as they are, so they are checked exactly as the stdlib's join checks them.
///
/// The wait is the lock's own (`_thread.lock.acquire` releases the GIL, and runs the signal
/// handlers when a signal interrupts it); this function is only used where the GIL exists.
#[pyfunction]
#[pyo3(signature = (lock, *args))]
pub fn _acquire_and_release(lock: &Bound<'_, PyAny>, args: &Bound<'_, PyTuple>) -> PyResult<bool> {
    let py = lock.py();
    let acquired = lock.call_method1(intern!(py, "acquire"), args)?.is_truthy()?;
    if acquired {
        lock.call_method0(intern!(py, "release"))?;
    }
    Ok(acquired)
}
