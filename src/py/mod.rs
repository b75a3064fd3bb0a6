//! PyO3 wrappers, one file per public class. They check arguments, map errors to the stdlib's
//! exceptions and wait through `wait` (detached, interruptible); the state lives in `crate::sync`.

use pyo3::exceptions::PyImportError;
use pyo3::prelude::*;

mod atomic_int;
mod barrier;
mod bound;
mod condition;
mod diagnosed;
mod event;
mod fastcall;
mod fork;
pub(crate) mod future;
#[cfg(Py_3_13)]
mod instance_dict;
mod latch;
mod lock;
mod pool;
mod queue;
mod rlock;
mod rwlock;
mod select;
mod semaphore;
mod simple_queue;
mod stats;
mod task_wait;
mod thread;
mod trace;
pub(crate) mod wait;
mod waitgraph;
mod waiting;
mod waker;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    refuse_subinterpreters()?;
    wait::init(m.py())?;
    bound::init(m.py())?;
    m.add_class::<lock::Lock>()?;
    lock::install_fast_paths(&m.py().get_type::<lock::Lock>())?;
    m.add_class::<rlock::RLock>()?;
    rlock::install_fast_paths(&m.py().get_type::<rlock::RLock>())?;
    m.add_class::<condition::Condition>()?;
    condition::install_fast_paths(&m.py().get_type::<condition::Condition>())?;
    m.add_class::<semaphore::Semaphore>()?;
    semaphore::install_fast_paths(&m.py().get_type::<semaphore::Semaphore>())?;
    m.add_class::<semaphore::BoundedSemaphore>()?;
    m.add_class::<event::Event>()?;
    m.add_class::<barrier::Barrier>()?;
    m.add_class::<queue::Queue>()?;
    m.add_class::<queue::LifoQueue>()?;
    m.add_class::<queue::PriorityQueue>()?;
    queue::install_fast_paths(&m.py().get_type::<queue::Queue>())?;
    #[cfg(Py_3_13)]
    {
        instance_dict::install::<0>(&m.py().get_type::<condition::Condition>())?;
        instance_dict::install::<1>(&m.py().get_type::<semaphore::Semaphore>())?;
        instance_dict::install::<2>(&m.py().get_type::<semaphore::BoundedSemaphore>())?;
        instance_dict::install::<3>(&m.py().get_type::<event::Event>())?;
        instance_dict::install::<4>(&m.py().get_type::<barrier::Barrier>())?;
        instance_dict::install::<5>(&m.py().get_type::<queue::Queue>())?;
        instance_dict::install::<6>(&m.py().get_type::<queue::LifoQueue>())?;
        instance_dict::install::<7>(&m.py().get_type::<queue::PriorityQueue>())?;
    }
    m.add_class::<atomic_int::AtomicInt>()?;
    atomic_int::install_fast_paths(&m.py().get_type::<atomic_int::AtomicInt>())?;
    m.add_class::<latch::CountDownLatch>()?;
    m.add_class::<rwlock::RWLock>()?;
    m.add_class::<rwlock::ReadGuard>()?;
    m.add_class::<rwlock::WriteGuard>()?;
    rwlock::install_fast_paths(m.py())?;
    m.add_class::<simple_queue::SimpleQueue>()?;
    simple_queue::install_fast_paths(&m.py().get_type::<simple_queue::SimpleQueue>())?;
    m.add_function(wrap_pyfunction!(select::select, m)?)?;
    m.add_class::<waker::Waker>()?;
    m.add_function(wrap_pyfunction!(thread::_acquire_and_release, m)?)?;
    m.add_function(wrap_pyfunction!(trace::_settraceallthreads, m)?)?;
    m.add_function(wrap_pyfunction!(trace::_setprofileallthreads, m)?)?;
    m.add_class::<future::FutureBase>()?;
    m.add_function(wrap_pyfunction!(future::_register_future_class, m)?)?;
    m.add_class::<pool::ThreadPoolBase>()?;
    m.add_class::<pool::WorkerTicket>()?;
    m.add_function(wrap_pyfunction!(pool::_python_exit, m)?)?;
    m.add_function(wrap_pyfunction!(fork::_after_fork_in_child, m)?)?;
    m.add("DeadlockError", m.py().get_type::<waitgraph::DeadlockError>())?;
    m.add_function(wrap_pyfunction!(waitgraph::_waits, m)?)?;
    m.add_function(wrap_pyfunction!(waitgraph::_cycles, m)?)?;
    m.add_function(wrap_pyfunction!(waitgraph::_lock_owner, m)?)?;
    m.add_function(wrap_pyfunction!(waitgraph::_set_strict_deadlocks, m)?)?;
    m.add_class::<task_wait::TaskWait>()?;
    m.add_function(wrap_pyfunction!(task_wait::_task_wait, m)?)?;
    m.add("_TASK_BIT", crate::sync::waitgraph::TASK_BIT)?;
    m.add_function(wrap_pyfunction!(stats::_set_stats_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(stats::_track, m)?)?;
    m.add_function(wrap_pyfunction!(stats::_stats, m)?)?;
    m.add_function(wrap_pyfunction!(stats::_reset_stats, m)?)?;
    diagnosed::register(DIAGNOSED);
    fork::install(m)
}

/// The classes the diagnostics (`stats`, `waitgraph`) reach through `diagnosed`.
static DIAGNOSED: &[&dyn diagnosed::Class] = &[
    &diagnosed::ClassOf::<lock::Lock>::NEW,
    &diagnosed::ClassOf::<rlock::RLock>::NEW,
    &diagnosed::ClassOf::<queue::Queue>::NEW,
    &diagnosed::ClassOf::<condition::Condition>::NEW,
    &diagnosed::ClassOf::<rwlock::RWLock>::NEW,
    &diagnosed::ClassOf::<semaphore::Semaphore>::NEW,
    &diagnosed::ClassOf::<event::Event>::NEW,
    &diagnosed::ClassOf::<simple_queue::SimpleQueue>::NEW,
];

/// The classes, their fast entries and the state in `wait`, `stats`, `waitgraph` and the pools
/// are the process's, made for the main interpreter; a subinterpreter that set them up again
/// (PyO3 0.28 runs the module's exec slot there, over the same static types) would corrupt
/// them for the main one. So rthreading refuses to be imported anywhere else, before touching
/// anything.
fn refuse_subinterpreters() -> PyResult<()> {
    // SAFETY: called attached, from the module's exec slot; both calls only read the runtime.
    let (current, main) = unsafe { (pyo3::ffi::PyInterpreterState_Get(), pyo3::ffi::PyInterpreterState_Main()) };
    if current == main {
        Ok(())
    } else {
        Err(PyImportError::new_err(
            "rthreading cannot be imported in a subinterpreter: it serves the main interpreter only \
             (use the stdlib's threading and queue in subinterpreters)",
        ))
    }
}
