//! `_core._Waker`: an asyncio task's waiter (`park::Waiter::with_callback`), for
//! `rthreading._aio`, which registers it on a primitive or a queue (their `_watch` methods) and
//! awaits the future its callback resolves. The callback is called by the thread that notifies
//! (a `put`, a `release`, a `set`), attached, once per waker; it must not raise (the Python side
//! catches what `loop.call_soon_threadsafe` raises for a closed loop) and anything it raises all
//! the same is reported as unraisable, never to the notifying thread.

use crate::sync::park::{Waiter, WatchList, Watchers};
use pyo3::prelude::*;
use std::sync::Arc;

/// A task's waiter: `callback()` runs once, on the first notification.
#[pyclass(module = "rthreading._core", name = "_Waker", frozen)]
pub struct Waker {
    waiter: Arc<Waiter>,
}

#[pymethods]
impl Waker {
    #[new]
    fn new(callback: Py<PyAny>) -> Self {
        let callback = Callback(Some(callback));
        let waiter = Waiter::with_callback(Box::new(move || {
            Python::attach(|py| {
                if let Some(Err(e)) = callback.0.as_ref().map(|c| c.call0(py)) {
                    e.write_unraisable(py, None);
                }
            })
        }));
        Waker { waiter }
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
        w.register(&self.waiter);
    }

    pub(crate) fn unregister_from(&self, w: &mut Watchers) {
        w.unregister(&self.waiter);
    }

    pub(crate) fn watch(&self, list: &WatchList) {
        list.register(&self.waiter);
    }

    pub(crate) fn unwatch(&self, list: &WatchList) {
        list.unregister(&self.waiter);
    }
}
