//! The state machine behind `queue.Queue`, `LifoQueue` and `PriorityQueue`: items, the bound, the
//! count of unfinished tasks and the shutdown flag under one short mutex, with a line of waiters
//! (`park::Watchers`) for each thing a caller can wait for (an item, a free slot, all tasks
//! done). Threads and asyncio tasks wait in the same lines, served in the order they came.
//!
//! The Python layer takes the mutex itself (attached, try first) to do an operation in one go
//! (`put_locked`, `get_locked`, ...). When the operation must wait, it lets the mutex go and
//! waits detached with `wait_not_empty`/`wait_not_full`/`wait_all_done`, which return as soon as
//! retrying may succeed (or must fail: shutdown), then retries attached. Nothing here calls
//! Python: a priority queue's comparison is a fallible closure the caller passes in, run while
//! the caller holds the guard (as the stdlib runs `heappush` under its mutex).
//!
//! A line is looked at only when someone waits in it (an empty line is one comparison), so an
//! uncontended put or get is a lock, a push or pop and an unlock.
//!
//! A queue can be *retired*: its items are handed over to other storage (the Python layer's
//! compatibility mode, for code that uses the stdlib's internals); every waiter wakes up and
//! every later operation is expected to go there instead.

pub mod chunked;
pub mod heap;
pub mod select;
pub mod simple;

use super::park::{leave_line, wait_in_line, Place, Watchers};
use super::prim::atomic::{AtomicU8, Ordering::Relaxed};
use super::prim::{Instant, Mutex};
use super::spin::{AdaptiveSpin, Gather};
use chunked::Chunked;

/// Which item a get takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Fifo,
    Lifo,
    /// Smallest first, by the caller's comparison (heapq's layout and order).
    Priority,
}

enum Items<T> {
    Deque(Chunked<T>),
    Heap(Vec<T>),
}

impl<T> Items<T> {
    fn new(order: Order) -> Self {
        match order {
            Order::Fifo | Order::Lifo => Items::Deque(Chunked::new()),
            Order::Priority => Items::Heap(Vec::new()),
        }
    }

    #[inline]
    fn len(&self) -> usize {
        match self {
            Items::Deque(d) => d.len(),
            Items::Heap(h) => h.len(),
        }
    }

    fn take_all(&mut self) -> Vec<T> {
        match self {
            Items::Deque(d) => d.take_all(),
            Items::Heap(h) => std::mem::take(h),
        }
    }
}

/// Why a put did not happen; the item comes back.
#[derive(Debug, PartialEq, Eq)]
pub enum PutError<T, E> {
    Full(T),
    ShutDown(T),
    /// The comparison failed; the queue is unchanged.
    Compare(T, E),
}

/// Why a get did not happen.
#[derive(Debug, PartialEq, Eq)]
pub enum GetError<E> {
    Empty,
    ShutDown,
    /// The comparison failed; the queue is unchanged.
    Compare(E),
}

/// `task_done()` was called more times than items were put.
#[derive(Debug, PartialEq, Eq)]
pub struct TooManyTaskDone;

pub struct State<T> {
    items: Items<T>,
    order: Order,
    /// `Some(n)`: bounded, full at n items (`usize::MAX`: bounded but never full).
    cap: Option<usize>,
    unfinished: usize,
    shutdown: bool,
    /// Where the items went, once retired (see the module notes).
    retired: Option<T>,
    /// The threads selecting over this queue among others (see `select`): all woken by
    /// whatever may let a get succeed or make it fail.
    pub selectors: Watchers,
    /// Threads and asyncio tasks waiting for an item, in the order they came: one woken per
    /// item put, all by a shutdown (see `park`).
    pub getters: Watchers,
    /// Threads and tasks waiting for a free slot: one woken per item taken, all by a shutdown.
    pub putters: Watchers,
    /// Threads and tasks in `join`: all woken when the unfinished count reaches zero (or the
    /// queue is retired).
    pub joiners: Watchers,
}

