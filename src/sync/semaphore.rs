//! A counting semaphore, optionally bounded, as Python's `threading.Semaphore` and
//! `threading.BoundedSemaphore`.
//!
//! The count is an atomic, so an uncontended acquire or release is one compare-and-swap. A
//! thread that must wait spins (the one policy, `spin`), then waits its turn in `watchers`, the
//! same line as the asyncio tasks awaiting a unit: each unit released wakes the first in line,
//! thread or task, which then tries for itself, so waiters of both kinds are served in the
//! order they came. A release pays one load when nobody waits. Lost wake-ups are excluded by
//! `WatchList`'s store/load pairing, all `SeqCst`: a waiter registers (its count) and then
//! reads the semaphore's count; a releaser adds to the semaphore's count and then reads the
//! line's. Either the waiter sees the new count, or the releaser sees the waiter and wakes it.

use super::park::{Place, WatchList};
use super::prim::atomic::{
    AtomicU64,
    Ordering::{Relaxed, SeqCst},
};
use super::prim::{const_fn, Instant};
use super::spin::{AdaptiveSpin, Polling, HANDOFF};

/// The bound of a plain (unbounded) semaphore: the largest count it can hold.
pub const UNBOUNDED: u64 = u64::MAX;

pub struct Semaphore {
    value: AtomicU64,
    /// The largest value `release` may reach: the initial value of a bounded semaphore,
    /// `UNBOUNDED` otherwise.
    bound: AtomicU64,
    /// The spin budget of this object's waits (see `spin`).
    spin: AdaptiveSpin,
    /// The line of waiters, threads and asyncio tasks (see `park`): one woken per unit released.
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
                spin: AdaptiveSpin::new(HANDOFF, Polling::Yielding),
                watchers: WatchList::new(),
            }
        }
    }

    /// Sets the count and the bound (Python's `__init__`, which may run on a live object).
    /// Every waiter is woken to look at the new count (a store, then `wake_all`'s read of the
    /// line: the pairing of the module notes).
    pub fn reset(&self, value: u64, bound: u64) {
        self.bound.store(bound, SeqCst);
        self.value.store(value, SeqCst);
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
        let mut place = Place::new();
        let got = self.acquire_in_place(deadline, &mut place);
        self.leave_line(&mut place);
        got
    }

    /// `acquire_until` as one slice of a longer wait (see `park::Place`): a waiter whose slice
    /// ends keeps its place in line for the next call; the caller leaves it (`leave_line`) when
    /// the wait ends.
    pub fn acquire_in_place(&self, deadline: Option<Instant>, place: &mut Place) -> bool {
        // A waiter in line since an earlier slice waits on there, without barging.
        let in_line = place.is_held();
        if !in_line && self.try_acquire() {
            return true;
        }
        let start = Instant::now();
        if !in_line && self.spin.spin_until(deadline, || self.try_acquire()) {
            return true;
        }
        // Each look tries to take a unit (the look after registering, each wake-up, once more
        // at the deadline). The count is read SeqCst: with the line's SeqCst registration and
        // the releaser's SeqCst update-then-read, this is the store/load pairing of the module
        // notes (a Relaxed read here could see the count from before a release that saw no
        // waiter: a lost wake-up).
        let take = || self.take_from(self.value.load(SeqCst));
        let got = self.watchers.wait_in_line(deadline, take, |d| self.spin.spin_until(d, take), place);
        if got {
            self.spin.blocked(start.elapsed());
        }
        got
    }

    /// Leaves the line where `place` waits (its wait ended): a wake-up it got goes on to the
    /// next waiter.
    pub fn leave_line(&self, place: &mut Place) {
        self.watchers.leave(place);
    }

    /// Adds `n` units and wakes the first `n` waiters in line.
    pub fn release(&self, n: u64) -> Result<(), ReleaseError> {
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
        // The count was updated SeqCst; `wake` reads the line's count SeqCst (the pairing).
        self.watchers.wake(n);
        Ok(())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
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
        s.release(3).unwrap();
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
        assert_eq!(s.release(1), Err(ReleaseError::TooManyReleases));
        assert!(s.try_acquire());
        assert_eq!(s.release(2), Err(ReleaseError::TooManyReleases));
        assert_eq!(s.value(), 0);
        s.release(1).unwrap();
        assert_eq!(s.value(), 1);
        assert_eq!(s.release(u64::MAX), Err(ReleaseError::TooManyReleases));
    }

    #[test]
    fn unbounded_overflow_is_an_error() {
        let s = Semaphore::new(u64::MAX - 1, UNBOUNDED);
        s.release(1).unwrap();
        assert_eq!(s.release(1), Err(ReleaseError::Overflow));
        assert_eq!(s.value(), u64::MAX);
    }

    #[test]
    fn timed_acquire_times_out() {
        let s = Semaphore::new(0, UNBOUNDED);
        let t0 = Instant::now();
        assert!(!s.acquire_until(Some(t0 + Duration::from_millis(30))));
        assert!(t0.elapsed() >= Duration::from_millis(30));
        assert_eq!(s.watchers.len(), 0);
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
        while s.watchers.len() < 4 {
            std::thread::sleep(Duration::from_millis(1));
        }
        s.release(3).unwrap();
        while done.load(SeqCst) < 3 {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(done.load(SeqCst), 3);
        s.release(1).unwrap();
        hs.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(s.value(), 0);
    }

    /// Threads and a task's waiter (a callback) in one line are served in the order they came.
    #[test]
    fn threads_and_tasks_served_in_arrival_order() {
        let s = Arc::new(Semaphore::new(0, UNBOUNDED));
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let wait_for = |n: usize| {
            while s.watchers.len() < n {
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        let thread = |name: &'static str| {
            let (s, order) = (s.clone(), order.clone());
            std::thread::spawn(move || {
                assert!(s.acquire_until(None));
                order.lock().unwrap().push(name);
            })
        };
        let t1 = thread("T1");
        wait_for(1);
        let o2 = order.clone();
        let task = crate::sync::park::Waiter::with_callback(Box::new(move || {
            o2.lock().unwrap().push("A");
            true
        }));
        s.watchers.register(&task);
        let t2 = thread("T2");
        wait_for(3);
        let served = |n: usize| {
            while order.lock().unwrap().len() < n {
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        s.release(1).unwrap();
        served(1);
        s.release(1).unwrap(); // the task's: it takes its unit when it runs
        served(2);
        assert!(s.try_acquire());
        s.release(1).unwrap();
        served(3);
        t1.join().unwrap();
        t2.join().unwrap();
        assert_eq!(*order.lock().unwrap(), ["T1", "A", "T2"]);
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
                        s.release(1).unwrap();
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
                        s.release(1).unwrap();
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
            s.release(2).unwrap();
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
                thread::spawn(move || s.release(1).unwrap())
            };
            s.release(1).unwrap();
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
                    thread::spawn(move || s.release(1))
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

    /// A thread and an asyncio task's waiter (a callback) in one line, in either order, one
    /// unit released: it reaches the first in line and nothing is lost. The task, woken, tries
    /// once and gives back what it took (which wakes the thread if it is still in line); the
    /// thread always ends with a unit.
    #[test]
    fn loom_semaphore_thread_and_task_in_one_line() {
        loom::model(|| {
            let s = Arc::new(Semaphore::new(0, UNBOUNDED));
            let s1 = s.clone();
            let thread = thread::spawn(move || assert!(s1.acquire_until(None)));
            let calls = Arc::new(AtomicUsize::new(0));
            let task = crate::sync::park::counting_waiter(&calls);
            s.watchers.register(&task);
            s.release(1).unwrap();
            // The task's turn, if it was woken: one try (the thread may have been quicker).
            if calls.load(SeqCst) == 1 && s.try_acquire() {
                s.release(1).unwrap();
            }
            thread.join().unwrap();
            s.watchers.unregister(&task);
            assert!(calls.load(SeqCst) <= 1, "a waiter is woken once");
            assert_eq!(s.value(), 0);
        });
    }

    /// A thread whose deadline passes (`Waiter::leave`) as a unit is released, with a task's
    /// waiter in line too: either the thread takes the unit, or the wake-up reaches the task.
    #[test]
    fn loom_semaphore_timeout_racing_a_release() {
        loom::model(|| {
            let s = Arc::new(Semaphore::new(0, UNBOUNDED));
            let s1 = s.clone();
            let thread = thread::spawn(move || {
                // The wait in line itself, with a deadline already passed (loom's only timeout).
                let mut place = crate::sync::park::Place::new();
                let take = || s1.take_from(s1.value.load(SeqCst));
                let got = s1.watchers.wait_in_line(Some(Instant::now()), take, |_| false, &mut place);
                s1.watchers.leave(&mut place);
                got
            });
            let calls = Arc::new(AtomicUsize::new(0));
            let task = crate::sync::park::counting_waiter(&calls);
            s.watchers.register(&task);
            s.release(1).unwrap();
            let got = thread.join().unwrap();
            s.watchers.unregister(&task);
            let calls = calls.load(SeqCst);
            assert!(calls <= 1);
            assert!(got || calls == 1, "the release reached nobody");
            assert_eq!(s.value(), if got { 0 } else { 1 });
        });
    }

    /// Two units released one at a time to two threads in line: both end with one (a waiter
    /// woken while its look after registering took a unit passes the wake-up on; the race
    /// that makes that matter needs more preemptions than `make loom` allows, see
    /// `WatchList::wait_in_line`).
    #[test]
    fn loom_semaphore_two_waiters_two_units() {
        loom::model(|| {
            let s = Arc::new(Semaphore::new(0, UNBOUNDED));
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let s = s.clone();
                    thread::spawn(move || assert!(s.acquire_until(None)))
                })
                .collect();
            s.release(1).unwrap();
            s.release(1).unwrap();
            hs.into_iter().for_each(|h| h.join().unwrap());
            assert_eq!(s.value(), 0);
        });
    }
}
