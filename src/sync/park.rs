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
//!   Woken one at a time, first come first served, the same list is the one line in which
//!   threads and tasks wait their turn: a queue's getters and putters (`wait_in_line`), a
//!   Lock's or a Semaphore's waiters (`WatchList::wait_in_line`). Those objects have no other
//!   way to wait, so their waiters of both kinds are served in the order they came.
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
use std::collections::VecDeque;

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

/// What a callback waiter runs when first notified (see the module notes); it returns whether
/// the wake-up was delivered (false: its event loop is closed, nobody will act on it).
pub type Callback = Box<dyn Fn() -> bool + Send + Sync>;

// A waiter's state, under its own mutex.
const WAITING: u8 = 0;
const NOTIFIED: u8 = 1;
/// Left the line (`Waiter::leave`) before anyone woke it: a later wake-up goes to the next.
const GONE: u8 = 2;

/// One waiter's wake-up record: a thread's, or a callback's (see the module notes).
pub struct Waiter {
    state: Mutex<u8>,
    cv: Condvar,
    callback: Option<Callback>,
    /// A thread's: the fork generation it waits in (`fork::generation`); in a child, the
    /// record of a thread of the parent is a ghost that no wake-up is spent on.
    generation: u64,
}

impl Default for Waiter {
    fn default() -> Self {
        Waiter { state: Mutex::new(WAITING), cv: Condvar::new(), callback: None, generation: super::fork::generation() }
    }
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
    /// Returns whether this call woke it: false if it was notified already, if it has left
    /// (`leave`), if it is a ghost of a thread of the parent process, or if its callback could
    /// not deliver the wake-up; the caller then wakes the next waiter instead.
    pub fn notify(&self, locker: impl Locker) -> bool {
        let mut n = locker.lock(&self.state);
        if *n != WAITING || (self.callback.is_none() && self.generation != super::fork::generation()) {
            return false;
        }
        *n = NOTIFIED;
        match &self.callback {
            None => {
                self.cv.notify_one();
                true
            }
            Some(callback) => {
                drop(n);
                callback()
            }
        }
    }

    /// Whether notified (a look for a spin: never blocks, false while the flag is busy).
    #[inline]
    pub fn is_notified(&self) -> bool {
        self.state.try_lock().is_some_and(|n| *n == NOTIFIED)
    }

    /// Whether notified, waiting for the waiter's flag if it is busy (unlike `is_notified`).
    fn has_been_notified(&self) -> bool {
        *self.state.lock() == NOTIFIED
    }

    /// The waiter gives up (its deadline passed): returns true if it was notified before, and
    /// otherwise makes every later `notify` return false (a notifier that took it off the line
    /// just before it left then wakes the next waiter: nothing is lost in between).
    pub fn leave(&self) -> bool {
        let mut n = self.state.lock();
        if *n == NOTIFIED {
            return true;
        }
        *n = GONE;
        false
    }

    /// Sleeps until notified or `deadline` (None: no limit); returns whether notified. The
    /// notification stays: a one-shot waiter (a condition variable's) may look again. (The
    /// spin before is the caller's, with its object's budget.)
    pub fn wait_until(&self, deadline: Option<Instant>) -> bool {
        let mut n = self.state.lock();
        wait_until(&self.cv, &mut n, deadline, |n| *n == NOTIFIED)
    }

    /// Sleeps (the pool polls its queue with its own budget before parking) until notified or
    /// `deadline`, consuming the notification: for a waiter that is used again and again (a
    /// pool worker's, one per idle period).
    pub fn park(&self, deadline: Option<Instant>) -> bool {
        let mut n = self.state.lock();
        wait_until(&self.cv, &mut n, deadline, |n| std::mem::replace(n, WAITING) == NOTIFIED)
    }
}

/// A waiter's place in its object's line, kept over the calls of one wait: a wait on the main
/// thread is cut into slices (it wakes every 20 ms to run signal handlers) and must not go to
/// the back of the line at each. A slice that ends leaves the waiter registered (or holding the
/// wake-up it got meanwhile), and the next call waits on in the same place. When the wait ends
/// without being served (its real deadline, a signal handler's exception), the place must be
/// left (`leave_line`, `WatchList::leave`): unregistered, and a wake-up it got passed on to the
/// next in line. A place is one wait's own: never shared between threads or waits.
#[derive(Default)]
pub struct Place {
    /// Registered in the line, or taken off it by a notification it has not looked at yet.
    waiter: Option<Arc<Waiter>>,
    /// Its turn came to nothing (a caller that did not wait took what it was woken for): it
    /// waits again at the head of the line.
    front: bool,
}

