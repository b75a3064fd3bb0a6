//! The state machine behind `queue.SimpleQueue`: an unbounded FIFO with no task accounting and
//! no shutdown. A put never blocks; a getter waits detached (`wait_not_empty`) and retries.
//!
//! A put is reentrant, as the stdlib's C `SimpleQueue.put`: one that interrupts a put or a get
//! of the same queue in the same thread (a finaliser, a signal handler) neither deadlocks nor
//! corrupts the queue. Nothing else runs while the mutex is held, except an asyncio task's
//! waker (a getter's `Waiter` callback, which calls the task's event loop); a put that the
//! waker's Python code makes (the garbage collector running a finaliser there, a signal
//! handler, a loop that logs to this queue) cannot take the mutex its own thread holds, so it
//! leaves its item aside (`put_reentrant`), and the waking thread moves it into the queue
//! before it unlocks.

use crate::sync::park::{leave_line, wait_in_line, Place, Watchers};
use crate::sync::prim::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use crate::sync::prim::current_thread_ident;
use crate::sync::prim::{Instant, Mutex};
use crate::sync::spin::{AdaptiveSpin, Gather, Polling, HANDOFF};
use crossbeam_utils::CachePadded;
use std::collections::VecDeque;

// What a put or a get touches, next to the mutex (see `SimpleQueue::state`).
#[repr(C)]
pub struct SimpleState<T> {
    // A one-level ring, which holds up to twice the room it uses, as the stdlib's C queue's
    // does: `Queue`'s two-level deque of blocks (one pointer per item, see `chunked`) updates
    // a block's header on the heap on every put and get, one cache line more per operation.
    items: VecDeque<T>,
    /// Threads and asyncio tasks waiting for an item, in the order they came: one woken per
    /// item put (see `park`).
    pub getters: Watchers,
    /// The threads selecting over this queue among others (see `select`).
    pub selectors: Watchers,
}

impl<T> SimpleState<T> {
    #[inline]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    /// Everything, for the garbage collector (to be dropped once unlocked).
    pub fn take_all(&mut self) -> Vec<T> {
        std::mem::take(&mut self.items).into()
    }

    /// Gives back room a drained queue no longer needs: half of it once the items fill no more
    /// than a quarter, as the stdlib's C `SimpleQueue` does.
    #[inline]
    fn shrink(&mut self) {
        let cap = self.items.capacity();
        if cap > MIN_ROOM && self.items.len() <= cap / 4 {
            self.items.shrink_to(cap / 2);
        }
    }
}

/// Room kept however few items are queued (the stdlib's C `SimpleQueue` starts with 8).
const MIN_ROOM: usize = 64;

pub struct SimpleQueue<T> {
    // The mutex and what it guards, alone in a 128-byte block (boxed, for the alignment;
    // CPUs fetch lines in pairs): with producers and consumers on different CPUs every put
    // and get moves the lines it writes between them, and these are the only ones that move
    // but the items' own (2 producers and 2 consumers on 2 CPUs, items `None`: 135 ns per
    // item with a two-level deque inline in the object, 121 with a one-level deque, 106-113
    // boxed apart, the stdlib's C queue 90).
    state: Box<CachePadded<Mutex<SimpleState<T>>>>,
    /// The spin budget of this object's waits (see `spin`).
    spin: AdaptiveSpin,
    /// How long a getter lets items gather before it looks (see `spin::Gather`).
    gather: Gather,
    // Whether the queue held items when its mutex was last released: a hint that a getter's
    // spin reads instead of trying the mutex. Polling the mutex (a compare-and-swap each time)
    // pulls its cache line away from the producers on every poll; a load only shares it, so
    // 2 consumers polling an empty queue no longer slow the 2 producers filling it. The
    // getter takes the mutex and looks again before it believes the hint.
    nonempty: AtomicBool,
    /// The thread running a getter's waker under the mutex (0: none; see the module notes).
    waking: AtomicU64,
    /// Items that thread put from within the waker, for it to move into the queue; and
    /// whether there are any (read without taking that mutex on every wake-up).
    reentered: Mutex<Vec<T>>,
    any_reentered: AtomicBool,
}

impl<T> Default for SimpleQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> SimpleQueue<T> {
    pub fn new() -> Self {
        SimpleQueue {
            state: Box::new(CachePadded::new(Mutex::new(SimpleState {
                items: VecDeque::new(),
                getters: Watchers::new(),
                selectors: Watchers::new(),
            }))),
            spin: AdaptiveSpin::new(HANDOFF, Polling::Yielding),
            gather: Gather::new(),
            nonempty: AtomicBool::new(false),
            waking: AtomicU64::new(0),
            reentered: Mutex::new(Vec::new()),
            any_reentered: AtomicBool::new(false),
        }
    }

