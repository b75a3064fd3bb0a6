"""Smoke test of the benchmark suite (python -m rthreading.bench): one small scenario in
--quick mode, in a subprocess, and the shape of its --json output. No timing assertions."""

import json
import subprocess
import sys

import pytest

pytest.importorskip("pyperf", reason="the bench extra (pyperf) is not installed")

# Runs a subprocess that itself starts one worker process: once per test, not per thread.
pytestmark = pytest.mark.thread_unsafe


def run_bench(tmp_path, *args):
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, "-m", "rthreading.bench", "--quick", "--repeat", "3",
                           *args, "--json", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
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
    proc = subprocess.run([sys.executable, "-m", "rthreading.bench", "-k", "no such scenario"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2 and "no scenario matches" in proc.stderr
