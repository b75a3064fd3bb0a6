//! A flag threads can wait for, as Python's `threading.Event`.
//!
//! The whole state is one atomic word: bit 0 is the flag, the bits above count the times the flag
//! went from clear to set. `is_set` and a `wait` on a set event are a single load. A waiter
//! remembers the word it saw (flag clear) and waits until the word changes by a `set`: like the
//! stdlib, every thread already waiting when `set()` runs returns true, even if `clear()`
//! follows at once, and even if the waiter was between two slices of its wait at the time.
//!
//! Wake-ups: a waiter registers (`waiters += 1`) under the mutex and then reads the word; `set`
//! changes the word and then reads `waiters`, notifying under the mutex if it is non-zero
//! (all `SeqCst`), so one of the two always sees the other.

use super::park::WatchList;
use super::prim::atomic::{
    AtomicU64, AtomicUsize,
    Ordering::{Acquire, Relaxed, SeqCst},
};
use super::prim::{const_fn, loom_seq_cst_fence, Condvar, Instant, Mutex};
use super::spin::{AdaptiveSpin, Polling, HANDOFF};
use super::Locker;

const FLAG: u64 = 1;

pub struct Event {
    /// `sets << 1 | flag`.
    state: AtomicU64,
    waiters: AtomicUsize,
    mutex: Mutex<()>,
    cond: Condvar,
    /// The spin budget of this object's waits (see `spin`).
    spin: AdaptiveSpin,
    /// Asyncio tasks waiting for the flag (see `park`): woken by `set`.
    pub watchers: WatchList,
}

/// What a waiter saw when its wait began: the state word with the flag clear.
#[derive(Clone, Copy, Debug)]
pub struct Ticket(u64);

impl Default for Event {
    fn default() -> Self {
        Self::new()
    }
}

impl Event {
    const_fn! {
        pub fn new() -> Self {
            Event {
                state: AtomicU64::new(0),
                waiters: AtomicUsize::new(0),
                mutex: Mutex::new(()),
                cond: Condvar::new(),
                spin: AdaptiveSpin::new(HANDOFF, Polling::Yielding),
                watchers: WatchList::new(),
            }
        }
    }

    #[inline]
    pub fn is_set(&self) -> bool {
        self.state.load(Acquire) & FLAG != 0
    }