    #[inline]
    pub fn state(&self) -> &Mutex<SimpleState<T>> {
        &self.state
    }

    #[inline]
    pub fn put_locked(&self, s: &mut SimpleState<T>, item: T) {
        // (`nonempty` is true whenever the queue holds items: set on each put into an empty
        // queue, cleared by the get that empties it.)
        if s.items.is_empty() {
            self.nonempty.store(true, Relaxed);
        }
        s.items.push_back(item);
        if !s.selectors.is_empty() {
            s.selectors.notify();
        }
        if !s.getters.is_empty() {
            self.wake_getter(s);
        }
    }

    /// Wakes the first getter in line; then moves into the queue what a put made from within
    /// a task's waker left aside (see the module notes), waking a getter for each.
    fn wake_getter(&self, s: &mut SimpleState<T>) {
        self.waking.store(current_thread_ident(), Relaxed);
        s.getters.notify_one();
        self.waking.store(0, Relaxed);
        // (Written by this thread only, from within the waker.)
        while self.any_reentered.load(Relaxed) {
            self.any_reentered.store(false, Relaxed);
            let items = std::mem::take(&mut *self.reentered.lock());
            for item in items {
                self.put_locked(s, item);
            }
        }
    }

    /// A put that cannot take the mutex because its own thread holds it, running a getter's
    /// waker: the item is left for that thread to put (`Ok`). `Err` gives the item back when
    /// this thread is not running a waker of this queue (take the mutex as usual).
    pub fn put_reentrant(&self, item: T) -> Result<(), T> {
        if self.waking.load(Relaxed) != current_thread_ident() {
            return Err(item);
        }
        self.reentered.lock().push(item);
        self.any_reentered.store(true, Relaxed);
        Ok(())
    }

    #[inline]
    pub fn get_locked(&self, s: &mut SimpleState<T>) -> Option<T> {
        let item = s.items.pop_front();
        // The get that empties the queue clears the hint; so does a get that finds it empty
        // while the hint says otherwise (emptied by the garbage collector's `take_all`), or the
        // getters' spin would keep reading it as an item and never park.
        if s.items.is_empty() && (item.is_some() || self.nonempty.load(Relaxed)) {
            self.nonempty.store(false, Relaxed);
        }
        s.shrink();
        item
    }

    /// A getter that was perhaps woken for an item is leaving without it: wake another.
    pub fn pass_on_item(&self, s: &mut SimpleState<T>) {
        if !s.is_empty() {
            self.wake_getter(s);
        }
    }

    /// Blocks (call detached) until the queue holds an item or `deadline` passes.
    pub fn wait_not_empty(&self, deadline: Option<Instant>) -> bool {
        let mut place = Place::new();
        let ok = self.wait_in_place(deadline, &mut place);
        self.leave_line(&mut place);
        ok
    }

    /// `wait_not_empty` as one slice of a longer wait (see `park::Place`): a waiter whose slice
    /// ends keeps its place in line for the next call; the caller leaves it (`leave_line`) when
    /// the wait ends.
    pub fn wait_in_place(&self, deadline: Option<Instant>, place: &mut Place) -> bool {
        let start = Instant::now();
        // A waiter in line since an earlier slice waits on there, without barging.
        if !place.is_held() {
            if self.gather.gathered(deadline, || (self.state().lock().len(), false)) {
                return true;
            }
            if self.spin.spin_until(deadline, || self.nonempty.load(Relaxed)) {
                return true;
            }
        }
        let ok = wait_in_line(self.state(), getters, deadline, not_empty, place);
        if ok {
            self.spin.blocked(start.elapsed());
        }
        ok
    }

    /// Whether the getters have caught up with the puts: the queue was empty when its mutex was
    /// last released (the hint, read without the mutex; a moment's answer).
    #[inline]
    pub fn caught_up(&self) -> bool {
        !self.nonempty.load(Relaxed)
    }

    /// Leaves the line where `place` waits (its wait ended): a wake-up it got goes on to the
    /// next getter if an item is still there. Call detached (it takes the queue's mutex).
    pub fn leave_line(&self, place: &mut Place) {
        if place.is_held() {
            let mut s = self.state().lock();
            if leave_line(&mut *s, getters, not_empty, place) {
                self.wake_getter(&mut s);
            }
        }
    }
}

fn getters<T>(s: &mut SimpleState<T>) -> &mut Watchers {
    &mut s.getters
}

