//! A future's state machine, as `concurrent.futures.Future` keeps it: PENDING -> RUNNING ->
//! FINISHED, or PENDING -> CANCELLED -> CANCELLED_AND_NOTIFIED (once an executor has seen the
//! cancellation). Generic over the outcome `T` and the done-callback `C`, so that the Python
//! layer stores its objects here without this file knowing Python.
//!
//! The state is one atomic byte, so `done()`, `running()` and a `result()` on a finished future
//! read it without a lock. The mutex guards the outcome, the callbacks, the count of parked
//! waiters and the "observed" flag; every transition to a done state takes it, and wakes parked
//! waiters only when there are some.
//!
//! Observers: the stdlib's `wait()`/`as_completed()` read a future's state and register a
//! waiter under the future's Python condition, and expect the transitions that finish a future
//! to happen under that condition too. Such a condition exists only once something asked for
//! it; `observe()` records that (under the mutex). From then on a finishing transition refuses
//! to proceed unless its caller says it holds the observer's lock (`NeedObserver`), so the
//! caller takes it and retries. Before that, no observer can have seen the state.

use super::spin;
use crate::sync::prim::atomic::{
    AtomicU8,
    Ordering::{Acquire, Release},
};
use crate::sync::prim::{const_fn, Condvar, Instant, Mutex};
use crate::sync::Locker;

/// The stdlib's future states (`concurrent.futures._base`).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Pending = 0,
    Running = 1,
    Cancelled = 2,
    CancelledAndNotified = 3,
    Finished = 4,
}

impl State {
    #[inline]
    fn from_u8(v: u8) -> State {
        match v {
            0 => State::Pending,
            1 => State::Running,
            2 => State::Cancelled,
            3 => State::CancelledAndNotified,
            _ => State::Finished,
        }
    }

    /// Finished or cancelled: what `done()` answers.
    #[inline]
    pub fn is_done(self) -> bool {
        matches!(self, State::Cancelled | State::CancelledAndNotified | State::Finished)
    }

    #[inline]
    pub fn is_cancelled(self) -> bool {
        matches!(self, State::Cancelled | State::CancelledAndNotified)
    }

    /// The stdlib's name for the state (`_base.PENDING`, ...).
    pub fn name(self) -> &'static str {
        match self {
            State::Pending => "PENDING",
            State::Running => "RUNNING",
            State::Cancelled => "CANCELLED",
            State::CancelledAndNotified => "CANCELLED_AND_NOTIFIED",
            State::Finished => "FINISHED",
        }
    }

    /// The stdlib's description of the state in a future's repr.
    pub fn description(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Running => "running",
            State::Cancelled | State::CancelledAndNotified => "cancelled",
            State::Finished => "finished",
        }
    }
}

/// What `start` did (`set_running_or_notify_cancel`).
#[derive(Debug, PartialEq, Eq)]
pub enum Start {
    /// PENDING -> RUNNING: run the work.
    Running,
    /// CANCELLED -> CANCELLED_AND_NOTIFIED: do not run it; tell the observers.
    Cancelled,
    /// Observed and cancelled: retry holding the observer's lock.
    NeedObserver,
    /// Already running or done: the executor made a mistake.
    Unexpected(State),
}

/// What `finish` did (`set_result` / `set_exception`).
pub enum Finish<T, C> {
    /// FINISHED now; the callbacks to run, in the order they were added.
    Done(Vec<C>),
    /// The future was already done (cancelled or finished): the outcome is handed back.
    Invalid(T, State),
    /// Observed: retry holding the observer's lock.
    NeedObserver(T),
}

/// What `cancel` did.
pub enum Cancel<C> {
    /// PENDING -> CANCELLED; the callbacks to run.
    Cancelled(Vec<C>),
    /// Already cancelled.
    AlreadyCancelled,
    /// Running or finished: cannot be cancelled.
    Refused,
}

struct Inner<T, C> {
    outcome: Option<T>,
    callbacks: Vec<C>,
    parked: u32,
    observed: bool,
}

pub struct Future<T, C> {
    state: AtomicU8,
    inner: Mutex<Inner<T, C>>,
    cond: Condvar,
}

impl<T, C> Default for Future<T, C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, C> Future<T, C> {
    const_fn! {
        pub fn new() -> Self {
            Future {
                state: AtomicU8::new(State::Pending as u8),
                inner: Mutex::new(Inner { outcome: None, callbacks: Vec::new(), parked: 0, observed: false }),
                cond: Condvar::new(),
            }
        }
    }

