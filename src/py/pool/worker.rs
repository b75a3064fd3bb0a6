//! What the workers run: the jobs in the queue, and `WorkerTicket.run()`, a worker thread's
//! whole life. The thread is a real `threading.Thread` (started by the Python class, so that its
//! name, `threading.current_thread()`, `threading.local` and `threading.enumerate()` are the
//! stdlib's); its target calls `ticket.run()`, which stays attached while it runs jobs and
//! detaches only while the queue is empty.

use super::Shared;
use crate::py::future::{log_exception, FutureBase, Outcome};
use crate::py::wait::{wait, Attached, Timeout};
use crate::sync::pool::future::{Finish, Future as CoreFuture, Start};
use crate::sync::pool::queue::{Next, Parker};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::cell::Cell;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU8, Ordering::SeqCst};
use std::sync::Arc;

/// A `map` item's future: never seen by Python, no callbacks.
pub(crate) type ItemCore = CoreFuture<Outcome, Infallible>;

pub(crate) enum Job {
    /// `submit(fn, *args, **kwargs)`.
    Call { future: Py<FutureBase>, func: Py<PyAny>, args: Py<PyTuple>, kwargs: Option<Py<PyDict>> },
    /// One item of `map`: `func(arg)`, or `func(*arg)` with several iterables (`star`).
    Item { item: Arc<ItemCore>, func: Py<PyAny>, arg: Py<PyAny>, star: bool },
}

impl Job {
    /// Runs the job and completes its future; whatever goes wrong is logged, as the stdlib's
    /// worker logs "Exception in worker" (but this worker lives on). `before_finish` runs
    /// between the call and the completion of the future.
    pub(crate) fn run(self, py: Python<'_>, before_finish: impl FnOnce()) {
        if let Err(e) = self.run_inner(py, before_finish) {
            log_exception(py, "critical", "Exception in worker", None, e.value(py));
        }
    }

    fn run_inner(self, py: Python<'_>, before_finish: impl FnOnce()) -> PyResult<()> {
        match self {
            Job::Call { future, func, args, kwargs } => {
                let future = future.bind(py);
                if !FutureBase::start(future)? {
                    return Ok(());
                }
                let r = func.bind(py).call(args.bind(py), kwargs.as_ref().map(|k| k.bind(py)));
                let outcome = Outcome::of(py, r);
                before_finish();
                FutureBase::finish(future, outcome)
                // func, args and kwargs are released after the future is done, as the stdlib
                // deletes its work item after running it.
            }
            Job::Item { item, func, arg, star } => {
                if item.start(Attached(py), false) != Start::Running {
                    return Ok(()); // cancelled
                }
                let func = func.bind(py);
                let arg = arg.bind(py);
                let r = if star { func.call(arg.cast::<PyTuple>()?, None) } else { func.call1((arg,)) };
                before_finish();
                if let Finish::Invalid(..) = item.finish(Outcome::of(py, r), Attached(py), false) {
                    return Err(PyRuntimeError::new_err("map item finished twice"));
                }
                Ok(())
            }
        }
    }

    /// `shutdown(cancel_futures=True)` on a job still queued.
    pub(crate) fn cancel(self, py: Python<'_>) -> PyResult<()> {
        match self {
            Job::Call { future, .. } => FutureBase::cancel(future.bind(py)).map(drop),
            Job::Item { item, .. } => {
                item.cancel(Attached(py));
                Ok(())
            }
        }
    }

    /// The pool broke (an initializer failed): the job fails with `error`.
    pub(crate) fn fail(self, py: Python<'_>, error: &Bound<'_, PyAny>) -> PyResult<()> {
        match self {
            Job::Call { future, .. } => FutureBase::finish(future.bind(py), Outcome::Error(error.clone().unbind())),
            Job::Item { item, .. } => {
                item.finish(Outcome::Error(error.clone().unbind()), Attached(py), false);
                Ok(())
            }
        }
    }
}

thread_local! {
    /// The pool whose worker loop this thread runs (null: none), so that `shutdown(wait=True)`
    /// called by a task does not wait for its own worker.
    static CURRENT: Cell<*const Shared> = const { Cell::new(std::ptr::null()) };
}

/// True if the calling thread is one of `shared`'s workers.
pub(crate) fn is_worker_of(shared: &Arc<Shared>) -> bool {
    CURRENT.with(|c| std::ptr::eq(c.get(), Arc::as_ptr(shared)))
}

const NEW: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;

/// A reserved worker slot, handed to the worker thread. Exactly one of `run()`,
/// `initializer_failed()`, `abandon()` or dropping an unused ticket releases the slot.
#[pyclass(module = "rthreading._core", name = "WorkerTicket", frozen)]
pub(crate) struct WorkerTicket {
    shared: Arc<Shared>,
    parker: Arc<Parker>,
    state: AtomicU8,
}

impl WorkerTicket {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        WorkerTicket { shared, parker: Parker::new(), state: AtomicU8::new(NEW) }
    }

    fn claim(&self, to: u8) -> bool {
        self.state.compare_exchange(NEW, to, SeqCst, SeqCst).is_ok()
    }

    /// The thread could not be started: give the slot back.
    pub(crate) fn abandon(&self, py: Python<'_>) {
        if self.claim(DONE) {
            self.shared.queue.worker_exited(Attached(py));
        }
    }
}

impl Drop for WorkerTicket {
    fn drop(&mut self) {
        if *self.state.get_mut() == NEW {
            Python::attach(|py| self.shared.queue.worker_exited(Attached(py)));
        }
    }
}

#[pymethods]
impl WorkerTicket {
    /// The worker's loop, for the life of the thread: runs jobs while there are some, waits
    /// detached when there are none, returns when the pool goes away and the queue is empty.
    fn run(&self, py: Python<'_>) -> PyResult<()> {
        if !self.claim(RUNNING) {
            return Err(PyRuntimeError::new_err("this worker ticket was already used"));
        }
        let previous = CURRENT.with(|c| c.replace(Arc::as_ptr(&self.shared)));
        let queue = &self.shared.queue;
        let parker = &self.parker;
        let r = (|| -> PyResult<()> {
            // Whether this worker became idle (`begin_idle`) before completing its last task.
            let mut idle = false;
            loop {
                let job = match queue.try_take() {
                    Some(job) => {
                        if idle {
                            queue.stop_searching(Attached(py));
                        }
                        job
                    }
                    None => {
                        if !idle {
                            queue.begin_idle();
                        }
                        let mut hot = true;
                        let next = wait(py, Timeout::Forever, |until| {
                            let next = queue.idle_wait(parker, until, hot);
                            hot = false;
                            next
                        })?;
                        match next {
                            Some(Next::Job(job)) => job,
                            Some(Next::Exit) | None => return Ok(()),
                        }
                    }
                };
                idle = false;
                job.run(py, || {
                    if queue.is_empty() {
                        queue.begin_idle();
                        idle = true;
                    }
                });
            }
        })();
        CURRENT.with(|c| c.set(previous));
        self.state.store(DONE, SeqCst);
        queue.worker_exited(Attached(py));
        r
    }

    /// The worker's initializer raised: the pool is broken (`BrokenThreadPool`), every queued
    /// job fails with it, and this worker leaves.
    fn initializer_failed(&self, py: Python<'_>) -> PyResult<()> {
        if !self.claim(DONE) {
            return Err(PyRuntimeError::new_err("this worker ticket was already used"));
        }
        let r = self.shared.break_pool(py);
        self.shared.queue.worker_exited(Attached(py));
        r
    }
}
