//! `LifoQueue` and `PriorityQueue`: the native `Queue` in another order, with the stdlib's
//! hooks for that order (which only the compatibility mode calls).

use super::Queue;
use crate::sync::queue::Order;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyList;

/// A last-in, first-out queue (a stack): get() returns the item put most recently.
///
/// Otherwise it is a Queue: the same maxsize, methods and exceptions.
#[pyclass(module = "rthreading.queue", name = "LifoQueue", extends = Queue, frozen, subclass)]
pub struct LifoQueue;

#[pymethods]
impl LifoQueue {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs), text_signature = "(maxsize=0)")]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> PyClassInitializer<Self> {
        PyClassInitializer::from(Queue::with_order(Order::Lifo)).add_subclass(LifoQueue)
    }

    fn _init(slf: &Bound<'_, Self>, _maxsize: &Bound<'_, PyAny>) -> PyResult<()> {
        slf.setattr(intern!(slf.py(), "queue"), PyList::empty(slf.py()))
    }

    fn _qsize(slf: &Bound<'_, Self>) -> PyResult<usize> {
        slf.getattr(intern!(slf.py(), "queue"))?.len()
    }

    fn _put(slf: &Bound<'_, Self>, item: &Bound<'_, PyAny>) -> PyResult<()> {
        slf.getattr(intern!(slf.py(), "queue"))?.call_method1(intern!(slf.py(), "append"), (item,)).map(drop)
    }

    fn _get<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.getattr(intern!(slf.py(), "queue"))?.call_method0(intern!(slf.py(), "pop"))
    }
}

/// A queue that returns its items lowest first, as sorted() would order them.
///
/// Items are usually tuples like (priority number, data); items that compare equal come out
/// in no particular order, so a tie-breaking counter or a data class that compares only its
/// priority is common. Otherwise it is a Queue: the same maxsize, methods and exceptions.
#[pyclass(module = "rthreading.queue", name = "PriorityQueue", extends = Queue, frozen, subclass)]
pub struct PriorityQueue;

#[pymethods]
impl PriorityQueue {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs), text_signature = "(maxsize=0)")]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> PyClassInitializer<Self> {
        PyClassInitializer::from(Queue::with_order(Order::Priority)).add_subclass(PriorityQueue)
    }

    fn _init(slf: &Bound<'_, Self>, _maxsize: &Bound<'_, PyAny>) -> PyResult<()> {
        slf.setattr(intern!(slf.py(), "queue"), PyList::empty(slf.py()))
    }

    fn _qsize(slf: &Bound<'_, Self>) -> PyResult<usize> {
        slf.getattr(intern!(slf.py(), "queue"))?.len()
    }

    fn _put(slf: &Bound<'_, Self>, item: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = slf.py();
        let heap = slf.getattr(intern!(py, "queue"))?;
        py.import(intern!(py, "heapq"))?.getattr(intern!(py, "heappush"))?.call1((heap, item)).map(drop)
    }

    fn _get<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let heap = slf.getattr(intern!(py, "queue"))?;
        py.import(intern!(py, "heapq"))?.getattr(intern!(py, "heappop"))?.call1((heap,))
    }
}
