"""Smoke test of the benchmark suite (python -m rthreading.bench): one small scenario in
--quick mode, in a subprocess, and the shape of its --json output. No timing assertions."""

import json
import os
import subprocess
import sys
import time

import pytest

pytest.importorskip("pyperf", reason="the bench extra (pyperf) is not installed")

# Runs a subprocess that itself starts one worker process: once per test, not per thread.
pytestmark = pytest.mark.thread_unsafe


def run_bench(tmp_path, *args):
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, "-m", "rthreading.bench", "--quick", "--repeat", "3", *args, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    return proc, json.loads(out.read_text()), out


def test_one_scenario_json(tmp_path):
    proc, result, out = run_bench(tmp_path, "-k", "Event: is_set()")
    assert result["format"] == "rthreading.bench/1"
    assert result["repeat"] == 3 and result["isolated"] is True
    assert {"python", "build", "cpu", "nproc"} <= set(result["environment"])
    [row] = result["rows"]
    assert row["name"] == "Event: is_set()" and row["group"] == "primitives"
    assert row["status"] == "ok", row
    samples, stats = row["samples"], row["stats"]
    assert set(samples) == {"stdlib", "rthreading"} == set(stats)
    for label in samples:
        assert len(samples[label]) == 3 and all(v > 0 for v in samples[label])
        s = stats[label]
        assert s["min"] <= s["median"] <= s["max"]
    # The ratio is the median of the per-repetition ratios stdlib / rthreading.
    ratios = [a / b for a, b in zip(samples["stdlib"], samples["rthreading"])]
    assert row["ratio"]["values"] == pytest.approx(ratios)
    assert row["ratio"]["median"] == pytest.approx(sorted(ratios)[1])
    # ... which lies between the extreme ratios of the medians' neighbours: consistent with
    # the per-side medians within the spread of the samples.
    lo = min(samples["stdlib"]) / max(samples["rthreading"])
    hi = max(samples["stdlib"]) / min(samples["rthreading"])
    assert lo <= row["ratio"]["median"] <= hi
    assert lo <= stats["stdlib"]["median"] / stats["rthreading"]["median"] <= hi
    # The table is printed, and progress went to stderr.
    assert "| Event: is_set() |" in proc.stdout
    assert "[1/1" in proc.stderr


def test_pyperf_files(tmp_path):
    import pyperf

    _, result, out = run_bench(tmp_path, "-k", "Event: is_set()")
    for label in ("stdlib", "rthreading"):
        suite = pyperf.BenchmarkSuite.load(str(tmp_path / f"result.{label}.pyperf.json"))
        [bench] = suite.get_benchmarks()
        assert bench.get_name() == "Event: is_set()"
        assert bench.median() * 1e9 == pytest.approx(result["rows"][0]["stats"][label]["median"])


