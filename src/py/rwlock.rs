//! `rthreading.RWLock`: the wrapper over `sync::rwlock::RwLock`, and its two context managers
//! (`rw.read()`, `rw.write()`).
//!
//! Ownership is checked here: the writer is the core's owner word; the read locks a thread
//! holds are counted per thread and per lock in a thread-local list (`READS`, keyed by a number
//! each lock gets at creation, never reused), so a recursive read is recognised and taken with
//! no wait (`read_recursive`), and releasing a lock the thread does not hold is refused. A lock
//! dropped while a thread still reads it leaves a few bytes in that thread's list.
//!
//! The wait-for graph sees a thread waiting for an RWLock with the writer as its owner: a reader
//! or writer waiting behind a writer is part of a cycle it closes; a writer waiting for readers
//! is listed (dump) but, the readers being many and unrecorded, never part of a cycle.

use super::bound::{self, HasWithSlots, WithSlots};
use super::fastcall::{fast_method, install, py_true};
use super::wait::{lock_timeout, wait, Attached, Given, Timeout};
use super::{stats, waitgraph};
use crate::sync::current_thread_ident;
use crate::sync::rwlock::RwLock as Core;
use crate::sync::stats::Slot;
use crate::sync::waitgraph::Target;
use pyo3::exceptions::PyRuntimeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::cell::RefCell;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::atomic::{
    AtomicPtr, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed},
};
use std::sync::OnceLock;
use std::time::Instant;

pub(crate) const KIND: &str = "rthreading.RWLock";

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// (lock id, read locks this thread holds on it), for the locks it reads now.
    static READS: RefCell<Vec<(u64, usize)>> = const { RefCell::new(Vec::new()) };
}

fn reads_held(id: u64) -> usize {
    READS.with_borrow(|r| r.iter().find(|e| e.0 == id).map_or(0, |e| e.1))
}

fn add_read(id: u64) {
    READS.with_borrow_mut(|r| match r.iter_mut().find(|e| e.0 == id) {
        Some(e) => e.1 += 1,
        None => r.push((id, 1)),
    });
}

/// Forgets one read lock of this thread's; false if it holds none.
fn remove_read(id: u64) -> bool {
    READS.with_borrow_mut(|r| match r.iter().position(|e| e.0 == id) {
        Some(i) => {
            r[i].1 -= 1;
            if r[i].1 == 0 {
                r.swap_remove(i);
            }
            true
        }
        None => false,
    })
}

/// A reader-writer lock: any number of threads may hold it for reading at once, or one thread
/// for writing. Phase-fair: when readers and writers both wait they take turns, so neither a
/// stream of readers nor a stream of writers starves the other. A thread that holds a read lock
/// may take it again at once (even past a waiting writer); asking for the write lock while
/// holding it, or while holding a read lock, raises RuntimeError instead of deadlocking.
#[pyclass(module = "rthreading", name = "RWLock", frozen, weakref)]
pub struct RWLock {
    pub(crate) inner: Core,
    id: u64,
    /// Contention counters, when tracked (see `stats`).
    pub(crate) stats: Slot,
    /// `read()` and `write()` hand out the same guard each time, made on first use: a `with`
    /// then allocates nothing. (Each guard refers back to the lock: a cycle, which the
    /// collector breaks by clearing the guard's `Link`.)
    read_guard: OnceLock<Py<ReadGuard>>,
    write_guard: OnceLock<Py<WriteGuard>>,
}

impl super::diagnosed::Diagnosed for RWLock {
    const KIND: &'static str = KIND;

    fn counters(&self) -> Option<&Slot> {
        Some(&self.stats)
    }

    // The write lock's state: a writer is the owner the deadlock reports name.
    fn lock_state(&self) -> Option<(bool, u64)> {
        Some((self.inner.write_locked(), self.inner.owner()))
    }
}

