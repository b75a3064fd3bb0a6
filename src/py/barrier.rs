//! `rthreading.Barrier` (placeholder until implemented).

use pyo3::prelude::*;

#[pyclass(module = "rthreading", name = "Barrier", frozen, subclass, weakref)]
pub struct Barrier {}

#[pymethods]
impl Barrier {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        Barrier {}
    }
}
