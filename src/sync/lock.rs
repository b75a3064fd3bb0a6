//! A non-reentrant lock that any thread may release, as Python's `_thread.lock`.
//!
//! The lock word is parking_lot's `RawMutex`, used for its compare-and-swap fast paths only
//! (`try_lock`, `unlock`): nobody parks on it. A thread that must wait spins (the one policy,
//! `spin`), then waits its turn in `watchers`, the same line as the asyncio tasks awaiting the
//! lock; each release wakes the first in line, thread or task, which then tries for itself. So
//! waiters of both kinds are served in the order they came (a caller that did not wait may
//! still take the lock first, as with any barging lock; the waiter it beat keeps its place).

use super::park::{Place, WatchList};
use super::prim::{Instant, RawMutex};
use super::spin::{AdaptiveSpin, Polling, HANDOFF};
// parking_lot's raw mutex methods (loom's stand-in has them as inherent methods).
use super::prim::atomic::{AtomicU64, Ordering::Relaxed};
#[cfg(not(loom))]
use lock_api::RawMutex as _;

/// Whether a wait polls with the adaptive spin before it waits in line: on the free-threaded
/// build only (see `Lock::spin`).
const POLL_BEFORE_PARKING: bool = cfg!(Py_GIL_DISABLED);

pub struct Lock {
    raw: RawMutex,
    /// Ident of the thread that last acquired it, 0 when unlocked: for reports (`repr`, the
    /// wait-for graph), not for correctness (any thread may release a Lock). Stored relaxed
    /// after each acquisition, cleared before each release.
    owner: AtomicU64,
    /// Ident of the thread that released it last (0: none yet): a thread whose acquire fails
    /// just after its own release is racing a quicker thread for it (see `released_last_by`).
    released_by: AtomicU64,
    /// The spin budget of this lock's waits (see `spin`): a lock handed from thread to thread
    /// (released by one, awaited by another) is caught while polling, not after a wake-up.
    spin: AdaptiveSpin,
    /// The line of waiters, threads and asyncio tasks (see `park`): the first woken by each
    /// release. No lost wake-up by `WatchList`'s store/load pairing: a waiter registers (a
    /// `SeqCst` store) and then tries the lock word (an acquire compare-and-swap); the release
    /// unlocks (a release compare-and-swap, not a `SeqCst` one) and then reads the count
    /// (`SeqCst`). On x86 (locked instructions) and on ARMv8 (a later `ldar` is not reordered
    /// before an `stlr`/`stlxr`) neither later access moves before the earlier one, which is
    /// the pairing needed; loom checks it with the `loom_seq_cst_fence` on both sides.
    pub watchers: WatchList,
}

impl Default for Lock {
    fn default() -> Self {
        Self::new()
    }
}