/// A strong reference that the garbage collector can clear through `&self` (a frozen class has
/// no `&mut self`): a guard's to its RWLock. Null only once cleared, when the guard is
/// unreachable (nothing can call it any more).
struct Link(AtomicPtr<ffi::PyObject>);

impl Link {
    fn new(lock: Py<RWLock>) -> Self {
        Link(AtomicPtr::new(lock.into_ptr()))
    }

    #[inline(always)]
    fn get<'a, 'py>(&'a self, py: Python<'py>) -> Option<Borrowed<'a, 'py, RWLock>> {
        let p = self.0.load(Acquire);
        // SAFETY: a non-null pointer is the strong reference this link holds, to an RWLock.
        (!p.is_null()).then(|| unsafe { Borrowed::from_ptr(py, p).cast_unchecked::<RWLock>() })
    }

    fn traverse(&self, visit: &pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        let Some(p) = NonNull::new(self.0.load(Acquire)) else {
            return Ok(());
        };
        // SAFETY: `Py` is a transparent non-null pointer; this one is borrowed for the visit
        // only (ManuallyDrop: no reference count change, as traverse requires).
        let obj = ManuallyDrop::new(unsafe { std::mem::transmute::<NonNull<ffi::PyObject>, Py<PyAny>>(p) });
        visit.call(&*obj)
    }

    fn clear(&self) {
        let p = self.0.swap(std::ptr::null_mut(), AcqRel);
        if !p.is_null() {
            // SAFETY: the strong reference this link held, now given up (once: swapped out).
            Python::attach(|py| drop(unsafe { Bound::from_owned_ptr(py, p) }));
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.clear();
    }
}

fn gone() -> PyErr {
    PyRuntimeError::new_err("the RWLock of this guard was cleared by the garbage collector")
}

impl RWLock {
    fn target(&self, tag: usize) -> Target<'_> {
        Target { owner: Some(self.inner.owner_word()), tag, kind: KIND }
    }

    #[inline]
    fn read_timeout(&self, py: Python<'_>, tag: usize, timeout: Timeout) -> PyResult<bool> {
        let me = current_thread_ident();
        if self.inner.owner() == me {
            return Err(PyRuntimeError::new_err(
                "cannot acquire a read lock while holding the write lock (use downgrade())",
            ));
        }
        let got = if reads_held(self.id) > 0 {
            self.inner.read_recursive();
            true
        } else if self.inner.try_read() {
            self.stats.hit();
            true
        } else {
            !timeout.is_zero() && self.read_slow(py, tag, timeout)?
        };
        if got {
            add_read(self.id);
        }
        Ok(got)
    }

    #[inline(never)]
    fn read_slow(&self, py: Python<'_>, tag: usize, timeout: Timeout) -> PyResult<bool> {
        let inner = &self.inner;
        let _registered = waitgraph::enter(py, self.target(tag), timeout)?;
        let t0 = Instant::now();
        let got = wait(py, timeout, |until| inner.read_until(until).then_some(()))?.is_some();
        if let Some(c) = self.stats.get() {
            c.waited(t0.elapsed(), got);
        }
        Ok(got)
    }

    #[inline]
    fn write_timeout(&self, py: Python<'_>, tag: usize, timeout: Timeout) -> PyResult<bool> {
        let me = current_thread_ident();
        if self.inner.owner() == me {
            return Err(PyRuntimeError::new_err(
                "cannot acquire the write lock: this thread holds it already (RWLock is not reentrant for writing)",
            ));
        }
        if reads_held(self.id) > 0 {
            return Err(PyRuntimeError::new_err(
                "cannot acquire the write lock while holding a read lock (it would deadlock)",
            ));
        }
        if self.inner.try_write(me) {
            self.stats.hit();
            return Ok(true);
        }
        if timeout.is_zero() {
            return Ok(false);
        }
        self.write_slow(py, me, tag, timeout)
    }

