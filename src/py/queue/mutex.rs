//! A queue's internal mutex, taken while attached: try it, spin a little, and detach only to
//! wait for it (rule 1: never block while attached).

use parking_lot::MutexGuard;
use pyo3::prelude::*;
use pyo3::sync::MutexExt;

/// Takes a queue's mutex while attached: it is only ever held for a few instructions, so look
/// for it a few times (spinning, not blocking) before detaching to wait for it.
#[inline]
pub(crate) fn lock_attached<'a, T>(m: &'a parking_lot::Mutex<T>, py: Python<'_>) -> MutexGuard<'a, T> {
    if let Some(g) = m.try_lock() {
        return g;
    }
    lock_contended(m, py)
}

/// The mutex if it is free now or within a short spin, without ever waiting for it: for the
/// fast entries (`fastcall`), which hand the call to the full method when this fails. With
/// several producers and consumers on one queue the mutex is often held for the few
/// instructions of another put or get; giving up at the first try sent each such call through
/// PyO3's argument handling and a detach, which cost more than the wait.
#[inline(always)]
pub(crate) fn try_lock_briefly<T>(m: &parking_lot::Mutex<T>) -> Option<MutexGuard<'_, T>> {
    m.try_lock().or_else(|| try_lock_spinning(m))
}

/// A few tries, pausing in between, for a mutex held briefly by another thread; looks before
/// each try, so that waiting threads only read the mutex's cache line until it is free.
#[cold]
fn try_lock_spinning<T>(m: &parking_lot::Mutex<T>) -> Option<MutexGuard<'_, T>> {
    for round in 0..SPIN_ROUNDS {
        for _ in 0..1u32 << round {
            std::hint::spin_loop();
        }
        if !m.is_locked() {
            if let Some(g) = m.try_lock() {
                return Some(g);
            }
        }
    }
    None
}

// 1 + 2 + ... + 32 pauses: a few hundred nanoseconds to a microsecond or two, the time a put
// or get holds the mutex many times over, far less than a detach, a park and a wake-up.
const SPIN_ROUNDS: u32 = 6;

#[cold]
fn lock_contended<'a, T>(m: &'a parking_lot::Mutex<T>, py: Python<'_>) -> MutexGuard<'a, T> {
    try_lock_spinning(m).unwrap_or_else(|| m.lock_py_attached(py))
}
