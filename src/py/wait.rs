//! The one place that turns Python's timeout arguments into a deadline and waits for it:
//! detached from the interpreter, in short slices on the main thread so that signal handlers
//! (Ctrl-C) run and their exceptions propagate out of the wait. Every blocking call in
//! rthreading goes through `wait`.

use crate::sync::park::Place;
use pyo3::exceptions::{PyOverflowError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyFloat;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// How long a wait on the main thread sleeps before it re-attaches to run signal handlers.
const SLICE: Duration = Duration::from_millis(20);

/// CPython's `PY_TIMEOUT_MAX` in microseconds, set at import.
static TIMEOUT_MAX_US: AtomicI64 = AtomicI64::new(i64::MAX);

pub fn init(py: Python<'_>) -> PyResult<()> {
    // `_thread.TIMEOUT_MAX` is CPython's PY_TIMEOUT_MAX floored to whole seconds; acquire
    // checks the unfloored microseconds, so `TIMEOUT_MAX + 0.5` is accepted. With POSIX
    // threads PY_TIMEOUT_MAX is LLONG_MAX / 1000 microseconds.
    #[cfg(unix)]
    let max_us = {
        let _ = py;
        i64::MAX / 1000
    };
    #[cfg(not(unix))]
    let max_us = {
        let max: f64 = py.import("_thread")?.getattr("TIMEOUT_MAX")?.extract()?;
        (max * 1e6) as i64
    };
    TIMEOUT_MAX_US.store(max_us, Relaxed);
    init_finalizing(py);
    init_main_thread(py)
}

/// `Py_IsFinalizing` (3.13) or `_Py_IsFinalizing` (3.11, 3.12), found at import on interpreters
/// before 3.14, whose `PyEval_RestoreThread` ends a thread that re-attaches while the
/// interpreter finalises with `pthread_exit`: its forced unwinding through Rust frames aborts
/// the process ("FATAL: exception not rethrown"). 0 when not needed or not found.
static IS_FINALIZING: AtomicUsize = AtomicUsize::new(0);

fn init_finalizing(py: Python<'_>) {
    if py.version_info() >= (3, 14) {
        return; // 3.14 parks such a thread forever itself
    }
    for name in [c"Py_IsFinalizing", c"_Py_IsFinalizing"] {
        // SAFETY: looks a symbol up in the process's global scope (the interpreter's).
        let f = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
        if !f.is_null() {
            IS_FINALIZING.store(f as usize, Relaxed);
            return;
        }
    }
}

/// Called detached, just before re-attaching, on threads other than the main one (the one that
/// finalises): if the interpreter is finalising, never re-attach; park forever instead, as
/// 3.14 does. (A thread that re-attaches a moment before finalisation starts can still race.)
fn park_if_finalizing() {
    let f = IS_FINALIZING.load(Relaxed);
    if f == 0 {
        return;
    }
    // SAFETY: `f` is `[_]Py_IsFinalizing`, `int (void)`, safe to call detached (it reads an
    // atomic of the runtime state).
    let is_finalizing: extern "C" fn() -> std::os::raw::c_int = unsafe { std::mem::transmute(f) };
    if is_finalizing() != 0 {
        loop {
            std::thread::park();
        }
    }
}

/// A parsed timeout: what a blocking call was asked to do.
#[derive(Clone, Copy, Debug)]
pub enum Timeout {
    NonBlocking,
    Forever,
    After(Duration),
}

impl Timeout {
    /// True when the call must not wait at all (`blocking=False`, or a zero timeout): a caller
    /// whose first try failed can answer at once without `wait` (which detaches).
    #[inline]
    pub fn is_zero(self) -> bool {
        match self {
            Timeout::NonBlocking => true,
            Timeout::Forever => false,
            Timeout::After(d) => d.is_zero(),
        }
    }

    /// The deadline, counted from now; None for "no limit".
    pub fn deadline(self) -> Option<Instant> {
        match self {
            Timeout::NonBlocking => Some(Instant::now()),
            Timeout::Forever => None,
            Timeout::After(d) => Instant::now().checked_add(d),
        }
    }
}

/// What the running interpreter's own `lock.acquire(True, timeout)` raises for `timeout`: for the
/// errors whose message differs between CPython versions ("timestamp out of range for C
/// PyTime_t", "... platform time_t", "timeout value must be positive" before 3.13, ...), this
/// rare path asks the stdlib to raise it. `fallback()` if the stdlib accepts the value.
fn stdlib_error(timeout: &Bound<'_, PyAny>, fallback: fn() -> PyErr) -> PyErr {
    let py = timeout.py();
    let stdlib_error = || -> PyResult<()> {
        let lock = py.import("_thread")?.call_method0("allocate_lock")?;
        if lock.call_method1("acquire", (true, timeout))?.is_truthy()? {
            lock.call_method0("release")?;
        }
        Ok(())
    };
    match stdlib_error() {
        Err(e) => e,
        Ok(()) => fallback(),
    }
}

/// The exception CPython raises for a timeout it cannot represent.
fn pytime_range_error(obj: &Bound<'_, PyAny>) -> PyErr {
    stdlib_error(obj, || PyOverflowError::new_err("timestamp out of range for C PyTime_t"))
}

/// Seconds as CPython's `_PyTime_FromSecondsObject(obj, ROUND_TIMEOUT)` reads them: a float
/// (NaN refused) or an integer (anything with `__index__`), in nanoseconds rounded away from 0.
fn pytime_ns(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    pytime_ns_rounded(obj, false)
}

/// `pytime_ns`, rounding toward +infinity when `ceiling` (`_PyTime_ROUND_CEILING`).
fn pytime_ns_rounded(obj: &Bound<'_, PyAny>, ceiling: bool) -> PyResult<i64> {
    if let Ok(f) = obj.cast::<PyFloat>() {
        let secs = f.value();
        if secs.is_nan() {
            return Err(PyValueError::new_err("Invalid value NaN (not a number)"));
        }
        let ns = secs * 1e9;
        let ns = if ns >= 0.0 || ceiling { ns.ceil() } else { ns.floor() };
        if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&ns) {
            return Err(pytime_range_error(obj));
        }
        return Ok(ns as i64);
    }
    let secs: i64 = obj.extract::<i64>().map_err(|e: PyErr| {
        if e.is_instance_of::<PyOverflowError>(obj.py()) {
            pytime_range_error(obj)
        } else {
            e
        }
    })?;
    secs.checked_mul(1_000_000_000).ok_or_else(|| pytime_range_error(obj))
}

