//! The thread pool's core, without Python: a future's state machine (`future`), the work
//! queue with its worker bookkeeping (`queue`), and the bounded spinning both use before they
//! park (`spin`). The Python layer (`src/py/pool.rs`, `src/py/future.rs`) runs the workers'
//! loops and the tasks.

pub mod future;
pub mod queue;
pub mod spin;
