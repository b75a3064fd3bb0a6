//! A reader-writer lock: many readers or one writer, `rthreading.RWLock`'s state.
//!
//! Policy: **phase-fair** (Brandenburg and Anderson's name). Readers and writers alternate
//! whenever both wait: a waiting writer stops new readers from entering (they queue), so the
//! readers inside drain and the writer gets the lock; when a writer releases it and readers are
//! queued, every one of them is admitted at once (handed the lock: the releaser counts them in
//! and wakes them) before any other writer, even if more writers wait. So a stream of readers
//! never starves a writer (it waits for the readers already inside, no more) and a stream of
//! writers never starves readers (they wait for one writer, no more). Between writers there is
//! no order: a writer that arrives while the lock is free (or is spinning) may take it ahead of
//! one that sleeps, as parking_lot's do.
//!
//! A read lock that a thread already holds can be taken again at once (`read_recursive`), even
//! past a waiting writer: the layer above knows which threads hold reads and uses it, so a
//! recursive read never deadlocks behind a writer that waits for the first read to end.
//!
//! The state is one atomic word: `WRITER` (held for writing), `WRITER_WAITING` (a writer sleeps:
//! new readers queue), `READERS_WAITING` (readers sleep), and the count of readers inside above
//! them. Taking or releasing the lock uncontended is one compare-and-swap (one `fetch_sub` for
//! a read release). The waiting bits and the queues (`Queues`) change only under `queues`'
//! mutex: a sleeper sets its bit there before it looks at the word again, and a releaser that
//! sees a bit takes that mutex to wake it (the look and the wait are atomic under the mutex, as
//! in the core's other waits), so no wake-up is lost. Waiting is the core's: a spin with the
//! object's adaptive budget (`spin`), then the deadline loop `park::wait_until`.

use super::prim::atomic::{
    AtomicU64,
    Ordering::{Acquire, Relaxed, Release, SeqCst},
};
use super::prim::{const_fn, Condvar, Instant, Mutex};
use super::spin::AdaptiveSpin;
use super::Locker;

const WRITER: u64 = 1;
const WRITER_WAITING: u64 = 2;
const READERS_WAITING: u64 = 4;
const ONE_READER: u64 = 8;
const READERS: u64 = !(ONE_READER - 1);

/// Who sleeps, under the mutex.
#[derive(Default)]
struct Queues {
    readers: u64,
    writers: u64,
    /// Bumped each time a writer hands the lock to the sleeping readers: a reader that went to
    /// sleep in an earlier generation has been admitted (and counted in).
    generation: u64,
}

pub struct RwLock {
    state: AtomicU64,
    /// The writer's thread ident, 0 when no thread writes: for reports (the wait-for graph) and
    /// for the layer above's ownership checks.
    owner: AtomicU64,
    queues: Mutex<Queues>,
    readers_cv: Condvar,
    writers_cv: Condvar,
    spin: AdaptiveSpin,
}

impl Default for RwLock {
    fn default() -> Self {
        Self::new()
    }
}

impl RwLock {
    const_fn! {
        pub fn new() -> Self {
            RwLock {
                state: AtomicU64::new(0),
                owner: AtomicU64::new(0),
                queues: Mutex::new(Queues { readers: 0, writers: 0, generation: 0 }),
                readers_cv: Condvar::new(),
                writers_cv: Condvar::new(),
                spin: AdaptiveSpin::new(super::spin::HANDOFF, super::spin::Polling::Yielding),
            }
        }
    }

