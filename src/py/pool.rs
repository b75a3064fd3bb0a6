//! `rthreading._core.ThreadPoolExecutor` (`ThreadPoolBase` here): the native half of
//! `rthreading.futures.ThreadPoolExecutor` (`class ThreadPoolExecutor(_core.ThreadPoolExecutor,
//! concurrent.futures.ThreadPoolExecutor)`): submit, map, shutdown. The queue and the workers' bookkeeping are `sync::pool::queue`; the jobs and
//! the worker loop are in `pool/worker.rs`, `map`'s iterator in `pool/map.rs`.
//!
//! The Python class keeps the stdlib's attributes (`_max_workers`, `_initializer`, ...) and
//! makes the worker threads (`_new_worker_thread`), which hold only the shared state, never the pool:
//! a pool that is no longer referenced lets its workers finish the queue and leave, as the
//! stdlib's does. `_python_exit` (registered with `threading._register_atexit`) does the same
//! for every pool when the interpreter exits, and `forget_workers_after_fork` (run by `fork`)
//! forgets the workers that do not exist in a fork child, so that the next submit starts new ones.

mod map;
mod worker;

use super::future::{new_future, FutureBase};
use super::wait::{wait, Attached, Given, Timeout};
use crate::sync::pool::queue::WorkQueue;
use map::MapIterator;
use pyo3::exceptions::PyRuntimeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::MutexExt;
use pyo3::types::{PyDict, PySet, PyTuple};
use pyo3::{PyTraverseError, PyVisit};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, OnceLock, Weak};
pub(crate) use worker::WorkerTicket;
use worker::{is_worker_of, ItemCore, Job};

pyo3::import_exception!(concurrent.futures.thread, BrokenThreadPool);

const BROKEN_MESSAGE: &str = "A thread initializer failed, the thread pool is not usable anymore";

/// What the pool and its workers share.
pub(crate) struct Shared {
    queue: WorkQueue<Job>,
    broken: AtomicBool,
    shutdown: AtomicBool,
    /// The workers' `threading.Thread` objects, in start order.
    threads: parking_lot::Mutex<Vec<Py<PyAny>>>,
}

/// Every pool's shared state, for interpreter exit and fork.
static POOLS: parking_lot::Mutex<Vec<Weak<Shared>>> = parking_lot::Mutex::new(Vec::new());
/// Set by `_python_exit`: no pool takes new work.
static INTERPRETER_EXITING: AtomicBool = AtomicBool::new(false);

impl Shared {
    /// Why a submit was refused, in the stdlib's order of checks.
    fn refusal(&self) -> PyErr {
        if self.broken.load(SeqCst) {
            BrokenThreadPool::new_err(BROKEN_MESSAGE)
        } else if self.shutdown.load(SeqCst) {
            PyRuntimeError::new_err("cannot schedule new futures after shutdown")
        } else {
            PyRuntimeError::new_err("cannot schedule new futures after interpreter shutdown")
        }
    }

