//! The primitives the core is built from, in one place, so that the same state machines can be
//! model-checked with loom (`RUSTFLAGS="--cfg loom"`, see `make loom`).
//!
//! Normally (`not(loom)`) this re-exports what the core always used: parking_lot's
//! `Mutex`/`MutexGuard`/`RawMutex`, std's atomics and `Arc`, `pthread_self` as the thread
//! ident; parking_lot's `Condvar` is wrapped only so that its waits record, for a fork child,
//! what they park on (`fork.rs`).
//!
//! Under `cfg(loom)` the same names are loom-backed, with the parking_lot API the core uses:
//! - `Mutex::lock`/`try_lock` return guards directly (no poisoning); `MutexGuard::unlocked`.
//! - `Condvar::wait(&mut guard)`, `notify_one() -> bool` (whether a waiter was woken),
//!   `notify_all() -> usize`: a FIFO ticket condvar on a loom mutex + condvar, so that a
//!   notification wakes exactly the oldest waiter registered before it (as parking_lot's), never
//!   a thread that starts waiting later, and never spuriously.
//! - `RawMutex` (for `Lock`): a flag under a loom mutex, waited for on a loom condvar.
//! - Timed waits (`Condvar::wait_until`, `RawMutex::try_lock_until`) with a deadline already
//!   passed time out at once; with a later deadline they are UNTIMED: loom has no clock and no
//!   way to choose "timed out" nondeterministically (its own `Condvar::wait_timeout` never times
//!   out). So the models use `None` deadlines, deadlines already passed and the `try_`
//!   variants; a timeout racing a wake-up is modelled by the step that follows a timeout (e.g.
//!   `WaitQueue::remove`, `Barrier::expire`) called directly. `Instant` is std's in both builds.
//! - `current_thread_ident`: a per-loom-thread number (from 1; 0 means "no owner" in RLock).
//! - `yield_now` is loom's, so the spins (spin.rs) make one yield, one check.
//! - `force_unlock` (fork only) is not modelled and panics.
//! - `loom_seq_cst_fence()`: nothing normally; a `fence(SeqCst)` under loom, see there.

pub use std::time::Instant;

#[cfg(not(loom))]
mod imp {
    pub use parking_lot::{Mutex, MutexGuard, RawMutex, WaitTimeoutResult};
    use std::time::Instant;

    /// parking_lot's `Condvar`, whose waits record what they park on for a fork child (see
    /// `fork.rs`): the condition variable, and its mutex, where a notification may move them.
    #[derive(Debug, Default)]
    pub struct Condvar(parking_lot::Condvar);

    impl Condvar {
        pub const fn new() -> Self {
            Condvar(parking_lot::Condvar::new())
        }

        #[inline]
        fn keys<T>(&self, guard: &MutexGuard<'_, T>) -> [usize; 2] {
            // SAFETY: only the raw mutex's address is taken, to name it; it is not used.
            let raw = unsafe { MutexGuard::mutex(guard).raw() };
            [self as *const Self as usize, raw as *const RawMutex as usize]
        }

        #[inline]
        pub fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let keys = self.keys(guard);
            crate::sync::fork::parked_on(keys, || self.0.wait(guard))
        }

        #[inline]
        pub fn wait_until<T>(&self, guard: &mut MutexGuard<'_, T>, deadline: Instant) -> WaitTimeoutResult {
            let keys = self.keys(guard);
            crate::sync::fork::parked_on(keys, || self.0.wait_until(guard, deadline))
        }

        #[inline]
        pub fn notify_one(&self) -> bool {
            self.0.notify_one()
        }

        #[inline]
        pub fn notify_all(&self) -> usize {
            self.0.notify_all()
        }
    }
    pub use std::sync::Arc;
    pub use std::thread::yield_now;

    pub mod atomic {
        pub use std::sync::atomic::*;
    }

    /// See the loom version: SeqCst accesses already give this order, nothing to do.
    #[inline(always)]
    pub fn loom_seq_cst_fence() {}

    /// The calling thread's identity, the same number Python's `threading.get_ident()` returns
    /// (`PyThread_get_thread_ident` is `pthread_self` on POSIX).
    #[inline]
    pub fn current_thread_ident() -> u64 {
        // SAFETY: pthread_self has no preconditions and cannot fail.
        unsafe { libc::pthread_self() as u64 }
    }
}

#[cfg(loom)]
mod imp {
    use std::ops::{Deref, DerefMut};
    use std::sync::PoisonError;
    use std::time::Instant;

    pub use loom::sync::Arc;
    pub use loom::thread::yield_now;

    pub mod atomic {
        pub use loom::sync::atomic::*;
    }

    /// Between a SeqCst write and a later SeqCst load of another atomic (the waiter/waker
    /// "store, then look" pairs of Semaphore and Event). The C++ model orders them already (both
    /// are in the single total order of SeqCst operations), but loom treats SeqCst accesses as
    /// AcqRel (its README, "Unsupported features") and would report a lost wake-up that cannot
    /// happen; `fence(SeqCst)`, which loom does model, stands for that order. It also makes loom
    /// blind to a Relaxed access in such a pair, so those must stay SeqCst (reviewed by hand).
    pub fn loom_seq_cst_fence() {
        loom::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
    }

    /// A number per loom thread, from 1 (never 0, RLock's "unowned").
    pub fn current_thread_ident() -> u64 {
        // A plain std counter: it only hands out distinct numbers, it is not part of the model.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        loom::thread_local! {
            static IDENT: u64 = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        IDENT.with(|id| *id)
    }

