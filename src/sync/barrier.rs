//! A cyclic barrier for a fixed number of parties, as Python's `threading.Barrier`.
//!
//! The state machine is the stdlib's (filling, draining, resetting, broken) plus one phase the
//! stdlib gets for free from holding its condition's lock while the last party runs the action:
//! `Releasing`. While it lasts the other parties keep waiting, arrivals queue, and `reset()` /
//! `abort()` from other threads wait for it to end, exactly as they would wait for the lock.
//!
//! The caller locks the state (`state()`, so a caller attached to an interpreter can try the
//! lock first) for the operations that never wait, and calls the `*_until` methods, which take
//! the lock themselves and block until their deadline, for those that may.

use super::current_thread_ident;
use super::park::Watchers;
use super::prim::{const_fn, Condvar, Instant, Mutex, MutexGuard};
use super::spin::{AdaptiveSpin, Polling, HANDOFF};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Parties are arriving (stdlib state 0).
    Filling,
    /// The last party arrived and runs the action; the others still wait and arrivals queue
    /// (stdlib: state 0 while the last party holds the condition's lock).
    Releasing,
    /// Released: the parties are leaving; arrivals wait until the last has left (stdlib 1).
    Draining,
    /// `reset()` while parties waited: they leave broken, then the barrier fills again (-1).
    Resetting,
    /// Broken: every wait fails until `reset()` (stdlib -2).
    Broken,
}

/// The barrier's state; only reachable through its mutex.
#[derive(Debug)]
pub struct State {
    phase: Phase,
    /// Parties inside `wait` (the stdlib's `_count`).
    count: usize,
    /// The arrival count that trips the barrier; `usize::MAX` for never.
    parties: usize,
    /// The thread running the action while `Releasing`.
    releaser: u64,
    /// Asyncio tasks waiting to arrive or to be released (see `park`): woken by every change
    /// of phase, as the condition's waiters are.
    pub watchers: Watchers,
}

impl State {
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The number of parties waiting for the barrier to trip (0 unless it is filling).
    pub fn n_waiting(&self) -> usize {
        match self.phase {
            Phase::Filling | Phase::Releasing => self.count,
            _ => 0,
        }
    }

    pub fn broken(&self) -> bool {
        self.phase == Phase::Broken
    }

    /// Blocked while an arrival cannot join this generation yet.
    fn must_queue(&self) -> bool {
        matches!(self.phase, Phase::Draining | Phase::Resetting | Phase::Releasing)
    }

    /// Blocked while a party waits for the release.
    fn unreleased(&self) -> bool {
        matches!(self.phase, Phase::Filling | Phase::Releasing)
    }

    /// Blocked while another thread's action runs.
    fn others_action(&self, me: u64) -> bool {
        self.phase == Phase::Releasing && self.releaser != me
    }
}

/// What `arrive` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Counted in with this index; wait for the release with `wait_released_until`.
    Waiting(usize),
    /// The last party, without an action: the barrier is released and this party has left.
    Released(usize),
    /// The last party, with an action: run it, then call `finish_release`.
    Releasing(usize),
    /// The barrier is broken; nothing changed.
    Broken,
    /// This party would have to wait and the caller said it cannot; nothing changed.
    WouldWait,
}

/// What `control` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Reset,
    Abort,
}

pub struct Barrier {
    state: Mutex<State>,
    cond: Condvar,
    /// The spin budget of this object's waits (see `spin`).
    spin: AdaptiveSpin,
}

impl Barrier {
    const_fn! {
        /// A barrier tripping at the `parties`-th arrival (`usize::MAX`: never).
        pub fn new(parties: usize) -> Self {
            Barrier {
                state: Mutex::new(State { phase: Phase::Filling, count: 0, parties, releaser: 0, watchers: Watchers::new() }),
                cond: Condvar::new(),
                spin: AdaptiveSpin::new(HANDOFF, Polling::Yielding),
            }
        }
    }

    /// The state's mutex, for the operations taking a locked `&mut State`. Critical sections
    /// are a few instructions; nothing waits while holding it except inside `*_until`.
    pub fn state(&self) -> &Mutex<State> {
        &self.state
    }

