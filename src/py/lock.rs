//! `rthreading.Lock`: the wrapper over `sync::lock::Lock`.

use super::bound::{self, HasWithSlots, WithSlots};
use super::diagnosed::Diagnosed;
use super::fastcall::{fast_method, install, py_true};
use super::stats;
use super::wait::{lock_timeout, PlaceInLine, Timeout};
use super::waiting::{instrumented, instrumented_uninterruptibly, Count};
use super::waker::Waker;
use crate::sync::current_thread_ident;
use crate::sync::lock::Lock as CoreLock;
use crate::sync::stats::Slot;
use crate::sync::waitgraph::Target;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyType;

/// A primitive lock: the drop-in for `threading.Lock`.
///
/// A lock is either locked or unlocked; it is created unlocked. Once a thread has acquired
/// it, further attempts to acquire it block until it is released. Any thread may release
/// it, not only the one that acquired it. Use it as a context manager (`with lock:`) to
/// hold it for the duration of a block.
///
/// Every wait releases the interpreter, so other threads keep running; on the main thread a
/// wait is interrupted by Ctrl-C (an exception raised by a signal handler propagates, the
/// lock not acquired). A thread blocked here is listed by `rthreading.dump()` and
/// `rthreading.find_deadlocks()`, and the repr of a locked lock names the thread that
/// acquired it (`owner=<ident>`).
#[pyclass(module = "rthreading", name = "Lock", frozen, weakref)]
#[derive(Default)]
pub struct Lock {
    pub(crate) inner: CoreLock,
    /// Contention counters, when tracked (see `stats`).
    pub(crate) stats: Slot,
    /// The memory of its bound `__enter__`/`__exit__` (see `bound`).
    with_slots: WithSlots,
}

impl HasWithSlots for Lock {
    fn with_slots(&self) -> &WithSlots {
        &self.with_slots
    }
}

pub(crate) const KIND: &str = "rthreading.Lock";

impl Diagnosed for Lock {
    const KIND: &'static str = KIND;

    fn counters(&self) -> Option<&Slot> {
        Some(&self.stats)
    }

    fn lock_state(&self) -> Option<(bool, u64)> {
        Some((self.inner.locked(), self.inner.owner()))
    }

    fn owner_word(&self) -> Option<&std::sync::atomic::AtomicU64> {
        Some(self.inner.owner_word())
    }
}

// A thread that finds the lock held just after releasing it (a loop of `with lock:` around a
// short block, with other threads doing the same) steps aside: it yields its CPU this many times
// without looking at the lock, then tries once, before it waits as usual (polling, then in
// line). Waiters polling the lock took it at every release, so the threads took turns block by
// block and each block moved the lock, the objects the block touched and their reference counts
// between the CPUs; stepping aside lets the holder run on for a few microseconds, as CPython's
// own mutex does (40 yields without looking, then it parks). A thread that did not release it
// last (a hand-off: one thread releases, another waits for it) waits as before. Measured (3.13t,
// 2 CPUs, ns per block): `with lock: counter += 1` on a global, 2 threads 889 -> 213, 4 threads
// 848 -> 181 (the stdlib 311-382 and 349); `with lock: pass`, 2 threads, 438 -> 130 (262-309);
// the Lock hand-off round trip 0.88-0.89 us, as before. Without the condition (every waiter
// stepping aside) the hand-off took 6.9 us. Not on a GIL build, whose waiter holds the GIL
// while it yields.
const STEP_ASIDE: u32 = 40;
const STEPS_ASIDE: bool = cfg!(Py_GIL_DISABLED);

impl Lock {
    /// Acquire: one try attached, then a wait detached, interruptible on the main thread.
    /// `tag` is this lock's Python object (for the wait-for graph).
    #[inline]
    pub(crate) fn acquire_timeout(&self, py: Python<'_>, tag: usize, timeout: Timeout) -> PyResult<bool> {
        if self.inner.try_acquire() {
            self.stats.hit();
            return Ok(true);
        }
        if timeout.is_zero() {
            return Ok(false); // `acquire(False)` on a held lock: no detach, no parking
        }
        let me = current_thread_ident();
        if STEPS_ASIDE && self.inner.released_last_by(me) {
            let t0 = std::time::Instant::now();
            crate::sync::spin::step_aside(STEP_ASIDE, None);
            if self.inner.try_acquire_as(me) {
                if let Some(c) = self.stats.get() {
                    c.waited(t0.elapsed(), true);
                }
                return Ok(true);
            }
        }
        self.acquire_slow(py, me, tag, timeout)
    }

