//! `rthreading.Lock`: the wrapper over `sync::lock::Lock`.

use super::diagnosed::Diagnosed;
use super::fastcall::{fast_method, install, py_true};
use super::stats;
use super::wait::{lock_timeout, Timeout};
use super::waiting::{instrumented, instrumented_uninterruptibly, Count};
use crate::sync::current_thread_ident;
use crate::sync::lock::Lock as CoreLock;
use crate::sync::stats::Slot;
use crate::sync::waitgraph::Target;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyType;

#[pyclass(module = "rthreading", name = "Lock", frozen, weakref)]
#[derive(Default)]
pub struct Lock {
    pub(crate) inner: CoreLock,
    /// Contention counters, when tracked (see `stats`).
    pub(crate) stats: Slot,
}

pub(crate) const KIND: &str = "rthreading.Lock";

impl Diagnosed for Lock {
    const KIND: &'static str = KIND;

    fn counters(&self) -> Option<&Slot> {
        Some(&self.stats)
    }

    fn lock_state(&self) -> Option<(bool, u64)> {
        Some((self.inner.locked(), self.inner.owner()))
    }
}

impl Lock {
    /// Acquire: one try attached, then a wait detached, interruptible on the main thread.
    /// `tag` is this lock's Python object (for the wait-for graph).
    #[inline]
    pub(crate) fn acquire_timeout(&self, py: Python<'_>, tag: usize, timeout: Timeout) -> PyResult<bool> {
        if self.inner.try_acquire() {
            self.stats.hit();
            return Ok(true);
        }
        if timeout.is_zero() {
            return Ok(false); // `acquire(False)` on a held lock: no detach, no parking
        }
        self.acquire_slow(py, tag, timeout)
    }

    #[inline(never)]
    fn acquire_slow(&self, py: Python<'_>, tag: usize, timeout: Timeout) -> PyResult<bool> {
        let me = current_thread_ident();
        let inner = &self.inner;
        let count = Count::Acquire(&self.stats);
        let got = instrumented(py, self.target(tag), timeout, count, |until| {
            inner.acquire_until_as(me, until).then_some(())
        })?;
        Ok(got.is_some())
    }

    /// Re-acquires after a Condition's wait: as long as it takes, not interruptible.
    pub(crate) fn acquire_restore(&self, py: Python<'_>, tag: usize) -> PyResult<()> {
        if self.inner.try_acquire() {
            self.stats.hit();
            return Ok(());
        }
        let me = current_thread_ident();
        let inner = &self.inner;
        instrumented_uninterruptibly(py, self.target(tag), &self.stats, |until| {
            inner.acquire_until_as(me, until).then_some(())
        })
    }

    fn target(&self, tag: usize) -> Target<'_> {
        Target { owner: Some(self.inner.owner_word()), tag, kind: KIND }
    }

    #[inline]
    pub(crate) fn release_or_err(&self) -> PyResult<()> {
        if self.inner.release() {
            Ok(())
        } else {
            Err(PyRuntimeError::new_err("release unlocked lock"))
        }
    }
}

#[pymethods]
impl Lock {
    /// With statistics on, the new lock is tracked (with the creating call site).
    #[new]
    fn new(py: Python<'_>) -> PyResult<Py<Self>> {
        let lock = Py::new(py, Lock::default())?;
        if crate::sync::stats::enabled() {
            stats::on_create(lock.bind(py).as_any(), &lock.get().stats, KIND)?;
        }
        Ok(lock)
    }

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

    /// Same as `acquire()`: the stdlib's deprecated alias.
    #[pyo3(signature = (blocking=super::wait::Given::MISSING, timeout=super::wait::Given::MISSING), text_signature = "($self, /, blocking=True, timeout=-1)")]
    fn acquire_lock(
        slf: &Bound<'_, Self>,
        blocking: super::wait::Given<'_, '_>,
        timeout: super::wait::Given<'_, '_>,
    ) -> PyResult<bool> {
        Self::acquire(slf, blocking, timeout)
    }

    fn __enter__(slf: &Bound<'_, Self>) -> PyResult<bool> {
        slf.get().acquire_timeout(slf.py(), slf.as_ptr() as usize, Timeout::Forever)
    }

    fn release(&self) -> PyResult<()> {
        self.release_or_err()
    }

    fn release_lock(&self) -> PyResult<()> {
        self.release_or_err()
    }

    /// The stdlib's takes `*args`; optional parameters accept `__exit__()` too without the cost
    /// of a tuple on every `with`.
    #[pyo3(signature = (_t=None, _v=None, _tb=None))]
    fn __exit__(
        &self,
        _t: Option<&Bound<'_, PyAny>>,
        _v: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        self.release_or_err()
    }

    fn locked(&self) -> bool {
        self.inner.locked()
    }

    fn locked_lock(&self) -> bool {
        self.inner.locked()
    }

    fn _at_fork_reinit(&self) {
        self.inner.reinit();
    }

    /// The stdlib's repr, plus the thread that acquired a locked lock: `owner=<ident>`.
    fn __repr__(slf: &Bound<'_, Self>) -> String {
        let inner = &slf.get().inner;
        let owner = inner.owner();
        if inner.locked() && owner != 0 {
            format!("<locked rthreading.Lock object owner={owner} at {:#x}>", slf.as_ptr() as usize)
        } else {
            let state = if inner.locked() { "locked" } else { "unlocked" };
            format!("<{state} rthreading.Lock object at {:#x}>", slf.as_ptr() as usize)
        }
    }
}

impl Lock {
    /// The fast entries' acquire: one try, counted when tracked.
    #[inline(always)]
    pub(crate) fn try_fast(&self) -> bool {
        let ok = self.inner.try_acquire();
        if ok {
            self.stats.hit();
        }
        ok
    }
}

fast_method!(AcquireFast, Lock, c"acquire", 0, |lock, py| lock.try_fast().then(|| py_true(py)));
fast_method!(EnterFast, Lock, c"__enter__", 0, |lock, py| lock.try_fast().then(|| py_true(py)));
fast_method!(ReleaseFast, Lock, c"release", 0, |lock, py| lock.inner.release().then(|| py.None()));
fast_method!(ExitFast, Lock, c"__exit__", 3, |lock, py| lock.inner.release().then(|| py.None()));

/// The uncontended acquire and release skip PyO3's argument handling (see `fastcall`).
pub(crate) fn install_fast_paths(ty: &Bound<'_, PyType>) -> PyResult<()> {
    install::<AcquireFast>(ty)?;
    install::<EnterFast>(ty)?;
    install::<ReleaseFast>(ty)?;
    install::<ExitFast>(ty)
}
