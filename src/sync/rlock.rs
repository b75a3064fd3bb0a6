//! A reentrant lock owned by one thread at a time, as Python's `_thread.RLock`.

use super::lock::Lock;
use super::park::Place;
use super::prim::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use super::prim::{const_fn, Instant};

pub struct RLock {
    /// Its owner word is the RLock's owner: the owning thread's ident, 0 when unowned. Written
    /// only by the owner while it holds `lock`; read by anyone (a thread only ever compares it
    /// with its own ident, so a stale read can never make a non-owner think it owns the lock).
    lock: Lock,
    /// Recursion depth; only the owner reads or writes it meaningfully.
    count: AtomicUsize,
}

#[derive(Debug, PartialEq, Eq)]
pub struct NotOwned;

impl Default for RLock {
    fn default() -> Self {
        Self::new()
    }
}

impl RLock {
    const_fn! {
        pub fn new() -> Self {
            RLock { lock: Lock::new(), count: AtomicUsize::new(0) }
        }
    }

    #[inline]
    pub fn is_owned_by(&self, me: u64) -> bool {
        self.lock.owner() == me
    }

    /// Re-enters if `me` owns the lock, else tries once to take it.
    #[inline]
    pub fn try_acquire(&self, me: u64) -> bool {
        if self.is_owned_by(me) {
            self.count.fetch_add(1, Relaxed);
            return true;
        }
        if self.lock.try_acquire_as(me) {
            self.take(me, 1);
            return true;
        }
        false
    }

    /// Blocks until acquired by `me` (re-entering if already owned) or until `deadline`.
    pub fn acquire_until(&self, me: u64, deadline: Option<Instant>) -> bool {
        self.acquire_until_with_count(me, 1, deadline)
    }

    /// Acquires (not re-entrantly) and sets the recursion depth to `count`: `_acquire_restore`.
    pub fn acquire_until_with_count(&self, me: u64, count: usize, deadline: Option<Instant>) -> bool {
        let mut place = Place::new();
        let ok = self.acquire_in_place(me, count, deadline, &mut place);
        self.leave_line(&mut place);
        ok
    }

    /// `acquire_until_with_count` as one slice of a longer wait (see `park::Place`): a waiter
    /// whose slice ends keeps its place in the lock's line for the next call; the caller leaves
    /// it (`leave_line`) when the wait ends.
    pub fn acquire_in_place(&self, me: u64, count: usize, deadline: Option<Instant>, place: &mut Place) -> bool {
        if self.is_owned_by(me) {
            self.count.fetch_add(count, Relaxed);
            return true;
        }
        if self.lock.acquire_in_place(me, deadline, place) {
            self.take(me, count);
            return true;
        }
        false
    }

    /// Leaves the line where `place` waits (its wait ended): a wake-up it got goes on to the
    /// next waiter.
    pub fn leave_line(&self, place: &mut Place) {
        self.lock.leave_line(place);
    }

    /// How many threads wait in line (a moment's count, for tests).
    pub fn waiting(&self) -> usize {
        self.lock.watchers.len()
    }

    #[inline]
    fn take(&self, _me: u64, count: usize) {
        self.count.store(count, Relaxed);
    }

    /// Releases one level; the lock is freed when the depth reaches zero.
    #[inline]
    pub fn release(&self, me: u64) -> Result<(), NotOwned> {
        if !self.is_owned_by(me) {
            return Err(NotOwned);
        }
        if self.count.fetch_sub(1, Relaxed) == 1 {
            self.lock.release();
        }
        Ok(())
    }

    /// Releases every level at once and returns the depth: `_release_save`.
    pub fn release_all(&self, me: u64) -> Result<usize, NotOwned> {
        if !self.is_owned_by(me) {
            return Err(NotOwned);
        }
        let count = self.count.swap(0, Relaxed);
        self.lock.release();
        Ok(count)
    }

    pub fn locked(&self) -> bool {
        self.lock.locked()
    }

    pub fn owner(&self) -> u64 {
        self.lock.owner()
    }

    /// The owner word, for the wait-for graph.
    pub fn owner_word(&self) -> &AtomicU64 {
        self.lock.owner_word()
    }

    /// Depth as seen by `me`: 0 unless `me` owns it.
    pub fn recursion_count(&self, me: u64) -> usize {
        if self.is_owned_by(me) {
            self.count.load(Relaxed)
        } else {
            0
        }
    }

