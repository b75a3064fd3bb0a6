//! `Queue(maxsize=0)`: the argument as the stdlib's `__init__` takes it, and the sizes the
//! native mode handles.

use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyTuple};

/// The stdlib's `maxsize > 0` / `qsize >= maxsize` for the numbers the native mode handles:
/// `Some(cap)` (None: unbounded), or None for anything else (compatibility mode).
pub(super) fn parse_maxsize(obj: &Bound<'_, PyAny>) -> Option<Option<usize>> {
    if let Ok(f) = obj.cast_exact::<PyFloat>() {
        let v = f.value();
        return Some(if v > 0.0 {
            Some(if v.is_finite() { v.ceil().min(usize::MAX as f64) as usize } else { usize::MAX })
        } else {
            None
        });
    }
    if obj.is_exact_instance_of::<PyInt>() || obj.is_exact_instance_of::<PyBool>() {
        return Some(match obj.extract::<i64>() {
            Ok(v) if v > 0 => Some(v as usize),
            Ok(_) => None,
            Err(_) => obj.gt(0).unwrap_or(false).then_some(usize::MAX),
        });
    }
    None
}

/// `Queue.__init__(self, maxsize=0)`'s argument, with the stdlib's messages for bad calls.
pub(super) fn init_maxsize<'py>(
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = args.py();
    if args.len() > 1 {
        return Err(PyTypeError::new_err(format!(
            "Queue.__init__() takes from 1 to 2 positional arguments but {} were given",
            args.len() + 1
        )));
    }
    let mut maxsize = args.iter().next();
    if let Some(kwargs) = kwargs {
        for (k, v) in kwargs.iter() {
            if k.eq(intern!(py, "maxsize"))? {
                if maxsize.is_some() {
                    return Err(PyTypeError::new_err("Queue.__init__() got multiple values for argument 'maxsize'"));
                }
                maxsize = Some(v);
            } else {
                return Err(PyTypeError::new_err(format!(
                    "Queue.__init__() got an unexpected keyword argument {}",
                    k.repr()?
                )));
            }
        }
    }
    Ok(maxsize)
}
