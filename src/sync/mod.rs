//! The Python-free core: every primitive's state machine, one per file. Nothing here imports
//! pyo3; waits take an optional deadline and return whether they succeeded, so the Python layer
//! can wait in slices (for signal checks) without this layer knowing why.

pub mod condition;
pub mod lock;
pub mod queue;
pub mod rlock;

/// The calling thread's identity, the same number Python's `threading.get_ident()` returns
/// (`PyThread_get_thread_ident` is `pthread_self` on POSIX).
#[inline]
pub fn current_thread_ident() -> u64 {
    // SAFETY: pthread_self has no preconditions and cannot fail.
    unsafe { libc::pthread_self() as u64 }
}
