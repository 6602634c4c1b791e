#!/usr/bin/env python3
"""CDFs of election time from one or more `raftsim run --seeds` summaries.

    plot_elections.py SUMMARY.json [SUMMARY.json ...] -o OUT.png [--log]

One line per summary (metrics.election_time_ms.values), labelled by its
scenario name, with p50/p90/p99 marked on each line and a table of
p50/p90/p99/max below.  Percentiles are nearest-rank over the values, so the
marks sit on the lines.  Output type from -o (.png, .svg).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import raftsim_stats as rs  # noqa: E402
import raftsim_trace as rt  # noqa: E402

PERCENTILES = ((50, "o"), (90, "s"), (99, "D"))
# Log axes cannot show 0 ms; such values are drawn at this floor instead.
LOG_FLOOR_MS = 0.001


def parse_args(argv):
    p = argparse.ArgumentParser(prog="plot_elections.py", description=__doc__.split("\n\n")[0])
    p.add_argument("summaries", nargs="+", metavar="SUMMARY.json",
                   help="summary written by raftsim run --seeds A..B --summary PATH")
    p.add_argument("-o", "--output", required=True, help="output image (.png or .svg)")
    p.add_argument("--log", action="store_true", help="log-scale time axis")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    series = labelled([rt.load_summary(path)[:2] + (path,) for path in args.summaries])
    plt = rt.import_pyplot()
    rt.check_output_path(plt, args.output)
    fig = draw(plt, series, args.log)
    rt.save_figure(fig, args.output)
    return 0


def labelled(loaded):
    """(label, values) per summary; a scenario name used by several summaries
    is told apart by the file name."""
    names = [name for name, _, _ in loaded]
    return [(name if names.count(name) == 1 else "%s (%s)" % (name, os.path.basename(path)),
             values) for name, values, path in loaded]


def stats(values):
    """p50, p90, p99, max (None each when there are no values)."""
    return [rs.percentile(values, p) for p, _ in PERCENTILES] + [max(values) if values else None]


def draw(plt, series, log):
    from matplotlib.gridspec import GridSpec
    from matplotlib.lines import Line2D

    table_h = 0.3 * (len(series) + 1) + 0.4
    fig = plt.figure(figsize=(10, 5.2 + table_h))
    gs = GridSpec(2, 1, figure=fig, height_ratios=[5.2, table_h], hspace=0.25,
                  left=0.08, right=0.97, top=0.93, bottom=0.02)
    ax = fig.add_subplot(gs[0])
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    rows = []
    for i, (label, values) in enumerate(series):
        colour = colours[i % len(colours)]
        rows.append([label, str(len(values))] +
                    ["-" if v is None else "%.1f" % v for v in stats(values)])
        if not values:
            ax.plot([], [], color=colour, label="%s (no elections)" % label)
            continue
        xs, ys = rs.cdf_points([max(v, LOG_FLOOR_MS) if log else v for v in values])
        # Start the step at 0 so the curve begins on the axis.
        ax.step([xs[0]] + xs, [0.0] + ys, where="post", color=colour, linewidth=1.6,
                label="%s (n=%d)" % (label, len(values)))
        for p, marker in PERCENTILES:
            v = rs.percentile(xs, p)
            ax.plot([v], [ys[xs.index(v)]], marker=marker, color=colour,
                    markeredgecolor="black", markersize=7, zorder=5)
    if log:
        from matplotlib.ticker import LogLocator, StrMethodFormatter

        ax.set_xscale("log")
        # Plain numbers at 1-2-5 steps read better than bare powers of ten.
        ax.xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
        ax.xaxis.set_minor_formatter(StrMethodFormatter(""))
    ax.set_xlabel("election time (ms of virtual time): leader lost \u2192 next leader elected")
    ax.set_ylabel("fraction of elections")
    ax.set_ylim(0, 1.02)
    ax.grid(color="#e0e0e0", linewidth=0.6, which="both")
    ax.set_title("Election time CDF", loc="left")
    marks = [Line2D([], [], linestyle="none", marker=m, color="#bdbdbd", markeredgecolor="black",
                    label="p%d" % p) for p, m in PERCENTILES]
    ax.legend(handles=ax.get_legend_handles_labels()[0] + marks, loc="lower right", fontsize=8)

    tax = fig.add_subplot(gs[1])
    tax.axis("off")
    table = tax.table(cellText=rows, loc="upper center", cellLoc="right", colLoc="right",
                      colLabels=["scenario", "n", "p50 ms", "p90 ms", "p99 ms", "max ms"],
                      colWidths=[0.46, 0.08, 0.115, 0.115, 0.115, 0.115])
    table.auto_set_font_size(False)
    table.set_fontsize(8.5)
    for (row, col), cell in table.get_celld().items():
        if col == 0:
            cell.set_text_props(ha="left")
        if row == 0:
            cell.set_text_props(weight="bold")
    return fig


if __name__ == "__main__":
    rt.run_main(main)