    #[inline]
    pub fn state(&self) -> State {
        State::from_u8(self.state.load(Acquire))
    }

    /// Moves from `from` to `to` if the state is `from`.
    #[inline]
    fn transition(&self, from: State, to: State) -> Result<(), State> {
        self.state.compare_exchange(from as u8, to as u8, Release, Acquire).map(drop).map_err(State::from_u8)
    }

    /// Wakes every parked waiter; called with the mutex held, after a move to a done state.
    #[inline]
    fn wake(&self, inner: &Inner<T, C>) {
        if inner.parked > 0 {
            self.cond.notify_all();
        }
    }

    /// Records that an observer (a Python condition, see the module notes) exists from now on.
    pub fn observe(&self, locker: impl Locker) {
        locker.lock(&self.inner).observed = true;
    }

    /// True once `observe` was called: a caller about to finish the future may take the
    /// observer's lock first rather than be sent back by `NeedObserver`.
    pub fn is_observed(&self, locker: impl Locker) -> bool {
        locker.lock(&self.inner).observed
    }

    /// `set_running_or_notify_cancel`. `observer_held`: the caller holds the observer's lock.
    pub fn start(&self, locker: impl Locker, observer_held: bool) -> Start {
        match self.transition(State::Pending, State::Running) {
            Ok(()) => Start::Running,
            Err(State::Cancelled) => {
                let inner = locker.lock(&self.inner);
                if inner.observed && !observer_held {
                    return Start::NeedObserver;
                }
                match self.transition(State::Cancelled, State::CancelledAndNotified) {
                    Ok(()) => Start::Cancelled,
                    Err(s) => Start::Unexpected(s),
                }
            }
            Err(s) => Start::Unexpected(s),
        }
    }

    /// Stores the outcome and moves to FINISHED (from PENDING or RUNNING).
    pub fn finish(&self, outcome: T, locker: impl Locker, observer_held: bool) -> Finish<T, C> {
        let mut inner = locker.lock(&self.inner);
        let mut s = self.state();
        loop {
            if s.is_done() {
                return Finish::Invalid(outcome, s);
            }
            if inner.observed && !observer_held {
                return Finish::NeedObserver(outcome);
            }
            // The outcome goes in first: a reader that sees FINISHED then locks finds it.
            match self.transition(s, State::Finished) {
                Ok(()) => break,
                Err(now) => s = now, // cancelled meanwhile (cancel does not take the mutex first)
            }
        }
        inner.outcome = Some(outcome);
        let callbacks = std::mem::take(&mut inner.callbacks);
        self.wake(&inner);
        Finish::Done(callbacks)
    }

    /// PENDING -> CANCELLED.
    pub fn cancel(&self, locker: impl Locker) -> Cancel<C> {
        match self.transition(State::Pending, State::Cancelled) {
            Ok(()) => {
                let mut inner = locker.lock(&self.inner);
                let callbacks = std::mem::take(&mut inner.callbacks);
                self.wake(&inner);
                Cancel::Cancelled(callbacks)
            }
            Err(State::Cancelled | State::CancelledAndNotified) => Cancel::AlreadyCancelled,
            Err(_) => Cancel::Refused,
        }
    }

    /// Adds a done-callback; hands it back if the future is already done (the caller runs it).
    pub fn add_callback(&self, callback: C, locker: impl Locker) -> Option<C> {
        let mut inner = locker.lock(&self.inner);
        if self.state().is_done() {
            return Some(callback);
        }
        inner.callbacks.push(callback);
        None
    }

    /// Reads the outcome (None until FINISHED, or after `take_all`).
    pub fn with_outcome<R>(&self, locker: impl Locker, f: impl FnOnce(Option<&T>) -> R) -> R {
        f(locker.lock(&self.inner).outcome.as_ref())
    }

    /// Takes the outcome out (a result handed over once, as `Executor.map` does).
    pub fn take_outcome(&self, locker: impl Locker) -> Option<T> {
        locker.lock(&self.inner).outcome.take()
    }

    /// Blocks until the future is done or `deadline` passes (None: no limit); returns whether it
    /// is done. Spins for a few microseconds first (`spin::RESULT_WAITS`): a short task's result
    /// arrives sooner than a parked thread could be woken.
    pub fn wait_until(&self, deadline: Option<Instant>) -> bool {
        let start = Instant::now();
        if spin::RESULT_WAITS.spin_until(deadline, || self.state().is_done()) {
            return true;
        }
        let mut inner = self.inner.lock();
        if self.state().is_done() {
            return true;
        }
        inner.parked += 1;
        let done = crate::sync::park::wait_until(&self.cond, &mut inner, deadline, |_| self.state().is_done());
        inner.parked -= 1;
        drop(inner);
        if done {
            spin::RESULT_WAITS.blocked(start.elapsed());
        }
        done
    }

