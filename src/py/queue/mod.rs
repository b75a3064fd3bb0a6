//! `rthreading.queue.Queue`, `LifoQueue` and `PriorityQueue`: wrappers over `sync::queue::Queue`.
//!
//! Two modes per instance:
//! - native (the default): items, counts and waits in Rust; put/get try the mutex attached and
//!   wait detached (`waiting::instrumented`) only when they must.
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
//!
//! The files: this one, the class and its methods; `blocking` (put and get that wait),
//! `compat` (the compatibility switch and the stdlib's internal attributes), `variants`
//! (LifoQueue, PriorityQueue), `args` (the constructor's argument), `errors` (Empty, Full,
//! ShutDown), `mutex` (taking the internal mutex attached), `fast` (the uncontended entries).

mod args;
mod blocking;
mod compat;
mod errors;
mod fast;
mod mutex;
mod variants;

use errors::full_error;
pub(crate) use errors::{empty_error, shutdown_error};
pub(crate) use fast::install_fast_paths;
pub(crate) use mutex::{lock_attached, try_lock_briefly, try_lock_stepping_aside};
pub(crate) use variants::{LifoQueue, PriorityQueue};

use super::diagnosed::Diagnosed;
use super::stats;
use super::wait::{wait, Given, PlaceInLine, Timeout};
use super::waker::Waker;
use crate::sync::current_thread_ident;
use crate::sync::park::Watchers;
use crate::sync::queue::{GetError, Line, Order, PutError, Queue as Core, State};
use crate::sync::stats::Slot;
use args::{init_maxsize, parse_maxsize};
use compat::{compat, internals};
use parking_lot::MutexGuard;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyBool, PyDict, PyInt, PyTuple, PyType};
use pyo3::{PyTraverseError, PyVisit};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};

type Guard<'a> = MutexGuard<'a, State<Py<PyAny>>>;

fn no_cmp(_: &Py<PyAny>, _: &Py<PyAny>) -> Result<bool, PyErr> {
    Ok(false) // FIFO and LIFO queues never compare
}

const PUT_OVERRIDDEN: u8 = 1;
const GET_OVERRIDDEN: u8 = 2;

/// A first-in, first-out queue for passing items between threads.
///
/// maxsize bounds the number of items it holds: once it is reached, put() waits until a
/// consumer removes one. A maxsize of zero or less (the default) means no bound. Besides
/// put() and get(), it counts unfinished tasks (task_done(), join()) and can be shut down
/// (shutdown()). Empty, Full and ShutDown are the stdlib's own queue exceptions.
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

impl Diagnosed for Queue {
    const KIND: &'static str = KIND;

    fn counters(&self) -> Option<&Slot> {
        Some(&self.stats)
    }
}

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
        let mut g = try_lock_briefly(self.core.state())?;
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
        let mut g = try_lock_briefly(self.core.state())?;
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

/// The line of a get (0), a put (1) or a join (2).
fn line(s: &mut State<Py<PyAny>>, what: u8) -> PyResult<&mut Watchers> {
    match what {
        0 => Ok(&mut s.getters),
        1 => Ok(&mut s.putters),
        2 => Ok(&mut s.joiners),
        _ => Err(PyValueError::new_err("what must be 0, 1 or 2")),
    }
}

#[pymethods]
impl Queue {
    // For `rthreading._aio`: an asyncio task's waker, woken when its get (`what` 0), put (1) or
    // join (2) may proceed (see `waker`). False, and not registered, once the queue is in
    // compatibility mode, whose waits are the stdlib's Conditions.
    fn _watch(&self, py: Python<'_>, what: u8, waker: &Bound<'_, Waker>) -> PyResult<bool> {
        let mut g = lock_attached(self.core.state(), py);
        if g.retired().is_some() {
            return Ok(false);
        }
        waker.get().register_in(line(&mut g, what)?);
        Ok(true)
    }

    // For `rthreading._aio`: `get_nowait()` returning `default` instead of raising Empty (an
    // awaiting task's try, which must cost no exception when it finds nothing).
    fn _get_or(slf: &Bound<'_, Self>, default: Py<PyAny>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let q = slf.get();
        if q.flags.load(Relaxed) & GET_OVERRIDDEN == 0 {
            let mut g = q.lock(py)?;
            if g.retired().is_none() {
                let got = q.get_locked(py, &mut g);
                drop(g);
                return match got {
                    Ok(item) => Ok(item),
                    Err(GetError::Empty) => Ok(default),
                    Err(GetError::ShutDown) => Err(shutdown_error(py)),
                    Err(GetError::Compare(e)) => Err(e),
                };
            }
        }
        // A subclass's get() or the compatibility mode: the stdlib's path, Empty caught.
        match Self::get_nowait(slf) {
            Err(e) if e.matches(py, empty_error(py).get_type(py))? => Ok(default),
            r => r,
        }
    }

