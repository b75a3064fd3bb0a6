//! Raw entry points for the hottest calls (`lock.acquire()`, `lock.release()`, `with lock`, ...).
//!
//! A PyO3 method costs a few nanoseconds more per call than a C method (its trampoline counts
//! the attachment in thread-local storage and extracts arguments generically); on a call that
//! is itself a few nanoseconds of work that decides whether rthreading beats the stdlib's C
//! lock. For a method registered here, the class keeps its ordinary PyO3 method and gets a
//! second, C-level entry in front of it: when the call has the common shape (no keywords, a
//! given number of positional arguments) the entry runs
//! the fast path directly; if the fast path declines (`None`) or the call has another shape,
//! it tail-calls the PyO3 method, which handles everything (argument errors, blocking, ...).
//! The fast path must be a few atomic operations that cannot panic or block.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::ffi::{c_int, c_void, CStr};
use std::sync::atomic::{AtomicPtr, Ordering::Relaxed};

/// A method with a fast path. Implemented through `fast_method!`.
pub trait FastMethod {
    /// The Python method's name.
    const NAME: &'static CStr;
    /// How many positional arguments the fast path takes.
    const NARGS: isize;
    /// The fast path, given `self` and exactly `NARGS` positional arguments: `Some(result)` when
    /// it handled the call, `None` to defer to PyO3's method (which then does all the work).
    fn fast(slf: &Bound<'_, PyAny>, args: &[Borrowed<'_, '_, PyAny>]) -> Option<Py<PyAny>>;
    /// Where the PyO3 method's C function is kept.
    fn original() -> &'static AtomicPtr<c_void>;
}

/// Declares a `FastMethod` for `$class.$name`, whose fast path is
/// `|$slf: &$class, $py: Python, $args: &[Borrowed<PyAny>]| -> Option<Py<PyAny>>`.
macro_rules! fast_method {
    ($marker:ident, $class:ty, $name:literal, $nargs:literal, |$slf:ident, $py:ident| $body:expr) => {
        $crate::py::fastcall::fast_method!($marker, $class, $name, $nargs, |$slf, $py, _args| $body);
    };
    ($marker:ident, $class:ty, $name:literal, $nargs:literal, |$slf:ident, $py:ident, $args:ident| $body:expr) => {
        pub(crate) struct $marker;
        impl $crate::py::fastcall::FastMethod for $marker {
            const NAME: &'static std::ffi::CStr = $name;
            const NARGS: isize = $nargs;
            #[inline(always)]
            fn fast(
                obj: &pyo3::Bound<'_, pyo3::PyAny>,
                $args: &[pyo3::Borrowed<'_, '_, pyo3::PyAny>],
            ) -> Option<pyo3::Py<pyo3::PyAny>> {
                // SAFETY: the entry is installed on `$class` (and inherited by subclasses,
                // whose instances contain a `$class`), so `obj` is a `$class` instance.
                let $slf: &$class = unsafe { obj.cast_unchecked::<$class>() }.get();
                let $py = obj.py();
                $body
            }
            fn original() -> &'static std::sync::atomic::AtomicPtr<std::ffi::c_void> {
                static ORIGINAL: std::sync::atomic::AtomicPtr<std::ffi::c_void> =
                    std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());
                &ORIGINAL
            }
        }
    };
}
pub(crate) use fast_method;

unsafe extern "C" fn fastcall_entry<M: FastMethod>(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    if kwnames.is_null() && ffi::PyVectorcall_NARGS(nargs as usize) == M::NARGS {
        // SAFETY: CPython calls methods attached, with a valid borrowed `self`.
        let py = unsafe { Python::assume_attached() };
        // SAFETY: `slf` is the method's valid, borrowed `self`.
        let obj = unsafe { pyo3::Borrowed::from_ptr(py, slf) };
        // SAFETY: CPython passes `nargs` valid borrowed arguments; `Borrowed` has the layout
        // of a pointer. (`args` may be null when there are none.)
        let args: &[Borrowed<'_, '_, PyAny>] = if M::NARGS == 0 {
            &[]
        } else {
            // SAFETY: see above; `nargs == M::NARGS` was checked.
            unsafe { std::slice::from_raw_parts(args.cast(), M::NARGS as usize) }
        };
        if let Some(r) = M::fast(&obj, args) {
            return r.into_ptr();
        }
    }
    // SAFETY: `install` stored the PyO3 method's function, of this calling convention.
    unsafe {
        let f: ffi::PyCFunctionFastWithKeywords = std::mem::transmute(M::original().load(Relaxed));
        f(slf, args, nargs, kwnames)
    }
}

unsafe extern "C" fn noargs_entry<M: FastMethod>(
    slf: *mut ffi::PyObject,
    arg: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: as in `fastcall_entry`.
    let py = unsafe { Python::assume_attached() };
    // SAFETY: as in `fastcall_entry`.
    let obj = unsafe { pyo3::Borrowed::from_ptr(py, slf) };
    if let Some(r) = M::fast(&obj, &[]) {
        return r.into_ptr();
    }
    // SAFETY: `install` stored the PyO3 method's function, of this (METH_NOARGS) convention.
    unsafe {
        let f: ffi::PyCFunction = std::mem::transmute(M::original().load(Relaxed));
        f(slf, arg)
    }
}

/// Puts `M`'s entry in front of the PyO3 method `ty.M::NAME`. Leaves the class as it is (and
/// correct, only slower) if the method is not of a calling convention handled here.
pub fn install<M: FastMethod>(ty: &Bound<'_, PyType>) -> PyResult<()> {
    let py = ty.py();
    let descr = ty.getattr(M::NAME.to_str().unwrap_or_default())?;
    // SAFETY: checked to be a method descriptor before reading it as one.
    unsafe {
        if ffi::Py_TYPE(descr.as_ptr()) != std::ptr::addr_of_mut!(ffi::PyMethodDescr_Type) {
            return Ok(());
        }
        let def = &*(*(descr.as_ptr() as *mut ffi::PyMethodDescrObject)).d_method;
        let flags = def.ml_flags;
        let entry: *mut c_void = if flags == ffi::METH_FASTCALL | ffi::METH_KEYWORDS {
            fastcall_entry::<M> as *mut c_void
        } else if flags == ffi::METH_NOARGS && M::NARGS == 0 {
            noargs_entry::<M> as *mut c_void
        } else {
            return Ok(());
        };
        // Installed already (the module executed again in this interpreter, e.g. re-imported
        // after leaving `sys.modules`): storing our own entry as the original would make it
        // call itself forever.
        if def.ml_meth.as_ptr() == entry {
            return Ok(());
        }
        M::original().store(def.ml_meth.as_ptr(), Relaxed);
        let mut ours = ffi::PyMethodDef::zeroed();
        ours.ml_name = def.ml_name;
        ours.ml_doc = def.ml_doc;
        ours.ml_flags = flags as c_int;
        ours.ml_meth = std::mem::transmute::<*mut c_void, ffi::PyMethodDefPointer>(entry);
        // Lives as long as the class (for the process): a few dozen bytes per method, once.
        let ours = Box::leak(Box::new(ours));
        let new_descr = Bound::from_owned_ptr_or_err(py, ffi::PyDescr_NewMethod(ty.as_ptr().cast(), ours))?;
        ty.setattr(M::NAME.to_str().unwrap_or_default(), new_descr)?;
    }
    Ok(())
}

/// `True`, as a new reference.
#[inline(always)]
pub fn py_true(py: Python<'_>) -> Py<PyAny> {
    pyo3::types::PyBool::new(py, true).to_owned().into_any().unbind()
}