    /// For the garbage collector: visits the outcome and the callbacks, unless the mutex is held
    /// (then nothing is visited, which only keeps the objects alive a little longer).
    pub fn try_visit<E>(
        &self,
        mut outcome: impl FnMut(&T) -> Result<(), E>,
        mut callback: impl FnMut(&C) -> Result<(), E>,
    ) -> Result<(), E> {
        if let Some(inner) = self.inner.try_lock() {
            if let Some(o) = &inner.outcome {
                outcome(o)?;
            }
            for c in &inner.callbacks {
                callback(c)?;
            }
        }
        Ok(())
    }

    /// For the garbage collector: takes the outcome and the callbacks out without blocking.
    pub fn try_take_all(&self) -> Option<(Option<T>, Vec<C>)> {
        let mut inner = self.inner.try_lock()?;
        let o = inner.outcome.take();
        Some((o, std::mem::take(&mut inner.callbacks)))
    }
}

impl<T, C> std::fmt::Debug for Future<T, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Future").field("state", &self.state()).finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::Blocking;
    use std::sync::Arc;
    use std::time::Duration;

    type F = Future<u32, &'static str>;

    #[test]
    fn run_and_finish() {
        let f = F::new();
        assert_eq!(f.state(), State::Pending);
        assert!(f.add_callback("a", Blocking).is_none());
        assert_eq!(f.start(Blocking, false), Start::Running);
        assert_eq!(f.state(), State::Running);
        assert!(matches!(f.cancel(Blocking), Cancel::Refused));
        match f.finish(7, Blocking, false) {
            Finish::Done(cbs) => assert_eq!(cbs, vec!["a"]),
            _ => panic!("not finished"),
        }
        assert_eq!(f.state(), State::Finished);
        assert_eq!(f.with_outcome(Blocking, |o| o.copied()), Some(7));
        assert!(matches!(f.finish(8, Blocking, false), Finish::Invalid(8, State::Finished)));
        assert_eq!(f.add_callback("b", Blocking), Some("b"));
        assert_eq!(f.start(Blocking, false), Start::Unexpected(State::Finished));
        assert!(f.wait_until(Some(Instant::now())));
    }

    #[test]
    fn finish_from_pending() {
        let f = F::new();
        assert!(matches!(f.finish(1, Blocking, false), Finish::Done(_)));
        assert_eq!(f.take_outcome(Blocking), Some(1));
        assert_eq!(f.take_outcome(Blocking), None);
    }

    #[test]
    fn cancel_then_start() {
        let f = F::new();
        f.add_callback("a", Blocking);
        match f.cancel(Blocking) {
            Cancel::Cancelled(cbs) => assert_eq!(cbs, vec!["a"]),
            _ => panic!("not cancelled"),
        }
        assert!(matches!(f.cancel(Blocking), Cancel::AlreadyCancelled));
        assert!(f.state().is_done() && f.state().is_cancelled());
        assert!(matches!(f.finish(1, Blocking, false), Finish::Invalid(1, State::Cancelled)));
        assert_eq!(f.start(Blocking, false), Start::Cancelled);
        assert_eq!(f.state(), State::CancelledAndNotified);
        assert!(matches!(f.cancel(Blocking), Cancel::AlreadyCancelled));
        assert_eq!(f.start(Blocking, false), Start::Unexpected(State::CancelledAndNotified));
    }

    #[test]
    fn observed_transitions_need_the_observer() {
        let f = F::new();
        f.observe(Blocking);
        assert!(f.is_observed(Blocking));
        assert_eq!(f.start(Blocking, false), Start::Running); // not a done state: no observer needed
        assert!(matches!(f.finish(1, Blocking, false), Finish::NeedObserver(1)));
        assert_eq!(f.state(), State::Running);
        assert!(matches!(f.finish(1, Blocking, true), Finish::Done(_)));

        let g = F::new();
        g.observe(Blocking);
        assert!(matches!(g.cancel(Blocking), Cancel::Cancelled(_)));
        assert_eq!(g.start(Blocking, false), Start::NeedObserver);
        assert_eq!(g.start(Blocking, true), Start::Cancelled);
    }

    #[test]
    fn timed_wait_times_out() {
        let f = F::new();
        let t0 = Instant::now();
        assert!(!f.wait_until(Some(t0 + Duration::from_millis(30))));
        assert!(t0.elapsed() >= Duration::from_millis(30));
        assert_eq!(f.inner.lock().parked, 0);
    }

    #[test]
    fn waiters_are_woken_by_finish_and_cancel() {
        for cancel in [false, true] {
            let f = Arc::new(F::new());
            let hs: Vec<_> = (0..3)
                .map(|_| {
                    let f = f.clone();
                    std::thread::spawn(move || f.wait_until(None))
                })
                .collect();
            while f.inner.lock().parked < 3 {
                std::thread::sleep(Duration::from_millis(1));
            }
            if cancel {
                assert!(matches!(f.cancel(Blocking), Cancel::Cancelled(_)));
            } else {
                assert!(matches!(f.finish(5, Blocking, false), Finish::Done(_)));
            }
            assert!(hs.into_iter().all(|h| h.join().unwrap()));
        }
    }

    #[test]
    fn racing_finish_and_cancel_agree() {
        for _ in 0..200 {
            let f = Arc::new(F::new());
            let g = f.clone();
            let h = std::thread::spawn(move || matches!(g.cancel(Blocking), Cancel::Cancelled(_)));
            let finished = matches!(f.finish(1, Blocking, false), Finish::Done(_));
            let cancelled = h.join().unwrap();
            assert!(finished != cancelled, "exactly one of finish and cancel wins");
            assert_eq!(f.state(), if finished { State::Finished } else { State::Cancelled });
        }
    }
}

