//! `rthreading.Event`: the wrapper over `sync::event::Event`. `wait()` on a set event is one
//! atomic load before anything else; blocking waits go through `wait` with the stdlib's
//! `Condition.wait` timeout semantics (`cond_timeout`).

use super::diagnosed::Diagnosed;
use super::wait::{cond_timeout, Attached, Timeout};
use super::waiting::{instrumented, Count};
use super::waker::Waker;
use crate::sync::event::Event as CoreEvent;
use crate::sync::waitgraph::Target;
use pyo3::exceptions::PyDeprecationWarning;
use pyo3::prelude::*;
use pyo3::PyTypeInfo;

/// An event: the drop-in for `threading.Event`.
///
/// An event manages a flag, initially false, that `set()` makes true and `clear()` resets
/// to false. `wait()` blocks until the flag is true: one thread signals an event and other
/// threads wait for it.
///
/// Every wait releases the interpreter, so other threads keep running; on the main thread a
/// wait is interrupted by Ctrl-C (the signal handler's exception propagates). Threads
/// waiting here are listed by `rthreading.dump()`. Like the stdlib's class, Event can be
/// subclassed and its instances take attributes.
// An instance `__dict__` from 3.13 on (see `instance_dict`).
#[cfg_attr(Py_3_13, pyclass(module = "rthreading", name = "Event", frozen, subclass, weakref, dict))]
#[cfg_attr(not(Py_3_13), pyclass(module = "rthreading", name = "Event", frozen, subclass, weakref))]
pub struct Event {
    inner: CoreEvent,
}

// Named in the diagnostics' reports of asyncio tasks' waits (`task_wait`).
impl Diagnosed for Event {
    const KIND: &'static str = "rthreading.Event";
}

#[pymethods]
impl Event {
    // For `rthreading._aio`: an asyncio task's waker, woken by the next set() (see `waker`).
    fn _watch(&self, waker: &Bound<'_, Waker>) {
        waker.get().watch(&self.inner.watchers);
    }

    fn _unwatch(&self, waker: &Bound<'_, Waker>) {
        waker.get().unwatch(&self.inner.watchers);
    }

    // Holds no Python object; a GC type only so that the collector sees the instance dict
    // (see `instance_dict`).
    fn __traverse__(&self, _visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        Ok(())
    }

    #[new]
    #[pyo3(signature = (*_args, **_kwargs), text_signature = "()")]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        Event { inner: CoreEvent::new() }
    }

    // The stdlib's `__init__` starts with the flag clear (Python subclasses call it).
    fn __init__(&self) {
        self.inner.clear();
    }

    /// Return True if and only if the internal flag is true.
    fn is_set(&self) -> bool {
        self.inner.is_set()
    }

    /// Return True if and only if the internal flag is true.
    ///
    /// Deprecated (DeprecationWarning): use `is_set()` instead.
    #[allow(non_snake_case)]
    fn isSet(&self, py: Python<'_>) -> PyResult<bool> {
        PyErr::warn(py, &py.get_type::<PyDeprecationWarning>(), c"isSet() is deprecated, use is_set() instead", 1)?;
        Ok(self.inner.is_set())
    }

    /// Set the internal flag to true.
    ///
    /// Every thread waiting for it is woken; threads that call `wait()` once the flag is
    /// true do not block at all.
    fn set(&self, py: Python<'_>) {
        self.inner.set(Attached(py));
    }

    /// Reset the internal flag to false.
    ///
    /// Threads calling `wait()` from now on block until `set()` makes the flag true again.
    fn clear(&self) {
        self.inner.clear();
    }

    /// Block until the internal flag is true; return the flag on exit.
    ///
    /// If the flag is true on entry, return True at once. Otherwise wait until another
    /// thread calls `set()`, or until `timeout` seconds (a float) have passed when a timeout
    /// is given and not None. The result is True if the flag was set, False if the wait
    /// timed out.
    ///
    /// The wait releases the interpreter. On the main thread, Ctrl-C interrupts it: the
    /// signal handler's exception propagates.
    #[pyo3(signature = (timeout = None))]
    fn wait(slf: &Bound<'_, Self>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        let (this, py) = (slf.get(), slf.py());
        let Some(ticket) = this.inner.begin_wait() else {
            return Ok(true);
        };
        let timeout = cond_timeout(timeout)?;
        if let Timeout::NonBlocking = timeout {
            return Ok(this.inner.signaled(ticket));
        }
        let inner = &this.inner;
        // Listed by rthreading.dump() while it waits (an event has no owner: never in a cycle).
        let target = Target { owner: None, tag: slf.as_ptr() as usize, kind: "rthreading.Event" };
        Ok(instrumented(py, target, timeout, Count::Not, |until| inner.wait_until(ticket, until).then_some(()))?
            .is_some())
    }

    fn _at_fork_reinit(&self) {
        self.inner.reinit();
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        let status = if slf.get().inner.is_set() { "set" } else { "unset" };
        // SAFETY: `slf` is a live object.
        let name = if unsafe { pyo3::ffi::Py_TYPE(slf.as_ptr()) } == Event::type_object_raw(py) {
            "rthreading.Event".to_owned()
        } else {
            let ty = slf.get_type();
            format!("{}.{}", ty.getattr(pyo3::intern!(py, "__module__"))?, ty.qualname()?)
        };
        Ok(format!("<{name} at {:#x}: {status}>", slf.as_ptr() as usize))
    }
}
