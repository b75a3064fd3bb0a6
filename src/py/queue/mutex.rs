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

/// A few tries, pausing in between, for a mutex held briefly by another thread.
#[cold]
fn try_lock_spinning<T>(m: &parking_lot::Mutex<T>) -> Option<MutexGuard<'_, T>> {
    for round in 0..3 {
        for _ in 0..1u32 << round {
            std::hint::spin_loop();
        }
        if let Some(g) = m.try_lock() {
            return Some(g);
        }
    }
    None
}

#[cold]
fn lock_contended<'a, T>(m: &'a parking_lot::Mutex<T>, py: Python<'_>) -> MutexGuard<'a, T> {
    try_lock_spinning(m).unwrap_or_else(|| m.lock_py_attached(py))
}