/// Model checks (`make loom`).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::prim::Arc;
    use crate::sync::Blocking;
    use loom::thread;

    type F = Future<u32, &'static str>;

    /// `set_result` racing `cancel` with a waiter parked or arriving: exactly one wins and
    /// hands out the callback, the waiter returns, the state says who won.
    #[test]
    fn loom_future_finish_races_cancel() {
        loom::model(|| {
            let f = Arc::new(F::new());
            assert!(f.add_callback("cb", Blocking).is_none());
            let waiter = {
                let f = f.clone();
                thread::spawn(move || assert!(f.wait_until(None)))
            };
            let canceller = {
                let f = f.clone();
                thread::spawn(move || match f.cancel(Blocking) {
                    Cancel::Cancelled(cbs) => Some(cbs),
                    Cancel::Refused => None,
                    Cancel::AlreadyCancelled => panic!("cancelled twice"),
                })
            };
            let finished = match f.finish(7, Blocking, false) {
                Finish::Done(cbs) => Some(cbs),
                Finish::Invalid(7, State::Cancelled) => None,
                _ => panic!("unexpected finish"),
            };
            let cancelled = canceller.join().unwrap();
            waiter.join().unwrap();
            match (finished, cancelled) {
                (Some(cbs), None) => {
                    assert_eq!(cbs, ["cb"]);
                    assert_eq!(f.state(), State::Finished);
                    assert_eq!(f.take_outcome(Blocking), Some(7));
                }
                (None, Some(cbs)) => {
                    assert_eq!(cbs, ["cb"]);
                    assert_eq!(f.state(), State::Cancelled);
                    assert_eq!(f.take_outcome(Blocking), None);
                }
                _ => panic!("both or neither won"),
            }
        });
    }

    /// A worker's `set_running_or_notify_cancel` then `set_result`, racing `cancel`, with a
    /// waiter: cancelled before the start means the work never runs; otherwise it finishes.
    #[test]
    fn loom_future_start_races_cancel() {
        loom::model(|| {
            let f = Arc::new(F::new());
            let worker = {
                let f = f.clone();
                thread::spawn(move || match f.start(Blocking, false) {
                    Start::Running => {
                        assert!(matches!(f.finish(1, Blocking, false), Finish::Done(_)));
                        true
                    }
                    Start::Cancelled => false,
                    other => panic!("{other:?}"),
                })
            };
            let waiter = {
                let f = f.clone();
                thread::spawn(move || assert!(f.wait_until(None)))
            };
            let cancelled = matches!(f.cancel(Blocking), Cancel::Cancelled(_));
            let ran = worker.join().unwrap();
            waiter.join().unwrap();
            assert_eq!(ran, !cancelled);
            assert_eq!(f.state(), if ran { State::Finished } else { State::CancelledAndNotified });
        });
    }
}
