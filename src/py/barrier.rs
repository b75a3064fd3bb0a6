//! `rthreading.Barrier`: the wrapper over `sync::barrier::Barrier`. It keeps what Python gave
//! (`parties` as passed, the action, the default timeout), runs the action between the last
//! arrival and the release without holding any lock, and raises the stdlib's own
//! `threading.BrokenBarrierError`.

use super::wait::{wait, wait_for_timeout, Timeout};
use super::waker::Waker;
use crate::sync::barrier::{Arrival, Barrier as CoreBarrier, Control};
use parking_lot::Mutex;
use pyo3::exceptions::{PyAttributeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::{MutexExt, PyOnceLock};
use pyo3::types::{PyInt, PyType};
use pyo3::{intern, PyTraverseError, PyVisit};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

static BROKEN_BARRIER_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `threading.BrokenBarrierError()`, the stdlib's class so `except` clauses catch ours.
fn broken(py: Python<'_>) -> PyErr {
    match BROKEN_BARRIER_ERROR.import(py, "threading", "BrokenBarrierError") {
        Ok(ty) => PyErr::from_type(ty.clone(), ()),
        Err(e) => e,
    }
}

/// What the stdlib raises when `__init__` never ran (it finds no attribute).
fn uninit(slf: &Bound<'_, Barrier>, attr: &str) -> PyErr {
    let name = slf.get_type().name().map_or_else(|_| "Barrier".to_owned(), |n| n.to_string());
    PyAttributeError::new_err(format!("'{name}' object has no attribute '{attr}'"))
}

/// The arrival count that trips a barrier of `parties`: the stdlib trips when
/// `index + 1 == parties`, so a non-integer trips at the integer it equals, or never.
fn trip_count(parties: &Bound<'_, PyAny>) -> usize {
    if let Ok(n) = parties.extract::<usize>() {
        return n;
    }
    let as_int = parties.py().get_type::<PyInt>().call1((parties,));
    as_int.and_then(|k| if k.eq(parties)? { k.extract::<usize>() } else { Ok(usize::MAX) }).unwrap_or(usize::MAX)
}

/// Waits with no deadline (interruptible by a signal handler's exception).
fn wait_forever<R, F>(py: Python<'_>, mut attempt: F) -> PyResult<R>
where
    R: Send,
    F: FnMut(Option<Instant>) -> Option<R> + Send,
{
    loop {
        if let Some(r) = wait(py, Timeout::Forever, &mut attempt)? {
            return Ok(r);
        }
    }
}

struct Config {
    parties: Py<PyAny>,
    action: Option<Py<PyAny>>,
    timeout: Option<Py<PyAny>>,
}

/// `flags` bits, so that `wait` reads the configuration only when it has something in it.
const INIT: u8 = 1;
const ACTION: u8 = 2;
const TIMEOUT: u8 = 4;

/// A barrier for a fixed number of threads: the drop-in for `threading.Barrier`.
///
/// Each of `parties` threads calls `wait()`; they all block until the last one arrives, and
/// are then released together. The barrier can be reused any number of times for the same
/// number of threads. `action`, if given, is a callable that one of the threads calls, with
/// no arguments, once they have all arrived and before any is released. `timeout` is the
/// default for `wait()` (None: no limit). `parties` must be at least 1 (ValueError).
///
/// A barrier whose wait timed out, that was aborted, or whose action raised, is *broken*:
/// `wait()` raises `threading.BrokenBarrierError` (the stdlib's own class) until `reset()`,
/// which also makes the threads waiting at that moment raise it. Every wait releases the interpreter; on the main thread a wait is interrupted
/// by Ctrl-C (the signal handler's exception propagates). Like the stdlib's class, Barrier
/// can be subclassed and its instances take attributes.
// An instance `__dict__` from 3.13 on (see `instance_dict`).
#[cfg_attr(Py_3_13, pyclass(module = "rthreading", name = "Barrier", frozen, subclass, weakref, dict))]
#[cfg_attr(not(Py_3_13), pyclass(module = "rthreading", name = "Barrier", frozen, subclass, weakref))]
pub struct Barrier {
    core: CoreBarrier,
    config: Mutex<Option<Config>>,
    flags: AtomicU8,
}

impl Barrier {
    fn default_timeout(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.config.lock_py_attached(py).as_ref().and_then(|c| c.timeout.as_ref().map(|t| t.clone_ref(py)))
    }

    /// The last party: runs the action (if truthy, as the stdlib tests it), then releases the
    /// others, or breaks the barrier and raises the action's exception.
    fn release(&self, py: Python<'_>, index: usize) -> PyResult<usize> {
        let action = self.config.lock_py_attached(py).as_ref().and_then(|c| c.action.as_ref().map(|a| a.clone_ref(py)));
        let outcome = match &action {
            Some(a) => {
                let a = a.bind(py);
                a.is_truthy().and_then(|run| if run { a.call0().map(drop) } else { Ok(()) })
            }
            None => Ok(()),
        };
        let core = &self.core;
        let released = core.finish_release(&mut core.state().lock_py_attached(py), outcome.is_ok());
        drop(action);
        outcome?;
        if released {
            Ok(index)
        } else {
            Err(broken(py))
        }
    }

    /// A party that is not the last: waits for the release until its timeout, which breaks
    /// a barrier still filling. An exception from a signal handler makes it leave the barrier
    /// as it stands, as the stdlib's `finally:` does.
    fn await_release(&self, py: Python<'_>, index: usize, timeout: Timeout) -> PyResult<usize> {
        let core = &self.core;
        let released = match wait(py, timeout, |until| core.wait_released_until(until)) {
            Ok(Some(released)) => released,
            Ok(None) => {
                let expired = core.expire(&mut core.state().lock_py_attached(py));
                match expired {
                    Some(released) => released,
                    // the last party runs the action: the stdlib's party would wait for the lock
                    None => match wait_forever(py, |until| core.wait_released_until(until)) {
                        Ok(released) => released,
                        Err(e) => {
                            core.abandon(&mut core.state().lock_py_attached(py));
                            return Err(e);
                        }
                    },
                }
            }
            Err(e) => {
                core.abandon(&mut core.state().lock_py_attached(py));
                return Err(e);
            }
        };
        if released {
            Ok(index)
        } else {
            Err(broken(py))
        }
    }

    fn control(&self, py: Python<'_>, op: Control) -> PyResult<()> {
        let core = &self.core;
        let done = core.control(&mut core.state().lock_py_attached(py), op);
        if !done {
            // another thread runs the action: the stdlib would wait for the lock it holds
            wait_forever(py, |until| core.control_until(op, until))?;
        }
        Ok(())
    }
}

/// What `_async_arrive` returns: (waiting for the release, index, the default timeout).
type AsyncArrival = (bool, usize, Option<Py<PyAny>>);

#[pymethods]
impl Barrier {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs), text_signature = "(parties, action=None, timeout=None)")]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        Barrier { core: CoreBarrier::new(usize::MAX), config: Mutex::new(None), flags: AtomicU8::new(0) }
    }

    #[pyo3(signature = (parties, action=None, timeout=None))]
    fn __init__(
        &self,
        py: Python<'_>,
        parties: &Bound<'_, PyAny>,
        action: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        if parties.lt(1)? {
            return Err(PyValueError::new_err("parties must be >= 1"));
        }
        let trip = trip_count(parties);
        let config = Config {
            parties: parties.clone().unbind(),
            action: action.map(|a| a.clone().unbind()),
            timeout: timeout.map(|t| t.clone().unbind()),
        };
        let flags = INIT | if action.is_some() { ACTION } else { 0 } | if timeout.is_some() { TIMEOUT } else { 0 };
        let old = {
            let mut cfg = self.config.lock_py_attached(py);
            self.flags.store(flags, Ordering::Release);
            cfg.replace(config)
        };
        let core = &self.core;
        core.reinit(&mut core.state().lock_py_attached(py), trip);
        drop(old); // outside the lock: dropping may run Python code
        Ok(())
    }

    /// Pass the barrier: wait until all the parties have called `wait()`.
    ///
    /// Returns an integer from 0 to `parties - 1`, different for each thread (for example to
    /// pick one thread to do some housekeeping). If an action was given, one of the threads
    /// calls it before any is released; if it raises, the barrier breaks and that exception
    /// propagates from that thread's call. `timeout` (in seconds) overrides the barrier's
    /// default; if it passes before every party has arrived, the barrier breaks.
    ///
    /// Raises `threading.BrokenBarrierError` if the barrier is broken or reset while the
    /// thread waits, or is broken when it calls. The wait releases the interpreter. On the
    /// main thread, Ctrl-C interrupts it: the signal handler's exception propagates and the
    /// thread leaves the barrier as it stands.
    #[pyo3(signature = (timeout=None))]
    fn wait(slf: &Bound<'_, Self>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<usize> {
        let py = slf.py();
        let this = slf.get();
        let flags = this.flags.load(Ordering::Acquire);
        if flags & INIT == 0 {
            return Err(uninit(slf, "_timeout"));
        }
        // The stdlib reads the timeout (the default one if None) only when the party has to
        // wait: parse it first, report a bad one only then.
        let parsed = match timeout {
            Some(t) => wait_for_timeout(Some(t)),
            None if flags & TIMEOUT != 0 => {
                let default = this.default_timeout(py);
                wait_for_timeout(default.as_ref().map(|t| t.bind(py)))
            }
            None => Ok(Timeout::Forever),
        };
        let (timeout, bad_timeout) = match parsed {
            Ok(t) => (t, None),
            Err(e) => (Timeout::Forever, Some(e)),
        };
        let (has_action, may_wait) = (flags & ACTION != 0, bad_timeout.is_none());
        let core = &this.core;
        let arrival = core.arrive(&mut core.state().lock_py_attached(py), has_action, may_wait);
        let arrival = match arrival {
            Some(a) => a,
            // draining, resetting or running an action: the stdlib waits without a timeout
            None => wait_forever(py, |until| core.arrive_until(has_action, may_wait, until))?,
        };
        match arrival {
            Arrival::Released(index) => Ok(index),
            Arrival::Waiting(index) => this.await_release(py, index, timeout),
            Arrival::Releasing(index) => this.release(py, index),
            Arrival::Broken => Err(broken(py)),
            Arrival::WouldWait => Err(bad_timeout.unwrap_or_else(|| broken(py))),
        }
    }

    // For `rthreading._aio` (Barrier.async_wait): the non-waiting steps of `wait`, on the
    // barrier's watchers (see `waker`). `_async_arrive`: None while arrivals must queue (watch
    // and try again); else `(waiting, index, default timeout)`: waiting for the release, or
    // done (released by this arrival, its action run here, on the loop's thread).
    fn _async_arrive(slf: &Bound<'_, Self>) -> PyResult<Option<AsyncArrival>> {
        let py = slf.py();
        let this = slf.get();
        let flags = this.flags.load(Ordering::Acquire);
        if flags & INIT == 0 {
            return Err(uninit(slf, "_timeout"));
        }
        let core = &this.core;
        let arrival = core.arrive(&mut core.state().lock_py_attached(py), flags & ACTION != 0, true);
        match arrival {
            None => Ok(None),
            Some(Arrival::Waiting(index)) => Ok(Some((true, index, this.default_timeout(py)))),
            Some(Arrival::Released(index)) => Ok(Some((false, index, None))),
            Some(Arrival::Releasing(index)) => this.release(py, index).map(|i| Some((false, i, None))),
            Some(Arrival::Broken | Arrival::WouldWait) => Err(broken(py)),
        }
    }

    // A waiting party: None while unreleased; else it has left, released (True) or not.
    fn _async_released(&self, py: Python<'_>) -> Option<bool> {
        self.core.try_released(&mut self.core.state().lock_py_attached(py))
    }

    // A waiting party whose timeout passed (breaks a barrier still filling): as
    // `_async_released`, None while the action runs (keep waiting, without a deadline).
    fn _async_expire(&self, py: Python<'_>) -> Option<bool> {
        self.core.expire(&mut self.core.state().lock_py_attached(py))
    }

    // A waiting party leaving on cancellation: as it stands, like a thread's on an exception.
    fn _async_abandon(&self, py: Python<'_>) {
        self.core.abandon(&mut self.core.state().lock_py_attached(py));
    }

    fn _watch(&self, py: Python<'_>, waker: &Bound<'_, Waker>) {
        waker.get().register_in(&mut self.core.state().lock_py_attached(py).watchers);
    }

    fn _unwatch(&self, py: Python<'_>, waker: &Bound<'_, Waker>) {
        waker.get().unregister_from(&mut self.core.state().lock_py_attached(py).watchers);
    }

    /// Return the barrier to its initial, empty state.
    ///
    /// Threads waiting on it get `threading.BrokenBarrierError`. A broken barrier is usable
    /// again after a reset.
    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        self.control(py, Control::Reset)
    }

    /// Put the barrier into the broken state.
    ///
    /// Threads waiting on it, and threads calling `wait()` from now on, get
    /// `threading.BrokenBarrierError` (until `reset()`). Useful when one thread has to give
    /// up, so that the others do not wait forever.
    fn abort(&self, py: Python<'_>) -> PyResult<()> {
        self.control(py, Control::Abort)
    }

    /// The number of threads required to pass the barrier.
    #[getter]
    fn parties(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let parties = slf.get().config.lock_py_attached(py).as_ref().map(|c| c.parties.clone_ref(py));
        parties.ok_or_else(|| uninit(slf, "_parties"))
    }

    /// The number of threads waiting at the barrier now.
    #[getter]
    fn n_waiting(&self, py: Python<'_>) -> usize {
        self.core.state().lock_py_attached(py).n_waiting()
    }

    /// True if the barrier is in the broken state.
    #[getter]
    fn broken(&self, py: Python<'_>) -> bool {
        self.core.state().lock_py_attached(py).broken()
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        let cls = slf.get_type();
        let module = cls.getattr(intern!(py, "__module__"))?;
        let qualname = cls.getattr(intern!(py, "__qualname__"))?;
        let head = format!("<{}.{} at {:#x}:", module.str()?, qualname.str()?, slf.as_ptr() as usize);
        if slf.getattr(intern!(py, "broken"))?.is_truthy()? {
            return Ok(format!("{head} broken>"));
        }
        let n = slf.getattr(intern!(py, "n_waiting"))?;
        let parties = slf.getattr(intern!(py, "parties"))?;
        Ok(format!("{head} waiters={}/{}>", n.str()?, parties.str()?))
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(cfg) = self.config.try_lock() {
            if let Some(c) = cfg.as_ref() {
                visit.call(&c.parties)?;
                visit.call(c.action.as_ref())?;
                visit.call(c.timeout.as_ref())?;
            }
        }
        Ok(())
    }

    fn __clear__(&self) {
        let old = Python::attach(|py| {
            let mut cfg = self.config.lock_py_attached(py);
            self.flags.store(0, Ordering::Release);
            cfg.take()
        });
        drop(old);
    }
}
