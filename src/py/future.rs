//! `rthreading._core.Future` (`FutureBase` here): the native half of
//! `rthreading.futures.Future`.
//!
//! `rthreading.futures.Future` is `class Future(_core.Future, concurrent.futures.Future)`, so that
//! it *is* a `concurrent.futures.Future` (asyncio's `wrap_future` asserts that) while every
//! method comes from here: the state machine is `sync::pool::future`, waits go through `wait`.
//! Creating one costs one object, not the stdlib's `threading.Condition()`.
//!
//! The stdlib's `wait()` and `as_completed()` do not call methods: they take `f._condition`,
//! read `f._state` and append to `f._waiters`, and expect `set_result()` & co. to call
//! `waiter.add_result(f)` under that condition. Those attributes are made on first access (an
//! rthreading Condition and a list), and the future is then *observed*: from that moment its
//! finishing transitions run under the condition and tell the registered waiters (see the core's
//! module notes for why this cannot miss one).

use super::condition::Condition;
use super::wait::{cond_timeout, wait, Attached, Timeout};
use crate::sync::pool::future::{Cancel, Finish, Future as CoreFuture, Start, State};
use pyo3::exceptions::{PyException, PyRuntimeError, PyTimeoutError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyTuple, PyType};
use pyo3::{PyTraverseError, PyVisit};
use std::ptr;
use std::sync::atomic::{
    AtomicPtr,
    Ordering::{AcqRel, Acquire},
};

pyo3::import_exception!(concurrent.futures._base, CancelledError);
pyo3::import_exception!(concurrent.futures._base, InvalidStateError);

/// How a future finished.
pub(crate) enum Outcome {
    Value(Py<PyAny>),
    /// What `set_exception` was given (normally an exception instance).
    Error(Py<PyAny>),
}

impl Outcome {
    /// From a call's result: the exception keeps its traceback.
    pub(crate) fn of(py: Python<'_>, r: PyResult<Bound<'_, PyAny>>) -> Outcome {
        match r {
            Ok(v) => Outcome::Value(v.unbind()),
            Err(e) => Outcome::Error(e.into_value(py).into_any()),
        }
    }

    /// `result()`: the value, or the exception raised (`set_exception(None)` returns None).
    pub(crate) fn result(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self {
            Outcome::Value(v) => Ok(v.clone_ref(py)),
            Outcome::Error(e) if e.is_none(py) => Ok(py.None()),
            Outcome::Error(e) => Err(PyErr::from_value(e.bind(py).clone())),
        }
    }

    fn exception(&self, py: Python<'_>) -> Py<PyAny> {
        match self {
            Outcome::Value(_) => py.None(),
            Outcome::Error(e) => e.clone_ref(py),
        }
    }

    pub(crate) fn into_result(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self {
            Outcome::Value(v) => Ok(v),
            Outcome::Error(e) if e.is_none(py) => Ok(e),
            Outcome::Error(e) => Err(PyErr::from_value(e.into_bound(py))),
        }
    }

    fn visit(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        match self {
            Outcome::Value(v) | Outcome::Error(v) => visit.call(v),
        }
    }
}

pub(crate) type Core = CoreFuture<Outcome, Py<PyAny>>;

/// What the stdlib's `wait()`/`as_completed()` use, made on first access.
struct Extra {
    condition: Py<PyAny>,
    waiters: Py<PyList>,
}

/// The native base of `rthreading.futures.Future`, which executors hand out: see that class.
#[pyclass(module = "rthreading._core", name = "Future", frozen, subclass, weakref)]
pub struct FutureBase {
    pub(crate) core: Core,
    extra: AtomicPtr<Extra>,
}