    #[inline(never)]
    fn write_slow(&self, py: Python<'_>, me: u64, tag: usize, timeout: Timeout) -> PyResult<bool> {
        let inner = &self.inner;
        let _registered = waitgraph::enter(py, self.target(tag), timeout)?;
        let t0 = Instant::now();
        let got = wait(py, timeout, |until| inner.write_until(me, until).then_some(()))?.is_some();
        if let Some(c) = self.stats.get() {
            c.waited(t0.elapsed(), got);
        }
        Ok(got)
    }

    #[inline]
    fn release_read_checked(&self, py: Python<'_>) -> PyResult<()> {
        if !remove_read(self.id) {
            return Err(PyRuntimeError::new_err("cannot release a read lock this thread does not hold"));
        }
        self.inner.release_read(Attached(py));
        Ok(())
    }

    #[inline]
    fn release_write_checked(&self, py: Python<'_>) -> PyResult<()> {
        if self.inner.owner() != current_thread_ident() {
            return Err(PyRuntimeError::new_err("cannot release a write lock this thread does not hold"));
        }
        self.inner.release_write(Attached(py));
        Ok(())
    }

    /// `acquire_*(blocking=True, timeout=-1)` read as `Lock.acquire` reads them.
    #[inline]
    fn timeout(blocking: Given<'_, '_>, timeout: Given<'_, '_>) -> PyResult<Timeout> {
        if blocking.get().is_none() && timeout.get().is_none() {
            Ok(Timeout::Forever)
        } else {
            lock_timeout(blocking.get(), timeout.get())
        }
    }
}

#[pymethods]
impl RWLock {
    /// With statistics on, the new lock is tracked (with the creating call site).
    #[new]
    fn new(py: Python<'_>) -> PyResult<Py<Self>> {
        let id = NEXT_ID.fetch_add(1, Relaxed);
        let lock = Py::new(
            py,
            RWLock {
                inner: Core::new(),
                id,
                stats: Slot::default(),
                read_guard: OnceLock::new(),
                write_guard: OnceLock::new(),
            },
        )?;
        if crate::sync::stats::enabled() {
            stats::on_create(lock.bind(py).as_any(), &lock.get().stats, KIND)?;
        }
        Ok(lock)
    }

    /// Takes a read lock, as `Lock.acquire` takes a lock (same arguments, same result). A
    /// thread that holds a read lock already takes it again at once.
    #[pyo3(signature = (blocking=Given::MISSING, timeout=Given::MISSING), text_signature = "($self, /, blocking=True, timeout=-1)")]
    fn acquire_read(slf: &Bound<'_, Self>, blocking: Given<'_, '_>, timeout: Given<'_, '_>) -> PyResult<bool> {
        let timeout = Self::timeout(blocking, timeout)?;
        slf.get().read_timeout(slf.py(), slf.as_ptr() as usize, timeout)
    }

    /// Releases one read lock of the calling thread's.
    fn release_read(&self, py: Python<'_>) -> PyResult<()> {
        self.release_read_checked(py)
    }

    /// Takes the write lock, as `Lock.acquire` takes a lock (same arguments, same result).
    #[pyo3(signature = (blocking=Given::MISSING, timeout=Given::MISSING), text_signature = "($self, /, blocking=True, timeout=-1)")]
    fn acquire_write(slf: &Bound<'_, Self>, blocking: Given<'_, '_>, timeout: Given<'_, '_>) -> PyResult<bool> {
        let timeout = Self::timeout(blocking, timeout)?;
        slf.get().write_timeout(slf.py(), slf.as_ptr() as usize, timeout)
    }

    /// Releases the write lock the calling thread holds.
    fn release_write(&self, py: Python<'_>) -> PyResult<()> {
        self.release_write_checked(py)
    }

