//! A queue's internal mutex, taken while attached: try it, spin a little, and detach only to
//! wait for it (rule 1: never block while attached).

use parking_lot::MutexGuard;
use pyo3::prelude::*;

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

/// A few tries for a mutex held briefly by another thread, yielding the CPU before each: the
/// holder (or another thread of this CPU) runs meanwhile, and this thread does not touch the
/// mutex's cache line until it looks again.
#[cold]
fn try_lock_spinning<T>(m: &parking_lot::Mutex<T>) -> Option<MutexGuard<'_, T>> {
    for _ in 0..YIELDS {
        std::thread::yield_now();
        if !m.is_locked() {
            if let Some(g) = m.try_lock() {
                return Some(g);
            }
        }
    }
    None
}

// Two yields: a few hundred nanoseconds each when this CPU has nothing else to run, the time a
// put or get holds the mutex many times over, far less than a detach, a park and a wake-up.
// Not a pause loop polling the mutex: each look pulls the mutex's cache line away from its
// holder, whose unlock must then take it back, and with 2 producers and 2 consumers on 2 CPUs
// the handing of that line back and forth was most of the cost (2P2C `SimpleQueue`: ~200 ns
// per item with a loop of 1, 2, ..., 32 pauses, ~135 ns yielding; 1, 2, 4 or 8 yields alike).
const YIELDS: u32 = 2;

#[cold]
fn lock_contended<'a, T>(m: &'a parking_lot::Mutex<T>, py: Python<'_>) -> MutexGuard<'a, T> {
    try_lock_spinning(m).unwrap_or_else(|| crate::py::wait::lock_attached(m, py))
}