    // For `rthreading._aio`: `put_nowait(item)` returning False instead of raising Full.
    fn _put_or(slf: &Bound<'_, Self>, item: Bound<'_, PyAny>) -> PyResult<bool> {
        let py = slf.py();
        let q = slf.get();
        if q.flags.load(Relaxed) & PUT_OVERRIDDEN == 0 {
            let mut g = q.lock(py)?;
            if g.retired().is_none() {
                let put = q.put_locked(py, &mut g, item.clone().unbind());
                drop(g);
                return match put {
                    Ok(()) => Ok(true),
                    Err(PutError::Full(_)) => Ok(false),
                    Err(PutError::ShutDown(_)) => Err(shutdown_error(py)),
                    Err(PutError::Compare(_, e)) => Err(e),
                };
            }
        }
        match Self::put_nowait(slf, item) {
            Ok(()) => Ok(true),
            Err(e) if e.matches(py, full_error(py).get_type(py))? => Ok(false),
            Err(e) => Err(e),
        }
    }

    // For tests: how many threads and tasks wait in the line of a get (0), a put (1) or a join (2).
    fn _waiting(&self, py: Python<'_>, what: u8) -> PyResult<usize> {
        Ok(line(&mut lock_attached(self.core.state(), py), what)?.len())
    }

    fn _unwatch(&self, py: Python<'_>, what: u8, waker: &Bound<'_, Waker>) -> PyResult<()> {
        waker.get().unregister_from(line(&mut lock_attached(self.core.state(), py), what)?);
        Ok(())
    }

    // A task woken for an item (a free slot) leaves without it: wakes the next, if there is
    // still one to take (a shut-down queue wakes them all already).
    fn _pass_on(&self, py: Python<'_>, what: u8) -> PyResult<()> {
        let mut g = lock_attached(self.core.state(), py);
        if g.retired().is_none() {
            match what {
                0 => self.core.pass_on_item(&mut g),
                1 => self.core.pass_on_free_slot(&mut g),
                _ => {} // a join's wake-up goes to every waiter: nothing to pass on
            }
        }
        Ok(())
    }

