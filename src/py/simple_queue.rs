//! `rthreading.queue.SimpleQueue`: the wrapper over `sync::queue::simple::SimpleQueue`, with the
//! C `_queue.SimpleQueue`'s signatures and argument checks. Reentrant as the stdlib's: nothing
//! runs Python code (or drops a Python object) while the queue's mutex is held, so a `put` from
//! a finalizer or a signal handler in the middle of a `get` is safe.

use super::fastcall::{fast_method, install};
use super::queue::{empty_error, generic_alias, lock_attached};
use super::wait::{simple_queue_timeout, wait, Given, Timeout};
use crate::sync::queue::simple::SimpleQueue as Core;
use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};
use pyo3::{PyTraverseError, PyVisit};
use std::time::Instant;

/// Simple, unbounded, reentrant FIFO queue.
#[pyclass(module = "rthreading.queue", name = "SimpleQueue", frozen, subclass, weakref)]
pub struct SimpleQueue {
    pub(crate) core: Core<Py<PyAny>>,
}

impl SimpleQueue {
    #[inline(always)]
    fn put_fast(&self, py: Python<'_>, item: &Borrowed<'_, '_, PyAny>) -> Option<Py<PyAny>> {
        let mut g = self.core.state().try_lock()?;
        self.core.put_locked(&mut g, (*item).to_owned().unbind());
        Some(py.None())
    }

    #[inline(always)]
    fn get_fast(&self) -> Option<Py<PyAny>> {
        let mut g = self.core.state().try_lock()?;
        self.core.get_locked(&mut g)
    }

    fn put_item(&self, py: Python<'_>, item: Bound<'_, PyAny>) {
        let mut g = lock_attached(self.core.state(), py);
        self.core.put_locked(&mut g, item.unbind());
    }

    fn get_item(&self, py: Python<'_>, timeout: Timeout) -> PyResult<Py<PyAny>> {
        let deadline = timeout.deadline();
        loop {
            let got = self.core.get_locked(&mut lock_attached(self.core.state(), py));
            if let Some(item) = got {
                return Ok(item);
            }
            let remaining = match (timeout, deadline) {
                (Timeout::NonBlocking, _) => return Err(empty_error(py)),
                (_, None) => Timeout::Forever,
                (_, Some(d)) => Timeout::After(d.saturating_duration_since(Instant::now())),
            };
            let core = &self.core;
            if wait(py, remaining, |until| core.wait_not_empty(until).then_some(()))?.is_none() {
                return Err(empty_error(py));
            }
        }
    }
}

#[pymethods]
impl SimpleQueue {
    /// `SimpleQueue()` takes no arguments, unless a subclass's `__init__` wants some.
    #[new]
    #[classmethod]
    #[pyo3(signature = (*args, **kwargs))]
    fn new(cls: &Bound<'_, PyType>, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let py = cls.py();
        let base = py.get_type::<SimpleQueue>();
        let own_init =
            !cls.is(&base) && !cls.getattr(intern!(py, "__init__"))?.is(&base.getattr(intern!(py, "__init__"))?);
        if !own_init {
            if !args.is_empty() {
                return Err(PyTypeError::new_err("SimpleQueue() takes no positional arguments"));
            }
            if kwargs.is_some_and(|k| !k.is_empty()) {
                return Err(PyTypeError::new_err("SimpleQueue() takes no keyword arguments"));
            }
        }
        Ok(SimpleQueue { core: Core::new() })
    }

    /// Put the item on the queue; `block` and `timeout` are accepted and ignored (never blocks).
    #[pyo3(signature = (item, block=Given::MISSING, timeout=None), text_signature = "($self, /, item, block=True, timeout=None)")]
    fn put(
        &self,
        py: Python<'_>,
        item: Bound<'_, PyAny>,
        block: Given<'_, '_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let _ = timeout;
        if let Some(b) = block.get() {
            b.is_truthy()?; // the C signature converts it to a bool
        }
        self.put_item(py, item);
        Ok(())
    }

    /// Put an item into the queue without blocking (the same as put(item)).
    fn put_nowait(&self, py: Python<'_>, item: Bound<'_, PyAny>) {
        self.put_item(py, item);
    }

    /// Remove and return an item from the queue (the arguments as for Queue.get).
    #[pyo3(signature = (block=Given::MISSING, timeout=None), text_signature = "($self, /, block=True, timeout=None)")]
    fn get(&self, py: Python<'_>, block: Given<'_, '_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let timeout = simple_queue_timeout(block.get(), timeout)?;
        self.get_item(py, timeout)
    }

    /// Remove and return an item from the queue without blocking (Empty if none).
    fn get_nowait(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.get_item(py, Timeout::NonBlocking)
    }

    /// Return True if the queue is empty, False otherwise (not reliable!).
    fn empty(&self, py: Python<'_>) -> bool {
        lock_attached(self.core.state(), py).is_empty()
    }

    /// Return the approximate size of the queue (not reliable!).
    fn qsize(&self, py: Python<'_>) -> usize {
        lock_attached(self.core.state(), py).len()
    }

    #[classmethod]
    fn __class_getitem__<'py>(cls: &Bound<'py, PyType>, item: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        generic_alias(cls, item)
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(g) = self.core.state().try_lock() {
            for x in g.iter() {
                visit.call(x)?;
            }
        }
        Ok(())
    }

    fn __clear__(&self) {
        let held = self.core.state().try_lock().map(|mut g| g.take_all());
        drop(held); // unlocked first: a finalizer may use the queue
    }
}

fast_method!(PutFast, SimpleQueue, c"put", 1, |q, py, args| q.put_fast(py, &args[0]));
fast_method!(PutNowaitFast, SimpleQueue, c"put_nowait", 1, |q, py, args| q.put_fast(py, &args[0]));
fast_method!(GetFast, SimpleQueue, c"get", 0, |q, _py| q.get_fast());
fast_method!(GetNowaitFast, SimpleQueue, c"get_nowait", 0, |q, _py| q.get_fast());

/// The uncontended put/get skip PyO3's argument handling (see `fastcall`).
pub(crate) fn install_fast_paths(ty: &Bound<'_, PyType>) -> PyResult<()> {
    install::<PutFast>(ty)?;
    install::<PutNowaitFast>(ty)?;
    install::<GetFast>(ty)?;
    install::<GetNowaitFast>(ty)
}