/// A positive timeout in nanoseconds, refused above `TIMEOUT_MAX` as `lock.acquire` does.
fn bounded(ns: i64) -> PyResult<Timeout> {
    let us = ns.div_euclid(1000) + i64::from(ns.rem_euclid(1000) != 0);
    if us > TIMEOUT_MAX_US.load(Relaxed) {
        return Err(PyOverflowError::new_err("timeout value is too large"));
    }
    Ok(Timeout::After(Duration::from_nanos(ns.max(0) as u64)))
}

/// An optional argument that tells "not passed" from an explicit `None`, which PyO3's
/// `Option<T>` cannot: `lock.acquire(None)` does not block and `acquire(timeout=None)` is a
/// TypeError in the stdlib. Use with `signature = (arg = Given::MISSING)`; `get()` gives the
/// `Option` that `lock_timeout` takes (`None` only when the argument was not passed).
#[derive(Clone, Copy)]
pub struct Given<'a, 'py>(pub Option<Borrowed<'a, 'py, PyAny>>);

impl<'a, 'py> Given<'a, 'py> {
    pub const MISSING: Self = Given(None);

    #[inline]
    pub fn get(&self) -> Option<&Bound<'py, PyAny>> {
        self.0.as_deref()
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Given<'a, 'py> {
    type Error = std::convert::Infallible;

    #[inline]
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> Result<Self, Self::Error> {
        Ok(Given(Some(obj)))
    }
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
    if let Some(t) = timeout.filter(|_| ns < 0 && ns != UNSET) {
        return Err(stdlib_error(t, || PyValueError::new_err("timeout value must be a non-negative number")));
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

/// `Condition.wait_for(predicate, timeout)` semantics (the stdlib's `Barrier.wait` and
/// `Semaphore.acquire` compute their deadlines the same way, `_time() + timeout`, and wait with
/// it): None waits forever; anything else is first added to a float (`_time() + timeout`, so
/// that addition's TypeError/OverflowError), then waits as `cond_timeout` except that a NaN,
/// never found expired there, waits forever.
pub fn wait_for_timeout(timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Timeout> {
    let Some(t) = timeout.filter(|t| !t.is_none()) else {
        return Ok(Timeout::Forever);
    };
    if let Ok(f) = t.cast::<PyFloat>() {
        let secs = f.value();
        if secs.is_nan() {
            return Ok(Timeout::Forever);
        }
        if secs <= 0.0 {
            return Ok(Timeout::NonBlocking);
        }
        return bounded(pytime_ns(t)?);
    }
    let end = PyFloat::new(t.py(), 0.0).add(t)?;
    if end.cast::<PyFloat>().is_ok_and(|e| e.value().is_nan()) {
        return Ok(Timeout::Forever);
    }
    cond_timeout(Some(t))
}

/// The core's `Locker` for code running attached: tries the mutex first and, only if it is
/// held, detaches while it waits for it (`lock_attached`).
#[derive(Clone, Copy)]
pub struct Attached<'py>(pub Python<'py>);

impl crate::sync::Locker for Attached<'_> {
    #[inline]
    fn lock<'a, T>(self, m: &'a parking_lot::Mutex<T>) -> parking_lot::MutexGuard<'a, T> {
        m.try_lock().unwrap_or_else(|| lock_attached(m, self.0))
    }
}

