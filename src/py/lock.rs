//! `rthreading.Lock`: the wrapper over `sync::lock::Lock`.

use super::fastcall::{fast_method, install, py_true};
use super::wait::{lock_timeout, wait, Timeout};
use crate::sync::lock::Lock as CoreLock;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyType;

#[pyclass(module = "rthreading", name = "Lock", frozen, weakref)]
#[derive(Default)]
pub struct Lock {
    pub(crate) inner: CoreLock,
}

impl Lock {
    /// Acquire: one try attached, then a wait detached, interruptible on the main thread.
    #[inline]
    pub(crate) fn acquire_timeout(&self, py: Python<'_>, timeout: Timeout) -> PyResult<bool> {
        if self.inner.try_acquire() {
            return Ok(true);
        }
        if timeout.is_zero() {
            return Ok(false); // `acquire(False)` on a held lock: no detach, no parking
        }
        let inner = &self.inner;
        Ok(wait(py, timeout, |until| inner.acquire_until(until).then_some(()))?.is_some())
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
    #[new]
    fn new() -> Self {
        Lock { inner: CoreLock::new() }
    }

    #[pyo3(signature = (blocking=super::wait::Given::MISSING, timeout=super::wait::Given::MISSING), text_signature = "($self, /, blocking=True, timeout=-1)")]
    fn acquire(&self, py: Python<'_>, blocking: super::wait::Given<'_, '_>, timeout: super::wait::Given<'_, '_>) -> PyResult<bool> {
        let timeout = if blocking.get().is_none() && timeout.get().is_none() {
            Timeout::Forever
        } else {
            lock_timeout(blocking.get(), timeout.get())?
        };
        self.acquire_timeout(py, timeout)
    }

    /// Same as `acquire()`: the stdlib's deprecated alias.
    #[pyo3(signature = (blocking=super::wait::Given::MISSING, timeout=super::wait::Given::MISSING), text_signature = "($self, /, blocking=True, timeout=-1)")]
    fn acquire_lock(&self, py: Python<'_>, blocking: super::wait::Given<'_, '_>, timeout: super::wait::Given<'_, '_>) -> PyResult<bool> {
        self.acquire(py, blocking, timeout)
    }

    fn __enter__(&self, py: Python<'_>) -> PyResult<bool> {
        self.acquire_timeout(py, Timeout::Forever)
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
    fn __exit__(&self, _t: Option<&Bound<'_, PyAny>>, _v: Option<&Bound<'_, PyAny>>, _tb: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
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

    fn __repr__(slf: &Bound<'_, Self>) -> String {
        let state = if slf.get().inner.locked() { "locked" } else { "unlocked" };
        format!("<{state} rthreading.Lock object at {:#x}>", slf.as_ptr() as usize)
    }
}

fast_method!(AcquireFast, Lock, c"acquire", 0, |lock, py| lock.inner.try_acquire().then(|| py_true(py)));
fast_method!(EnterFast, Lock, c"__enter__", 0, |lock, py| lock.inner.try_acquire().then(|| py_true(py)));
fast_method!(ReleaseFast, Lock, c"release", 0, |lock, py| lock.inner.release().then(|| py.None()));
fast_method!(ExitFast, Lock, c"__exit__", 3, |lock, py| lock.inner.release().then(|| py.None()));

/// The uncontended acquire and release skip PyO3's argument handling (see `fastcall`).
pub(crate) fn install_fast_paths(ty: &Bound<'_, PyType>) -> PyResult<()> {
    install::<AcquireFast>(ty)?;
    install::<EnterFast>(ty)?;
    install::<ReleaseFast>(ty)?;
    install::<ExitFast>(ty)
}
