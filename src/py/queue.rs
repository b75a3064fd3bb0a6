//! `rthreading.queue.Queue`, `LifoQueue` and `PriorityQueue`: wrappers over `sync::queue::Queue`.
//!
//! Two modes per instance:
//! - native (the default): items, counts and waits in Rust; put/get try the mutex attached and
//!   wait detached (`wait::wait`) only when they must.
//! - compatibility: for a subclass that overrides the stdlib's hooks (`_init`, `_qsize`, `_put`,
//!   `_get`), an unusual `maxsize` (neither int nor float), or code that reaches for the stdlib's
//!   internals (`q.mutex`, `q.queue`, `q.not_empty`, ...). The queue's state then lives in a
//!   Python `_Internals` object (rthreading's own Lock and Conditions, the `queue` container) and
//!   every method runs the stdlib's algorithm from `rthreading/queue.py` over the hooks. A native
//!   queue switches over once (its items, counts and flags carried across) and stays switched.
//!
//! A PriorityQueue compares its items with Python's `<` while it holds its mutex, as the stdlib's
//! holds its lock around `heappush`; a comparison that calls back into the same queue gets a
//! RuntimeError instead of the stdlib's deadlock.

use super::fastcall::{fast_method, install};
use super::wait::{queue_timeout, queue_wait_timeout, wait, Given, Timeout};
use super::waitgraph;
use crate::sync::current_thread_ident;
use crate::sync::queue::{GetError, Order, PutError, Queue as Core, State};
use crate::sync::stats::Slot;
use crate::sync::waitgraph::Target;
use parking_lot::MutexGuard;
use pyo3::call::PyCallArgs;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::{MutexExt, PyOnceLock};
use pyo3::types::{IntoPyDict, PyBool, PyDict, PyFloat, PyInt, PyList, PyTuple, PyType};
use pyo3::{PyTraverseError, PyVisit};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};
use std::time::Instant;

type Guard<'a> = MutexGuard<'a, State<Py<PyAny>>>;

/// Takes a queue's mutex while attached: it is only ever held for a few instructions, so look
/// for it a few times (spinning, not blocking) before detaching to wait for it.
#[inline]
pub(crate) fn lock_attached<'a, T>(m: &'a parking_lot::Mutex<T>, py: Python<'_>) -> MutexGuard<'a, T> {
    if let Some(g) = m.try_lock() {
        return g;
    }
    lock_contended(m, py)
}

/// A few tries, pausing in between, for a mutex held briefly by another thread.
#[cold]
fn try_lock_spinning<T>(m: &parking_lot::Mutex<T>) -> Option<MutexGuard<'_, T>> {
    for round in 0..3 {
        for _ in 0..1u32 << round {
            std::hint::spin_loop();
        }
        if let Some(g) = m.try_lock() {
            return Some(g);
        }
    }
    None
}

#[cold]
fn lock_contended<'a, T>(m: &'a parking_lot::Mutex<T>, py: Python<'_>) -> MutexGuard<'a, T> {
    try_lock_spinning(m).unwrap_or_else(|| m.lock_py_attached(py))
}

/// `rthreading.queue`: the exception classes and the compatibility mode's Python half.
pub(crate) fn queue_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE.get_or_try_init(py, || py.import("rthreading.queue").map(Bound::unbind)).map(|m| m.bind(py))
}

fn exception(py: Python<'_>, cell: &'static PyOnceLock<Py<PyType>>, name: &str) -> PyErr {
    match cell.import(py, "rthreading.queue", name) {
        Ok(ty) => PyErr::from_type(ty.clone(), ()),
        Err(e) => e,
    }
}

pub(crate) fn empty_error(py: Python<'_>) -> PyErr {
    static EMPTY: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    exception(py, &EMPTY, "Empty")
}

fn full_error(py: Python<'_>) -> PyErr {
    static FULL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    exception(py, &FULL, "Full")
}

pub(crate) fn shutdown_error(py: Python<'_>) -> PyErr {
    static SHUTDOWN: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    exception(py, &SHUTDOWN, "ShutDown")
}

fn no_cmp(_: &Py<PyAny>, _: &Py<PyAny>) -> Result<bool, PyErr> {
    Ok(false) // FIFO and LIFO queues never compare
}