impl Lock {
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Lock {
            raw: RawMutex::INIT,
            owner: AtomicU64::new(0),
            released_by: AtomicU64::new(0),
            spin: AdaptiveSpin::new(HANDOFF, Polling::Yielding),
            watchers: WatchList::new(),
        }
    }

    #[cfg(loom)]
    pub fn new() -> Self {
        Lock {
            raw: RawMutex::new(),
            owner: AtomicU64::new(0),
            released_by: AtomicU64::new(0),
            spin: AdaptiveSpin::new(HANDOFF, Polling::Yielding),
            watchers: WatchList::new(),
        }
    }

    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.try_acquire_as(super::current_thread_ident())
    }

    /// `try_acquire` on behalf of thread `me` (a caller that already knows its ident).
    #[inline]
    pub fn try_acquire_as(&self, me: u64) -> bool {
        if self.raw.try_lock() {
            self.owner.store(me, Relaxed);
            true
        } else {
            false
        }
    }

    /// Blocks until acquired or until `deadline` (None: forever); returns whether acquired.
    pub fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        self.acquire_until_as(super::current_thread_ident(), deadline)
    }

    /// `acquire_until` on behalf of thread `me`.
    pub fn acquire_until_as(&self, me: u64, deadline: Option<Instant>) -> bool {
        let mut place = Place::new();
        let ok = self.acquire_in_place(me, deadline, &mut place);
        self.leave_line(&mut place);
        ok
    }

    /// `acquire_until_as` as one slice of a longer wait (see `park::Place`): a waiter whose
    /// slice ends keeps its place in line for the next call; the caller leaves it
    /// (`leave_line`) when the wait ends.
    pub fn acquire_in_place(&self, me: u64, deadline: Option<Instant>, place: &mut Place) -> bool {
        let ok = self.acquire_raw(deadline, place);
        if ok {
            self.owner.store(me, Relaxed);
        }
        ok
    }

    /// Leaves the line where `place` waits (its wait ended): a wake-up it got goes on to the
    /// next waiter.
    pub fn leave_line(&self, place: &mut Place) {
        self.watchers.leave(place);
    }

    // (No `fork::parked_on` record here: a thread waits on its own `park::Waiter`, whose
    // condition variable records itself, and a ghost of the parent's waiter is skipped.)
    fn acquire_raw(&self, deadline: Option<Instant>, place: &mut Place) -> bool {
        let start = Instant::now();
        // A waiter in line since an earlier slice waits on there, without barging.
        if !place.is_held() {
            // A deadline already passed: one try.
            if deadline.is_some_and(|d| d <= start) {
                return self.raw.try_lock();
            }
            // A spin first (also after a wake-up whose try failed: a caller that did not wait
            // was quicker), then the line.
            if self.spin(deadline) {
                return true;
            }
        }
        let ok = self.watchers.wait_in_line(deadline, || self.raw.try_lock(), |d| self.spin(d), place);
        if ok {
            self.spin.blocked(start.elapsed());
        }
        ok
    }

    /// Polls for the lock before a wait in line. On the free-threaded build, the one spin
    /// policy (polling reads the lock word, tries only when it is free). Not on a GIL build: a
    /// waiter that catches the lock while polling (detached) must then wait for the GIL while
    /// holding it, and the threads queue behind each other (measured on 3.11: 4 threads on a
    /// Lock-protected dict went from 4.45x the stdlib to 0.10x with the spin). There, the short
    /// spin parking_lot's `lock()` made before parking, which this lock used before it had a
    /// line: a few rounds of 2, 4, 8 pauses, then up to 7 yields, while nobody waits in line
    /// (measured on 3.11 without it: the main-thread Lock hand-off went from ~2 us, caught by
    /// that spin, to 7-20 us). It stays written out rather than `spin::spin_until` with a short
    /// budget: that was measured on 3.11 to catch the hand-off far less often (8 us budget:
    /// 30-35 us per round trip; 32 us: 5-28 us, against 1.9-2.0 us with these few tries).
    #[inline]
    fn spin(&self, deadline: Option<Instant>) -> bool {
        let try_lock = || !self.raw.is_locked() && self.raw.try_lock();
        if POLL_BEFORE_PARKING {
            return self.spin.spin_until(deadline, try_lock);
        }
        if cfg!(loom) {
            return false; // the models wait in line at once
        }
        for round in 0..10u32 {
            if try_lock() {
                return true;
            }
            if !self.watchers.is_empty() || deadline.is_some_and(|d| Instant::now() >= d) {
                return false;
            }
            if round < 3 {
                for _ in 0..(2u32 << round) {
                    std::hint::spin_loop();
                }
            } else {
                super::prim::yield_now();
            }
        }
        try_lock()
    }

    /// Releases the lock; false if it was not locked. Any thread may release (Python allows it).
    #[inline]
    pub fn release(&self) -> bool {
        if !self.raw.is_locked() {
            return false;
        }
        self.owner.store(0, Relaxed);
        self.released_by.store(super::current_thread_ident(), Relaxed);
        // SAFETY: parking_lot's RawMutex keeps no owner; the lock is held (checked above), and
        // "held in the current context" is satisfied because Python's lock is not owned by a
        // thread. Two threads racing to release one held lock is a program error in Python too:
        // here both may succeed, leaving the lock unlocked, never memory-unsafe.
        unsafe { self.raw.unlock() };
        self.watchers.wake(1);
        true
    }

    #[inline]
    pub fn locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// The ident of the thread that acquired it (0 when unlocked, or for a moment around an
    /// acquisition or release).
    #[inline]
    pub fn owner(&self) -> u64 {
        self.owner.load(Relaxed)
    }

    /// Whether thread `me` was the last to release it (a moment's answer). True when `me`
    /// finds it held again just after letting it go: another thread took it in between.
    #[inline]
    pub fn released_last_by(&self, me: u64) -> bool {
        self.released_by.load(Relaxed) == me
    }

    /// The owner word itself, for the wait-for graph.
    pub fn owner_word(&self) -> &AtomicU64 {
        &self.owner
    }

    /// Forcibly reset to unlocked: after fork, in the child only (no other thread exists).
    /// A task of the forking thread's event loop waiting in line is woken: the lock is free.
    pub fn reinit(&self) {
        self.owner.store(0, Relaxed);
        self.released_by.store(0, Relaxed);
        self.watchers.reinit();
        if self.raw.is_locked() {
            // SAFETY: see `release`; nobody parks on the raw mutex.
            unsafe { self.raw.unlock() };
        }
        self.watchers.wake(1);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    /// The last releaser is remembered whoever acquired the lock, and forgotten after a fork.
    #[test]
    fn last_releaser() {
        let l = Arc::new(Lock::new());
        let me = crate::sync::current_thread_ident();
        assert!(!l.released_last_by(me));
        assert!(l.try_acquire());
        assert!(l.release());
        assert!(l.released_last_by(me));
        assert!(l.try_acquire());
        let l2 = l.clone();
        let other = std::thread::spawn(move || {
            assert!(l2.release()); // any thread may release a Lock
            crate::sync::current_thread_ident()
        })
        .join()
        .unwrap();
        assert!(!l.released_last_by(me));
        assert!(l.released_last_by(other));
        assert!(!l.release()); // not locked: nothing recorded
        assert!(l.released_last_by(other));
        l.reinit();
        assert!(!l.released_last_by(other));
    }

    #[test]
    fn acquire_release() {
        let l = Lock::new();
        assert!(l.try_acquire());
        assert!(!l.try_acquire());
        assert!(l.locked());
        assert_eq!(l.owner(), crate::sync::current_thread_ident());
        assert!(l.release());
        assert_eq!(l.owner(), 0);
        assert!(!l.release());
        assert!(!l.locked());
    }

    #[test]
    fn timed_acquire_times_out() {
        let l = Lock::new();
        assert!(l.try_acquire());
        let t0 = Instant::now();
        assert!(!l.acquire_until(Some(t0 + Duration::from_millis(30))));
        assert!(t0.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn passed_deadline_tries_once() {
        let l = Lock::new();
        let past = Instant::now();
        assert!(l.acquire_until(Some(past)));
        assert!(!l.acquire_until(Some(past)));
        assert!(!l.acquire_until(Some(Instant::now())));
        assert!(l.release());
    }

    #[test]
    fn release_from_other_thread() {
        let l = Arc::new(Lock::new());
        assert!(l.try_acquire());
        let l2 = l.clone();
        std::thread::spawn(move || assert!(l2.release())).join().unwrap();
        assert!(l.try_acquire());
    }

    #[test]
    fn counts_exactly_under_contention() {
        let l = Arc::new(Lock::new());
        let n = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let (l, n) = (l.clone(), n.clone());
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        l.acquire_until(None);
                        let v = n.load(std::sync::atomic::Ordering::Relaxed);
                        n.store(v + 1, std::sync::atomic::Ordering::Relaxed);
                        l.release();
                    }
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(n.load(std::sync::atomic::Ordering::Relaxed), 40_000);
    }
}

/// Model checks (`make loom`): every interleaving of a few threads, up to the preemption bound.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::prim::Arc;
    use loom::cell::UnsafeCell;
    use loom::thread;

    /// Two threads increment a plain cell under the lock: loom reports any unordered access.
    #[test]
    fn loom_lock_mutual_exclusion() {
        loom::model(|| {
            let l = Arc::new(Lock::new());
            let n = Arc::new(UnsafeCell::new(0u32));
            let hs: Vec<_> = (0..2)
                .map(|i| {
                    let (l, n) = (l.clone(), n.clone());
                    thread::spawn(move || {
                        // one blocking acquire, one try-then-block (the Python fast path)
                        if i == 0 || !l.try_acquire() {
                            assert!(l.acquire_until(None));
                        }
                        n.with_mut(|p| unsafe { *p += 1 });
                        assert!(l.release());
                    })
                })
                .collect();
            hs.into_iter().for_each(|h| h.join().unwrap());
            assert_eq!(n.with(|p| unsafe { *p }), 2);
            assert!(!l.locked());
        });
    }

    /// A lock held by one thread is released by another; the waiting owner-to-be gets it, a
    /// third thread's tries never break mutual exclusion.
    #[test]
    fn loom_lock_release_by_other_thread() {
        loom::model(|| {
            let l = Arc::new(Lock::new());
            assert!(l.try_acquire());
            let l1 = l.clone();
            let releaser = thread::spawn(move || assert!(l1.release()));
            let l2 = l.clone();
            let prober = thread::spawn(move || {
                if l2.try_acquire() {
                    assert!(l2.release());
                }
            });
            assert!(l.acquire_until(None));
            // a deadline already passed is one try
            assert!(!l.acquire_until(Some(Instant::now())));
            releaser.join().unwrap();
            prober.join().unwrap();
            assert!(l.locked());
            assert!(l.release());
            assert!(!l.release());
        });
    }

    /// A thread and an asyncio task's waiter (a callback) in one line, in either order, one
    /// release: the wake-up reaches the first in line and nothing is lost. The task, woken,
    /// tries once and releases what it took (which wakes the thread if it is still in line);
    /// the thread always ends with the lock (no wake-up lost to a waiter that did not use it).
    #[test]
    fn loom_lock_thread_and_task_in_one_line() {
        use crate::sync::prim::atomic::{AtomicUsize, Ordering::SeqCst};
        loom::model(|| {
            let l = Arc::new(Lock::new());
            assert!(l.try_acquire());
            let l1 = l.clone();
            let thread = thread::spawn(move || {
                assert!(l1.acquire_until(None));
                assert!(l1.release());
            });
            let calls = Arc::new(AtomicUsize::new(0));
            let task = crate::sync::park::counting_waiter(&calls);
            l.watchers.register(&task);
            assert!(l.release());
            // The task's turn, if it was woken: one try (a thread may have been quicker).
            if calls.load(SeqCst) == 1 && l.try_acquire() {
                assert!(l.release());
            }
            thread.join().unwrap();
            l.watchers.unregister(&task);
            assert!(calls.load(SeqCst) <= 1, "a waiter is woken once");
            assert!(!l.locked());
        });
    }

    /// A thread waiting in slices (the main thread's wait, see `park::Place`): its first slice
    /// ends (a deadline already passed) as the lock is released, and a task gets in line
    /// behind it. The thread then either waits on in its place (`resume`: it must get the
    /// lock, so the release's wake-up was not lost) or its wait ends (it leaves the line,
    /// passing on a wake-up it got): either it took the lock in its slice or the task is
    /// woken, once. (A task may also be woken when the thread took the lock: a releaser that
    /// saw the thread in line wakes the next after it left; the task then finds the lock held
    /// and waits again.)
    #[test]
    fn loom_lock_slice_end_racing_a_release() {
        use crate::sync::park::{counting_waiter, Place};
        use crate::sync::prim::atomic::{AtomicUsize, Ordering::SeqCst};
        for resume in [false, true] {
            loom::model(move || {
                let l = Arc::new(Lock::new());
                assert!(l.try_acquire());
                let releaser = {
                    let l = l.clone();
                    thread::spawn(move || assert!(l.release()))
                };
                let me = crate::sync::current_thread_ident();
                let mut place = Place::new();
                // The first slice: the wait in line itself (`acquire_in_place` tries once
                // without registering when the deadline has passed already).
                let try_lock = || l.raw.try_lock();
                let mut got = l.watchers.wait_in_line(Some(Instant::now()), try_lock, |_| false, &mut place);
                let calls = Arc::new(AtomicUsize::new(0));
                let task = counting_waiter(&calls);
                l.watchers.register(&task);
                if !got {
                    if resume {
                        got = l.acquire_in_place(me, None, &mut place);
                        assert!(got, "a wait without a deadline ends with the lock");
                    } else {
                        l.leave_line(&mut place);
                    }
                }
                assert!(!place.is_held());
                releaser.join().unwrap();
                l.watchers.unregister(&task);
                let calls = calls.load(SeqCst);
                assert!(calls <= 1, "a waiter is woken once");
                assert!(got || calls == 1, "the release reached nobody");
                assert_eq!(l.locked(), got);
            });
        }
    }

    /// A thread whose deadline passes (`Waiter::leave`) as the release comes, with a task's
    /// waiter in line too: either the thread takes the lock, or the release's wake-up reaches
    /// the task; never lost between them.
    #[test]
    fn loom_lock_timeout_racing_a_release() {
        use crate::sync::prim::atomic::{AtomicUsize, Ordering::SeqCst};
        loom::model(|| {
            let l = Arc::new(Lock::new());
            assert!(l.try_acquire());
            let l1 = l.clone();
            let thread = thread::spawn(move || {
                // The wait in line itself, with a deadline already passed (loom's only timeout).
                let mut place = crate::sync::park::Place::new();
                let got = l1.watchers.wait_in_line(Some(Instant::now()), || l1.raw.try_lock(), |_| false, &mut place);
                l1.watchers.leave(&mut place);
                if got {
                    assert!(l1.release());
                }
                got
            });
            let calls = Arc::new(AtomicUsize::new(0));
            let task = crate::sync::park::counting_waiter(&calls);
            l.watchers.register(&task);
            assert!(l.release());
            let got = thread.join().unwrap();
            l.watchers.unregister(&task);
            let calls = calls.load(SeqCst);
            assert!(calls <= 1);
            assert!(got || calls == 1, "the release reached nobody");
            assert!(!l.locked());
        });
    }
}
