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
//! - `Watchers` / `WatchList`: the waiters of an object that are woken all at once by whatever
//!   may let them proceed (a put, a release, a set), each then trying again for itself. Used by
//!   `select` (one thread waiting on several queues) and by asyncio tasks (`rthreading._aio`).
//!
//! Spinning before parking is the caller's, with the object's own budget of the one policy in
//! `spin` (`AdaptiveSpin`).
//!
//! A waiter is either a thread, which sleeps on the waiter's condition variable, or a callback
//! (`Waiter::with_callback`), which the first notification calls instead: an asyncio task's
//! waiter, whose callback schedules the task's wake-up on its event loop. A watcher never
//! receives what it waited for: woken, it tries to take it like any caller (under the object's
//! own synchronisation), so an item or a permit goes to exactly one taker whatever the race, and
//! a watcher that gives up (a select that found an item elsewhere, a cancelled task) swallows
//! nothing: every watcher of the object was woken, not one chosen in its place. The waiter's flag
//! is the "selected" token of crossbeam's `Context::try_select` in the simple form this needs:
//! the first notification wins, later ones find it set (and a callback runs once).

use super::prim::atomic::{AtomicUsize, Ordering::SeqCst};
use super::prim::{Arc, Condvar, Instant, Mutex, MutexGuard};
use super::{Blocking, Locker};

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

/// What a callback waiter runs when first notified (see the module notes).
pub type Callback = Box<dyn Fn() + Send + Sync>;

/// One waiter's wake-up record: a thread's, or a callback's (see the module notes).
#[derive(Default)]
pub struct Waiter {
    notified: Mutex<bool>,
    cv: Condvar,
    callback: Option<Callback>,
}

impl Waiter {
    pub fn new() -> Arc<Waiter> {
        Arc::new(Waiter::default())
    }

    /// A waiter that is not a sleeping thread: its first notification calls `callback` (on the
    /// notifying thread, after the waiter's own mutex is released), later ones do nothing.
    pub fn with_callback(callback: Callback) -> Arc<Waiter> {
        Arc::new(Waiter { callback: Some(callback), ..Waiter::default() })
    }

    /// Marks the waiter notified and wakes it: a sleeping thread, or the callback once.
    pub fn notify(&self, locker: impl Locker) {
        let mut n = locker.lock(&self.notified);
        let first = !*n;
        *n = true;
        match &self.callback {
            None => {
                self.cv.notify_one();
            }
            Some(callback) => {
                drop(n);
                if first {
                    callback();
                }
            }
        }
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

/// The watchers registered on one object (see the module notes), kept under the object's own
/// mutex (a queue's state) and all woken by `notify`. A watcher stays registered until it
/// removes itself: a select is woken by each put until it takes an item somewhere.
#[derive(Default)]
pub struct Watchers(Vec<Arc<Waiter>>);

impl std::fmt::Debug for Watchers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Watchers({})", self.0.len())
    }
}

impl Watchers {
    super::prim::const_fn! {
        pub fn new() -> Self {
            Watchers(Vec::new())
        }
    }

    pub fn register(&mut self, w: &Arc<Waiter>) {
        self.0.push(w.clone());
    }

    /// Removes every registration of `w` (a queue passed twice to one select has two).
    pub fn unregister(&mut self, w: &Arc<Waiter>) {
        self.0.retain(|x| !Arc::ptr_eq(x, w));
    }

    /// Wakes every registered watcher. The waiters' mutexes guard one flag each and are held
    /// for a few instructions (never while waiting, nor while a callback runs), like the bucket
    /// lock inside a condition variable's notify, so taking them here blocks nobody for long.
    #[inline]
    pub fn notify(&self) {
        for w in &self.0 {
            w.notify(Blocking);
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The watchers of a primitive whose state is atomic (a Lock, a Semaphore, an Event): kept under
/// their own mutex, counted in an atomic so that the primitive's release path pays one load
/// when nobody watches. A wake-up takes every watcher off the list (a watcher that must wait
/// again registers again) and notifies them after the list's mutex is released, so a callback
/// never runs under it.
///
/// No lost wake-up, by the store/load pairing of the primitives' own waits: a watcher
/// registers (the count, `SeqCst`) and then looks at the primitive's state; the releaser changes
/// the state and then reads the count (`SeqCst`). Either the watcher sees the new state, or the
/// releaser sees the watcher.
#[derive(Default)]
pub struct WatchList {
    count: AtomicUsize,
    list: Mutex<Watchers>,
}

impl WatchList {
    super::prim::const_fn! {
        pub fn new() -> Self {
            WatchList { count: AtomicUsize::new(0), list: Mutex::new(Watchers::new()) }
        }
    }

    /// Registers `w`; the caller then looks at the state once more before waiting.
    pub fn register(&self, w: &Arc<Waiter>) {
        let mut l = self.list.lock();
        l.register(w);
        self.count.store(l.len(), SeqCst);
        drop(l);
        super::prim::loom_seq_cst_fence();
    }

    pub fn unregister(&self, w: &Arc<Waiter>) {
        let mut l = self.list.lock();
        l.unregister(w);
        self.count.store(l.len(), SeqCst);
    }

    /// Wakes every watcher, if there is any (one load when there is none).
    #[inline]
    pub fn wake_all(&self) {
        super::prim::loom_seq_cst_fence();
        if self.count.load(SeqCst) != 0 {
            self.wake_all_slow();
        }
    }

    #[cold]
    fn wake_all_slow(&self) {
        let mut l = self.list.lock();
        let woken = std::mem::take(&mut *l);
        self.count.store(0, SeqCst);
        drop(l);
        woken.notify();
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
    /// A watcher registers and then looks at the state; a notifier changes the state and then
    /// wakes the watchers (`WatchList`): either the watcher saw the change, or its callback
    /// ran, exactly once.
    #[test]
    fn loom_watch_list_no_lost_wakeup() {
        use crate::sync::prim::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
        loom::model(|| {
            let list = Arc::new(WatchList::new());
            let ready = Arc::new(AtomicBool::new(false));
            let calls = Arc::new(AtomicUsize::new(0));
            let (l2, r2) = (list.clone(), ready.clone());
            let t = thread::spawn(move || {
                r2.store(true, SeqCst);
                l2.wake_all();
            });
            let c2 = calls.clone();
            let w = Waiter::with_callback(Box::new(move || {
                c2.fetch_add(1, SeqCst);
            }));
            list.register(&w);
            let saw = ready.load(SeqCst);
            t.join().unwrap();
            assert!(saw || calls.load(SeqCst) == 1, "a wake-up was lost");
            assert!(calls.load(SeqCst) <= 1);
        });
    }

    /// Two notifications of one callback waiter (two queues a select watches, a put racing a
    /// shutdown) call it once; a watcher leaving (a cancelled task) as it is woken is fine.
    #[test]
    fn loom_callback_runs_once() {
        use crate::sync::prim::atomic::{AtomicUsize, Ordering::SeqCst};
        loom::model(|| {
            let calls = Arc::new(AtomicUsize::new(0));
            let c2 = calls.clone();
            let w = Waiter::with_callback(Box::new(move || {
                c2.fetch_add(1, SeqCst);
            }));
            let list = Arc::new(WatchList::new());
            list.register(&w);
            let (w2, l2) = (w.clone(), list.clone());
            let t = thread::spawn(move || {
                w2.notify(Blocking);
                l2.wake_all();
            });
            w.notify(Blocking);
            list.unregister(&w);
            t.join().unwrap();
            assert_eq!(calls.load(SeqCst), 1);
        });
    }
}