/// The stdlib's `maxsize > 0` / `qsize >= maxsize` for the numbers the native mode handles:
/// `Some(cap)` (None: unbounded), or None for anything else (compatibility mode).
fn parse_maxsize(obj: &Bound<'_, PyAny>) -> Option<Option<usize>> {
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

const PUT_OVERRIDDEN: u8 = 1;
const GET_OVERRIDDEN: u8 = 2;

/// Create a queue object with a given maximum size.
///
/// If maxsize is <= 0, the queue size is infinite.
// An instance `__dict__` from 3.13 on (see `instance_dict`).
#[cfg_attr(Py_3_13, pyclass(module = "rthreading.queue", name = "Queue", frozen, subclass, weakref, dict))]
#[cfg_attr(not(Py_3_13), pyclass(module = "rthreading.queue", name = "Queue", frozen, subclass, weakref))]
pub struct Queue {
    pub(crate) core: Core<Py<PyAny>>,
    order: Order,
    /// What `maxsize` returns (None: the default, 0).
    maxsize: parking_lot::Mutex<Option<Py<PyAny>>>,
    /// PUT_OVERRIDDEN / GET_OVERRIDDEN: put_nowait/get_nowait call the subclass's put/get.
    flags: AtomicU8,
    /// The thread comparing a PriorityQueue's items under its mutex (0: none).
    comparing: AtomicU64,
    /// Wait counters, when tracked (see `stats`): queues count their put and get waits.
    pub(crate) stats: Slot,
}

pub(crate) const KIND: &str = "rthreading.queue.Queue";

impl Queue {
    fn with_order(order: Order) -> Self {
        Queue {
            core: Core::new(order, None),
            order,
            maxsize: parking_lot::Mutex::new(None),
            flags: AtomicU8::new(0),
            comparing: AtomicU64::new(0),
            stats: Slot::new(),
        }
    }

    /// The mutex, attached (try first, detach only to wait for it).
    #[inline]
    pub(crate) fn lock(&self, py: Python<'_>) -> PyResult<Guard<'_>> {
        if self.order == Order::Priority && self.comparing.load(Relaxed) == current_thread_ident() {
            return Err(PyRuntimeError::new_err(
                "PriorityQueue used from the comparison of its own items (the stdlib's would deadlock)",
            ));
        }
        Ok(lock_attached(self.core.state(), py))
    }

    /// Runs `f` (which compares items with Python's `<`) marked as this thread's comparison.
    fn comparing<R>(&self, f: impl FnOnce() -> R) -> R {
        if self.order != Order::Priority {
            return f();
        }
        self.comparing.store(current_thread_ident(), Relaxed);
        let r = f();
        self.comparing.store(0, Relaxed);
        r
    }

    /// The uncontended `put(item)`: None when anything needs more than a push.
    #[inline(always)]
    fn put_fast(&self, py: Python<'_>, item: &Borrowed<'_, '_, PyAny>) -> Option<Py<PyAny>> {
        if self.order == Order::Priority {
            return None;
        }
        let mut g = self.core.state().try_lock()?;
        if g.retired().is_some() || g.is_shutdown() || g.is_full() {
            return None;
        }
        let _ = self.core.put_locked(&mut g, (*item).to_owned().unbind(), no_cmp);
        Some(py.None())
    }

    /// The uncontended `get()` of a non-empty queue.
    #[inline(always)]
    fn get_fast(&self) -> Option<Py<PyAny>> {
        if self.order == Order::Priority {
            return None;
        }
        let mut g = self.core.state().try_lock()?;
        if g.retired().is_some() {
            return None;
        }
        self.core.get_locked(&mut g, no_cmp).ok()
    }

    fn put_locked(&self, py: Python<'_>, g: &mut Guard<'_>, item: Py<PyAny>) -> Result<(), PutError<Py<PyAny>, PyErr>> {
        match self.order {
            Order::Priority => self.comparing(|| self.core.put_locked(g, item, |a, b| a.bind(py).lt(b.bind(py)))),
            _ => self.core.put_locked(g, item, no_cmp),
        }
    }

    pub(crate) fn get_locked(&self, py: Python<'_>, g: &mut Guard<'_>) -> Result<Py<PyAny>, GetError<PyErr>> {
        match self.order {
            Order::Priority => self.comparing(|| self.core.get_locked(g, |a, b| a.bind(py).lt(b.bind(py)))),
            _ => self.core.get_locked(g, no_cmp),
        }
    }

    /// The compatibility state, if the queue has switched.
    fn retired<'py>(py: Python<'py>, g: &Guard<'_>) -> Option<Bound<'py, PyAny>> {
        g.retired().map(|s| s.clone_ref(py).into_bound(py))
    }
}

/// Calls `rthreading.queue.<name>(*args)`: a method in compatibility mode.
fn compat<'py>(py: Python<'py>, name: &str, args: impl PyCallArgs<'py>) -> PyResult<Bound<'py, PyAny>> {
    queue_module(py)?.getattr(name)?.call1(args)
}

/// The queue's compatibility state: made now (carrying the native state over) if need be.
fn internals<'py>(slf: &Bound<'py, Queue>) -> PyResult<Bound<'py, PyAny>> {
    let py = slf.py();
    let q = slf.get();
    if let Some(s) = Queue::retired(py, &q.lock(py)?) {
        return Ok(s);
    }
    let s = queue_module(py)?.getattr(intern!(py, "_Internals"))?.call0()?;
    let container = match q.order {
        Order::Fifo => py.import(intern!(py, "collections"))?.getattr(intern!(py, "deque"))?.call0()?,
        Order::Lifo | Order::Priority => PyList::empty(py).into_any(),
    };
    s.setattr(intern!(py, "queue"), &container)?;
    // Held until the items are in place, so that a compatibility-mode call made meanwhile by
    // another thread (which takes this mutex first) sees the whole state.
    let mutex = s.getattr(intern!(py, "mutex"))?;
    mutex.call_method0(intern!(py, "acquire"))?;
    let (items, unfinished, shutdown) = {
        let mut g = q.lock(py)?;
        if let Some(existing) = Queue::retired(py, &g) {
            drop(g);
            mutex.call_method0(intern!(py, "release"))?;
            return Ok(existing);
        }
        let items = q.core.retire_locked(&mut g, s.clone().unbind());
        (items, g.unfinished(), g.is_shutdown())
    };
    let carried = (|| -> PyResult<()> {
        container.call_method1(intern!(py, "extend"), (PyList::new(py, items)?,))?;
        s.setattr(intern!(py, "unfinished_tasks"), unfinished)?;
        s.setattr(intern!(py, "is_shutdown"), shutdown)?;
        Ok(())
    })();
    mutex.call_method0(intern!(py, "release"))?;
    carried?;
    Ok(s)
}

