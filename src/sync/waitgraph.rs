//! The wait-for graph: which thread is parked on which object right now, and (for locks) which
//! thread holds that object. A thread registers only on the slow path, just before it parks
//! (its first try has failed), and deregisters when its wait ends, so the uncontended paths never
//! touch this module.
//!
//! Each entry keeps a pointer to the owner word of the lock waited for, so the graph can follow
//! thread -> lock -> owner -> the lock that owner waits for -> ... and find cycles. The pointer
//! is sound because an entry lives exactly as long as its `WaitGuard`, which borrows the lock;
//! the registry is only read under its mutex, and a guard removes its entry under the same mutex
//! before the borrow ends. Objects without an owner (semaphores, events, a condition's wait
//! queue, queues) are registered with none: they show up as "waiting on", never in a cycle.
//!
//! Strict mode (off by default): a thread whose untimed wait would close a cycle gets the cycle
//! back from `register` instead of parking.
//!
//! A waiter is a thread (keyed by its ident) or an asyncio task (keyed by `task_key`, which no
//! thread ident can equal), registered by `register_unguarded` with the thread that runs it (its
//! loop's). A Lock a task acquired through `async_acquire` records the task's key as its owner,
//! so cycles through tasks are found as cycles through threads are.

use super::Locker;
use parking_lot::Mutex;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Instant;

/// What a thread waits for.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    /// The owner word of a lock (its holder's ident, 0 when free); None for objects that have
    /// no owner.
    pub owner: Option<&'a AtomicU64>,
    /// An opaque tag for the layer above (the Python object's address): never dereferenced here.
    pub tag: usize,
    /// The kind of object, for reports ("rthreading.Lock").
    pub kind: &'static str,
}

/// The bit that sets a task's key apart from every thread ident (thread idents are user-space
/// addresses or small integers: the top bit is never set).
pub const TASK_BIT: u64 = 1 << 63;

/// The waiter key of the asyncio task at `address` (its Python object).
pub fn task_key(address: usize) -> u64 {
    TASK_BIT | address as u64
}

/// The task object's address when `key` is a task's (None for a thread's ident).
pub fn task_address(key: u64) -> Option<usize> {
    (key & TASK_BIT != 0).then_some((key & !TASK_BIT) as usize)
}

struct Entry {
    id: u64,
    /// The waiter: a thread ident, or a task's key.
    thread: u64,
    /// The thread the waiter runs on (a task's loop's; the thread itself for a thread).
    host: u64,
    owner: Option<*const AtomicU64>,
    tag: usize,
    kind: &'static str,
    timed: bool,
    since: Instant,
}

// SAFETY: the owner pointer is only dereferenced under `REGISTRY`'s mutex while its entry is
// registered, i.e. while the `WaitGuard` that borrows the lock is alive (see the module notes).
unsafe impl Send for Entry {}

struct Registry {
    next_id: u64,
    entries: Vec<Entry>,
}

static REGISTRY: Mutex<Registry> = parking_lot::const_mutex(Registry { next_id: 1, entries: Vec::new() });
static STRICT: AtomicBool = AtomicBool::new(false);

/// Strict mode: an untimed wait that would close a cycle fails instead of parking.
pub fn set_strict(on: bool) {
    STRICT.store(on, Relaxed);
}

pub fn strict() -> bool {
    STRICT.load(Relaxed)
}

/// One wait, as seen at a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wait {
    /// The waiter: a thread ident or a task's key (`task_key`).
    pub thread: u64,
    /// The thread it runs on.
    pub host: u64,
    pub tag: usize,
    pub kind: &'static str,
    /// The holder's ident when the object has an owner (0: nobody holds it right now).
    pub owner: Option<u64>,
    pub timed: bool,
    pub since: Instant,
}

/// One edge of a cycle: `thread` waits for the object `tag` (held by the next edge's thread).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    pub thread: u64,
    pub host: u64,
    pub tag: usize,
    pub kind: &'static str,
}