    /// An initializer failed: refuse new work and fail every queued job with BrokenThreadPool.
    fn break_pool(&self, py: Python<'_>) -> PyResult<()> {
        self.broken.store(true, SeqCst);
        py.detach(|| self.queue.close());
        let error = BrokenThreadPool::new_err(BROKEN_MESSAGE).into_value(py).into_any();
        let mut first_error = None;
        for job in self.queue.drain() {
            if let Err(e) = job.fail(py, error.bind(py)) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// No new work; workers leave once the queue is empty.
    fn close_and_exit(&self, py: Python<'_>) {
        py.detach(|| self.queue.close());
        self.queue.request_exit(Attached(py));
    }
}

/// The native base of `rthreading.futures.ThreadPoolExecutor`: see that class.
#[pyclass(module = "rthreading._core", name = "ThreadPoolExecutor", frozen, subclass, weakref)]
pub struct ThreadPoolBase {
    shared: OnceLock<Arc<Shared>>,
    /// Worker threads are named `f"{prefix}_{i}"`.
    prefix: OnceLock<String>,
}

impl Drop for ThreadPoolBase {
    fn drop(&mut self) {
        // Unreferenced: the workers finish what is queued and leave (the stdlib's weakref
        // callback wakes them for the same purpose).
        if let Some(shared) = self.shared.get() {
            // Nobody can be submitting (nothing refers to the pool): `close` returns at once.
            shared.queue.close();
            Python::attach(|py| shared.queue.request_exit(Attached(py)));
        }
    }
}

impl ThreadPoolBase {
    fn shared(&self) -> PyResult<&Arc<Shared>> {
        self.shared.get().ok_or_else(|| PyRuntimeError::new_err("ThreadPoolExecutor.__init__() was not called"))
    }

    /// Starts worker number `index` (a slot `push` reserved): the Python class makes the
    /// `threading.Thread`, listed before it starts so that a task's `shutdown()` finds it.
    fn start_worker(slf: &Bound<'_, Self>, shared: &Arc<Shared>, index: usize) -> PyResult<()> {
        let py = slf.py();
        let prefix = slf.get().prefix.get().map_or("ThreadPoolExecutor", String::as_str);
        let name = format!("{prefix}_{index}");
        let ticket = Bound::new(py, WorkerTicket::new(shared.clone()))?;
        let started = slf.call_method1(intern!(py, "_new_worker_thread"), (&ticket, name)).and_then(|thread| {
            shared.threads.lock_py_attached(py).push(thread.clone().unbind());
            thread.call_method0(intern!(py, "start")).inspect_err(|_| {
                shared.threads.lock_py_attached(py).retain(|t| !t.is(&thread));
            })
        });
        if started.is_err() {
            ticket.get().abandon(py);
        }
        started.map(drop)
    }

    /// Queues a job; starts a worker if no idle one will take it.
    #[inline]
    fn push(slf: &Bound<'_, Self>, shared: &Arc<Shared>, job: Job) -> PyResult<()> {
        match shared.queue.push(job, Attached(slf.py())) {
            Ok(None) => Ok(()),
            Ok(Some(index)) => Self::start_worker(slf, shared, index),
            Err(job) => {
                drop(job);
                Err(shared.refusal())
            }
        }
    }
}

#[pymethods]
impl ThreadPoolBase {
    // Arguments are for the Python class's `__init__`, which calls `_setup`.
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Self {
        ThreadPoolBase { shared: OnceLock::new(), prefix: OnceLock::new() }
    }

    // Makes the queue (`__init__` calls it once, with the stdlib's arguments checked).
    fn _setup(&self, py: Python<'_>, max_workers: usize, thread_name_prefix: String) -> PyResult<()> {
        let shared = Arc::new(Shared {
            queue: WorkQueue::new(max_workers),
            broken: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            threads: parking_lot::Mutex::new(Vec::new()),
        });
        if self.shared.set(shared.clone()).is_err() {
            return Err(PyRuntimeError::new_err("ThreadPoolExecutor.__init__() called twice"));
        }
        let _ = self.prefix.set(thread_name_prefix);
        if INTERPRETER_EXITING.load(SeqCst) {
            shared.close_and_exit(py); // made during exit: refuses work like the others
        }
        let mut pools = POOLS.lock_py_attached(py);
        pools.retain(|w| w.strong_count() > 0);
        pools.push(Arc::downgrade(&shared));
        Ok(())
    }

    /// Schedule `fn(*args, **kwargs)` to be executed; return a Future representing it.
    ///
    /// The call runs in one of the pool's worker threads; a new worker is started if none
    /// is idle and fewer than `max_workers` exist. Raises RuntimeError after `shutdown()`
    /// (or once the interpreter is exiting), and
    /// `concurrent.futures.thread.BrokenThreadPool` if a worker's initializer failed.
    #[pyo3(signature = (r#fn, /, *args, **kwargs), text_signature = "($self, fn, /, *args, **kwargs)")]
    fn submit<'py>(
        slf: &Bound<'py, Self>,
        r#fn: Bound<'py, PyAny>,
        args: Bound<'py, PyTuple>,
        kwargs: Option<Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, FutureBase>> {
        let shared = slf.get().shared()?;
        if shared.broken.load(SeqCst) {
            return Err(shared.refusal());
        }
        let future = new_future(slf.py())?;
        let job = Job::Call {
            future: future.clone().unbind(),
            func: r#fn.unbind(),
            args: args.unbind(),
            kwargs: kwargs.map(Bound::unbind),
        };
        Self::push(slf, shared, job)?;
        Ok(future)
    }

    // `map` without `buffersize`: every item is queued now (each as `submit` would), the
    // results come back in order from the returned iterator.
    #[pyo3(signature = (func, iterables, end_time))]
    fn _map(
        slf: &Bound<'_, Self>,
        func: Bound<'_, PyAny>,
        iterables: &Bound<'_, PyTuple>,
        end_time: Option<f64>,
    ) -> PyResult<MapIterator> {
        let py = slf.py();
        let shared = slf.get().shared()?;
        let star = iterables.len() != 1;
        let args = if star {
            py.import(intern!(py, "builtins"))?.getattr(intern!(py, "zip"))?.call1(iterables)?.try_iter()?
        } else {
            iterables.get_item(0)?.try_iter()?
        };
        let mut pending: VecDeque<Arc<ItemCore>> = VecDeque::with_capacity(args.len().unwrap_or(0));
        for arg in args {
            let arg = arg?;
            if shared.broken.load(SeqCst) {
                return Err(shared.refusal());
            }
            let item = Arc::new(ItemCore::new());
            let job = Job::Item { item: item.clone(), func: func.clone().unbind(), arg: arg.unbind(), star };
            Self::push(slf, shared, job)?;
            pending.push_back(item);
        }
        Ok(MapIterator::new(pending, end_time))
    }

    /// Signal the executor to free its resources once the pending work is done.
    ///
    /// Calls to `submit()` and `map()` made after shutdown raise RuntimeError. With `wait`
    /// true (the default), return only once every pending future has finished and the
    /// worker threads have exited; with `wait` false, return at once (the workers still
    /// finish the queued work, and the interpreter waits for them at exit). With
    /// `cancel_futures` true, the futures that have not started running are cancelled
    /// instead of run. Using the executor in a `with` statement calls `shutdown(wait=True)`
    /// at the end of the block.
    ///
    /// The wait releases the interpreter; on the main thread Ctrl-C interrupts it.
    #[pyo3(signature = (wait = Given::MISSING, *, cancel_futures = Given::MISSING), text_signature = "($self, /, wait=True, *, cancel_futures=False)")]
    fn shutdown(slf: &Bound<'_, Self>, wait: Given<'_, '_>, cancel_futures: Given<'_, '_>) -> PyResult<()> {
        let py = slf.py();
        let shared = slf.get().shared()?;
        shared.shutdown.store(true, SeqCst);
        py.detach(|| shared.queue.close());
        if cancel_futures.get().map_or(Ok(false), |c| c.is_truthy())? {
            for job in shared.queue.drain() {
                job.cancel(py)?;
            }
        }
        shared.queue.request_exit(Attached(py));
        if wait.get().map_or(Ok(true), |w| w.is_truthy())? {
            // A task shutting its own pool down waits for the other workers, then its join of
            // itself raises as the stdlib's does.
            let remaining = usize::from(is_worker_of(shared));
            let queue = &shared.queue;
            self::wait(py, Timeout::Forever, |until| queue.wait_workers(remaining, until).then_some(()))?;
            let threads: Vec<Py<PyAny>> = shared.threads.lock_py_attached(py).iter().map(|t| t.clone_ref(py)).collect();
            for t in threads {
                t.bind(py).call_method0(intern!(py, "join"))?;
            }
        }
        Ok(())
    }

    // The stdlib's private flag: True once shutdown() was called.
    #[getter]
    fn _shutdown(&self) -> PyResult<bool> {
        Ok(self.shared()?.shutdown.load(SeqCst))
    }

    // The stdlib's private flag: False, or the reason the pool broke.
    #[getter]
    fn _broken(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(if self.shared()?.broken.load(SeqCst) {
            BROKEN_MESSAGE.into_pyobject(py)?.into_any().unbind()
        } else {
            false.into_pyobject(py)?.to_owned().into_any().unbind()
        })
    }

    // The worker threads started, as the stdlib's `_threads` set.
    #[getter]
    fn _threads<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PySet>> {
        let threads: Vec<Py<PyAny>> =
            self.shared()?.threads.lock_py_attached(py).iter().map(|t| t.clone_ref(py)).collect();
        PySet::new(py, threads)
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(shared) = self.shared.get() {
            if let Some(threads) = shared.threads.try_lock() {
                for t in threads.iter() {
                    visit.call(t)?;
                }
            }
        }
        Ok(())
    }

    fn __clear__(&self) {
        if let Some(shared) = self.shared.get() {
            if let Some(mut threads) = shared.threads.try_lock() {
                threads.clear();
            }
        }
    }
}

/// `threading._register_atexit` hook: every pool stops taking work; their workers finish the
/// queue and leave, and are joined here, as the stdlib's hook joins its workers (also daemon
/// ones, made by a daemon thread: none is left to wake up while the interpreter finalizes).
#[pyfunction]
pub(crate) fn _python_exit(py: Python<'_>) -> PyResult<()> {
    INTERPRETER_EXITING.store(true, SeqCst);
    let pools: Vec<Arc<Shared>> = POOLS.lock_py_attached(py).iter().filter_map(Weak::upgrade).collect();
    for shared in &pools {
        // The stdlib's workers mark their executor shut down when they leave at exit, so a
        // later submit (from an atexit function) says "after shutdown".
        shared.shutdown.store(true, SeqCst);
        shared.close_and_exit(py);
    }
    for shared in &pools {
        let queue = &shared.queue;
        wait(py, Timeout::Forever, |until| queue.wait_workers(0, until).then_some(()))?;
        let threads: Vec<Py<PyAny>> = shared.threads.lock_py_attached(py).iter().map(|t| t.clone_ref(py)).collect();
        for t in threads {
            t.bind(py).call_method0(intern!(py, "join"))?;
        }
    }
    Ok(())
}

/// In a fork child (see `fork`): the workers do not exist there.
pub(crate) fn forget_workers_after_fork() {
    // SAFETY (force_unlock): in a fork child only the forking thread exists; a lock held by
    // another thread at the fork can never be released.
    if POOLS.is_locked() {
        // SAFETY: see above.
        unsafe { POOLS.force_unlock() };
    }
    let pools: Vec<Arc<Shared>> = POOLS.lock().iter().filter_map(Weak::upgrade).collect();
    for shared in pools {
        shared.queue.reinit_after_fork();
        if shared.threads.is_locked() {
            // SAFETY: see above.
            unsafe { shared.threads.force_unlock() };
        }
        let dead = std::mem::take(&mut *shared.threads.lock());
        drop(dead);
    }
}