/// `Queue.__init__(self, maxsize=0)`'s argument, with the stdlib's messages for bad calls.
fn init_maxsize<'py>(
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

/// The native class whose hooks a queue of this order has.
fn native_type(py: Python<'_>, order: Order) -> Bound<'_, PyType> {
    match order {
        Order::Fifo => py.get_type::<Queue>(),
        Order::Lifo => py.get_type::<LifoQueue>(),
        Order::Priority => py.get_type::<PriorityQueue>(),
    }
}

fn overrides(
    ty: &Bound<'_, PyType>,
    base: &Bound<'_, PyType>,
    name: &Bound<'_, pyo3::types::PyString>,
) -> PyResult<bool> {
    Ok(!ty.getattr(name)?.is(&base.getattr(name)?))
}

fn put_impl(
    slf: &Bound<'_, Queue>,
    item: Bound<'_, PyAny>,
    block: Option<&Bound<'_, PyAny>>,
    timeout: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let py = slf.py();
    let q = slf.get();
    let to_compat = |s: Bound<'_, PyAny>, item: Bound<'_, PyAny>| -> PyResult<()> {
        let block = block.cloned().unwrap_or_else(|| PyBool::new(py, true).to_owned().into_any());
        compat(py, "_put", (slf, s, item, block, timeout)).map(drop)
    };
    // The stdlib checks shutdown, then reads block/timeout only if the queue is bounded.
    let mut timeout_parsed = Timeout::Forever;
    if block.is_some() || timeout.is_some() {
        let g = q.lock(py)?;
        if let Some(s) = Queue::retired(py, &g) {
            drop(g);
            return to_compat(s, item);
        }
        let (shutdown, bounded) = (g.is_shutdown(), g.cap().is_some());
        drop(g); // before making an exception: that may run Python code
        if shutdown {
            return Err(shutdown_error(py));
        }
        if bounded {
            timeout_parsed = queue_timeout(block, timeout)?;
        }
    }
    let mut item = item.unbind();
    let mut deadline: Option<Option<Instant>> = None;
    loop {
        let mut g = q.lock(py)?;
        if let Some(s) = Queue::retired(py, &g) {
            drop(g);
            return to_compat(s, item.into_bound(py));
        }
        let put = q.put_locked(py, &mut g, item);
        drop(g); // before dropping a returned item or making an exception
        match put {
            Ok(()) => return Ok(()),
            Err(PutError::Full(back)) => item = back,
            Err(PutError::ShutDown(_)) => return Err(shutdown_error(py)),
            Err(PutError::Compare(_, e)) => return Err(e),
        }
        let Some(remaining) = remaining(py, timeout_parsed, &mut deadline)? else {
            return Err(full_error(py));
        };
        let core = &q.core;
        if waited(slf, remaining, true, |until| core.wait_not_full(until).then_some(()))?.is_none() {
            return Err(full_error(py));
        }
    }
}

/// A put (`put`) or get wait: listed by `rthreading.dump()` while it lasts (a queue has no
/// owner: never in a cycle), and counted when the queue is tracked.
fn waited(
    slf: &Bound<'_, Queue>,
    timeout: Timeout,
    put: bool,
    attempt: impl FnMut(Option<Instant>) -> Option<()> + Send,
) -> PyResult<Option<()>> {
    let py = slf.py();
    let target = Target { owner: None, tag: slf.as_ptr() as usize, kind: KIND };
    let _registered = waitgraph::enter_quietly(py, target, !matches!(timeout, Timeout::Forever));
    let t0 = Instant::now();
    let r = wait(py, timeout, attempt);
    if let Some(c) = slf.get().stats.get() {
        c.queue_waited(put, t0.elapsed());
    }
    r
}

/// The time left to wait (computed from the first wait's start), None if none is.
fn remaining(py: Python<'_>, timeout: Timeout, deadline: &mut Option<Option<Instant>>) -> PyResult<Option<Timeout>> {
    if matches!(timeout, Timeout::NonBlocking) {
        return Ok(None);
    }
    let d = match *deadline {
        Some(d) => d,
        None => *deadline.insert(queue_wait_timeout(py, timeout)?.deadline()),
    };
    Ok(Some(match d {
        None => Timeout::Forever,
        Some(d) => Timeout::After(d.saturating_duration_since(Instant::now())),
    }))
}

fn get_impl(
    slf: &Bound<'_, Queue>,
    block: Option<&Bound<'_, PyAny>>,
    timeout: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let py = slf.py();
    let q = slf.get();
    let to_compat = |s: Bound<'_, PyAny>| -> PyResult<Py<PyAny>> {
        let block = block.cloned().unwrap_or_else(|| PyBool::new(py, true).to_owned().into_any());
        compat(py, "_get", (slf, s, block, timeout)).map(Bound::unbind)
    };
    let mut timeout_parsed = Timeout::Forever;
    if block.is_some() || timeout.is_some() {
        let g = q.lock(py)?;
        if let Some(s) = Queue::retired(py, &g) {
            drop(g);
            return to_compat(s);
        }
        let drained = g.is_shutdown() && g.is_empty();
        drop(g);
        if drained {
            return Err(shutdown_error(py));
        }
        timeout_parsed = queue_timeout(block, timeout)?;
    }
    let mut deadline: Option<Option<Instant>> = None;
    loop {
        let mut g = q.lock(py)?;
        if let Some(s) = Queue::retired(py, &g) {
            drop(g);
            return to_compat(s);
        }
        let got = q.get_locked(py, &mut g);
        drop(g);
        match got {
            Ok(item) => return Ok(item),
            Err(GetError::Empty) => {}
            Err(GetError::ShutDown) => return Err(shutdown_error(py)),
            Err(GetError::Compare(e)) => return Err(e),
        }
        let Some(remaining) = remaining(py, timeout_parsed, &mut deadline)? else {
            return Err(empty_error(py));
        };
        let core = &q.core;
        if waited(slf, remaining, false, |until| core.wait_not_empty(until).then_some(()))?.is_none() {
            return Err(empty_error(py));
        }
    }
}