    /// Waits on the condition while `blocked`, until `until` (None: no limit); false if it
    /// was still blocked at the deadline.
    fn wait_while(
        &self,
        g: &mut MutexGuard<'_, State>,
        until: Option<Instant>,
        blocked: impl Fn(&State) -> bool,
    ) -> bool {
        if !blocked(g) {
            return true;
        }
        // The spin before parking, with the mutex let go meanwhile.
        let start = Instant::now();
        let spin = || self.spin.spin_until(until, || self.state.try_lock().is_some_and(|s| !blocked(&s)));
        if MutexGuard::unlocked(g, spin) && !blocked(g) {
            return true;
        }
        let got = super::park::wait_until(&self.cond, g, until, |s| !blocked(s));
        if got {
            self.spin.blocked(start.elapsed());
        }
        got
    }

    /// A party leaves `wait` (the stdlib's `_count -= 1; _exit()`): the last one out of a
    /// drain or reset lets the barrier fill again.
    fn leave(&self, st: &mut State) {
        st.count = st.count.saturating_sub(1);
        if st.count == 0 && matches!(st.phase, Phase::Draining | Phase::Resetting) {
            st.phase = Phase::Filling;
            self.wake(st);
        }
    }

    fn breaks(&self, st: &mut State) {
        st.phase = Phase::Broken;
        self.wake(st);
    }

    /// Wakes every waiter, threads and tasks: the phase changed.
    fn wake(&self, st: &State) {
        self.cond.notify_all();
        st.watchers.notify();
    }

    /// Arrives if the barrier accepts arrivals now; None while it is draining, resetting or
    /// running an action (then wait with `arrive_until`). `has_action`: the last party runs an
    /// action before the release. `may_wait`: false makes a party that would have to wait
    /// return `WouldWait` without being counted.
    pub fn arrive(&self, st: &mut State, has_action: bool, may_wait: bool) -> Option<Arrival> {
        if st.must_queue() {
            return None;
        }
        if st.phase == Phase::Broken {
            return Some(Arrival::Broken);
        }
        let index = st.count;
        if index.checked_add(1) == Some(st.parties) {
            st.count += 1;
            if has_action {
                st.phase = Phase::Releasing;
                st.releaser = current_thread_ident();
                return Some(Arrival::Releasing(index));
            }
            st.phase = Phase::Draining;
            self.wake(st);
            self.leave(st);
            return Some(Arrival::Released(index));
        }
        if !may_wait {
            return Some(Arrival::WouldWait);
        }
        st.count += 1;
        Some(Arrival::Waiting(index))
    }

    /// Waits until the barrier accepts arrivals (or `until` passes: None), then `arrive`s.
    pub fn arrive_until(&self, has_action: bool, may_wait: bool, until: Option<Instant>) -> Option<Arrival> {
        let mut g = self.state.lock();
        if !self.wait_while(&mut g, until, State::must_queue) {
            return None;
        }
        self.arrive(&mut g, has_action, may_wait)
    }

    /// For a `Waiting` party: waits until released (`Some(true)`) or broken or reset
    /// (`Some(false)`), having left in both cases; None if still waiting when `until` passed.
    pub fn wait_released_until(&self, until: Option<Instant>) -> Option<bool> {
        let mut g = self.state.lock();
        if !self.wait_while(&mut g, until, State::unreleased) {
            return None;
        }
        self.try_released(&mut g)
    }

    /// `wait_released_until` without waiting: None while the party must still wait.
    pub fn try_released(&self, st: &mut State) -> Option<bool> {
        if st.unreleased() {
            return None;
        }
        let released = st.phase == Phase::Draining;
        self.leave(st);
        Some(released)
    }

    /// For a `Waiting` party whose timeout expired: a barrier still filling breaks. Returns
    /// as `wait_released_until`, or None while the action runs (the stdlib's party would be
    /// waiting for the lock then): keep waiting, without a deadline.
    pub fn expire(&self, st: &mut State) -> Option<bool> {
        match st.phase {
            Phase::Releasing => None,
            Phase::Filling => {
                self.breaks(st);
                self.leave(st);
                Some(false)
            }
            phase => {
                self.leave(st);
                Some(phase == Phase::Draining)
            }
        }
    }