impl Place {
    pub fn new() -> Self {
        Place::default()
    }

    /// Whether the place is still to be left (registered, or holding an unused wake-up).
    #[inline]
    pub fn is_held(&self) -> bool {
        self.waiter.is_some()
    }

    /// Registers a new waiter for this place (`register(w, front)` puts it in the line) and
    /// returns it.
    fn take_up(&mut self, register: impl FnOnce(&Arc<Waiter>, bool)) -> Arc<Waiter> {
        let w = Waiter::new();
        register(&w, self.front);
        self.waiter = Some(w.clone());
        w
    }

    /// Its turn came (a notifier took it off the line): the place is free, and a next wait
    /// of the same call goes to the head of the line.
    fn turn_came(&mut self) {
        self.waiter = None;
        self.front = true;
    }
}

impl std::fmt::Debug for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Place").field("held", &self.is_held()).field("front", &self.front).finish()
    }
}

/// A thread waits its turn in `line` (a list of waiters kept under `mutex`, the object's state)
/// until `ready` holds when its turn comes, or `deadline` passes: returns false then, unless
/// `ready` holds at that moment. Threads and asyncio tasks wait in the same line, served in the
/// order they came (`Watchers::notify_one`). A thread whose turn came but whose item (free slot)
/// a quicker caller took waits again at the head of the line, still detached. Call detached.
///
/// `place` is the waiter's place over the calls of one wait (see `Place`): a call that returns
/// false leaves it in line, to be waited on by the next call or left with `leave_line`; one
/// that returns true has left the line.
pub fn wait_in_line<S>(
    mutex: &Mutex<S>,
    line: impl Fn(&mut S) -> &mut Watchers,
    deadline: Option<Instant>,
    ready: impl Fn(&S) -> bool,
    place: &mut Place,
) -> bool {
    let mut s = mutex.lock();
    loop {
        let w = match &place.waiter {
            // In line since an earlier slice, or notified since then: waits on (or looks at
            // once) where it stood.
            Some(w) => w.clone(),
            None => {
                if ready(&s) {
                    return true;
                }
                place.take_up(|w, front| {
                    let line = line(&mut s);
                    if front {
                        line.register_first(w);
                    } else {
                        line.register(w);
                    }
                })
            }
        };
        drop(s);
        let woken = w.wait_until(deadline);
        s = mutex.lock();
        // (Notifications come under `mutex`: held, the waiter's state stays as read.)
        if woken || w.has_been_notified() {
            place.turn_came();
            if ready(&s) {
                return true;
            }
            continue;
        }
        // The deadline, or only a slice of the wait, ended: the waiter keeps its place. One
        // last look (a get at its deadline still takes an item that is there). It leaves the
        // line with nothing to pass on: it was not notified, and notifications come under
        // `mutex`, held since that look.
        if ready(&s) {
            let pass_on = leave_line(&mut *s, &line, &ready, place);
            debug_assert!(!pass_on, "a waiter not notified under the mutex got a wake-up");
            return true;
        }
        return false;
    }
}

/// The waiter of `place` leaves `line` (its wait ended without its turn being used; call with
/// the object's state held): unregistered. Returns whether a wake-up it got meanwhile must go
/// on to the next in line (`ready` still holds: what it was woken for is still there); the
/// caller then wakes the next, its own way (a SimpleQueue marks who runs a task's waker).
/// Nothing if the place is not held.
#[must_use]
pub fn leave_line<S>(
    s: &mut S,
    line: impl Fn(&mut S) -> &mut Watchers,
    ready: impl Fn(&S) -> bool,
    place: &mut Place,
) -> bool {
    match place.waiter.take() {
        Some(w) => {
            line(s).unregister(&w);
            w.leave() && ready(s)
        }
        None => false,
    }
}

/// The watchers registered on one object (see the module notes), kept under the object's own
/// mutex (a queue's state), in the order they came. `notify` wakes them all and they stay
/// registered until they remove themselves (a select is woken by each put until it takes an
/// item somewhere); `notify_one` wakes the first that takes the wake-up and removes it (a
/// queue's waiting tasks: one per item, first come first served). A task woken that way that
/// leaves without what it was woken for (cancelled, timed out) passes the wake-up on.
#[derive(Default)]
pub struct Watchers(VecDeque<Arc<Waiter>>);

