//! Python side of the wait-for graph (`sync::waitgraph`): the registration every blocking wait
//! makes once its first try has failed, `DeadlockError` for strict mode, and the snapshots that
//! `rthreading.find_deadlocks()` / `dump()` read (in `python/rthreading/_diag.py`).

use super::wait::{Attached, Timeout};
use crate::sync::current_thread_ident;
use crate::sync::waitgraph::{self, task_address, Edge, Target, Wait, WaitGuard};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyList;

pyo3::create_exception!(
    rthreading,
    DeadlockError,
    PyRuntimeError,
    "Raised in strict deadlock mode instead of a wait that would close a cycle of threads waiting for each other's locks."
);

/// The registration of a wait about to park: `Target { owner, tag: the Python object, kind }`.
pub(crate) type Guard<'a, 'py> = WaitGuard<'a, Attached<'py>>;

/// A wait for an owned lock: refused with `DeadlockError` in strict mode when it would close a
/// cycle (and `timeout` is forever), else registered until the guard drops.
pub(crate) fn enter<'a, 'py>(py: Python<'py>, target: Target<'a>, timeout: Timeout) -> PyResult<Guard<'a, 'py>> {
    let timed = !matches!(timeout, Timeout::Forever);
    waitgraph::register(Attached(py), current_thread_ident(), target, timed)
        .map_err(|cycle| deadlock_error(py, &cycle, None))
}

/// A wait that must not fail (re-acquiring a Condition's lock, an ownerless object).
pub(crate) fn enter_quietly<'a, 'py>(py: Python<'py>, target: Target<'a>, timed: bool) -> Guard<'a, 'py> {
    match waitgraph::register_with(Attached(py), current_thread_ident(), target, timed, false) {
        Ok(g) => g,
        Err(_) => unreachable!("a non-strict registration is never refused"),
    }
}

/// The asyncio task behind a waiter `key`, if it is a task's and registered in `waits`.
///
/// # Safety
/// `waits` is a snapshot taken under the registry's mutex, still held (`with_snapshot`): a
/// registered task is kept alive by its `_TaskWait` (see `task_wait`).
unsafe fn task_object(py: Python<'_>, waits: &[Wait], key: u64) -> Option<Py<PyAny>> {
    let address = task_address(key)?;
    waits.iter().any(|w| w.thread == key).then(|| {
        // SAFETY: as the function's contract says.
        unsafe { pyo3::Borrowed::from_ptr(py, address as *mut pyo3::ffi::PyObject) }.to_owned().unbind()
    })
}

/// `DeadlockError` for a refused wait (`first_task`: the refused waiter, when a task). The
/// cycle is worded where every deadlock report is (`rthreading._diag._describe_cycle`, also
/// behind `str(Deadlock)`).
pub(crate) fn deadlock_error(py: Python<'_>, cycle: &[Edge], first_task: Option<&Bound<'_, PyAny>>) -> PyErr {
    type Row<'a> = (u64, usize, &'a str, Option<Py<PyAny>>, u64);
    let edges: Vec<Row<'_>> = waitgraph::with_snapshot(Attached(py), |waits| {
        cycle
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let task = match first_task {
                    Some(t) if i == 0 => Some(t.clone().unbind()),
                    // SAFETY: under the registry's mutex (`with_snapshot`).
                    _ => unsafe { task_object(py, waits, e.thread) },
                };
                (e.thread, e.tag, e.kind, task, e.host)
            })
            .collect()
    });
    let described = (|| -> PyResult<String> {
        py.import(pyo3::intern!(py, "rthreading._diag"))?
            .call_method1(pyo3::intern!(py, "_describe_cycle"), (edges,))?
            .extract()
    })();
    match described {
        Ok(text) => DeadlockError::new_err(format!("acquiring would deadlock: {text}")),
        Err(cause) => {
            let err = DeadlockError::new_err("acquiring would deadlock");
            err.set_cause(py, Some(cause));
            err
        }
    }
}

/// Every registered wait as `(waiter, object, kind, owner or None, timed, seconds waited,
/// task or None, thread)`: the waiter is a thread ident, or a task's key (`waitgraph::task_key`)
/// with the task and the thread running its loop.
#[pyfunction]
pub(crate) fn _waits(py: Python<'_>) -> PyResult<Py<PyList>> {
    let rows = waitgraph::with_snapshot(Attached(py), |waits| {
        waits
            .iter()
            .map(|w| {
                // SAFETY: the tag is the address of the Python object the registered thread is
                // waiting on, alive while the wait is registered, which it is while this runs.
                let obj: Py<PyAny> =
                    unsafe { pyo3::Borrowed::from_ptr(py, w.tag as *mut pyo3::ffi::PyObject) }.to_owned().unbind();
                // SAFETY: under the registry's mutex.
                let task = unsafe { task_object(py, waits, w.thread) };
                (w.thread, obj, w.kind, w.owner, w.timed, w.since.elapsed().as_secs_f64(), task, w.host)
            })
            .collect::<Vec<_>>()
    });
    Ok(PyList::new(py, rows)?.unbind())
}

/// The cycles of the wait-for graph, each a list of `(waiter, lock, kind, task or None,
/// thread)`: that waiter (a thread, or a task on that thread's loop) waits for that lock, held
/// by the next entry's waiter (the last one's by the first's). Each cycle starts with its
/// smallest waiter key (threads before tasks); cycles are sorted by it.
#[pyfunction]
pub(crate) fn _cycles(py: Python<'_>) -> PyResult<Py<PyList>> {
    let cycles = waitgraph::with_snapshot(Attached(py), |waits| {
        waitgraph::cycles(waits)
            .into_iter()
            .map(|c| {
                c.into_iter()
                    .map(|e| {
                        // SAFETY: as in `_waits`.
                        let obj: Py<PyAny> = unsafe { pyo3::Borrowed::from_ptr(py, e.tag as *mut pyo3::ffi::PyObject) }
                            .to_owned()
                            .unbind();
                        // SAFETY: as in `_waits`.
                        let task = unsafe { task_object(py, waits, e.thread) };
                        (e.thread, obj, e.kind, task, e.host)
                    })
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
    });
    Ok(PyList::new(py, cycles)?.unbind())
}

/// Strict mode on or off; returns the previous setting.
#[pyfunction]
pub(crate) fn _set_strict_deadlocks(on: bool) -> bool {
    let was = waitgraph::strict();
    waitgraph::set_strict(on);
    was
}

/// `(locked, owner ident or 0)` of an rthreading Lock or RLock; None for anything else.
#[pyfunction]
pub(crate) fn _lock_owner(obj: &Bound<'_, PyAny>) -> Option<(bool, u64)> {
    super::diagnosed::lock_state(obj)
}
