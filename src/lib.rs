//! rthreading: Python's threading primitives in Rust.
//!
//! `sync` is the Python-free core (state machines, tested with `cargo test`); `py` holds the thin
//! PyO3 wrappers, one file per public class. This file only registers the classes.

pub mod sync;

#[cfg(feature = "python")]
mod py;

#[cfg(feature = "python")]
use pyo3::prelude::*;

#[cfg(feature = "python")]
#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    py::register(m)
}
