//! A signed 64-bit integer updated atomically: `rthreading.AtomicInt`'s state.
//!
//! Every update is checked: one whose result would leave the i64 range fails with `Overflow`
//! and leaves the value as it was (a compare-and-swap loop that gives up before storing).
//! Every access is `SeqCst`, so a program reasoning with it as if it were under a lock is right.

use super::prim::atomic::{AtomicI64, Ordering::SeqCst};

/// The value of an `AtomicInt` update would leave the i64 range (nothing was changed).
#[derive(Debug, PartialEq, Eq)]
pub struct Overflow;

#[derive(Debug, Default)]
pub struct AtomicInt(AtomicI64);

impl AtomicInt {
    pub fn new(value: i64) -> Self {
        AtomicInt(AtomicI64::new(value))
    }

    #[inline]
    pub fn get(&self) -> i64 {
        self.0.load(SeqCst)
    }

    #[inline]
    pub fn set(&self, value: i64) {
        self.0.store(value, SeqCst);
    }

    /// Adds `n`; returns the old value.
    #[inline]
    pub fn fetch_add(&self, n: i64) -> Result<i64, Overflow> {
        self.0.fetch_update(SeqCst, SeqCst, |v| v.checked_add(n)).map_err(|_| Overflow)
    }

    /// Subtracts `n`; returns the old value.
    #[inline]
    pub fn fetch_sub(&self, n: i64) -> Result<i64, Overflow> {
        self.0.fetch_update(SeqCst, SeqCst, |v| v.checked_sub(n)).map_err(|_| Overflow)
    }

    /// Adds `n`; returns the new value.
    #[inline]
    pub fn add(&self, n: i64) -> Result<i64, Overflow> {
        // The old value plus n fitted (checked in the update), so this cannot overflow.
        self.fetch_add(n).map(|old| old.wrapping_add(n))
    }

    /// Subtracts `n`; returns the new value.
    #[inline]
    pub fn sub(&self, n: i64) -> Result<i64, Overflow> {
        self.fetch_sub(n).map(|old| old.wrapping_sub(n))
    }

    /// Stores `value`; returns the old value.
    #[inline]
    pub fn exchange(&self, value: i64) -> i64 {
        self.0.swap(value, SeqCst)
    }

    /// Stores `new` if the value is `expected`; returns whether it did.
    #[inline]
    pub fn compare_exchange(&self, expected: i64, new: i64) -> bool {
        self.0.compare_exchange(expected, new, SeqCst, SeqCst).is_ok()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn arithmetic_and_overflow_leave_the_value() {
        let a = AtomicInt::new(5);
        assert_eq!(a.add(2), Ok(7));
        assert_eq!(a.sub(10), Ok(-3));
        assert_eq!(a.fetch_add(3), Ok(-3));
        assert_eq!(a.get(), 0);
        assert_eq!(a.exchange(i64::MAX), 0);
        assert_eq!(a.add(1), Err(Overflow));
        assert_eq!(a.get(), i64::MAX);
        a.set(i64::MIN);
        assert_eq!(a.sub(1), Err(Overflow));
        assert_eq!(a.fetch_sub(1), Err(Overflow));
        assert_eq!(a.add(i64::MIN), Err(Overflow));
        assert_eq!(a.get(), i64::MIN);
        assert!(a.compare_exchange(i64::MIN, 1));
        assert!(!a.compare_exchange(0, 2));
        assert_eq!(a.get(), 1);
    }

    #[test]
    fn exact_under_threads() {
        let a = Arc::new(AtomicInt::new(0));
        let hs: Vec<_> = (0..8)
            .map(|_| {
                let a = a.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        a.add(1).unwrap();
                    }
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(a.get(), 80_000);
    }
}
