"""Statistics (pyperf), tables, the JSON files, the docs page and the chart."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import sysconfig
import time

from ._harness import LABELS, progress

EXTRA_HINT = "pip install 'rthreading[bench]'"
# Rows whose two sides run the same code (so their ratio is 1.0 within noise by construction).
SAME_CODE_NOTE = "same code on both sides"


def need_pyperf():
    try:
        import pyperf  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError as exc:
        progress(
            f"rthreading.bench needs pyperf for its statistics and result files ({exc}):"
            f" {EXTRA_HINT}  (or: pip install pyperf)"
        )
        return None
    return pyperf


# --- statistics ---------------------------------------------------------------------------


def _pyperf_benchmark(name, unit, values_ns, number, metadata=None):
    """A pyperf.Benchmark of one side of one row: values in seconds (or bytes) per operation."""
    import pyperf  # type: ignore[import-untyped, import-not-found, unused-ignore]

    scale = 1e-9 if unit == "second" else 1.0
    md = {"name": name, "unit": unit, "loops": max(1, int(number or 1))}
    if metadata:
        md.update(metadata)
    return pyperf.Benchmark([pyperf.Run([v * scale for v in values_ns], metadata=md, collect_metadata=False)])


def pyperf_unit(row):
    return {"time": "second", "memory": "byte"}.get(row["kind"])


def add_stats(row):
    """Per side: median, MAD (pyperf's), min, max; per pair: the per-repetition ratios."""
    if row.get("status") != "ok":
        return row
    stats = {}
    unit = pyperf_unit(row)
    for label, values in row["samples"].items():
        if unit:
            b = _pyperf_benchmark(row["name"], unit, values, row.get("number"))
            scale = 1e9 if unit == "second" else 1.0
            median, mad = b.median() * scale, (b.median_abs_dev() * scale if len(values) > 1 else 0.0)
        else:  # a derived quantity (speed-up): plain statistics
            median = statistics.median(values)
            mad = statistics.median([abs(v - median) for v in values])
        stats[label] = {"median": median, "mad": mad, "min": min(values), "max": max(values)}
    row["stats"] = stats
    samples = row["samples"]
    if row["kind"] in ("speedup", "cpu"):
        row["ratio"] = None  # the target is on rthreading's own value (speed-up, CPU share)
    else:
        row["ratio"] = _ratio(samples["stdlib"], samples["rthreading"])
        if "ft_utils" in samples:
            row["peer_ratio"] = _ratio(samples["ft_utils"], samples["rthreading"])
    row["verdict"] = verdict(row)
    return row


def _ratio(slower, faster):
    ratios = [a / b for a, b in zip(slower, faster)]
    return {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios), "values": ratios}


def verdict(row):
    """'' (fine), 'MISS' (below its target) or 'slower' (stdlib faster in every repetition)."""
    if row.get("status") != "ok" or row.get("same_code"):
        return ""
    if row["kind"] == "speedup":
        value = row["stats"]["rthreading"]["median"]
        return "MISS" if row.get("target") and value < row["target"] else ""
    if row["kind"] == "cpu":  # a cost: lower is better, the target is a ceiling
        value = row["stats"]["rthreading"]["median"]
        return "MISS" if row.get("target") and value > row["target"] else ""
    r = row["ratio"]
    if row.get("target") and r["median"] < row["target"]:
        return "MISS"
    if r["max"] < 1.0:
        return "slower"
    return ""


# --- formatting ---------------------------------------------------------------------------


def num(x):
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def si(x):
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= limit:
            return f"{x / limit:.3g}{suffix}"
    return f"{x:.3g}"


def fmt_side(row, label):
    s = row["stats"].get(label)
    if s is None:
        return ""
    med = s["median"]
    spread = f" ±{100 * s['mad'] / med:.0f}%" if med else ""
    if row["kind"] == "memory":
        return f"{med:.2f} B{spread}"
    if row["kind"] == "speedup":
        return f"{med:.2f}x ({s['min']:.2f}..{s['max']:.2f})"
    if row["kind"] == "cpu":
        return f"{pct(med)} ({pct(s['min'])}..{pct(s['max'])})"
    if row["unit"] == "items/s":
        return f"{si(1e9 / med)}/s{spread}"
    if med >= 1e6:
        return f"{med / 1e6:.3g} ms{spread}"
    if med >= 1e4:
        return f"{med / 1e3:.3g} µs{spread}"
    return f"{num(med)} ns{spread}"


