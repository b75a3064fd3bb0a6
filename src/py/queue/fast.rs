//! The uncontended put/get entries, which skip PyO3's argument handling (see `fastcall`).

use super::{Queue, GET_OVERRIDDEN, PUT_OVERRIDDEN};
use crate::py::fastcall::{fast_method, install};
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::sync::atomic::Ordering::Relaxed;

fast_method!(PutFast, Queue, c"put", 1, |q, py, args| q.put_fast(py, &args[0]));
fast_method!(PutNowaitFast, Queue, c"put_nowait", 1, |q, py, args| {
    if q.flags.load(Relaxed) & PUT_OVERRIDDEN != 0 {
        None
    } else {
        q.put_fast(py, &args[0])
    }
});
fast_method!(GetFast, Queue, c"get", 0, |q, _py| q.get_fast());
fast_method!(GetNowaitFast, Queue, c"get_nowait", 0, |q, _py| {
    if q.flags.load(Relaxed) & GET_OVERRIDDEN != 0 {
        None
    } else {
        q.get_fast()
    }
});

/// Installs the fast entries on `Queue` (and so its subclasses).
pub(crate) fn install_fast_paths(ty: &Bound<'_, PyType>) -> PyResult<()> {
    install::<PutFast>(ty)?;
    install::<PutNowaitFast>(ty)?;
    install::<GetFast>(ty)?;
    install::<GetNowaitFast>(ty)
}
