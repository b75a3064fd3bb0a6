//! The one place that turns Python's timeout arguments into a deadline and waits for it:
//! detached from the interpreter, in short slices on the main thread so that signal handlers
//! (Ctrl-C) run and their exceptions propagate out of the wait. Every blocking call in
//! rthreading goes through `wait`.

use pyo3::exceptions::{PyOverflowError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyFloat;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// How long a wait on the main thread sleeps before it re-attaches to run signal handlers.
const SLICE: Duration = Duration::from_millis(20);

/// `_thread.TIMEOUT_MAX` in microseconds (CPython's `PY_TIMEOUT_MAX`), read at import.
static TIMEOUT_MAX_US: AtomicI64 = AtomicI64::new(i64::MAX);

pub fn init(py: Python<'_>) -> PyResult<()> {
    let max: f64 = py.import("_thread")?.getattr("TIMEOUT_MAX")?.extract()?;
    TIMEOUT_MAX_US.store((max * 1e6) as i64, Relaxed);
    Ok(())
}

/// A parsed timeout: what a blocking call was asked to do.
#[derive(Clone, Copy, Debug)]
pub enum Timeout {
    NonBlocking,
    Forever,
    After(Duration),
}

impl Timeout {
    /// The deadline, counted from now; None for "no limit".
    pub fn deadline(self) -> Option<Instant> {
        match self {
            Timeout::NonBlocking => Some(Instant::now()),
            Timeout::Forever => None,
            Timeout::After(d) => Instant::now().checked_add(d),
        }
    }
}

/// CPython's own error for a timeout it cannot represent, whose message differs between versions
/// and between int and float: what `lock.acquire(True, obj)` raises for the same object.
#[cold]
fn pytime_overflow(obj: &Bound<'_, PyAny>) -> PyErr {
    let raised = obj
        .py()
        .import("_thread")
        .and_then(|t| t.call_method0("allocate_lock"))
        .and_then(|lock| lock.call_method1("acquire", (true, obj)));
    match raised {
        Err(e) => e,
        Ok(_) => PyOverflowError::new_err("timestamp out of range for C PyTime_t"),
    }
}

/// Seconds as CPython's `_PyTime_FromSecondsObject(obj, ROUND_TIMEOUT)` reads them: a float
/// (NaN refused) or an integer (anything with `__index__`), in nanoseconds rounded away from 0.
fn pytime_ns(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    if let Ok(f) = obj.cast::<PyFloat>() {
        let secs = f.value();
        if secs.is_nan() {
            return Err(PyValueError::new_err("Invalid value NaN (not a number)"));
        }
        let ns = secs * 1e9;
        let ns = if ns >= 0.0 { ns.ceil() } else { ns.floor() };
        if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&ns) {
            return Err(pytime_overflow(obj));
        }
        return Ok(ns as i64);
    }
    let secs: i64 = obj.extract::<i64>().map_err(|e: PyErr| {
        if e.is_instance_of::<PyOverflowError>(obj.py()) {
            pytime_overflow(obj)
        } else {
            e
        }
    })?;
    secs.checked_mul(1_000_000_000).ok_or_else(|| pytime_overflow(obj))
}

/// A positive timeout in nanoseconds, refused above `TIMEOUT_MAX` as `lock.acquire` does.
fn bounded(ns: i64) -> PyResult<Timeout> {
    let us = ns.div_euclid(1000) + i64::from(ns.rem_euclid(1000) != 0);
    if us > TIMEOUT_MAX_US.load(Relaxed) {
        return Err(PyOverflowError::new_err("timeout value is too large"));
    }
    Ok(Timeout::After(Duration::from_nanos(ns.max(0) as u64)))
}

/// `lock.acquire(blocking=True, timeout=-1)` arguments, checked as `_thread.lock` checks them.
pub fn lock_timeout(blocking: Option<&Bound<'_, PyAny>>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Timeout> {
    const UNSET: i64 = -1_000_000_000;
    let blocking = match blocking {
        None => true,
        Some(b) => b.is_truthy()?,
    };
    let ns = match timeout {
        None => UNSET,
        Some(t) => pytime_ns(t)?,
    };
    if !blocking && ns != UNSET {
        return Err(PyValueError::new_err("can't specify a timeout for a non-blocking call"));
    }
    if ns < 0 && ns != UNSET {
        return Err(PyValueError::new_err("timeout value must be a non-negative number"));
    }
    if !blocking {
        Ok(Timeout::NonBlocking)
    } else if ns == UNSET {
        Ok(Timeout::Forever)
    } else {
        bounded(ns)
    }
}

