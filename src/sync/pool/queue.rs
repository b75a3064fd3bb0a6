//! The pool's work queue and the bookkeeping of its workers, without Python.
//!
//! Jobs travel through a crossbeam-channel (an unbounded lock-free list); nobody ever blocks on
//! the channel itself. Waking is done here, so that a submit wakes a sleeping worker only when
//! no awake worker is about to take the job (the scheme of tokio's and Go's schedulers):
//!
//! - A worker that finds the queue empty is *searching*. If it has just run a job it polls
//!   the queue for a short while (an adaptive budget up to `IDLE_SPIN`; one such worker at a
//!   time); then it registers as a *sleeper* (its `Parker` on the idle list), looks at the
//!   queue once more and parks. A worker that runs a job while the queue is empty becomes
//!   searching before it completes the job's future, so that a caller waiting for that result
//!   finds it searching when it submits again.
//! - A submit pushes its job, then wakes one sleeper only if nobody is searching and its job is
//!   still queued (a worker that took it at once has stopped searching already). The waker
//!   counts the woken worker as searching before it returns, so a burst of submits wakes one
//!   worker, not one per job.
//! - A searching worker that takes a job stops searching, and if jobs are left and nobody else
//!   searches, wakes the next sleeper: a burst fans out to the sleepers one by one.
//!
//! The two sides order their store and their load with SeqCst fences (push, then read the
//! counts; count yourself, then read the queue), so one of them always sees the other: a job is
//! never left in the queue while every worker sleeps.
//!
//! Submits pass a *gate*: a count of submitters inside plus a CLOSED bit. `close()` sets the
//! bit and waits (briefly: a submitter inside never blocks) for the count to drain, so that
//! after it no job can be added behind the back of a shutdown or a drain.
//!
//! Worker accounting follows the stdlib's ThreadPoolExecutor: a worker that finds the queue
//! empty releases an *idle token* (its `_idle_semaphore`); a submit that gets no token starts
//! a new worker while fewer than `max_workers` were started.

use super::spin::idle_spin;
use crate::sync::prim::atomic::{
    fence, AtomicBool, AtomicUsize,
    Ordering::{Acquire, Relaxed, SeqCst},
};
use crate::sync::prim::{yield_now, Arc, Condvar, Instant, Mutex};
use crate::sync::spin::AdaptiveSpin;
use crate::sync::Locker;
use crossbeam_channel::{unbounded, Receiver, Sender};

const CLOSED: usize = 1 << (usize::BITS - 1);

/// Idle workers that poll the queue at the same time; the others park at once.
const MAX_SPINNERS: usize = 1;

/// An idle worker's wake-up record, reused for each of its sleeps.
pub use crate::sync::park::Waiter as Parker;

/// What an idle worker waited for.
#[derive(Debug)]
pub enum Next<J> {
    Job(J),
    /// The queue is empty and the pool is going away: leave.
    Exit,
}

pub struct WorkQueue<J> {
    tx: Sender<J>,
    rx: Receiver<J>,
    /// CLOSED | number of submitters between their check and their push.
    gate: AtomicUsize,
    /// Workers leave once the queue is empty.
    exit: AtomicBool,
    searching: AtomicUsize,
    /// Searching workers polling right now (at most MAX_SPINNERS poll).
    spinners: AtomicUsize,
    sleepers: AtomicUsize,
    idle: Mutex<Vec<Arc<Parker>>>,
    idle_tokens: AtomicUsize,
    /// Workers started (never decreases, as the stdlib's `_threads`): names the next one.
    spawned: AtomicUsize,
    /// Workers started whose loop has not ended.
    live: AtomicUsize,
    max_workers: usize,
    exited_lock: Mutex<()>,
    exited: Condvar,
    /// How long an idle worker polls before it parks.
    idle_spin: AdaptiveSpin,
}