    /// Turns the write lock the calling thread holds into a read lock, atomically: no writer
    /// can come between. Release it with `release_read()`.
    fn downgrade(&self, py: Python<'_>) -> PyResult<()> {
        if self.inner.owner() != current_thread_ident() {
            return Err(PyRuntimeError::new_err("cannot downgrade: this thread does not hold the write lock"));
        }
        self.inner.downgrade(Attached(py));
        add_read(self.id);
        Ok(())
    }

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        visit.call(self.read_guard.get())?;
        visit.call(self.write_guard.get())
    }

    /// A context manager that holds a read lock: `with rw.read(): ...` (the same object each
    /// time; any thread may use it).
    fn read(slf: &Bound<'_, Self>) -> PyResult<Py<ReadGuard>> {
        let py = slf.py();
        if let Some(g) = slf.get().read_guard.get() {
            return Ok(g.clone_ref(py));
        }
        let g = Py::new(py, ReadGuard { lock: Link::new(slf.clone().unbind()), with_slots: WithSlots::default() })?;
        Ok(slf.get().read_guard.get_or_init(|| g).clone_ref(py))
    }

    /// A context manager that holds the write lock: `with rw.write(): ...` (the same object
    /// each time; any thread may use it).
    fn write(slf: &Bound<'_, Self>) -> PyResult<Py<WriteGuard>> {
        let py = slf.py();
        if let Some(g) = slf.get().write_guard.get() {
            return Ok(g.clone_ref(py));
        }
        let g = Py::new(py, WriteGuard { lock: Link::new(slf.clone().unbind()), with_slots: WithSlots::default() })?;
        Ok(slf.get().write_guard.get_or_init(|| g).clone_ref(py))
    }

    fn __repr__(slf: &Bound<'_, Self>) -> String {
        let inner = &slf.get().inner;
        let addr = slf.as_ptr() as usize;
        let owner = inner.owner();
        if inner.write_locked() && owner != 0 {
            format!("<write-locked rthreading.RWLock object owner={owner} at {addr:#x}>")
        } else if inner.readers() > 0 {
            format!("<read-locked rthreading.RWLock object readers={} at {addr:#x}>", inner.readers())
        } else {
            format!("<unlocked rthreading.RWLock object at {addr:#x}>")
        }
    }
}

/// `rw.read()`: holds a read lock of `rw` within a `with` block.
#[pyclass(module = "rthreading", name = "_RWLockReadGuard", frozen)]
pub struct ReadGuard {
    lock: Link,
    /// The memory of its bound `__enter__`/`__exit__` (see `bound`).
    with_slots: WithSlots,
}

impl HasWithSlots for ReadGuard {
    fn with_slots(&self) -> &WithSlots {
        &self.with_slots
    }
}

#[pymethods]
impl ReadGuard {
    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        self.lock.traverse(&visit)
    }

    fn __clear__(&self) {
        self.lock.clear();
    }

    fn __enter__(&self, py: Python<'_>) -> PyResult<bool> {
        let lock = self.lock.get(py).ok_or_else(gone)?;
        lock.get().read_timeout(py, lock.as_ptr() as usize, Timeout::Forever)
    }

    #[pyo3(signature = (_t=None, _v=None, _tb=None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        _t: Option<&Bound<'_, PyAny>>,
        _v: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        self.lock.get(py).ok_or_else(gone)?.get().release_read_checked(py)
    }
}

/// `rw.write()`: holds the write lock of `rw` within a `with` block.
#[pyclass(module = "rthreading", name = "_RWLockWriteGuard", frozen)]
pub struct WriteGuard {
    lock: Link,
    /// The memory of its bound `__enter__`/`__exit__` (see `bound`).
    with_slots: WithSlots,
}

impl HasWithSlots for WriteGuard {
    fn with_slots(&self) -> &WithSlots {
        &self.with_slots
    }
}

