//! Short bounded spinning before parking. Handing a task to a worker and its result back costs
//! a microsecond or two when both threads are on a CPU; parking one of them adds a futex
//! wake-up and a reschedule (microseconds to tens of microseconds) to every hand-off. So a
//! thread that expects something soon first polls for a bounded time. It does not yield while
//! it polls: on a loaded machine `sched_yield` hands the CPU to another process for a whole time
//! slice (measured here: 1-3 us hand-offs became 70-160 us).
//!
//! Spinning only pays when the thread it waits for is running on another CPU, and only for a
//! wait shorter than the spin. So the budget adapts (`AdaptiveSpin`), the way KVM adapts its
//! halt polling: a spin that catches what it waited for keeps (doubles) the budget; after a
//! spin that gave up, the wait's whole length decides: one that ended within the maximum budget
//! would have been caught by spinning longer, so the budget doubles; a longer one (a long task,
//! sparse work, a machine whose CPUs are taken) halves it, down to a small floor. A failed spin
//! alone says nothing: two threads handing work back and forth would otherwise talk each other
//! out of spinning after one hiccup (the one parks, so the other's spin fails, ...).

#[cfg(not(loom))]
use std::hint::spin_loop;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// The longest `Future::wait_until` polls before it parks.
pub const RESULT_SPIN: Duration = Duration::from_micros(20);
/// The longest an idle worker polls the queue before it parks.
pub const IDLE_SPIN: Duration = Duration::from_micros(50);
/// The shortest adaptive spin: enough to notice that spinning pays again.
const FLOOR: Duration = Duration::from_micros(2);

/// The spin budget of result waits, shared by every future.
pub static RESULT_WAITS: AdaptiveSpin = AdaptiveSpin::new(RESULT_SPIN);

/// A spin budget that follows how long waits take (see the module notes).
#[derive(Debug)]
pub struct AdaptiveSpin {
    budget_ns: AtomicU32,
    max_ns: u32,
}

const FLOOR_NS: u32 = FLOOR.as_nanos() as u32;

impl AdaptiveSpin {
    pub const fn new(max: Duration) -> Self {
        let max_ns = max.as_nanos() as u32;
        AdaptiveSpin { budget_ns: AtomicU32::new(max_ns), max_ns }
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
        let ok = spin_until(deadline, self.budget(), done);
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

/// Polls between two clock reads.
#[cfg(not(loom))]
const POLLS_PER_CHECK: u32 = 16;

/// Polls `done` until it returns true (-> true), `budget` has passed or `deadline` has passed
/// (-> the last answer of `done`).
#[inline]
#[cfg_attr(loom, allow(clippy::needless_return))] // the loom branch returns early
pub fn spin_until(deadline: Option<Instant>, budget: Duration, mut done: impl FnMut() -> bool) -> bool {
    if done() {
        return true;
    }
    // Under loom: one (loom) yield and one more look, no clock (see sync/prim.rs).
    #[cfg(loom)]
    {
        let _ = (deadline, budget);
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
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn gives_up_after_the_budget() {
        let t0 = Instant::now();
        assert!(!spin_until(None, Duration::from_millis(2), || false));
        assert!(t0.elapsed() >= Duration::from_millis(2));
    }

    #[test]
    fn adaptive_budget_follows_the_length_of_waits() {
        let a = AdaptiveSpin::new(Duration::from_micros(16));
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
    fn stops_at_the_deadline_and_on_success() {
        assert!(!spin_until(Some(Instant::now()), Duration::from_secs(10), || false));
        let mut n = 0;
        assert!(spin_until(None, Duration::from_secs(10), || {
            n += 1;
            n == 100
        }));
    }
}
