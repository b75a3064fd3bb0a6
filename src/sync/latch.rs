//! A count that threads wait to see reach zero: `rthreading.CountDownLatch`'s state.
//!
//! The count is one atomic word; `count_down` is a compare-and-swap that stops at zero. Waiting
//! follows `Event`'s pattern: a waiter registers (`waiters += 1`) under the mutex and then reads
//! the count; the `count_down` that reaches zero then reads `waiters` and notifies under the
//! mutex if it is non-zero (all `SeqCst`), so one of the two always sees the other. Once zero,
//! the count stays zero: every wait that begins later returns at once.

use super::prim::atomic::{
    AtomicU64, AtomicUsize,
    Ordering::{Relaxed, SeqCst},
};
use super::prim::{loom_seq_cst_fence, Condvar, Instant, Mutex};
use super::spin::AdaptiveSpin;
use super::Locker;

pub struct CountDownLatch {
    count: AtomicU64,
    waiters: AtomicUsize,
    mutex: Mutex<()>,
    cond: Condvar,
    /// The spin budget of this object's waits (see `spin`).
    spin: AdaptiveSpin,
}

impl CountDownLatch {
    pub fn new(count: u64) -> Self {
        CountDownLatch {
            count: AtomicU64::new(count),
            waiters: AtomicUsize::new(0),
            mutex: Mutex::new(()),
            cond: Condvar::new(),
            spin: AdaptiveSpin::default(),
        }
    }

    #[inline]
    pub fn count(&self) -> u64 {
        self.count.load(SeqCst)
    }

    /// Decrements the count unless it is zero; the decrement to zero wakes every waiter.
    pub fn count_down(&self, locker: impl Locker) {
        let mut c = self.count.load(Relaxed);
        loop {
            if c == 0 {
                return;
            }
            match self.count.compare_exchange_weak(c, c - 1, SeqCst, Relaxed) {
                Ok(_) => break,
                Err(now) => c = now,
            }
        }
        if c != 1 {
            return;
        }
        loom_seq_cst_fence();
        if self.waiters.load(SeqCst) > 0 {
            let _g = locker.lock(&self.mutex);
            self.cond.notify_all();
        }
    }

    /// Blocks until the count is zero or `deadline` passes (None: no limit); returns whether the
    /// count is zero.
    pub fn wait_until(&self, deadline: Option<Instant>) -> bool {
        if self.count() == 0 {
            return true;
        }
        let start = Instant::now();
        if self.spin.spin_until(deadline, || self.count() == 0) {
            return true;
        }
        let mut guard = self.mutex.lock();
        self.waiters.fetch_add(1, SeqCst);
        loom_seq_cst_fence();
        let got = super::park::wait_until(&self.cond, &mut guard, deadline, |_| self.count() == 0);
        self.waiters.fetch_sub(1, SeqCst);
        drop(guard);
        if got {
            self.spin.blocked(start.elapsed());
        }
        got
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::Blocking;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn counts_down_to_zero_and_stays() {
        let l = CountDownLatch::new(2);
        assert!(!l.wait_until(Some(Instant::now())));
        l.count_down(Blocking);
        assert_eq!(l.count(), 1);
        let t0 = Instant::now();
        assert!(!l.wait_until(Some(t0 + Duration::from_millis(20))));
        assert!(t0.elapsed() >= Duration::from_millis(20));
        l.count_down(Blocking);
        l.count_down(Blocking);
        assert_eq!(l.count(), 0);
        assert!(l.wait_until(None));
        assert!(CountDownLatch::new(0).wait_until(Some(Instant::now())));
    }

    #[test]
    fn releases_every_waiter() {
        let l = Arc::new(CountDownLatch::new(3));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || l.wait_until(None))
            })
            .collect();
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(5));
            l.count_down(Blocking);
        }
        assert!(hs.into_iter().all(|h| h.join().unwrap()));
    }
}

/// Model checks (`make loom`).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::prim::Arc;
    use crate::sync::Blocking;
    use loom::thread;

    /// Two threads count down a latch of 2 while a third waits: the waiter is always released
    /// (no lost wake-up), and extra count-downs stop at zero.
    #[test]
    fn loom_latch_no_lost_wakeup() {
        loom::model(|| {
            let l = Arc::new(CountDownLatch::new(2));
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let l = l.clone();
                    thread::spawn(move || l.count_down(Blocking))
                })
                .collect();
            assert!(l.wait_until(None));
            hs.into_iter().for_each(|h| h.join().unwrap());
            l.count_down(Blocking);
            assert_eq!(l.count(), 0);
        });
    }
}