def test_filter_matches_nothing(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "rthreading.bench", "-k", "no such scenario"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and "no scenario matches" in proc.stderr


def test_others_cpu_is_the_machines_busy_time_less_the_runs_own(monkeypatch):
    """others_cpu: the CPUs other processes kept busy on average, from two cpu_snapshots: the
    machine's busy CPU time less this process tree's own, over the wall time between them."""
    from rthreading.bench import _environment, _format

    start = {"busy": 100.0, "wall": 50.0, "own": 3.0}
    end = {"busy": 104.0, "wall": 52.0, "own": 4.5}
    monkeypatch.setattr(_environment, "cpu_snapshot", lambda: end)
    assert _environment.others_cpu(start) == (4.0 - 1.5) / 2.0
    monkeypatch.setattr(_environment, "cpu_snapshot", lambda: {**end, "busy": 105.0, "own": 10.0})
    assert _environment.others_cpu(start) == 0.0  # never negative (the clocks tick apart)
    assert _environment.others_cpu(None) is None  # no /proc/stat at the start
    monkeypatch.setattr(_environment, "cpu_snapshot", lambda: None)
    assert _environment.others_cpu(start) is None
    monkeypatch.setattr(_environment, "cpu_snapshot", lambda: {**end, "wall": 50.0})
    assert _environment.others_cpu(start) is None  # no time passed
    env = {"nproc": 2, "loadavg_start": [3.0], "loadavg_end": [3.0]}
    assert "busy" in _format.caveats({"environment": {**env, "others_cpu": 0.9}})
    assert _format.caveats({"environment": {**env, "others_cpu": 0.1}}) == ""


def _proc_cpu(pid):
    """The CPU seconds (user + system) process `pid` has used, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# The clocks behind cpu_snapshot tick in 1/SC_CLK_TCK s (10 ms), each one separately.
TICKS = 0.05
# A busy loop that stops once *it* has used this much CPU: on a busy machine it takes longer,
# it never does less.
BURN = 0.3
BURN_CHILD = f"import time\nwhile time.process_time() < {BURN}: pass\nprint(time.process_time())"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/stat")
@pytest.mark.timeout(120)
def test_other_work_is_measured_without_the_run_itself():
    """The busy-machine caveat counts other processes' CPU time, not the run's own (its threads
    and the workers it waits for), which the load average would count. Each side is checked
    against a control, the CPU time the busy process itself reports, so the assertions hold
    however busy the rest of the machine is."""
    from rthreading.bench import _environment

    # Work elsewhere: a process the run does not wait for. All of its CPU time in the window
    # is other work (and the rest of the machine may add more, never less).
    other = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        start = _environment.cpu_snapshot()
        burnt_from = _proc_cpu(other.pid)
        deadline = time.monotonic() + 60
        while _proc_cpu(other.pid) - burnt_from < BURN and time.monotonic() < deadline:
            time.sleep(0.05)
        end = _environment.cpu_snapshot()
        burnt = _proc_cpu(other.pid) - burnt_from
        others = _environment.others_cpu(start)
    finally:
        other.kill()
        other.wait()
    assert burnt >= BURN, "the busy process never got the CPU"
    assert others * (end["wall"] - start["wall"]) >= burnt - TICKS
    assert end["own"] - start["own"] < burnt - TICKS  # not the run's own

    # The run's own work: a worker it waits for, as run_isolated's. Its CPU time is the run's
    # (so others_cpu leaves it out), and the machine's busy time includes it.
    start = _environment.cpu_snapshot()
    proc = subprocess.run([sys.executable, "-c", BURN_CHILD], capture_output=True, text=True, check=True)
    end = _environment.cpu_snapshot()
    child = float(proc.stdout)
    assert end["own"] - start["own"] >= child - TICKS
    assert end["busy"] - start["busy"] >= child - TICKS


def test_same_code_rows_neither_meet_nor_miss_a_target():
    """A row whose two sides run the same object (e.g. Thread on 3.13+) reports its ratio as
    noise: no MISS when below the target, no ✓ when above."""
    from rthreading.bench import _format, _stats

    def row(ratios, same):
        return _stats.add_stats(
            {
                "name": "x",
                "group": "thread",
                "kind": "time",
                "unit": "ns/op",
                "target": 1.0,
                "curve": None,
                "note": "",
                "same_code": same,
                "status": "ok",
                "samples": {"stdlib": [1.0] * len(ratios), "rthreading": [1 / r for r in ratios]},
            }
        )

    assert row([0.95, 0.97, 0.99], same=False)["verdict"] == "MISS"
    below = row([0.95, 0.97, 0.99], same=True)
    assert below["verdict"] == "" and _format.fmt_target(below) == "≥ 1 (same code)"
    assert _format.fmt_target(row([1.1, 1.2, 1.3], same=True)) == "≥ 1 (same code)"


def gil_enabled(result):
    return result["environment"]["gil_enabled"]


def test_handoffs_run_the_main_thread_driving_and_in_two_workers(tmp_path):
    """Every two-thread hand-off is a pair of rows: the first loop on the main thread, and both
    loops in worker threads; both carry the hand-off target (on the free-threaded build)."""
    _, result, _ = run_bench(tmp_path, "-k", "SimpleQueue ping-pong", "-k", "Barrier(2)")
    names = [r["name"] for r in result["rows"]]
    assert names == [
        "2 threads: Barrier(2).wait, per crossing (main thread driving)",
        "2 threads: Barrier(2).wait, per crossing (2 workers)",
        "2 threads: SimpleQueue ping-pong, round trip (main thread driving)",
        "2 threads: SimpleQueue ping-pong, round trip (2 workers)",
    ]
    for row in result["rows"]:
        assert row["status"] == "ok", row
        assert row["target"] == (None if gil_enabled(result) else 10.0)
        assert all(len(v) == 3 and min(v) > 0 for v in row["samples"].values())


def test_every_handoff_has_both_variants():
    from rthreading.bench import _cli
    from rthreading.bench._harness import MAIN, WORKERS

    names = {s.name for s in _cli.all_scenarios()}
    pairs = [n[: -len(MAIN)] for n in names if n.endswith(MAIN)]
    assert {p.split(":")[1].split(",")[0].strip() for p in pairs} == {
        "Lock hand-off",
        "Event ping-pong",
        "Semaphore(0) ping-pong",
        "Condition ping-pong",
        "Barrier(2).wait",
        "Queue ping-pong",
        "SimpleQueue ping-pong",
    }
    assert all(p + WORKERS in names for p in pairs)


def test_a_main_thread_side_whose_partner_fails_is_reported_not_hung():
    """The main thread's blocked wait is interrupted (a signal from the watchdog) when its
    partner thread raises: the row is n/a with the partner's error, not a hang, for either
    module. In a subprocess: the watchdog's handler stays installed."""
    code = """if True:
        import queue
        import rthreading.queue
        from rthreading.bench import _harness

        def partner(n):
            raise ValueError("partner broke")
        for mod in (queue, rthreading.queue):
            q = mod.Queue()
            try:
                _harness.run_main([lambda n: q.get(), partner], 10)
            except _harness.Failed as exc:
                # The partner's error, not "hung for ...": the watchdog interrupted the wait
                # because the partner failed, not because the hang limit passed.
                assert "partner broke" in str(exc), exc
            else:
                raise AssertionError("no Failed")
        print("ok")
    """
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_cpu_cost_row(tmp_path):
    """The waiting consumer's CPU share: a percentage per side, no ratio, a ceiling target."""
    proc, result, _ = run_bench(tmp_path, "-k", "CPU, % of a core")
    [row] = result["rows"]
    assert row["status"] == "ok", row
    assert row["kind"] == "cpu" and row["unit"] == "% of a core" and row["ratio"] is None
    assert row["target"] == (None if gil_enabled(result) else 10.0)
    for label in ("stdlib", "rthreading"):
        assert len(row["samples"][label]) == 3
        assert all(0 < v < 200 for v in row["samples"][label])  # one thread: at most ~100%
    assert "% of a core" in proc.stdout


def test_cpu_cost_verdict_is_a_ceiling():
    from rthreading.bench import _format, _stats

    def row(rt):
        return _stats.add_stats(
            {
                "name": "cpu",
                "group": "queue",
                "kind": "cpu",
                "unit": "% of a core",
                "target": 10.0,
                "curve": None,
                "note": "",
                "same_code": False,
                "status": "ok",
                "samples": {"stdlib": [0.1, 0.2, 0.1], "rthreading": rt},
            }
        )

    assert row([15.0, 20.0, 12.0])["verdict"] == "MISS"
    ok = row([1.0, 2.0, 3.0])
    assert ok["verdict"] == "" and ok["ratio"] is None
    assert _format.fmt_target(ok) == "≤ 10% of a core ✓"
    assert _format.fmt_side(ok, "rthreading") == "2.0% (1.0%..3.0%)"
    assert "at most 10%" in _format.describe_miss(row([15.0, 20.0, 12.0]))


def test_workloads_group_is_selected_by_its_name(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "rthreading.bench", "--list", "-k", "workloads"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line.split(None, 1) for line in proc.stdout.splitlines()]
    assert len(lines) == 5 and all(group == "workloads" for group, _ in lines)
    assert [name.split(":")[1].split()[0] for _, name in lines] == [
        "pipeline,",
        "fan-out",
        "Lock-protected",
        "Semaphore-limited",
        "producer/consumer",
    ]


def test_workload_rows_grow_in_threads_then_items(tmp_path):
    """One workload (the cache, the cheapest): a row per (threads, items) point, 1, 2, 4, 8
    threads at the base count, then 4 threads at 10x and 100x; --quick divides by 10."""
    from rthreading.bench import workloads

    _, result, _ = run_bench(tmp_path, "-k", "workloads: Lock-protected")
    rows = result["rows"]
    cache = next(w for w in workloads.WORKLOADS if w.run is workloads.shared_cache)
    points = [(1, 1000), (2, 1000), (4, 1000), (8, 1000), (4, 10_000), (4, 100_000)]
    assert workloads.grid(cache, quick=True) == points
    assert [r["name"] for r in rows] == [cache.label(k, n) for k, n in points]
    assert rows[0]["name"] == ("cache: 1 thread on a Lock-protected dict (100 keys), 10^3 lookups, per lookup")
    for row, (_, items) in zip(rows, points):
        assert row["group"] == "workloads" and row["status"] == "ok", row
        assert row["number"] == items and row["unit"] == "ns/op" and row["target"] is None
        assert {label: len(v) for label, v in row["samples"].items()} == {"stdlib": 3, "rthreading": 3}


@pytest.mark.timeout(180)
def test_every_workload_runs_on_both_sides(tmp_path):
    """The whole group, one repetition: every program gives the sequential answer with the
    stdlib's imports and with rthreading's (a wrong checksum would make the row n/a)."""
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, "-m", "rthreading.bench", "--quick", "--repeat", "1", "-k", "workloads", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=170,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())["rows"]
    assert len(rows) == 4 * 5 + 6  # 1, 2, 4, 8 threads each, then 1 growth row (the cache 2)
    assert [r for r in rows if r["status"] != "ok"] == []
    assert "### workloads" in proc.stdout