    /// Sets the flag and wakes every waiting thread.
    pub fn set(&self, locker: impl Locker) {
        let mut s = self.state.load(Relaxed);
        loop {
            if s & FLAG != 0 {
                return; // already set: every waiter was woken by the set() that raised it
            }
            // Count the set (wrapping after 2^63 sets, harmless) and raise the flag.
            match self.state.compare_exchange_weak(s, s.wrapping_add(2) | FLAG, SeqCst, Relaxed) {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        loom_seq_cst_fence();
        if self.waiters.load(SeqCst) > 0 {
            let _g = locker.lock(&self.mutex);
            self.cond.notify_all();
        }
        self.watchers.wake_all();
    }

    pub fn clear(&self) {
        self.state.fetch_and(!FLAG, SeqCst);
    }

    /// Starts a wait: `None` if the flag is already set, else the ticket to wait with.
    #[inline]
    pub fn begin_wait(&self) -> Option<Ticket> {
        let s = self.state.load(Acquire);
        if s & FLAG != 0 {
            None
        } else {
            Some(Ticket(s))
        }
    }

    /// True if the flag is set or was set after the ticket was taken.
    #[inline]
    pub fn signaled(&self, ticket: Ticket) -> bool {
        self.state.load(SeqCst) != ticket.0
    }

    /// Blocks until `signaled(ticket)` or until `deadline` (None: forever); returns
    /// `signaled(ticket)`. May be called again with the same ticket after a timeout.
    pub fn wait_until(&self, ticket: Ticket, deadline: Option<Instant>) -> bool {
        if self.signaled(ticket) {
            return true;
        }
        let start = Instant::now();
        if self.spin.spin_until(deadline, || self.signaled(ticket)) {
            return true;
        }
        let mut guard = self.mutex.lock();
        self.waiters.fetch_add(1, SeqCst);
        loom_seq_cst_fence();
        let got = super::park::wait_until(&self.cond, &mut guard, deadline, |_| self.signaled(ticket));
        self.waiters.fetch_sub(1, SeqCst);
        drop(guard);
        if got {
            self.spin.blocked(start.elapsed());
        }
        got
    }

    /// Forgets waiters and internal lock state: for a fork child, where no other thread exists.
    /// The flag is kept, as the stdlib keeps it.
    pub fn reinit(&self) {
        self.waiters.store(0, SeqCst);
        if self.mutex.is_locked() {
            // SAFETY: only called in a fork child, where the thread that held the mutex at the
            // fork does not exist; no guard for it can be used in this process again.
            unsafe { self.mutex.force_unlock() };
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::Blocking;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn set_clear() {
        let e = Event::new();
        assert!(!e.is_set());
        e.set(Blocking);
        assert!(e.is_set());
        assert!(e.begin_wait().is_none());
        e.set(Blocking);
        assert!(e.is_set());
        e.clear();
        assert!(!e.is_set());
        e.clear();
        assert!(!e.is_set());
    }

    #[test]
    fn timed_wait_times_out() {
        let e = Event::new();
        let t = e.begin_wait().unwrap();
        let t0 = Instant::now();
        assert!(!e.wait_until(t, Some(t0 + Duration::from_millis(30))));
        assert!(t0.elapsed() >= Duration::from_millis(30));
        assert!(!e.wait_until(t, Some(Instant::now())));
        assert_eq!(e.waiters.load(SeqCst), 0);
    }

    #[test]
    fn pulse_between_slices_is_seen() {
        let e = Event::new();
        let t = e.begin_wait().unwrap();
        assert!(!e.wait_until(t, Some(Instant::now())));
        e.set(Blocking);
        e.clear();
        assert!(e.wait_until(t, Some(Instant::now())));
        // A wait that starts after the pulse does not see it.
        let t2 = e.begin_wait().unwrap();
        assert!(!e.wait_until(t2, Some(Instant::now())));
    }

    #[test]
    fn set_then_clear_wakes_every_waiter() {
        let e = Arc::new(Event::new());
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let e = e.clone();
                let t = e.begin_wait().unwrap();
                std::thread::spawn(move || e.wait_until(t, None))
            })
            .collect();
        while e.waiters.load(SeqCst) < 4 {
            std::thread::sleep(Duration::from_millis(1));
        }
        e.set(Blocking);
        e.clear();
        assert!(hs.into_iter().all(|h| h.join().unwrap()));
        assert!(!e.is_set());
    }

    #[test]
    fn many_rounds() {
        // Ping-pong through two events; a lost wake-up would hang.
        let ping = Arc::new(Event::new());
        let pong = Arc::new(Event::new());
        let (p2, q2) = (ping.clone(), pong.clone());
        let h = std::thread::spawn(move || {
            for _ in 0..5_000 {
                if let Some(t) = p2.begin_wait() {
                    assert!(p2.wait_until(t, None));
                }
                p2.clear();
                q2.set(Blocking);
            }
        });
        for _ in 0..5_000 {
            ping.set(Blocking);
            if let Some(t) = pong.begin_wait() {
                assert!(pong.wait_until(t, None));
            }
            pong.clear();
        }
        h.join().unwrap();
    }
}

/// Model checks (`make loom`).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::prim::Arc;
    use crate::sync::Blocking;
    use loom::thread;

    /// Waits as the Python layer does: no ticket means already set.
    fn wait(e: &Event, ticket: Option<Ticket>) -> bool {
        ticket.is_none_or(|t| e.wait_until(t, None))
    }

    /// Two waiters that began before `set()` both return true, even though `clear()` follows at
    /// once (no lost wake-up, no missed pulse).
    #[test]
    fn loom_event_set_clear_wakes_earlier_waiters() {
        loom::model(|| {
            let e = Arc::new(Event::new());
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let e = e.clone();
                    let t = e.begin_wait();
                    assert!(t.is_some());
                    thread::spawn(move || assert!(wait(&e, t)))
                })
                .collect();
            e.set(Blocking);
            e.clear();
            hs.into_iter().for_each(|h| h.join().unwrap());
            assert!(!e.is_set());
        });
    }

    /// A waiter racing with `set()` (it may begin before or after) always returns; two racing
    /// setters raise the flag once.
    #[test]
    fn loom_event_wait_races_set() {
        loom::model(|| {
            let e = Arc::new(Event::new());
            let waiter = {
                let e = e.clone();
                thread::spawn(move || assert!(wait(&e, e.begin_wait())))
            };
            let setter = {
                let e = e.clone();
                thread::spawn(move || e.set(Blocking))
            };
            e.set(Blocking);
            waiter.join().unwrap();
            setter.join().unwrap();
            assert!(e.is_set());
            assert!(e.begin_wait().is_none());
        });
    }

    /// A ticket taken after set-and-clear waits for the next set, not the old one; a passed
    /// deadline reports the flag without waiting.
    #[test]
    fn loom_event_next_set() {
        loom::model(|| {
            let e = Arc::new(Event::new());
            e.set(Blocking);
            e.clear();
            let t = e.begin_wait().unwrap();
            assert!(!e.wait_until(t, Some(Instant::now())));
            let e2 = e.clone();
            let setter = thread::spawn(move || e2.set(Blocking));
            assert!(e.wait_until(t, None));
            setter.join().unwrap();
        });
    }
}
