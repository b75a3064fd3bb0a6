//! `rthreading.RLock`: the wrapper over `sync::rlock::RLock`, with the private hooks
//! (`_is_owned`, `_release_save`, `_acquire_restore`) that the stdlib's Condition uses.

use super::bound::{self, HasWithSlots, WithSlots};
use super::diagnosed::Diagnosed;
use super::fastcall::{fast_method, install, py_true};
use super::stats;
use super::wait::{lock_timeout, PlaceInLine, Timeout};
use super::waiting::{instrumented, instrumented_uninterruptibly, Count};
use crate::sync::current_thread_ident;
use crate::sync::rlock::RLock as CoreRLock;
use crate::sync::stats::Slot;
use crate::sync::waitgraph::Target;
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};
use std::time::Instant;

/// A reentrant lock: the drop-in for `threading.RLock`.
///
/// A reentrant lock is owned by the thread that acquired it, which may acquire it again
/// without blocking; it must release it once for each time it acquired it. Only the owning
/// thread may release it. Use it as a context manager (`with rlock:`).
///
/// Every wait releases the interpreter, so other threads keep running; on the main thread a
/// wait is interrupted by Ctrl-C (an exception raised by a signal handler propagates, the
/// lock not acquired). A thread blocked here is listed by `rthreading.dump()` and
/// `rthreading.find_deadlocks()`.
#[pyclass(module = "rthreading", name = "RLock", frozen, weakref)]
#[derive(Default)]
pub struct RLock {
    pub(crate) inner: CoreRLock,
    /// Contention counters, when tracked (see `stats`).
    pub(crate) stats: Slot,
    /// The memory of its bound `__enter__`/`__exit__` (see `bound`).
    with_slots: WithSlots,
}

impl HasWithSlots for RLock {
    fn with_slots(&self) -> &WithSlots {
        &self.with_slots
    }
}

pub(crate) const KIND: &str = "rthreading.RLock";

impl Diagnosed for RLock {
    const KIND: &'static str = KIND;

    fn counters(&self) -> Option<&Slot> {
        Some(&self.stats)
    }

    fn lock_state(&self) -> Option<(bool, u64)> {
        Some((self.inner.locked(), self.inner.owner()))
    }
}

fn not_owned() -> PyErr {
    PyRuntimeError::new_err("cannot release un-acquired lock")
}

impl RLock {
    /// `tag` is this lock's Python object (for the wait-for graph).
    pub(crate) fn acquire_timeout(&self, py: Python<'_>, tag: usize, timeout: Timeout) -> PyResult<bool> {
        let me = current_thread_ident();
        if self.inner.try_acquire(me) {
            self.stats.hit();
            return Ok(true);
        }
        if timeout.is_zero() {
            return Ok(false);
        }
        self.acquire_slow(py, me, tag, timeout)
    }

    #[inline(never)]
    fn acquire_slow(&self, py: Python<'_>, me: u64, tag: usize, timeout: Timeout) -> PyResult<bool> {
        let inner = &self.inner;
        let count = Count::Acquire(&self.stats);
        let mut in_line = PlaceInLine::new(py, |p| inner.leave_line(p));
        let place = in_line.place();
        let got = instrumented(py, self.target(tag), timeout, count, |until| {
            inner.acquire_in_place(me, 1, until, place).then_some(())
        })?;
        Ok(got.is_some())
    }