def pct(x):
    return f"{x:.1f}%" if x >= 1 else f"{x:.2f}%"


def fmt_ratio(r):
    if not r:
        return ""
    return f"{r['median']:.2f} ({r['min']:.2f}..{r['max']:.2f})"


def fmt_target(row):
    t = row.get("target")
    mark = row.get("verdict", "")
    if row["kind"] == "speedup":
        cell = f"≥ {t:.2f}x" if t else ""
    elif row["kind"] == "cpu":
        cell = f"≤ {t:g}% of a core" if t else ""
    else:
        cell = f"≥ {t:g}" if t else ""
    if mark:
        cell = f"{cell} **{mark}**".strip()
    elif row.get("same_code") and row.get("status") == "ok":
        cell = f"{cell} (same code)".strip()
    elif t and row.get("status") == "ok":
        cell += " ✓"
    return cell


def progress_line(row):
    if row.get("status") != "ok":
        return f"{row['name']}: n/a ({row.get('reason', '')})"
    parts = [f"{label} {fmt_side(row, label)}" for label in LABELS if label in row["stats"]]
    ratio = f", ratio {fmt_ratio(row['ratio'])}" if row.get("ratio") else ""
    mark = f"  [{row['verdict']}]" if row.get("verdict") else ""
    for label, why in row.get("dropped", {}).items():
        mark += f"  ({label} left out: {why})"
    return f"{row['name']}: {', '.join(parts)}{ratio}{mark}"


def group_table(rows, peers=True):
    peer = peers and any("ft_utils" in r.get("stats", {}) for r in rows)
    head = ["scenario", "stdlib", "rthreading"] + (["ft_utils"] if peer else [])
    head += ["stdlib / rthreading"] + (["ft_utils / rthreading"] if peer else []) + ["target"]
    out = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for r in rows:
        if r.get("status") != "ok":
            cells = [r["name"]] + ["n/a"] * (len(head) - 2) + [fmt_target(r)]
        else:
            cells = [r["name"], fmt_side(r, "stdlib"), fmt_side(r, "rthreading")]
            if peer:
                cells.append(fmt_side(r, "ft_utils"))
            cells.append(fmt_ratio(r.get("ratio")) or "—")
            if peer:
                cells.append(fmt_ratio(r.get("peer_ratio")))
            cells.append(fmt_target(r))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def tables(result, heading="###"):
    """Markdown: one table per group, the environment, and what missed."""
    groups = {}
    for r in result["rows"]:
        groups.setdefault(r["group"], []).append(r)
    parts = []
    for group, rows in groups.items():
        parts.append(f"{heading} {group}\n\n{group_table(rows)}")
    env = result["environment"]
    parts.append(
        f"{environment_line(env)}; {result['repeat']} repetitions,"
        f" {result['date']}, load average {format_load(env)}, "
        f"{result.get('seconds', 0):.0f} s."
    )
    same = [r["name"] for r in result["rows"] if r.get("same_code")]
    if same:
        parts.append(
            "Same code on both sides (rthreading re-exports the stdlib's own object),"
            " so the ratio is this machine's run-to-run noise: " + "; ".join(same) + "."
        )
    misses = [r for r in result["rows"] if r.get("verdict")]
    na = [r for r in result["rows"] if r.get("status") != "ok"]
    if misses:
        parts.append(
            "Below target or slower than the stdlib: "
            + "; ".join(f"{r['name']} ({describe_miss(r)})" for r in misses)
            + "."
        )
    if na:
        parts.append("n/a: " + "; ".join(f"{r['name']} ({r.get('reason', '')})" for r in na) + ".")
    dropped = [(r["name"], label, why) for r in result["rows"] for label, why in r.get("dropped", {}).items()]
    if dropped:
        parts.append(
            "Left out of a row because that side failed: "
            + "; ".join(f"{label} in {name} ({why})" for name, label, why in dropped)
            + "."
        )
    peer = result.get("peer", {}).get("ft_utils")
    if peer and peer != "included":
        parts.append(f"Peer ft_utils left out: {peer}.")
    return "\n\n".join(parts) + "\n"