    /// For a `Waiting` party leaving on an error (a signal handler's exception): it leaves
    /// without breaking the barrier, as the stdlib's `finally` does.
    pub fn abandon(&self, st: &mut State) {
        self.leave(st);
    }

    /// For the `Releasing` party once its action returned (`ok`) or raised (breaks the
    /// barrier). It leaves; true if the barrier was released (an action that reset or aborted
    /// its own barrier did not release it).
    pub fn finish_release(&self, st: &mut State, ok: bool) -> bool {
        let released = ok && st.phase == Phase::Releasing;
        if !ok {
            st.phase = Phase::Broken;
        } else if released {
            st.phase = Phase::Draining;
        }
        self.wake(st);
        self.leave(st);
        released
    }

    /// `reset()` or `abort()`; false (nothing done) while another thread runs the action:
    /// wait with `control_until` then.
    pub fn control(&self, st: &mut State, op: Control) -> bool {
        if st.others_action(current_thread_ident()) {
            return false;
        }
        match op {
            Control::Abort => st.phase = Phase::Broken,
            Control::Reset => {
                if st.count == 0 {
                    st.phase = Phase::Filling;
                } else if matches!(st.phase, Phase::Filling | Phase::Releasing | Phase::Broken) {
                    // the waiting parties leave broken; the last one out refills it
                    st.phase = Phase::Resetting;
                }
            }
        }
        self.wake(st);
        true
    }

    /// Waits until no other thread runs the action (or `until` passes: None), then `control`s.
    pub fn control_until(&self, op: Control, until: Option<Instant>) -> Option<()> {
        let me = current_thread_ident();
        let mut g = self.state.lock();
        if !self.wait_while(&mut g, until, |s| s.others_action(me)) {
            return None;
        }
        self.control(&mut g, op).then_some(())
    }