impl std::fmt::Debug for Watchers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Watchers({})", self.0.len())
    }
}

impl Watchers {
    super::prim::const_fn! {
        pub fn new() -> Self {
            Watchers(VecDeque::new())
        }
    }

    pub fn register(&mut self, w: &Arc<Waiter>) {
        self.0.push_back(w.clone());
    }

    /// Registers `w` at the head of the line (a waiter whose turn came to nothing).
    pub fn register_first(&mut self, w: &Arc<Waiter>) {
        self.0.push_front(w.clone());
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

    /// Wakes the first watcher that takes the wake-up (see `Waiter::notify`), removing it and
    /// those before it that did not; false if none did.
    #[inline]
    pub fn notify_one(&mut self) -> bool {
        while let Some(w) = self.0.pop_front() {
            if w.notify(Blocking) {
                return true;
            }
        }
        false
    }

    /// Wakes every waiter in line and empties it (a shutdown, a barrier's release: everyone's
    /// turn at once).
    pub fn wake_all(&mut self) {
        for w in std::mem::take(&mut self.0) {
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

    /// Registers `w` at the back of the line; the caller then looks at the state once more
    /// before waiting.
    pub fn register(&self, w: &Arc<Waiter>) {
        self.register_at(w, false);
    }

    /// Registers `w` at the head of the line (a waiter whose turn came to nothing).
    pub fn register_first(&self, w: &Arc<Waiter>) {
        self.register_at(w, true);
    }

    fn register_at(&self, w: &Arc<Waiter>, front: bool) {
        let mut l = self.list.lock();
        if front {
            l.register_first(w);
        } else {
            l.register(w);
        }
        self.count.store(l.len(), SeqCst);
        drop(l);
        super::prim::loom_seq_cst_fence();
    }

    pub fn unregister(&self, w: &Arc<Waiter>) {
        let mut l = self.list.lock();
        l.unregister(w);
        self.count.store(l.len(), SeqCst);
    }

    /// How many wait in line (threads and tasks; a moment's count, for tests and reports).
    pub fn len(&self) -> usize {
        self.count.load(SeqCst)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A thread waits its turn in this line (with the asyncio tasks waiting here) until
    /// `attempt` (a try for what the object holds: a Lock, a unit) succeeds, or `deadline`
    /// passes: returns whether it succeeded. Woken, it tries; beaten by a caller that did not
    /// wait in line, it first spins (`spin(deadline)`: the object's own poll for it, true once
    /// it has it) and then waits again at the front (it was the first in line). Call detached,
    /// after the object's own spin.
    ///
    /// `place` is the waiter's place over the calls of one wait (see `Place`): a call that
    /// fails leaves it in line, to be waited on by the next call or left with `leave`; one
    /// that succeeds has left the line.
    pub fn wait_in_line(
        &self,
        deadline: Option<Instant>,
        mut attempt: impl FnMut() -> bool,
        mut spin: impl FnMut(Option<Instant>) -> bool,
        place: &mut Place,
    ) -> bool {
        loop {
            let w = match &place.waiter {
                // In line since an earlier slice, or notified since then.
                Some(w) => w.clone(),
                None => {
                    let w = place.take_up(|w, front| self.register_at(w, front));
                    // The look after registering (see the type's notes on lost wake-ups).
                    if attempt() {
                        // A release may have woken this waiter between its registering and its
                        // look, which took a unit (that one, or an earlier one, and the wake-up
                        // is then for another): `leave` passes the wake-up on, so none is lost.
                        // (At worst the next finds nothing and waits again at the front.)
                        self.leave(place);
                        return true;
                    }
                    w
                }
            };
            if !w.wait_until(deadline) {
                // The deadline, or only a slice of the wait, ended: the waiter keeps its place
                // (a wake-up that comes now is looked at by the next call, or passed on by
                // `leave`). One last try (a try at the deadline, as the stdlib's).
                if attempt() {
                    self.leave(place);
                    return true;
                }
                return false;
            }
            // Its turn: the releaser took it off the line.
            place.turn_came();
            if attempt() || spin(deadline) {
                return true;
            }
        }
    }

    /// The waiter of `place` leaves this line (its wait ended, served or not): unregistered,
    /// and a wake-up it got meanwhile goes to the next in line (a release that took it off the
    /// line just before it left then wakes another: nothing is lost; at worst the next finds
    /// nothing and waits again). Nothing if the place is not held.
    pub fn leave(&self, place: &mut Place) {
        if let Some(w) = place.waiter.take() {
            self.unregister(&w);
            if w.leave() {
                self.wake(1);
            }
        }
    }

    /// For a fork child (only the forking thread exists): lets go of the list's mutex if a
    /// thread of the parent held it at the fork. The waiters stay: a task of the forking
    /// thread's event loop still waits here; a ghost of a parent's thread is skipped by the
    /// wake-ups (`Waiter::notify`).
    pub fn reinit(&self) {
        if self.list.is_locked() {
            // SAFETY: fork child only: the thread that held it does not exist here, and no
            // guard of it can be used in this process again.
            unsafe { self.list.force_unlock() };
        }
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

    /// Wakes the first `n` watchers that take the wake-up (one release, one waiter: a Lock's
    /// or a Semaphore's), in the order they registered.
    #[inline]
    pub fn wake(&self, n: u64) {
        super::prim::loom_seq_cst_fence();
        if self.count.load(SeqCst) != 0 {
            self.wake_slow(n);
        }
    }

    #[cold]
    fn wake_slow(&self, mut n: u64) {
        while n > 0 {
            let mut l = self.list.lock();
            let first = l.0.pop_front();
            self.count.store(l.len(), SeqCst);
            drop(l);
            match first {
                Some(w) => {
                    if w.notify(Blocking) {
                        n -= 1;
                    }
                }
                None => return,
            }
        }
    }
}

/// For the models: an asyncio task's stand-in, a callback waiter that counts its calls.
#[cfg(loom)]
pub fn counting_waiter(calls: &Arc<AtomicUsize>) -> Arc<Waiter> {
    let calls = calls.clone();
    Waiter::with_callback(Box::new(move || {
        calls.fetch_add(1, SeqCst);
        true
    }))
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
            let w = crate::sync::park::counting_waiter(&calls);
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
            let w = crate::sync::park::counting_waiter(&calls);
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
    /// One wake-up for two task waiters in line (`Watchers::notify_one`), racing the first
    /// one's cancellation (it unregisters and, if it was woken, passes the wake-up on): the
    /// wake-up ends with exactly one waiter that stays, never lost, never doubled.
    #[test]
    fn loom_notify_one_racing_a_cancellation() {
        use crate::sync::prim::atomic::{AtomicUsize, Ordering::SeqCst};
        loom::model(|| {
            let woken = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
            let waiter = |i: usize| {
                let woken = woken.clone();
                Waiter::with_callback(Box::new(move || {
                    woken[i].fetch_add(1, SeqCst);
                    true
                }))
            };
            let (first, second) = (waiter(0), waiter(1));
            let list = Arc::new(Mutex::new(Watchers::new()));
            list.lock().register(&first);
            list.lock().register(&second);
            let l2 = list.clone();
            let notifier = thread::spawn(move || {
                l2.lock().notify_one();
            });
            // The first waiter is cancelled: it leaves, passing on a wake-up it was given.
            let mut l = list.lock();
            l.unregister(&first);
            if first.is_notified() {
                l.notify_one();
            }
            drop(l);
            notifier.join().unwrap();
            let mut l = list.lock();
            l.unregister(&second);
            drop(l);
            let (a, b) = (woken[0].load(SeqCst), woken[1].load(SeqCst));
            assert!(a <= 1 && b <= 1);
            assert_eq!(b, 1, "the waiter that stays was woken");
        });
    }

    /// A waiter whose callback cannot deliver (its loop is closed) lets the wake-up go on to
    /// the next one.
    #[test]
    fn loom_undelivered_wakeup_goes_on() {
        use crate::sync::prim::atomic::{AtomicBool, Ordering::SeqCst};
        loom::model(|| {
            let got = Arc::new(AtomicBool::new(false));
            let g2 = got.clone();
            let dead = Waiter::with_callback(Box::new(|| false));
            let live = Waiter::with_callback(Box::new(move || {
                g2.store(true, SeqCst);
                true
            }));
            let mut l = Watchers::new();
            l.register(&dead);
            l.register(&live);
            assert!(l.notify_one());
            assert!(got.load(SeqCst) && l.is_empty());
        });
    }
}
