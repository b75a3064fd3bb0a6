//! Python side of the wait-for graph (`sync::waitgraph`): the registration every blocking wait
//! makes once its first try has failed, `DeadlockError` for strict mode, and the snapshots that
//! `rthreading.find_deadlocks()` / `dump()` read (in `python/rthreading/_diag.py`).

use super::wait::{Attached, Timeout};
use crate::sync::current_thread_ident;
use crate::sync::waitgraph::{self, Edge, Target, WaitGuard};
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
    waitgraph::register(Attached(py), current_thread_ident(), target, timed).map_err(|cycle| deadlock_error(py, &cycle))
}

/// A wait that must not fail (re-acquiring a Condition's lock, an ownerless object).
pub(crate) fn enter_quietly<'a, 'py>(py: Python<'py>, target: Target<'a>, timed: bool) -> Guard<'a, 'py> {
    match waitgraph::register_with(Attached(py), current_thread_ident(), target, timed, false) {
        Ok(g) => g,
        Err(_) => unreachable!("a non-strict registration is never refused"),
    }
}

/// `thread 'name' (ident)`, the way reports name a thread (the name as Python's repr).
fn thread_label(py: Python<'_>, ident: u64) -> String {
    let name = (|| -> PyResult<Option<String>> {
        for t in py.import("threading")?.call_method0("enumerate")?.try_iter()? {
            let t = t?;
            if t.getattr("ident")?.extract::<Option<u64>>()? == Some(ident) {
                return Ok(Some(t.getattr("name")?.repr()?.to_string()));
            }
        }
        Ok(None)
    })()
    .ok()
    .flatten();
    match name {
        Some(n) => format!("thread {n} ({ident})"),
        None => format!("thread {ident}"),
    }
}

fn deadlock_error(py: Python<'_>, cycle: &[Edge]) -> PyErr {
    let n = cycle.len();
    let steps: Vec<String> = (0..n)
        .map(|i| {
            let e = &cycle[i];
            let holder = cycle[(i + 1) % n].thread;
            format!(
                "{} waits for <{} at {:#x}> held by {}",
                thread_label(py, e.thread),
                e.kind,
                e.tag,
                thread_label(py, holder)
            )
        })
        .collect();
    DeadlockError::new_err(format!("acquiring would deadlock: {}", steps.join("; ")))
}

/// Every registered wait as `(thread, object, kind, owner or None, timed, seconds waited)`.
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
                (w.thread, obj, w.kind, w.owner, w.timed, w.since.elapsed().as_secs_f64())
            })
            .collect::<Vec<_>>()
    });
    Ok(PyList::new(py, rows)?.unbind())
}

/// The cycles of the wait-for graph, each a list of `(thread, lock, kind)`: that thread waits
/// for that lock, held by the next entry's thread (the last one's by the first's). Each cycle
/// starts with its smallest thread ident; cycles are sorted by it.
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
                        (e.thread, obj, e.kind)
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

extern "C" fn after_fork_in_child() {
    waitgraph::reinit();
}

/// After fork, in the child, the other threads' waits are gone with them (and the objects they
/// point to may be freed): forget them.
pub(crate) fn install_fork_handler() {
    // Once per process, though the module may be executed again (re-imported).
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: registers a handler that touches only the registry (see `waitgraph::reinit`).
    ONCE.call_once(|| unsafe {
        libc::pthread_atfork(None, None, Some(after_fork_in_child));
    });
}

/// `(locked, owner ident or 0)` of an rthreading Lock or RLock, or of an RWLock's write lock;
/// None for anything else.
#[pyfunction]
pub(crate) fn _lock_owner(obj: &Bound<'_, PyAny>) -> Option<(bool, u64)> {
    if let Ok(l) = obj.cast::<super::lock::Lock>() {
        let inner = &l.get().inner;
        return Some((inner.locked(), inner.owner()));
    }
    if let Ok(l) = obj.cast::<super::rlock::RLock>() {
        let inner = &l.get().inner;
        return Some((inner.locked(), inner.owner()));
    }
    if let Ok(l) = obj.cast::<super::rwlock::RWLock>() {
        let inner = &l.get().inner;
        return Some((inner.write_locked(), inner.owner()));
    }
    None
}
