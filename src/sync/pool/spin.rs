//! Short bounded spinning before parking. Handing a task to a worker and its result back costs
//! a microsecond or two when both threads are on a CPU; parking one of them adds a futex
//! wake-up and a reschedule (microseconds to tens of microseconds) to every hand-off. So a
//! thread that expects something soon first polls for a bounded time. It does not yield while
//! it polls: on a loaded machine `sched_yield` hands the CPU to another process for a whole time
//! slice (measured here: 1-3 us hand-offs became 70-160 us).
//!
//! Spinning only pays when the thread it waits for is running on another CPU. On a machine
//! whose CPUs are taken (by other processes, or more runnable threads than CPUs) the spinner
//! delays the very thread it waits for, and a hand-off that takes 1-3 us spinning takes tens of
//! microseconds. So the budget adapts (`AdaptiveSpin`): it doubles after a spin that caught
//! what it waited for and halves after one that gave up, between a small floor and its maximum.

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

/// A spin budget that follows how often spinning succeeds (see the module notes).
#[derive(Debug)]
pub struct AdaptiveSpin {
    budget_ns: AtomicU32,
    max_ns: u32,
}

impl AdaptiveSpin {
    pub const fn new(max: Duration) -> Self {
        let max_ns = max.as_nanos() as u32;
        AdaptiveSpin { budget_ns: AtomicU32::new(max_ns), max_ns }
    }

    /// The current budget.
    pub fn budget(&self) -> Duration {
        Duration::from_nanos(u64::from(self.budget_ns.load(Relaxed).max(FLOOR.as_nanos() as u32)))
    }

    /// `spin_until` with the current budget, then adapts the budget to the outcome (unless the
    /// deadline, not the budget, ended the spin).
    pub fn spin_until(&self, deadline: Option<Instant>, done: impl FnMut() -> bool) -> bool {
        let budget = self.budget();
        let ok = spin_until(deadline, budget, done);
        let current = self.budget_ns.load(Relaxed);
        if ok {
            if current < self.max_ns {
                self.budget_ns.store(current.saturating_mul(2).clamp(FLOOR.as_nanos() as u32, self.max_ns), Relaxed);
            }
        } else if deadline.is_none_or(|d| d > Instant::now()) {
            self.budget_ns.store(current / 2, Relaxed);
        }
        ok
    }
}

/// Polls between two clock reads.
const POLLS_PER_CHECK: u32 = 16;

/// Polls `done` until it returns true (-> true), `budget` has passed or `deadline` has passed
/// (-> the last answer of `done`).
#[inline]
pub fn spin_until(deadline: Option<Instant>, budget: Duration, mut done: impl FnMut() -> bool) -> bool {
    if done() {
        return true;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_up_after_the_budget() {
        let t0 = Instant::now();
        assert!(!spin_until(None, Duration::from_millis(2), || false));
        assert!(t0.elapsed() >= Duration::from_millis(2));
    }

    #[test]
    fn adaptive_budget_halves_on_failure_and_doubles_on_success() {
        let a = AdaptiveSpin::new(Duration::from_micros(16));
        assert_eq!(a.budget(), Duration::from_micros(16));
        assert!(!a.spin_until(None, || false));
        assert_eq!(a.budget(), Duration::from_micros(8));
        for _ in 0..10 {
            a.spin_until(None, || false);
        }
        assert_eq!(a.budget(), FLOOR);
        assert!(a.spin_until(None, || true));
        assert!(a.spin_until(None, || true));
        assert!(a.spin_until(None, || true));
        assert_eq!(a.budget(), Duration::from_micros(8));
        // A spin ended by its deadline says nothing about spinning.
        assert!(!a.spin_until(Some(Instant::now()), || false));
        assert_eq!(a.budget(), Duration::from_micros(8));
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
