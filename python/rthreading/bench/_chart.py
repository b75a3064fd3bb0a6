"""The chart (matplotlib, PNG): the ratio stdlib/rthreading per scenario as bars (log scale),
one bar per interpreter, with the rows' targets; and throughput vs threads as curves."""

from __future__ import annotations

STYLES = {"stdlib": ("tab:gray", "o"), "rthreading": ("tab:red", "s"), "ft_utils": ("tab:blue", "^")}


def short(env):
    return f"{env['python']}{'t' if 'free-threaded' in env['build'] else ''}"


def draw(results, path):
    # matplotlib is the bench extra's: imported here, so the module imports without it.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    names = []
    for res in results:
        for r in res["rows"]:
            if r.get("status") == "ok" and r.get("ratio") and r["name"] not in names:
                names.append(r["name"])
    curves = []
    for res in results:
        for r in res["rows"]:
            if r.get("status") == "ok" and r.get("curve") and r["curve"][0] not in curves:
                curves.append(r["curve"][0])

    n_curves = max(1, len(curves))
    fig = plt.figure(figsize=(11, 0.22 * len(names) + 4.5 + 1.5))
    grid = fig.add_gridspec(2, n_curves, height_ratios=[0.22 * len(names) + 1.5, 4.0], hspace=0.18)
    ax = fig.add_subplot(grid[0, :])
    height = 0.8 / max(1, len(results))
    for i, res in enumerate(results):
        by_name = {r["name"]: r for r in res["rows"] if r.get("status") == "ok"}
        ys, vals, errs = [], [], [[], []]
        for j, name in enumerate(names):
            r = by_name.get(name)
            if r and r.get("ratio"):
                ratio = r["ratio"]
                ys.append(j + (i - (len(results) - 1) / 2) * height)
                vals.append(ratio["median"])
                errs[0].append(max(0.0, ratio["median"] - ratio["min"]))
                errs[1].append(max(0.0, ratio["max"] - ratio["median"]))
        # Bars grow from 1 (parity): right when rthreading is faster, left when slower.
        ax.barh(
            ys,
            [v - 1.0 for v in vals],
            left=1.0,
            height=height,
            xerr=errs,
            error_kw={"lw": 0.6, "alpha": 0.6},
            label=f"{short(res['environment'])} stdlib / rthreading",
            color=("tab:red" if i == 0 else "tab:gray"),
        )
        if i == 0:
            ty = [j for j, name in enumerate(names) if by_name.get(name, {}).get("target")]
            tx = [by_name[names[j]]["target"] for j in ty]
            ax.scatter(tx, ty, marker="|", s=120, color="black", zorder=3, label="target")
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:g}"))
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("stdlib time / rthreading time (log; > 1: rthreading faster)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", which="both", lw=0.3, alpha=0.5)
    title = "rthreading vs the stdlib: " + ", ".join(
        f"{res['environment']['implementation']} {short(res['environment'])}" for res in results
    )
    ax.set_title(title, fontsize=10)

    for c, curve in enumerate(curves):
        cax = fig.add_subplot(grid[1, c])
        for i, res in enumerate(results):
            rows = sorted(
                (r for r in res["rows"] if r.get("status") == "ok" and r.get("curve") and r["curve"][0] == curve),
                key=lambda r: r["curve"][1],
            )
            for label in ("stdlib", "rthreading", "ft_utils"):
                pts = [(r["curve"][1], 1e9 / r["stats"][label]["median"]) for r in rows if label in r["stats"]]
                if not pts:
                    continue
                color, marker = STYLES[label]
                cax.plot(
                    [p[0] for p in pts],
                    [p[1] for p in pts],
                    marker=marker,
                    color=color,
                    ls="-" if i == 0 else "--",
                    alpha=1.0 if i == 0 else 0.6,
                    label=f"{label} {short(res['environment'])}",
                )
        cax.set_title(curve, fontsize=8)
        cax.set_xlabel(
            "producers = consumers" if "M x M" in curve else ("workers" if "Pool" in curve else "threads"), fontsize=8
        )
        cax.set_yscale("log")
        cax.yaxis.set_major_formatter(matplotlib.ticker.EngFormatter())
        cax.set_xscale("log", base=2)
        cax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:g}"))
        cax.tick_params(labelsize=7)
        cax.grid(which="both", lw=0.3, alpha=0.5)
        cax.legend(fontsize=6)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