def describe_miss(r):
    if r["kind"] == "speedup":
        return f"{r['stats']['rthreading']['median']:.2f}x, target {r['target']:.2f}x"
    if r["kind"] == "cpu":
        return f"{pct(r['stats']['rthreading']['median'])} of a core, target at most {r['target']:g}%"
    med = r["ratio"]["median"]
    if r["verdict"] == "MISS":
        return f"{med:.2f}x, target {r['target']:g}x: {100 * (1 - med / r['target']):.0f}% short"
    return f"{med:.2f}x in the median, below 1 in every repetition"


def format_load(env):
    start = env.get("loadavg_start")
    end = env.get("loadavg_end")
    fmt = lambda la: f"{la[0]:.2f}" if la else "?"
    line = f"{fmt(start)} at the start, {fmt(end)} at the end"
    if env.get("others_cpu") is not None:
        line += f" (other work: {env['others_cpu']:.2f} CPUs on average during the run)"
    return line


def cpu_snapshot():
    """The machine's busy CPU seconds (steal included: a hypervisor's other guests) and this
    process tree's own CPU seconds, now; None where /proc/stat is missing."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal (guest time is counted in user already)
    busy = sum(fields[:8]) - fields[3] - fields[4]
    own = os.times()
    return {
        "busy": busy / os.sysconf("SC_CLK_TCK"),
        "wall": time.monotonic(),
        "own": own.user + own.system + own.children_user + own.children_system,
    }


def others_cpu(start):
    """How many CPUs, on average since `start` (a `cpu_snapshot`), other processes kept busy:
    the run's own work (this process and the workers it waited for) does not count, unlike in
    the load average, which the benchmark's own threads and the build before it raise."""
    end = cpu_snapshot()
    if start is None or end is None or end["wall"] <= start["wall"]:
        return None
    others = (end["busy"] - start["busy"]) - (end["own"] - start["own"])
    return round(max(others, 0.0) / (end["wall"] - start["wall"]), 3)


def environment():
    gil_disabled_build = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    gil_on = getattr(sys, "_is_gil_enabled", lambda: True)()
    if not gil_disabled_build:
        build = "GIL"
    elif gil_on:  # e.g. PYTHON_GIL=1, or an extension module that is not free-threading-safe
        build = "free-threaded build, GIL RE-ENABLED"
    else:
        build = "free-threaded, GIL disabled"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        from importlib.metadata import version

        rt_version = version("rthreading")
    except Exception:  # noqa: BLE001 - informational only
        rt_version = "?"
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "build": build,
        "gil_enabled": gil_on,
        "rthreading": rt_version,
        "system": f"{platform.system()} {platform.machine()}",
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "loadavg_start": list(os.getloadavg()),
    }


def environment_line(env):
    return (
        f"{env['implementation']} {env['python']} ({env['build']}),"
        f" rthreading {env['rthreading']}; {env['system']}, nproc {env['nproc']}, {env['cpu']}"
    )


# --- files --------------------------------------------------------------------------------


def write_json(result, path, pyperf):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    progress(f"wrote {path}")
    stem = path[:-5] if path.endswith(".json") else path
    metadata = pyperf.Run([1.0], metadata={"name": "metadata"}).get_metadata()
    metadata.pop("name", None)
    metadata["description"] = result["command"]
    labels = [label for label in LABELS if any(label in r.get("samples", {}) for r in result["rows"])]
    for label in labels:
        benchmarks = []
        for r in result["rows"]:
            unit = pyperf_unit(r)
            if r.get("status") == "ok" and unit and label in r["samples"]:
                benchmarks.append(_pyperf_benchmark(r["name"], unit, r["samples"][label], r.get("number"), metadata))
        if benchmarks:
            out = f"{stem}.{label}.pyperf.json"
            pyperf.BenchmarkSuite(benchmarks).dump(out, replace=True)
            progress(f"wrote {out}")
    if "stdlib" in labels and "rthreading" in labels:
        progress(
            f"compare: {sys.executable} -m pyperf compare_to {stem}.stdlib.pyperf.json"
            f" {stem}.rthreading.pyperf.json --table"
        )


def maybe_chart(results, path):
    if not path:
        return 0
    try:
        from ._chart import draw
    except ImportError as exc:
        progress(
            f"no chart: matplotlib is missing ({exc}): {EXTRA_HINT}; or draw it from"
            " saved results on an interpreter that has it: python -m rthreading.bench"
            f" --load RESULTS.json --chart {path}"
        )
        return 3
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    draw(results, path)
    progress(f"wrote the chart to {os.path.abspath(path)}")
    return 0