    #[inline(never)]
    fn acquire_slow(&self, py: Python<'_>, me: u64, tag: usize, timeout: Timeout) -> PyResult<bool> {
        let inner = &self.inner;
        let count = Count::Acquire(&self.stats);
        let mut in_line = PlaceInLine::new(py, |p| inner.leave_line(p));
        let place = in_line.place();
        let got = instrumented(py, self.target(tag), timeout, count, |until| {
            inner.acquire_in_place(me, until, place).then_some(())
        })?;
        Ok(got.is_some())
    }

    /// Re-acquires after a Condition's wait: as long as it takes, not interruptible.
    pub(crate) fn acquire_restore(&self, py: Python<'_>, tag: usize) -> PyResult<()> {
        if self.inner.try_acquire() {
            self.stats.hit();
            return Ok(());
        }
        let me = current_thread_ident();
        let inner = &self.inner;
        let mut in_line = PlaceInLine::new(py, |p| inner.leave_line(p));
        let place = in_line.place();
        instrumented_uninterruptibly(py, self.target(tag), &self.stats, |until| {
            inner.acquire_in_place(me, until, place).then_some(())
        })
    }

    fn target(&self, tag: usize) -> Target<'_> {
        Target { owner: Some(self.inner.owner_word()), tag, kind: KIND }
    }

    #[inline]
    pub(crate) fn release_or_err(&self) -> PyResult<()> {
        if self.inner.release() {
            Ok(())
        } else {
            Err(PyRuntimeError::new_err("release unlocked lock"))
        }
    }
}

#[pymethods]
impl Lock {
    // For `rthreading._aio`: an asyncio task's waker, woken by the next release (see `waker`).
    fn _watch(&self, waker: &Bound<'_, Waker>) {
        waker.get().watch(&self.inner.watchers);
    }

    fn _unwatch(&self, waker: &Bound<'_, Waker>) {
        waker.get().unwatch(&self.inner.watchers);
    }

    // A task woken by a release leaves without acquiring: wakes the next.
    fn _pass_on(&self) {
        self.inner.watchers.wake(1);
    }

    // For tests: how many threads and tasks wait in line for the lock (a moment's count).
    fn _waiting(&self) -> usize {
        self.inner.watchers.len()
    }

    // For `rthreading._aio`: one try on behalf of an asyncio task, which then holds the lock in
    // the wait-for graph's eyes (`waitgraph::task_key`; see `rthreading._diag`).
    // (Its fast entry, `AcquireForFast`, does the same without PyO3's argument handling.)
    fn _acquire_for(&self, task: &Bound<'_, PyAny>) -> bool {
        self.try_for_task(task.as_ptr() as usize)
    }

    // With statistics on, the new lock is tracked (with the creating call site).
    #[new]
    fn new(py: Python<'_>) -> PyResult<Py<Self>> {
        let lock = Py::new(py, Lock::default())?;
        if crate::sync::stats::enabled() {
            stats::on_create(lock.bind(py).as_any(), &lock.get().stats, KIND)?;
        }
        Ok(lock)
    }

    /// Acquire the lock, blocking or not; return True if it was acquired.
    ///
    /// With `blocking` true (the default), wait until the lock is unlocked, then lock it and
    /// return True. With `blocking` false, never wait: return False at once if the lock is
    /// held. A positive `timeout` (in seconds) bounds the wait: False is returned if the lock
    /// could not be acquired in that time; -1 (the default) waits without limit. A timeout
    /// may not be given with `blocking` false (ValueError); a negative timeout other than -1
    /// raises ValueError, one above `threading.TIMEOUT_MAX` OverflowError.
    ///
    /// The wait releases the interpreter. On the main thread, Ctrl-C interrupts it: the
    /// signal handler's exception (KeyboardInterrupt) propagates with the lock not acquired.
    #[pyo3(signature = (blocking=super::wait::Given::MISSING, timeout=super::wait::Given::MISSING), text_signature = "($self, /, blocking=True, timeout=-1)")]
    fn acquire(
        slf: &Bound<'_, Self>,
        blocking: super::wait::Given<'_, '_>,
        timeout: super::wait::Given<'_, '_>,
    ) -> PyResult<bool> {
        let timeout = if blocking.get().is_none() && timeout.get().is_none() {
            Timeout::Forever
        } else {
            lock_timeout(blocking.get(), timeout.get())?
        };
        slf.get().acquire_timeout(slf.py(), slf.as_ptr() as usize, timeout)
    }