fn not_empty<T>(s: &SimpleState<T>) -> bool {
    !s.is_empty()
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn fifo_and_timeout() {
        let q = SimpleQueue::new();
        let mut s = q.state().lock();
        q.put_locked(&mut s, 1);
        q.put_locked(&mut s, 2);
        assert_eq!(q.get_locked(&mut s), Some(1));
        assert_eq!(q.get_locked(&mut s), Some(2));
        assert_eq!(q.get_locked(&mut s), None);
        drop(s);
        let t0 = Instant::now();
        assert!(!q.wait_not_empty(Some(t0 + Duration::from_millis(20))));
        assert!(t0.elapsed() >= Duration::from_millis(20));
    }

    /// A put made from within a getter's waker (its thread holds the mutex) is left aside and
    /// moved into the queue, after the item that woke the getter, before the mutex is released.
    #[test]
    fn put_from_a_waker_is_reentrant() {
        use crate::sync::park::Waiter;
        let q = Arc::new(SimpleQueue::<u64>::new());
        let q2 = q.clone();
        let w = Waiter::with_callback(Box::new(move || {
            assert!(q2.state().try_lock().is_none()); // the waking thread holds the mutex
            assert_eq!(q2.put_reentrant(2), Ok(()));
            true
        }));
        q.state().lock().getters.register(&w);
        assert_eq!(q.put_reentrant(9), Err(9)); // no waker running: take the mutex
        q.put_locked(&mut q.state().lock(), 1);
        let mut s = q.state().lock();
        assert_eq!(q.get_locked(&mut s), Some(1));
        assert_eq!(q.get_locked(&mut s), Some(2));
        assert_eq!(q.get_locked(&mut s), None);
    }

    /// A put reads and writes the mutex, the items' deque and whether anyone waits: one block
    /// of two cache lines, nothing else in it (see `SimpleQueue::state`).
    #[test]
    fn hot_fields_share_a_block() {
        let q = SimpleQueue::<u64>::new();
        let m = q.state();
        let start = m as *const _ as usize;
        // SAFETY: only addresses are taken, nothing is read.
        let s = unsafe { &*m.data_ptr() };
        let end = std::ptr::addr_of!(s.selectors) as usize + std::mem::size_of::<Watchers>();
        assert_eq!(start % 128, 0);
        assert!(end - start <= 128, "{} bytes", end - start);
        assert_eq!(std::mem::size_of_val(&*q.state), 128);
    }

    /// Emptied by the garbage collector, the queue's hint still says it holds items; the next
    /// get that finds nothing clears it, so a getter's spin parks instead of spinning on.
    #[test]
    fn failed_get_clears_a_stale_hint() {
        let q = SimpleQueue::new();
        let mut s = q.state().lock();
        q.put_locked(&mut s, 1);
        drop(s.take_all());
        assert!(q.nonempty.load(Relaxed));
        assert_eq!(q.get_locked(&mut s), None);
        assert!(!q.nonempty.load(Relaxed));
    }

    /// A drained queue gives its room back, down to `MIN_ROOM`.
    #[test]
    fn drained_queue_shrinks() {
        let q = SimpleQueue::new();
        let mut s = q.state().lock();
        for i in 0..10_000 {
            q.put_locked(&mut s, i);
        }
        assert!(s.items.capacity() >= 10_000);
        for i in 0..10_000 {
            assert_eq!(q.get_locked(&mut s), Some(i));
        }
        assert!(s.items.capacity() <= 2 * MIN_ROOM, "{}", s.items.capacity());
    }

    #[test]
    fn handoff_between_threads() {
        let q = Arc::new(SimpleQueue::<u64>::new());
        let q2 = q.clone();
        let consumer = std::thread::spawn(move || {
            let mut sum = 0;
            let mut n = 0;
            while n < 10_000 {
                q2.wait_not_empty(None);
                if let Some(x) = q2.get_locked(&mut q2.state().lock()) {
                    sum += x;
                    n += 1;
                }
            }
            sum
        });
        for i in 1..=10_000 {
            q.put_locked(&mut q.state().lock(), i);
        }
        assert_eq!(consumer.join().unwrap(), 10_000 * 10_001 / 2);
    }
}

/// Model checks (`make loom`).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::prim::Arc;
    use loom::thread;

    /// A blocking get as the Python layer does it: try, wait, retry.
    fn get(q: &SimpleQueue<u64>) -> u64 {
        loop {
            if let Some(x) = q.get_locked(&mut q.state().lock()) {
                return x;
            }
            q.wait_not_empty(None);
        }
    }

    /// Two blocked getters, two puts from another thread: each item reaches one getter.
    #[test]
    fn loom_simple_queue_two_getters() {
        loom::model(|| {
            let q = Arc::new(SimpleQueue::new());
            let getters: Vec<_> = (0..2)
                .map(|_| {
                    let q = q.clone();
                    thread::spawn(move || get(&q))
                })
                .collect();
            for x in 1..=2 {
                q.put_locked(&mut q.state().lock(), x);
            }
            let mut got: Vec<_> = getters.into_iter().map(|h| h.join().unwrap()).collect();
            got.sort();
            assert_eq!(got, [1, 2]);
            assert!(q.state().lock().is_empty());
        });
    }
}
