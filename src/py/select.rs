//! `rthreading.queue.select(*queues, timeout=None)`: one item from whichever queue has one
//! first. The queue side (how a queue wakes a selector, why that is exactly-once) is in
//! `sync::queue::select`; this file scans the queues, fairly, and waits through `wait`.

use super::queue::{empty_error, shutdown_error, Queue};
use super::simple_queue::SimpleQueue;
use super::wait::{queue_timeout, queue_wait_timeout, wait, Timeout};
use super::waitgraph;
use crate::sync::park::Waiter;
use crate::sync::queue::GetError;
use crate::sync::waitgraph::Target;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

/// Where each select starts its scan: one more each time, so that when several queues hold
/// items, each is taken from in turn (none starves).
static ROTATE: AtomicUsize = AtomicUsize::new(0);

enum Member<'py> {
    Queue(Bound<'py, Queue>),
    Simple(Bound<'py, SimpleQueue>),
}

/// What one look at every queue found.
enum Scan {
    Item(usize, Py<PyAny>),
    /// Every queue is shut down and empty.
    AllShutDown,
    Nothing,
}

fn compat_error() -> PyErr {
    PyTypeError::new_err(
        "select() cannot wait on a queue in compatibility mode (a subclass overriding _get/_put/..., \
         or one whose internals such as .queue or .mutex were used)",
    )
}

fn scan(py: Python<'_>, members: &[Member<'_>]) -> PyResult<Scan> {
    let n = members.len();
    let start = ROTATE.fetch_add(1, Relaxed) % n;
    let mut shut = 0;
    for k in 0..n {
        let i = (start + k) % n;
        match &members[i] {
            Member::Queue(q) => {
                let q = q.get();
                let mut g = q.lock(py)?;
                if g.retired().is_some() {
                    return Err(compat_error());
                }
                let got = q.get_locked(py, &mut g);
                drop(g);
                match got {
                    Ok(item) => return Ok(Scan::Item(i, item)),
                    Err(GetError::Empty) => {}
                    Err(GetError::ShutDown) => shut += 1,
                    Err(GetError::Compare(e)) => return Err(e),
                }
            }
            Member::Simple(q) => {
                let core = &q.get().core;
                let got = core.get_locked(&mut super::queue::lock_attached(core.state(), py));
                if let Some(item) = got {
                    return Ok(Scan::Item(i, item));
                }
            }
        }
    }
    Ok(if shut == n { Scan::AllShutDown } else { Scan::Nothing })
}

/// The waiter's registrations, removed from every queue however the select ends.
struct Registered<'a, 'py> {
    py: Python<'py>,
    members: &'a [Member<'py>],
    waiter: Arc<Waiter>,
}

impl<'a, 'py> Registered<'a, 'py> {
    fn new(py: Python<'py>, members: &'a [Member<'py>]) -> Self {
        let waiter = Waiter::new();
        for m in members {
            match m {
                Member::Queue(q) => super::queue::lock_attached(q.get().core.state(), py).selectors.register(&waiter),
                Member::Simple(q) => super::queue::lock_attached(q.get().core.state(), py).selectors.register(&waiter),
            }
        }
        Registered { py, members, waiter }
    }
}

impl Drop for Registered<'_, '_> {
    fn drop(&mut self) {
        for m in self.members {
            match m {
                Member::Queue(q) => {
                    super::queue::lock_attached(q.get().core.state(), self.py).selectors.unregister(&self.waiter)
                }
                Member::Simple(q) => {
                    super::queue::lock_attached(q.get().core.state(), self.py).selectors.unregister(&self.waiter)
                }
            }
        }
    }
}

/// Takes one item from whichever of `queues` (rthreading's Queue, LifoQueue, PriorityQueue,
/// SimpleQueue, in any mix) has one first; returns `(queue, item)`. When several hold items,
/// the queue taken from rotates, so none starves. An item taken from a Queue counts for its
/// task_done()/join() as a get() would. `timeout` (seconds, None: no limit) as Queue.get's;
/// `timeout=0` never waits; when it passes, queue.Empty. A queue that is shut down and empty is
/// skipped; when all of them are, queue.ShutDown.
#[pyfunction]
#[pyo3(signature = (*queues, timeout = None))]
pub(crate) fn select<'py>(
    queues: &Bound<'py, PyTuple>,
    timeout: Option<&Bound<'py, PyAny>>,
) -> PyResult<(Bound<'py, PyAny>, Py<PyAny>)> {
    let py = queues.py();
    if queues.is_empty() {
        return Err(PyValueError::new_err("select() needs at least one queue"));
    }
    let mut members = Vec::with_capacity(queues.len());
    for q in queues.iter() {
        if let Ok(q) = q.cast::<Queue>() {
            if q.get().lock(py)?.retired().is_some() {
                return Err(compat_error());
            }
            members.push(Member::Queue(q.clone()));
        } else if let Ok(q) = q.cast::<SimpleQueue>() {
            members.push(Member::Simple(q.clone()));
        } else {
            return Err(PyTypeError::new_err(format!(
                "select() takes rthreading queues (Queue, LifoQueue, PriorityQueue, SimpleQueue), not {}",
                q.get_type().qualname()?
            )));
        }
    }
    let timeout = queue_timeout(None, timeout)?;
    let found = |i: usize, item: Py<PyAny>| Ok((queues.get_item(i)?, item));
    match scan(py, &members)? {
        Scan::Item(i, item) => return found(i, item),
        Scan::AllShutDown => return Err(shutdown_error(py)),
        Scan::Nothing if timeout.is_zero() => return Err(empty_error(py)),
        Scan::Nothing => {}
    }
    let deadline = queue_wait_timeout(py, timeout)?.deadline();
    let registered = Registered::new(py, &members);
    // Listed by rthreading.dump() while it waits (under the first queue; never in a cycle).
    let target = Target {
        owner: None,
        tag: queues.get_item(0)?.as_ptr() as usize,
        kind: "rthreading.queue.select, first queue",
    };
    let _listed = waitgraph::enter_quietly(py, target, deadline.is_some());
    loop {
        // Registered before this look: whatever arrives after it notifies the waiter.
        match scan(py, &members)? {
            Scan::Item(i, item) => return found(i, item),
            Scan::AllShutDown => return Err(shutdown_error(py)),
            Scan::Nothing => {}
        }
        let remaining = match deadline {
            None => Timeout::Forever,
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Err(empty_error(py));
                }
                Timeout::After(d - now)
            }
        };
        let waiter = &registered.waiter;
        if wait(py, remaining, |until| waiter.park(until).then_some(()))?.is_none() {
            // Timed out with no notification: nothing arrived since the last look.
            return Err(empty_error(py));
        }
    }
}