#[pymethods]
impl Queue {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs), text_signature = "(maxsize=0)")]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        Queue::with_order(Order::Fifo)
    }

    /// `Queue(maxsize=0)`: also run again by a subclass's `super().__init__(...)`.
    #[pyo3(signature = (*args, **kwargs))]
    fn __init__(slf: &Bound<'_, Self>, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        let py = slf.py();
        let q = slf.get();
        if crate::sync::stats::enabled() {
            super::stats::on_create(slf.as_any(), &q.stats, KIND)?;
        }
        let maxsize = init_maxsize(args, kwargs)?.unwrap_or_else(|| 0i32.into_pyobject(py).expect("int").into_any());
        let cap = parse_maxsize(&maxsize);
        let ty = slf.get_type();
        let base = native_type(py, q.order);
        let mut hooks = false;
        for name in [intern!(py, "_init"), intern!(py, "_qsize"), intern!(py, "_put"), intern!(py, "_get")] {
            hooks |= overrides(&ty, &base, name)?;
        }
        let queue_type = py.get_type::<Queue>();
        let mut flags = 0;
        if overrides(&ty, &queue_type, intern!(py, "put"))? {
            flags |= PUT_OVERRIDDEN;
        }
        if overrides(&ty, &queue_type, intern!(py, "get"))? {
            flags |= GET_OVERRIDDEN;
        }
        q.flags.store(flags, Relaxed);
        let old_maxsize = lock_attached(&q.maxsize, py).replace(maxsize.clone().unbind());
        drop(old_maxsize);
        let held = {
            let mut g = q.lock(py)?;
            q.core.reset_locked(&mut g, cap.flatten())
        };
        drop(held);
        if hooks || cap.is_none() {
            // The stdlib's own sequence: the hooks make the container.
            internals(slf)?;
            slf.call_method1(intern!(py, "_init"), (maxsize,))?;
        }
        Ok(())
    }

    /// Put an item into the queue.
    ///
    /// If optional args 'block' is true and 'timeout' is None (the default), block if necessary
    /// until a free slot is available. If 'timeout' is a non-negative number, it blocks at most
    /// 'timeout' seconds and raises the Full exception if no free slot was available within
    /// that time. Otherwise ('block' is false), put an item on the queue if a free slot is
    /// immediately available, else raise the Full exception ('timeout' is ignored in that case).
    ///
    /// Raises ShutDown if the queue has been shut down.
    #[pyo3(signature = (item, block=Given::MISSING, timeout=None), text_signature = "($self, item, block=True, timeout=None)")]
    fn put(
        slf: &Bound<'_, Self>,
        item: Bound<'_, PyAny>,
        block: Given<'_, '_>,
        timeout: Option<Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        put_impl(slf, item, block.get(), timeout.as_ref())
    }

    /// Put an item into the queue without blocking.
    ///
    /// Only enqueue the item if a free slot is immediately available.
    /// Otherwise raise the Full exception.
    fn put_nowait(slf: &Bound<'_, Self>, item: Bound<'_, PyAny>) -> PyResult<()> {
        let py = slf.py();
        let no = PyBool::new(py, false).to_owned().into_any();
        if slf.get().flags.load(Relaxed) & PUT_OVERRIDDEN != 0 {
            let kwargs = [(intern!(py, "block"), no)].into_py_dict(py)?;
            return slf.call_method(intern!(py, "put"), (item,), Some(&kwargs)).map(drop);
        }
        put_impl(slf, item, Some(&no), None)
    }

    /// Remove and return an item from the queue.
    ///
    /// If optional args 'block' is true and 'timeout' is None (the default), block if necessary
    /// until an item is available. If 'timeout' is a non-negative number, it blocks at most
    /// 'timeout' seconds and raises the Empty exception if no item was available within that
    /// time. Otherwise ('block' is false), return an item if one is immediately available, else
    /// raise the Empty exception ('timeout' is ignored in that case).
    ///
    /// Raises ShutDown if the queue has been shut down and is empty, or if the queue has been
    /// shut down immediately.
    #[pyo3(signature = (block=Given::MISSING, timeout=None), text_signature = "($self, block=True, timeout=None)")]
    fn get(slf: &Bound<'_, Self>, block: Given<'_, '_>, timeout: Option<Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        get_impl(slf, block.get(), timeout.as_ref())
    }

    /// Remove and return an item from the queue without blocking.
    ///
    /// Only get an item if one is immediately available. Otherwise raise the Empty exception.
    fn get_nowait(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let no = PyBool::new(py, false).to_owned().into_any();
        if slf.get().flags.load(Relaxed) & GET_OVERRIDDEN != 0 {
            let kwargs = [(intern!(py, "block"), no)].into_py_dict(py)?;
            return slf.call_method(intern!(py, "get"), (), Some(&kwargs)).map(Bound::unbind);
        }
        get_impl(slf, Some(&no), None)
    }

    /// Indicate that a formerly enqueued task is complete.
    ///
    /// Used by Queue consumer threads. For each get() used to fetch a task, a subsequent call to
    /// task_done() tells the queue that the processing on the task is complete.
    ///
    /// Raises a ValueError if called more times than there were items placed in the queue.
    fn task_done(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let q = slf.get();
        let mut g = q.lock(py)?;
        if let Some(s) = Queue::retired(py, &g) {
            drop(g);
            return compat(py, "_task_done", (slf, s)).map(drop);
        }
        let done = q.core.task_done_locked(&mut g);
        drop(g);
        done.map_err(|_| PyValueError::new_err("task_done() called too many times"))
    }

    /// Blocks until all items in the Queue have been gotten and processed.
    fn join(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let q = slf.get();
        loop {
            let g = q.lock(py)?;
            if let Some(s) = Queue::retired(py, &g) {
                drop(g);
                return compat(py, "_join", (slf, s)).map(drop);
            }
            if g.unfinished() == 0 {
                return Ok(());
            }
            drop(g);
            let core = &q.core;
            wait(py, Timeout::Forever, |until| core.wait_all_done(until).then_some(()))?;
        }
    }

    /// Return the approximate size of the queue (not reliable!).
    fn qsize(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let g = slf.get().lock(py)?;
        if let Some(s) = Queue::retired(py, &g) {
            drop(g);
            return compat(py, "_qsize", (slf, s)).map(Bound::unbind);
        }
        Ok(g.len().into_pyobject(py)?.into_any().unbind())
    }

    /// Return True if the queue is empty, False otherwise (not reliable!).
    fn empty(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let g = slf.get().lock(py)?;
        if let Some(s) = Queue::retired(py, &g) {
            drop(g);
            return compat(py, "_empty", (slf, s)).map(Bound::unbind);
        }
        Ok(PyBool::new(py, g.is_empty()).to_owned().into_any().unbind())
    }

    /// Return True if the queue is full, False otherwise (not reliable!).
    fn full(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let g = slf.get().lock(py)?;
        if let Some(s) = Queue::retired(py, &g) {
            drop(g);
            return compat(py, "_full", (slf, s)).map(Bound::unbind);
        }
        Ok(PyBool::new(py, g.is_full()).to_owned().into_any().unbind())
    }

    /// Shut-down the queue, making queue gets and puts raise ShutDown.
    ///
    /// By default, gets will only raise once the queue is empty. Set 'immediate' to True to make
    /// gets raise immediately instead. All blocked callers of put() and get() will be unblocked.
    /// If 'immediate', the queue is drained and unfinished tasks is reduced by the number of
    /// drained tasks; if it reaches zero, callers of join() are unblocked.
    #[pyo3(signature = (immediate=None), text_signature = "($self, immediate=False)")]
    fn shutdown(slf: &Bound<'_, Self>, immediate: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let py = slf.py();
        let q = slf.get();
        let mut g = q.lock(py)?;
        if let Some(s) = Queue::retired(py, &g) {
            drop(g);
            return compat(py, "_shutdown", (slf, s, immediate)).map(drop);
        }
        drop(g);
        let immediate = match immediate {
            Some(i) => i.is_truthy()?,
            None => false,
        };
        g = q.lock(py)?;
        if let Some(s) = Queue::retired(py, &g) {
            drop(g);
            return compat(py, "_shutdown", (slf, s, immediate)).map(drop);
        }
        let drained = q.core.shutdown_locked(&mut g, immediate);
        drop(g);
        drop(drained);
        Ok(())
    }

    // --- the stdlib's attributes --------------------------------------------------------------

    #[getter]
    fn get_maxsize(&self, py: Python<'_>) -> Py<PyAny> {
        match &*lock_attached(&self.maxsize, py) {
            Some(m) => m.clone_ref(py),
            None => 0i32.into_pyobject(py).expect("int").into_any().unbind(),
        }
    }

    #[setter]
    fn set_maxsize(slf: &Bound<'_, Self>, value: Bound<'_, PyAny>) -> PyResult<()> {
        let py = slf.py();
        let q = slf.get();
        let cap = parse_maxsize(&value);
        let old = lock_attached(&q.maxsize, py).replace(value.unbind());
        drop(old);
        match cap {
            Some(cap) => {
                let mut g = q.lock(py)?;
                if g.retired().is_none() {
                    g.set_cap(cap);
                }
            }
            None => drop(internals(slf)?),
        }
        Ok(())
    }

    #[getter]
    fn get_unfinished_tasks(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let g = slf.get().lock(py)?;
        match Queue::retired(py, &g) {
            Some(s) => {
                drop(g);
                s.getattr(intern!(py, "unfinished_tasks")).map(Bound::unbind)
            }
            None => Ok(g.unfinished().into_pyobject(py)?.into_any().unbind()),
        }
    }

    #[setter]
    fn set_unfinished_tasks(slf: &Bound<'_, Self>, value: Bound<'_, PyAny>) -> PyResult<()> {
        let py = slf.py();
        let q = slf.get();
        if value.is_exact_instance_of::<PyInt>() {
            if let Ok(n) = value.extract::<usize>() {
                let mut g = q.lock(py)?;
                if g.retired().is_none() {
                    q.core.set_unfinished_locked(&mut g, n);
                    return Ok(());
                }
            }
        }
        internals(slf)?.setattr(intern!(py, "unfinished_tasks"), value)
    }

    #[getter]
    fn get_is_shutdown(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let g = slf.get().lock(py)?;
        match Queue::retired(py, &g) {
            Some(s) => {
                drop(g);
                s.getattr(intern!(py, "is_shutdown")).map(Bound::unbind)
            }
            None => Ok(PyBool::new(py, g.is_shutdown()).to_owned().into_any().unbind()),
        }
    }

    #[setter]
    fn set_is_shutdown(slf: &Bound<'_, Self>, value: Bound<'_, PyAny>) -> PyResult<()> {
        let py = slf.py();
        let q = slf.get();
        if let Ok(b) = value.cast_exact::<PyBool>() {
            let mut g = q.lock(py)?;
            if g.retired().is_none() {
                g.set_shutdown(b.is_true());
                return Ok(());
            }
        }
        internals(slf)?.setattr(intern!(py, "is_shutdown"), value)
    }

    #[getter]
    fn get_mutex<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        internals(slf)?.getattr(intern!(slf.py(), "mutex"))
    }

    #[setter]
    fn set_mutex(slf: &Bound<'_, Self>, value: Bound<'_, PyAny>) -> PyResult<()> {
        internals(slf)?.setattr(intern!(slf.py(), "mutex"), value)
    }

    #[getter]
    fn get_not_empty<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        internals(slf)?.getattr(intern!(slf.py(), "not_empty"))
    }

    #[setter]
    fn set_not_empty(slf: &Bound<'_, Self>, value: Bound<'_, PyAny>) -> PyResult<()> {
        internals(slf)?.setattr(intern!(slf.py(), "not_empty"), value)
    }

    #[getter]
    fn get_not_full<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        internals(slf)?.getattr(intern!(slf.py(), "not_full"))
    }

    #[setter]
    fn set_not_full(slf: &Bound<'_, Self>, value: Bound<'_, PyAny>) -> PyResult<()> {
        internals(slf)?.setattr(intern!(slf.py(), "not_full"), value)
    }

    #[getter]
    fn get_all_tasks_done<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        internals(slf)?.getattr(intern!(slf.py(), "all_tasks_done"))
    }

    #[setter]
    fn set_all_tasks_done(slf: &Bound<'_, Self>, value: Bound<'_, PyAny>) -> PyResult<()> {
        internals(slf)?.setattr(intern!(slf.py(), "all_tasks_done"), value)
    }

    #[getter]
    fn get_queue<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        internals(slf)?.getattr(intern!(slf.py(), "queue"))
    }

    #[setter]
    fn set_queue(slf: &Bound<'_, Self>, value: Bound<'_, PyAny>) -> PyResult<()> {
        internals(slf)?.setattr(intern!(slf.py(), "queue"), value)
    }

    // --- the stdlib's hooks (FIFO); they work on `self.queue` as the stdlib's do ---------------

    fn _init(slf: &Bound<'_, Self>, _maxsize: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = slf.py();
        let deque = py.import(intern!(py, "collections"))?.getattr(intern!(py, "deque"))?.call0()?;
        slf.setattr(intern!(py, "queue"), deque)
    }

    fn _qsize(slf: &Bound<'_, Self>) -> PyResult<usize> {
        slf.getattr(intern!(slf.py(), "queue"))?.len()
    }

    fn _put(slf: &Bound<'_, Self>, item: &Bound<'_, PyAny>) -> PyResult<()> {
        slf.getattr(intern!(slf.py(), "queue"))?.call_method1(intern!(slf.py(), "append"), (item,)).map(drop)
    }

    fn _get<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.getattr(intern!(slf.py(), "queue"))?.call_method0(intern!(slf.py(), "popleft"))
    }

    #[classmethod]
    fn __class_getitem__<'py>(cls: &Bound<'py, PyType>, item: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        generic_alias(cls, item)
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        // Never blocks: a queue locked right now (by a thread stopped for the collection) is
        // skipped, which only keeps its items alive one collection longer.
        if let Some(g) = self.core.state().try_lock() {
            let mut result = Ok(());
            g.for_each(|x| {
                if result.is_ok() {
                    result = visit.call(x);
                }
            });
            result?;
        }
        if let Some(m) = self.maxsize.try_lock() {
            visit.call(m.as_ref())?;
        }
        Ok(())
    }

    fn __clear__(&self) {
        let held = self.core.state().try_lock().map(|mut g| g.clear());
        let maxsize = self.maxsize.try_lock().and_then(|mut m| m.take());
        // Dropped with no lock held: a finalizer may use the queue.
        drop(held);
        drop(maxsize);
    }
}