    /// An obsolete synonym of `acquire()`.
    #[pyo3(signature = (blocking=super::wait::Given::MISSING, timeout=super::wait::Given::MISSING), text_signature = "($self, /, blocking=True, timeout=-1)")]
    fn acquire_lock(
        slf: &Bound<'_, Self>,
        blocking: super::wait::Given<'_, '_>,
        timeout: super::wait::Given<'_, '_>,
    ) -> PyResult<bool> {
        Self::acquire(slf, blocking, timeout)
    }

    /// Acquire the lock, waiting as long as it takes (as `acquire()` does): the start of a
    /// `with` block.
    fn __enter__(slf: &Bound<'_, Self>) -> PyResult<bool> {
        slf.get().acquire_timeout(slf.py(), slf.as_ptr() as usize, Timeout::Forever)
    }

    /// Release the lock.
    ///
    /// Any thread may release a locked lock, not only the one that acquired it. If threads
    /// are waiting to acquire it, exactly one of them proceeds. Releasing an unlocked lock
    /// raises RuntimeError. Returns None.
    fn release(&self) -> PyResult<()> {
        self.release_or_err()
    }

    /// An obsolete synonym of `release()`.
    fn release_lock(&self) -> PyResult<()> {
        self.release_or_err()
    }

    // `*args`, as the stdlib's: the tuple is made only off the fast entry (`ExitFast`), which
    // takes the three arguments of a `with`.
    /// Release the lock: the end of a `with` block. The exception details are ignored.
    #[pyo3(signature = (*_exc_info), text_signature = "($self, /, *exc_info)")]
    fn __exit__(&self, _exc_info: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<()> {
        self.release_or_err()
    }

    /// Return True if the lock is acquired (by any thread).
    fn locked(&self) -> bool {
        self.inner.locked()
    }

    /// An obsolete synonym of `locked()`.
    fn locked_lock(&self) -> bool {
        self.inner.locked()
    }

    fn _at_fork_reinit(&self) {
        self.inner.reinit();
    }

    // The stdlib's repr, plus the thread that acquired a locked lock: `owner=<ident>`.
    fn __repr__(slf: &Bound<'_, Self>) -> String {
        let inner = &slf.get().inner;
        let owner = inner.owner();
        if let (true, Some(task)) = (inner.locked(), crate::sync::waitgraph::task_address(owner)) {
            let at = slf.as_ptr() as usize;
            format!("<locked rthreading.Lock object owner=<task at {task:#x}> at {at:#x}>")
        } else if inner.locked() && owner != 0 {
            format!("<locked rthreading.Lock object owner={owner} at {:#x}>", slf.as_ptr() as usize)
        } else {
            let state = if inner.locked() { "locked" } else { "unlocked" };
            format!("<{state} rthreading.Lock object at {:#x}>", slf.as_ptr() as usize)
        }
    }
}

impl Lock {
    /// One try on behalf of the asyncio task at `task` (its object's address).
    #[inline(always)]
    fn try_for_task(&self, task: usize) -> bool {
        let ok = self.inner.try_acquire_as(crate::sync::waitgraph::task_key(task));
        if ok {
            self.stats.hit();
        }
        ok
    }

    /// The fast entries' acquire: one try, counted when tracked.
    #[inline(always)]
    pub(crate) fn try_fast(&self) -> bool {
        let ok = self.inner.try_acquire();
        if ok {
            self.stats.hit();
        }
        ok
    }
}

fast_method!(AcquireFast, Lock, c"acquire", 0, |lock, py| lock.try_fast().then(|| py_true(py)));
fast_method!(EnterFast, Lock, c"__enter__", 0, |lock, py| lock.try_fast().then(|| py_true(py)));
fast_method!(ReleaseFast, Lock, c"release", 0, |lock, py| lock.inner.release().then(|| py.None()));
fast_method!(ExitFast, Lock, c"__exit__", 3, |lock, py| lock.inner.release().then(|| py.None()));
fast_method!(AcquireForFast, Lock, c"_acquire_for", 1, |lock, py, args| {
    let ok = lock.try_for_task(args[0].as_ptr() as usize);
    Some(pyo3::types::PyBool::new(py, ok).to_owned().into_any().unbind())
});

/// The uncontended acquire and release skip PyO3's argument handling (see `fastcall`).
pub(crate) fn install_fast_paths(ty: &Bound<'_, PyType>) -> PyResult<()> {
    install::<AcquireFast>(ty)?;
    install::<EnterFast>(ty)?;
    install::<ReleaseFast>(ty)?;
    install::<ExitFast>(ty)?;
    install::<AcquireForFast>(ty)?;
    bound::install::<Lock, 0>(ty)?;
    bound::install::<Lock, 1>(ty)
}