    fn target(&self, tag: usize) -> Target<'_> {
        Target { owner: Some(self.inner.owner_word()), tag, kind: KIND }
    }

    /// The fast entries' acquire: one try, counted when tracked.
    #[inline(always)]
    pub(crate) fn try_fast(&self) -> bool {
        let ok = self.inner.try_acquire(current_thread_ident());
        if ok {
            self.stats.hit();
        }
        ok
    }

    #[inline]
    pub(crate) fn release_checked(&self) -> PyResult<()> {
        self.inner.release(current_thread_ident()).map_err(|_| not_owned())
    }

    /// Releases every level; returns the depth (for a Condition's wait).
    pub(crate) fn release_save_count(&self) -> PyResult<usize> {
        self.inner.release_all(current_thread_ident()).map_err(|_| not_owned())
    }

    /// Re-acquires with the saved depth, waiting as long as it takes; a signal handler's
    /// exception raised meanwhile is returned after the lock is held again.
    pub(crate) fn acquire_restore_count(&self, py: Python<'_>, tag: usize, count: usize) -> PyResult<()> {
        let me = current_thread_ident();
        let inner = &self.inner;
        if inner.acquire_until_with_count(me, count, Some(Instant::now())) {
            self.stats.hit();
            return Ok(());
        }
        let mut in_line = PlaceInLine::new(py, |p| inner.leave_line(p));
        let place = in_line.place();
        instrumented_uninterruptibly(py, self.target(tag), &self.stats, |until| {
            inner.acquire_in_place(me, count, until, place).then_some(())
        })
    }
}

#[pymethods]
impl RLock {
    #[new]
    #[pyo3(signature = (*args, **kwargs))]
    fn new(py: Python<'_>, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Py<Self>> {
        // 3.13's threading.RLock: arguments are ignored, with a warning.
        if py.version_info() >= (3, 13) && (!args.is_empty() || kwargs.is_some_and(|k| !k.is_empty())) {
            let warning = py.get_type::<pyo3::exceptions::PyDeprecationWarning>();
            PyErr::warn(py, &warning, c"Passing arguments to RLock is deprecated and will be removed in 3.15", 1)?;
        }
        Self::create(py)
    }

    /// Acquire the lock, blocking or not; return True if it was acquired.
    ///
    /// If the calling thread owns the lock already, its recursion level goes up by one and
    /// True is returned at once. If another thread owns it, wait until it is unlocked (with
    /// `blocking` true, the default), then take ownership with a recursion level of one.
    /// With `blocking` false, never wait: return False at once if another thread owns it. A
    /// positive `timeout` (in seconds) bounds the wait, returning False if the lock could not
    /// be acquired in that time; -1 (the default) waits without limit. A timeout may not be
    /// given with `blocking` false (ValueError).
    ///
    /// The wait releases the interpreter. On the main thread, Ctrl-C interrupts it: the
    /// signal handler's exception (KeyboardInterrupt) propagates with the lock not acquired.
    #[pyo3(signature = (blocking=super::wait::Given::MISSING, timeout=super::wait::Given::MISSING), text_signature = "($self, /, blocking=True, timeout=-1)")]
    fn acquire(
        slf: &Bound<'_, Self>,
        blocking: super::wait::Given<'_, '_>,
        timeout: super::wait::Given<'_, '_>,
    ) -> PyResult<bool> {
        let timeout = if blocking.get().is_none() && timeout.get().is_none() {
            Timeout::Forever
        } else {
            lock_timeout(blocking.get(), timeout.get())?
        };
        slf.get().acquire_timeout(slf.py(), slf.as_ptr() as usize, timeout)
    }

    /// Acquire the lock, waiting as long as it takes (as `acquire()` does): the start of a
    /// `with` block.
    fn __enter__(slf: &Bound<'_, Self>) -> PyResult<bool> {
        slf.get().acquire_timeout(slf.py(), slf.as_ptr() as usize, Timeout::Forever)
    }

    /// Release the lock, decrementing the recursion level.
    ///
    /// When the level reaches zero the lock becomes unlocked, and if threads are waiting to
    /// acquire it, exactly one of them proceeds; otherwise the calling thread keeps owning
    /// it. Only the owning thread may call this: RuntimeError is raised if the calling thread
    /// does not own the lock. Returns None.
    fn release(&self) -> PyResult<()> {
        self.release_checked()
    }

