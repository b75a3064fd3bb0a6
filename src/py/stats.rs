//! Contention statistics: the registry of tracked objects behind `rthreading.stats()`.
//!
//! An object counts only once it has counters (`sync::stats::Slot`): given at creation while the
//! global switch is on (with the creating call site), or by `rthreading.track(obj)`. The
//! registry holds a weak reference to each tracked object and its counters, which outlive it.

use super::diagnosed;
use super::wait::Attached;
use crate::sync::stats::{self as core, Counters, Slot};
use crate::sync::Locker;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyWeakrefReference};
use std::sync::Arc;

struct Tracked {
    counters: Arc<Counters>,
    kind: &'static str,
    /// A weak reference to the object.
    object: Py<PyAny>,
    /// `filename:lineno` of the code that created it, when created with statistics on.
    site: Option<String>,
}

static TRACKED: parking_lot::Mutex<Vec<Tracked>> = parking_lot::const_mutex(Vec::new());

/// The Python code that is calling into rthreading now, as `filename:lineno`.
fn call_site(py: Python<'_>) -> Option<String> {
    let frame = py.import("sys").ok()?.call_method1("_getframe", (0,)).ok()?;
    let file: String = frame.getattr("f_code").ok()?.getattr("co_filename").ok()?.extract().ok()?;
    let line: i64 = frame.getattr("f_lineno").ok()?.extract().ok()?;
    Some(format!("{file}:{line}"))
}

fn register(obj: &Bound<'_, PyAny>, slot: &Slot, kind: &'static str, site: Option<String>) -> PyResult<()> {
    if slot.get().is_some() {
        return Ok(()); // tracked already
    }
    let object = PyWeakrefReference::new(obj)?.into_any().unbind();
    let counters = slot.track();
    Attached(obj.py()).lock(&TRACKED).push(Tracked { counters, kind, object, site });
    Ok(())
}

/// A new object while statistics are on: tracked, with its creating call site.
pub(crate) fn on_create(obj: &Bound<'_, PyAny>, slot: &Slot, kind: &'static str) -> PyResult<()> {
    register(obj, slot, kind, call_site(obj.py()))
}

/// Global switch: objects created from now on are tracked (or not). Returns the previous state.
#[pyfunction]
pub(crate) fn _set_stats_enabled(on: bool) -> bool {
    let was = core::enabled();
    core::set_enabled(on);
    was
}

/// Tracks one Lock, RLock or Queue (a Condition: its lock) from now on.
#[pyfunction]
pub(crate) fn _track(obj: &Bound<'_, PyAny>) -> PyResult<()> {
    if let Some((slot, kind)) = diagnosed::counters(obj) {
        return register(obj, slot, kind, None);
    }
    if let Some(lock) = diagnosed::tracked_instead(obj)? {
        if diagnosed::lock_state(&lock).is_some() {
            return _track(&lock);
        }
    }
    Err(PyTypeError::new_err(format!(
        "track() takes an rthreading Lock, RLock, Queue, RWLock, or a Condition over a Lock or RLock, not {}",
        obj.get_type().qualname()?
    )))
}

/// Every tracked object as `(object or None if gone, kind, site, acquisitions, contended,
/// wait_ns, max_wait_ns, put_waits, get_waits)`.
#[pyfunction]
pub(crate) fn _stats(py: Python<'_>) -> PyResult<Py<PyList>> {
    let rows: Vec<_> = {
        let tracked = Attached(py).lock(&TRACKED);
        tracked.iter().map(|t| (t.object.clone_ref(py), t.kind, t.site.clone(), t.counters.snapshot())).collect()
    };
    let mut out = Vec::with_capacity(rows.len());
    for (weak, kind, site, s) in rows {
        let obj = weak.bind(py).call0()?;
        let obj = if obj.is_none() { None } else { Some(obj) };
        out.push((obj, kind, site, s.acquisitions, s.contended, s.wait_ns, s.max_wait_ns, s.put_waits, s.get_waits));
    }
    Ok(PyList::new(py, out)?.unbind())
}

/// Zeroes every tracked object's counters and forgets the objects that are gone.
#[pyfunction]
pub(crate) fn _reset_stats(py: Python<'_>) -> PyResult<()> {
    let gone: Vec<Tracked> = {
        let mut tracked = Attached(py).lock(&TRACKED);
        let (keep, gone): (Vec<Tracked>, Vec<Tracked>) =
            std::mem::take(&mut *tracked).into_iter().partition(|t| Arc::strong_count(&t.counters) > 1);
        *tracked = keep;
        gone
    };
    for t in &Attached(py).lock(&TRACKED)[..] {
        t.counters.reset();
    }
    drop(gone);
    Ok(())
}
