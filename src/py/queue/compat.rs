//! The compatibility mode (see the module notes in `mod.rs`): the switch from native state to
//! the stdlib's algorithm over Python-level internals, the test that decides it, and the
//! stdlib's attributes (`mutex`, `not_empty`, `not_full`, `all_tasks_done`, `queue`), which
//! exist only there and switch a queue over when first touched.

use super::errors::queue_module;
use super::{LifoQueue, PriorityQueue, Queue, GET_OVERRIDDEN, PUT_OVERRIDDEN};
use crate::sync::queue::Order;
use pyo3::call::PyCallArgs;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyList, PyString, PyType};

/// Calls `rthreading.queue.<name>(*args)`: a method in compatibility mode.
pub(super) fn compat<'py>(py: Python<'py>, name: &str, args: impl PyCallArgs<'py>) -> PyResult<Bound<'py, PyAny>> {
    queue_module(py)?.getattr(name)?.call1(args)
}

/// The queue's compatibility state: made now (carrying the native state over) if need be.
pub(super) fn internals<'py>(slf: &Bound<'py, Queue>) -> PyResult<Bound<'py, PyAny>> {
    let py = slf.py();
    let q = slf.get();
    if let Some(s) = Queue::retired(py, &q.lock(py)?) {
        return Ok(s);
    }
    let s = queue_module(py)?.getattr(intern!(py, "_Internals"))?.call0()?;
    let container = match q.order {
        Order::Fifo => py.import(intern!(py, "collections"))?.getattr(intern!(py, "deque"))?.call0()?,
        Order::Lifo | Order::Priority => PyList::empty(py).into_any(),
    };
    s.setattr(intern!(py, "queue"), &container)?;
    // Held until the items are in place, so that a compatibility-mode call made meanwhile by
    // another thread (which takes this mutex first) sees the whole state.
    let mutex = s.getattr(intern!(py, "mutex"))?;
    mutex.call_method0(intern!(py, "acquire"))?;
    let (items, unfinished, shutdown) = {
        let mut g = q.lock(py)?;
        if let Some(existing) = Queue::retired(py, &g) {
            drop(g);
            mutex.call_method0(intern!(py, "release"))?;
            return Ok(existing);
        }
        let items = q.core.retire_locked(&mut g, s.clone().unbind());
        (items, g.unfinished(), g.is_shutdown())
    };
    let carried = (|| -> PyResult<()> {
        container.call_method1(intern!(py, "extend"), (PyList::new(py, items)?,))?;
        s.setattr(intern!(py, "unfinished_tasks"), unfinished)?;
        s.setattr(intern!(py, "is_shutdown"), shutdown)?;
        Ok(())
    })();
    mutex.call_method0(intern!(py, "release"))?;
    carried?;
    Ok(s)
}

/// The native class whose hooks a queue of this order has.
fn native_type(py: Python<'_>, order: Order) -> Bound<'_, PyType> {
    match order {
        Order::Fifo => py.get_type::<Queue>(),
        Order::Lifo => py.get_type::<LifoQueue>(),
        Order::Priority => py.get_type::<PriorityQueue>(),
    }
}

fn overrides(ty: &Bound<'_, PyType>, base: &Bound<'_, PyType>, name: &Bound<'_, PyString>) -> PyResult<bool> {
    Ok(!ty.getattr(name)?.is(&base.getattr(name)?))
}

/// Whether the queue's class overrides the stdlib's hooks (`_init`, `_qsize`, `_put`, `_get`),
/// which only the compatibility mode calls; and which of `put`/`get` it overrides
/// (`PUT_OVERRIDDEN`/`GET_OVERRIDDEN`: `put_nowait`/`get_nowait` must call them).
pub(super) fn overridden(slf: &Bound<'_, Queue>) -> PyResult<(bool, u8)> {
    let py = slf.py();
    let ty = slf.get_type();
    let base = native_type(py, slf.get().order);
    let mut hooks = false;
    for name in [intern!(py, "_init"), intern!(py, "_qsize"), intern!(py, "_put"), intern!(py, "_get")] {
        hooks |= overrides(&ty, &base, name)?;
    }
    let queue_type = py.get_type::<Queue>();
    let mut flags = 0;
    if overrides(&ty, &queue_type, intern!(py, "put"))? {
        flags |= PUT_OVERRIDDEN;
    }
    if overrides(&ty, &queue_type, intern!(py, "get"))? {
        flags |= GET_OVERRIDDEN;
    }
    Ok((hooks, flags))
}

/// One of the stdlib's internal attributes (switching the queue over).
pub(super) fn attr<'py>(slf: &Bound<'py, Queue>, name: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyAny>> {
    internals(slf)?.getattr(name)
}

/// Sets one of the stdlib's internal attributes (switching the queue over).
pub(super) fn set_attr(slf: &Bound<'_, Queue>, name: &Bound<'_, PyString>, value: Bound<'_, PyAny>) -> PyResult<()> {
    internals(slf)?.setattr(name, value)
}

/// The `block` argument handed over to the compatibility mode's `_put`/`_get` (True if not
/// passed).
pub(super) fn compat_block<'py>(py: Python<'py>, block: Option<&Bound<'py, PyAny>>) -> Bound<'py, PyAny> {
    block.cloned().unwrap_or_else(|| PyBool::new(py, true).to_owned().into_any())
}