def test_a_workload_with_a_wrong_result_is_na():
    from rthreading.bench import workloads

    broken = workloads.Workload(
        "broken", lambda ns, k, n: -1, lambda n: n, lambda k, n: f"broken: {k} threads, {n} items", 1000, (1, 10)
    )
    scenario = workloads.WorkloadScenario("workloads: broken", "workloads", {})
    scenario.workload = broken
    rows = scenario.measure(3, 0.02, quick=True)
    assert [r["status"] for r in rows] == ["n/a"]
    assert "wrong result" in rows[0]["reason"]


def test_chart_without_matplotlib_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    from rthreading.bench import _files

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    assert _files.maybe_chart([], str(tmp_path / "chart.png")) == 3
    assert "no chart: matplotlib is missing" in capsys.readouterr().err
    assert not (tmp_path / "chart.png").exists()


ASYNC_PEERS = ("janus", "culsans", "aiologic")


def installed(name):
    import importlib.util

    return importlib.util.find_spec(name) is not None


@pytest.mark.timeout(180)
def test_async_group(tmp_path):
    """The async group (issue 17): four layouts of a producer and a consumer (thread -> task,
    task -> thread, task -> task on one loop and between two loops), unbounded and then through
    a Queue(100), in items/s, with a column per peer that is installed, ratios against each,
    and the targets against janus and culsans (asyncio.Queue on one loop) on the
    free-threaded build."""
    import rthreading.queue
    from rthreading.bench import aio

    proc, result, _ = run_bench(tmp_path, "-k", "async")
    rows = result["rows"]
    assert [r["name"] for r in rows] == [lay.name for lay in aio.LAYOUTS]
    assert "### async" in proc.stdout
    ft = not gil_enabled(result)
    # The four unbounded layouts carry the targets; the same through a Queue(100) have none.
    cross = {"janus": 5.0, "culsans": 2.0}
    assert [r["peer_targets"] for r in rows] == ([cross, cross, None, None] if ft else [None] * 4) + [None] * 4
    assert [r["target"] for r in rows] == ([None, None, 1.0, None] if ft else [None] * 4) + [None] * 4
    assert [lay.maxsize for lay in aio.LAYOUTS] == [0] * 4 + [100] * 4
    for name in ASYNC_PEERS:
        assert (result["peer"][name] == "included") if installed(name) else ("not installed" in result["peer"][name])
    for row, lay in zip(rows, aio.LAYOUTS):
        assert row["group"] == "async" and row["unit"] == "items/s"
        if not hasattr(rthreading.queue.Queue, "async_get"):
            assert row["status"] == "n/a" and "async API" in row["reason"], row
            continue
        assert row["status"] == "ok", row
        expected = {"stdlib", "rthreading"} | {p for p in ASYNC_PEERS if installed(p)}
        if lay.loops > 1:
            expected.discard("janus")  # a janus.Queue serves one event loop
        # Every side ran and gave the right sum, or a peer was left out saying why.
        assert set(row["samples"]) | set(row.get("dropped", {})) == expected
        assert set(row["numbers"]) == set(row["samples"])
        assert all(len(v) == 3 and min(v) > 0 for v in row["samples"].values())
        assert set(row.get("peer_ratios", {})) == set(row["samples"]) - {"stdlib", "rthreading"}