impl<J> WorkQueue<J> {
    pub fn new(max_workers: usize) -> Self {
        let (tx, rx) = unbounded();
        WorkQueue {
            tx,
            rx,
            gate: AtomicUsize::new(0),
            exit: AtomicBool::new(false),
            searching: AtomicUsize::new(0),
            spinners: AtomicUsize::new(0),
            sleepers: AtomicUsize::new(0),
            idle: Mutex::new(Vec::new()),
            idle_tokens: AtomicUsize::new(0),
            spawned: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
            max_workers,
            exited_lock: Mutex::new(()),
            exited: Condvar::new(),
            idle_spin: idle_spin(),
        }
    }

    pub fn max_workers(&self) -> usize {
        self.max_workers
    }

    pub fn is_closed(&self) -> bool {
        self.gate.load(Acquire) & CLOSED != 0
    }

    pub fn len(&self) -> usize {
        self.rx.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    // --- submitters -------------------------------------------------------------------------

    /// Queues a job, unless the queue is closed (the job is handed back). `Ok(Some(i))`: no
    /// worker was idle and worker number `i` was reserved; the caller must start it, or call
    /// `worker_exited` if it cannot.
    pub fn push(&self, job: J, locker: impl Locker) -> Result<Option<usize>, J> {
        if self.gate.fetch_add(1, SeqCst) & CLOSED != 0 {
            self.gate.fetch_sub(1, SeqCst);
            return Err(job);
        }
        // Cannot fail: `self` holds a receiver.
        let _ = self.tx.send(job);
        let spawn = if self.take_idle_token() { None } else { self.reserve_worker() };
        self.gate.fetch_sub(1, SeqCst);
        fence(SeqCst);
        // Wake a sleeper if nobody searches, unless the job was taken meanwhile (a worker that
        // took it has stopped searching: that would wake a sleeper for nothing).
        if self.searching.load(SeqCst) == 0 && self.sleepers.load(SeqCst) > 0 && !self.rx.is_empty() {
            self.wake_one(locker);
        }
        Ok(spawn)
    }

    fn take_idle_token(&self) -> bool {
        let mut t = self.idle_tokens.load(Relaxed);
        while t > 0 {
            match self.idle_tokens.compare_exchange_weak(t, t - 1, SeqCst, Relaxed) {
                Ok(_) => return true,
                Err(now) => t = now,
            }
        }
        false
    }

    fn reserve_worker(&self) -> Option<usize> {
        let mut n = self.spawned.load(Relaxed);
        while n < self.max_workers {
            match self.spawned.compare_exchange_weak(n, n + 1, SeqCst, Relaxed) {
                Ok(_) => {
                    self.live.fetch_add(1, SeqCst);
                    return Some(n);
                }
                Err(now) => n = now,
            }
        }
        None
    }

    /// Number of workers started so far.
    pub fn spawned(&self) -> usize {
        self.spawned.load(Acquire)
    }

    fn wake_one(&self, locker: impl Locker) {
        let parker = {
            let mut idle = locker.lock(&self.idle);
            let p = idle.pop();
            if p.is_some() {
                self.sleepers.fetch_sub(1, SeqCst);
                self.searching.fetch_add(1, SeqCst);
            }
            p
        };
        if let Some(p) = parker {
            p.notify(locker);
        }
    }

    fn wake_all(&self, locker: impl Locker) {
        let parkers = {
            let mut idle = locker.lock(&self.idle);
            let ps = std::mem::take(&mut *idle);
            self.sleepers.fetch_sub(ps.len(), SeqCst);
            self.searching.fetch_add(ps.len(), SeqCst);
            ps
        };
        for p in parkers {
            p.notify(locker);
        }
    }

    // --- shutting down ----------------------------------------------------------------------

    /// Closes the gate: every later `push` is refused. Returns once no submitter is between
    /// its check and its push (they never block there, so this is a short wait); false if the
    /// gate was already closed.
    pub fn close(&self) -> bool {
        let was = self.gate.fetch_or(CLOSED, SeqCst);
        while self.gate.load(SeqCst) & !CLOSED != 0 {
            yield_now();
        }
        was & CLOSED == 0
    }

    /// Takes every queued job out (after `close`, for a drain that nothing can refill).
    pub fn drain(&self) -> Vec<J> {
        self.rx.try_iter().collect()
    }

    /// Workers leave once the queue is empty; wakes the sleeping ones.
    pub fn request_exit(&self, locker: impl Locker) {
        self.exit.store(true, SeqCst);
        self.wake_all(locker);
    }

    pub fn exit_requested(&self) -> bool {
        self.exit.load(Acquire)
    }

    // --- workers ----------------------------------------------------------------------------

    #[inline]
    pub fn try_take(&self) -> Option<J> {
        self.rx.try_recv().ok()
    }

    /// A worker that found the queue empty, or is about to (see below), becomes idle: it
    /// releases an idle token (the stdlib's worker releases its `_idle_semaphore` when it finds
    /// the queue empty) and counts as searching. Follow with `idle_wait` until it returns
    /// `Some`, or with `stop_searching` if `try_take` finds a job first.
    ///
    /// A worker calls it before it completes a task's future if the queue is empty then: a
    /// submitter that saw the result and submits again finds a token (it starts no new worker)
    /// and a searching worker (it wakes no sleeper: this one takes the job).
    pub fn begin_idle(&self) {
        self.idle_tokens.fetch_add(1, SeqCst);
        self.searching.fetch_add(1, SeqCst);
    }

    /// A searching worker took a job: it stops searching, and wakes the next sleeper if jobs
    /// are left and nobody else searches.
    pub fn stop_searching(&self, locker: impl Locker) {
        self.searching.fetch_sub(1, SeqCst);
        self.fan_out(locker);
    }

    fn fan_out(&self, locker: impl Locker) {
        fence(SeqCst);
        if !self.rx.is_empty() && self.searching.load(SeqCst) == 0 && self.sleepers.load(SeqCst) > 0 {
            self.wake_one(locker);
        }
    }

    /// An idle (searching) worker waits for a job until `deadline` (None: as long as it takes).
    /// `Some(..)`: it is no longer searching. `None`: the deadline passed; it is still
    /// searching and calls again. Runs detached (it blocks); takes its mutexes directly.
    ///
    /// `hot`: the worker has just run a job. Only a hot worker polls (one at a time), since the
    /// next job of a caller waiting for a result comes in a moment; a worker woken from sleep
    /// looks at the queue once (the job it was woken for may be there) and sleeps again.
    pub fn idle_wait(&self, parker: &Arc<Parker>, deadline: Option<Instant>, hot: bool) -> Option<Next<J>> {
        let locker = crate::sync::Blocking;
        let start = Instant::now();
        // Whether this worker polled in this idle period: only a poller's waits teach the
        // budget (a worker parked at once waits as long as the poller lets it).
        let mut polled = false;
        let mut may_poll = hot;
        loop {
            let mut found = None;
            // One spinner is enough to catch the next job; more would take the CPU from the
            // threads making and running jobs.
            let poll = || match self.rx.try_recv() {
                Ok(j) => {
                    found = Some(j);
                    true
                }
                Err(_) => self.exit.load(Relaxed),
            };
            let poller = may_poll && self.spinners.fetch_add(1, SeqCst) < MAX_SPINNERS;
            let caught = poller && self.idle_spin.spin_until(deadline, poll);
            if may_poll {
                self.spinners.fetch_sub(1, SeqCst);
            }
            polled |= poller;
            may_poll = false;
            if let Some(job) = found.or_else(|| self.rx.try_recv().ok()) {
                if polled && !caught {
                    self.idle_spin.blocked(start.elapsed());
                }
                self.stop_searching(locker);
                return Some(Next::Job(job));
            }
            if self.exit.load(SeqCst) {
                self.searching.fetch_sub(1, SeqCst);
                return Some(Next::Exit);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return None;
            }
            // Sleep: stop searching, register, look once more, park.
            self.searching.fetch_sub(1, SeqCst);
            {
                let mut idle = self.idle.lock();
                idle.push(parker.clone());
                self.sleepers.fetch_add(1, SeqCst);
                fence(SeqCst);
                let job = self.rx.try_recv().ok();
                if job.is_some() || self.exit.load(SeqCst) {
                    idle.pop(); // ours: pushed last, under the lock
                    self.sleepers.fetch_sub(1, SeqCst);
                    drop(idle);
                    return Some(match job {
                        Some(j) => {
                            if polled {
                                self.idle_spin.blocked(start.elapsed());
                            }
                            self.fan_out(locker);
                            Next::Job(j)
                        }
                        None => Next::Exit,
                    });
                }
            }
            if !parker.park(deadline) {
                let mut idle = self.idle.lock();
                if let Some(pos) = idle.iter().position(|p| Arc::ptr_eq(p, parker)) {
                    idle.remove(pos);
                    self.sleepers.fetch_sub(1, SeqCst);
                    self.searching.fetch_add(1, SeqCst);
                    return None;
                }
                drop(idle);
                // A waker took us off the list and is notifying us: take that wake-up.
                parker.park(None);
            }
            // Woken: the waker counted us as searching again.
        }
    }

    /// A worker's loop ended (or a reserved worker could not be started).
    pub fn worker_exited(&self, locker: impl Locker) {
        self.live.fetch_sub(1, SeqCst);
        let _g = locker.lock(&self.exited_lock);
        self.exited.notify_all();
    }

    pub fn live_workers(&self) -> usize {
        self.live.load(Acquire)
    }

    /// Blocks until at most `remaining` workers are live, or `deadline`; returns whether they
    /// are. Runs detached.
    pub fn wait_workers(&self, remaining: usize, deadline: Option<Instant>) -> bool {
        let mut g = self.exited_lock.lock();
        crate::sync::park::wait_until(&self.exited, &mut g, deadline, |_| self.live.load(SeqCst) <= remaining)
    }

    /// In a fork child, where none of the workers exist: forget them (and any lock state they
    /// left), so that the next submit starts new ones. Queued jobs stay queued.
    pub fn reinit_after_fork(&self) {
        // SAFETY: only called in a fork child, where the threads that could hold these mutexes
        // do not exist; no guard for them can be used in this process again.
        unsafe {
            if self.idle.is_locked() {
                self.idle.force_unlock();
            }
            if self.exited_lock.is_locked() {
                self.exited_lock.force_unlock();
            }
        }
        self.idle.lock().clear();
        self.gate.fetch_and(CLOSED, SeqCst);
        self.searching.store(0, SeqCst);
        self.spinners.store(0, SeqCst);
        self.sleepers.store(0, SeqCst);
        self.idle_tokens.store(0, SeqCst);
        self.spawned.store(0, SeqCst);
        self.live.store(0, SeqCst);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::Blocking;
    use std::sync::atomic::AtomicU64;
    use std::time::Duration;

    /// A worker loop as the Python layer runs it.
    fn worker(q: Arc<WorkQueue<u64>>, sum: Arc<AtomicU64>) {
        let parker = Parker::new();
        loop {
            let job = match q.try_take() {
                Some(j) => j,
                None => {
                    q.begin_idle();
                    match q.idle_wait(&parker, None, true) {
                        Some(Next::Job(j)) => j,
                        Some(Next::Exit) => break,
                        None => unreachable!("no deadline"),
                    }
                }
            };
            sum.fetch_add(job, SeqCst);
        }
        q.worker_exited(Blocking);
    }

    fn start(q: &Arc<WorkQueue<u64>>, sum: &Arc<AtomicU64>) -> std::thread::JoinHandle<()> {
        let (q, sum) = (q.clone(), sum.clone());
        std::thread::spawn(move || worker(q, sum))
    }

    #[test]
    fn spawns_like_the_stdlib() {
        let q = WorkQueue::<u64>::new(2);
        assert_eq!(q.push(1, Blocking).unwrap(), Some(0));
        assert_eq!(q.push(2, Blocking).unwrap(), Some(1));
        assert_eq!(q.push(3, Blocking).unwrap(), None); // at max_workers
        assert_eq!(q.spawned(), 2);
        assert_eq!(q.live_workers(), 2);
        q.begin_idle(); // an idle worker's token: the next submit starts nobody
        assert!(q.take_idle_token());
        assert_eq!(q.len(), 3);
    }

    #[test]
    fn close_refuses_and_drains() {
        let q = WorkQueue::<u64>::new(1);
        q.push(1, Blocking).unwrap();
        assert!(q.close());
        assert!(!q.close());
        assert_eq!(q.push(2, Blocking), Err(2));
        assert_eq!(q.drain(), vec![1]);
        assert!(q.is_empty());
    }

    #[test]
    fn many_submitters_lose_nothing() {
        let q = Arc::new(WorkQueue::<u64>::new(4));
        let sum = Arc::new(AtomicU64::new(0));
        let mut workers = Vec::new();
        let submitters: Vec<_> = (0..4u64)
            .map(|t| {
                let q = q.clone();
                std::thread::spawn(move || {
                    let mut spawn = Vec::new();
                    for i in 0..20_000u64 {
                        if let Some(n) = q.push(t * 20_000 + i, Blocking).unwrap() {
                            spawn.push(n);
                        }
                        if i % 1000 == 0 {
                            std::thread::sleep(Duration::from_micros(200)); // let workers idle
                        }
                    }
                    spawn
                })
            })
            .collect();
        // Start a worker for every reservation, as the Python layer does.
        let mut reserved = 0;
        for s in submitters {
            reserved += s.join().unwrap().len();
        }
        for _ in 0..reserved {
            workers.push(start(&q, &sum));
        }
        assert!((1..=4).contains(&reserved));
        while !q.is_empty() {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(q.close());
        q.request_exit(Blocking);
        for w in workers {
            w.join().unwrap();
        }
        assert!(q.wait_workers(0, Some(Instant::now())));
        let n = 80_000u64;
        assert_eq!(sum.load(SeqCst), n * (n - 1) / 2);
    }

    #[test]
    fn sleeping_workers_are_woken_one_at_a_time() {
        let q = Arc::new(WorkQueue::<u64>::new(3));
        let sum = Arc::new(AtomicU64::new(0));
        for _ in 0..3 {
            q.reserve_worker();
        }
        let ws: Vec<_> = (0..3).map(|_| start(&q, &sum)).collect();
        // All three go to sleep after their spin.
        while q.sleepers.load(SeqCst) < 3 {
            std::thread::sleep(Duration::from_millis(1));
        }
        q.push(5, Blocking).unwrap();
        while sum.load(SeqCst) != 5 {
            std::thread::sleep(Duration::from_millis(1));
        }
        // One woke up for the job; the others still sleep.
        assert!(q.sleepers.load(SeqCst) >= 2);
        for i in 0..1000 {
            q.push(i, Blocking).unwrap();
        }
        while sum.load(SeqCst) != 5 + 999 * 1000 / 2 {
            std::thread::sleep(Duration::from_millis(1));
        }
        q.close();
        q.request_exit(Blocking);
        for w in ws {
            w.join().unwrap();
        }
        assert_eq!(q.live_workers(), 0);
        assert_eq!(q.searching.load(SeqCst), 0);
        assert_eq!(q.sleepers.load(SeqCst), 0);
    }

    #[test]
    fn idle_wait_times_out_and_can_resume() {
        let q = WorkQueue::<u64>::new(1);
        let p = Parker::new();
        q.begin_idle();
        let t0 = Instant::now();
        assert!(q.idle_wait(&p, Some(t0 + Duration::from_millis(20)), true).is_none());
        assert!(t0.elapsed() >= Duration::from_millis(20));
        assert_eq!(q.sleepers.load(SeqCst), 0);
        assert_eq!(q.searching.load(SeqCst), 1);
        q.push(9, Blocking).unwrap();
        assert!(matches!(q.idle_wait(&p, None, false), Some(Next::Job(9))));
        assert_eq!(q.searching.load(SeqCst), 0);
    }
}
