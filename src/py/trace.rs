//! `settrace_all_threads` / `setprofile_all_threads` for CPython 3.11, which lacks them (3.12
//! added them with `sys._settraceallthreads` / `sys._setprofileallthreads`; rthreading
//! re-exports the stdlib's there). These are 3.12's two `sys` functions, for 3.11: they install
//! the function on every thread state of the interpreter with `_PyEval_SetTrace` /
//! `_PyEval_SetProfile` (the per-thread-state setters that 3.11's `sys.settrace` uses for the
//! current thread), through trampolines that do what 3.11's `sys.settrace`/`sys.setprofile`
//! trampolines (Python/sysmodule.c) do. The setters and the frame functions are looked up
//! when first needed, so the module loads on every interpreter; the functions refuse to run
//! on 3.12 and later.

use pyo3::exceptions::PyRuntimeError;
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyString;
use std::ffi::{c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

type SetFunc = unsafe extern "C" fn(*mut ffi::PyThreadState, Option<ffi::Py_tracefunc>, *mut ffi::PyObject) -> c_int;
type FastToLocals = unsafe extern "C" fn(*mut ffi::PyFrameObject) -> c_int;
type LocalsToFast = unsafe extern "C" fn(*mut ffi::PyFrameObject, c_int);

/// The interpreter's functions this needs beyond the stable API, found by name at run time.
struct Api {
    set_trace: SetFunc,
    set_profile: SetFunc,
    fast_to_locals: FastToLocals,
    locals_to_fast: LocalsToFast,
}

fn symbol(name: &CStr) -> Option<*mut c_void> {
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name has no other precondition.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    (!p.is_null()).then_some(p)
}

static API: OnceLock<Option<Api>> = OnceLock::new();

/// The functions, looked up on first use; refused on 3.12 and later.
fn api(py: Python<'_>) -> PyResult<&'static Api> {
    if py.version_info() >= (3, 12) {
        return Err(PyRuntimeError::new_err("only for CPython before 3.12: use the threading module's own"));
    }
    let api = API.get_or_init(|| {
        // SAFETY: each symbol, when present, is the CPython 3.11 function of that signature.
        unsafe {
            Some(Api {
                set_trace: std::mem::transmute::<*mut c_void, SetFunc>(symbol(c"_PyEval_SetTrace")?),
                set_profile: std::mem::transmute::<*mut c_void, SetFunc>(symbol(c"_PyEval_SetProfile")?),
                fast_to_locals: std::mem::transmute::<*mut c_void, FastToLocals>(symbol(
                    c"PyFrame_FastToLocalsWithError",
                )?),
                locals_to_fast: std::mem::transmute::<*mut c_void, LocalsToFast>(symbol(c"PyFrame_LocalsToFast")?),
            })
        }
    });
    api.as_ref().ok_or_else(|| PyRuntimeError::new_err("this interpreter does not export _PyEval_SetTrace"))
}

/// The functions, in a trampoline (installed only after `api` found them).
fn loaded() -> Option<&'static Api> {
    API.get().and_then(Option::as_ref)
}

fn what_string(py: Python<'_>, what: c_int) -> &Bound<'_, PyString> {
    match what {
        ffi::PyTrace_CALL => intern!(py, "call"),
        ffi::PyTrace_EXCEPTION => intern!(py, "exception"),
        ffi::PyTrace_LINE => intern!(py, "line"),
        ffi::PyTrace_RETURN => intern!(py, "return"),
        ffi::PyTrace_C_CALL => intern!(py, "c_call"),
        ffi::PyTrace_C_EXCEPTION => intern!(py, "c_exception"),
        ffi::PyTrace_C_RETURN => intern!(py, "c_return"),
        _ => intern!(py, "opcode"),
    }
}

/// 3.11's `call_trampoline`: `callback(frame, what, arg)` with the frame's locals synced around
/// the call, and the frame added to the traceback of an exception it raises.
///
/// # Safety
/// Attached, with `frame` a live frame and `arg` NULL or a live object (as the eval loop calls
/// a trace function).
unsafe fn call_trampoline<'py>(
    api: &Api,
    callback: &Bound<'py, PyAny>,
    frame: *mut ffi::PyFrameObject,
    what: c_int,
    arg: *mut ffi::PyObject,
) -> PyResult<Bound<'py, PyAny>> {
    let py = callback.py();
    if (api.fast_to_locals)(frame) < 0 {
        return Err(PyErr::fetch(py));
    }
    let frame_obj = Borrowed::from_ptr(py, frame.cast::<ffi::PyObject>()).to_owned();
    let arg = if arg.is_null() { py.None().into_bound(py) } else { Borrowed::from_ptr(py, arg).to_owned() };
    let result = callback.call1((frame_obj, what_string(py, what), arg));
    (api.locals_to_fast)(frame, 1);
    result.map_err(|e| {
        e.restore(py);
        ffi::PyTraceBack_Here(frame);
        PyErr::fetch(py)
    })
}