impl<T> State<T> {
    #[inline]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn is_full(&self) -> bool {
        self.cap.is_some_and(|c| self.len() >= c)
    }

    pub fn cap(&self) -> Option<usize> {
        self.cap
    }

    pub fn set_cap(&mut self, cap: Option<usize>) {
        self.cap = cap;
    }

    pub fn order(&self) -> Order {
        self.order
    }

    #[inline]
    pub fn is_shutdown(&self) -> bool {
        self.shutdown
    }

    pub fn set_shutdown(&mut self, shutdown: bool) {
        self.shutdown = shutdown;
    }

    pub fn unfinished(&self) -> usize {
        self.unfinished
    }

    #[inline]
    pub fn retired(&self) -> Option<&T> {
        self.retired.as_ref()
    }

    /// Every item, in storage order (for the garbage collector), and the retired-to object.
    pub fn for_each(&self, mut f: impl FnMut(&T)) {
        match &self.items {
            Items::Deque(d) => d.iter().for_each(&mut f),
            Items::Heap(h) => h.iter().for_each(&mut f),
        }
        if let Some(r) = &self.retired {
            f(r);
        }
    }

    /// Empties the queue for the garbage collector: everything it holds, to drop unlocked.
    pub fn clear(&mut self) -> (Vec<T>, Option<T>) {
        (self.items.take_all(), self.retired.take())
    }
}

pub struct Queue<T> {
    state: Mutex<State<T>>,
    /// The spin budget of this object's waits (see `spin`).
    spin: AdaptiveSpin,
    /// How long a getter lets items gather before it looks (see `spin::Gather`).
    gather: Gather,
    // What a get or a put would find when the mutex was last released (`GET_READY`,
    // `PUT_READY`): a hint that a waiter's spin reads instead of trying the mutex. Polling the
    // mutex (a compare-and-swap each time) pulls its cache line away from the threads about to
    // deliver; a load only shares it. A waiter takes the mutex and looks again before it
    // believes the hint, and every get or put, failed ones included, refreshes it.
    ready: AtomicU8,
}

const GET_READY: u8 = 1;
const PUT_READY: u8 = 2;

impl<T> Queue<T> {
    pub fn new(order: Order, cap: Option<usize>) -> Self {
        Queue {
            state: Mutex::new(State {
                items: Items::new(order),
                order,
                cap,
                unfinished: 0,
                shutdown: false,
                retired: None,
                selectors: Watchers::new(),
                getters: Watchers::new(),
                putters: Watchers::new(),
                joiners: Watchers::new(),
            }),
            spin: AdaptiveSpin::default(),
            gather: Gather::new(),
            ready: AtomicU8::new(PUT_READY),
        }
    }

    /// The mutex; the Python layer locks it attached (try first) and calls the `_locked` methods.
    #[inline]
    pub fn state(&self) -> &Mutex<State<T>> {
        &self.state
    }

    /// Refreshes the hint `ready` from the state (see there).
    #[inline]
    fn publish(&self, s: &State<T>) {
        let stop = s.shutdown || s.retired.is_some();
        let ready =
            if stop || !s.is_empty() { GET_READY } else { 0 } | if stop || !s.is_full() { PUT_READY } else { 0 };
        if self.ready.load(Relaxed) != ready {
            self.ready.store(ready, Relaxed);
        }
    }

    /// `put` without waiting. `lt` orders a priority queue's items (unused otherwise).
    #[inline]
    pub fn put_locked<E>(
        &self,
        s: &mut State<T>,
        item: T,
        lt: impl FnMut(&T, &T) -> Result<bool, E>,
    ) -> Result<(), PutError<T, E>> {
        let r = self.put_unpublished(s, item, lt);
        self.publish(s);
        r
    }

