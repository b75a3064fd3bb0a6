//! A queue's internal mutex, taken while attached: try it, spin a little, and detach only to
//! wait for it (rule 1: never block while attached).

use parking_lot::MutexGuard;
use pyo3::prelude::*;
use std::time::Duration;

/// Takes a queue's mutex while attached: it is only ever held for a few instructions, so look
/// for it a few times (spinning, not blocking) before detaching to wait for it.
#[inline]
pub(crate) fn lock_attached<'a, T>(m: &'a parking_lot::Mutex<T>, py: Python<'_>) -> MutexGuard<'a, T> {
    if let Some(g) = m.try_lock() {
        return g;
    }
    lock_contended(m, py)
}

/// The mutex if it is free now or within a short spin, without ever waiting for it: for the
/// fast entries (`fastcall`), which hand the call to the full method when this fails. With
/// several producers and consumers on one queue the mutex is often held for the few
/// instructions of another put or get; giving up at the first try sent each such call through
/// PyO3's argument handling and a detach, which cost more than the wait.
#[inline(always)]
pub(crate) fn try_lock_briefly<T>(m: &parking_lot::Mutex<T>) -> Option<MutexGuard<'_, T>> {
    m.try_lock().or_else(|| try_lock_spinning(m))
}

/// As `try_lock_briefly`, for a queue whose puts never wait (`SimpleQueue`): a thread that
/// finds the mutex held steps aside for longer, yielding the CPU `STEP_ASIDE` times without
/// looking at the mutex, then tries once, as CPython's own mutex does (the stdlib's C
/// `SimpleQueue` takes it for every put and get). Threads that lose a race stop racing for a
/// while: the holder keeps the mutex's cache line, and the producers run ahead of the consumers,
/// who then find items waiting instead of taking turns at the mutex item by item. A put steps
/// aside for `PUT_ASIDE` at most, and not at all once the getters have caught up (`put`: a
/// put's question whether they have, asked only when the mutex is held; see `poll_briefly`).
#[inline(always)]
pub(crate) fn try_lock_stepping_aside<'a, T>(
    m: &'a parking_lot::Mutex<T>,
    put: Option<&dyn Fn() -> bool>,
) -> Option<MutexGuard<'a, T>> {
    m.try_lock().or_else(|| step_aside(m, put))
}

#[cold]
fn step_aside<'a, T>(m: &'a parking_lot::Mutex<T>, put: Option<&dyn Fn() -> bool>) -> Option<MutexGuard<'a, T>> {
    if put.is_some_and(|caught_up| caught_up()) {
        if let Some(g) = poll_briefly(m) {
            return Some(g);
        }
    }
    crate::sync::spin::step_aside(STEP_ASIDE, put.is_some().then_some(PUT_ASIDE));
    m.try_lock()
}

// CPython's mutex yields up to 40 times before it parks (`MAX_SPIN_COUNT`, Python/lock.c). 2
// producers/2 consumers through a `SimpleQueue` (ns per item, alone; the stdlib ~90 with items
// `None`, ~120 with ints): yielding twice and looking after each 97-106 and 112-128; stepping
// aside 8 times 79-86 / 110-116, 16-64 times 73-93 / 98-120; bench row 0.7-0.9x -> 1.06-1.13x.
// Not for a bounded `Queue`, whose putters wait for the getters: there the same measured 2-3x
// slower. Not on a GIL build, where the fast entry holds the GIL while it yields.
#[cfg(Py_GIL_DISABLED)]
const STEP_ASIDE: u32 = 40;
#[cfg(not(Py_GIL_DISABLED))]
const STEP_ASIDE: u32 = YIELDS;

// A put's yields end after `PUT_ASIDE`. When a thread's yields hand its CPU to a thread that is
// itself stepping aside, they take turns yielding, a context switch each (~1 us), and nobody
// works: seen with 2 producers/2 consumers and items `None` once one producer has finished
// (the other steps aside for every put while one consumer yields back to it, the second
// consumer parked): the last 50k items at ~600 ns each, the run 2-5x its usual length in a
// third of runs. The kernel (EEVDF) also pushes a yielding thread's deadline a slice later per
// yield, so that 40 of them can leave a thread off its CPU for milliseconds. Ns per item, 30-40
// runs of 200k, median (p90): items `None` 103-236 (311-494) -> 76-80 (79-100); ints 111-113
// (116-120) -> 115-116 (119-121); the stdlib 101-102 (116-120) and 121-122 (126-128). Puts
// bounded at 4-12 us: ints 119-125 with runs at 2.5x. Gets bounded at 12 us: 385-586 ns (getters
// coming back sooner contend with the putters and each other).
const PUT_ASIDE: Duration = Duration::from_micros(20);

/// A put's wait for the mutex when the getters have caught up (the queue is empty): a getter
/// holds it for a get or a look at the queue, running on another CPU, so poll it, a few pause
/// instructions between looks, for `POLLS` looks at most (a few microseconds), before stepping
/// aside.
#[cold]
fn poll_briefly<T>(m: &parking_lot::Mutex<T>) -> Option<MutexGuard<'_, T>> {
    (0..POLLS).find_map(|_| {
        for _ in 0..8 {
            std::hint::spin_loop();
        }
        look_and_try(m)
    })
}

// A consumer that keeps up with its producer (1 producer/1 consumer) finds the queue empty every
// few items, and its gets and looks then take the mutex under the producer's puts: a put
// stepping aside there (up to 20 us) only starves the consumer further, and a run could stay in
// that regime to its end (the producer's step-asides 81 of a run's 93 ms). Items `None`, ns per
// item, 64 runs of 200k in 8 processes, median (max): 101-108 (355-531) -> 84-88 (124-131), the
// stdlib 96-104 (122-153). With 2 producers/2 consumers the queue is seldom empty: 78 -> 78-81.
// (Polling only while a getter is inside its wait, not whenever the queue is empty: 104 (513).)
const POLLS: u32 = 32;

/// A few tries for a mutex held briefly by another thread, yielding the CPU before each: the
/// holder (or another thread of this CPU) runs meanwhile, and this thread does not touch the
/// mutex's cache line until it looks again.
#[cold]
fn try_lock_spinning<T>(m: &parking_lot::Mutex<T>) -> Option<MutexGuard<'_, T>> {
    (0..YIELDS).find_map(|_| {
        std::thread::yield_now();
        look_and_try(m)
    })
}

/// The mutex if it looks free and the try takes it: a look only reads its cache line.
#[inline(always)]
fn look_and_try<T>(m: &parking_lot::Mutex<T>) -> Option<MutexGuard<'_, T>> {
    if m.is_locked() {
        None
    } else {
        m.try_lock()
    }
}

// Two yields: a few hundred nanoseconds each when this CPU has nothing else to run, the time a
// put or get holds the mutex many times over, far less than a detach, a park and a wake-up.
// Not a pause loop polling the mutex: each look pulls the mutex's cache line away from its
// holder, whose unlock must then take it back, and with 2 producers and 2 consumers on 2 CPUs
// the handing of that line back and forth was most of the cost (2P2C `SimpleQueue`: ~200 ns
// per item with a loop of 1, 2, ..., 32 pauses, ~135 ns yielding; 1, 2, 4 or 8 yields alike).
const YIELDS: u32 = 2;

#[cold]
fn lock_contended<'a, T>(m: &'a parking_lot::Mutex<T>, py: Python<'_>) -> MutexGuard<'a, T> {
    try_lock_spinning(m).unwrap_or_else(|| crate::py::wait::lock_attached(m, py))
}
