//! `rthreading.Semaphore` and `rthreading.BoundedSemaphore`: wrappers over
//! `sync::semaphore::Semaphore`, following the stdlib's Python classes: the state is set by
//! `__init__` (so Python subclasses may take other constructor arguments), `__exit__` calls
//! `self.release()` for subclasses, and arguments are checked in the stdlib's order with its
//! exceptions. The counter holds up to 2**64-1; larger values raise OverflowError.

use super::bound::{self, HasWithSlots, WithSlots};
use super::diagnosed::Diagnosed;
use super::wait::{wait_for_timeout, Given, PlaceInLine, Timeout};
use super::waiting::{instrumented, Count};
use super::waker::Waker;
use crate::sync::semaphore::{ReleaseError, Semaphore as CoreSemaphore, UNBOUNDED};
use crate::sync::waitgraph::Target;
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyType};
use pyo3::PyTypeInfo;

const TOO_LARGE: &str = "semaphore value too large (the maximum is 2**64-1)";

/// A count argument (`value`, `n`): `None` if it is an integer too large for the counter.
/// The stdlib's comparison with `min` comes first, so its TypeError for a non-number and its
/// ValueError (`too_small`) are reproduced. Integral floats are accepted as the stdlib's
/// arithmetic accepts them; other floats are refused with Python's "cannot be interpreted as
/// an integer" TypeError.
fn count_arg(obj: Borrowed<'_, '_, PyAny>, min: u64, too_small: &'static str) -> PyResult<Option<u64>> {
    let err = match obj.extract::<u64>() {
        Ok(v) if v >= min => return Ok(Some(v)),
        Ok(_) => return Err(PyValueError::new_err(too_small)),
        Err(e) => e,
    };
    if obj.lt(min)? {
        return Err(PyValueError::new_err(too_small));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let x = f.value();
        if x == f64::INFINITY {
            return Ok(None);
        }
        if x.is_finite() && x.fract() == 0.0 {
            // x >= min >= 0 here; 2**64 and above do not fit.
            return Ok((x < 18_446_744_073_709_551_616.0).then_some(x as u64));
        }
        return Err(PyTypeError::new_err("'float' object cannot be interpreted as an integer"));
    }
    if err.is_instance_of::<PyOverflowError>(obj.py()) {
        return Ok(None); // a positive integer beyond u64
    }
    Err(err)
}

fn initial_value(value: Given<'_, '_>) -> PyResult<u64> {
    match value.0 {
        None => Ok(1),
        Some(v) => {
            count_arg(v, 0, "semaphore initial value must be >= 0")?.ok_or_else(|| PyOverflowError::new_err(TOO_LARGE))
        }
    }
}

fn release_error(e: ReleaseError) -> PyErr {
    match e {
        ReleaseError::TooManyReleases => PyValueError::new_err("Semaphore released too many times"),
        ReleaseError::Overflow => PyOverflowError::new_err(TOO_LARGE),
    }
}

/// `module.qualname` of the object's class, as the stdlib's reprs print it.
fn class_name(slf: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = slf.py();
    // SAFETY: `slf` is a live object.
    let ty = unsafe { pyo3::ffi::Py_TYPE(slf.as_ptr()) };
    if ty == Semaphore::type_object_raw(py) {
        return Ok("rthreading.Semaphore".to_owned());
    }
    if ty == BoundedSemaphore::type_object_raw(py) {
        return Ok("rthreading.BoundedSemaphore".to_owned());
    }
    let ty = slf.get_type();
    Ok(format!("{}.{}", ty.getattr(pyo3::intern!(py, "__module__"))?, ty.qualname()?))
}

/// True if the object's class is one of ours, not a Python subclass.
#[inline]
fn exact(slf: &Bound<'_, PyAny>) -> bool {
    let py = slf.py();
    // SAFETY: `slf` is a live object.
    let ty = unsafe { pyo3::ffi::Py_TYPE(slf.as_ptr()) };
    ty == Semaphore::type_object_raw(py) || ty == BoundedSemaphore::type_object_raw(py)
}

