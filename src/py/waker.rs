//! `_core._Waker`: an asyncio task's waiter (`park::Waiter::with_callback`), for
//! `rthreading._aio`, which registers it on a primitive or a queue (their `_watch` methods) and
//! awaits the future its callback resolves. The callback is called by the thread that notifies
//! (a `put`, a `release`, a `set`), attached, once per waker, and returns whether it delivered
//! the wake-up (false for a closed loop: the notifier then wakes the next waiter instead). It
//! must not raise; anything it raises all the same is reported as unraisable (and counts as not
//! delivered), never to the notifying thread.

use crate::sync::park::{Waiter, WatchList, Watchers};
use pyo3::prelude::*;
use std::sync::Arc;

/// A task's waiter: `callback()` runs once, on the first notification, and returns whether it
/// delivered the wake-up.
#[pyclass(module = "rthreading._core", name = "_Waker", frozen)]
pub struct Waker {
    waiter: Arc<Waiter>,
    /// Registers at the head of a line, not at its back: a task whose turn came to nothing
    /// (a caller that did not wait was quicker) keeps its place, as a thread does.
    first: bool,
}

#[pymethods]
impl Waker {
    #[new]
    #[pyo3(signature = (callback, first=false))]
    fn new(callback: Py<PyAny>, first: bool) -> Self {
        let callback = Callback(Some(callback));
        let waiter = Waiter::with_callback(Box::new(move || {
            Python::attach(|py| match callback.0.as_ref().map(|c| c.call0(py)) {
                Some(Ok(delivered)) => delivered.bind(py).is_truthy().unwrap_or(true),
                Some(Err(e)) => {
                    e.write_unraisable(py, None);
                    false
                }
                None => false,
            })
        }));
        Waker { waiter, first }
    }

    /// Whether it was notified.
    #[getter]
    fn notified(&self) -> bool {
        self.waiter.is_notified()
    }
}

/// The Python callback, released attached: the last reference to a waiter may go on a path
/// that PyO3 does not know to be attached (a fast entry, see `fastcall`).
struct Callback(Option<Py<PyAny>>);

impl Drop for Callback {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            Python::attach(move |_| drop(c));
        }
    }
}

impl Waker {
    pub(crate) fn register_in(&self, w: &mut Watchers) {
        if self.first {
            w.register_first(&self.waiter);
        } else {
            w.register(&self.waiter);
        }
    }

    pub(crate) fn unregister_from(&self, w: &mut Watchers) {
        w.unregister(&self.waiter);
    }

    pub(crate) fn watch(&self, list: &WatchList) {
        if self.first {
            list.register_first(&self.waiter);
        } else {
            list.register(&self.waiter);
        }
    }

    pub(crate) fn unwatch(&self, list: &WatchList) {
        list.unregister(&self.waiter);
    }
}
