//! `_core._task_wait`: what an asyncio task's wait leaves in the diagnostics while it lasts
//! (called by `rthreading._aio._wait` once its first try has failed), as `waiting::instrumented`
//! does for a thread's wait: registered in the wait-for graph by the task's key and its loop's
//! thread (refused with `DeadlockError` in strict mode when an untimed wait for a Lock would
//! close a cycle), and counted by a tracked object's counters when it ends.

use super::diagnosed;
use super::wait::Attached;
use super::waitgraph::deadlock_error;
use crate::sync::current_thread_ident;
use crate::sync::waitgraph::{self, task_key, Target};
use crate::sync::Locker;
use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::{PyTraverseError, PyVisit};
use std::time::Instant;

/// `what` a wait is for (the values `rthreading._aio` passes): a queue's item or room, or a
/// lock's acquisition; anything else is registered but never counted.
const GET: u8 = 0;
const PUT: u8 = 1;
const ACQUIRE: u8 = 3;

struct Registered {
    id: u64,
    // Both kept alive while the entry is registered: it points to the object's owner word,
    // and the reports turn the object's and the task's addresses back into objects.
    obj: Py<PyAny>,
    task: Py<PyAny>,
    what: u8,
    since: Instant,
}

/// One task's wait, registered until `close()` (or until collected).
#[pyclass(module = "rthreading._core", name = "_TaskWait", frozen)]
pub struct TaskWait(Mutex<Option<Registered>>);

/// Registers the wait of `task` (running on the calling thread, its loop's) on `obj`, for
/// `what` (see the constants), `timed` if it has a deadline. None if `obj` is of a class the
/// diagnostics do not know. Raises `DeadlockError` in strict mode as a thread's wait would.
#[pyfunction]
pub(crate) fn _task_wait(
    obj: &Bound<'_, PyAny>,
    task: &Bound<'_, PyAny>,
    what: u8,
    timed: bool,
) -> PyResult<Option<TaskWait>> {
    let py = obj.py();
    let Some(on) = diagnosed::waited_on(obj) else {
        return Ok(None);
    };
    let target = Target { owner: on.owner, tag: obj.as_ptr() as usize, kind: on.kind };
    let key = task_key(task.as_ptr() as usize);
    let host = current_thread_ident();
    // SAFETY: the owner word lives in `obj`, which the `_TaskWait` keeps alive until it
    // deregisters the entry (`close`, `__clear__` or its drop).
    let registered =
        unsafe { waitgraph::register_unguarded(Attached(py), key, host, target, timed, waitgraph::strict()) };
    let id = registered.map_err(|cycle| deadlock_error(py, &cycle, Some(task)))?;
    let obj = obj.clone().unbind();
    let task = task.clone().unbind();
    Ok(Some(TaskWait(Mutex::new(Some(Registered { id, obj, task, what, since: Instant::now() })))))
}

#[pymethods]
impl TaskWait {
    /// Ends the wait: deregistered, and counted if its object is tracked (a lock's wait only
    /// when it ended `normally`, acquired or timed out, as a thread's). Once; then nothing.
    fn close(&self, py: Python<'_>, normally: bool) {
        let Some(r) = Attached(py).lock(&self.0).take() else {
            return;
        };
        waitgraph::deregister(Attached(py), r.id);
        let obj = r.obj.bind(py);
        if let Some(c) = diagnosed::counters(obj).and_then(|(slot, _)| slot.get()) {
            match r.what {
                GET | PUT => c.queue_waited(r.what == PUT, r.since.elapsed()),
                // The acquisition itself was counted by the try that took it (`_acquire_for`).
                ACQUIRE if normally => c.waited(r.since.elapsed(), false),
                _ => {}
            }
        }
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        // Never blocks: a mutex held elsewhere (a close under way) hides nothing for long.
        if let Some(g) = self.0.try_lock() {
            if let Some(r) = &*g {
                visit.call(&r.obj)?;
                visit.call(&r.task)?;
            }
        }
        Ok(())
    }

    fn __clear__(&self) {
        self.forget();
    }
}

impl TaskWait {
    /// Deregisters without counting (collected or cleared before `close`).
    fn forget(&self) {
        let taken = self.0.try_lock().and_then(|mut g| g.take());
        if let Some(r) = taken {
            Python::attach(|py| {
                waitgraph::deregister(Attached(py), r.id);
                drop(r);
            });
        }
    }
}

impl Drop for TaskWait {
    fn drop(&mut self) {
        if let Some(r) = self.0.get_mut().take() {
            Python::attach(|py| {
                waitgraph::deregister(Attached(py), r.id);
                drop(r);
            });
        }
    }
}
