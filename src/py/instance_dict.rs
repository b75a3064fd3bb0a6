//! Instance `__dict__` for the classes that are Python classes in the stdlib (`Condition`,
//! `Semaphore`, `Event`, `Barrier`, the queues): their instances take attributes, as real
//! libraries expect.
//!
//! PyO3 0.28's `#[pyclass(dict)]` gives each instance a dict but its `tp_traverse` does not visit
//! it, so the collector could not see a cycle through an attribute (`q.me = q`); and a Python
//! subclass no longer adds a dict of its own (which `subtype_traverse` would visit), as the base
//! has one. `install` wraps the class's `tp_traverse` so that it visits the dict after what the
//! class's `__traverse__` visits. The dict's own `tp_clear` breaks such a cycle. The class must
//! be a GC type (have a `__traverse__`), and each wrapped class gets its own slot `I` for the
//! function it wraps.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicPtr, Ordering::Relaxed};

/// One per wrapped class: the `tp_traverse` PyO3 made for it.
static WRAPPED: [AtomicPtr<c_void>; SLOTS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS];
pub(crate) const SLOTS: usize = 8;

unsafe extern "C" fn traverse_with_dict<const I: usize>(
    obj: *mut ffi::PyObject,
    visit: ffi::visitproc,
    arg: *mut c_void,
) -> c_int {
    let wrapped = WRAPPED[I].load(Relaxed);
    if !wrapped.is_null() {
        // SAFETY: `install` stored a `traverseproc` here before installing this function.
        let f: ffi::traverseproc = unsafe { std::mem::transmute::<*mut c_void, ffi::traverseproc>(wrapped) };
        // SAFETY: the collector's own arguments, passed on to the class's original traverse.
        let r = unsafe { f(obj, visit, arg) };
        if r != 0 {
            return r;
        }
    }
    // SAFETY: the collector calls this with a live instance of a class with a dict (ours, or a
    // Python subclass, which keeps the base's dict offset); the dict pointer is null until the
    // first attribute is set.
    unsafe {
        let offset = (*ffi::Py_TYPE(obj)).tp_dictoffset;
        if offset > 0 {
            let dict = *obj.cast::<u8>().offset(offset).cast::<*mut ffi::PyObject>();
            if !dict.is_null() {
                return visit(dict, arg);
            }
        }
    }
    0
}

const OURS: [ffi::traverseproc; SLOTS] = [
    traverse_with_dict::<0>,
    traverse_with_dict::<1>,
    traverse_with_dict::<2>,
    traverse_with_dict::<3>,
    traverse_with_dict::<4>,
    traverse_with_dict::<5>,
    traverse_with_dict::<6>,
    traverse_with_dict::<7>,
];

/// Makes the collector see `ty`'s instance dicts. `I` is this class's own slot (`< SLOTS`).
pub(crate) fn install<const I: usize>(ty: &Bound<'_, PyType>) -> PyResult<()> {
    let ours = traverse_with_dict::<I> as ffi::traverseproc;
    // SAFETY: `ty` is a class created by PyO3, not yet shared with other threads' instances in
    // a way that matters: the slot is read by the collector only, and written here once.
    unsafe {
        let raw = ty.as_ptr().cast::<ffi::PyTypeObject>();
        debug_assert!((*raw).tp_dictoffset > 0, "a class with a dict");
        let current = (*raw).tp_traverse;
        match current {
            // Wrapped already: the module executed again (re-imported), or a subclass whose
            // slot was copied from a wrapped base. Wrapping again would visit the dict twice.
            Some(f) if OURS.iter().any(|&o| o as usize == f as usize) => {}
            Some(f) => {
                WRAPPED[I].store(f as *mut c_void, Relaxed);
                (*raw).tp_traverse = Some(ours);
            }
            None => {
                return Err(pyo3::exceptions::PySystemError::new_err(
                    "rthreading: a class with an instance dict must be a GC type",
                ))
            }
        }
    }
    Ok(())
}
