//! Everything rthreading does in a fork child, in one place (rule 6: after `os.fork()` the child
//! can create and use every primitive, and a pool created before the fork is not dead).
//!
//! Two handlers, registered once per process at import:
//! - `after_fork_in_child`, a `pthread_atfork` child handler: runs inside `fork()`, before any
//!   Python code, so it may only touch plain memory (no allocation, no Python);
//! - `_after_fork_in_child`, registered with `os.register_at_fork(after_in_child=...)`: runs
//!   attached, once the interpreter has been set up again in the child.

use super::{pool, wait};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyModule};

/// Registers both handlers (once per process; later calls do nothing). `m` is `_core`, which
/// holds `_after_fork_in_child`.
pub(crate) fn install(m: &Bound<'_, PyModule>) -> PyResult<()> {
    static ONCE: std::sync::Once = std::sync::Once::new();
    let mut first = false;
    // SAFETY: registers a handler that only does what `after_fork_in_child` says it does.
    ONCE.call_once(|| unsafe {
        libc::pthread_atfork(None, None, Some(after_fork_in_child));
        first = true;
    });
    let py = m.py();
    let os = py.import(intern!(py, "os"))?;
    if first && os.hasattr(intern!(py, "register_at_fork"))? {
        let kwargs = PyDict::new(py);
        kwargs.set_item(intern!(py, "after_in_child"), m.getattr(intern!(py, "_after_fork_in_child"))?)?;
        os.call_method(intern!(py, "register_at_fork"), (), Some(&kwargs))?;
    }
    Ok(())
}

/// In the child, inside `fork()` (only the forking thread exists): the threads that were
/// parked are forgotten by parking_lot, the forking thread is the main one (as CPython makes
/// it), and the waits the other threads had registered in the wait-for graph are dropped.
/// Each step is async-signal-safe: stores, and a walk over memory that is never freed.
extern "C" fn after_fork_in_child() {
    wait::main_thread_after_fork();
    crate::sync::waitgraph::reinit();
    #[cfg(not(loom))]
    crate::sync::fork::forget_parked_threads();
}

/// In the child, attached: the pools' workers do not exist there (the next submit starts new
/// ones), and the deadlock watchdog (`rthreading._diag`), if it ran, starts again.
#[pyfunction]
pub(crate) fn _after_fork_in_child(py: Python<'_>) -> PyResult<()> {
    pool::forget_workers_after_fork();
    let modules = py.import(intern!(py, "sys"))?.getattr(intern!(py, "modules"))?;
    if let Ok(diag) = modules.get_item(intern!(py, "rthreading._diag")) {
        diag.call_method0(intern!(py, "_after_fork_in_child"))?;
    }
    Ok(())
}