/// Runs a trampoline's body, turning a Rust panic (there should be none) into an exception.
fn guarded(body: impl FnOnce() -> c_int) -> c_int {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        // SAFETY: still attached (the trampoline was called attached).
        let py = unsafe { Python::assume_attached() };
        PyRuntimeError::new_err("rthreading: panic in a trace trampoline").restore(py);
        -1
    })
}

/// 3.11's `trace_trampoline`: `obj` (the function given to settrace) for "call" events, the
/// frame's `f_trace` for the others; its result becomes the frame's `f_trace`; an exception
/// turns tracing off for this thread.
unsafe extern "C" fn trace_trampoline(
    obj: *mut ffi::PyObject,
    frame: *mut ffi::PyFrameObject,
    what: c_int,
    arg: *mut ffi::PyObject,
) -> c_int {
    guarded(|| {
        let py = Python::assume_attached();
        let Some(api) = loaded() else { return 0 };
        let frame_obj = Borrowed::from_ptr(py, frame.cast::<ffi::PyObject>());
        let callback = if what == ffi::PyTrace_CALL {
            Borrowed::from_ptr(py, obj).to_owned()
        } else {
            match frame_obj.getattr(intern!(py, "f_trace")) {
                Ok(f) if !f.is_none() => f,
                Ok(_) => return 0,
                Err(e) => {
                    e.restore(py);
                    return -1;
                }
            }
        };
        match call_trampoline(api, &callback, frame, what, arg) {
            Ok(result) => {
                if !result.is_none() {
                    if let Err(e) = frame_obj.setattr(intern!(py, "f_trace"), result) {
                        e.restore(py);
                        return -1;
                    }
                }
                0
            }
            Err(e) => {
                ffi::PyEval_SetTrace(None, std::ptr::null_mut());
                let _ = frame_obj.setattr(intern!(py, "f_trace"), py.None());
                e.restore(py);
                -1
            }
        }
    })
}

/// 3.11's `profile_trampoline`: `obj(frame, what, arg)`; an exception turns profiling off for
/// this thread.
unsafe extern "C" fn profile_trampoline(
    obj: *mut ffi::PyObject,
    frame: *mut ffi::PyFrameObject,
    what: c_int,
    arg: *mut ffi::PyObject,
) -> c_int {
    guarded(|| {
        let py = Python::assume_attached();
        let Some(api) = loaded() else { return 0 };
        let callback = Borrowed::from_ptr(py, obj).to_owned();
        match call_trampoline(api, &callback, frame, what, arg) {
            Ok(_) => 0,
            Err(e) => {
                ffi::PyEval_SetProfile(None, std::ptr::null_mut());
                e.restore(py);
                -1
            }
        }
    })
}

/// Installs `func` (None: removes the function) on every thread state of the interpreter, as
/// 3.12's `_PyEval_SetTraceAllThreads` does: a setter's error (an audit hook's) is reported as
/// unraisable and the loop goes on.
fn set_all_threads(py: Python<'_>, func: &Bound<'_, PyAny>, set: SetFunc, trampoline: ffi::Py_tracefunc) {
    let (trampoline, arg) =
        if func.is_none() { (None, std::ptr::null_mut()) } else { (Some(trampoline), func.as_ptr()) };
    // SAFETY: attached, so on 3.11 (a GIL build) no thread state of this interpreter is
    // cleared meanwhile; the setter takes its own reference to `arg`.
    unsafe {
        let mut ts = ffi::PyInterpreterState_ThreadHead(ffi::PyInterpreterState_Get());
        while !ts.is_null() {
            if set(ts, trampoline, arg) < 0 {
                PyErr::fetch(py).write_unraisable(py, None);
            }
            ts = ffi::PyThreadState_Next(ts);
        }
    }
}

/// `sys._settraceallthreads(func)` of 3.12, for 3.11.
#[pyfunction]
pub fn _settraceallthreads(py: Python<'_>, func: &Bound<'_, PyAny>) -> PyResult<()> {
    let api = api(py)?;
    set_all_threads(py, func, api.set_trace, trace_trampoline);
    Ok(())
}

/// `sys._setprofileallthreads(func)` of 3.12, for 3.11.
#[pyfunction]
pub fn _setprofileallthreads(py: Python<'_>, func: &Bound<'_, PyAny>) -> PyResult<()> {
    let api = api(py)?;
    set_all_threads(py, func, api.set_profile, profile_trampoline);
    Ok(())
}
