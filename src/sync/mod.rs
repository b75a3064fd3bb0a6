//! The Python-free core: every primitive's state machine, one per file. Nothing here imports
//! pyo3; waits take an optional deadline and return whether they succeeded, so the Python layer
//! can wait in slices (for signal checks) without this layer knowing why.

pub mod atomic_int;
pub mod barrier;
pub mod condition;
pub mod event;
pub mod fork;
pub mod latch;
pub mod lock;
pub mod park;
pub mod pool;
pub mod prim;
pub mod queue;
pub mod rlock;
pub mod rwlock;
pub mod semaphore;
pub mod spin;
// Diagnostics (process-wide registries in statics), not part of the loom models.
#[cfg(not(loom))]
pub mod stats;
#[cfg(not(loom))]
pub mod waitgraph;

/// How the core takes an internal mutex on a path that may run attached to a Python interpreter
/// (waking waiters, registering a condition's waiter). The Python layer passes a locker that
/// tries first and detaches only if it must wait, so it never blocks attached; Rust callers and
/// tests pass `Blocking`. Paths that only run detached (the waits themselves) lock directly.
pub trait Locker: Copy {
    fn lock<'a, T>(self, m: &'a prim::Mutex<T>) -> prim::MutexGuard<'a, T>;
}

/// Takes the mutex, blocking the thread as long as it takes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Blocking;

impl Locker for Blocking {
    #[inline]
    fn lock<'a, T>(self, m: &'a prim::Mutex<T>) -> prim::MutexGuard<'a, T> {
        m.lock()
    }
}

/// The calling thread's identity, the same number Python's `threading.get_ident()` returns
/// (a per-thread number under loom).
pub use prim::current_thread_ident;
