"""The command line: choose scenarios, run each in a worker process, report."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
import time

from ._harness import progress

GROUPS = ("primitives", "contended", "beyond", "queue", "async", "pool", "thread", "workloads", "memory")
WORKER_TIMEOUT = 600  # seconds a worker process may take before it is killed (n/a)


def all_scenarios():
    """Every scenario, in table order (imports the modules under test)."""
    from . import aio, beyond, contended, pool, primitives, queues, thread, workloads

    out = primitives.scenarios() + contended.scenarios() + beyond.scenarios() + queues.scenarios()
    out += aio.scenarios()
    out += pool.scenarios() + thread.scenarios() + workloads.scenarios()
    return sorted(out, key=lambda s: GROUPS.index(s.group))


def select(scenarios, filters):
    """Scenarios whose name or group contains any of the filters (case-insensitive)."""
    wanted = [f.lower() for f in filters if f]
    if not wanted:
        return scenarios
    return [s for s in scenarios if any(w in s.name.lower() or w == s.group for w in wanted)]


def settings(args):
    repeat = args.repeat or (5 if args.quick else 7)
    target = 0.02 if args.quick else 0.1  # seconds per sample of the slowest side
    return repeat, target


def run_worker(args):
    """--worker NAME: run that one scenario here and print its rows as JSON on stdout."""
    repeat, target = settings(args)
    by_name = {s.name: s for s in all_scenarios()}
    scenario = by_name.get(args.worker)
    if scenario is None:
        print(f"no scenario named {args.worker!r}", file=sys.stderr)
        return 2
    rows = scenario.measure(repeat, target, args.quick)
    json.dump(rows, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()
    # Out at once: a side that hung or was interrupted may have left non-daemon threads
    # blocked (a workload's own threads), which the interpreter's exit would wait for.
    os._exit(0)


def run_isolated(scenario, args):
    """Run one scenario in a fresh interpreter: its rows, or one n/a row on failure."""
    cmd = [sys.executable, "-m", "rthreading.bench", "--worker", scenario.name]
    if args.quick:
        cmd.append("--quick")
    if args.repeat:
        cmd += ["--repeat", str(args.repeat)]
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=WORKER_TIMEOUT)
    except subprocess.TimeoutExpired:
        return [scenario.row(status="n/a", reason=f"worker killed after {WORKER_TIMEOUT} s")]
    if r.returncode != 0:
        return [scenario.row(status="n/a", reason=f"worker exited with status {r.returncode}")]
    return json.loads(r.stdout.strip().splitlines()[-1])


def parser():
    p = argparse.ArgumentParser(
        prog="python -m rthreading.bench",
        description="Benchmark rthreading against the stdlib (and ft_utils, janus, culsans, aiologic), interleaved in "
        "the same run; prints a table per group.",
    )
    p.add_argument("--quick", action="store_true", help="short samples, 5 repetitions: about a minute, not minutes")
    p.add_argument("--repeat", type=int, help="repetitions per side (default 7, quick 5)")
    p.add_argument(
        "-k",
        dest="filters",
        action="append",
        default=[],
        metavar="SUBSTRING",
        help="only scenarios whose name contains SUBSTRING (case-insensitive), or "
        f"whose group is SUBSTRING ({', '.join(GROUPS)}); repeatable",
    )
    p.add_argument(
        "--json",
        metavar="PATH",
        help="write every sample, the statistics and the environment to PATH, and "
        "one pyperf file per side next to it (PATH-stem.SIDE.pyperf.json)",
    )
    p.add_argument("--chart", metavar="PATH", help="draw the chart (PNG) to PATH (matplotlib)")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.add_argument(
        "--in-process", action="store_true", help="run the scenarios in this process (no worker per scenario)"
    )
    p.add_argument(
        "--load",
        metavar="RESULTS",
        action="append",
        default=[],
        help="don't measure: report the results saved by --json (repeatable, e.g. one file per interpreter)",
    )
    p.add_argument(
        "--markdown", metavar="PATH", help="with --load: write the docs page (tables of every file + chart link)"
    )
    p.add_argument(
        "--readme",
        metavar="PATH",
        help="with --load: fill the headline table (the rows with a target) between"
        " the <!-- benchmarks:start --> and <!-- benchmarks:end --> lines of PATH",
    )
    p.add_argument("--worker", metavar="NAME", help=argparse.SUPPRESS)
    return p


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.worker:
        return run_worker(args)

    from . import _environment, _files, _format, _stats

    if args.load:
        results = []
        for path in args.load:
            with open(path) as f:
                results.append(json.load(f))
        if not (args.markdown or args.chart or args.readme):
            for res in results:
                print(_format.tables(res))
        if args.markdown:
            _files.write_markdown(results, args.markdown, args.chart)
            progress(f"wrote {args.markdown}")
        if args.readme:
            _files.write_readme_table(results, args.readme)
            progress(f"filled the benchmark table of {args.readme}")
        return _files.maybe_chart(results, args.chart)

    pyperf = _stats.need_pyperf()
    if pyperf is None:
        return 2
    scenarios = select(all_scenarios(), args.filters)
    if args.list:
        for s in scenarios:
            print(f"{s.group:11} {s.name}")
        return 0
    if not scenarios:
        p.error(f"no scenario matches -k {' -k '.join(args.filters)}")
    repeat, target = settings(args)
    env = _environment.environment()
    from . import aio
    from .queues import peer

    peers, peer_versions = {"ft_utils": peer()[1] or "included"}, {}
    if any(s.group == aio.GROUP for s in scenarios):
        found, missing = aio.peers()
        peers.update({label: missing.get(label, "included") for label in aio.PEERS})
        peer_versions = aio.versions(found)
    progress(
        f"{_format.environment_line(env)}\n{len(scenarios)} scenarios, {repeat} repetitions,"
        f" ~{target:.2f} s per sample, " + ("each in a fresh worker process" if not args.in_process else "in-process")
    )
    for label, why in peers.items():
        if why != "included":
            progress(f"peer {label} left out: {why}")

    started = time.monotonic()
    cpu_start = _environment.cpu_snapshot()
    rows = []
    for i, scenario in enumerate(scenarios, 1):
        new = scenario.measure(repeat, target, args.quick) if args.in_process else run_isolated(scenario, args)
        for row in new:
            if env["gil_enabled"]:  # the performance targets are for the free-threaded build
                row["target"] = row["peer_targets"] = None
            _stats.add_stats(row)
            progress(f"[{i}/{len(scenarios)} {time.monotonic() - started:5.0f}s] {_format.progress_line(row)}")
        rows += new

    result = {
        "format": "rthreading.bench/1",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m rthreading.bench " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "environment": {**env, "loadavg_end": list(os.getloadavg()), "others_cpu": _environment.others_cpu(cpu_start)},
        "repeat": repeat,
        "target_seconds": target,
        "quick": args.quick,
        "isolated": not args.in_process,
        "peer": peers,
        "peer_versions": peer_versions,
        "seconds": round(time.monotonic() - started, 1),
        "rows": rows,
    }
    print(_format.tables(result))
    if args.json:
        _files.write_json(result, args.json, pyperf)
    return _files.maybe_chart([result], args.chart)
