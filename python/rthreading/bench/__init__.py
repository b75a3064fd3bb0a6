"""rthreading's benchmark suite: the stdlib against rthreading (and Meta's ft_utils as a peer in
the queue scenarios; janus, culsans and aiologic in the async ones, threads and asyncio tasks
sharing a queue), timed interleaved in the same run.

    python -m rthreading.bench [--quick] [-k SUBSTRING ...] [--json PATH] [--chart PATH]
    python -m rthreading.bench --load RESULTS.json [--load ...] [--markdown PATH] [--chart PATH]

Design, and why it uses pyperf the way it does
----------------------------------------------
pyperf's own runner times one benchmark at a time: it calibrates, then spawns worker
processes that each run *one* benchmark, and compares two implementations only across two
whole runs (``pyperf compare_to a.json b.json``). What decides a threading benchmark on a
shared 2-core VM is drift: the host's frequency and the other tenants change over seconds,
and a hand-off between two threads depends on whether the other core is idle right now. Two
implementations timed minutes apart are compared under different conditions. So this suite
keeps the two sides together:

* **Process isolation, per scenario.** The parent process runs every scenario in a fresh
  worker process (``python -m rthreading.bench --worker NAME``): a scenario's leftover
  threads, heap, a hung side, or a GIL re-enabled by an import cannot leak into the next.
* **Interleaving, inside the worker.** The worker builds every side (stdlib, rthreading,
  peer), calibrates one operation count for all of them, and takes the samples side by
  side: each repetition times every side once, the order rotating and reversing, so each
  per-repetition ratio compares samples taken moments apart (``_harness.py``).
* **pyperf for the statistics and the file format.** The parent turns each side's samples
  into a ``pyperf.Run``/``pyperf.Benchmark`` (median, median absolute deviation, system
  metadata collected by pyperf) and ``--json PATH`` also writes one ``pyperf.BenchmarkSuite``
  per side next to PATH (``PATH-stem.stdlib.pyperf.json``, ``...rthreading.pyperf.json``), so
  ``python -m pyperf compare_to X.stdlib.pyperf.json X.rthreading.pyperf.json`` and
  ``python -m pyperf stats`` work on them. The ratio column is ours: the median of the
  per-repetition ratios, which pyperf's unpaired comparison cannot give.

pyperf (and matplotlib for ``--chart``) is the ``bench`` extra: ``pip install
'rthreading[bench]'``. The timing itself needs only the stdlib.
"""

from __future__ import annotations

from ._cli import main

__all__ = ["main"]
