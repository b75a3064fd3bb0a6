//! The pool's spin budgets (the policy is the core's, `sync::spin`). Handing a task to a worker
//! and its result back costs a microsecond or two when both threads are on a CPU; parking one
//! of them adds a wake-up to every hand-off. Both poll without yielding (`Polling::Busy`).

use crate::sync::spin::{AdaptiveSpin, Polling};
use std::time::Duration;

/// The longest `Future::wait_until` polls before it parks.
pub const RESULT_SPIN: Duration = Duration::from_micros(20);
/// The longest an idle worker polls the queue before it parks.
pub const IDLE_SPIN: Duration = Duration::from_micros(50);

/// The spin budget of result waits, shared by every future.
pub static RESULT_WAITS: AdaptiveSpin = AdaptiveSpin::new(RESULT_SPIN, Polling::Busy);

/// An idle worker's budget: one per pool.
pub fn idle_spin() -> AdaptiveSpin {
    AdaptiveSpin::new(IDLE_SPIN, Polling::Busy)
}
