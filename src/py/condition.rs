//! `rthreading.Condition`: a condition variable over any lock. rthreading's own Lock and RLock
//! are driven directly (no Python call on the hot path); any other lock (the stdlib's, a user's)
//! through its Python methods, exactly as the stdlib's Condition does.

use super::bound::{self, HasWithSlots, WithSlots};
use super::diagnosed::Diagnosed;
use super::fastcall::{fast_method, install, py_true};
use super::lock::Lock;
use super::rlock::RLock;
use super::wait::{cond_timeout, Attached, Timeout};
use super::waiting::{instrumented, Count};
use crate::sync::condition::WaitQueue;
use crate::sync::current_thread_ident;
use crate::sync::waitgraph::Target;
use pyo3::exceptions::PyRuntimeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat};
use pyo3::types::{PyTuple, PyType};
use pyo3::IntoPyObjectExt;
use pyo3::{PyTraverseError, PyVisit};
use std::sync::OnceLock;
use std::time::Instant;

enum Kind {
    Lock(Py<Lock>),
    RLock(Py<RLock>),
    Other(Py<PyAny>),
}

/// What a wait released, so that it can be restored.
enum Saved<'py> {
    Lock,
    RLock(usize),
    Other(Option<Bound<'py, PyAny>>),
}

/// A condition variable: the drop-in for `threading.Condition`.
///
/// A condition variable lets threads wait until another thread notifies them that some
/// state has changed. It is always associated with a lock: `lock`, if given and not None,
/// must be a Lock or RLock (rthreading's, the stdlib's, or any object with `acquire` and
/// `release` methods), and is used as the underlying lock; otherwise a new RLock is made.
/// The lock is acquired and released through the condition (`acquire()`, `release()`, or
/// `with cond:`), and a thread must hold it to call `wait()`, `wait_for()`, `notify()` or
/// `notify_all()`.
///
/// Every wait releases the interpreter, so other threads keep running; on the main thread a
/// wait is interrupted by Ctrl-C (the signal handler's exception propagates once the lock is
/// held again). Threads waiting here are listed by `rthreading.dump()`. Like the stdlib's
/// class, Condition can be subclassed and its instances take attributes.
// An instance `__dict__` from 3.13 on (see `instance_dict`).
#[cfg_attr(Py_3_13, pyclass(module = "rthreading", name = "Condition", frozen, subclass, weakref, dict))]
#[cfg_attr(not(Py_3_13), pyclass(module = "rthreading", name = "Condition", frozen, subclass, weakref))]
pub struct Condition {
    // Set by `__init__` (not `__new__`), so that a subclass's `__init__` with other
    // parameters can call `super().__init__(lock)` as with the stdlib's class.
    kind: OnceLock<Kind>,
    waiters: WaitQueue,
    /// The memory of its bound `__enter__`/`__exit__` (see `bound`).
    with_slots: WithSlots,
}

impl HasWithSlots for Condition {
    fn with_slots(&self) -> &WithSlots {
        &self.with_slots
    }
}

impl Diagnosed for Condition {
    const KIND: &'static str = "rthreading.Condition";

    // Tracked through its lock.
    fn tracked_instead<'py>(slf: &Bound<'py, Self>) -> PyResult<Option<Bound<'py, PyAny>>> {
        slf.getattr(intern!(slf.py(), "_lock")).map(Some)
    }
}

impl Condition {
    /// The lock's kind. A subclass whose `__init__` never called ours gets the default RLock
    /// (the stdlib's instance would have no lock at all and fail on every call).
    fn kind(&self, py: Python<'_>) -> PyResult<&Kind> {
        if let Some(k) = self.kind.get() {
            return Ok(k);
        }
        let default = Kind::RLock(RLock::create(py)?);
        Ok(self.kind.get_or_init(|| default))
    }

