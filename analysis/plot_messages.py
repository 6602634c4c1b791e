#!/usr/bin/env python3
"""Sequence diagram of the messages in a short window of a raftsim trace.

    plot_messages.py TRACE.jsonl -o OUT.png [--from T] [--to T]

Needs a trace written with `--trace-level messages`.  One vertical lane per
node (coloured by its role), time downward, one arrow per delivered message
from its send to its delivery (a duplicated message gets an arrow per
delivery), labelled with the message type and term; a dropped message is
dashed and ends in an X just before the receiver's lane.  At most MAX_ARROWS arrows, the earliest sent; narrow the window for the
rest.  Times: "1.5s", "250ms", "100us" or a number of milliseconds.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import raftsim_stats as rs  # noqa: E402
import raftsim_trace as rt  # noqa: E402
from plot_timeline import role_style  # noqa: E402  (same role colours in every plot)

MAX_ARROWS = 400
DROP_GAP = 0.18  # lanes between a dropped message's X and its receiver's lane
MSG_COLOUR = {
    "append": "#1e88e5", "append_resp": "#64b5f6",
    "vote": "#e65100", "vote_resp": "#ffb74d",
    "pre_vote": "#8e24aa", "pre_vote_resp": "#ce93d8",
    "snapshot": "#00897b", "snapshot_resp": "#80cbc4",
    "timeout_now": "#c62828",
}
OTHER_COLOUR = "#616161"


def parse_args(argv):
    p = argparse.ArgumentParser(prog="plot_messages.py", description=__doc__.split("\n\n")[0])
    p.add_argument("trace", help="trace file from raftsim run --trace-level messages")
    p.add_argument("-o", "--output", required=True, help="output image (.png or .svg)")
    p.add_argument("--partial", action="store_true",
                   help="plot a truncated trace (a killed run): no end line needed")
    rt.add_window_args(p, default_from=0)
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    t0 = args.t_from
    window = (t0, args.t_to if args.t_to is not None else float("inf"))
    trace = rt.load_trace(args.trace, messages=True, window=window, partial=args.partial)
    t1 = min(window[1], trace.end_us)
    if t1 <= t0:
        raise rt.AnalysisError("empty window: --from %s is not before the window's end %s"
                               % (rt.format_us(t0), rt.format_us(t1)))
    plt = rt.import_pyplot()
    rt.check_output_path(plt, args.output)
    fig = draw(plt, trace, t0, t1)
    rt.save_figure(fig, args.output)
    return 0


def arrows(trace):
    """(send_us, end_us, message, dropped) per arrow, earliest sent first."""
    out = []
    for m in trace.messages:
        out.extend((m.sent, d, m, False) for d in m.delivered)
        if m.dropped is not None:
            out.append((m.sent, m.dropped, m, True))
    out.sort(key=lambda a: (a[0], a[1], a[2].id))
    return out


def legend_for(ax, types_seen, any_dropped):
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, label=t) for t, c in sorted(types_seen.items())]
    if any_dropped:
        handles.append(Line2D([], [], color=OTHER_COLOUR, linestyle="--", marker="x",
                              markeredgecolor="#d32f2f", label="dropped"))
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.9)


def draw(plt, trace, t0, t1):
    all_arrows = arrows(trace)
    shown = all_arrows[:MAX_ARROWS]
    # With the cap hit, the diagram ends where the last shown message was sent.
    if len(shown) < len(all_arrows):
        t1 = max(t0 + 1, shown[-1][0])
    x = {n: i for i, n in enumerate(trace.nodes)}
    ms0, ms1 = t0 / 1e3, max(t1 / 1e3, max((a[1] / 1e3 for a in shown), default=t1 / 1e3))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(x) + 2.5), 11))
    fig.subplots_adjust(left=0.12, right=0.97, top=0.92, bottom=0.04)

    # Lanes, coloured by role (thin bars behind the arrows).
    for n, intervals in trace.roles.items():
        for iv in rs.clip_intervals(intervals, t0, ms1 * 1e3):
            ax.add_patch(plt.Rectangle((x[n] - 0.04, iv.start / 1e3), 0.08,
                                       (iv.end - iv.start) / 1e3, color=role_style(iv.role)[0],
                                       hatch=role_style(iv.role)[1], zorder=1, linewidth=0))
        ax.axvline(x[n], color="#b0bec5", linewidth=0.5, zorder=0)

    # Labels closer than this to an earlier one are left out (the arrow's
    # colour still tells its type): lanes apart, and a fraction of the window.
    near_x, near_y = 0.5, (ms1 - ms0) * 0.012
    placed = []
    types_seen = {}
    for sent, end, m, dropped in shown:
        if m.src not in x or m.dst not in x:
            continue
        colour = MSG_COLOUR.get(m.msg, OTHER_COLOUR)
        types_seen[m.msg] = colour
        xs, ys = x[m.src], sent / 1e3
        ye = end / 1e3
        # A drop is a dashed line ending in an X just short of the receiver's
        # lane: the message never arrived there.  (Not half way: a leader cut
        # off from everyone drops one message per peer at the same instant,
        # and X marks at the midpoints would sit on other nodes' lanes.)
        xd = x[m.dst]
        xe = xd - DROP_GAP * (1 if xd > xs else -1) if dropped else xd
        if dropped:
            ax.plot([xs, xe], [ys, ye], color=colour, linewidth=0.8, linestyle="--", zorder=3)
            ax.plot([xe], [ye], marker="x", color="#d32f2f", markersize=7, mew=1.6, zorder=4)
        else:
            ax.annotate("", xy=(xe, ye), xytext=(xs, ys), zorder=3,
                        arrowprops=dict(arrowstyle="-|>", color=colour, lw=0.8,
                                        shrinkA=0, shrinkB=0, mutation_scale=8))
        lx, ly = (xs + xe) / 2.0, (ys + ye) / 2.0
        if all(abs(lx - px) > near_x or abs(ly - py) > near_y for px, py in placed):
            placed.append((lx, ly))
            label = m.msg if m.term is None else "%s t%s" % (m.msg, m.term)
            ax.text(lx, ly, label, fontsize=6, color=colour, ha="center", va="bottom", zorder=5,
                    bbox=dict(facecolor="white", edgecolor="none", alpha=0.7, pad=0.3))
    legend_for(ax, types_seen, any(a[3] for a in shown))

    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.set_ylim(ms1 + (ms1 - ms0) * 0.01, ms0)  # time runs downward
    ax.set_xticks(list(x.values()))
    ax.set_xticklabels(["node %d" % n for n in x])
    ax.xaxis.tick_top()
    ax.set_ylabel("virtual time (ms)")
    title = "%s  messages %s .. %s" % (trace.scenario, rt.format_us(t0), rt.format_us(int(t1)))
    if len(shown) < len(all_arrows):
        title += "\nshowing the first %d of %d arrows; narrow --from/--to to see the rest" % (
            len(shown), len(all_arrows))
    elif not all_arrows:
        title += "\nno messages in this window (was the trace written with --trace-level messages?)"
    ax.set_title(title, fontsize=9, loc="left", pad=22)
    return fig


if __name__ == "__main__":
    rt.run_main(main)