/// Deregisters its wait when dropped.
pub struct WaitGuard<'a, L: Locker> {
    id: u64,
    locker: L,
    _borrow: PhantomData<&'a AtomicU64>,
}

impl<L: Locker> Drop for WaitGuard<'_, L> {
    fn drop(&mut self) {
        deregister(self.locker, self.id);
    }
}

/// Removes the entry `id` (nothing if it is gone: after fork).
pub fn deregister<L: Locker>(locker: L, id: u64) {
    let mut r = locker.lock(&REGISTRY);
    if let Some(i) = r.entries.iter().position(|e| e.id == id) {
        r.entries.swap_remove(i);
    }
}

/// Records that `thread` is about to park on `target` (`timed`: with a deadline). In strict
/// mode an untimed wait that would close a cycle is refused: the cycle is returned, starting
/// with this thread's edge, and nothing is registered.
pub fn register<'a, L: Locker>(
    locker: L,
    thread: u64,
    target: Target<'a>,
    timed: bool,
) -> Result<WaitGuard<'a, L>, Vec<Edge>> {
    register_with(locker, thread, target, timed, STRICT.load(Relaxed))
}

/// `register`, strict or not whatever the global mode.
pub fn register_with<'a, L: Locker>(
    locker: L,
    thread: u64,
    target: Target<'a>,
    timed: bool,
    strict: bool,
) -> Result<WaitGuard<'a, L>, Vec<Edge>> {
    // SAFETY: the guard borrows the owner word for as long as the entry exists.
    let id = unsafe { register_unguarded(locker, thread, thread, target, timed, strict) }?;
    Ok(WaitGuard { id, locker, _borrow: PhantomData })
}

/// `register_with` for a wait that no guard can borrow its object for (an asyncio task's, which
/// lasts across awaits), by `waiter` (a thread ident or a `task_key`) running on thread `host`.
/// Returns the entry's id, for `deregister`.
///
/// # Safety
/// `target.owner`, if any, must stay valid until `deregister(id)` has returned.
pub unsafe fn register_unguarded<L: Locker>(
    locker: L,
    waiter: u64,
    host: u64,
    target: Target<'_>,
    timed: bool,
    strict: bool,
) -> Result<u64, Vec<Edge>> {
    let thread = waiter;
    let strict = strict && !timed && target.owner.is_some();
    let mut r = locker.lock(&REGISTRY);
    if strict {
        let first = Edge { thread, host, tag: target.tag, kind: target.kind };
        let holder = target.owner.map_or(0, |o| o.load(Relaxed));
        if let Some(cycle) = chain_back_to(&r.entries, first, holder) {
            return Err(cycle);
        }
    }
    let id = r.next_id;
    r.next_id += 1;
    r.entries.push(Entry {
        id,
        thread,
        host,
        owner: target.owner.map(|o| o as *const AtomicU64),
        tag: target.tag,
        kind: target.kind,
        timed,
        since: Instant::now(),
    });
    Ok(id)
}

/// The owner an entry's lock has now (None for objects without an owner).
fn owner_of(e: &Entry) -> Option<u64> {
    // SAFETY: called under the registry's mutex on a registered entry (see the module notes).
    e.owner.map(|o| unsafe { (*o).load(Relaxed) })
}

/// Follows holder -> the lock it waits for -> its holder ... from `first` (whose lock `holder`
/// holds); the cycle if it comes back to `first.thread`.
fn chain_back_to(entries: &[Entry], first: Edge, mut holder: u64) -> Option<Vec<Edge>> {
    let mut cycle = vec![first];
    for _ in 0..=entries.len() {
        if holder == 0 {
            return None;
        }
        if holder == first.thread {
            return Some(cycle);
        }
        let e = entries.iter().find(|e| e.thread == holder && e.owner.is_some())?;
        cycle.push(Edge { thread: e.thread, host: e.host, tag: e.tag, kind: e.kind });
        holder = owner_of(e)?;
    }
    None
}