/// A semaphore: the drop-in for `threading.Semaphore`.
///
/// A semaphore manages a counter: the number of `release()` calls minus the number of
/// `acquire()` calls, plus an initial `value` (1 by default; ValueError if negative).
/// `acquire()` waits while the counter is zero, so that it never goes below zero. Use it as
/// a context manager (`with sem:`) to hold one unit for the duration of a block. The counter
/// holds up to 2**64-1 (OverflowError beyond).
///
/// Every wait releases the interpreter, so other threads keep running; on the main thread a
/// wait is interrupted by Ctrl-C (the signal handler's exception propagates, nothing
/// acquired). Threads waiting here are listed by `rthreading.dump()`. Like the stdlib's
/// class, Semaphore can be subclassed and its instances take attributes.
// An instance `__dict__` from 3.13 on (see `instance_dict`).
#[cfg_attr(Py_3_13, pyclass(module = "rthreading", name = "Semaphore", frozen, subclass, weakref, dict))]
#[cfg_attr(not(Py_3_13), pyclass(module = "rthreading", name = "Semaphore", frozen, subclass, weakref))]
pub struct Semaphore {
    inner: CoreSemaphore,
    /// The memory of its bound `__enter__`/`__exit__` (see `bound`).
    with_slots: WithSlots,
}

impl HasWithSlots for Semaphore {
    fn with_slots(&self) -> &WithSlots {
        &self.with_slots
    }
}

/// `with sem:` allocates no bound methods (see `bound`); BoundedSemaphore inherits it.
pub(crate) fn install_fast_paths(ty: &Bound<'_, PyType>) -> PyResult<()> {
    bound::install::<Semaphore, 0>(ty)?;
    bound::install::<Semaphore, 1>(ty)
}

// Named in the diagnostics' reports of asyncio tasks' waits (`task_wait`).
impl Diagnosed for Semaphore {
    const KIND: &'static str = "rthreading.Semaphore";
}

impl Semaphore {
    fn acquire_impl(
        &self,
        py: Python<'_>,
        tag: usize,
        blocking: Given<'_, '_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let blocking = match blocking.0 {
            None => true,
            Some(b) => b.is_truthy()?,
        };
        if !blocking && timeout.is_some() {
            return Err(PyValueError::new_err("can't specify timeout for non-blocking acquire"));
        }
        if self.inner.try_acquire() {
            return Ok(true);
        }
        if !blocking {
            return Ok(false);
        }
        // The stdlib looks at the timeout only when it has to wait.
        let timeout = match timeout {
            None => Timeout::Forever,
            Some(t) => wait_for_timeout(Some(t))?,
        };
        if let Timeout::NonBlocking = timeout {
            return Ok(self.inner.try_acquire());
        }
        let inner = &self.inner;
        // Listed by rthreading.dump() while it waits (a semaphore has no owner: never in a cycle).
        let target = Target { owner: None, tag, kind: "rthreading.Semaphore" };
        let mut in_line = PlaceInLine::new(py, |p| inner.leave_line(p));
        let place = in_line.place();
        let got =
            instrumented(py, target, timeout, Count::Not, |until| inner.acquire_in_place(until, place).then_some(()));
        Ok(got?.is_some())
    }

    #[inline]
    fn release_n(&self, n: u64) -> PyResult<()> {
        self.inner.release(n).map_err(release_error)
    }
}

#[pymethods]
impl Semaphore {
    // For `rthreading._aio`: an asyncio task's waker, woken by the next release (see `waker`).
    fn _watch(&self, waker: &Bound<'_, Waker>) {
        waker.get().watch(&self.inner.watchers);
    }

    fn _unwatch(&self, waker: &Bound<'_, Waker>) {
        waker.get().unwatch(&self.inner.watchers);
    }

    // A task woken by a release leaves without acquiring: wakes the next.
    fn _pass_on(&self) {
        self.inner.watchers.wake(1);
    }

    // For tests: how many threads and tasks wait in line for a unit (a moment's count).
    fn _waiting(&self) -> usize {
        self.inner.watchers.len()
    }

    // Holds no Python object; a GC type only so that the collector sees the instance dict
    // (see `instance_dict`).
    fn __traverse__(&self, _visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        Ok(())
    }