    /// Enters as a reader unless a writer holds the lock or waits for it.
    #[inline]
    pub fn try_read(&self) -> bool {
        let mut s = self.state.load(Relaxed);
        while s & (WRITER | WRITER_WAITING) == 0 {
            match self.state.compare_exchange_weak(s, s + ONE_READER, Acquire, Relaxed) {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
        false
    }

    /// Enters as a reader again: the calling thread already holds a read lock (so no writer
    /// holds the lock). Never waits.
    #[inline]
    pub fn read_recursive(&self) {
        self.state.fetch_add(ONE_READER, Acquire);
    }

    /// Enters as the writer if nobody holds the lock (ahead of sleeping writers, if any).
    #[inline]
    pub fn try_write(&self, me: u64) -> bool {
        let mut s = self.state.load(Relaxed);
        while s & (WRITER | READERS) == 0 {
            match self.state.compare_exchange_weak(s, s | WRITER, Acquire, Relaxed) {
                Ok(_) => {
                    self.owner.store(me, Relaxed);
                    return true;
                }
                Err(now) => s = now,
            }
        }
        false
    }

    /// Blocks until entered as a reader or `deadline` passes (None: no limit).
    pub fn read_until(&self, deadline: Option<Instant>) -> bool {
        if self.try_read() {
            return true;
        }
        let start = Instant::now();
        if self.spin.spin_until(deadline, || self.try_read()) {
            return true;
        }
        let mut q = self.queues.lock();
        q.readers += 1;
        self.state.fetch_or(READERS_WAITING, SeqCst);
        let generation = q.generation;
        let mut admitted = false;
        let got = super::park::wait_until(&self.readers_cv, &mut q, deadline, |q| {
            admitted = q.generation != generation;
            admitted || self.try_read()
        });
        if !admitted {
            // Entered by itself, or gave up: it is no longer queued. (An admitted reader was
            // taken off the queue by the writer that admitted it.)
            q.readers -= 1;
            if q.readers == 0 {
                self.state.fetch_and(!READERS_WAITING, SeqCst);
            }
        }
        drop(q);
        if got {
            self.spin.blocked(start.elapsed());
        }
        got
    }

    /// Blocks until entered as the writer or `deadline` passes (None: no limit).
    pub fn write_until(&self, me: u64, deadline: Option<Instant>) -> bool {
        if self.try_write(me) {
            return true;
        }
        let start = Instant::now();
        if self.spin.spin_until(deadline, || self.try_write(me)) {
            return true;
        }
        let mut q = self.queues.lock();
        q.writers += 1;
        self.state.fetch_or(WRITER_WAITING, SeqCst);
        let got = super::park::wait_until(&self.writers_cv, &mut q, deadline, |_| self.try_write(me));
        q.writers -= 1;
        if q.writers == 0 {
            self.state.fetch_and(!WRITER_WAITING, SeqCst);
            if !got && q.readers > 0 {
                // The last waiting writer gave up: the readers it held back may enter.
                self.readers_cv.notify_all();
            }
        }
        drop(q);
        if got {
            self.spin.blocked(start.elapsed());
        }
        got
    }

    /// Leaves as a reader (the caller holds a read lock). The last reader out wakes a waiting
    /// writer.
    #[inline]
    pub fn release_read(&self, locker: impl Locker) {
        let before = self.state.fetch_sub(ONE_READER, SeqCst);
        debug_assert!(before & READERS != 0, "release_read without a reader");
        if before & READERS == ONE_READER && before & WRITER_WAITING != 0 {
            let _q = locker.lock(&self.queues);
            self.writers_cv.notify_one();
        }
    }

    /// Leaves as the writer (the caller holds the write lock): hands the lock to every sleeping
    /// reader if there are any, else wakes a sleeping writer.
    #[inline]
    pub fn release_write(&self, locker: impl Locker) {
        self.owner.store(0, Relaxed);
        if self.state.compare_exchange(WRITER, 0, Release, Relaxed).is_err() {
            self.hand_over(locker, 0);
        }
    }

    /// Turns the write lock the caller holds into a read lock, atomically (no writer can come
    /// between); sleeping readers are admitted with it.
    pub fn downgrade(&self, locker: impl Locker) {
        self.owner.store(0, Relaxed);
        if self.state.compare_exchange(WRITER, ONE_READER, Release, Relaxed).is_err() {
            self.hand_over(locker, 1);
        }
    }

    /// The writer leaves with sleepers queued (`readers` of its own stay: 1 for a downgrade).
    /// While `WRITER` is set, nobody else changes the word outside the mutex (every other
    /// change needs `WRITER` clear, or a read held), so a plain store replaces it.
    #[cold]
    fn hand_over(&self, locker: impl Locker, readers: u64) {
        let mut q = locker.lock(&self.queues);
        let writers_waiting = if q.writers > 0 { WRITER_WAITING } else { 0 };
        if q.readers > 0 {
            let admitted = q.readers;
            q.readers = 0;
            q.generation = q.generation.wrapping_add(1);
            self.state.store(((readers + admitted) * ONE_READER) | writers_waiting, SeqCst);
            self.readers_cv.notify_all();
        } else {
            self.state.store((readers * ONE_READER) | writers_waiting, SeqCst);
            if q.writers > 0 && readers == 0 {
                self.writers_cv.notify_one();
            }
        }
    }

    /// The writer's ident (0: no writer).
    #[inline]
    pub fn owner(&self) -> u64 {
        self.owner.load(Relaxed)
    }

    /// The owner word itself, for the wait-for graph.
    pub fn owner_word(&self) -> &AtomicU64 {
        &self.owner
    }

    /// How many read locks are held (recursive ones counted), for reports.
    pub fn readers(&self) -> u64 {
        self.state.load(Relaxed) / ONE_READER
    }

    /// Whether a writer holds the lock.
    pub fn write_locked(&self) -> bool {
        self.state.load(Relaxed) & WRITER != 0
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::Blocking;
    use std::sync::atomic::{AtomicBool, AtomicU64 as StdU64, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    fn soon(ms: u64) -> Option<Instant> {
        Some(Instant::now() + Duration::from_millis(ms))
    }

    #[test]
    fn readers_share_writers_exclude() {
        let l = RwLock::new();
        assert!(l.try_read() && l.try_read());
        assert_eq!(l.readers(), 2);
        assert!(!l.try_write(1));
        assert!(!l.write_until(1, soon(10)));
        l.release_read(Blocking);
        l.release_read(Blocking);
        assert!(l.try_write(1));
        assert_eq!(l.owner(), 1);
        assert!(!l.try_read() && !l.try_write(2));
        assert!(!l.read_until(soon(10)));
        l.release_write(Blocking);
        assert_eq!(l.owner(), 0);
        assert!(l.try_read());
        l.release_read(Blocking);
        assert_eq!(l.state.load(SeqCst), 0);
    }

    #[test]
    fn waiting_writer_queues_new_readers_but_not_recursive_ones() {
        let l = Arc::new(RwLock::new());
        assert!(l.try_read());
        let l2 = l.clone();
        let w = std::thread::spawn(move || {
            assert!(l2.write_until(7, None));
            l2.release_write(Blocking);
        });
        while l.state.load(SeqCst) & WRITER_WAITING == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(!l.try_read(), "a new reader queues behind the writer");
        l.read_recursive();
        l.release_read(Blocking);
        l.release_read(Blocking);
        w.join().unwrap();
        assert_eq!(l.state.load(SeqCst), 0);
    }

    #[test]
    fn writer_hands_over_to_sleeping_readers_first() {
        let l = Arc::new(RwLock::new());
        assert!(l.try_write(1));
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut hs = Vec::new();
        for i in 0..3 {
            let (l, order) = (l.clone(), order.clone());
            hs.push(std::thread::spawn(move || {
                assert!(l.read_until(None));
                order.lock().unwrap().push(format!("r{i}"));
                std::thread::sleep(Duration::from_millis(5));
                l.release_read(Blocking);
            }));
        }
        while l.queues.lock().readers < 3 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let (l2, order2) = (l.clone(), order.clone());
        let w = std::thread::spawn(move || {
            assert!(l2.write_until(2, None));
            order2.lock().unwrap().push("w".into());
            l2.release_write(Blocking);
        });
        while l.queues.lock().writers < 1 {
            std::thread::sleep(Duration::from_millis(1));
        }
        l.release_write(Blocking);
        hs.into_iter().for_each(|h| h.join().unwrap());
        w.join().unwrap();
        assert_eq!(order.lock().unwrap().last().unwrap(), "w");
        assert_eq!(l.state.load(SeqCst), 0);
    }

    #[test]
    fn downgrade_keeps_writers_out() {
        let l = Arc::new(RwLock::new());
        assert!(l.try_write(1));
        l.downgrade(Blocking);
        assert_eq!(l.owner(), 0);
        assert!(!l.try_write(2));
        assert!(l.try_read());
        l.release_read(Blocking);
        l.release_read(Blocking);
        assert!(l.try_write(2));
        l.release_write(Blocking);
    }

    #[test]
    fn timed_out_writer_lets_readers_in() {
        let l = Arc::new(RwLock::new());
        assert!(l.try_read());
        assert!(!l.write_until(1, soon(20)));
        assert_eq!(l.state.load(SeqCst) & WRITER_WAITING, 0);
        assert!(l.try_read());
        l.release_read(Blocking);
        l.release_read(Blocking);
    }

    #[test]
    fn no_writer_starves_under_a_stream_of_readers() {
        let l = Arc::new(RwLock::new());
        let stop = Arc::new(AtomicBool::new(false));
        let reads = Arc::new(StdU64::new(0));
        let hs: Vec<_> = (0..3)
            .map(|_| {
                let (l, stop, reads) = (l.clone(), stop.clone(), reads.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        assert!(l.read_until(None));
                        reads.fetch_add(1, Ordering::Relaxed);
                        l.release_read(Blocking);
                    }
                })
            })
            .collect();
        while reads.load(Ordering::Relaxed) < 1000 {
            std::thread::yield_now();
        }
        for _ in 0..50 {
            assert!(l.write_until(9, soon(10_000)), "writer starved");
            l.release_write(Blocking);
        }
        stop.store(true, Ordering::Relaxed);
        hs.into_iter().for_each(|h| h.join().unwrap());
    }

    #[test]
    fn mutual_exclusion_under_contention() {
        let l = Arc::new(RwLock::new());
        let inside = Arc::new(StdU64::new(0));
        let hs: Vec<_> = (0..4)
            .map(|i| {
                let (l, inside) = (l.clone(), inside.clone());
                std::thread::spawn(move || {
                    for k in 0..3000 {
                        if (i + k) % 3 == 0 {
                            assert!(l.write_until(i + 1, None));
                            assert_eq!(inside.fetch_add(1000, Ordering::SeqCst), 0);
                            inside.fetch_sub(1000, Ordering::SeqCst);
                            l.release_write(Blocking);
                        } else {
                            assert!(l.read_until(None));
                            assert!(inside.fetch_add(1, Ordering::SeqCst) < 1000);
                            inside.fetch_sub(1, Ordering::SeqCst);
                            l.release_read(Blocking);
                        }
                    }
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(l.state.load(SeqCst), 0);
    }
}

/// Model checks (`make loom`): no lost wake-up between readers and writers, the hand-over to
/// sleeping readers, downgrade, and a writer that a stream of readers cannot overtake.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::prim::Arc;
    use crate::sync::Blocking;
    use loom::cell::UnsafeCell;
    use loom::thread;

    /// A reader and a writer against a held read lock: everyone gets in, the writer alone.
    #[test]
    fn loom_rwlock_reader_writer_no_lost_wakeup() {
        loom::model(|| {
            let l = Arc::new(RwLock::new());
            let cell = Arc::new(UnsafeCell::new(0u32));
            assert!(l.try_read());
            let (l1, c1) = (l.clone(), cell.clone());
            let w = thread::spawn(move || {
                assert!(l1.write_until(1, None));
                c1.with_mut(|p| unsafe { *p += 1 });
                l1.release_write(Blocking);
            });
            let (l2, c2) = (l.clone(), cell.clone());
            let r = thread::spawn(move || {
                assert!(l2.read_until(None));
                c2.with(|p| unsafe { *p });
                l2.release_read(Blocking);
            });
            l.release_read(Blocking);
            w.join().unwrap();
            r.join().unwrap();
            assert_eq!(cell.with(|p| unsafe { *p }), 1);
            assert_eq!(l.state.load(SeqCst), 0);
        });
    }

    /// Two writers and the main thread's read lock: both writers get in, one at a time.
    #[test]
    fn loom_rwlock_two_writers() {
        loom::model(|| {
            let l = Arc::new(RwLock::new());
            let cell = Arc::new(UnsafeCell::new(0u32));
            assert!(l.try_read());
            let hs: Vec<_> = (0..2)
                .map(|i| {
                    let (l, c) = (l.clone(), cell.clone());
                    thread::spawn(move || {
                        assert!(l.write_until(i + 1, None));
                        c.with_mut(|p| unsafe { *p += 1 });
                        l.release_write(Blocking);
                    })
                })
                .collect();
            l.release_read(Blocking);
            hs.into_iter().for_each(|h| h.join().unwrap());
            assert_eq!(cell.with(|p| unsafe { *p }), 2);
            assert_eq!(l.state.load(SeqCst), 0);
        });
    }

    /// A writer that waits behind a read lock is not overtaken by a new reader: the new
    /// reader's `try_read` fails once the writer has queued, and the reader only gets in
    /// after the writer (unless it came first). Downgrade admits a queued reader.
    #[test]
    fn loom_rwlock_writer_not_overtaken_and_downgrade() {
        loom::model(|| {
            let l = Arc::new(RwLock::new());
            let order = Arc::new(crate::sync::prim::Mutex::new(Vec::new()));
            assert!(l.try_read());
            let (l1, o1) = (l.clone(), order.clone());
            let w = thread::spawn(move || {
                assert!(l1.write_until(1, None));
                o1.lock().push('w');
                l1.downgrade(Blocking);
                l1.release_read(Blocking);
            });
            // Wait (in the model: yield) until the writer has queued, then try to read.
            while l.state.load(SeqCst) & (WRITER_WAITING | WRITER) == 0 {
                thread::yield_now();
            }
            assert!(!l.try_read(), "a queued writer keeps new readers out");
            l.release_read(Blocking);
            assert!(l.read_until(None));
            order.lock().push('r');
            l.release_read(Blocking);
            w.join().unwrap();
            assert_eq!(*order.lock(), vec!['w', 'r']);
            assert_eq!(l.state.load(SeqCst), 0);
        });
    }

    /// A timed-out writer (deadline already passed) never leaves readers behind its bit.
    #[test]
    fn loom_rwlock_writer_timeout_lets_readers_in() {
        loom::model(|| {
            let l = Arc::new(RwLock::new());
            assert!(l.try_read());
            let l1 = l.clone();
            let r = thread::spawn(move || {
                assert!(l1.read_until(None));
                l1.release_read(Blocking);
            });
            if l.write_until(1, Some(Instant::now())) {
                unreachable!("a read lock is held");
            }
            l.release_read(Blocking);
            r.join().unwrap();
            assert_eq!(l.state.load(SeqCst), 0);
        });
    }
}
