//! The spin before parking. Waking a parked thread costs tens of microseconds on an idle VM;
//! in a hand-off between two threads the other side usually acts within a few microseconds. So
//! a core wait first looks a few times for what it waits for, then parks.
//!
//! Rounds: a few busy ones (round i pauses 2^i times), then ones that yield the CPU. Yielding
//! serves both cases on few cores: the other side runs on this core (it gets the CPU at once)
//! or on another (the yield returns at once and the check repeats). Measured on 2 cores
//! (the queue scenarios of `python -m rthreading.bench`): ping-pong and producers/consumers gain several times over parking
//! at once, and over longer busy spinning. CPython's own locks do the same (40 yields,
//! `MAX_SPIN_COUNT` in Python/lock.c).

use super::prim::{yield_now, Instant};

#[cfg(not(loom))]
const SPIN_BUSY: u32 = 3;
#[cfg(not(loom))]
const SPIN_YIELDS: u32 = 20;
// Under loom: no busy round, one (loom) yield and one look, so that both outcomes of the spin
// are explored without multiplying the interleavings.
#[cfg(loom)]
const SPIN_BUSY: u32 = 0;
#[cfg(loom)]
const SPIN_YIELDS: u32 = 1;

/// Spins until `ready()` (true), the rounds are spent or `deadline` passes (false). `ready`
/// must be cheap and must not block (e.g. a `try_lock` and a look at the state).
#[cfg_attr(loom, allow(clippy::absurd_extreme_comparisons))] // SPIN_BUSY is 0 under loom
pub fn spin_until(deadline: Option<Instant>, mut ready: impl FnMut() -> bool) -> bool {
    if deadline.is_some_and(|d| Instant::now() >= d) {
        return false;
    }
    for round in 0..SPIN_BUSY + SPIN_YIELDS {
        if round < SPIN_BUSY {
            for _ in 0..1u32 << round {
                std::hint::spin_loop();
            }
        } else {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return false;
            }
            yield_now();
        }
        if ready() {
            return true;
        }
    }
    false
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn stops_when_ready_or_spent() {
        let mut n = 0;
        assert!(spin_until(None, || {
            n += 1;
            n == 5
        }));
        assert!(!spin_until(None, || false));
        assert!(!spin_until(Some(Instant::now() - Duration::from_millis(1)), || true));
    }
}