    #[inline]
    fn put_unpublished<E>(
        &self,
        s: &mut State<T>,
        item: T,
        lt: impl FnMut(&T, &T) -> Result<bool, E>,
    ) -> Result<(), PutError<T, E>> {
        if s.shutdown {
            return Err(PutError::ShutDown(item));
        }
        if s.is_full() {
            return Err(PutError::Full(item));
        }
        match &mut s.items {
            Items::Deque(d) => d.push_back(item),
            Items::Heap(h) => {
                if let Err((item, e)) = heap::push(h, item, lt) {
                    self.pass_on_free_slot(s);
                    return Err(PutError::Compare(item, e));
                }
            }
        }
        s.unfinished += 1;
        if !s.selectors.is_empty() {
            s.selectors.notify();
        }
        if !s.getters.is_empty() {
            s.getters.notify_one();
        }
        Ok(())
    }

    /// `get` without waiting (a shut-down queue still hands out what it holds).
    #[inline]
    pub fn get_locked<E>(&self, s: &mut State<T>, lt: impl FnMut(&T, &T) -> Result<bool, E>) -> Result<T, GetError<E>> {
        let r = self.get_unpublished(s, lt);
        self.publish(s);
        r
    }

    #[inline]
    fn get_unpublished<E>(
        &self,
        s: &mut State<T>,
        lt: impl FnMut(&T, &T) -> Result<bool, E>,
    ) -> Result<T, GetError<E>> {
        let got = match &mut s.items {
            Items::Deque(d) => match s.order {
                Order::Lifo => d.pop_back(),
                _ => d.pop_front(),
            },
            Items::Heap(h) => match heap::pop(h, lt) {
                Ok(x) => x,
                Err(e) => {
                    self.pass_on_item(s);
                    return Err(GetError::Compare(e));
                }
            },
        };
        match got {
            Some(item) => {
                if !s.putters.is_empty() {
                    s.putters.notify_one();
                }
                Ok(item)
            }
            None if s.shutdown => Err(GetError::ShutDown),
            None => Err(GetError::Empty),
        }
    }

    /// A getter that was perhaps woken for an item is leaving without it: wake another.
    pub fn pass_on_item(&self, s: &mut State<T>) {
        if !s.is_empty() {
            s.getters.notify_one();
        }
    }

    /// A putter that was perhaps woken for a free slot is leaving without using it: wake another.
    pub fn pass_on_free_slot(&self, s: &mut State<T>) {
        if !s.is_full() {
            s.putters.notify_one();
        }
    }

    pub fn task_done_locked(&self, s: &mut State<T>) -> Result<(), TooManyTaskDone> {
        if s.unfinished == 0 {
            return Err(TooManyTaskDone);
        }
        s.unfinished -= 1;
        if s.unfinished == 0 {
            self.all_tasks_done(s);
        }
        Ok(())
    }

    /// Sets the count of unfinished tasks (the stdlib's attribute is writable).
    pub fn set_unfinished_locked(&self, s: &mut State<T>, n: usize) {
        s.unfinished = n;
        if n == 0 {
            self.all_tasks_done(s);
        }
    }

    /// The unfinished count reached zero: wakes the joiners.
    fn all_tasks_done(&self, s: &mut State<T>) {
        s.joiners.wake_all();
    }

    /// Wakes every waiter of the queue (its state changed for all of them).
    fn wake_everyone(s: &mut State<T>) {
        s.selectors.notify();
        s.getters.wake_all();
        s.putters.wake_all();
        s.joiners.wake_all();
    }

    /// `shutdown(immediate)`: returns the items removed (to be dropped once unlocked).
    pub fn shutdown_locked(&self, s: &mut State<T>, immediate: bool) -> Vec<T> {
        s.shutdown = true;
        let drained = if immediate {
            let drained = s.items.take_all();
            // The stdlib decrements per removed item, never below zero.
            s.unfinished = s.unfinished.saturating_sub(drained.len());
            if s.unfinished == 0 {
                self.all_tasks_done(s);
            }
            drained
        } else {
            Vec::new()
        };
        self.publish(s);
        s.selectors.notify();
        s.getters.wake_all();
        s.putters.wake_all();
        drained
    }