/// `Condition.wait(timeout=None)` semantics, shared by the stdlib's Python-level waits
/// (Condition, Event): None waits forever, a value `> 0` (compared in Python, so its errors
/// are Python's) waits that long, anything else does not block.
pub fn cond_timeout(timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Timeout> {
    match timeout {
        None => Ok(Timeout::Forever),
        Some(t) if t.is_none() => Ok(Timeout::Forever),
        Some(t) => {
            if !t.gt(0)? {
                return Ok(Timeout::NonBlocking);
            }
            bounded(pytime_ns(t)?)
        }
    }
}

/// `Semaphore.acquire(timeout=...)` when it must wait, as the stdlib's Python code computes it:
/// `time.monotonic() + timeout` (so a non-number raises Python's TypeError for `+`), then
/// `Condition.wait(timeout)` semantics; a NaN deadline waits until released (the stdlib spins).
pub fn sem_timeout(timeout: &Bound<'_, PyAny>) -> PyResult<Timeout> {
    let py = timeout.py();
    let now = PyFloat::new(py, monotonic_seconds());
    let end = now.add(timeout)?;
    if end.cast::<PyFloat>().is_ok_and(|f| f.value().is_nan()) {
        return Ok(Timeout::Forever);
    }
    cond_timeout(Some(timeout))
}

/// `time.monotonic()`.
fn monotonic_seconds() -> f64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    }
    #[cfg(not(unix))]
    {
        0.0
    }
}

/// True on the thread that runs Python's signal handlers. On Linux that is the thread whose
/// id is the process id (also in a fork child, where the forking thread becomes the main one).
#[inline]
fn on_main_thread() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: both calls have no preconditions.
        unsafe { libc::gettid() == libc::getpid() }
    }
    #[cfg(not(target_os = "linux"))]
    {
        true // wait in slices everywhere: costs a wake-up per slice, never misses a signal
    }
}

/// Waits until `attempt` succeeds or the deadline passes; never blocks while attached.
///
/// `attempt(until)` must block until it succeeds (returning `Some`) or `until` passes
/// (returning `None`; `until == None` means no limit), and must hold nothing when it fails.
/// Returns `Ok(None)` on timeout; a signal handler's exception is returned as `Err`.
pub fn wait<R, F>(py: Python<'_>, timeout: Timeout, mut attempt: F) -> PyResult<Option<R>>
where
    R: Send,
    F: FnMut(Option<Instant>) -> Option<R> + Send,
{
    let deadline = timeout.deadline();
    if matches!(timeout, Timeout::NonBlocking) {
        return Ok(py.detach(|| attempt(deadline)));
    }
    let main = on_main_thread();
    loop {
        let until = if main {
            let slice_end = Instant::now() + SLICE;
            Some(deadline.map_or(slice_end, |d| d.min(slice_end)))
        } else {
            deadline
        };
        if let Some(r) = py.detach(|| attempt(until)) {
            return Ok(Some(r));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(None);
        }
        py.check_signals()?;
    }
}

/// Waits like `wait` but cannot be interrupted: for re-acquiring a lock that must be held again
/// before returning (a Condition's lock after a wait). A signal handler's exception raised in
/// the meantime is returned once the attempt has succeeded.
pub fn wait_uninterruptibly<R, F>(py: Python<'_>, mut attempt: F) -> (R, PyResult<()>)
where
    R: Send,
    F: FnMut(Option<Instant>) -> Option<R> + Send,
{
    let mut pending = Ok(());
    loop {
        match wait(py, Timeout::Forever, &mut attempt) {
            Ok(Some(r)) => return (r, pending),
            Ok(None) => continue, // no deadline: cannot happen, but retrying is always right
            Err(e) => {
                if pending.is_ok() {
                    pending = Err(e);
                }
            }
        }
    }
}