    fn lock_obj<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(match self.kind(py)? {
            Kind::Lock(l) => l.bind(py).clone().into_any(),
            Kind::RLock(l) => l.bind(py).clone().into_any(),
            Kind::Other(l) => l.bind(py).clone(),
        })
    }

    /// The stdlib's `_is_owned`: the RLock's owner check, "is locked" for a plain Lock, and
    /// for other locks their `_is_owned` or the acquire(False)/release probe.
    fn is_owned(&self, py: Python<'_>) -> PyResult<bool> {
        match self.kind(py)? {
            Kind::Lock(l) => Ok(l.get().inner.locked()),
            Kind::RLock(l) => Ok(l.get().inner.is_owned_by(current_thread_ident())),
            Kind::Other(l) => {
                let l = l.bind(py);
                if let Ok(f) = l.getattr(intern!(py, "_is_owned")) {
                    return f.call0()?.is_truthy();
                }
                if l.call_method1(intern!(py, "acquire"), (false,))?.is_truthy()? {
                    l.call_method0(intern!(py, "release"))?;
                    Ok(false)
                } else {
                    Ok(true)
                }
            }
        }
    }

    fn release_save<'py>(&self, py: Python<'py>) -> PyResult<Saved<'py>> {
        match self.kind(py)? {
            Kind::Lock(l) => l.get().release_or_err().map(|()| Saved::Lock),
            Kind::RLock(l) => l.get().release_save_count().map(Saved::RLock),
            Kind::Other(l) => {
                let l = l.bind(py);
                match l.getattr(intern!(py, "_release_save")) {
                    Ok(f) => Ok(Saved::Other(Some(f.call0()?))),
                    Err(_) => l.call_method0(intern!(py, "release")).map(|_| Saved::Other(None)),
                }
            }
        }
    }

    /// Re-acquires what `release_save` released; waits as long as it takes.
    fn acquire_restore(&self, py: Python<'_>, saved: Saved<'_>) -> PyResult<()> {
        match (self.kind(py)?, saved) {
            (Kind::Lock(l), _) => l.get().acquire_restore(py, l.as_ptr() as usize),
            (Kind::RLock(l), Saved::RLock(count)) => l.get().acquire_restore_count(py, l.as_ptr() as usize, count),
            (Kind::Other(l), Saved::Other(Some(state))) => {
                l.bind(py).call_method1(intern!(py, "_acquire_restore"), (state,)).map(drop)
            }
            (Kind::Other(l), _) => l.bind(py).call_method0(intern!(py, "acquire")).map(drop),
            (Kind::RLock(_), _) => unreachable!("an RLock's save is always a count"),
        }
    }

    fn check_owned(&self, py: Python<'_>, what: &str) -> PyResult<()> {
        if self.is_owned(py)? {
            Ok(())
        } else {
            Err(PyRuntimeError::new_err(format!("cannot {what} on un-acquired lock")))
        }
    }

    /// How many waiters `notify(n)` wakes, read as the stdlib's `while waiters and n > 0` loop
    /// reads `n` (only when there is a waiter, with Python's comparison and its errors).
    fn notify_count(n: &Bound<'_, PyAny>, waiting: usize) -> PyResult<usize> {
        if let Ok(k) = n.extract::<i64>() {
            return Ok(k.clamp(0, waiting as i64) as usize);
        }
        if let Ok(f) = n.cast::<PyFloat>() {
            let v = f.value();
            return Ok(if v > 0.0 { v.ceil().min(waiting as f64) as usize } else { 0 });
        }
        Ok(if n.gt(0)? { 1 } else { 0 })
    }
}