    /// Hands the queue over to `to`: returns its items (in storage order), wakes every waiter.
    /// Counts and flags stay readable for the caller to carry over.
    pub fn retire_locked(&self, s: &mut State<T>, to: T) -> Vec<T> {
        s.retired = Some(to);
        let items = s.items.take_all();
        self.publish(s);
        Self::wake_everyone(s);
        items
    }

    /// Back to a fresh, empty, unretired queue (`__init__` called again); returns what it held.
    pub fn reset_locked(&self, s: &mut State<T>, cap: Option<usize>) -> (Vec<T>, Option<T>) {
        let held = s.clear();
        s.items = Items::new(s.order);
        s.cap = cap;
        s.unfinished = 0;
        s.shutdown = false;
        self.publish(s);
        Self::wake_everyone(s);
        held
    }

    /// Blocks (call detached) until a get may succeed or must fail (an item, shutdown,
    /// retirement) or `deadline` passes; returns false on timeout.
    pub fn wait_not_empty(&self, deadline: Option<Instant>) -> bool {
        self.wait_once(Line::Get, deadline)
    }

    /// Blocks (call detached) until a put may succeed or must fail, or `deadline` passes.
    pub fn wait_not_full(&self, deadline: Option<Instant>) -> bool {
        self.wait_once(Line::Put, deadline)
    }

    /// Blocks (call detached) until no task is unfinished (or retirement), or `deadline` passes.
    pub fn wait_all_done(&self, deadline: Option<Instant>) -> bool {
        self.wait_once(Line::Join, deadline)
    }

    fn wait_once(&self, line: Line, deadline: Option<Instant>) -> bool {
        let mut place = Place::new();
        let ok = self.wait_in_place(line, deadline, &mut place);
        self.leave_line(line, &mut place);
        ok
    }

    /// A wait of `line` (`wait_not_empty`, `wait_not_full`, `wait_all_done`) as one slice of a
    /// longer wait (see `park::Place`): a waiter whose slice ends keeps its place in line for
    /// the next call; the caller leaves it (`leave_line`) when the wait ends.
    pub fn wait_in_place(&self, line: Line, deadline: Option<Instant>, place: &mut Place) -> bool {
        let flag = match line {
            Line::Get => GET_READY,
            Line::Put => PUT_READY,
            // (Nobody spins for a join, nor counts it in the spin's budget.)
            Line::Join => return wait_in_line(&self.state, Line::joiners, deadline, Line::all_done, place),
        };
        let start = Instant::now();
        // A waiter in line since an earlier slice waits on there, without barging.
        if !place.is_held() {
            let look = || {
                let s = self.state.lock();
                (s.len(), s.is_full())
            };
            if line == Line::Get && self.gather.gathered(deadline, look) {
                return true;
            }
            if self.spin.spin_until(deadline, || self.ready.load(Relaxed) & flag != 0) {
                return true;
            }
        }
        let ok = wait_in_line(&self.state, line.watchers(), deadline, line.ready(), place);
        if ok {
            self.spin.blocked(start.elapsed());
        }
        ok
    }

    /// Leaves `line` where `place` waits (its wait ended): a wake-up it got goes on to the next
    /// waiter if what it was for is still there. Call detached (it takes the queue's mutex).
    pub fn leave_line(&self, line: Line, place: &mut Place) {
        if place.is_held() {
            let mut s = self.state.lock();
            if leave_line(&mut *s, line.watchers(), line.ready(), place) {
                (line.watchers())(&mut s).notify_one();
            }
        }
    }
}