impl Drop for FutureBase {
    fn drop(&mut self) {
        let p = *self.extra.get_mut();
        if !p.is_null() {
            // SAFETY: made by Box::into_raw in `extra_or_create`, owned by this future.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

/// The class `submit` instantiates: `rthreading.futures.Future`, registered at its import.
static FUTURE_CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
/// `concurrent.futures._base.LOGGER`.
static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Registers the Python subclass of FutureBase that executors hand out.
#[pyfunction]
pub(crate) fn _register_future_class(cls: &Bound<'_, PyType>) -> PyResult<()> {
    let py = cls.py();
    if !cls.is_subclass_of::<FutureBase>()? {
        return Err(PyTypeError::new_err("the future class must be a subclass of rthreading._core.Future"));
    }
    let _ = FUTURE_CLASS.set(py, cls.clone().unbind());
    Ok(())
}

pub(crate) fn logger(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    LOGGER
        .get_or_try_init(py, || py.import("concurrent.futures._base")?.getattr("LOGGER").map(Bound::unbind))
        .map(|l| l.bind(py))
}

/// Logs `exc` with its traceback at `level` ("error", "critical"), as `LOGGER.exception` does
/// inside an `except` block. A failure to log is reported as unraisable, never raised.
pub(crate) fn log_exception(
    py: Python<'_>,
    level: &str,
    msg: &str,
    arg: Option<&Bound<'_, PyAny>>,
    exc: &Bound<'_, PyAny>,
) {
    let r = (|| -> PyResult<()> {
        let kwargs = PyDict::new(py);
        kwargs.set_item(intern!(py, "exc_info"), exc)?;
        let log = logger(py)?;
        match arg {
            Some(a) => log.call_method(level, (msg, a), Some(&kwargs))?,
            None => log.call_method(level, (msg,), Some(&kwargs))?,
        };
        Ok(())
    })();
    if let Err(e) = r {
        e.write_unraisable(py, None);
    }
}

/// A new pending future of the registered class (FutureBase itself before registration).
pub(crate) fn new_future(py: Python<'_>) -> PyResult<Bound<'_, FutureBase>> {
    match FUTURE_CLASS.get(py) {
        Some(cls) => {
            // `cls.__new__(cls)` through the type's slot (FutureBase's `#[new]`, inherited by
            // the subclass), without the stdlib's `__init__`. The C API rather than PyO3's
            // `PyObjectInit`, which PyO3 0.29 made private (see pyo3-next/Cargo.toml).
            let cls = cls.bind(py);
            // SAFETY: `cls` is a live type object (held by FUTURE_CLASS); a type's `tp_new`
            // takes (type, args tuple, NULL kwargs) and returns a new reference or NULL with an
            // exception set, which `from_owned_ptr_or_err` turns into the error.
            let obj = unsafe {
                let tp_new = (*cls.as_type_ptr())
                    .tp_new
                    .ok_or_else(|| PyTypeError::new_err("the future class cannot be instantiated"))?;
                Bound::from_owned_ptr_or_err(
                    py,
                    tp_new(cls.as_type_ptr(), PyTuple::empty(py).as_ptr(), ptr::null_mut()),
                )?
            };
            // Checked: a `__new__` defined by the Python subclass could return anything.
            Ok(obj.cast_into::<FutureBase>()?)
        }
        None => Bound::new(py, FutureBase::new()),
    }
}

impl FutureBase {
    fn extra(&self) -> Option<&Extra> {
        // SAFETY: null or a Box owned by this future, freed only by Drop or `__clear__`
        // (which run when nothing else uses the future).
        unsafe { self.extra.load(Acquire).as_ref() }
    }

    fn extra_or_create(&self, py: Python<'_>) -> PyResult<&Extra> {
        if let Some(e) = self.extra() {
            return Ok(e);
        }
        let condition = py.get_type::<Condition>().call0()?.unbind();
        let fresh = Box::into_raw(Box::new(Extra { condition, waiters: PyList::empty(py).unbind() }));
        if self.extra.compare_exchange(std::ptr::null_mut(), fresh, AcqRel, Acquire).is_err() {
            // SAFETY: ours, never shared.
            drop(unsafe { Box::from_raw(fresh) });
        }
        // Before the condition is handed out: transitions from now on run under it.
        self.core.observe(Attached(py));
        self.extra().ok_or_else(|| PyRuntimeError::new_err("future state lost"))
    }

    /// Runs `f` holding the future's condition (made if needed).
    fn with_condition<'py, R>(slf: &Bound<'py, Self>, f: impl FnOnce(&Extra) -> PyResult<R>) -> PyResult<R> {
        let py = slf.py();
        let extra = slf.get().extra_or_create(py)?;
        let cond = extra.condition.bind(py);
        cond.call_method0(intern!(py, "acquire"))?;
        let r = f(extra);
        let released = cond.call_method0(intern!(py, "release"));
        let r = r?;
        released?;
        Ok(r)
    }

    /// Under the condition: `waiter.<method>(future)` for every registered waiter, then
    /// `notify_all()`, as the stdlib's transitions do.
    fn notify_waiters(slf: &Bound<'_, Self>, extra: &Extra, method: &Bound<'_, PyString>) -> PyResult<()> {
        let py = slf.py();
        let waiters = extra.waiters.bind(py);
        if !waiters.is_empty() {
            for w in waiters.iter().collect::<Vec<_>>() {
                w.call_method1(method, (slf,))?;
            }
        }
        extra.condition.bind(py).call_method0(intern!(py, "notify_all"))?;
        Ok(())
    }

    /// Runs done-callbacks; an `Exception` is logged, anything else (KeyboardInterrupt,
    /// SystemExit) propagates and skips the rest, as in the stdlib's `_invoke_callbacks`.
    pub(crate) fn invoke_callbacks(slf: &Bound<'_, Self>, callbacks: Vec<Py<PyAny>>) -> PyResult<()> {
        let py = slf.py();
        for cb in callbacks {
            Self::call_callback(slf, cb.bind(py))?;
        }
        Ok(())
    }

    fn call_callback(slf: &Bound<'_, Self>, cb: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = slf.py();
        if let Err(e) = cb.call1((slf,)) {
            if !e.is_instance_of::<PyException>(py) {
                return Err(e);
            }
            log_exception(py, "error", "exception calling callback for %r", Some(slf.as_any()), e.value(py));
        }
        Ok(())
    }

    /// `set_result` / `set_exception`: FINISHED with `outcome`, observers told, callbacks run.
    pub(crate) fn finish(slf: &Bound<'_, Self>, outcome: Outcome) -> PyResult<()> {
        let py = slf.py();
        let core = &slf.get().core;
        let method = match &outcome {
            Outcome::Value(_) => intern!(py, "add_result"),
            Outcome::Error(_) => intern!(py, "add_exception"),
        };
        let done = match core.finish(outcome, Attached(py), false) {
            Finish::NeedObserver(outcome) => Self::with_condition(slf, |extra| {
                let r = core.finish(outcome, Attached(py), true);
                if let Finish::Done(_) = &r {
                    Self::notify_waiters(slf, extra, method)?;
                }
                Ok(r)
            })?,
            other => other,
        };
        match done {
            Finish::Done(callbacks) => Self::invoke_callbacks(slf, callbacks),
            Finish::Invalid(outcome, state) => {
                drop(outcome);
                let repr = slf.repr()?;
                Err(InvalidStateError::new_err(format!("{}: {}", state.name(), repr)))
            }
            Finish::NeedObserver(_) => Err(PyRuntimeError::new_err("future state lost")),
        }
    }

    /// `set_running_or_notify_cancel`.
    pub(crate) fn start(slf: &Bound<'_, Self>) -> PyResult<bool> {
        let py = slf.py();
        let core = &slf.get().core;
        let started = match core.start(Attached(py), false) {
            Start::NeedObserver => Self::with_condition(slf, |extra| {
                let r = core.start(Attached(py), true);
                if r == Start::Cancelled {
                    // No notify_all: the stdlib relies on cancel() having notified.
                    let waiters = extra.waiters.bind(py);
                    for w in waiters.iter().collect::<Vec<_>>() {
                        w.call_method1(intern!(py, "add_cancelled"), (slf,))?;
                    }
                }
                Ok(r)
            })?,
            other => other,
        };
        match started {
            Start::Running => Ok(true),
            Start::Cancelled => Ok(false),
            Start::Unexpected(state) => {
                let msg = "Future %s in unexpected state: %s";
                logger(py)?.call_method1(intern!(py, "critical"), (msg, slf.as_ptr() as usize, state.name()))?;
                Err(PyRuntimeError::new_err("Future in unexpected state"))
            }
            Start::NeedObserver => Err(PyRuntimeError::new_err("future state lost")),
        }
    }

    fn new() -> Self {
        FutureBase { core: Core::new(), extra: AtomicPtr::new(std::ptr::null_mut()) }
    }

    fn outcome_result(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.core.with_outcome(Attached(py), |o| o.map_or_else(|| Ok(py.None()), |o| o.result(py)))
    }

    fn outcome_exception(&self, py: Python<'_>) -> Py<PyAny> {
        self.core.with_outcome(Attached(py), |o| o.map_or_else(|| py.None(), |o| o.exception(py)))
    }

    /// Waits (detached, interruptible) with `Condition.wait(timeout)` semantics unless done.
    fn wait_done(&self, py: Python<'_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<State> {
        let timeout = cond_timeout(timeout)?;
        if !matches!(timeout, Timeout::NonBlocking) {
            let core = &self.core;
            wait(py, timeout, |until| core.wait_until(until).then_some(()))?;
        }
        Ok(self.core.state())
    }
}

#[pymethods]
impl FutureBase {
    #[new]
    fn py_new() -> Self {
        FutureBase::new()
    }

    // The stdlib's `__init__` makes the condition and the lists: nothing to do here.
    fn __init__(&self) {}

    /// Attempt to cancel the call; return True if the future is cancelled.
    ///
    /// A call that is running or has finished cannot be cancelled: False is returned. Else
    /// the future is cancelled, its done-callbacks run, and True is returned.
    pub(crate) fn cancel(slf: &Bound<'_, Self>) -> PyResult<bool> {
        match slf.get().core.cancel(Attached(slf.py())) {
            Cancel::Cancelled(callbacks) => {
                if let Some(extra) = slf.get().extra() {
                    // Threads blocked in the condition's wait (the stdlib notifies them here).
                    let cond = extra.condition.bind(slf.py());
                    cond.call_method0(intern!(slf.py(), "acquire"))?;
                    let r = cond.call_method0(intern!(slf.py(), "notify_all"));
                    cond.call_method0(intern!(slf.py(), "release"))?;
                    r?;
                }
                Self::invoke_callbacks(slf, callbacks)?;
                Ok(true)
            }
            Cancel::AlreadyCancelled => Ok(true),
            Cancel::Refused => Ok(false),
        }
    }

    /// Return True if the call was successfully cancelled.
    fn cancelled(&self) -> bool {
        self.core.state().is_cancelled()
    }

    /// Return True if the call is being executed now and cannot be cancelled.
    fn running(&self) -> bool {
        self.core.state() == State::Running
    }

    /// Return True if the call was successfully cancelled or finished running.
    fn done(&self) -> bool {
        self.core.state().is_done()
    }

    /// Return the value returned by the call, waiting for it if needed.
    ///
    /// If the call has not finished yet, wait up to `timeout` seconds (None, the default:
    /// no limit); raise TimeoutError if it has not finished by then. If the future is
    /// cancelled, raise `concurrent.futures.CancelledError`. If the call raised an
    /// exception, raise that exception.
    ///
    /// The wait releases the interpreter. On the main thread, Ctrl-C interrupts it: the
    /// signal handler's exception propagates.
    #[pyo3(signature = (timeout = None))]
    fn result(&self, py: Python<'_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let mut state = self.core.state();
        if !state.is_done() {
            state = self.wait_done(py, timeout)?;
        }
        match state {
            State::Finished => self.outcome_result(py),
            s if s.is_cancelled() => Err(CancelledError::new_err(())),
            _ => Err(PyTimeoutError::new_err(())),
        }
    }

    /// Return the exception raised by the call (None if it returned), waiting if needed.
    ///
    /// If the call has not finished yet, wait up to `timeout` seconds (None, the default:
    /// no limit); raise TimeoutError if it has not finished by then. If the future is
    /// cancelled, raise `concurrent.futures.CancelledError`.
    ///
    /// The wait releases the interpreter. On the main thread, Ctrl-C interrupts it: the
    /// signal handler's exception propagates.
    #[pyo3(signature = (timeout = None))]
    fn exception(&self, py: Python<'_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let mut state = self.core.state();
        if !state.is_done() {
            state = self.wait_done(py, timeout)?;
        }
        match state {
            State::Finished => Ok(self.outcome_exception(py)),
            s if s.is_cancelled() => Err(CancelledError::new_err(())),
            _ => Err(PyTimeoutError::new_err(())),
        }
    }

    /// Attach a callable to be called with the future as its only argument when it is done.
    ///
    /// When the future is cancelled or finishes running, `fn(future)` is called in the
    /// thread that completed it; if the future is done already, at once in the calling
    /// thread. Callbacks run in the order they were added. An Exception raised by a callback
    /// is logged and ignored (other BaseExceptions propagate).
    #[pyo3(signature = (r#fn))]
    fn add_done_callback(slf: &Bound<'_, Self>, r#fn: Bound<'_, PyAny>) -> PyResult<()> {
        match slf.get().core.add_callback(r#fn.unbind(), Attached(slf.py())) {
            None => Ok(()),
            Some(cb) => Self::call_callback(slf, cb.bind(slf.py())),
        }
    }

    /// Mark the future as running, or process its cancellation.
    ///
    /// For Executor implementations and unit tests only, called before executing the work.
    /// Returns False if the future was cancelled (the threads waiting for it through
    /// `concurrent.futures.wait()` or `as_completed()` are woken), else sets it running and
    /// returns True; it can then no longer be cancelled. Raises RuntimeError if the future
    /// is already running or done.
    fn set_running_or_notify_cancel(slf: &Bound<'_, Self>) -> PyResult<bool> {
        Self::start(slf)
    }

    /// Set the result of the work associated with the future.
    ///
    /// For Executor implementations and unit tests only. Raises
    /// `concurrent.futures.InvalidStateError` if the future is already done.
    #[pyo3(signature = (result))]
    fn set_result(slf: &Bound<'_, Self>, result: Bound<'_, PyAny>) -> PyResult<()> {
        Self::finish(slf, Outcome::Value(result.unbind()))
    }

    /// Set the result of the work associated with the future to an exception.
    ///
    /// For Executor implementations and unit tests only. Raises
    /// `concurrent.futures.InvalidStateError` if the future is already done.
    #[pyo3(signature = (exception))]
    fn set_exception(slf: &Bound<'_, Self>, exception: Bound<'_, PyAny>) -> PyResult<()> {
        Self::finish(slf, Outcome::Error(exception.unbind()))
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        let this = slf.get();
        let name = slf.getattr(intern!(py, "__class__"))?.getattr(intern!(py, "__name__"))?;
        let addr = slf.as_ptr() as usize;
        let state = this.core.state();
        if state == State::Finished {
            let (exc, res) = this.core.with_outcome(Attached(py), |o| match o {
                Some(Outcome::Value(v)) => (None, v.clone_ref(py)),
                Some(Outcome::Error(e)) => (Some(e.clone_ref(py)), py.None()),
                None => (None, py.None()),
            });
            // The stdlib tests `if self._exception:` (truthiness), else names `_result`'s type.
            let (raised, of) = match exc {
                Some(e) if e.bind(py).is_truthy()? => (true, e),
                _ => (false, res),
            };
            let cls = of.bind(py).getattr(intern!(py, "__class__"))?.getattr(intern!(py, "__name__"))?;
            let verb = if raised { "raised" } else { "returned" };
            return Ok(format!("<{name} at {addr:#x} state={} {verb} {cls}>", state.description()));
        }
        Ok(format!("<{name} at {addr:#x} state={}>", state.description()))
    }

    // The stdlib's private state name (`'PENDING'`, ...), read by `wait()`/`as_completed()`.
    #[getter]
    fn _state<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        PyString::intern(py, self.core.state().name())
    }

    #[getter]
    fn _result(&self, py: Python<'_>) -> Py<PyAny> {
        self.core.with_outcome(Attached(py), |o| match o {
            Some(Outcome::Value(v)) => v.clone_ref(py),
            _ => py.None(),
        })
    }

    #[getter]
    fn _exception(&self, py: Python<'_>) -> Py<PyAny> {
        self.outcome_exception(py)
    }

    #[getter]
    fn _condition(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(self.extra_or_create(py)?.condition.clone_ref(py))
    }

    #[getter]
    fn _waiters(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        Ok(self.extra_or_create(py)?.waiters.clone_ref(py))
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.core.try_visit(|o| o.visit(&visit), |c| visit.call(c))?;
        if let Some(extra) = self.extra() {
            visit.call(&extra.condition)?;
            visit.call(&extra.waiters)?;
        }
        Ok(())
    }

    fn __clear__(&self) {
        // Never blocks: a mutex held elsewhere leaves the objects for a later collection.
        drop(self.core.try_take_all());
        let p = self.extra.swap(std::ptr::null_mut(), AcqRel);
        if !p.is_null() {
            // SAFETY: owned by this future; the collector runs `__clear__` when nothing else
            // uses it (see `extra`).
            drop(unsafe { Box::from_raw(p) });
        }
    }
}
