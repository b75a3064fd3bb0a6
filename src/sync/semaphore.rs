//! A counting semaphore, optionally bounded, as Python's `threading.Semaphore` and
//! `threading.BoundedSemaphore`.
//!
//! The count is an atomic, so an uncontended acquire or release is one compare-and-swap. Threads
//! that must wait park on a condition variable; a release only takes the internal mutex (to
//! notify) when some thread is registered as waiting. Lost wake-ups are excluded by the usual
//! store/load pairing, all `SeqCst`: a waiter registers (`waiters += 1`) and then reads the
//! count; a releaser adds to the count and then reads `waiters`. Either the waiter sees the new
//! count, or the releaser sees the waiter and notifies under the mutex, which the waiter holds
//! until it is parked.

use super::park::WatchList;
use super::prim::atomic::{
    AtomicU64, AtomicUsize,
    Ordering::{Relaxed, SeqCst},
};
use super::prim::{const_fn, loom_seq_cst_fence, Condvar, Instant, Mutex};
use super::spin::{AdaptiveSpin, Polling, HANDOFF};
use super::Locker;

/// The bound of a plain (unbounded) semaphore: the largest count it can hold.
pub const UNBOUNDED: u64 = u64::MAX;

pub struct Semaphore {
    value: AtomicU64,
    /// The largest value `release` may reach: the initial value of a bounded semaphore,
    /// `UNBOUNDED` otherwise.
    bound: AtomicU64,
    /// Threads inside `acquire_until` (registered under `mutex`).
    waiters: AtomicUsize,
    mutex: Mutex<()>,
    cond: Condvar,
    /// The spin budget of this object's waits (see `spin`).
    spin: AdaptiveSpin,
    /// Asyncio tasks waiting for a unit (see `park`): woken by every release.
    pub watchers: WatchList,
}

/// Why a release was refused; the count is unchanged.
#[derive(Debug, PartialEq, Eq)]
pub enum ReleaseError {
    /// A bounded semaphore would exceed its initial value.
    TooManyReleases,
    /// An unbounded semaphore would exceed `UNBOUNDED`.
    Overflow,
}

impl Semaphore {
    const_fn! {
        /// A semaphore holding `value`; `bound` is `UNBOUNDED` or, for a bounded one, `value`.
        pub fn new(value: u64, bound: u64) -> Self {
            Semaphore {
                value: AtomicU64::new(value),
                bound: AtomicU64::new(bound),
                waiters: AtomicUsize::new(0),
                mutex: Mutex::new(()),
                cond: Condvar::new(),
                spin: AdaptiveSpin::new(HANDOFF, Polling::Yielding),
                watchers: WatchList::new(),
            }
        }
    }

    /// Sets the count and the bound (Python's `__init__`, which may run on a live object).
    pub fn reset(&self, value: u64, bound: u64, locker: impl Locker) {
        self.bound.store(bound, SeqCst);
        self.value.store(value, SeqCst);
        loom_seq_cst_fence();
        if self.waiters.load(SeqCst) > 0 {
            let _g = locker.lock(&self.mutex);
            self.cond.notify_all();
        }
        self.watchers.wake_all();
    }

    #[inline]
    pub fn value(&self) -> u64 {
        self.value.load(Relaxed)
    }

    #[inline]
    pub fn bound(&self) -> u64 {
        self.bound.load(Relaxed)
    }

