//! `rthreading.CountDownLatch`: the wrapper over `sync::latch::CountDownLatch`. `wait` reads
//! its timeout as `Event.wait` does (`cond_timeout`) and waits through `wait` (detached,
//! interruptible on the main thread).

use super::wait::{cond_timeout, wait, Attached, Timeout};
use super::waitgraph;
use crate::sync::latch::CountDownLatch as Core;
use crate::sync::waitgraph::Target;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A count that threads wait to see reach zero: `count_down()` decrements it (a no-op at zero),
/// `wait()` blocks until it is zero. A latch is used once: it does not reset. `count` must not
/// be negative (ValueError).
///
/// Every wait releases the interpreter, so other threads keep running; on the main thread a
/// wait is interrupted by Ctrl-C (the signal handler's exception propagates).
#[pyclass(module = "rthreading", name = "CountDownLatch", frozen, weakref)]
pub struct CountDownLatch {
    inner: Core,
}

#[pymethods]
impl CountDownLatch {
    #[new]
    fn new(count: i64) -> PyResult<Self> {
        let count = u64::try_from(count).map_err(|_| PyValueError::new_err("count must be a non-negative integer"))?;
        Ok(CountDownLatch { inner: Core::new(count) })
    }

    /// Decrements the count, waking every waiting thread when it reaches zero; at zero it does
    /// nothing.
    fn count_down(&self, py: Python<'_>) {
        self.inner.count_down(Attached(py));
    }

    /// Blocks until the count is zero or the timeout (seconds, None: no limit) passes; returns
    /// whether the count is zero.
    ///
    /// The wait releases the interpreter. On the main thread, Ctrl-C interrupts it: the
    /// signal handler's exception propagates.
    #[pyo3(signature = (timeout = None))]
    fn wait(slf: &Bound<'_, Self>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        let (this, py) = (slf.get(), slf.py());
        if this.inner.count() == 0 {
            return Ok(true);
        }
        let timeout = cond_timeout(timeout)?;
        if let Timeout::NonBlocking = timeout {
            return Ok(this.inner.count() == 0);
        }
        let inner = &this.inner;
        // Listed by rthreading.dump() while it waits (a latch has no owner: never in a cycle).
        let target = Target { owner: None, tag: slf.as_ptr() as usize, kind: "rthreading.CountDownLatch" };
        let _registered = waitgraph::enter_quietly(py, target, !matches!(timeout, Timeout::Forever));
        Ok(wait(py, timeout, |until| inner.wait_until(until).then_some(()))?.is_some())
    }

    /// The current count.
    #[getter]
    fn count(&self) -> u64 {
        self.inner.count()
    }

    fn __repr__(slf: &Bound<'_, Self>) -> String {
        format!("<rthreading.CountDownLatch at {:#x}: count={}>", slf.as_ptr() as usize, slf.get().inner.count())
    }
}
