//! The waits the primitives make, built over `wait::wait` in one place each:
//! - `instrumented`: registered in the wait-for graph while it lasts (refused in strict mode if
//!   it would close a cycle), timed, waited detached, counted when its object is tracked;
//! - `retry_until_deadline`: a call that tries, waits for the time left, and tries again.

use super::wait::{wait, wait_uninterruptibly, Timeout};
use super::waitgraph;
use crate::sync::stats::Slot;
use crate::sync::waitgraph::Target;
use pyo3::prelude::*;
use std::ops::ControlFlow;
use std::time::Instant;

/// How a wait is counted when its object is tracked (`stats`).
#[derive(Clone, Copy)]
pub(crate) enum Count<'a> {
    /// Never counted (the object has no counters).
    Not,
    /// An acquisition: counted, acquired or timed out, unless a signal handler's exception
    /// ended it.
    Acquire(&'a Slot),
    /// A queue's wait for room (`put`) or for an item.
    Queue { slot: &'a Slot, put: bool },
}

/// Waits for `target` as `wait::wait` does (`attempt` as there), registered in the wait-for
/// graph meanwhile: for an owned lock an untimed wait that would close a cycle is refused in
/// strict mode (`DeadlockError`). Counted as `count` says.
pub(crate) fn instrumented<R, F>(
    py: Python<'_>,
    target: Target<'_>,
    timeout: Timeout,
    count: Count<'_>,
    attempt: F,
) -> PyResult<Option<R>>
where
    R: Send,
    F: FnMut(Option<Instant>) -> Option<R> + Send,
{
    let _registered = waitgraph::enter(py, target, timeout)?;
    if let Count::Not = count {
        return wait(py, timeout, attempt);
    }
    let t0 = Instant::now();
    let r = wait(py, timeout, attempt);
    match count {
        Count::Not => {}
        Count::Acquire(slot) => {
            if let (Some(c), Ok(got)) = (slot.get(), &r) {
                c.waited(t0.elapsed(), got.is_some());
            }
        }
        Count::Queue { slot, put } => {
            if let Some(c) = slot.get() {
                c.queue_waited(put, t0.elapsed());
            }
        }
    }
    r
}

/// Re-acquires a lock that must be held again before returning (a Condition's lock after its
/// wait): as long as it takes, registered (never refused) and counted as an acquisition. A
/// signal handler's exception raised meanwhile is returned once the lock is held.
pub(crate) fn instrumented_uninterruptibly<F>(
    py: Python<'_>,
    target: Target<'_>,
    counters: &Slot,
    attempt: F,
) -> PyResult<()>
where
    F: FnMut(Option<Instant>) -> Option<()> + Send,
{
    let _registered = waitgraph::enter_quietly(py, target, false);
    let t0 = Instant::now();
    let r = wait_uninterruptibly(py, attempt).1;
    if let Some(c) = counters.get() {
        c.waited(t0.elapsed(), true);
    }
    r
}

/// Tries `attempt` until it answers (`Break`), waiting in between with `wait_for(time left)`
/// (false: the time is up). The deadline counts from the first wait; `first_wait` checks the
/// timeout once, when a wait is first needed (so a call that never waits never refuses it).
/// `state` goes from one try to the next (an item a full queue handed back); it is returned as
/// `Err` when the time is up, or at once after the first try when the call must not block.
pub(crate) fn retry_until_deadline<S, T>(
    timeout: Timeout,
    mut state: S,
    mut attempt: impl FnMut(S) -> PyResult<ControlFlow<T, S>>,
    first_wait: impl Fn(Timeout) -> PyResult<Timeout>,
    mut wait_for: impl FnMut(Timeout) -> PyResult<bool>,
) -> PyResult<Result<T, S>> {
    let mut deadline: Option<Option<Instant>> = None;
    loop {
        state = match attempt(state)? {
            ControlFlow::Break(done) => return Ok(Ok(done)),
            ControlFlow::Continue(s) => s,
        };
        if matches!(timeout, Timeout::NonBlocking) {
            return Ok(Err(state));
        }
        let d = match deadline {
            Some(d) => d,
            None => *deadline.insert(first_wait(timeout)?.deadline()),
        };
        let left = match d {
            None => Timeout::Forever,
            Some(d) => Timeout::After(d.saturating_duration_since(Instant::now())),
        };
        if !wait_for(left)? {
            return Ok(Err(state));
        }
    }
}