    fn lock<T>(m: &loom::sync::Mutex<T>) -> loom::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[derive(Debug, Default)]
    pub struct Mutex<T>(loom::sync::Mutex<T>);

    pub struct MutexGuard<'a, T> {
        mutex: &'a loom::sync::Mutex<T>,
        /// None only inside `Condvar::wait` and `MutexGuard::unlocked`.
        guard: Option<loom::sync::MutexGuard<'a, T>>,
    }

    impl<T> Mutex<T> {
        pub fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard { mutex: &self.0, guard: Some(lock(&self.0)) }
        }

        pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            match self.0.try_lock() {
                Ok(g) => Some(MutexGuard { mutex: &self.0, guard: Some(g) }),
                Err(std::sync::TryLockError::Poisoned(e)) => {
                    Some(MutexGuard { mutex: &self.0, guard: Some(e.into_inner()) })
                }
                Err(std::sync::TryLockError::WouldBlock) => None,
            }
        }

        pub fn is_locked(&self) -> bool {
            self.0.try_lock().is_err()
        }

        /// # Safety
        /// Fork only; not modelled.
        pub unsafe fn force_unlock(&self) {
            unimplemented!("force_unlock (fork) is not modelled under loom")
        }
    }

    impl<'a, T> MutexGuard<'a, T> {
        /// Lets the mutex go while `f` runs, as parking_lot's.
        pub fn unlocked<U>(s: &mut Self, f: impl FnOnce() -> U) -> U {
            drop(s.guard.take());
            let r = f();
            s.guard = Some(lock(s.mutex));
            r
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.guard.as_ref().expect("guard held")
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.guard.as_mut().expect("guard held")
        }
    }

    /// Tickets of a FIFO condition variable: waiters `woken..issued` are waiting.
    #[derive(Debug, Default)]
    struct Tickets {
        issued: u64,
        woken: u64,
    }

    #[derive(Debug, Default)]
    pub struct Condvar {
        tickets: loom::sync::Mutex<Tickets>,
        cv: loom::sync::Condvar,
    }

    #[derive(Debug)]
    pub struct WaitTimeoutResult(bool);

    impl WaitTimeoutResult {
        pub fn timed_out(&self) -> bool {
            self.0
        }
    }

    impl Condvar {
        pub fn new() -> Self {
            Self::default()
        }

        pub fn wait<T>(&self, g: &mut MutexGuard<'_, T>) {
            let mut t = lock(&self.tickets);
            let me = t.issued;
            t.issued += 1;
            // Registered before the user's mutex goes: a notify after this point sees us.
            drop(g.guard.take());
            while t.woken <= me {
                t = self.cv.wait(t).unwrap_or_else(PoisonError::into_inner);
            }
            drop(t);
            g.guard = Some(lock(g.mutex));
        }

        /// A deadline already passed times out at once (letting the mutex go and taking it
        /// again, as parking_lot does); any other is untimed (see the module notes).
        pub fn wait_until<T>(&self, g: &mut MutexGuard<'_, T>, deadline: Instant) -> WaitTimeoutResult {
            if Instant::now() >= deadline {
                MutexGuard::unlocked(g, || ());
                return WaitTimeoutResult(true);
            }
            self.wait(g);
            WaitTimeoutResult(false)
        }

        pub fn notify_one(&self) -> bool {
            let mut t = lock(&self.tickets);
            if t.woken == t.issued {
                return false;
            }
            t.woken += 1;
            self.cv.notify_all();
            true
        }

        pub fn notify_all(&self) -> usize {
            let mut t = lock(&self.tickets);
            let n = t.issued - t.woken;
            t.woken = t.issued;
            if n > 0 {
                self.cv.notify_all();
            }
            n as usize
        }
    }

    /// `Lock`'s raw mutex: any thread may unlock it.
    #[derive(Debug, Default)]
    pub struct RawMutex {
        locked: loom::sync::Mutex<bool>,
        cv: loom::sync::Condvar,
    }

    impl RawMutex {
        pub fn new() -> Self {
            Self::default()
        }

        pub fn lock(&self) {
            let mut l = lock(&self.locked);
            while *l {
                l = self.cv.wait(l).unwrap_or_else(PoisonError::into_inner);
            }
            *l = true;
        }

        pub fn try_lock(&self) -> bool {
            let mut l = lock(&self.locked);
            !std::mem::replace(&mut *l, true)
        }

        /// One try if the deadline has passed, else untimed (see the module notes).
        pub fn try_lock_until(&self, deadline: Instant) -> bool {
            if Instant::now() >= deadline {
                return self.try_lock();
            }
            self.lock();
            true
        }

        pub fn is_locked(&self) -> bool {
            *lock(&self.locked)
        }

        /// # Safety
        /// As parking_lot's: the mutex is locked.
        pub unsafe fn unlock(&self) {
            *lock(&self.locked) = false;
            self.cv.notify_one();
        }
    }
}

pub use imp::*;

/// A `const fn` normally; a plain `fn` under loom, whose primitives have no const constructors.
macro_rules! const_fn {
    ($(#[$attr:meta])* $vis:vis fn $($rest:tt)*) => {
        #[cfg(not(loom))]
        $(#[$attr])* $vis const fn $($rest)*
        #[cfg(loom)]
        $(#[$attr])* $vis fn $($rest)*
    };
}
pub(crate) use const_fn;
