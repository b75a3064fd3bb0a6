//! The one spin-then-park policy of the core: before a wait parks its thread, it polls for what
//! it waits for, for an adaptive time budget kept per object (per primitive, per queue, per
//! pool). Handing something to a thread that is still polling costs a microsecond or two; waking
//! a parked one costs tens of microseconds on this VM (the kernel's futex wake and reschedule).
//!
//! The budget adapts (`AdaptiveSpin`), the way KVM adapts its halt polling: a spin that catches
//! what it waited for keeps (doubles) the budget; after a spin that gave up, the wait's whole
//! length decides: one that ended within the maximum budget would have been caught by spinning
//! longer, so the budget doubles; a longer one (a slow partner, sparse work, a machine whose
//! CPUs are taken) halves it, down to a small floor, so a waiter whose partner is slow parks
//! almost at once and burns no CPU. A failed spin alone says nothing: two threads handing work
//! back and forth would otherwise talk each other out of spinning after one hiccup.
//!
//! The maximum matters most: in a two-thread hand-off, once one side has parked, the other's
//! reply comes one wake-up later, so only a budget longer than a wake-up (`HANDOFF`) brings the
//! pair back to the polling regime; a shorter one leaves both parking on every round trip.
//!
//! Gathering (`Gather`, a queue's getters): a getter that keeps up with a producer feeding it
//! without pause catches every item alone, and each hand-off moves the queue's cache lines
//! between two CPUs (~1 us here): the producer is held to that pace (a task feeding a thread:
//! 0.8-1.0M items/s). Letting items gather before looking costs latency instead, which a
//! ping-pong (two threads waiting on each other) cannot afford. `Gather` tells them apart by
//! what a delay finds: several items, a stream (the delay doubles, up to 128 us: 2.1-2.4M
//! items/s in that case), or one, a partner waiting for the answer (it halves, to none). With
//! no delay in force, one wait in 64 of a thread probes with a short one. One getter of a queue
//! gathers at a time.
//!
//! Polling: busy (`spin_loop`) between clock reads; where the object's waiters may outnumber the
//! CPUs (primitives and queues, `Polling::Yielding`), each clock read also yields, so that a
//! runnable thread on this CPU (the one about to deliver) gets it; the pool's workers and result
//! waits poll without yielding (`Polling::Busy`): on a loaded machine `sched_yield` hands the CPU
//! to another process for a whole time slice (measured: 1-3 us hand-offs became 70-160 us).

#[cfg(not(loom))]
use std::hint::spin_loop;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// The longest a primitive's or a queue's wait polls before it parks: past a wake-up (~30 us
/// here) plus the partner's turn.
pub const HANDOFF: Duration = Duration::from_micros(64);
/// The shortest adaptive spin: enough to notice that spinning pays again.
const FLOOR: Duration = Duration::from_micros(2);

/// How a spin polls (see the module notes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polling {
    Busy,
    Yielding,
}

/// A spin budget that follows how long waits take (see the module notes).
#[derive(Debug)]
pub struct AdaptiveSpin {
    budget_ns: AtomicU32,
    max_ns: u32,
    polling: Polling,
}

const FLOOR_NS: u32 = FLOOR.as_nanos() as u32;

impl Default for AdaptiveSpin {
    /// A primitive's or a queue's: up to `HANDOFF`, yielding.
    fn default() -> Self {
        Self::new(HANDOFF, Polling::Yielding)
    }
}

impl AdaptiveSpin {
    pub const fn new(max: Duration, polling: Polling) -> Self {
        let max_ns = max.as_nanos() as u32;
        AdaptiveSpin { budget_ns: AtomicU32::new(max_ns), max_ns, polling }
    }

    /// The current budget.
    pub fn budget(&self) -> Duration {
        Duration::from_nanos(u64::from(self.budget_ns.load(Relaxed).max(FLOOR_NS)))
    }

    fn grow(&self) {
        let current = self.budget_ns.load(Relaxed);
        if current < self.max_ns {
            self.budget_ns.store(current.saturating_mul(2).clamp(FLOOR_NS, self.max_ns), Relaxed);
        }
    }

    /// `spin_until` with the current budget; a success keeps the budget growing.
    pub fn spin_until(&self, deadline: Option<Instant>, done: impl FnMut() -> bool) -> bool {
        let ok = spin_until(deadline, self.budget(), self.polling, done);
        if ok {
            self.grow();
        }
        ok
    }

