"""The prose of the benchmarks page: how to read the tables, and what the measurements found."""

NOTES = """\
## How to read it

- **stdlib / rthreading** is the median of the per-repetition ratios (min..max over the
  repetitions in brackets): above 1, rthreading is faster. Each side's cell is its median
  (ns per operation, or items per second for the throughput rows) ± the median absolute
  deviation. Every repetition times all sides back to back, so the ratio compares samples
  taken moments apart; every scenario runs in a fresh worker process.
- **target** is the performance goal set for the free-threaded interpreter; **MISS** marks a
  median below it, **slower** a row where the stdlib was faster in every repetition.
- Thread start+join and the other Thread/Timer/local rows run the *same code* on both sides
  on 3.13+ (`rthreading.Thread` is the stdlib's class there), so their ratio is 1.0 within
  noise by construction; the `floor` row (the bare C calls) shows that the interpreter's own
  per-thread set-up is the whole cost (`perf` on 3.13t: about a fifth in mimalloc reclaiming
  the heaps that exited threads abandoned, about a sixth in `sched_yield` while the
  start/join hand-shakes spin, the rest the thread state's own set-up). Nothing in
  rthreading can make it faster; a pool (`rthreading.futures`) avoids paying it per task.
- SimpleQueue's put+get is at parity by nature: the stdlib's SimpleQueue is already a C
  type, and a put+get is two C method calls whose dispatch (~57 ns for one call on 3.13t
  here) is most of the cost on both sides. With producers and consumers on other threads,
  `perf` puts most of an item's time in the interpreter handing the object between threads
  (biased reference counts merged, memory freed across threads) and about an eighth in the
  queue's own entry points: a faster queue could not gain more than that eighth.
- The two-thread hand-offs depend on whether the other core is idle (a parked thread takes
  tens of microseconds to wake on an idle VM, far longer when the other core is busy). Each
  is timed twice: "(main thread driving)", one side on the worker process's main thread
  (where rthreading waits in signal-checked slices, as most programs' main thread waits),
  and "(2 workers)", both sides in worker threads.
- The workloads are whole programs, the same code with the stdlib's imports and with
  rthreading's, threads started and joined (a pool made and shut down) inside the timing and
  the garbage collector on; a row is one run's time per item. At the base item count the
  threads' start-up is part of that cost (~0.4 ms per thread on 3.13t), at 10x the items it
  is spread thin: a flat column means the cost grows linearly with the work. They take at
  most 5 repetitions at the base count and 3 above it (fewer if --repeat asks for fewer).
- The CPU row is a cost, not a speed: the share of one core a consumer thread burns
  (`time.thread_time` over wall time) while it waits in `q.get()` for a producer that sleeps
  2 ms per item. Lower is better; each side's median (min..max) is shown and no ratio (the
  stdlib's consumer parks at once: ~0%). Its target is a ceiling on rthreading's median: a
  spin-then-park wait may spend a little CPU to catch a quick hand-off, not a core.
- The async rows: one producer hands items to one consumer through one queue, threads and
  asyncio tasks mixed (thread -> task, task -> thread, two tasks on one loop, two tasks on two
  loops in two threads), in items/s; unbounded first (the rows with targets), then through a
  Queue(100), where a producer that runs ahead waits for room. rthreading is one `rthreading.queue.Queue`
  (threads `put`/`get`, tasks `await async_put`/`async_get`); the peers are janus
  (`sync_q`/`async_q`), culsans (`sync_put`/`async_get`) and aiologic (`green_put`/
  `async_get`), each pure Python; the stdlib column is what a program writes without them,
  named in the row (an `asyncio.Queue` fed by `loop.call_soon_threadsafe`, a `queue.Queue`
  fed with `put_nowait()` from the task, or `asyncio.Queue` on one loop). janus serves one
  event loop, so it has no two-loop figure. A column per peer and a ratio peer / rthreading
  each (above 1: rthreading faster); the targets are against janus and culsans (5x, 2x)
  where threads and tasks meet, and asyncio.Queue (1x) on one loop. Their sides differ by
  orders of magnitude, so each side is sampled with its own item count (each sample about
  the target length) rather than the slowest side's. Whether a consumer catches up and waits
  for each item decides a pure-Python peer's figure (a wake-up through the loop's self-pipe
  costs tens of microseconds), so those columns vary from run to run more than most.
- GIL rows (3.11) are for comparison only: no target applies there.
- The peer, ft_utils 0.2.0 (built from its sdist): `StdConcurrentQueue` (its drop-in for
  `queue.Queue`) and `ConcurrentQueue` (push/pop as put/get) are Python classes over its
  native ConcurrentDict and atomics; `ConcurrentQueue` notifies a `threading.Condition` on
  every push. A bounded `StdConcurrentQueue` can raise `queue.Full` from a *blocking* `put()`
  when producers race for the last free slot (it checks `full()` twice without a lock), so
  it is left out of a row where that happens (the row says so).
"""