/// Every registered wait; `f` runs under the registry's mutex (so the objects behind the tags
/// are alive while it runs: their waiters cannot deregister meanwhile).
pub fn with_snapshot<L: Locker, R>(locker: L, f: impl FnOnce(&[Wait]) -> R) -> R {
    let r = locker.lock(&REGISTRY);
    let waits: Vec<Wait> = r
        .entries
        .iter()
        .map(|e| Wait {
            thread: e.thread,
            host: e.host,
            tag: e.tag,
            kind: e.kind,
            owner: owner_of(e),
            timed: e.timed,
            since: e.since,
        })
        .collect();
    f(&waits)
}

/// The cycles among `waits` (thread -> lock -> its holder -> the lock it waits for ...), each
/// once, starting from its thread with the smallest ident.
pub fn cycles(waits: &[Wait]) -> Vec<Vec<Edge>> {
    let mut found: Vec<Vec<Edge>> = Vec::new();
    for start in waits.iter().filter(|w| w.owner.is_some()) {
        let mut path: Vec<&Wait> = vec![start];
        while let Some(holder) = path.last().and_then(|w| w.owner).filter(|&h| h != 0) {
            if let Some(i) = path.iter().position(|w| w.thread == holder) {
                // A cycle (possibly not through `start`): keep it once, rotated canonically.
                let mut cycle: Vec<Edge> = path[i..]
                    .iter()
                    .map(|w| Edge { thread: w.thread, host: w.host, tag: w.tag, kind: w.kind })
                    .collect();
                let min = (0..cycle.len()).min_by_key(|&k| cycle[k].thread).unwrap_or(0);
                cycle.rotate_left(min);
                if !found.contains(&cycle) {
                    found.push(cycle);
                }
                break;
            }
            match waits.iter().find(|w| w.thread == holder && w.owner.is_some()) {
                Some(next) if path.len() <= waits.len() => path.push(next),
                _ => break,
            }
        }
    }
    found.sort_by_key(|c| c.first().map_or(0, |e| e.thread));
    found
}