    /// After a spin that gave up, the wait ended `waited` after it began (spin included).
    pub fn blocked(&self, waited: Duration) {
        if waited.as_nanos() <= u128::from(self.max_ns) {
            self.grow();
        } else {
            let current = self.budget_ns.load(Relaxed);
            self.budget_ns.store((current / 2).max(FLOOR_NS), Relaxed);
        }
    }
}

/// Whether a queue's getters let items gather before they look (see the module notes).
#[derive(Debug, Default)]
pub struct Gather {
    /// The current delay (0: none, only the probes).
    delay_ns: AtomicU32,
    /// Getters gathering now: one at a time (several consumers share what gathers, and their
    /// waits would keep the CPUs from the producers).
    active: AtomicU32,
}

/// The first delay tried (a probe, with no delay in force): ~13 items of a producer that
/// takes 0.3 us per item, so one item found means nobody streams.
const GATHER_PROBE_NS: u32 = 4_000;
/// The longest delay: ~400 items at that pace, the stdlib's consumer's wake-up (~30-50 us
/// here) a few times over.
const GATHER_MAX_NS: u32 = 128_000;

// 1 producer/1 consumer through a `SimpleQueue`, ints, ns per item (64 runs of 200k in 8
// processes, median): 32 us 160-168, 128 us 146-152, 256 us 141-143; the stdlib 133-145. The
// consumer's every drop of an int goes to the producer's thread to be freed (biased reference
// counting), and the fewer times the consumer catches up with the producer, the less that costs.
// 32 us (100 items at 0.3 us) was enough for a task feeding a thread. Items `None`: 84-88 at any
// of them; 2 producers/2 consumers (getters seldom wait there): unchanged.

/// With no delay in force, a thread's one wait in this many probes: ~60 ns per wait on
/// average in a ping-pong (measured: Queue ping-pong 1.29-1.31 us -> 1.39-1.49 us per round trip).
const PROBE_EVERY: u32 = 64;

impl Gather {
    pub const fn new() -> Self {
        Gather { delay_ns: AtomicU32::new(0), active: AtomicU32::new(0) }
    }

    /// Before a getter waits for an item: if this queue's getters gather (or a probe is due),
    /// lets the delay pass without looking at the queue, then `look`s (-> the queue's length,
    /// and whether it is full: then the producers had to stop, the delay was too long) and
    /// adapts the delay. Returns whether an item is there (false: wait as usual).
    pub fn gathered(&self, deadline: Option<Instant>, look: impl FnOnce() -> (usize, bool)) -> bool {
        let Some(d) = self.delay_ns() else {
            return false;
        };
        spin_until(deadline, Duration::from_nanos(u64::from(d)), Polling::Yielding, || false);
        let (len, full) = look();
        self.active.fetch_sub(1, Relaxed);
        let next = if len > 1 && !full { d.saturating_mul(2).min(GATHER_MAX_NS) } else { d / 2 };
        self.delay_ns.store(if next < GATHER_PROBE_NS { 0 } else { next }, Relaxed);
        len > 0
    }

    /// The delay this getter lets pass (ns), counted as active; None: no gathering now.
    fn delay_ns(&self) -> Option<u32> {
        // Not in the models: the per-thread count outlives a model's run, so the probes would
        // fall at other points from one run to the next (loom needs each run deterministic);
        // a gathering getter only looks later, as a getter the scheduler delayed would.
        if cfg!(loom) {
            return None;
        }
        let mut d = self.delay_ns.load(Relaxed);
        if d == 0 {
            // Counted per thread: a count kept on the queue would be one more write to its
            // cache lines per wait.
            thread_local!(static WAITS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) });
            let n = WAITS.with(|w| {
                let n = w.get().wrapping_add(1);
                w.set(n);
                n
            });
            if n % PROBE_EVERY != 0 {
                return None;
            }
            d = GATHER_PROBE_NS;
        }
        if self.active.fetch_add(1, Relaxed) > 0 {
            self.active.fetch_sub(1, Relaxed);
            return None;
        }
        Some(d)
    }
}

/// Yields the CPU `times` times without looking at anything, ending early once `bound` (if
/// any) has passed: a thread that lost a race for a lock or a queue's mutex steps aside, so
/// that the holder runs on undisturbed and keeps the cache lines it works on, instead of the
/// two taking turns item by item or block by block (`py::lock`, `py::queue::mutex`).
pub fn step_aside(times: u32, bound: Option<Duration>) {
    let start = bound.map(|b| (Instant::now(), b));
    for _ in 0..times {
        crate::sync::prim::yield_now();
        if start.is_some_and(|(t, b)| t.elapsed() >= b) {
            break;
        }
    }
}

