//! `rthreading.Event` (placeholder until implemented).

use pyo3::prelude::*;

#[pyclass(module = "rthreading", name = "Event", frozen, subclass, weakref)]
pub struct Event {}

#[pymethods]
impl Event {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        Event {}
    }
}
