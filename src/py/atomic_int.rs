//! `rthreading.AtomicInt`: the wrapper over `sync::atomic_int::AtomicInt`. Arguments are Python
//! integers that fit a signed 64-bit integer (`OverflowError` otherwise, as for any argument a
//! C `long long` takes); an update whose result would not fit raises `OverflowError` and
//! changes nothing.

use super::fastcall::{fast_method, install};
use crate::sync::atomic_int::{AtomicInt as Core, Overflow};
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyType};

/// A signed 64-bit integer whose every operation is atomic: a counter shared by threads with no
/// lock. An operation whose result would leave the range -2**63 .. 2**63-1 raises
/// `OverflowError` and leaves the value unchanged.
#[pyclass(module = "rthreading", name = "AtomicInt", frozen, weakref)]
pub struct AtomicInt {
    inner: Core,
}

fn overflow(op: &str, value: i64, n: i64) -> PyErr {
    PyOverflowError::new_err(format!("AtomicInt overflow: {value} {op} {n} is out of the signed 64-bit range"))
}

impl AtomicInt {
    #[inline]
    fn add_or_err(&self, n: i64) -> PyResult<i64> {
        self.inner.add(n).map_err(|Overflow| overflow("+", self.inner.get(), n))
    }

    #[inline]
    fn sub_or_err(&self, n: i64) -> PyResult<i64> {
        self.inner.sub(n).map_err(|Overflow| overflow("-", self.inner.get(), n))
    }

    /// `a += n` / `a -= n` (PyO3 then returns `a` itself): `n` must be an int (else Python's
    /// usual TypeError); one too large for 64 bits is an OverflowError.
    fn in_place(&self, n: &Bound<'_, PyAny>, add: bool) -> PyResult<()> {
        if !n.is_instance_of::<PyInt>() {
            let op = if add { "+=" } else { "-=" };
            return Err(PyTypeError::new_err(format!(
                "unsupported operand type(s) for {op}: 'AtomicInt' and '{}'",
                n.get_type().qualname()?
            )));
        }
        let n: i64 = n.extract()?;
        if add {
            self.add_or_err(n)?;
        } else {
            self.sub_or_err(n)?;
        }
        Ok(())
    }
}

#[pymethods]
impl AtomicInt {
    #[new]
    #[pyo3(signature = (value = 0))]
    fn new(value: i64) -> Self {
        AtomicInt { inner: Core::new(value) }
    }

    /// The current value.
    fn get(&self) -> i64 {
        self.inner.get()
    }

    /// Stores `value`.
    fn set(&self, value: i64) {
        self.inner.set(value);
    }

    /// Adds `n` and returns the new value.
    #[pyo3(signature = (n = 1))]
    fn add(&self, n: i64) -> PyResult<i64> {
        self.add_or_err(n)
    }

    /// Subtracts `n` and returns the new value.
    #[pyo3(signature = (n = 1))]
    fn sub(&self, n: i64) -> PyResult<i64> {
        self.sub_or_err(n)
    }

    /// Adds `n` and returns the old value.
    #[pyo3(signature = (n = 1))]
    fn fetch_add(&self, n: i64) -> PyResult<i64> {
        self.inner.fetch_add(n).map_err(|Overflow| overflow("+", self.inner.get(), n))
    }

    /// Stores `value` and returns the old value.
    fn exchange(&self, value: i64) -> i64 {
        self.inner.exchange(value)
    }

    /// Stores `new` if the value is `expected`; returns whether it did.
    fn compare_exchange(&self, expected: i64, new: i64) -> bool {
        self.inner.compare_exchange(expected, new)
    }

    fn __iadd__(&self, n: &Bound<'_, PyAny>) -> PyResult<()> {
        self.in_place(n, true)
    }

    fn __isub__(&self, n: &Bound<'_, PyAny>) -> PyResult<()> {
        self.in_place(n, false)
    }

    fn __int__(&self) -> i64 {
        self.inner.get()
    }

    fn __index__(&self) -> i64 {
        self.inner.get()
    }

    fn __bool__(&self) -> bool {
        self.inner.get() != 0
    }

    fn __repr__(&self) -> String {
        format!("AtomicInt({})", self.inner.get())
    }
}

/// A small int argument, read without PyO3's generic extraction; None for anything else (the
/// PyO3 method then handles it, errors included).
#[inline(always)]
fn small_int(obj: &Borrowed<'_, '_, PyAny>) -> Option<i64> {
    if !obj.is_exact_instance_of::<PyInt>() {
        return None;
    }
    let mut overflow = 0;
    // SAFETY: `obj` is an exact int (so the call cannot fail, nor call Python code); it reads
    // it and reports a value out of range in `overflow`.
    let v = unsafe { pyo3::ffi::PyLong_AsLongLongAndOverflow(obj.as_ptr(), &mut overflow) };
    (overflow == 0).then_some(v)
}

#[inline(always)]
fn int(py: Python<'_>, v: i64) -> Py<PyAny> {
    v.into_pyobject(py).map(|i| i.into_any().unbind()).unwrap_or_else(|e| match e {})
}

fast_method!(AddFast, AtomicInt, c"add", 1, |a, py, args| {
    let n = small_int(&args[0])?;
    a.inner.add(n).ok().map(|v| int(py, v))
});
fast_method!(SubFast, AtomicInt, c"sub", 1, |a, py, args| {
    let n = small_int(&args[0])?;
    a.inner.sub(n).ok().map(|v| int(py, v))
});
fast_method!(FetchAddFast, AtomicInt, c"fetch_add", 1, |a, py, args| {
    let n = small_int(&args[0])?;
    a.inner.fetch_add(n).ok().map(|v| int(py, v))
});
fast_method!(GetFast, AtomicInt, c"get", 0, |a, py| Some(int(py, a.inner.get())));

/// The common calls (`add(n)`, `get()`, ...) skip PyO3's argument handling (see `fastcall`).
pub(crate) fn install_fast_paths(ty: &Bound<'_, PyType>) -> PyResult<()> {
    install::<AddFast>(ty)?;
    install::<SubFast>(ty)?;
    install::<FetchAddFast>(ty)?;
    install::<GetFast>(ty)
}