/// Takes an object's internal mutex for code running attached, waiting for it detached.
///
/// With a GIL the wait does not keep the mutex while it takes the GIL back: it lets it go
/// and tries again once attached. A thread that woke with the mutex and then waited for the
/// GIL held up every thread that wanted the mutex, each of which gave up the GIL to wait in
/// turn: measured on 3.11, a pipeline of 3 stages x 8 threads through `Queue(100)`s fell from
/// ~30 ms to 90-210 ms in one run in two, with thousands of such waits per run (a few dozen
/// in the fast runs). The free-threaded build keeps it (PyO3's `lock_py_attached`): attaching
/// there waits for nobody.
#[cold]
pub fn lock_attached<'a, T>(m: &'a parking_lot::Mutex<T>, py: Python<'_>) -> parking_lot::MutexGuard<'a, T> {
    #[cfg(Py_GIL_DISABLED)]
    {
        use pyo3::sync::MutexExt;
        m.lock_py_attached(py)
    }
    #[cfg(not(Py_GIL_DISABLED))]
    {
        // The mutex, to wait for it detached: `detach` runs the closure on this thread, which
        // locks and unlocks it there; no `T` is touched.
        struct Waiting<'a, T>(&'a parking_lot::Mutex<T>);
        // SAFETY: see above: only the mutex's lock word is used, on this thread.
        unsafe impl<T> Send for Waiting<'_, T> {}
        loop {
            if let Some(g) = m.try_lock() {
                return g;
            }
            let waiting = Waiting(m);
            py.detach(move || {
                let w = waiting;
                drop(w.0.lock());
            });
        }
    }
}

/// `queue.Queue.get/put(block=True, timeout=None)` arguments, read as the stdlib's queue.py reads
/// them: a false `block` ignores `timeout`; otherwise `timeout < 0` (Python's comparison, with its
/// errors) is refused and the timeout is added to a float (`time() + timeout`, with its errors).
/// NaN waits forever (the stdlib spins forever). A timeout too large for a lock is refused only
/// when the call must wait: see `queue_wait_timeout`.
pub fn queue_timeout(block: Option<&Bound<'_, PyAny>>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Timeout> {
    if let Some(b) = block {
        if !b.is_truthy()? {
            return Ok(Timeout::NonBlocking);
        }
    }
    let Some(t) = timeout.filter(|t| !t.is_none()) else {
        return Ok(Timeout::Forever);
    };
    let secs = match t.cast_exact::<PyFloat>() {
        Ok(f) => f.value(),
        Err(_) => {
            if t.lt(0)? {
                return Err(queue_negative_timeout());
            }
            PyFloat::new(t.py(), 0.0).add(t)?.extract::<f64>()?
        }
    };
    if secs < 0.0 {
        return Err(queue_negative_timeout());
    }
    if secs.is_nan() {
        return Ok(Timeout::Forever);
    }
    Ok(Timeout::After(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)))
}

fn queue_negative_timeout() -> PyErr {
    PyValueError::new_err("'timeout' must be a non-negative number")
}

/// The timeout of a queue's wait about to start: refused as the stdlib's `Condition.wait`
/// refuses it (its lock's `acquire(True, remaining)`) when too large.
pub fn queue_wait_timeout(py: Python<'_>, timeout: Timeout) -> PyResult<Timeout> {
    match timeout {
        Timeout::After(d) if d.as_secs() >= TIMEOUT_MAX_US.load(Relaxed) as u64 / 1_000_000 => {
            bounded(pytime_ns(PyFloat::new(py, d.as_secs_f64()).as_any())?)
        }
        t => Ok(t),
    }
}

