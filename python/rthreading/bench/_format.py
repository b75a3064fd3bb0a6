"""Text: a row's cells, the progress line, the Markdown tables, the caveats a result carries."""

from __future__ import annotations

from ._harness import LABELS
from ._stats import peer_ratios, target_checks

PEERS = LABELS[2:]


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
    if row.get("peer_targets"):
        return fmt_targets(row)
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


def fmt_targets(row):
    """A row with targets against peers: each target with its own mark (✓, **MISS**, or why
    it was not checked)."""
    cells = []
    for label, t, med in target_checks(row):
        cell = f"≥ {t:g}" + ("" if label == "stdlib" else f" vs {label}")
        if row.get("status") != "ok" or row.get("same_code"):
            pass
        elif med is None:
            cell += f" ({label} did not run)"
        else:
            cell += " **MISS**" if med < t else " ✓"
        cells.append(cell)
    if row.get("verdict") == "slower":
        cells.append("**slower**")
    return ", ".join(cells)


def progress_line(row):
    if row.get("status") != "ok":
        return f"{row['name']}: n/a ({row.get('reason', '')})"
    parts = [f"{label} {fmt_side(row, label)}" for label in LABELS if label in row["stats"]]
    ratio = f", ratio {fmt_ratio(row['ratio'])}" if row.get("ratio") else ""
    for label, r in peer_ratios(row).items():
        ratio += f", {label}/rthreading {fmt_ratio(r)}"
    mark = f"  [{row['verdict']}]" if row.get("verdict") else ""
    for label, why in row.get("dropped", {}).items():
        mark += f"  ({label} left out: {why})"
    return f"{row['name']}: {', '.join(parts)}{ratio}{mark}"


def group_table(rows, peers=True):
    """A Markdown table: a column per side, then a ratio column X / rthreading per other side,
    a peer's columns only where some row of the table has that peer."""
    shown = [p for p in PEERS if peers and any(p in r.get("stats", {}) for r in rows)]
    head = ["scenario", "stdlib", "rthreading", *shown, "stdlib / rthreading"]
    head += [f"{p} / rthreading" for p in shown] + ["target"]
    out = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for r in rows:
        if r.get("status") != "ok":
            cells = [r["name"]] + ["n/a"] * (len(head) - 2) + [fmt_target(r)]
        else:
            cells = [r["name"], fmt_side(r, "stdlib"), fmt_side(r, "rthreading")]
            cells += [fmt_side(r, p) for p in shown]
            cells.append(fmt_ratio(r.get("ratio")) or "—")
            ratios = peer_ratios(r)
            cells += [fmt_ratio(ratios.get(p)) for p in shown]
            cells.append(fmt_target(r))
        out.append("| " + " | ".join(cells) + " |")
    notes = [f"{r['name']}: {r['note']}" for r in rows if r.get("note")]
    if notes:
        out += [""] + [f"- {note}" for note in notes]
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
    for label, why in result.get("peer", {}).items():
        if why and why != "included":
            parts.append(f"Peer {label} left out: {why}.")
    if result.get("peer_versions"):
        parts.append("Peers: " + ", ".join(f"{label} {v}" for label, v in result["peer_versions"].items()) + ".")
    return "\n\n".join(parts) + "\n"


def describe_miss(r):
    if r["kind"] == "speedup":
        return f"{r['stats']['rthreading']['median']:.2f}x, target {r['target']:.2f}x"
    if r["kind"] == "cpu":
        return f"{pct(r['stats']['rthreading']['median'])} of a core, target at most {r['target']:g}%"
    med = r["ratio"]["median"]
    if r["verdict"] == "MISS":
        missed = [(label, t, m) for label, t, m in target_checks(r) if m is not None and m < t]
        return "; ".join(
            f"{m:.2f}x{'' if label == 'stdlib' else f' vs {label}'}, target {t:g}x: {100 * (1 - m / t):.0f}% short"
            for label, t, m in missed
        )
    return f"{med:.2f}x in the median, below 1 in every repetition"


def format_load(env):
    start = env.get("loadavg_start")
    end = env.get("loadavg_end")
    fmt = lambda la: f"{la[0]:.2f}" if la else "?"
    line = f"{fmt(start)} at the start, {fmt(end)} at the end"
    if env.get("others_cpu") is not None:
        line += f" (other work: {env['others_cpu']:.2f} CPUs on average during the run)"
    return line


def environment_line(env):
    return (
        f"{env['implementation']} {env['python']} ({env['build']}),"
        f" rthreading {env['rthreading']}; {env['system']}, nproc {env['nproc']}, {env['cpu']}"
    )


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


def headline_table(res):
    """The rows with a target (a performance goal), stdlib against rthreading: what a README shows."""
    out = [
        group_table([r for r in res["rows"] if r.get("target") or r.get("peer_targets")], peers=False),
        "",
        f"{environment_line(res['environment'])}; {res['date']}, median of {res['repeat']}"
        " repetitions, ratio range in brackets.",
    ]
    warn = caveats(res)
    if warn:
        out += ["", f"**Caveat: {warn}**"]
    return "\n".join(out)
