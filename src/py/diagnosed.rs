//! The registration table through which the diagnostics (`stats`, `waitgraph`) reach the
//! primitives without naming them. A class that can be tracked, or that has an owner, says so
//! by implementing `Diagnosed` in its own file; `mod.rs` lists those classes once, at import.
//! So the primitives depend on the diagnostics, never the other way round.

use crate::sync::stats::Slot;
use pyo3::prelude::*;
use pyo3::pyclass::boolean_struct::True;
use pyo3::PyClass;
use std::marker::PhantomData;
use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;

/// What the diagnostics may ask of a primitive's object.
pub(crate) trait Diagnosed: PyClass<Frozen = True> + Sync {
    /// Its kind, as reports name it (`rthreading.Lock`).
    const KIND: &'static str;

    /// Its contention counters, if it can be tracked itself.
    fn counters(&self) -> Option<&Slot> {
        None
    }

    /// `(locked, owner ident or 0)`, for a lock that records its owner.
    fn lock_state(&self) -> Option<(bool, u64)> {
        None
    }

    /// The object `rthreading.track()` tracks in its place (a Condition: its lock), if any.
    fn tracked_instead<'py>(_slf: &Bound<'py, Self>) -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(None)
    }

    /// The word naming its holder, for a lock an asyncio task can wait for (the wait-for
    /// graph follows it: `waitgraph::Target::owner`).
    fn owner_word(&self) -> Option<&AtomicU64> {
        None
    }
}

/// What a task's wait on a registered object is registered as (`task_wait`).
pub(crate) struct WaitedOn<'a> {
    pub(crate) owner: Option<&'a AtomicU64>,
    pub(crate) kind: &'static str,
}

/// One registered class, its type erased.
pub(crate) trait Class: Sync {
    fn counters<'a>(&self, obj: &'a Bound<'_, PyAny>) -> Option<(&'a Slot, &'static str)>;
    fn lock_state(&self, obj: &Bound<'_, PyAny>) -> Option<(bool, u64)>;
    fn tracked_instead<'py>(&self, obj: &Bound<'py, PyAny>) -> Option<PyResult<Option<Bound<'py, PyAny>>>>;
    fn waited_on<'a>(&self, obj: &'a Bound<'_, PyAny>) -> Option<WaitedOn<'a>>;
}

/// The `Class` of `T`: `&ClassOf::<T>::NEW` is what `mod.rs` registers.
pub(crate) struct ClassOf<T>(PhantomData<fn() -> T>);

impl<T> ClassOf<T> {
    pub(crate) const NEW: Self = ClassOf(PhantomData);
}

impl<T: Diagnosed> Class for ClassOf<T> {
    fn counters<'a>(&self, obj: &'a Bound<'_, PyAny>) -> Option<(&'a Slot, &'static str)> {
        let this: &'a T = obj.cast::<T>().ok()?.get();
        Some((this.counters()?, T::KIND))
    }

    fn lock_state(&self, obj: &Bound<'_, PyAny>) -> Option<(bool, u64)> {
        obj.cast::<T>().ok()?.get().lock_state()
    }

    fn tracked_instead<'py>(&self, obj: &Bound<'py, PyAny>) -> Option<PyResult<Option<Bound<'py, PyAny>>>> {
        Some(T::tracked_instead(obj.cast::<T>().ok()?))
    }

    fn waited_on<'a>(&self, obj: &'a Bound<'_, PyAny>) -> Option<WaitedOn<'a>> {
        let this: &'a T = obj.cast::<T>().ok()?.get();
        Some(WaitedOn { owner: this.owner_word(), kind: T::KIND })
    }
}

static CLASSES: OnceLock<&'static [&'static dyn Class]> = OnceLock::new();

/// Registers the classes (at import; a second call changes nothing).
pub(crate) fn register(classes: &'static [&'static dyn Class]) {
    let _ = CLASSES.set(classes);
}

fn classes() -> &'static [&'static dyn Class] {
    CLASSES.get().copied().unwrap_or(&[])
}

/// The counters of a registered object that can be tracked itself, with its kind.
pub(crate) fn counters<'a>(obj: &'a Bound<'_, PyAny>) -> Option<(&'a Slot, &'static str)> {
    classes().iter().find_map(|c| c.counters(obj))
}

/// `(locked, owner ident or 0)` of a registered lock; None for anything else.
pub(crate) fn lock_state(obj: &Bound<'_, PyAny>) -> Option<(bool, u64)> {
    classes().iter().find_map(|c| c.lock_state(obj))
}

/// What `track()` tracks in place of a registered object that is not tracked itself.
pub(crate) fn tracked_instead<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
    match classes().iter().find_map(|c| c.tracked_instead(obj)) {
        Some(r) => r,
        None => Ok(None),
    }
}

/// How a task's wait on `obj` is registered; None if it is not a registered class.
pub(crate) fn waited_on<'a>(obj: &'a Bound<'_, PyAny>) -> Option<WaitedOn<'a>> {
    classes().iter().find_map(|c| c.waited_on(obj))
}
