//! Contention counters for one primitive or queue. Off by default: an object counts only when
//! it was given a `Counters` (created while statistics were on, or tracked explicitly), so the
//! uncontended path of an untracked object pays one well-predicted branch on an empty slot and
//! nothing else. Waits are timed on the slow path only.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Whether objects created now get counters (the global switch).
static ENABLED: AtomicBool = AtomicBool::new(false);

pub fn set_enabled(on: bool) {
    ENABLED.store(on, Relaxed);
}

#[inline]
pub fn enabled() -> bool {
    ENABLED.load(Relaxed)
}

/// What happened to one object. For a lock: `acquisitions` successful acquires, `contended`
/// those that had to wait (or failed a try), `wait_ns`/`max_wait_ns` time spent waiting. For a
/// queue the same for `put` (full) and `get` (empty): `acquisitions` counts both operations.
#[derive(Default, Debug)]
pub struct Counters {
    pub acquisitions: AtomicU64,
    pub contended: AtomicU64,
    pub wait_ns: AtomicU64,
    pub max_wait_ns: AtomicU64,
    pub put_waits: AtomicU64,
    pub get_waits: AtomicU64,
}

/// The counters a snapshot reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub acquisitions: u64,
    pub contended: u64,
    pub wait_ns: u64,
    pub max_wait_ns: u64,
    pub put_waits: u64,
    pub get_waits: u64,
}

impl Counters {
    #[inline]
    pub fn acquired(&self) {
        self.acquisitions.fetch_add(1, Relaxed);
    }

    /// A wait of `waited` that ended in an acquisition when `acquired`.
    pub fn waited(&self, waited: Duration, acquired: bool) {
        let ns = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
        if acquired {
            self.acquisitions.fetch_add(1, Relaxed);
        }
        self.contended.fetch_add(1, Relaxed);
        self.wait_ns.fetch_add(ns, Relaxed);
        self.max_wait_ns.fetch_max(ns, Relaxed);
    }

    /// A queue's wait for room (`put`) or for an item, however it ended.
    pub fn queue_waited(&self, put: bool, waited: Duration) {
        if put {
            self.put_waits.fetch_add(1, Relaxed);
        } else {
            self.get_waits.fetch_add(1, Relaxed);
        }
        self.waited(waited, false);
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            acquisitions: self.acquisitions.load(Relaxed),
            contended: self.contended.load(Relaxed),
            wait_ns: self.wait_ns.load(Relaxed),
            max_wait_ns: self.max_wait_ns.load(Relaxed),
            put_waits: self.put_waits.load(Relaxed),
            get_waits: self.get_waits.load(Relaxed),
        }
    }

    pub fn reset(&self) {
        for c in
            [&self.acquisitions, &self.contended, &self.wait_ns, &self.max_wait_ns, &self.put_waits, &self.get_waits]
        {
            c.store(0, Relaxed);
        }
    }
}

/// An object's slot for counters: empty until it is tracked, then set for good.
#[derive(Default, Debug)]
pub struct Slot(OnceLock<Arc<Counters>>);

impl Slot {
    pub const fn new() -> Self {
        Slot(OnceLock::new())
    }

    #[inline(always)]
    pub fn get(&self) -> Option<&Counters> {
        self.0.get().map(|c| &**c)
    }

    /// The object's counters, created on first call.
    pub fn track(&self) -> Arc<Counters> {
        self.0.get_or_init(Default::default).clone()
    }

    /// Counts an uncontended acquisition if tracked.
    #[inline(always)]
    pub fn hit(&self) {
        if let Some(c) = self.get() {
            c.acquired();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_when_tracked() {
        let s = Slot::new();
        s.hit();
        assert!(s.get().is_none());
        let c = s.track();
        s.hit();
        s.hit();
        c.waited(Duration::from_millis(3), true);
        c.waited(Duration::from_millis(1), false);
        let snap = c.snapshot();
        assert_eq!(snap.acquisitions, 3);
        assert_eq!(snap.contended, 2);
        assert_eq!(snap.wait_ns, 4_000_000);
        assert_eq!(snap.max_wait_ns, 3_000_000);
        c.reset();
        assert_eq!(c.snapshot(), Snapshot::default());
        assert!(Arc::ptr_eq(&c, &s.track()));
    }
}