#[pymethods]
impl WriteGuard {
    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        self.lock.traverse(&visit)
    }

    fn __clear__(&self) {
        self.lock.clear();
    }

    fn __enter__(&self, py: Python<'_>) -> PyResult<bool> {
        let lock = self.lock.get(py).ok_or_else(gone)?;
        lock.get().write_timeout(py, lock.as_ptr() as usize, Timeout::Forever)
    }

    #[pyo3(signature = (_t=None, _v=None, _tb=None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        _t: Option<&Bound<'_, PyAny>>,
        _v: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        self.lock.get(py).ok_or_else(gone)?.get().release_write_checked(py)
    }
}

// The uncontended `with` skips PyO3's argument handling (see `fastcall`): the fast entries
// decline (None) whenever there is anything to report, and the PyO3 method does it.
fast_method!(ReadEnterFast, ReadGuard, c"__enter__", 0, |g, py| {
    let l = g.lock.get(py)?;
    let l = l.get();
    (reads_held(l.id) == 0 && l.inner.owner() != current_thread_ident() && l.inner.try_read()).then(|| {
        l.stats.hit();
        add_read(l.id);
        py_true(py)
    })
});
fast_method!(ReadExitFast, ReadGuard, c"__exit__", 3, |g, py| {
    let l = g.lock.get(py)?;
    let l = l.get();
    remove_read(l.id).then(|| {
        l.inner.release_read(Attached(py));
        py.None()
    })
});
fast_method!(WriteEnterFast, WriteGuard, c"__enter__", 0, |g, py| {
    let l = g.lock.get(py)?;
    let l = l.get();
    let me = current_thread_ident();
    (l.inner.owner() != me && reads_held(l.id) == 0 && l.inner.try_write(me)).then(|| {
        l.stats.hit();
        py_true(py)
    })
});
fast_method!(WriteExitFast, WriteGuard, c"__exit__", 3, |g, py| {
    let l = g.lock.get(py)?;
    let l = l.get();
    (l.inner.owner() == current_thread_ident()).then(|| {
        l.inner.release_write(Attached(py));
        py.None()
    })
});

fast_method!(AcquireReadFast, RWLock, c"acquire_read", 0, |l, py| {
    (reads_held(l.id) == 0 && l.inner.owner() != current_thread_ident() && l.inner.try_read()).then(|| {
        l.stats.hit();
        add_read(l.id);
        py_true(py)
    })
});
fast_method!(ReleaseReadFast, RWLock, c"release_read", 0, |l, py| {
    remove_read(l.id).then(|| {
        l.inner.release_read(Attached(py));
        py.None()
    })
});
fast_method!(AcquireWriteFast, RWLock, c"acquire_write", 0, |l, py| {
    let me = current_thread_ident();
    (l.inner.owner() != me && reads_held(l.id) == 0 && l.inner.try_write(me)).then(|| {
        l.stats.hit();
        py_true(py)
    })
});
fast_method!(ReleaseWriteFast, RWLock, c"release_write", 0, |l, py| {
    (l.inner.owner() == current_thread_ident()).then(|| {
        l.inner.release_write(Attached(py));
        py.None()
    })
});

pub(crate) fn install_fast_paths(py: Python<'_>) -> PyResult<()> {
    let rw = py.get_type::<RWLock>();
    install::<AcquireReadFast>(&rw)?;
    install::<ReleaseReadFast>(&rw)?;
    install::<AcquireWriteFast>(&rw)?;
    install::<ReleaseWriteFast>(&rw)?;
    let read: Bound<'_, PyType> = py.get_type::<ReadGuard>();
    install::<ReadEnterFast>(&read)?;
    install::<ReadExitFast>(&read)?;
    bound::install::<ReadGuard, 0>(&read)?;
    bound::install::<ReadGuard, 1>(&read)?;
    let write = py.get_type::<WriteGuard>();
    install::<WriteEnterFast>(&write)?;
    install::<WriteExitFast>(&write)?;
    bound::install::<WriteGuard, 0>(&write)?;
    bound::install::<WriteGuard, 1>(&write)
}