#[pymethods]
impl Condition {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs), text_signature = "(lock=None)")]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        Condition { kind: OnceLock::new(), waiters: WaitQueue::new(), with_slots: WithSlots::default() }
    }

    #[pyo3(signature = (lock=None))]
    fn __init__(&self, py: Python<'_>, lock: Option<Bound<'_, PyAny>>) -> PyResult<()> {
        let kind = match lock {
            None => Kind::RLock(RLock::create(py)?),
            Some(l) if l.is_none() => Kind::RLock(RLock::create(py)?),
            Some(l) => match l.cast_exact::<Lock>() {
                Ok(l) => Kind::Lock(l.clone().unbind()),
                Err(_) => match l.cast_exact::<RLock>() {
                    Ok(r) => Kind::RLock(r.clone().unbind()),
                    Err(_) => {
                        // The stdlib binds `self.acquire = lock.acquire` (and release) here:
                        // an object without them is refused now, with its AttributeError.
                        l.getattr(intern!(py, "acquire"))?;
                        l.getattr(intern!(py, "release"))?;
                        Kind::Other(l.unbind())
                    }
                },
            },
        };
        // Waiters and owners would be stranded on the old lock: not supported.
        self.kind
            .set(kind)
            .map_err(|_| PyRuntimeError::new_err("Condition.__init__() called on an initialized Condition"))
    }

    /// Acquire the underlying lock, waiting as long as it takes: the start of a `with` block.
    /// Returns what the lock's `__enter__` returns.
    fn __enter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.kind(py)? {
            Kind::Lock(l) => Ok(PyBool::new(py, l.get().acquire_timeout(py, l.as_ptr() as usize, Timeout::Forever)?)
                .to_owned()
                .into_any()
                .unbind()),
            Kind::RLock(l) => Ok(PyBool::new(py, l.get().acquire_timeout(py, l.as_ptr() as usize, Timeout::Forever)?)
                .to_owned()
                .into_any()
                .unbind()),
            Kind::Other(l) => l.bind(py).call_method0(intern!(py, "__enter__")).map(Bound::unbind),
        }
    }

    /// Release the underlying lock: the end of a `with` block.
    #[pyo3(signature = (*args), text_signature = "($self, /, *args)")]
    fn __exit__(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        match self.kind(py)? {
            Kind::Lock(l) => l.get().release_or_err().map(|()| py.None()),
            Kind::RLock(l) => l.get().release_checked().map(|()| py.None()),
            Kind::Other(l) => l.bind(py).call_method1(intern!(py, "__exit__"), args).map(Bound::unbind),
        }
    }

    // The lock's own `acquire`, as the stdlib binds `self.acquire = lock.acquire`.
    /// The underlying lock's `acquire` method: `cond.acquire(*args)` acquires the lock and
    /// returns what the lock's `acquire(*args)` returns.
    #[getter]
    fn acquire<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.lock_obj(py)?.getattr(intern!(py, "acquire"))
    }

    /// The underlying lock's `release` method: `cond.release()` releases the lock.
    #[getter]
    fn release<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.lock_obj(py)?.getattr(intern!(py, "release"))
    }

    #[getter]
    fn _lock<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.lock_obj(py)
    }

    fn _is_owned(&self, py: Python<'_>) -> PyResult<bool> {
        self.is_owned(py)
    }

    // The stdlib's Condition takes these two from its lock when the lock has them (an RLock's
    // `(count, owner)`), else releases and acquires plainly: so a Condition can itself be the
    // lock of another Condition.
    fn _release_save<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.release_save(py)? {
            Saved::Lock | Saved::Other(None) => Ok(py.None().into_bound(py)),
            Saved::RLock(count) => (count, current_thread_ident()).into_bound_py_any(py),
            Saved::Other(Some(state)) => Ok(state),
        }
    }

    fn _acquire_restore(&self, py: Python<'_>, state: &Bound<'_, PyAny>) -> PyResult<()> {
        match self.kind(py)? {
            Kind::Lock(l) => l.get().acquire_timeout(py, l.as_ptr() as usize, Timeout::Forever).map(drop),
            Kind::RLock(l) => RLock::acquire_restore_state(l.bind(py), state),
            Kind::Other(l) => {
                let l = l.bind(py);
                match l.getattr(intern!(py, "_acquire_restore")) {
                    Ok(f) => f.call1((state,)).map(drop),
                    Err(_) => l.call_method0(intern!(py, "acquire")).map(drop),
                }
            }
        }
    }

    /// Wait until notified or until a timeout occurs; return False if the timeout expired.
    ///
    /// The calling thread must hold the lock (else RuntimeError). The lock is released, then
    /// the thread waits until another thread calls `notify()` or `notify_all()` on this
    /// condition, or until `timeout` seconds (a float) have passed; the lock is acquired
    /// again before returning, at all recursion levels of an RLock. With `timeout` None (the
    /// default) the wait has no limit. Returns True unless the timeout expired.
    ///
    /// The wait releases the interpreter. On the main thread, Ctrl-C interrupts it: the
    /// signal handler's exception propagates once the lock is held again.
    #[pyo3(signature = (timeout=None))]
    fn wait(slf: &Bound<'_, Self>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        let (this, py) = (slf.get(), slf.py());
        this.check_owned(py, "wait")?;
        let timeout = cond_timeout(timeout)?;
        let waiter = this.waiters.enqueue(Attached(py));
        let saved = match this.release_save(py) {
            Ok(s) => s,
            Err(e) => {
                this.waiters.remove(&waiter, Attached(py));
                return Err(e);
            }
        };
        let target = Target { owner: None, tag: slf.as_ptr() as usize, kind: "rthreading.Condition" };
        let outcome =
            instrumented(py, target, timeout, Count::Not, |until| this.waiters.wait(&waiter, until).then_some(()));
        let restored = this.acquire_restore(py, saved);
        // A waiter no longer queued was notified, even if its wait timed out at the same time.
        let notified = matches!(outcome, Ok(Some(()))) || !this.waiters.remove(&waiter, Attached(py));
        restored?;
        outcome?;
        Ok(notified)
    }

    /// Wait until a condition evaluates to true; return the predicate's last value.
    ///
    /// `predicate` is a callable whose result is read as a boolean. It is called first with
    /// the lock held, and after each wake-up (`wait()`) until it returns a true value or
    /// `timeout` seconds have passed in total (None: no limit). The result is the last value
    /// the predicate returned, false if the method timed out. The calling thread must hold
    /// the lock (else RuntimeError); it holds it again on return.
    #[pyo3(signature = (predicate, timeout=None))]
    fn wait_for(
        slf: &Bound<'_, Self>,
        predicate: &Bound<'_, PyAny>,
        timeout: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let mut waittime = timeout.filter(|t| !t.is_none());
        let mut endtime: Option<(Instant, f64)> = None;
        let mut result = predicate.call0()?;
        while !result.is_truthy()? {
            if let Some(w) = &waittime {
                match endtime {
                    None => {
                        // `_time() + timeout` in the stdlib: Python's addition and its errors.
                        let total: f64 = PyFloat::new(py, 0.0).add(w)?.extract()?;
                        endtime = Some((Instant::now(), total));
                    }
                    Some((start, total)) => {
                        let left = total - start.elapsed().as_secs_f64();
                        if left <= 0.0 {
                            break;
                        }
                        waittime = Some(PyFloat::new(py, left).into_any());
                    }
                }
            }
            slf.call_method1(intern!(py, "wait"), (waittime.as_ref(),))?;
            result = predicate.call0()?;
        }
        Ok(result.unbind())
    }

    /// Wake up at most `n` of the threads waiting on this condition (one by default).
    ///
    /// The calling thread must hold the lock (else RuntimeError). Nothing happens if no
    /// thread is waiting. The woken threads return from `wait()` only once they can acquire
    /// the lock again, which the caller still holds. Returns None.
    #[pyo3(signature = (n=None), text_signature = "($self, /, n=1)")]
    fn notify(&self, py: Python<'_>, n: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        self.check_owned(py, "notify")?;
        let waiting = self.waiters.len();
        if waiting == 0 {
            return Ok(());
        }
        let k = match n {
            None => 1,
            Some(n) => Self::notify_count(n, waiting)?,
        };
        self.waiters.notify(k, Attached(py));
        Ok(())
    }

    /// Wake up every thread waiting on this condition.
    ///
    /// The calling thread must hold the lock (else RuntimeError). Returns None.
    fn notify_all(&self, py: Python<'_>) -> PyResult<()> {
        self.check_owned(py, "notify")?;
        self.waiters.notify(usize::MAX, Attached(py));
        Ok(())
    }

    /// Wake up every thread waiting on this condition.
    ///
    /// Deprecated (DeprecationWarning): use `notify_all()` instead.
    #[pyo3(name = "notifyAll")]
    fn notify_all_deprecated(&self, py: Python<'_>) -> PyResult<()> {
        let warning = py.get_type::<pyo3::exceptions::PyDeprecationWarning>();
        PyErr::warn(py, &warning, c"notifyAll() is deprecated, use notify_all() instead", 1)?;
        self.notify_all(py)
    }

    fn _at_fork_reinit(&self, py: Python<'_>) -> PyResult<()> {
        self.lock_obj(py)?.call_method0(intern!(py, "_at_fork_reinit"))?;
        self.waiters.reinit();
        Ok(())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("<Condition({}, {})>", self.lock_obj(py)?.repr()?, self.waiters.len()))
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        match self.kind.get() {
            Some(Kind::Lock(l)) => visit.call(l),
            Some(Kind::RLock(l)) => visit.call(l),
            Some(Kind::Other(l)) => visit.call(l),
            None => Ok(()),
        }
    }
}