    // `*args`, as the stdlib's: the tuple is made only off the fast entry (`ExitFast`), which
    // takes the three arguments of a `with`.
    /// Release the lock once (as `release()` does): the end of a `with` block. The exception
    /// details are ignored.
    #[pyo3(signature = (*_exc_info), text_signature = "($self, /, *exc_info)")]
    fn __exit__(&self, _exc_info: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<()> {
        self.release_checked()
    }

    /// Return True if the lock is acquired (by any thread).
    fn locked(&self) -> bool {
        self.inner.locked()
    }

    // For tests: how many threads wait in line for it.
    fn _waiting(&self) -> usize {
        self.inner.waiting()
    }

    fn _is_owned(&self) -> bool {
        self.inner.is_owned_by(current_thread_ident())
    }

    fn _recursion_count(&self) -> usize {
        self.inner.recursion_count(current_thread_ident())
    }

    // Releases every level; returns `(count, owner)` as CPython's RLock does.
    fn _release_save(&self) -> PyResult<(usize, u64)> {
        let me = current_thread_ident();
        if self.inner.recursion_count(me) == 0 {
            return Err(not_owned());
        }
        let count = self.release_save_count()?;
        Ok((count, me))
    }

    fn _acquire_restore(slf: &Bound<'_, Self>, state: &Bound<'_, PyAny>) -> PyResult<()> {
        Self::acquire_restore_state(slf, state)
    }

    fn _at_fork_reinit(&self) {
        self.inner.reinit();
    }

    fn __repr__(slf: &Bound<'_, Self>) -> String {
        let inner = &slf.get().inner;
        let (owner, count) = inner.state();
        let state = if inner.locked() { "locked" } else { "unlocked" };
        format!("<{state} rthreading.RLock object owner={owner} count={count} at {:#x}>", slf.as_ptr() as usize)
    }
}

impl RLock {
    /// `_acquire_restore(state)`, `state` as `_release_save` returned it (also a Condition's
    /// `_acquire_restore` over this lock).
    pub(crate) fn acquire_restore_state(slf: &Bound<'_, Self>, state: &Bound<'_, PyAny>) -> PyResult<()> {
        let (count, _owner): (usize, u64) = state
            .extract()
            .map_err(|_| PyTypeError::new_err("_acquire_restore() argument must be a (count, owner) tuple"))?;
        slf.get().acquire_restore_count(slf.py(), slf.as_ptr() as usize, count.max(1))
    }

    /// A new RLock, tracked (with the creating call site) when statistics are on.
    pub(crate) fn create(py: Python<'_>) -> PyResult<Py<Self>> {
        let lock = Py::new(py, RLock::default())?;
        if crate::sync::stats::enabled() {
            stats::on_create(lock.bind(py).as_any(), &lock.get().stats, KIND)?;
        }
        Ok(lock)
    }
}

fast_method!(AcquireFast, RLock, c"acquire", 0, |r, py| r.try_fast().then(|| py_true(py)));
fast_method!(EnterFast, RLock, c"__enter__", 0, |r, py| r.try_fast().then(|| py_true(py)));
fast_method!(ReleaseFast, RLock, c"release", 0, |r, py| r
    .inner
    .release(current_thread_ident())
    .is_ok()
    .then(|| py.None()));
fast_method!(ExitFast, RLock, c"__exit__", 3, |r, py| r
    .inner
    .release(current_thread_ident())
    .is_ok()
    .then(|| py.None()));

/// The uncontended acquire and release skip PyO3's argument handling (see `fastcall`).
pub(crate) fn install_fast_paths(ty: &Bound<'_, PyType>) -> PyResult<()> {
    install::<AcquireFast>(ty)?;
    install::<EnterFast>(ty)?;
    install::<ReleaseFast>(ty)?;
    install::<ExitFast>(ty)?;
    bound::install::<RLock, 0>(ty)?;
    bound::install::<RLock, 1>(ty)
}
