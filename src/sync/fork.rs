//! Threads parked at fork time, forgotten in the child.
//!
//! parking_lot keeps its sleeping threads in one process-wide table, keyed by the address they
//! wait on. `fork()` copies that table into the child, where the threads in it do not exist.
//! The first wake-up the child sends to such an address goes to one of those ghosts and is lost;
//! worse, a mutex hands itself to the first parked thread when parking_lot's fairness timer says
//! so, and a lock or internal mutex handed to a ghost is held forever. (The stdlib's primitives
//! keep their waiters in Python lists, where a ghost costs one wasted `release()`.)
//!
//! So every thread records the addresses it parks on (a condition variable and its mutex, or a
//! raw mutex) in a slot of its own while it sleeps, and a `pthread_atfork` child handler wakes
//! everything parked on the addresses recorded in the slots: parking_lot removes the ghosts from
//! its table, and their wake-ups go to memory nobody runs on. The forking thread parks on
//! nothing while it forks, so it loses nothing. Only the waits themselves pay: one thread-local
//! access and two stores before parking, two after.
//!
//! Not modelled under loom (which has no fork): there, `parked_on` only runs its closure.

/// Runs `wait` (which parks the calling thread on the addresses `keys`) with this thread's
/// slot recording them. A key of 0 is no key.
#[cfg(not(loom))]
#[inline]
pub fn parked_on<R>(keys: [usize; 2], wait: impl FnOnce() -> R) -> R {
    imp::SLOT.with(|slot| {
        let slot = slot.0;
        slot.keys[0].store(keys[0], SeqCst);
        slot.keys[1].store(keys[1], SeqCst);
        let r = wait();
        slot.keys[0].store(0, Relaxed);
        slot.keys[1].store(0, Relaxed);
        r
    })
}

#[cfg(loom)]
#[inline]
pub fn parked_on<R>(_keys: [usize; 2], wait: impl FnOnce() -> R) -> R {
    wait()
}

/// In a fork child, inside `fork()` (only the forking thread exists): wakes whatever is parked
/// on an address a slot records, so that parking_lot forgets the ghosts, and clears the slots.
/// Lock-free walk, no allocation: safe in a `pthread_atfork` child handler (which is where the
/// Python layer's `py::fork` calls it).
#[cfg(not(loom))]
pub fn forget_parked_threads() {
    GENERATION.fetch_add(1, Relaxed);
    imp::after_fork_in_child();
}

/// How many forks this process descends from (counted in each child): a thread's waiter record
/// (`park::Waiter`) remembers it, so that a waiter of a thread that does not exist here (it
/// waited in the parent) is seen as a ghost and skipped by a wake-up, which goes to the next.
#[cfg(not(loom))]
static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[cfg(not(loom))]
#[inline]
pub fn generation() -> u64 {
    GENERATION.load(Relaxed)
}

#[cfg(loom)]
#[inline]
pub fn generation() -> u64 {
    0
}

#[cfg(not(loom))]
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};

#[cfg(not(loom))]
mod imp {
    use super::*;
    use std::ptr;
    use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize};

    /// One thread's record. Slots live for the whole process, in a list that only grows; a
    /// thread that ends frees its slot for the next new thread.
    pub(super) struct Slot {
        pub(super) keys: [AtomicUsize; 2],
        in_use: AtomicBool,
        next: *const Slot,
    }

    static SLOTS: AtomicPtr<Slot> = AtomicPtr::new(ptr::null_mut());

    /// A thread's claim on a slot, released when the thread ends.
    pub(super) struct Claim(pub(super) &'static Slot);

    impl Drop for Claim {
        fn drop(&mut self) {
            self.0.keys[0].store(0, Relaxed);
            self.0.keys[1].store(0, Relaxed);
            self.0.in_use.store(false, Release);
        }
    }

    thread_local! {
        pub(super) static SLOT: Claim = Claim(claim());
    }

    fn claim() -> &'static Slot {
        let mut p = SLOTS.load(Acquire);
        // SAFETY: slots are leaked, never freed: every pointer in the list stays valid.
        while let Some(slot) = unsafe { p.as_ref() } {
            if !slot.in_use.load(Relaxed) && slot.in_use.compare_exchange(false, true, Acquire, Relaxed).is_ok() {
                return slot;
            }
            p = slot.next as *mut Slot;
        }
        let slot = Box::leak(Box::new(Slot {
            keys: [AtomicUsize::new(0), AtomicUsize::new(0)],
            in_use: AtomicBool::new(true),
            next: ptr::null(),
        }));
        let mut head = SLOTS.load(Relaxed);
        loop {
            slot.next = head;
            match SLOTS.compare_exchange_weak(head, slot, Release, Relaxed) {
                Ok(_) => return slot,
                Err(h) => head = h,
            }
        }
    }

    /// In the fork child (only the forking thread exists): wake whatever is parked on an
    /// address a slot records, and clear the slots. Lock-free walk, no allocation.
    pub(super) fn after_fork_in_child() {
        let mut p = SLOTS.load(Acquire);
        // SAFETY: as in `claim`.
        while let Some(slot) = unsafe { p.as_ref() } {
            for key in &slot.keys {
                let k = key.swap(0, SeqCst);
                if k != 0 {
                    // SAFETY: unpark_all only touches parking_lot's table and the parked
                    // threads' own (copied, unused) wake-up words.
                    unsafe { parking_lot_core::unpark_all(k, parking_lot_core::DEFAULT_UNPARK_TOKEN) };
                }
            }
            p = slot.next as *mut Slot;
        }
    }

    // SAFETY: `next` is written before the slot is published and never after.
    unsafe impl Sync for Slot {}
    // SAFETY: as above; a slot holds no thread-bound data.
    unsafe impl Send for Slot {}
}
