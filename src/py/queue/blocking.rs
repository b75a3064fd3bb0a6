//! `put` and `get` in native mode: a try under the mutex, then (if the call may block) waits
//! for room or an item, until the deadline, retried (`waiting::retry_until_deadline`). A queue
//! that switches to compatibility mode meanwhile hands the call over to it.

use super::compat::{compat, compat_block};
use super::errors::{empty_error, full_error, shutdown_error};
use super::{Queue, KIND};
use crate::py::wait::{queue_timeout, queue_wait_timeout, PlaceInLine, Timeout};
use crate::py::waiting::{instrumented, retry_until_deadline, Count};
use crate::sync::park::Place;
use crate::sync::queue::{GetError, Line, PutError};
use crate::sync::waitgraph::Target;
use pyo3::prelude::*;
use std::ops::ControlFlow::{Break, Continue};

/// A put or get wait: listed by `rthreading.dump()` while it lasts (a queue has no owner:
/// never in a cycle), and counted when the queue is tracked. False when the time is up.
/// `place` is the call's place in the line (see `PlaceInLine`), kept from one wait to the next.
fn wait_for_room_or_item(slf: &Bound<'_, Queue>, timeout: Timeout, line: Line, place: &mut Place) -> PyResult<bool> {
    let q = slf.get();
    let target = Target { owner: None, tag: slf.as_ptr() as usize, kind: KIND };
    let count = Count::Queue { slot: &q.stats, put: line == Line::Put };
    let core = &q.core;
    let waited =
        instrumented(slf.py(), target, timeout, count, |until| core.wait_in_place(line, until, place).then_some(()));
    Ok(waited?.is_some())
}

pub(super) fn put(
    slf: &Bound<'_, Queue>,
    item: Bound<'_, PyAny>,
    block: Option<&Bound<'_, PyAny>>,
    timeout: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let py = slf.py();
    let q = slf.get();
    let to_compat = |s: Bound<'_, PyAny>, item: Bound<'_, PyAny>| -> PyResult<()> {
        compat(py, "_put", (slf, s, item, compat_block(py, block), timeout)).map(drop)
    };
    // The stdlib checks shutdown, then reads block/timeout only if the queue is bounded.
    let mut timeout_parsed = Timeout::Forever;
    if block.is_some() || timeout.is_some() {
        let g = q.lock(py)?;
        if let Some(s) = Queue::retired(py, &g) {
            drop(g);
            return to_compat(s, item);
        }
        let (shutdown, bounded) = (g.is_shutdown(), g.cap().is_some());
        drop(g); // before making an exception: that may run Python code
        if shutdown {
            return Err(shutdown_error(py));
        }
        if bounded {
            timeout_parsed = queue_timeout(block, timeout)?;
        }
    }
    let try_put = |item: Py<PyAny>| {
        let mut g = q.lock(py)?;
        if let Some(s) = Queue::retired(py, &g) {
            drop(g);
            return to_compat(s, item.into_bound(py)).map(Break);
        }
        let put = q.put_locked(py, &mut g, item);
        drop(g); // before dropping a returned item or making an exception
        match put {
            Ok(()) => Ok(Break(())),
            Err(PutError::Full(back)) => Ok(Continue(back)),
            Err(PutError::ShutDown(_)) => Err(shutdown_error(py)),
            Err(PutError::Compare(_, e)) => Err(e),
        }
    };
    let first_wait = |t| queue_wait_timeout(py, t);
    let mut in_line = PlaceInLine::new(py, |p| q.core.leave_line(Line::Put, p));
    let place = in_line.place();
    let room = |left| wait_for_room_or_item(slf, left, Line::Put, place);
    match retry_until_deadline(timeout_parsed, item.unbind(), try_put, first_wait, room)? {
        Ok(()) => Ok(()),
        Err(_item) => Err(full_error(py)),
    }
}

pub(super) fn get(
    slf: &Bound<'_, Queue>,
    block: Option<&Bound<'_, PyAny>>,
    timeout: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let py = slf.py();
    let q = slf.get();
    let to_compat = |s: Bound<'_, PyAny>| -> PyResult<Py<PyAny>> {
        compat(py, "_get", (slf, s, compat_block(py, block), timeout)).map(Bound::unbind)
    };
    let mut timeout_parsed = Timeout::Forever;
    if block.is_some() || timeout.is_some() {
        let g = q.lock(py)?;
        if let Some(s) = Queue::retired(py, &g) {
            drop(g);
            return to_compat(s);
        }
        let drained = g.is_shutdown() && g.is_empty();
        drop(g);
        if drained {
            return Err(shutdown_error(py));
        }
        timeout_parsed = queue_timeout(block, timeout)?;
    }
    let try_get = |()| {
        let mut g = q.lock(py)?;
        if let Some(s) = Queue::retired(py, &g) {
            drop(g);
            return to_compat(s).map(Break);
        }
        let got = q.get_locked(py, &mut g);
        drop(g);
        match got {
            Ok(item) => Ok(Break(item)),
            Err(GetError::Empty) => Ok(Continue(())),
            Err(GetError::ShutDown) => Err(shutdown_error(py)),
            Err(GetError::Compare(e)) => Err(e),
        }
    };
    let first_wait = |t| queue_wait_timeout(py, t);
    let mut in_line = PlaceInLine::new(py, |p| q.core.leave_line(Line::Get, p));
    let place = in_line.place();
    let item = |left| wait_for_room_or_item(slf, left, Line::Get, place);
    retry_until_deadline(timeout_parsed, (), try_get, first_wait, item)?.map_err(|()| empty_error(py))
}