    /// Takes one unit if the count is positive; never blocks.
    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.take_from(self.value.load(Relaxed))
    }

    /// Takes one unit, starting from `v` as the count last seen.
    #[inline]
    fn take_from(&self, mut v: u64) -> bool {
        while v > 0 {
            match self.value.compare_exchange_weak(v, v - 1, SeqCst, Relaxed) {
                Ok(_) => return true,
                Err(now) => v = now,
            }
        }
        false
    }

    /// Blocks until one unit is taken or until `deadline` (None: forever); returns whether it
    /// was taken. Always tries at least once, even with a deadline in the past.
    pub fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        if self.try_acquire() {
            return true;
        }
        let start = Instant::now();
        if self.spin.spin_until(deadline, || self.try_acquire()) {
            return true;
        }
        let mut guard = self.mutex.lock();
        self.waiters.fetch_add(1, SeqCst);
        loom_seq_cst_fence();
        // Each look tries to take a unit (also once more at the deadline): a thread woken by
        // a release must not let the unit meant for it sit unclaimed while other waiters
        // sleep. The count is read SeqCst: with `waiters += 1` above and the releaser's SeqCst
        // update-then-read, this is the store/load pairing of the module notes (a Relaxed read
        // here could see the count from before a release that saw no waiter: a lost wake-up).
        let got =
            super::park::wait_until(&self.cond, &mut guard, deadline, |_| self.take_from(self.value.load(SeqCst)));
        self.waiters.fetch_sub(1, SeqCst);
        drop(guard);
        if got {
            self.spin.blocked(start.elapsed());
        }
        got
    }

    /// Adds `n` units and wakes up to `n` waiting threads.
    pub fn release(&self, n: u64, locker: impl Locker) -> Result<(), ReleaseError> {
        let bound = self.bound.load(Relaxed);
        let mut v = self.value.load(Relaxed);
        loop {
            let new = match v.checked_add(n) {
                Some(new) if new <= bound => new,
                _ if bound == UNBOUNDED => return Err(ReleaseError::Overflow),
                _ => return Err(ReleaseError::TooManyReleases),
            };
            match self.value.compare_exchange_weak(v, new, SeqCst, Relaxed) {
                Ok(_) => break,
                Err(now) => v = now,
            }
        }
        loom_seq_cst_fence();
        if self.waiters.load(SeqCst) > 0 {
            let _g = locker.lock(&self.mutex);
            let mut n = n;
            while n > 0 && self.cond.notify_one() {
                n -= 1;
            }
        }
        self.watchers.wake_all();
        Ok(())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::Blocking;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn counts() {
        let s = Semaphore::new(2, UNBOUNDED);
        assert!(s.try_acquire());
        assert!(s.try_acquire());
        assert!(!s.try_acquire());
        assert_eq!(s.value(), 0);
        s.release(3, Blocking).unwrap();
        assert_eq!(s.value(), 3);
    }

    #[test]
    fn zero_initial_value_blocks() {
        let s = Semaphore::new(0, UNBOUNDED);
        assert!(!s.try_acquire());
        assert!(!s.acquire_until(Some(Instant::now())));
    }

    #[test]
    fn bounded_refuses_over_release() {
        let s = Semaphore::new(1, 1);
        assert_eq!(s.release(1, Blocking), Err(ReleaseError::TooManyReleases));
        assert!(s.try_acquire());
        assert_eq!(s.release(2, Blocking), Err(ReleaseError::TooManyReleases));
        assert_eq!(s.value(), 0);
        s.release(1, Blocking).unwrap();
        assert_eq!(s.value(), 1);
        assert_eq!(s.release(u64::MAX, Blocking), Err(ReleaseError::TooManyReleases));
    }

    #[test]
    fn unbounded_overflow_is_an_error() {
        let s = Semaphore::new(u64::MAX - 1, UNBOUNDED);
        s.release(1, Blocking).unwrap();
        assert_eq!(s.release(1, Blocking), Err(ReleaseError::Overflow));
        assert_eq!(s.value(), u64::MAX);
    }

    #[test]
    fn timed_acquire_times_out() {
        let s = Semaphore::new(0, UNBOUNDED);
        let t0 = Instant::now();
        assert!(!s.acquire_until(Some(t0 + Duration::from_millis(30))));
        assert!(t0.elapsed() >= Duration::from_millis(30));
        assert_eq!(s.waiters.load(SeqCst), 0);
    }

    #[test]
    fn release_n_wakes_n_waiters() {
        let s = Arc::new(Semaphore::new(0, UNBOUNDED));
        let done = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let (s, done) = (s.clone(), done.clone());
                std::thread::spawn(move || {
                    assert!(s.acquire_until(None));
                    done.fetch_add(1, SeqCst);
                })
            })
            .collect();
        while s.waiters.load(SeqCst) < 4 {
            std::thread::sleep(Duration::from_millis(1));
        }
        s.release(3, Blocking).unwrap();
        while done.load(SeqCst) < 3 {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(done.load(SeqCst), 3);
        s.release(1, Blocking).unwrap();
        hs.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(s.value(), 0);
    }

    #[test]
    fn limits_concurrency_and_loses_no_units() {
        let s = Arc::new(Semaphore::new(2, 2));
        let inside = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..6)
            .map(|i| {
                let (s, inside, max) = (s.clone(), inside.clone(), max.clone());
                std::thread::spawn(move || {
                    for _ in 0..2_000 {
                        // Mix short timed waits (main-thread slices) with untimed ones.
                        if i % 2 == 0 {
                            while !s.acquire_until(Some(Instant::now() + Duration::from_micros(50))) {}
                        } else {
                            assert!(s.acquire_until(None));
                        }
                        let now = inside.fetch_add(1, SeqCst) + 1;
                        max.fetch_max(now, SeqCst);
                        inside.fetch_sub(1, SeqCst);
                        s.release(1, Blocking).unwrap();
                    }
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
        assert!(max.load(SeqCst) <= 2);
        assert_eq!(s.value(), 2);
    }
}

/// Model checks (`make loom`).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::prim::atomic::AtomicUsize;
    use crate::sync::prim::Arc;
    use crate::sync::Blocking;
    use loom::thread;

    /// One unit, two threads: never both inside, the unit comes back.
    #[test]
    fn loom_semaphore_one_unit() {
        loom::model(|| {
            let s = Arc::new(Semaphore::new(1, UNBOUNDED));
            let inside = Arc::new(AtomicUsize::new(0));
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let (s, inside) = (s.clone(), inside.clone());
                    thread::spawn(move || {
                        assert!(s.acquire_until(None));
                        assert_eq!(inside.fetch_add(1, SeqCst), 0);
                        inside.fetch_sub(1, SeqCst);
                        s.release(1, Blocking).unwrap();
                    })
                })
                .collect();
            hs.into_iter().for_each(|h| h.join().unwrap());
            assert_eq!(s.value(), 1);
        });
    }

    /// Two waiters on an empty semaphore, one `release(2)`: both wake (no lost wake-up), and a
    /// late `try_acquire` finds nothing left.
    #[test]
    fn loom_semaphore_release_n_wakes_n() {
        loom::model(|| {
            let s = Arc::new(Semaphore::new(0, UNBOUNDED));
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let s = s.clone();
                    thread::spawn(move || assert!(s.acquire_until(None)))
                })
                .collect();
            s.release(2, Blocking).unwrap();
            hs.into_iter().for_each(|h| h.join().unwrap());
            assert_eq!(s.value(), 0);
            assert!(!s.try_acquire());
        });
    }

    /// Units released one at a time from two threads reach one waiter each; a passed deadline
    /// only tries.
    #[test]
    fn loom_semaphore_release_one_each() {
        loom::model(|| {
            let s = Arc::new(Semaphore::new(0, UNBOUNDED));
            let waiter = {
                let s = s.clone();
                thread::spawn(move || {
                    assert!(s.acquire_until(None));
                    assert!(s.acquire_until(None));
                })
            };
            let releaser = {
                let s = s.clone();
                thread::spawn(move || s.release(1, Blocking).unwrap())
            };
            s.release(1, Blocking).unwrap();
            waiter.join().unwrap();
            releaser.join().unwrap();
            assert!(!s.acquire_until(Some(Instant::now())));
            assert_eq!(s.value(), 0);
        });
    }

    /// A bounded semaphore at 0 of 1, two racing releases: exactly one succeeds, the other is
    /// refused and the count is never above the bound nor lost.
    #[test]
    fn loom_bounded_semaphore_release_race() {
        loom::model(|| {
            let s = Arc::new(Semaphore::new(1, 1));
            assert!(s.try_acquire());
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let s = s.clone();
                    thread::spawn(move || s.release(1, Blocking))
                })
                .collect();
            let results: Vec<_> = hs.into_iter().map(|h| h.join().unwrap()).collect();
            assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
            assert!(results.contains(&Err(ReleaseError::TooManyReleases)));
            assert_eq!(s.value(), 1);
            assert!(s.try_acquire());
            assert!(!s.try_acquire());
        });
    }
}
