//! The iterator `ThreadPoolExecutor.map` returns: the items' results in input order, as the
//! stdlib's generator yields them. Each item is a native future (no Python object per item);
//! the first exception (the task's, a timeout, a cancellation, Ctrl-C) is raised when reached
//! and cancels the items not yet started, and the iterator is then exhausted. Like the stdlib's
//! generator, an iterator dropped before its first `next()` cancels nothing (the tasks run);
//! dropped after, it cancels what has not started.

use super::worker::ItemCore;
use crate::py::future::CancelledError;
use crate::py::wait::{cond_timeout, wait, Attached, Timeout};
use crate::sync::pool::future::State;
use pyo3::exceptions::PyTimeoutError;
use pyo3::prelude::*;
use pyo3::sync::MutexExt;
use pyo3::types::PyFloat;
use pyo3::{PyTraverseError, PyVisit};
use std::collections::VecDeque;
use std::sync::Arc;

struct Items {
    pending: VecDeque<Arc<ItemCore>>,
    started: bool,
}

/// The iterator `ThreadPoolExecutor.map()` returns: the results of the calls, in the order of
/// the inputs.
///
/// Each `next()` waits for the next result (releasing the interpreter; Ctrl-C interrupts it
/// on the main thread). If a call raised, its exception is raised when its result would have
/// been returned, and the calls not yet started are cancelled; the same happens with
/// TimeoutError when map's `timeout` passes.
#[pyclass(module = "rthreading._core", name = "MapIterator", frozen)]
pub(crate) struct MapIterator {
    items: parking_lot::Mutex<Items>,
    /// `time.monotonic()` by which every result must be in (`timeout=`), or None.
    end_time: Option<f64>,
}

/// Python's `time.monotonic()` (CLOCK_MONOTONIC), in seconds.
fn monotonic() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid timespec to fill; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

impl MapIterator {
    pub(crate) fn new(pending: VecDeque<Arc<ItemCore>>, end_time: Option<f64>) -> Self {
        MapIterator { items: parking_lot::Mutex::new(Items { pending, started: false }), end_time }
    }

    /// The item's result, waiting as the stdlib's `fut.result(end_time - time.monotonic())`.
    fn result_of(&self, py: Python<'_>, item: &ItemCore) -> PyResult<Py<PyAny>> {
        let mut state = item.state();
        if !state.is_done() {
            let timeout = match self.end_time {
                None => Timeout::Forever,
                Some(end) => cond_timeout(Some(PyFloat::new(py, end - monotonic()).as_any()))?,
            };
            if !matches!(timeout, Timeout::NonBlocking) {
                wait(py, timeout, |until| item.wait_until(until).then_some(()))?;
            }
            state = item.state();
        }
        match state {
            State::Finished => match item.take_outcome(Attached(py)) {
                Some(outcome) => outcome.into_result(py),
                None => Ok(py.None()),
            },
            s if s.is_cancelled() => Err(CancelledError::new_err(())),
            _ => Err(PyTimeoutError::new_err(())),
        }
    }

    /// Cancels every item not yet started and forgets them all.
    fn cancel_rest(&self, py: Python<'_>) {
        let rest = std::mem::take(&mut self.items.lock_py_attached(py).pending);
        for item in rest {
            item.cancel(Attached(py));
        }
    }
}

impl Drop for MapIterator {
    fn drop(&mut self) {
        let items = self.items.get_mut();
        if items.started && !items.pending.is_empty() {
            let rest = std::mem::take(&mut items.pending);
            Python::attach(|py| {
                for item in rest {
                    item.cancel(Attached(py));
                }
            });
        }
    }
}

#[pymethods]
impl MapIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let item = {
            let mut items = self.items.lock_py_attached(py);
            items.started = true;
            match items.pending.pop_front() {
                Some(item) => item,
                None => return Ok(None),
            }
        };
        match self.result_of(py, &item) {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                item.cancel(Attached(py));
                self.cancel_rest(py);
                Err(e)
            }
        }
    }

    // As a generator's `close()`: once iteration started, cancels what has not started.
    /// Stop the iteration: once it has started, the calls not yet started are cancelled.
    fn close(&self, py: Python<'_>) {
        let started = self.items.lock_py_attached(py).started;
        if started {
            self.cancel_rest(py);
        } else {
            self.items.lock_py_attached(py).pending.clear();
        }
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(items) = self.items.try_lock() {
            for item in &items.pending {
                item.try_visit(
                    |o| match o {
                        crate::py::future::Outcome::Value(v) | crate::py::future::Outcome::Error(v) => visit.call(v),
                    },
                    |_| Ok(()),
                )?;
            }
        }
        Ok(())
    }

    /// Never blocks: drops the results held (a task still queued runs, its result unread).
    fn __clear__(&self) {
        if let Some(mut items) = self.items.try_lock() {
            for item in items.pending.drain(..) {
                drop(item.try_take_all());
            }
        }
    }
}
