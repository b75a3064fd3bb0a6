//! The waiter queue behind a condition variable whose lock lives elsewhere (in Python, any
//! lock): as the stdlib's `threading.Condition`, each wait enqueues its own one-shot waiter,
//! releases the user's lock, and sleeps on the waiter; `notify(n)` wakes the n oldest waiters.
//! The queue is guarded by its own short mutex, so it is correct whatever the user's lock is.

use super::park::Waiter;
use super::prim::atomic::{AtomicUsize, Ordering};
use super::prim::{Arc, Instant, Mutex};
use super::spin::AdaptiveSpin;
use super::Locker;
use std::collections::VecDeque;

#[derive(Default)]
pub struct WaitQueue {
    waiters: Mutex<VecDeque<Arc<Waiter>>>,
    /// Mirrors `waiters.len()`, so that a notify with nobody waiting takes no mutex.
    len: AtomicUsize,
    /// The spin budget of this condition's waits (see `spin`).
    spin: AdaptiveSpin,
}

impl WaitQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a new waiter at the back; call before releasing the user's lock.
    pub fn enqueue(&self, locker: impl Locker) -> Arc<Waiter> {
        let w = Waiter::new();
        let mut q = locker.lock(&self.waiters);
        q.push_back(w.clone());
        self.len.store(q.len(), Ordering::Release);
        w
    }

    /// Waits (detached) for `w`, a waiter of this queue, to be notified, until `deadline`;
    /// spins first with this condition's budget. Returns whether notified.
    pub fn wait(&self, w: &Waiter, deadline: Option<Instant>) -> bool {
        let start = Instant::now();
        if self.spin.spin_until(deadline, || w.is_notified()) {
            return true;
        }
        let got = w.wait_until(deadline);
        if got {
            self.spin.blocked(start.elapsed());
        }
        got
    }

    /// Removes `w` if still queued; false means it was notified meanwhile.
    pub fn remove(&self, w: &Arc<Waiter>, locker: impl Locker) -> bool {
        let mut q = locker.lock(&self.waiters);
        let Some(i) = q.iter().position(|x| Arc::ptr_eq(x, w)) else {
            return false;
        };
        q.remove(i);
        self.len.store(q.len(), Ordering::Release);
        true
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Wakes up to `n` of the oldest waiters; returns how many were woken.
    pub fn notify(&self, n: usize, locker: impl Locker) -> usize {
        if n == 0 || self.is_empty() {
            return 0;
        }
        let woken: Vec<Arc<Waiter>> = {
            let mut q = locker.lock(&self.waiters);
            let k = n.min(q.len());
            let woken = q.drain(..k).collect();
            self.len.store(q.len(), Ordering::Release);
            woken
        };
        woken.iter().for_each(|w| {
            w.notify(locker);
        });
        woken.len()
    }

    /// Forgets every waiter: after fork, in the child only.
    pub fn reinit(&self) {
        self.waiters.lock().clear();
        self.len.store(0, Ordering::Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::Blocking;
    use std::time::Duration;

    #[test]
    fn notify_wakes_oldest_first() {
        let q = WaitQueue::new();
        let a = q.enqueue(Blocking);
        let b = q.enqueue(Blocking);
        assert_eq!(q.notify(1, Blocking), 1);
        assert!(a.wait_until(Some(Instant::now())));
        assert!(!b.wait_until(Some(Instant::now())));
        assert_eq!(q.len(), 1);
        assert!(q.remove(&b, Blocking));
        assert!(!q.remove(&a, Blocking));
        assert_eq!(q.notify(5, Blocking), 0);
    }

    #[test]
    fn timed_wait_times_out() {
        let q = WaitQueue::new();
        let w = q.enqueue(Blocking);
        let t0 = Instant::now();
        assert!(!w.wait_until(Some(t0 + Duration::from_millis(20))));
        assert!(t0.elapsed() >= Duration::from_millis(20));
        assert!(q.remove(&w, Blocking));
    }

    #[test]
    fn notify_from_another_thread() {
        let q = Arc::new(WaitQueue::new());
        let ws: Vec<_> = (0..4).map(|_| q.enqueue(Blocking)).collect();
        let q2 = q.clone();
        let t = std::thread::spawn(move || q2.notify(usize::MAX, Blocking));
        for w in &ws {
            assert!(w.wait_until(None));
        }
        assert_eq!(t.join().unwrap(), 4);
        assert!(q.is_empty());
    }
}

/// Model checks (`make loom`): the queue driven as Python's Condition drives it, with a `Lock`
/// as the user's lock (enqueue holding it, release it, wait, take it back).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::lock::Lock;
    use crate::sync::Blocking;
    use loom::cell::UnsafeCell;
    use loom::thread;

    struct Cond {
        lock: Lock,
        queue: WaitQueue,
        /// The predicate, guarded by `lock`.
        ready: UnsafeCell<u32>,
    }

    impl Cond {
        /// `with cond: cond.wait_for(lambda: ready >= want)`.
        fn wait_for(&self, want: u32) {
            assert!(self.lock.acquire_until(None));
            while self.ready.with(|p| unsafe { *p }) < want {
                let w = self.queue.enqueue(Blocking);
                assert!(self.lock.release());
                assert!(w.wait_until(None));
                assert!(self.lock.acquire_until(None));
            }
            assert!(self.lock.release());
        }

        /// `with cond: ready += 1; cond.notify(n)`; returns how many were woken.
        fn bump_notify(&self, n: usize) -> usize {
            assert!(self.lock.acquire_until(None));
            self.ready.with_mut(|p| unsafe { *p += 1 });
            let woken = self.queue.notify(n, Blocking);
            assert!(self.lock.release());
            woken
        }
    }

    fn cond() -> Arc<Cond> {
        Arc::new(Cond { lock: Lock::new(), queue: WaitQueue::new(), ready: UnsafeCell::new(0) })
    }

    /// A waiter and a notifier racing: the waiter always returns (no lost wake-up).
    #[test]
    fn loom_condition_no_lost_wakeup() {
        loom::model(|| {
            let c = cond();
            let c2 = c.clone();
            let waiter = thread::spawn(move || c2.wait_for(1));
            let woken = c.bump_notify(1);
            waiter.join().unwrap();
            assert!(woken <= 1);
            assert!(c.queue.is_empty());
        });
    }

    /// Two waiters: `notify(1)` twice wakes each once; `notify_all` with both registered.
    #[test]
    fn loom_condition_notify_counts() {
        loom::model(|| {
            let c = cond();
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let c = c.clone();
                    thread::spawn(move || c.wait_for(2))
                })
                .collect();
            let a = c.bump_notify(1);
            let b = c.bump_notify(usize::MAX);
            hs.into_iter().for_each(|h| h.join().unwrap());
            assert!(a <= 1 && b <= 2);
            assert!(c.queue.is_empty());
        });
    }

    /// Registered waiters are woken oldest first, exactly `n` of them.
    #[test]
    fn loom_condition_notify_n_oldest() {
        loom::model(|| {
            let q = Arc::new(WaitQueue::new());
            let ws: Vec<_> = (0..2).map(|_| q.enqueue(Blocking)).collect();
            let hs: Vec<_> = ws
                .iter()
                .map(|w| {
                    let w = w.clone();
                    thread::spawn(move || assert!(w.wait_until(None)))
                })
                .collect();
            assert_eq!(q.notify(1, Blocking), 1);
            assert_eq!(q.len(), 1);
            // the oldest was woken; the youngest is still queued (a timeout now would remove it)
            assert!(!q.remove(&ws[0], Blocking));
            assert_eq!(q.notify(usize::MAX, Blocking), 1);
            assert!(q.is_empty());
            hs.into_iter().for_each(|h| h.join().unwrap());
        });
    }

    /// A waiter whose wait timed out removes itself while a notifier runs: either it was still
    /// queued (removed, the notify woke nobody) or it was notified (the wake-up is there to take).
    #[test]
    fn loom_condition_timeout_races_notify() {
        loom::model(|| {
            let q = Arc::new(WaitQueue::new());
            let w = q.enqueue(Blocking);
            assert!(!w.wait_until(Some(Instant::now())));
            let q2 = q.clone();
            let notifier = thread::spawn(move || q2.notify(1, Blocking));
            let removed = q.remove(&w, Blocking);
            if !removed {
                assert!(w.wait_until(None));
            }
            let woken = notifier.join().unwrap();
            assert_eq!(woken, usize::from(!removed));
            assert!(q.is_empty());
        });
    }
}