/// `types.GenericAlias(cls, item)`: `Queue[int]`, as the stdlib's classes allow.
pub(crate) fn generic_alias<'py>(cls: &Bound<'py, PyType>, item: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = cls.py();
    py.import(intern!(py, "types"))?.getattr(intern!(py, "GenericAlias"))?.call1((cls, item))
}

/// Variant of Queue that retrieves most recently added entries first.
#[pyclass(module = "rthreading.queue", name = "LifoQueue", extends = Queue, frozen, subclass)]
pub struct LifoQueue;

#[pymethods]
impl LifoQueue {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs), text_signature = "(maxsize=0)")]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> (Self, Queue) {
        (LifoQueue, Queue::with_order(Order::Lifo))
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

/// Variant of Queue that retrieves open entries in priority order (lowest first).
///
/// Entries are typically tuples of the form:  (priority number, data).
#[pyclass(module = "rthreading.queue", name = "PriorityQueue", extends = Queue, frozen, subclass)]
pub struct PriorityQueue;

#[pymethods]
impl PriorityQueue {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs), text_signature = "(maxsize=0)")]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> (Self, Queue) {
        (PriorityQueue, Queue::with_order(Order::Priority))
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

/// The uncontended put/get skip PyO3's argument handling (see `fastcall`).
pub(crate) fn install_fast_paths(ty: &Bound<'_, PyType>) -> PyResult<()> {
    install::<PutFast>(ty)?;
    install::<PutNowaitFast>(ty)?;
    install::<GetFast>(ty)?;
    install::<GetNowaitFast>(ty)
}
