"""The statistics of a row (pyperf's median and median absolute deviation per side, the
per-repetition ratios) and its verdict against its target."""

from __future__ import annotations

import statistics

from ._harness import progress

EXTRA_HINT = "pip install 'rthreading[bench]'"


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


def pyperf_benchmark(name, unit, values_ns, number, metadata=None):
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
            b = pyperf_benchmark(row["name"], unit, values, row.get("number"))
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
        peers = [label for label in samples if label not in ("stdlib", "rthreading")]
        if peers:
            row["peer_ratios"] = {label: _ratio(samples[label], samples["rthreading"]) for label in peers}
        if "ft_utils" in samples:  # the one peer of older result files
            row["peer_ratio"] = row["peer_ratios"]["ft_utils"]
    row["verdict"] = verdict(row)
    return row


def peer_ratios(row):
    """peer label -> its ratio peer/rthreading (older files: ft_utils's peer_ratio)."""
    if row.get("peer_ratios"):
        return row["peer_ratios"]
    return {"ft_utils": row["peer_ratio"]} if row.get("peer_ratio") else {}


def target_checks(row):
    """The ratio targets of a row: (against, target, median ratio or None when that side did
    not run), the stdlib's first, then each peer's."""
    out = []
    if row.get("target") and row["kind"] not in ("speedup", "cpu"):
        out.append(("stdlib", row["target"], (row.get("ratio") or {}).get("median")))
    ratios = peer_ratios(row)
    for label, t in (row.get("peer_targets") or {}).items():
        out.append((label, t, ratios[label]["median"] if label in ratios else None))
    return out


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
    if any(med is not None and med < t for _, t, med in target_checks(row)):
        return "MISS"
    if r["max"] < 1.0:
        return "slower"
    return ""
