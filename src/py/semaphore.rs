//! `rthreading.Semaphore` (placeholder until implemented).

use pyo3::prelude::*;

#[pyclass(module = "rthreading", name = "Semaphore", frozen, subclass, weakref)]
pub struct Semaphore {}

#[pymethods]
impl Semaphore {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        Semaphore {}
    }
}

#[pyclass(module = "rthreading", name = "BoundedSemaphore", frozen, extends = Semaphore, subclass, weakref)]
pub struct BoundedSemaphore {}

#[pymethods]
impl BoundedSemaphore {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> (Self, Semaphore) {
        (BoundedSemaphore {}, Semaphore {})
    }
}
