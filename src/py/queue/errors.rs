//! The exceptions the queues raise: the stdlib's own `queue.Empty`, `Full` and `ShutDown`, as
//! `rthreading.queue` re-exports them (looked up once).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// `rthreading.queue`: the exception classes and the compatibility mode's Python half.
pub(crate) fn queue_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE.get_or_try_init(py, || py.import("rthreading.queue").map(Bound::unbind)).map(|m| m.bind(py))
}

fn exception(py: Python<'_>, cell: &'static PyOnceLock<Py<PyType>>, name: &str) -> PyErr {
    match cell.import(py, "rthreading.queue", name) {
        Ok(ty) => PyErr::from_type(ty.clone(), ()),
        Err(e) => e,
    }
}

pub(crate) fn empty_error(py: Python<'_>) -> PyErr {
    static EMPTY: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    exception(py, &EMPTY, "Empty")
}

pub(crate) fn full_error(py: Python<'_>) -> PyErr {
    static FULL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    exception(py, &FULL, "Full")
}

pub(crate) fn shutdown_error(py: Python<'_>) -> PyErr {
    static SHUTDOWN: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    exception(py, &SHUTDOWN, "ShutDown")
}