impl Condition {
    /// The uncontended acquire of rthreading's own locks; None for other locks.
    #[inline(always)]
    fn try_enter(&self) -> Option<bool> {
        match self.kind.get()? {
            Kind::Lock(l) => Some(l.get().try_fast()),
            Kind::RLock(l) => Some(l.get().try_fast()),
            Kind::Other(_) => None,
        }
    }

    #[inline(always)]
    fn try_exit(&self) -> bool {
        match self.kind.get() {
            Some(Kind::Lock(l)) => l.get().inner.release(),
            Some(Kind::RLock(l)) => l.get().inner.release(current_thread_ident()).is_ok(),
            _ => false,
        }
    }

    /// `notify()` with nobody waiting, on rthreading's own locks: nothing to do once ownership
    /// is confirmed.
    #[inline(always)]
    fn try_notify_nobody(&self) -> bool {
        self.waiters.is_empty()
            && match self.kind.get() {
                Some(Kind::Lock(l)) => l.get().inner.locked(),
                Some(Kind::RLock(l)) => l.get().inner.is_owned_by(current_thread_ident()),
                _ => false,
            }
    }
}

fast_method!(EnterFast, Condition, c"__enter__", 0, |c, py| c.try_enter().filter(|&ok| ok).map(|_| py_true(py)));
fast_method!(ExitFast, Condition, c"__exit__", 3, |c, py| c.try_exit().then(|| py.None()));
fast_method!(NotifyFast, Condition, c"notify", 0, |c, py| c.try_notify_nobody().then(|| py.None()));
fast_method!(NotifyAllFast, Condition, c"notify_all", 0, |c, py| c.try_notify_nobody().then(|| py.None()));

/// `with cond: cond.notify()` skips PyO3's argument handling (see `fastcall`).
pub(crate) fn install_fast_paths(ty: &Bound<'_, PyType>) -> PyResult<()> {
    install::<EnterFast>(ty)?;
    install::<ExitFast>(ty)?;
    install::<NotifyFast>(ty)?;
    install::<NotifyAllFast>(ty)?;
    bound::install::<Condition, 0>(ty)?;
    bound::install::<Condition, 1>(ty)
}