/// A queue's lines of waiting threads and tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    /// For an item (a get).
    Get,
    /// For a free slot (a put).
    Put,
    /// For every task done (a join).
    Join,
}

impl Line {
    fn watchers<T>(self) -> fn(&mut State<T>) -> &mut Watchers {
        match self {
            Line::Get => Line::getters,
            Line::Put => Line::putters,
            Line::Join => Line::joiners,
        }
    }

    /// Whether a waiter of this line may go on: its call may succeed or must fail.
    fn ready<T>(self) -> fn(&State<T>) -> bool {
        match self {
            Line::Get => |s| !s.is_empty() || s.shutdown || s.retired.is_some(),
            Line::Put => |s| !s.is_full() || s.shutdown || s.retired.is_some(),
            Line::Join => Line::all_done,
        }
    }

    fn getters<T>(s: &mut State<T>) -> &mut Watchers {
        &mut s.getters
    }

    fn putters<T>(s: &mut State<T>) -> &mut Watchers {
        &mut s.putters
    }

    fn joiners<T>(s: &mut State<T>) -> &mut Watchers {
        &mut s.joiners
    }

    fn all_done<T>(s: &State<T>) -> bool {
        s.unfinished == 0 || s.retired.is_some()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::convert::Infallible;
    use std::sync::Arc;
    use std::time::Duration;

    fn no_cmp(_: &u64, _: &u64) -> Result<bool, Infallible> {
        unreachable!("FIFO and LIFO queues never compare")
    }

    fn lt(a: &u64, b: &u64) -> Result<bool, Infallible> {
        Ok(a < b)
    }

    fn put(q: &Queue<u64>, x: u64) -> Result<(), PutError<u64, Infallible>> {
        let mut s = q.state().lock();
        q.put_locked(&mut s, x, lt)
    }

    fn get(q: &Queue<u64>) -> Result<u64, GetError<Infallible>> {
        let mut s = q.state().lock();
        q.get_locked(&mut s, lt)
    }

    /// A blocking put as the Python layer does it: try, wait, retry.
    fn put_blocking(q: &Queue<u64>, mut x: u64) {
        loop {
            match put(q, x) {
                Ok(()) => return,
                Err(PutError::Full(back)) => x = back,
                Err(e) => panic!("{e:?}"),
            }
            q.wait_not_full(None);
        }
    }

    fn get_blocking(q: &Queue<u64>) -> Option<u64> {
        loop {
            match get(q) {
                Ok(x) => return Some(x),
                Err(GetError::ShutDown) => return None,
                Err(_) => {}
            }
            q.wait_not_empty(None);
        }
    }

    #[test]
    fn orders() {
        for (order, expect) in
            [(Order::Fifo, vec![3, 1, 2]), (Order::Lifo, vec![2, 1, 3]), (Order::Priority, vec![1, 2, 3])]
        {
            let q = Queue::new(order, None);
            for x in [3, 1, 2] {
                put(&q, x).unwrap();
            }
            assert_eq!(q.state().lock().unfinished(), 3);
            let got: Vec<u64> = (0..3).map(|_| get(&q).unwrap()).collect();
            assert_eq!(got, expect, "{order:?}");
            assert_eq!(get(&q), Err(GetError::Empty));
        }
    }

    #[test]
    fn bounded_full_and_task_done() {
        let q = Queue::new(Order::Fifo, Some(2));
        put(&q, 1).unwrap();
        put(&q, 2).unwrap();
        assert_eq!(put(&q, 3), Err(PutError::Full(3)));
        assert!(!q.wait_not_full(Some(Instant::now() + Duration::from_millis(10))));
        let mut s = q.state().lock();
        assert_eq!(q.get_locked(&mut s, no_cmp), Ok(1));
        assert!(q.task_done_locked(&mut s).is_ok());
        assert!(q.task_done_locked(&mut s).is_ok());
        assert_eq!(q.task_done_locked(&mut s), Err(TooManyTaskDone));
        assert_eq!(s.unfinished(), 0);
    }

    #[test]
    fn shutdown_semantics() {
        let q = Queue::new(Order::Fifo, None);
        put(&q, 1).unwrap();
        put(&q, 2).unwrap();
        let mut s = q.state().lock();
        assert!(q.shutdown_locked(&mut s, false).is_empty());
        assert!(matches!(q.put_locked(&mut s, 3, no_cmp), Err(PutError::ShutDown(3))));
        assert_eq!(q.get_locked(&mut s, no_cmp), Ok(1));
        assert_eq!(q.shutdown_locked(&mut s, true), vec![2]);
        assert_eq!(s.unfinished(), 1); // the item got but not task_done'd
        assert_eq!(q.get_locked(&mut s, no_cmp), Err(GetError::ShutDown));
    }

    #[test]
    fn shutdown_wakes_waiters() {
        let q = Arc::new(Queue::<u64>::new(Order::Fifo, None));
        let q2 = q.clone();
        let t = std::thread::spawn(move || get_blocking(&q2));
        std::thread::sleep(Duration::from_millis(20));
        let mut s = q.state().lock();
        q.shutdown_locked(&mut s, false);
        drop(s);
        assert_eq!(t.join().unwrap(), None);
    }

    #[test]
    fn join_waits_for_task_done() {
        let q = Arc::new(Queue::<u64>::new(Order::Fifo, None));
        put(&q, 1).unwrap();
        assert!(!q.wait_all_done(Some(Instant::now() + Duration::from_millis(10))));
        let q2 = q.clone();
        let t = std::thread::spawn(move || q2.wait_all_done(None));
        std::thread::sleep(Duration::from_millis(10));
        get(&q).unwrap();
        q.task_done_locked(&mut q.state().lock()).unwrap();
        assert!(t.join().unwrap());
    }

    #[test]
    fn retire_wakes_everyone() {
        let q = Arc::new(Queue::<u64>::new(Order::Fifo, Some(1)));
        put(&q, 7).unwrap();
        let waiters: Vec<_> = (0..3)
            .map(|i| {
                let q = q.clone();
                std::thread::spawn(move || match i {
                    0 => q.wait_not_full(None),
                    1 => q.wait_all_done(None),
                    _ => {
                        // an empty queue's getter: make it empty first from this thread's view
                        q.wait_not_empty(None)
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        let mut s = q.state().lock();
        assert_eq!(q.retire_locked(&mut s, 99), vec![7]);
        assert_eq!(s.retired(), Some(&99));
        drop(s);
        for w in waiters {
            assert!(w.join().unwrap());
        }
    }

    #[test]
    fn producers_consumers_bounded() {
        const PER: u64 = 20_000;
        let q = Arc::new(Queue::<u64>::new(Order::Fifo, Some(8)));
        let producers: Vec<_> = (0..4)
            .map(|p| {
                let q = q.clone();
                std::thread::spawn(move || (0..PER).for_each(|i| put_blocking(&q, p * PER + i + 1)))
            })
            .collect();
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let q = q.clone();
                std::thread::spawn(move || {
                    let (mut n, mut sum) = (0u64, 0u64);
                    while let Some(x) = get_blocking(&q) {
                        n += 1;
                        sum += x;
                    }
                    (n, sum)
                })
            })
            .collect();
        producers.into_iter().for_each(|p| p.join().unwrap());
        q.shutdown_locked(&mut q.state().lock(), false);
        let (n, sum) = consumers.into_iter().map(|c| c.join().unwrap()).fold((0, 0), |(a, b), (c, d)| (a + c, b + d));
        let total = 4 * PER;
        assert_eq!(n, total);
        assert_eq!(sum, total * (total + 1) / 2);
    }
}

/// Model checks (`make loom`): the queue driven as the Python layer drives it (try under the
/// mutex, wait detached, retry).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::prim::Arc;
    use loom::thread;
    use std::convert::Infallible;

    fn no_cmp(_: &u64, _: &u64) -> Result<bool, Infallible> {
        unreachable!("FIFO queues never compare")
    }

    /// A blocking put; Err(item) if the queue was shut down.
    fn put(q: &Queue<u64>, mut x: u64) -> Result<(), u64> {
        loop {
            match q.put_locked(&mut q.state().lock(), x, no_cmp) {
                Ok(()) => return Ok(()),
                Err(PutError::Full(back)) => x = back,
                Err(PutError::ShutDown(back)) => return Err(back),
                Err(PutError::Compare(..)) => unreachable!(),
            }
            q.wait_not_full(None);
        }
    }

    /// A blocking get; None once shut down and empty.
    fn get(q: &Queue<u64>) -> Option<u64> {
        loop {
            match q.get_locked(&mut q.state().lock(), no_cmp) {
                Ok(x) => return Some(x),
                Err(GetError::ShutDown) => return None,
                Err(_) => {}
            }
            q.wait_not_empty(None);
        }
    }

    /// Bound 1, a producer of two items and a consumer of two: both items arrive, in order
    /// (the producer blocks on the full queue, the consumer on the empty one).
    #[test]
    fn loom_queue_bounded_hand_off() {
        loom::model(|| {
            let q = Arc::new(Queue::new(Order::Fifo, Some(1)));
            let q2 = q.clone();
            let producer = thread::spawn(move || (1..=2).for_each(|x| put(&q2, x).unwrap()));
            let got: Vec<_> = (0..2).map(|_| get(&q).unwrap()).collect();
            producer.join().unwrap();
            assert_eq!(got, [1, 2]);
            assert!(q.state().lock().is_empty());
        });
    }

    /// Bound 1, a producer of two items, a consumer until shutdown and `shutdown()` from a third
    /// thread: blocked putters and getters wake; every item is either refused (handed back),
    /// got exactly once, or still queued; the consumer gets everything accepted and ends.
    #[test]
    fn loom_queue_shutdown_accounts_for_every_item() {
        loom::model(|| {
            let q = Arc::new(Queue::new(Order::Fifo, Some(1)));
            let producer = {
                let q = q.clone();
                thread::spawn(move || (1..=2u64).filter(|&x| put(&q, x).is_err()).collect::<Vec<_>>())
            };
            let consumer = {
                let q = q.clone();
                thread::spawn(move || std::iter::from_fn(|| get(&q)).collect::<Vec<_>>())
            };
            let drained = q.shutdown_locked(&mut q.state().lock(), false);
            assert!(drained.is_empty());
            let refused = producer.join().unwrap();
            let got = consumer.join().unwrap();
            let mut all: Vec<_> = refused.iter().chain(&got).copied().collect();
            all.sort();
            assert_eq!(all, [1, 2], "refused {refused:?} got {got:?}");
            assert!(q.state().lock().is_empty());
            // accepted items are got in order
            assert!(got.windows(2).all(|w| w[0] < w[1]));
        });
    }

    /// `shutdown(immediate=True)` racing a blocked producer: removed items are handed back
    /// and the unfinished count drops with them; a joiner wakes once nothing is unfinished.
    #[test]
    fn loom_queue_immediate_shutdown_and_join() {
        loom::model(|| {
            let q = Arc::new(Queue::new(Order::Fifo, Some(1)));
            let producer = {
                let q = q.clone();
                thread::spawn(move || (1..=2u64).filter(|&x| put(&q, x).is_err()).collect::<Vec<_>>())
            };
            let joiner = {
                let q = q.clone();
                thread::spawn(move || assert!(q.wait_all_done(None)))
            };
            let drained = q.shutdown_locked(&mut q.state().lock(), true);
            let refused = producer.join().unwrap();
            let mut all: Vec<_> = refused.iter().chain(&drained).copied().collect();
            // nothing goes in after the shutdown: a get finds it shut down and empty
            assert_eq!(get(&q), None);
            joiner.join().unwrap();
            all.sort();
            assert_eq!(all, [1, 2]);
            assert_eq!(q.state().lock().unfinished(), 0);
        });
    }

    /// A getter waiting in slices (the main thread's wait, see `park::Place`): its first slice
    /// ends (a deadline already passed) as an item is put, and an asyncio task gets in line
    /// behind it. The getter then either waits on in its place (`resume`) or its wait ends (it
    /// leaves the line). The one wake-up is never lost and never doubled: resumed, the getter
    /// is served and the task not woken; gone, the getter took the item in its slice or the
    /// task is woken, exactly one of the two.
    #[test]
    fn loom_queue_slice_end_racing_a_put() {
        use crate::sync::park::{counting_waiter, Place};
        use crate::sync::prim::atomic::{AtomicUsize, Ordering::SeqCst};
        for resume in [false, true] {
            loom::model(move || {
                let q = Arc::new(Queue::new(Order::Fifo, None));
                let putter = {
                    let q = q.clone();
                    thread::spawn(move || q.put_locked(&mut q.state().lock(), 1, no_cmp).unwrap())
                };
                let mut place = Place::new();
                let mut served = q.wait_in_place(Line::Get, Some(Instant::now()), &mut place);
                let calls = Arc::new(AtomicUsize::new(0));
                let task = counting_waiter(&calls);
                q.state().lock().getters.register(&task);
                if !served {
                    if resume {
                        served = q.wait_in_place(Line::Get, None, &mut place);
                        assert!(served, "a wait without a deadline ends served");
                    } else {
                        q.leave_line(Line::Get, &mut place);
                    }
                }
                assert!(!place.is_held());
                putter.join().unwrap();
                let calls = calls.load(SeqCst);
                assert!(served != (calls == 1), "served {served}, task woken {calls} times");
                let mut s = q.state().lock();
                s.getters.unregister(&task);
                assert!(s.getters.is_empty());
                assert_eq!(q.get_locked(&mut s, no_cmp).ok(), Some(1));
            });
        }
    }

    /// Two getters in line, the first with a deadline that passes as an item is put: the item
    /// goes to exactly one of them, and a wake-up meant for the first while it leaves goes on
    /// to the second (which waits without a deadline: a lost wake-up is a deadlock).
    #[test]
    fn loom_queue_timed_out_getter_passes_the_line_on() {
        loom::model(|| {
            let q = Arc::new(Queue::new(Order::Fifo, None));
            let first = {
                let q = q.clone();
                thread::spawn(move || {
                    q.wait_not_empty(Some(Instant::now()));
                    q.get_locked(&mut q.state().lock(), no_cmp).ok()
                })
            };
            let second = {
                let q = q.clone();
                thread::spawn(move || get(&q).unwrap())
            };
            put(&q, 1).unwrap();
            let got_first = first.join().unwrap();
            if got_first.is_some() {
                put(&q, 2).unwrap();
            }
            let got_second = second.join().unwrap();
            assert_eq!((got_first, got_second), if got_first.is_some() { (Some(1), 2) } else { (None, 1) });
        });
    }

    /// `join()` waits for `task_done()` from another thread.
    #[test]
    fn loom_queue_task_done_wakes_join() {
        loom::model(|| {
            let q = Arc::new(Queue::new(Order::Fifo, None));
            put(&q, 1).unwrap();
            let worker = {
                let q = q.clone();
                thread::spawn(move || {
                    assert_eq!(get(&q), Some(1));
                    q.task_done_locked(&mut q.state().lock()).unwrap();
                })
            };
            assert!(q.wait_all_done(None));
            worker.join().unwrap();
            assert_eq!(q.task_done_locked(&mut q.state().lock()), Err(TooManyTaskDone));
        });
    }
}
