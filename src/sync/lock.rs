//! A non-reentrant lock that any thread may release, as Python's `_thread.lock`.

use super::park::WatchList;
use super::prim::{Instant, RawMutex};
use super::spin::{AdaptiveSpin, Polling, HANDOFF};
// parking_lot's raw mutex methods (loom's stand-in has them as inherent methods).
use super::prim::atomic::{AtomicU64, Ordering::Relaxed};
#[cfg(not(loom))]
use lock_api::{RawMutex as _, RawMutexTimed as _};

/// Whether a wait polls (`spin`) before parking: on the free-threaded build only (see
/// `acquire_parked`).
const POLL_BEFORE_PARKING: bool = cfg!(Py_GIL_DISABLED);

pub struct Lock {
    raw: RawMutex,
    /// Ident of the thread that last acquired it, 0 when unlocked: for reports (`repr`, the
    /// wait-for graph), not for correctness (any thread may release a Lock). Stored relaxed
    /// after each acquisition, cleared before each release.
    owner: AtomicU64,
    /// The spin budget of this lock's waits (see `spin`): a lock handed from thread to thread
    /// (released by one, awaited by another) is caught while polling, not after a wake-up.
    spin: AdaptiveSpin,
    /// Asyncio tasks waiting to acquire (see `park`): woken by every release. (The release
    /// reads their count after parking_lot's unlock, a release compare-and-swap, not a `SeqCst`
    /// one: on x86 and on ARMv8 a later `SeqCst` load is not reordered before it, which is the
    /// pairing `WatchList` needs.)
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
            spin: AdaptiveSpin::new(HANDOFF, Polling::Yielding),
            watchers: WatchList::new(),
        }
    }

    #[cfg(loom)]
    pub fn new() -> Self {
        Lock {
            raw: RawMutex::new(),
            owner: AtomicU64::new(0),
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
        let ok = self.acquire_raw(deadline);
        if ok {
            self.owner.store(me, Relaxed);
        }
        ok
    }

    fn acquire_raw(&self, deadline: Option<Instant>) -> bool {
        super::fork::parked_on([&self.raw as *const RawMutex as usize, 0], || self.acquire_parked(deadline))
    }

    fn acquire_parked(&self, deadline: Option<Instant>) -> bool {
        let start = Instant::now();
        // A deadline already passed: one try. (parking_lot would first spin and yield the CPU
        // several times, microseconds, before finding out that it timed out.)
        if deadline.is_some_and(|d| d <= start) {
            return self.raw.try_lock();
        }
        // The one spin policy first (polling reads the lock word, tries only when it is free),
        // then parking_lot's own short spin and park. Not on a GIL build: a waiter that catches
        // the lock while polling (detached) must then wait for the GIL while holding it, and
        // the threads queue behind each other (measured on 3.11: 4 threads on a Lock-protected
        // dict went from 4.45x the stdlib to 0.10x with the spin).
        if POLL_BEFORE_PARKING && self.spin.spin_until(deadline, || !self.raw.is_locked() && self.raw.try_lock()) {
            return true;
        }
        let ok = match deadline {
            None => {
                self.raw.lock();
                true
            }
            Some(d) => self.raw.try_lock_until(d),
        };
        if ok {
            self.spin.blocked(start.elapsed());
        }
        ok
    }

    /// Releases the lock; false if it was not locked. Any thread may release (Python allows it).
    #[inline]
    pub fn release(&self) -> bool {
        if !self.raw.is_locked() {
            return false;
        }
        self.owner.store(0, Relaxed);
        // SAFETY: parking_lot's RawMutex keeps no owner; the lock is held (checked above), and
        // "held in the current context" is satisfied because Python's lock is not owned by a
        // thread. Two threads racing to release one held lock is a program error in Python too:
        // here both may succeed, leaving the lock unlocked, never memory-unsafe.
        unsafe { self.raw.unlock() };
        self.watchers.wake_all();
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

    /// The owner word itself, for the wait-for graph.
    pub fn owner_word(&self) -> &AtomicU64 {
        &self.owner
    }

    /// Forcibly reset to unlocked: after fork, in the child only (no other thread exists).
    pub fn reinit(&self) {
        self.owner.store(0, Relaxed);
        if self.raw.is_locked() {
            // SAFETY: see `release`; in a fork child no parked thread can exist.
            unsafe { self.raw.unlock() };
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

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
}