    /// Sets the trip count again (a second `__init__`); an idle barrier starts afresh.
    pub fn reinit(&self, st: &mut State, parties: usize) {
        st.parties = parties;
        if st.count == 0 {
            st.phase = Phase::Filling;
        }
        self.wake(st);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    use std::thread;
    use std::time::Duration;

    /// A whole `wait` without action or timeout, as the Python layer drives it.
    fn wait(b: &Barrier, until: Option<Instant>) -> Result<usize, &'static str> {
        let arrival = b.arrive_until(false, true, None).ok_or("queued past no deadline")?;
        match arrival {
            Arrival::Released(i) => Ok(i),
            Arrival::Waiting(i) => {
                let r = match b.wait_released_until(until) {
                    Some(r) => r,
                    // expired while the action runs: wait on without a deadline
                    None => {
                        let expired = b.expire(&mut b.state().lock());
                        match expired {
                            Some(r) => r,
                            None => b.wait_released_until(None).ok_or("no deadline passed")?,
                        }
                    }
                };
                if r {
                    Ok(i)
                } else {
                    Err("broken")
                }
            }
            Arrival::Broken => Err("broken"),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn soon(ms: u64) -> Option<Instant> {
        Some(Instant::now() + Duration::from_millis(ms))
    }

    /// Spins until `n` parties wait.
    fn until_waiting(b: &Barrier, n: usize) {
        while b.state().lock().n_waiting() != n {
            thread::yield_now();
        }
    }

    #[test]
    fn single_party_trips_at_once() {
        let b = Barrier::new(1);
        for _ in 0..3 {
            assert_eq!(b.arrive(&mut b.state().lock(), false, false), Some(Arrival::Released(0)));
            assert_eq!(b.state().lock().phase(), Phase::Filling);
        }
    }

    #[test]
    fn generations_hand_out_each_index_once() {
        const N: usize = 4;
        const ROUNDS: usize = 200;
        let b = Arc::new(Barrier::new(N));
        let seen: Arc<Vec<AtomicUsize>> = Arc::new((0..N).map(|_| AtomicUsize::new(0)).collect());
        let hs: Vec<_> = (0..N)
            .map(|_| {
                let (b, seen) = (b.clone(), seen.clone());
                thread::spawn(move || {
                    for _ in 0..ROUNDS {
                        let i = wait(&b, None).unwrap();
                        seen[i].fetch_add(1, SeqCst);
                    }
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
        for s in seen.iter() {
            assert_eq!(s.load(SeqCst), ROUNDS);
        }
        let st = b.state().lock();
        assert_eq!((st.phase(), st.n_waiting()), (Phase::Filling, 0));
    }

    #[test]
    fn timeout_breaks_the_barrier() {
        let b = Arc::new(Barrier::new(3));
        let b2 = b.clone();
        let other = thread::spawn(move || wait(&b2, None));
        until_waiting(&b, 1);
        let t0 = Instant::now();
        assert_eq!(wait(&b, soon(30)), Err("broken"));
        assert!(t0.elapsed() >= Duration::from_millis(30));
        assert_eq!(other.join().unwrap(), Err("broken"));
        assert!(b.state().lock().broken());
        assert_eq!(wait(&b, None), Err("broken"));
        assert!(b.control(&mut b.state().lock(), Control::Reset));
        assert!(!b.state().lock().broken());
    }

    #[test]
    fn cannot_wait_leaves_no_trace() {
        let b = Barrier::new(2);
        assert_eq!(b.arrive(&mut b.state().lock(), false, false), Some(Arrival::WouldWait));
        assert_eq!(b.state().lock().n_waiting(), 0);
        // the last party never needs to wait
        assert_eq!(b.arrive(&mut b.state().lock(), false, true), Some(Arrival::Waiting(0)));
        assert_eq!(b.arrive(&mut b.state().lock(), false, false), Some(Arrival::Released(1)));
        assert_eq!(b.wait_released_until(None), Some(true));
        assert_eq!(b.state().lock().phase(), Phase::Filling);
    }

    #[test]
    fn reset_breaks_waiters_then_refills() {
        let b = Arc::new(Barrier::new(3));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let b = b.clone();
                thread::spawn(move || wait(&b, None))
            })
            .collect();
        until_waiting(&b, 2);
        assert!(b.control(&mut b.state().lock(), Control::Reset));
        for h in hs {
            assert_eq!(h.join().unwrap(), Err("broken"));
        }
        let st = b.state().lock();
        assert_eq!((st.phase(), st.n_waiting()), (Phase::Filling, 0));
        drop(st);
        // usable again
        let hs: Vec<_> = (0..3)
            .map(|_| {
                let b = b.clone();
                thread::spawn(move || wait(&b, None))
            })
            .collect();
        let mut idx: Vec<_> = hs.into_iter().map(|h| h.join().unwrap().unwrap()).collect();
        idx.sort();
        assert_eq!(idx, [0, 1, 2]);
    }

    #[test]
    fn abort_breaks_waiters_and_arrivals() {
        let b = Arc::new(Barrier::new(2));
        let b2 = b.clone();
        let h = thread::spawn(move || wait(&b2, None));
        until_waiting(&b, 1);
        assert!(b.control(&mut b.state().lock(), Control::Abort));
        assert_eq!(h.join().unwrap(), Err("broken"));
        assert_eq!(b.arrive(&mut b.state().lock(), false, true), Some(Arrival::Broken));
        let st = b.state().lock();
        assert!(st.broken());
        assert_eq!(st.n_waiting(), 0);
    }

    #[test]
    fn action_holds_everyone_until_it_finishes() {
        let b = Arc::new(Barrier::new(2));
        let b2 = b.clone();
        let waiter = thread::spawn(move || wait(&b2, soon(20)));
        until_waiting(&b, 1);
        assert_eq!(b.arrive(&mut b.state().lock(), true, true), Some(Arrival::Releasing(1)));
        assert_eq!(b.state().lock().n_waiting(), 2);
        // the waiter's deadline passes while the action runs: it must not break the barrier
        thread::sleep(Duration::from_millis(40));
        // another thread's reset and a new arrival wait for the action
        let b3 = b.clone();
        let reset = thread::spawn(move || b3.control_until(Control::Reset, soon(10)));
        assert_eq!(reset.join().unwrap(), None);
        assert_eq!(b.arrive(&mut b.state().lock(), false, true), None);
        assert!(b.finish_release(&mut b.state().lock(), true));
        assert_eq!(waiter.join().unwrap(), Ok(0));
        assert_eq!(b.state().lock().phase(), Phase::Filling);
    }

    #[test]
    fn failing_action_breaks() {
        let b = Arc::new(Barrier::new(2));
        let b2 = b.clone();
        let waiter = thread::spawn(move || wait(&b2, None));
        until_waiting(&b, 1);
        assert_eq!(b.arrive(&mut b.state().lock(), true, true), Some(Arrival::Releasing(1)));
        assert!(!b.finish_release(&mut b.state().lock(), false));
        assert_eq!(waiter.join().unwrap(), Err("broken"));
        assert!(b.state().lock().broken());
    }

    #[test]
    fn action_aborting_its_own_barrier_releases_nobody() {
        let b = Barrier::new(1);
        assert_eq!(b.arrive(&mut b.state().lock(), true, true), Some(Arrival::Releasing(0)));
        // the releasing thread itself need not wait for its own action
        assert!(b.control(&mut b.state().lock(), Control::Abort));
        assert!(!b.finish_release(&mut b.state().lock(), true));
        assert!(b.state().lock().broken());
    }

    #[test]
    fn abandoning_keeps_the_barrier_filling() {
        let b = Barrier::new(3);
        assert_eq!(b.arrive(&mut b.state().lock(), false, true), Some(Arrival::Waiting(0)));
        assert_eq!(b.arrive(&mut b.state().lock(), false, true), Some(Arrival::Waiting(1)));
        b.abandon(&mut b.state().lock());
        let st = b.state().lock();
        assert_eq!((st.phase(), st.n_waiting()), (Phase::Filling, 1));
    }

    #[test]
    fn arrivals_queue_while_draining() {
        let b = Arc::new(Barrier::new(2));
        assert_eq!(b.arrive(&mut b.state().lock(), false, true), Some(Arrival::Waiting(0)));
        assert_eq!(b.arrive(&mut b.state().lock(), false, true), Some(Arrival::Released(1)));
        // party 0 has not left yet: the next generation waits for it
        assert_eq!(b.state().lock().phase(), Phase::Draining);
        assert_eq!(b.arrive(&mut b.state().lock(), false, true), None);
        assert_eq!(b.arrive_until(false, true, soon(10)), None);
        let b2 = b.clone();
        let next = thread::spawn(move || b2.arrive_until(false, true, None));
        thread::sleep(Duration::from_millis(10));
        assert_eq!(b.wait_released_until(None), Some(true));
        assert_eq!(next.join().unwrap(), Some(Arrival::Waiting(0)));
    }
}

/// Model checks (`make loom`).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::prim::{yield_now, Arc};
    use loom::thread;

    /// A whole `wait` as the Python layer drives it, without a deadline; `action`: this party
    /// runs an (instant, successful) action if it is the last. Err: broken.
    fn wait(b: &Barrier, action: bool) -> Result<usize, ()> {
        match b.arrive_until(action, true, None).expect("no deadline") {
            Arrival::Released(i) => Ok(i),
            Arrival::Releasing(i) => b.finish_release(&mut b.state().lock(), true).then_some(i).ok_or(()),
            Arrival::Waiting(i) => b.wait_released_until(None).expect("no deadline").then_some(i).ok_or(()),
            Arrival::Broken => Err(()),
            Arrival::WouldWait => unreachable!("may_wait"),
        }
    }

    fn spawn_waits(b: &Arc<Barrier>, times: usize, action: bool) -> thread::JoinHandle<Vec<Result<usize, ()>>> {
        let b = b.clone();
        thread::spawn(move || (0..times).map(|_| wait(&b, action)).collect())
    }

    /// Two parties pass twice: each generation hands out indices 0 and 1 once, nobody is left
    /// behind, the second generation's arrivals queue until the first has drained.
    #[test]
    fn loom_barrier_two_generations() {
        loom::model(|| {
            let b = Arc::new(Barrier::new(2));
            let other = spawn_waits(&b, 2, false);
            let mine: Vec<_> = (0..2).map(|_| wait(&b, false)).collect();
            let theirs = other.join().unwrap();
            for g in 0..2 {
                let mut got = [mine[g].unwrap(), theirs[g].unwrap()];
                got.sort();
                assert_eq!(got, [0, 1], "generation {g}");
            }
            let st = b.state().lock();
            assert_eq!((st.phase(), st.n_waiting()), (Phase::Filling, 0));
        });
    }

    /// Three parties, the last runs the action: indices 0, 1, 2 once each.
    #[test]
    fn loom_barrier_three_parties_with_action() {
        loom::model(|| {
            let b = Arc::new(Barrier::new(3));
            let hs: Vec<_> = (0..2).map(|_| spawn_waits(&b, 1, true)).collect();
            let mut got = vec![wait(&b, true).unwrap()];
            got.extend(hs.into_iter().map(|h| h.join().unwrap()[0].unwrap()));
            got.sort();
            assert_eq!(got, [0, 1, 2]);
        });
    }

    /// `abort()` racing two of three parties: every party leaves broken (waiting ones are
    /// woken), the barrier stays broken.
    #[test]
    fn loom_barrier_abort_wakes_all() {
        loom::model(|| {
            let b = Arc::new(Barrier::new(3));
            let hs: Vec<_> = (0..2).map(|_| spawn_waits(&b, 1, false)).collect();
            assert_eq!(b.control_until(Control::Abort, None), Some(()));
            for h in hs {
                assert_eq!(h.join().unwrap(), [Err(())]);
            }
            assert!(b.state().lock().broken());
        });
    }

    /// `abort()` racing a trip whose last party runs the action: the abort waits for the
    /// action to end; a waiting party is released only together with the releasing one (an
    /// abort after the release but before the waiting party looked breaks only the waiting
    /// one, as in the stdlib, whose `_wait` checks `_state < 0` after waking); broken after.
    #[test]
    fn loom_barrier_abort_races_action() {
        loom::model(|| {
            let b = Arc::new(Barrier::new(2));
            let other = spawn_waits(&b, 1, true);
            let aborter = {
                let b = b.clone();
                thread::spawn(move || b.control_until(Control::Abort, None))
            };
            let mine = wait(&b, true);
            let theirs = other.join().unwrap()[0];
            assert_eq!(aborter.join().unwrap(), Some(()));
            if mine == Ok(0) || theirs == Ok(0) {
                assert!(mine == Ok(1) || theirs == Ok(1), "{mine:?} {theirs:?}");
            }
            assert!(b.state().lock().broken());
        });
    }

    /// `reset()` with a party waiting: it leaves broken, the barrier refills, and both parties
    /// then pass together (an arrival during the reset queues until the broken party has left).
    #[test]
    fn loom_barrier_reset() {
        loom::model(|| {
            let b = Arc::new(Barrier::new(2));
            let other = spawn_waits(&b, 2, false);
            while b.state().lock().n_waiting() != 1 {
                yield_now();
            }
            assert_eq!(b.control_until(Control::Reset, None), Some(()));
            let mine = wait(&b, false);
            let theirs = other.join().unwrap();
            assert_eq!(theirs[0], Err(()));
            let mut got = [mine.unwrap(), theirs[1].unwrap()];
            got.sort();
            assert_eq!(got, [0, 1]);
        });
    }

    /// A waiting party's timeout (`expire`) racing the last arrival: both agree, released or
    /// broken.
    #[test]
    fn loom_barrier_timeout_races_trip() {
        loom::model(|| {
            let b = Arc::new(Barrier::new(2));
            let b2 = b.clone();
            let expiring = thread::spawn(move || match b2.arrive_until(false, true, None) {
                Some(Arrival::Waiting(_)) => {
                    let expired = b2.expire(&mut b2.state().lock());
                    expired.unwrap_or_else(|| b2.wait_released_until(None).expect("no deadline"))
                }
                Some(Arrival::Released(_)) => true,
                Some(Arrival::Broken) => false,
                other => panic!("{other:?}"),
            });
            let mine = wait(&b, true);
            assert_eq!(expiring.join().unwrap(), mine.is_ok());
        });
    }
}