/// `SimpleQueue.get(block=True, timeout=None)` arguments, as the C `_queue` module reads them:
/// `timeout` in seconds rounded up to nanoseconds, negative refused, no upper limit.
pub fn simple_queue_timeout(block: Option<&Bound<'_, PyAny>>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Timeout> {
    if let Some(b) = block {
        if !b.is_truthy()? {
            return Ok(Timeout::NonBlocking);
        }
    }
    let Some(t) = timeout.filter(|t| !t.is_none()) else {
        return Ok(Timeout::Forever);
    };
    let ns = pytime_ns_rounded(t, true)?;
    if ns < 0 {
        return Err(queue_negative_timeout());
    }
    Ok(Timeout::After(Duration::from_nanos(ns as u64)))
}

/// The thread that runs Python's signal handlers (`threading.main_thread()`), by its
/// `pthread_self()`: read at import, and set to the forking thread in a fork child, as CPython
/// does. (Asking the kernel, `gettid() == getpid()`, costs two system calls, ~260 ns here, on
/// every wait.)
static MAIN_THREAD: AtomicU64 = AtomicU64::new(0);

/// In a fork child (see `fork`): the forking thread is the main one now.
pub(crate) fn main_thread_after_fork() {
    MAIN_THREAD.store(crate::sync::current_thread_ident(), Relaxed);
}

fn init_main_thread(py: Python<'_>) -> PyResult<()> {
    let ident: u64 = py.import("threading")?.call_method0("main_thread")?.getattr("ident")?.extract()?;
    MAIN_THREAD.store(ident, Relaxed);
    Ok(())
}

/// True on the thread that runs Python's signal handlers.
#[inline]
fn on_main_thread() -> bool {
    crate::sync::current_thread_ident() == MAIN_THREAD.load(Relaxed)
}

/// Waits until `attempt` succeeds or the deadline passes; never blocks while attached.
///
/// `attempt(until)` must block until it succeeds (returning `Some`) or `until` passes
/// (returning `None`; `until == None` means no limit), and must hold nothing when it fails,
/// except a place in its object's line, kept for the next slice and left by the caller's
/// `PlaceInLine` once the wait ends.
/// Returns `Ok(None)` on timeout; a signal handler's exception is returned as `Err`.
pub fn wait<R, F>(py: Python<'_>, timeout: Timeout, mut attempt: F) -> PyResult<Option<R>>
where
    R: Send,
    F: FnMut(Option<Instant>) -> Option<R> + Send,
{
    let deadline = timeout.deadline();
    let main = on_main_thread();
    let mut attempt = |until| {
        let r = attempt(until);
        if !main {
            park_if_finalizing();
        }
        r
    };
    if matches!(timeout, Timeout::NonBlocking) {
        return Ok(py.detach(|| attempt(deadline)));
    }
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

/// A wait's place in its object's line (`park::Place`), for an `attempt` of `wait` that waits
/// in line: kept over the slices of a main-thread wait, so that the waiter is not sent to the
/// back of the line every 20 ms (and over the tries of one call, so that a waiter whose turn
/// came to nothing waits again at the head). However the call ends (served, timed out, or a
/// signal handler's exception), dropping the guard leaves a place still held with `leave`,
/// detached (it may take the object's mutex): a wake-up it got goes on to the next in line.
pub(crate) struct PlaceInLine<'py, L: Fn(&mut Place) + Sync> {
    py: Python<'py>,
    place: Place,
    leave: L,
}

impl<'py, L: Fn(&mut Place) + Sync> PlaceInLine<'py, L> {
    #[inline]
    pub fn new(py: Python<'py>, leave: L) -> Self {
        PlaceInLine { py, place: Place::new(), leave }
    }

    /// The place, for the attempt closure (which must be `Send`: this guard is not).
    #[inline]
    pub fn place(&mut self) -> &mut Place {
        &mut self.place
    }
}

impl<L: Fn(&mut Place) + Sync> Drop for PlaceInLine<'_, L> {
    fn drop(&mut self) {
        if self.place.is_held() {
            let (place, leave) = (&mut self.place, &self.leave);
            self.py.detach(|| leave(place));
        }
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