    #[new]
    #[pyo3(signature = (*_args, **_kwargs), text_signature = "(maxsize=0)")]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        Queue::with_order(Order::Fifo)
    }

    // `Queue(maxsize=0)`: also run again by a subclass's `super().__init__(...)`.
    #[pyo3(signature = (*args, **kwargs))]
    fn __init__(slf: &Bound<'_, Self>, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        let py = slf.py();
        let q = slf.get();
        if crate::sync::stats::enabled() {
            stats::on_create(slf.as_any(), &q.stats, KIND)?;
        }
        let maxsize = init_maxsize(args, kwargs)?.unwrap_or_else(|| 0i32.into_pyobject(py).expect("int").into_any());
        let cap = parse_maxsize(&maxsize);
        let (hooks, flags) = compat::overridden(slf)?;
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

    /// Put item into the queue.
    ///
    /// With block true and timeout None (the defaults), wait as long as it takes for a free
    /// slot. With a non-negative timeout, wait at most that many seconds, then raise Full if
    /// the queue is still full. With block false, put the item only if a slot is free right
    /// now, else raise Full at once (timeout is then ignored).
    ///
    /// Raises ShutDown if the queue has been shut down.
    #[pyo3(signature = (item, block=Given::MISSING, timeout=None), text_signature = "($self, item, block=True, timeout=None)")]
    fn put(
        slf: &Bound<'_, Self>,
        item: Bound<'_, PyAny>,
        block: Given<'_, '_>,
        timeout: Option<Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        blocking::put(slf, item, block.get(), timeout.as_ref())
    }

    /// Put item into the queue only if a free slot is available right now; otherwise raise
    /// Full. The same as put(item, block=False).
    fn put_nowait(slf: &Bound<'_, Self>, item: Bound<'_, PyAny>) -> PyResult<()> {
        let py = slf.py();
        let no = PyBool::new(py, false).to_owned().into_any();
        if slf.get().flags.load(Relaxed) & PUT_OVERRIDDEN != 0 {
            let kwargs = [(intern!(py, "block"), no)].into_py_dict(py)?;
            return slf.call_method(intern!(py, "put"), (item,), Some(&kwargs)).map(drop);
        }
        blocking::put(slf, item, Some(&no), None)
    }

    /// Remove and return an item from the queue.
    ///
    /// With block true and timeout None (the defaults), wait as long as it takes for an item.
    /// With a non-negative timeout, wait at most that many seconds, then raise Empty if no item
    /// came. With block false, return an item only if one is there right now, else raise Empty
    /// at once (timeout is then ignored). The wait is released from the interpreter and, on the
    /// main thread, interrupted by Ctrl-C.
    ///
    /// Raises ShutDown if the queue has been shut down and is empty, or shut down with
    /// immediate=True.
    #[pyo3(signature = (block=Given::MISSING, timeout=None), text_signature = "($self, block=True, timeout=None)")]
    fn get(slf: &Bound<'_, Self>, block: Given<'_, '_>, timeout: Option<Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        blocking::get(slf, block.get(), timeout.as_ref())
    }

    /// Remove and return an item if one is available right now; otherwise raise Empty. The same
    /// as get(block=False).
    fn get_nowait(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let no = PyBool::new(py, false).to_owned().into_any();
        if slf.get().flags.load(Relaxed) & GET_OVERRIDDEN != 0 {
            let kwargs = [(intern!(py, "block"), no)].into_py_dict(py)?;
            return slf.call_method(intern!(py, "get"), (), Some(&kwargs)).map(Bound::unbind);
        }
        blocking::get(slf, Some(&no), None)
    }

    /// Tell the queue that a task taken from it is finished.
    ///
    /// Consumers call it once for each item they got, after processing it. When the count of
    /// unfinished tasks drops to zero, join() returns in every thread waiting in it.
    ///
    /// Raises ValueError if called more times than items were put.
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

    /// Block until every item put into the queue has been got and processed.
    ///
    /// Each put() adds one unfinished task and each task_done() removes one; join() returns
    /// once none is left.
    fn join(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let q = slf.get();
        let mut in_line = PlaceInLine::new(py, |p| q.core.leave_line(Line::Join, p));
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
            let place = in_line.place();
            wait(py, Timeout::Forever, |until| core.wait_in_place(Line::Join, until, place).then_some(()))?;
        }
    }

    /// Return the number of items in the queue, approximately: by the time the caller looks,
    /// another thread may have put or got one.
    fn qsize(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let g = slf.get().lock(py)?;
        if let Some(s) = Queue::retired(py, &g) {
            drop(g);
            return compat(py, "_qsize", (slf, s)).map(Bound::unbind);
        }
        Ok(g.len().into_pyobject(py)?.into_any().unbind())
    }

    /// Return True if the queue is empty right now, False otherwise. Another thread may change
    /// that at once: a later get() may still block.
    fn empty(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let g = slf.get().lock(py)?;
        if let Some(s) = Queue::retired(py, &g) {
            drop(g);
            return compat(py, "_empty", (slf, s)).map(Bound::unbind);
        }
        Ok(PyBool::new(py, g.is_empty()).to_owned().into_any().unbind())
    }

    /// Return True if the queue is full right now, False otherwise. Another thread may change
    /// that at once: a later put() may still block.
    fn full(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let g = slf.get().lock(py)?;
        if let Some(s) = Queue::retired(py, &g) {
            drop(g);
            return compat(py, "_full", (slf, s)).map(Bound::unbind);
        }
        Ok(PyBool::new(py, g.is_full()).to_owned().into_any().unbind())
    }

    /// Shut the queue down: from now on put() raises ShutDown, and so does get() once the
    /// queue is empty.
    ///
    /// With immediate=True, get() raises ShutDown at once too: the items left are dropped and
    /// the count of unfinished tasks goes down by their number, so join() returns when it
    /// reaches zero. Every thread blocked in put() or get() wakes up and raises ShutDown.
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

    /// The maximum number of items, as given to the constructor (0 or less: unbounded).
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

    /// The number of items put and not yet marked done with task_done().
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

    /// True once shutdown() has been called.
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

    // The stdlib's internals, for code that reaches for them: each switches the queue to the
    // compatibility mode (see `compat`).

    /// The lock that guards the queue's state (the stdlib's internals).
    #[getter]
    fn get_mutex<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        compat::attr(slf, intern!(slf.py(), "mutex"))
    }

    #[setter]
    fn set_mutex(slf: &Bound<'_, Self>, value: Bound<'_, PyAny>) -> PyResult<()> {
        compat::set_attr(slf, intern!(slf.py(), "mutex"), value)
    }

    /// The Condition notified when an item is added (the stdlib's internals).
    #[getter]
    fn get_not_empty<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        compat::attr(slf, intern!(slf.py(), "not_empty"))
    }

    #[setter]
    fn set_not_empty(slf: &Bound<'_, Self>, value: Bound<'_, PyAny>) -> PyResult<()> {
        compat::set_attr(slf, intern!(slf.py(), "not_empty"), value)
    }

    /// The Condition notified when an item is removed (the stdlib's internals).
    #[getter]
    fn get_not_full<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        compat::attr(slf, intern!(slf.py(), "not_full"))
    }

    #[setter]
    fn set_not_full(slf: &Bound<'_, Self>, value: Bound<'_, PyAny>) -> PyResult<()> {
        compat::set_attr(slf, intern!(slf.py(), "not_full"), value)
    }

    /// The Condition notified when the unfinished tasks reach zero (the stdlib's internals).
    #[getter]
    fn get_all_tasks_done<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        compat::attr(slf, intern!(slf.py(), "all_tasks_done"))
    }

    #[setter]
    fn set_all_tasks_done(slf: &Bound<'_, Self>, value: Bound<'_, PyAny>) -> PyResult<()> {
        compat::set_attr(slf, intern!(slf.py(), "all_tasks_done"), value)
    }

    /// The container that holds the items (the stdlib's internals).
    #[getter]
    fn get_queue<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        compat::attr(slf, intern!(slf.py(), "queue"))
    }

    #[setter]
    fn set_queue(slf: &Bound<'_, Self>, value: Bound<'_, PyAny>) -> PyResult<()> {
        compat::set_attr(slf, intern!(slf.py(), "queue"), value)
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
