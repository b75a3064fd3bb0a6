//! The waiting core's two building blocks, used by every primitive, queue and the pool:
//!
//! - `wait_until`: THE deadline loop. A thread holding a state mutex waits on a condition
//!   variable until its predicate holds or its deadline passes; the predicate is checked before
//!   every wait and once more after a timeout, so a notification racing the deadline is never
//!   lost. (Every wait of the core used to write this loop out: nine copies.)
//! - `Waiter`: one waiting thread's own wake-up record, for waits that queue their waiters
//!   themselves and wake a chosen one (a condition variable's FIFO, the pool's idle workers).
//!   A waiter is notified at most once per wait; `notify` may come before the wait starts.
//!
//! Spinning before parking is the caller's, with the object's own budget of the one policy in
//! `spin` (`AdaptiveSpin`).
//!
//! Notes for what comes next (not built yet): an asyncio task waiting is a `Waiter` whose wake-up
//! is a callback into its event loop instead of a condition variable, and a thread waiting on
//! several queues at once puts one shared `Waiter` in each, the first queue to notify winning
//! (the `notified` flag becomes the "selected" token that the others then fail to set, as
//! crossbeam's `Context::try_select`). Both change what `notify` does once it has set the flag,
//! not the queues that hold waiters.

use super::prim::{Arc, Condvar, Instant, Mutex, MutexGuard};
use super::Locker;

/// Waits on `cv` (its mutex held through `guard`) until `ready(state)` or `deadline` passes
/// (None: no limit). Returns the last answer of `ready`, which is checked before each wait and
/// once more after a timeout. `ready` may act on the state (take what it waited for).
pub fn wait_until<T>(
    cv: &Condvar,
    guard: &mut MutexGuard<'_, T>,
    deadline: Option<Instant>,
    mut ready: impl FnMut(&mut T) -> bool,
) -> bool {
    loop {
        if ready(guard) {
            return true;
        }
        match deadline {
            None => cv.wait(guard),
            Some(d) => {
                if cv.wait_until(guard, d).timed_out() {
                    return ready(guard);
                }
            }
        }
    }
}

/// One waiting thread's wake-up record (see the module notes).
#[derive(Default)]
pub struct Waiter {
    notified: Mutex<bool>,
    cv: Condvar,
}

impl Waiter {
    pub fn new() -> Arc<Waiter> {
        Arc::new(Waiter::default())
    }

    /// Marks the waiter notified and wakes it if it sleeps.
    pub fn notify(&self, locker: impl Locker) {
        let mut n = locker.lock(&self.notified);
        *n = true;
        self.cv.notify_one();
    }

    /// Whether notified (a look for a spin: never blocks, false while the flag is busy).
    #[inline]
    pub fn is_notified(&self) -> bool {
        self.notified.try_lock().is_some_and(|n| *n)
    }

    /// Sleeps until notified or `deadline` (None: no limit); returns whether notified. The
    /// notification stays: a one-shot waiter (a condition variable's) may look again. (The
    /// spin before is the queue's that holds the waiter: see `condition::WaitQueue::wait`.)
    pub fn wait_until(&self, deadline: Option<Instant>) -> bool {
        let mut n = self.notified.lock();
        wait_until(&self.cv, &mut n, deadline, |n| *n)
    }

    /// Sleeps (the pool polls its queue with its own budget before parking) until notified or `deadline`, consuming the notification: for a waiter that is used
    /// again and again (a pool worker's, one per idle period).
    pub fn park(&self, deadline: Option<Instant>) -> bool {
        let mut n = self.notified.lock();
        wait_until(&self.cv, &mut n, deadline, |n| std::mem::replace(n, false))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::Blocking;
    use std::time::Duration;

    #[test]
    fn notify_before_or_during_the_wait() {
        let w = Waiter::new();
        assert!(!w.wait_until(Some(Instant::now())));
        w.notify(Blocking);
        assert!(w.is_notified());
        assert!(w.wait_until(None));
        assert!(w.wait_until(None)); // one-shot: stays notified
        assert!(w.park(None));
        assert!(!w.park(Some(Instant::now()))); // consumed
        let w2 = w.clone();
        let t = std::thread::spawn(move || w2.park(Some(Instant::now() + Duration::from_secs(10))));
        std::thread::sleep(Duration::from_millis(10));
        w.notify(Blocking);
        assert!(t.join().unwrap());
    }

    #[test]
    fn deadline_loop_checks_after_the_timeout() {
        let m = Mutex::new(0);
        let cv = Condvar::new();
        let mut g = m.lock();
        let mut calls = 0;
        let t0 = Instant::now();
        assert!(!wait_until(&cv, &mut g, Some(t0 + Duration::from_millis(10)), |_| {
            calls += 1;
            false
        }));
        assert!(t0.elapsed() >= Duration::from_millis(10));
        assert!(calls >= 2, "checked before waiting and after the timeout");
        *g = 1;
        assert!(wait_until(&cv, &mut g, None, |v| *v == 1));
    }
}

/// Model checks of the waiting core's waiter (`make loom`): a notification racing the wait,
/// one racing a timeout, and a reused waiter.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::Blocking;
    use loom::thread;

    /// A notification before, during or after the wait starts is never lost.
    #[test]
    fn loom_waiter_no_lost_wakeup() {
        loom::model(|| {
            let w = Waiter::new();
            let w2 = w.clone();
            let t = thread::spawn(move || w2.notify(Blocking));
            assert!(w.wait_until(None));
            t.join().unwrap();
        });
    }

    /// A wait that times out (its deadline passed) while a notification races it: either the
    /// timed wait saw the notification, or the next wait does; never both lost, never twice
    /// consumed.
    #[test]
    fn loom_waiter_timeout_racing_notify() {
        loom::model(|| {
            let w = Waiter::new();
            let w2 = w.clone();
            let t = thread::spawn(move || w2.notify(Blocking));
            let first = w.park(Some(Instant::now()));
            t.join().unwrap();
            let second = w.park(Some(Instant::now()));
            assert!(first ^ second, "the one notification is taken exactly once");
        });
    }

    /// The deadline loop over a shared state: a waiter for `ready` and a setter that notifies.
    #[test]
    fn loom_deadline_loop_no_lost_wakeup() {
        loom::model(|| {
            let shared = Arc::new((Mutex::new(false), Condvar::new()));
            let s2 = shared.clone();
            let t = thread::spawn(move || {
                *s2.0.lock() = true;
                s2.1.notify_all();
            });
            let mut g = shared.0.lock();
            assert!(wait_until(&shared.1, &mut g, None, |r| *r));
            drop(g);
            t.join().unwrap();
        });
    }
}