def test_async_group_without_a_peer_says_so(tmp_path):
    """A peer that is not installed leaves its columns out and the run says why; the row goes on."""
    code = """if True:
        import sys
        sys.modules["janus"] = None  # as if not installed
        from rthreading.bench import main
        sys.exit(main(["--quick", "--repeat", "1", "--in-process", "-k", "task -> task on one loop"]))
    """
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Peer janus left out: not installed" in proc.stdout
    assert "| janus" not in proc.stdout
    assert "task -> task on one loop" in proc.stdout


def test_targets_against_peers_are_checked_one_by_one():
    """A row with targets against peers (the async rows: 5x janus, 2x culsans) misses when any
    one is below; each target carries its own mark, a peer that did not run is said so."""
    from rthreading.bench import _format, _stats

    def row(janus, culsans=None):
        samples = {"stdlib": [1.0] * 3, "rthreading": [1.0] * 3, "janus": [janus] * 3}
        if culsans is not None:
            samples["culsans"] = [culsans] * 3
        return _stats.add_stats(
            {
                "name": "x",
                "group": "async",
                "kind": "time",
                "unit": "items/s",
                "target": None,
                "peer_targets": {"janus": 5.0, "culsans": 2.0},
                "curve": None,
                "note": "",
                "same_code": False,
                "status": "ok",
                "samples": samples,
            }
        )

    ok = row(6.0, 3.0)
    assert ok["verdict"] == "" and _format.fmt_target(ok) == "≥ 5 vs janus ✓, ≥ 2 vs culsans ✓"
    assert ok["peer_ratios"]["janus"]["median"] == 6.0
    missed = row(6.0, 1.5)
    assert missed["verdict"] == "MISS"
    assert _format.fmt_target(missed) == "≥ 5 vs janus ✓, ≥ 2 vs culsans **MISS**"
    assert _format.describe_miss(missed) == "1.50x vs culsans, target 2x: 25% short"
    alone = row(6.0)
    assert alone["verdict"] == ""
    assert _format.fmt_target(alone) == "≥ 5 vs janus ✓, ≥ 2 vs culsans (culsans did not run)"
    table = _format.group_table([missed])
    assert "| janus / rthreading | culsans / rthreading |" in table
    assert "| 6.00 (6.00..6.00) | 1.50 (1.50..1.50) |" in table
