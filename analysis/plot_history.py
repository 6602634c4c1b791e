#!/usr/bin/env python3
"""The key-value history of one raftsim run, one panel per key.

    plot_history.py TRACE.jsonl -o OUT.png [--key K ...] [--from T] [--to T]

Each client operation is a bar from its call to its return on its client's
lane: puts blue, cas green (red when it did not swap), reads orange (stale
reads lighter). Bars are labelled with the value written ("w=ID") or read
("r=ID", 0 for absent; beside a read too short to hold it). An operation whose outcome the client never learned
runs hatched to the end of the window. A linearizability violation in the
trace is named in the title. Without --key, the keys with the most
operations (up to six) are drawn. Output type from -o (.png, .svg).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import raftsim_trace as rt  # noqa: E402

KIND_COLOUR = {"put": "#3949ab", "cas": "#2e7d32", "get": "#ef6c00"}
FAILED_CAS_COLOUR = "#c62828"
STALE_COLOUR = "#ffcc80"
MAX_KEYS = 6
FIG_WIDTH_IN = 15.0
DPI = 110
LABEL_CHAR_PX = 6.0  # width of one character of the 7pt bar labels


def parse_args(argv):
    p = argparse.ArgumentParser(prog="plot_history.py", description=__doc__.split("\n\n")[0])
    p.add_argument("trace", help="trace file (JSON Lines) from raftsim run --trace")
    p.add_argument("-o", "--output", required=True, help="output image (.png or .svg)")
    p.add_argument("--key", type=int, action="append", help="a key to draw (repeatable)")
    rt.add_window_args(p, default_from=None)
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    trace = rt.load_trace(args.trace)
    t0, t1 = rt.window_us(args, trace)
    if not trace.operations:
        raise rt.AnalysisError("%s: no key-value operations in this trace (a workload with "
                               "\"keys\", or read/write actions with a key)" % args.trace)
    keys = choose_keys(trace.operations, args.key)
    plt = rt.import_pyplot()
    rt.check_output_path(plt, args.output)
    fig = draw(plt, trace, keys, t0, t1)
    rt.save_figure(fig, args.output, dpi=DPI)
    return 0


def choose_keys(operations, wanted):
    """The keys to draw: those asked for (each must occur), else the busiest."""
    count = {}
    for op in operations:
        count[op.key] = count.get(op.key, 0) + 1
    if wanted:
        missing = [k for k in wanted if k not in count]
        if missing:
            raise rt.AnalysisError("no operations on key %s; keys in the trace: %s"
                                   % (missing[0], ", ".join(str(k) for k in sorted(count))))
        return list(dict.fromkeys(wanted))
    busiest = sorted(count, key=lambda k: (-count[k], k))[:MAX_KEYS]
    return sorted(busiest)


def lanes(ops):
    """Client id -> lane row (lowest client on top)."""
    clients = sorted({op.client for op in ops})
    return {c: len(clients) - 1 - i for i, c in enumerate(clients)}


def bar_colour(op):
    if op.kind == "cas" and op.ret is not None and not op.ok:
        return FAILED_CAS_COLOUR
    if op.kind == "get" and op.mode == "stale":
        return STALE_COLOUR
    return KIND_COLOUR.get(op.kind, "#9e9e9e")


def label_of(op):
    if op.kind == "get":
        return "r=%d" % op.value if op.ret is not None else "r=?"
    return "w=%d" % op.value


def draw(plt, trace, keys, t0, t1):
    per_key = {k: [op for op in trace.operations
                   if op.key == k and op.call <= t1 and (op.ret is None or op.ret >= t0)]
               for k in keys}
    heights = [0.6 + 0.28 * max(1, len(lanes(per_key[k]))) for k in keys]
    fig = plt.figure(figsize=(FIG_WIDTH_IN, sum(heights) + 1.2))
    axes = fig.subplots(len(keys), 1, sharex=True, squeeze=False,
                        gridspec_kw={"height_ratios": heights})[:, 0]
    s0, s1 = t0 / 1e6, t1 / 1e6
    px = (s1 - s0) / (FIG_WIDTH_IN * DPI * 0.85)
    for ax, k in zip(axes, keys):
        draw_key(ax, k, per_key[k], t1, px)
        ax.set_xlim(s0, s1)
    axes[-1].set_xlabel("virtual time (s)")
    footer = trace.footer or {}
    title = "%s  (seed %s, %s)   key-value history" % (
        trace.scenario, trace.header.get("seed", "?"), footer.get("result", "?"))
    lin = [v for v in trace.violations if v.invariant == "linearizability"]
    if lin:
        title += "\nlinearizability violated: " + lin[0].detail[:160]
    axes[0].set_title(title, fontsize=10, loc="left")
    fig.subplots_adjust(left=0.07, right=0.92, top=1 - 0.8 / fig.get_figheight(),
                        bottom=0.5 / fig.get_figheight(), hspace=0.25)
    return fig


def draw_key(ax, key, ops, t1, px):
    lane = lanes(ops)
    for op in ops:
        start = op.call / 1e6
        end = (op.ret if op.ret is not None else t1) / 1e6
        y = lane[op.client]
        ax.barh(y, max(end - start, px), left=start, height=0.62, color=bar_colour(op),
                edgecolor="#263238" if op.ret is None else "none", linewidth=0.4,
                hatch="///" if op.ret is None else None, alpha=0.9)
        text = label_of(op)
        if (end - start) / px >= LABEL_CHAR_PX * len(text):
            ax.text((start + end) / 2, y, text, ha="center", va="center", fontsize=7,
                    color="white" if op.kind != "get" else "#263238", clip_on=True)
        elif op.kind == "get":
            # What a read saw is the point of the picture: beside a short bar.
            ax.text(end + 2 * px, y + 0.3, text, ha="left", va="bottom", fontsize=6.5,
                    color="#bf360c", clip_on=True)
    ax.set_ylim(-0.6, max(len(lane), 1) - 0.4)
    ax.set_yticks([lane[c] for c in sorted(lane)])
    ax.set_yticklabels(["client %d" % c for c in sorted(lane)], fontsize=7)
    ax.set_ylabel("key %d" % key, fontsize=9)
    ax.grid(axis="x", color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)
    if not ops:
        ax.text(0.5, 0.5, "no operations on key %d in this window" % key,
                transform=ax.transAxes, ha="center", va="center", color="#757575")


if __name__ == "__main__":
    rt.run_main(main)
