//! `rthreading.Condition` (placeholder until implemented).

use pyo3::prelude::*;

#[pyclass(module = "rthreading", name = "Condition", frozen, subclass, weakref)]
pub struct Condition {}

#[pymethods]
impl Condition {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        Condition {}
    }
}
