//! Short bounded spinning before parking. Handing a task to a worker and its result back costs
//! a few microseconds when both threads are awake; parking one of them adds a futex wake-up and
//! a reschedule (tens of microseconds) to every hand-off. So a thread that expects something
//! soon first polls for a bounded time, yielding the CPU now and then so that a spinner never
//! starves the thread it is waiting for on a busy machine.

use std::hint::spin_loop;
use std::time::{Duration, Instant};

/// How long `Future::wait_until` polls before it parks.
pub const RESULT_SPIN: Duration = Duration::from_micros(20);
/// How long an idle worker polls the queue before it parks.
pub const IDLE_SPIN: Duration = Duration::from_micros(50);

/// Polls between two clock reads.
const POLLS_PER_CHECK: u32 = 16;
/// Rounds of polls between two `yield_now`.
const ROUNDS_PER_YIELD: u32 = 4;

/// Polls `done` until it returns true (-> true), `budget` has passed or `deadline` has passed
/// (-> the last answer of `done`).
#[inline]
pub fn spin_until(deadline: Option<Instant>, budget: Duration, mut done: impl FnMut() -> bool) -> bool {
    if done() {
        return true;
    }
    let start = Instant::now();
    let limit = deadline.map_or(start + budget, |d| d.min(start + budget));
    let mut round = 0u32;
    loop {
        for _ in 0..POLLS_PER_CHECK {
            spin_loop();
            if done() {
                return true;
            }
        }
        round += 1;
        if round % ROUNDS_PER_YIELD == 0 {
            std::thread::yield_now();
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
    fn stops_at_the_deadline_and_on_success() {
        assert!(!spin_until(Some(Instant::now()), Duration::from_secs(10), || false));
        let mut n = 0;
        assert!(spin_until(None, Duration::from_secs(10), || {
            n += 1;
            n == 100
        }));
    }
}