NOTES = """\
## How to read it

- **stdlib / rthreading** is the median of the per-repetition ratios (min..max over the
  repetitions in brackets): above 1, rthreading is faster. Each side's cell is its median
  (ns per operation, or items per second for the throughput rows) ± the median absolute
  deviation. Every repetition times all sides back to back, so the ratio compares samples
  taken moments apart; every scenario runs in a fresh worker process.
- **target** is what issues 6 and 15 ask of the free-threaded interpreter; **MISS** marks a
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
- GIL rows (3.11) are for comparison only: no target applies there.
- The peer, ft_utils 0.2.0 (built from its sdist): `StdConcurrentQueue` (its drop-in for
  `queue.Queue`) and `ConcurrentQueue` (push/pop as put/get) are Python classes over its
  native ConcurrentDict and atomics; `ConcurrentQueue` notifies a `threading.Condition` on
  every push. A bounded `StdConcurrentQueue` can raise `queue.Full` from a *blocking* `put()`
  when producers race for the last free slot (it checks `full()` twice without a lock), so
  it is left out of a row where that happens (the row says so).
"""


def caveats(res):
    """What makes a result less than a published figure: a --quick run, a busy machine."""
    env, out = res["environment"], []
    if res.get("quick"):
        out.append("a --quick run (short samples)")
    others = env.get("others_cpu")
    if others is not None:  # measured: the CPU time other processes took during the run
        if env.get("nproc") and others > 0.25 * env["nproc"]:
            out.append(
                f"taken while other work kept {others:.2f} of {env['nproc']} CPUs busy on"
                " average: the figures are noisy; regenerate on an idle machine"
            )
        return "; ".join(out)
    # Older results (no measurement): the load average, which counts the run itself.
    load = max((env.get("loadavg_start") or [0])[0], (env.get("loadavg_end") or [0])[0])
    if env.get("nproc") and load > 0.5 * env["nproc"]:
        out.append(
            f"taken while the machine was busy (load average up to {load:.1f} on"
            f" {env['nproc']} CPUs): the figures are noisy; regenerate on an idle machine"
        )
    return "; ".join(out)


def write_markdown(results, path, chart):
    lines = [
        "# Benchmarks",
        "",
        "rthreading against the stdlib (and Meta's `ft_utils` in the queue rows where it "
        "installs), timed interleaved in the same run by `python -m rthreading.bench`.",
        "Regenerate this page and the chart with `make bench-docs` (on an idle machine: "
        "it runs the full suite on the free-threaded interpreter, then on the GIL one).",
        "",
    ]
    if chart:
        rel = os.path.relpath(os.path.abspath(chart), os.path.dirname(os.path.abspath(path)))
        lines += [f"![ratio per scenario and throughput vs threads]({rel})", ""]
    for res in results:
        env = res["environment"]
        lines += [
            f"## {env['implementation']} {env['python']} ({env['build']})",
            "",
            f"Machine: {env['system']}, {env['nproc']} CPUs, {env['cpu']}. "
            f"Measured {res['date']}, load average {format_load(env)}, "
            f"{res['repeat']} repetitions, {res.get('seconds', 0):.0f} s.",
            "",
            f"Command: `{res['command']}`",
            "",
        ]
        warn = caveats(res)
        if warn:
            lines += [f"**Caveat: {warn}**", ""]
        lines += [tables(res, heading="###")]
    lines.append(NOTES)
    with open(path, "w") as f:
        f.write("\n".join(lines).rstrip("\n") + "\n")


README_START, README_END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"


def headline_table(res):
    """The rows with a target (the issue's), stdlib against rthreading: what a README shows."""
    out = [
        group_table([r for r in res["rows"] if r.get("target")], peers=False),
        "",
        f"{environment_line(res['environment'])}; {res['date']}, median of {res['repeat']}"
        " repetitions, ratio range in brackets.",
    ]
    warn = caveats(res)
    if warn:
        out += ["", f"**Caveat: {warn}**"]
    return "\n".join(out)


def write_readme_table(results, path):
    """Replace the text between the README's benchmark markers with the headline table of the
    first free-threaded result (else the first result)."""
    res = next((r for r in results if not r["environment"].get("gil_enabled")), results[0])
    with open(path) as f:
        text = f.read()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise SystemExit(f"{path}: no {README_START} ... {README_END} block to fill")
    text = text[: start + len(README_START)] + "\n" + headline_table(res) + "\n" + text[end:]
    with open(path, "w") as f:
        f.write(text)