    #[new]
    #[pyo3(signature = (*_args, **_kwargs), text_signature = "(value=1)")]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        Semaphore { inner: CoreSemaphore::new(1, UNBOUNDED), with_slots: WithSlots::default() }
    }

    #[pyo3(signature = (value = Given::MISSING))]
    fn __init__(&self, value: Given<'_, '_>) -> PyResult<()> {
        let value = initial_value(value)?;
        self.inner.reset(value, self.inner.bound());
        Ok(())
    }

    /// Acquire the semaphore, decrementing its counter by one; return True if it was.
    ///
    /// If the counter is above zero, decrement it and return True at once. If it is zero,
    /// wait (with `blocking` true, the default) until a `release()` makes it positive; when
    /// several threads wait, `release()` wakes exactly one per unit released. With `blocking`
    /// false, never wait: return False at once if the counter is zero. A `timeout` (in
    /// seconds, None for no limit) bounds the wait: False is returned if the counter stayed
    /// zero that long. A timeout may not be given with `blocking` false (ValueError).
    ///
    /// The wait releases the interpreter. On the main thread, Ctrl-C interrupts it: the
    /// signal handler's exception propagates with nothing acquired.
    #[pyo3(signature = (blocking = Given::MISSING, timeout = None), text_signature = "($self, /, blocking=True, timeout=None)")]
    fn acquire(slf: &Bound<'_, Self>, blocking: Given<'_, '_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        slf.get().acquire_impl(slf.py(), slf.as_ptr() as usize, blocking, timeout)
    }

    /// Acquire the semaphore, as `acquire()` does: the start of a `with` block.
    #[pyo3(signature = (blocking = Given::MISSING, timeout = None), text_signature = "($self, /, blocking=True, timeout=None)")]
    fn __enter__(slf: &Bound<'_, Self>, blocking: Given<'_, '_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        slf.get().acquire_impl(slf.py(), slf.as_ptr() as usize, blocking, timeout)
    }

    /// Release the semaphore, incrementing its counter by `n` (one by default).
    ///
    /// If threads are waiting for the counter to become positive, up to `n` of them are
    /// woken. `n` must be one or more (ValueError otherwise). On a BoundedSemaphore,
    /// ValueError is raised if the counter would exceed its initial value. Returns None.
    #[pyo3(signature = (n = Given::MISSING), text_signature = "($self, /, n=1)")]
    fn release(&self, n: Given<'_, '_>) -> PyResult<()> {
        let n = match n.0 {
            None => 1,
            Some(n) => match count_arg(n, 1, "n must be one or more")? {
                Some(n) => n,
                None if self.inner.bound() == UNBOUNDED => return Err(PyOverflowError::new_err(TOO_LARGE)),
                None => return Err(release_error(ReleaseError::TooManyReleases)),
            },
        };
        self.release_n(n)
    }

    /// Release the semaphore (calling `self.release()`): the end of a `with` block.
    #[pyo3(text_signature = "($self, t, v, tb)")]
    fn __exit__(
        slf: &Bound<'_, Self>,
        _t: &Bound<'_, PyAny>,
        _v: &Bound<'_, PyAny>,
        _tb: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        // The stdlib calls `self.release()`, so a subclass's override runs.
        if exact(slf.as_any()) {
            return slf.get().release_n(1);
        }
        slf.call_method0(pyo3::intern!(slf.py(), "release"))?;
        Ok(())
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let name = class_name(slf.as_any())?;
        Ok(format!("<{name} at {:#x}: value={}>", slf.as_ptr() as usize, slf.get().inner.value()))
    }
}

/// A bounded semaphore: the drop-in for `threading.BoundedSemaphore`.
///
/// A Semaphore whose counter may never exceed its initial `value` (1 by default):
/// `release()` raises ValueError if it would. Bounded semaphores usually guard a resource of
/// limited capacity, where releasing more often than acquiring is a bug worth an error.
///
/// Every wait releases the interpreter; on the main thread a wait is interrupted by Ctrl-C.
#[pyclass(module = "rthreading", name = "BoundedSemaphore", frozen, extends = Semaphore, subclass, weakref)]
pub struct BoundedSemaphore {}

#[pymethods]
impl BoundedSemaphore {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs), text_signature = "(value=1)")]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> PyClassInitializer<Self> {
        PyClassInitializer::from(Semaphore { inner: CoreSemaphore::new(1, 1), with_slots: WithSlots::default() })
            .add_subclass(BoundedSemaphore {})
    }

    #[pyo3(signature = (value = Given::MISSING))]
    fn __init__(slf: &Bound<'_, Self>, value: Given<'_, '_>) -> PyResult<()> {
        let value = initial_value(value)?;
        slf.as_super().get().inner.reset(value, value);
        Ok(())
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let name = class_name(slf.as_any())?;
        let inner = &slf.as_super().get().inner;
        Ok(format!("<{name} at {:#x}: value={}/{}>", slf.as_ptr() as usize, inner.value(), inner.bound()))
    }
}