    /// Depth and owner, for a repr (racy by nature, as in CPython).
    pub fn state(&self) -> (u64, usize) {
        (self.lock.owner(), self.count.load(Relaxed))
    }

    /// Reset to unowned and unlocked: after fork, in the child only.
    pub fn reinit(&self) {
        self.count.store(0, Relaxed);
        self.lock.reinit();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::current_thread_ident;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn reentry_and_release() {
        let r = RLock::new();
        let me = current_thread_ident();
        assert!(r.try_acquire(me));
        assert!(r.try_acquire(me));
        assert_eq!(r.recursion_count(me), 2);
        assert_eq!(r.release(me), Ok(()));
        assert!(r.locked());
        assert_eq!(r.release(me), Ok(()));
        assert!(!r.locked());
        assert_eq!(r.release(me), Err(NotOwned));
    }

    #[test]
    fn other_thread_cannot_release_or_enter() {
        let r = Arc::new(RLock::new());
        let me = current_thread_ident();
        assert!(r.try_acquire(me));
        let r2 = r.clone();
        std::thread::spawn(move || {
            let other = current_thread_ident();
            assert_eq!(r2.release(other), Err(NotOwned));
            assert!(!r2.acquire_until(other, Some(Instant::now() + Duration::from_millis(20))));
            assert_eq!(r2.recursion_count(other), 0);
        })
        .join()
        .unwrap();
        assert_eq!(r.release_all(me), Ok(1));
        assert!(!r.locked());
    }

    #[test]
    fn release_all_then_restore() {
        let r = RLock::new();
        let me = current_thread_ident();
        for _ in 0..3 {
            assert!(r.try_acquire(me));
        }
        assert_eq!(r.release_all(me), Ok(3));
        assert!(r.acquire_until_with_count(me, 3, None));
        assert_eq!(r.recursion_count(me), 3);
    }
}

/// Model checks (`make loom`).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::current_thread_ident;
    use crate::sync::prim::Arc;
    use loom::cell::UnsafeCell;
    use loom::thread;

    /// Two threads each enter twice and leave twice; the depth and owner are each one's own,
    /// the cell is only touched by the owner.
    #[test]
    fn loom_rlock_reentry_and_hand_off() {
        loom::model(|| {
            let r = Arc::new(RLock::new());
            let n = Arc::new(UnsafeCell::new(0u32));
            let hs: Vec<_> = (0..2)
                .map(|i| {
                    let (r, n) = (r.clone(), n.clone());
                    thread::spawn(move || {
                        let me = current_thread_ident();
                        if i == 0 || !r.try_acquire(me) {
                            assert!(r.acquire_until(me, None));
                        }
                        assert!(r.try_acquire(me)); // re-entry never blocks
                        assert_eq!(r.recursion_count(me), 2);
                        assert_eq!(r.owner(), me);
                        n.with_mut(|p| unsafe { *p += 1 });
                        assert_eq!(r.release(me), Ok(()));
                        assert!(r.is_owned_by(me));
                        assert_eq!(r.release(me), Ok(()));
                        assert!(!r.is_owned_by(me));
                        assert_eq!(r.release(me), Err(NotOwned));
                    })
                })
                .collect();
            hs.into_iter().for_each(|h| h.join().unwrap());
            assert_eq!(n.with(|p| unsafe { *p }), 2);
            assert!(!r.locked());
        });
    }

    /// A non-owner can neither release nor re-enter; `release_all` / `acquire_until_with_count`
    /// (Condition's save/restore) hand the lock to the waiting thread and back with the depth.
    #[test]
    fn loom_rlock_release_all_restore() {
        loom::model(|| {
            let r = Arc::new(RLock::new());
            let me = current_thread_ident();
            assert!(r.try_acquire(me));
            assert!(r.try_acquire(me));
            let r2 = r.clone();
            let other = thread::spawn(move || {
                let other = current_thread_ident();
                assert_eq!(r2.release(other), Err(NotOwned));
                assert_eq!(r2.recursion_count(other), 0);
                assert!(r2.acquire_until(other, None));
                assert_eq!(r2.recursion_count(other), 1);
                assert_eq!(r2.release(other), Ok(()));
            });
            assert_eq!(r.release_all(me), Ok(2));
            assert!(r.acquire_until_with_count(me, 2, None));
            assert_eq!(r.recursion_count(me), 2);
            assert_eq!(r.release_all(me), Ok(2));
            other.join().unwrap();
            assert!(!r.locked());
            assert_eq!(r.owner(), 0);
        });
    }
}
