"""The files a run writes: the JSON result with one pyperf suite per side, the chart, the
benchmarks page and the README's table."""

from __future__ import annotations

import json
import os
import sys

from ._format import caveats, format_load, headline_table, tables
from ._harness import LABELS, progress
from ._notes import NOTES
from ._stats import EXTRA_HINT, pyperf_benchmark, pyperf_unit


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
                benchmarks.append(pyperf_benchmark(r["name"], unit, r["samples"][label], r.get("number"), metadata))
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
        import matplotlib  # noqa: F401 - _chart imports it only when it draws: fail here instead

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


def write_markdown(results, path, chart):
    lines = [
        "# Benchmarks",
        "",
        "rthreading against the stdlib (and Meta's `ft_utils` in the queue rows, janus, "
        "culsans and aiologic in the async rows, where they install), timed interleaved in "
        "the same run by `python -m rthreading.bench`.",
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
