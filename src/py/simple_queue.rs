//! `rthreading.queue.SimpleQueue`: the wrapper over `sync::queue::simple::SimpleQueue`, with the
//! C `_queue.SimpleQueue`'s signatures and argument checks. Reentrant as the stdlib's: nothing
//! runs Python code (or drops a Python object) while the queue's mutex is held but an asyncio
//! task's waker, and a `put` made from within one is left for the waking thread to put (see the
//! core's notes), so a `put` from a finalizer or a signal handler in the middle of a `put` or a
//! `get` is safe.

use super::diagnosed::Diagnosed;
use super::fastcall::{fast_method, install};
use super::queue::{empty_error, generic_alias, lock_attached, try_lock_stepping_aside};
use super::wait::{simple_queue_timeout, wait, Given, PlaceInLine, Timeout};
use super::waiting::retry_until_deadline;
use super::waker::Waker;
use crate::sync::queue::simple::SimpleQueue as Core;
use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};
use pyo3::{PyTraverseError, PyVisit};
use std::ops::ControlFlow::{Break, Continue};

/// An unbounded first-in, first-out queue, simpler than Queue.
///
/// It has no size limit, no task tracking (task_done(), join()) and no shutdown(), and it is
/// reentrant: put() may be called from a signal handler or a finalizer that interrupts a get()
/// in the same thread.
#[pyclass(module = "rthreading.queue", name = "SimpleQueue", frozen, subclass, weakref)]
pub struct SimpleQueue {
    pub(crate) core: Core<Py<PyAny>>,
}

// Named in the diagnostics' reports of asyncio tasks' waits (`task_wait`).
impl Diagnosed for SimpleQueue {
    const KIND: &'static str = "rthreading.queue.SimpleQueue";
}

impl SimpleQueue {
    #[inline(always)]
    fn put_fast(&self, py: Python<'_>, item: &Borrowed<'_, '_, PyAny>) -> Option<Py<PyAny>> {
        let mut g = try_lock_stepping_aside(self.core.state(), Some(&|| self.core.caught_up()))?;
        self.core.put_locked(&mut g, (*item).to_owned().unbind());
        Some(py.None())
    }

    #[inline(always)]
    fn get_fast(&self) -> Option<Py<PyAny>> {
        let mut g = try_lock_stepping_aside(self.core.state(), None)?;
        self.core.get_locked(&mut g)
    }

    fn put_item(&self, py: Python<'_>, item: Bound<'_, PyAny>) {
        // From within a task's waker that this thread runs under the mutex (see the core's
        // notes): left for the waker's caller to put. (The fast entry has failed to take the
        // mutex before this.)
        if let Err(item) = self.core.put_reentrant(item.unbind()) {
            self.core.put_locked(&mut lock_attached(self.core.state(), py), item);
        }
    }

    fn get_item(&self, py: Python<'_>, timeout: Timeout) -> PyResult<Py<PyAny>> {
        let core = &self.core;
        let try_get = |()| {
            let got = core.get_locked(&mut lock_attached(core.state(), py));
            Ok(got.map_or(Continue(()), Break))
        };
        // No upper limit on the timeout, as the C `_queue.SimpleQueue`.
        let mut in_line = PlaceInLine::new(py, |p| core.leave_line(p));
        let place = in_line.place();
        let item = |left| Ok(wait(py, left, |until| core.wait_in_place(until, place).then_some(()))?.is_some());
        retry_until_deadline(timeout, (), try_get, Ok, item)?.map_err(|()| empty_error(py))
    }
}

#[pymethods]
impl SimpleQueue {
    // For `rthreading._aio`: an asyncio task's waker, woken by the next put (see `waker`).
    fn _watch(&self, py: Python<'_>, waker: &Bound<'_, Waker>) {
        waker.get().register_in(&mut lock_attached(self.core.state(), py).getters);
    }

    // For `rthreading._aio`: `get_nowait()` returning `default` instead of raising Empty.
    fn _get_or(&self, py: Python<'_>, default: Py<PyAny>) -> Py<PyAny> {
        let got = self.core.get_locked(&mut lock_attached(self.core.state(), py));
        got.unwrap_or(default)
    }

    // For tests: how many threads and tasks wait in the line for an item.
    fn _waiting(&self, py: Python<'_>) -> usize {
        lock_attached(self.core.state(), py).getters.len()
    }

    fn _unwatch(&self, py: Python<'_>, waker: &Bound<'_, Waker>) {
        waker.get().unregister_from(&mut lock_attached(self.core.state(), py).getters);
    }

    // A task woken for an item leaves without it: wakes the next, if an item is there.
    fn _pass_on(&self, py: Python<'_>) {
        self.core.pass_on_item(&mut lock_attached(self.core.state(), py));
    }

    // `SimpleQueue()` takes no arguments, unless a subclass's `__init__` wants some.
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

    /// Put item into the queue. It never blocks (the queue has no bound): block and timeout
    /// are accepted for compatibility with Queue.put() and ignored.
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

    /// Put item into the queue; the same as put(item), which never blocks either.
    fn put_nowait(&self, py: Python<'_>, item: Bound<'_, PyAny>) {
        self.put_item(py, item);
    }

    /// Remove and return an item from the queue.
    ///
    /// With block true and timeout None (the defaults), wait as long as it takes for an item.
    /// With a non-negative timeout, wait at most that many seconds, then raise Empty if no item
    /// came. With block false, return an item only if one is there right now, else raise Empty
    /// (timeout is then ignored).
    #[pyo3(signature = (block=Given::MISSING, timeout=None), text_signature = "($self, /, block=True, timeout=None)")]
    fn get(&self, py: Python<'_>, block: Given<'_, '_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let timeout = simple_queue_timeout(block.get(), timeout)?;
        self.get_item(py, timeout)
    }

    /// Remove and return an item if one is available right now; otherwise raise Empty. The same
    /// as get(block=False).
    fn get_nowait(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.get_item(py, Timeout::NonBlocking)
    }

    /// Return True if the queue is empty right now, False otherwise. Another thread may change
    /// that at once: a later get() may still block.
    fn empty(&self, py: Python<'_>) -> bool {
        lock_attached(self.core.state(), py).is_empty()
    }

    /// Return the number of items in the queue, approximately: by the time the caller looks,
    /// another thread may have put or got one.
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