/// Forget every wait: after fork, in the child only (the waiting threads do not exist there;
/// their guards are never dropped in the child).
pub fn reinit() {
    // Leaked rather than freed: this may run in a fork handler.
    if let Some(mut r) = REGISTRY.try_lock() {
        std::mem::forget(std::mem::take(&mut r.entries));
    } else {
        // Another thread held it at the fork and is gone: release it on its behalf.
        // SAFETY: in a fork child only one thread exists; nothing else can touch the registry.
        unsafe { REGISTRY.force_unlock() };
        std::mem::forget(std::mem::take(&mut REGISTRY.lock().entries));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::Blocking;

    fn target(owner: &AtomicU64, tag: usize) -> Target<'_> {
        Target { owner: Some(owner), tag, kind: "lock" }
    }

    // The registry is process-wide: tests use thread idents no real thread has, and each looks
    // only at its own.
    fn mine(waits: &[Wait], threads: &[u64]) -> Vec<Wait> {
        waits.iter().filter(|w| threads.contains(&w.thread)).cloned().collect()
    }

    #[test]
    fn two_thread_cycle_found_once_rotated() {
        let (a, b) = (AtomicU64::new(0), AtomicU64::new(0));
        let (t1, t2) = (1_000_002, 1_000_001);
        a.store(t1, Relaxed);
        b.store(t2, Relaxed);
        let g1 = register(Blocking, t1, target(&b, 0xb), false).ok().unwrap();
        let g2 = register(Blocking, t2, target(&a, 0xa), false).ok().unwrap();
        let cs = with_snapshot(Blocking, |w| cycles(&mine(w, &[t1, t2])));
        assert_eq!(cs.len(), 1);
        let tags: Vec<(u64, usize)> = cs[0].iter().map(|e| (e.thread, e.tag)).collect();
        assert_eq!(tags, vec![(t2, 0xa), (t1, 0xb)]);
        drop(g1);
        drop(g2);
        assert!(with_snapshot(Blocking, |w| mine(w, &[t1, t2]).is_empty()));
    }

    #[test]
    fn chain_is_not_a_cycle() {
        let (a, b) = (AtomicU64::new(2_000_002), AtomicU64::new(0));
        let g = register(Blocking, 2_000_001, target(&a, 1), false).ok().unwrap();
        let g2 = register(Blocking, 2_000_002, target(&b, 2), false).ok().unwrap();
        assert!(with_snapshot(Blocking, |w| cycles(&mine(w, &[2_000_001, 2_000_002]))).is_empty());
        drop((g, g2));
    }

    #[test]
    fn strict_refuses_the_closing_wait() {
        let (a, b, c) = (AtomicU64::new(3_000_001), AtomicU64::new(3_000_002), AtomicU64::new(3_000_003));
        let g2 = register_with(Blocking, 3_000_002, target(&c, 0xc), false, true).ok().unwrap();
        let g3 = register_with(Blocking, 3_000_003, target(&a, 0xa), false, true).ok().unwrap();
        // Timed waits are never refused.
        assert!(register_with(Blocking, 3_000_001, target(&b, 0xb), true, true).is_ok());
        let cycle = register_with(Blocking, 3_000_001, target(&b, 0xb), false, true).err().unwrap();
        let got: Vec<u64> = cycle.iter().map(|e| e.thread).collect();
        assert_eq!(got, vec![3_000_001, 3_000_002, 3_000_003]);
        drop((g2, g3));
    }

    #[test]
    fn a_cycle_through_a_task_names_the_task_and_its_loop_thread() {
        // A thread holds `a` and waits for `b`; a task (on another thread's loop) holds `b`
        // and waits for `a`.
        let (thread, loop_thread, task) = (5_000_001, 5_000_002, task_key(0x5000_0000));
        let (a, b) = (AtomicU64::new(thread), AtomicU64::new(task));
        assert_eq!(task_address(task), Some(0x5000_0000));
        assert_eq!(task_address(thread), None);
        let g = register(Blocking, thread, target(&b, 0xb), false).ok().unwrap();
        // Strict mode refuses the task's untimed wait that closes the cycle.
        // SAFETY: `a` outlives the entry (deregistered below).
        let refused = unsafe { register_unguarded(Blocking, task, loop_thread, target(&a, 0xa), false, true) };
        let got: Vec<(u64, u64)> = refused.err().unwrap().iter().map(|e| (e.thread, e.host)).collect();
        assert_eq!(got, vec![(task, loop_thread), (thread, thread)]);
        // SAFETY: as above.
        let id = unsafe { register_unguarded(Blocking, task, loop_thread, target(&a, 0xa), false, false) }.unwrap();
        let cs = with_snapshot(Blocking, |w| cycles(&mine(w, &[thread, task])));
        let edges: Vec<(u64, u64, usize)> = cs[0].iter().map(|e| (e.thread, e.host, e.tag)).collect();
        // Threads first: a task's key is above every thread ident.
        assert_eq!(edges, vec![(thread, thread, 0xb), (task, loop_thread, 0xa)]);
        deregister(Blocking, id);
        drop(g);
        assert!(with_snapshot(Blocking, |w| mine(w, &[thread, task]).is_empty()));
    }

    #[test]
    fn ownerless_waits_are_listed_not_cycled() {
        let g = register(Blocking, 4_000_001, Target { owner: None, tag: 7, kind: "event" }, true).ok().unwrap();
        let w = with_snapshot(Blocking, |w| mine(w, &[4_000_001]));
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].owner, None);
        assert!(cycles(&w).is_empty());
        drop(g);
    }
}