/// Polls between two clock reads.
#[cfg(not(loom))]
const POLLS_PER_CHECK: u32 = 16;

/// Polls `done` until it returns true (-> true), `budget` has passed or `deadline` has passed
/// (-> the last answer of `done`). `done` must be cheap and must not block (an atomic load, a
/// `try_lock` and a look).
#[inline]
#[cfg_attr(loom, allow(clippy::needless_return))] // the loom branch returns early
pub fn spin_until(
    deadline: Option<Instant>,
    budget: Duration,
    polling: Polling,
    mut done: impl FnMut() -> bool,
) -> bool {
    if done() {
        return true;
    }
    // Under loom: one (loom) yield and one more look, no clock (see sync/prim.rs).
    #[cfg(loom)]
    {
        let _ = (deadline, budget, polling);
        crate::sync::prim::yield_now();
        return done();
    }
    #[cfg(not(loom))]
    {
        let start = Instant::now();
        let limit = deadline.map_or(start + budget, |d| d.min(start + budget));
        loop {
            for _ in 0..POLLS_PER_CHECK {
                spin_loop();
                if done() {
                    return true;
                }
            }
            if Instant::now() >= limit {
                return done();
            }
            if polling == Polling::Yielding {
                crate::sync::prim::yield_now();
                if done() {
                    return true;
                }
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn gives_up_after_the_budget() {
        let t0 = Instant::now();
        assert!(!spin_until(None, Duration::from_millis(2), Polling::Busy, || false));
        assert!(t0.elapsed() >= Duration::from_millis(2));
    }

    #[test]
    fn adaptive_budget_follows_the_length_of_waits() {
        let a = AdaptiveSpin::new(Duration::from_micros(16), Polling::Busy);
        assert_eq!(a.budget(), Duration::from_micros(16));
        assert!(!a.spin_until(Some(Instant::now() + Duration::from_micros(1)), || false));
        assert_eq!(a.budget(), Duration::from_micros(16)); // a failed spin alone changes nothing
        a.blocked(Duration::from_millis(1)); // long waits: spinning does not pay
        assert_eq!(a.budget(), Duration::from_micros(8));
        for _ in 0..10 {
            a.blocked(Duration::from_millis(1));
        }
        assert_eq!(a.budget(), FLOOR);
        a.blocked(Duration::from_micros(10)); // a short wait: a longer spin would have caught it
        assert_eq!(a.budget(), Duration::from_micros(4));
        assert!(a.spin_until(None, || true));
        assert!(a.spin_until(None, || true));
        assert_eq!(a.budget(), Duration::from_micros(16));
        assert!(a.spin_until(None, || true));
        assert_eq!(a.budget(), Duration::from_micros(16));
    }

    #[test]
    fn gathering_follows_what_the_delay_finds() {
        let g = Gather::new();
        let probes = (0..2 * PROBE_EVERY).filter(|_| g.gathered(None, || (0, false))).count();
        assert_eq!(probes, 0); // nothing found: no item, no delay kept
        assert_eq!(g.delay_ns.load(Relaxed), 0);
        // A probe that finds several items starts gathering; the delay doubles while they come.
        while g.delay_ns.load(Relaxed) == 0 {
            g.gathered(None, || (5, false));
        }
        assert_eq!(g.delay_ns.load(Relaxed), 2 * GATHER_PROBE_NS);
        for _ in 0..10 {
            assert!(g.gathered(None, || (5, false)));
        }
        assert_eq!(g.delay_ns.load(Relaxed), GATHER_MAX_NS);
        // A full queue (the producers had to stop) or a lone item: it shrinks, to none.
        assert!(g.gathered(None, || (100, true)));
        assert_eq!(g.delay_ns.load(Relaxed), GATHER_MAX_NS / 2);
        let mut halvings = 0;
        while g.delay_ns.load(Relaxed) != 0 {
            g.gathered(None, || (1, false));
            halvings += 1;
        }
        assert_eq!(halvings, (GATHER_MAX_NS / 2 / GATHER_PROBE_NS).ilog2() + 1);
        assert_eq!(g.active.load(Relaxed), 0);
    }

    #[test]
    fn stops_at_the_deadline_and_on_success() {
        assert!(!spin_until(Some(Instant::now()), Duration::from_secs(10), Polling::Yielding, || false));
        let mut n = 0;
        assert!(spin_until(None, Duration::from_secs(10), Polling::Yielding, || {
            n += 1;
            n == 100
        }));
    }
}
