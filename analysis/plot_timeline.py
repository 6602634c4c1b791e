#!/usr/bin/env python3
"""The election timeline of one raftsim run.

    plot_timeline.py TRACE.jsonl -o OUT.png [--from T] [--to T]

One lane per node with its role as coloured bands (term written on bands wide
enough), markers for elections, votes, step-downs (by reason), demotions,
promotions and snapshot transfers; cut-off nodes hatched during network faults;
below, commit index per node and client latency: each committed write and each
answered read (key-value clients) at the time its client learned the outcome,
also ticked on the lane of the node that answered.  Times: "1.5s",
"250ms", "100us" or a number of milliseconds.  Output type from -o (.png, .svg).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import raftsim_stats as rs  # noqa: E402
import raftsim_trace as rt  # noqa: E402

ROLE_STYLE = {  # role: (face colour, hatch, text colour)
    "follower": ("#cfd8dc", None, "#263238"),
    "precandidate": ("#ffe082", None, "#263238"),
    "candidate": ("#ffa726", None, "#263238"),
    "leader": ("#43a047", None, "white"),
    "learner": ("#90caf9", None, "#263238"),
    "crashed": ("#37474f", None, "white"),
    "paused": ("#eceff1", "....", "#263238"),
}
REASON_COLOUR = {
    "higher_term": "#e53935",
    "granted_vote": "#8e24aa",
    "lost_quorum": "#1e88e5",
    "removed": "#6d4c41",
    "transfer": "#00acc1",
}
OTHER_REASON_COLOUR = "#9e9e9e"
# A role name this script does not know yet (newer trace) still gets a band.
OTHER_ROLE_STYLE = ("#e0e0e0", "xx", "#263238")
NET_COLOUR = "#d32f2f"

FIG_WIDTH_IN = 15.0
DPI = 110
AXES_LEFT, AXES_RIGHT = 0.07, 0.78
MAX_STEP_POINTS = 2000
LABEL_CHAR_PX = 6.5  # width of one character of the 7pt band labels


def parse_args(argv):
    p = argparse.ArgumentParser(prog="plot_timeline.py", description=__doc__.split("\n\n")[0])
    p.add_argument("trace", help="trace file (JSON Lines) from raftsim run --trace")
    p.add_argument("-o", "--output", required=True, help="output image (.png or .svg)")
    p.add_argument("--partial", action="store_true",
                   help="plot a truncated trace (a killed run): no end line needed")
    rt.add_window_args(p, default_from=None)
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    trace = rt.load_trace(args.trace, partial=args.partial)
    t0, t1 = rt.window_us(args, trace)
    plt = rt.import_pyplot()
    rt.check_output_path(plt, args.output)
    fig = draw(plt, trace, t0, t1)
    rt.save_figure(fig, args.output, dpi=DPI)
    return 0


def draw(plt, trace, t0, t1):
    from matplotlib.gridspec import GridSpec

    nodes = trace.nodes
    lanes_h = 0.9 + 0.42 * (len(nodes) + 1)
    heights = [lanes_h, 2.0, 1.6]
    fig = plt.figure(figsize=(FIG_WIDTH_IN, sum(heights) + 1.3))
    gs = GridSpec(3, 1, figure=fig, height_ratios=heights, hspace=0.18,
                  left=AXES_LEFT, right=AXES_RIGHT, top=1 - 0.75 / fig.get_figheight(),
                  bottom=0.55 / fig.get_figheight())
    ax = fig.add_subplot(gs[0])
    ax_commit = fig.add_subplot(gs[1], sharex=ax)
    ax_lat = fig.add_subplot(gs[2], sharex=ax)

    # Plot in seconds; one pixel of the lanes axes, in seconds:
    s0, s1 = t0 / 1e6, t1 / 1e6
    px = (s1 - s0) / (FIG_WIDTH_IN * DPI * (AXES_RIGHT - AXES_LEFT))
    lane = {n: len(nodes) - 1 - i for i, n in enumerate(nodes)}  # first node on top
    net_y = len(nodes)

    draw_roles(ax, trace, lane, t0, t1, px)
    draw_network(ax, trace, lane, net_y, t0, t1, px)
    draw_configs_and_violations(ax, trace, net_y, t0, t1, px)
    marks, reasons = draw_markers(ax, trace, lane, t0, t1)
    marker_handles = (marks + draw_client_ticks(ax, trace, lane, t0, t1), reasons)

    ax.set_ylim(-0.6, net_y + 0.6)
    ax.set_yticks([lane[n] for n in nodes] + [net_y])
    ax.set_yticklabels(["node %d" % n for n in nodes] + ["network"])
    ax.set_xlim(s0, s1)
    ax.tick_params(labelbottom=False)
    ax.grid(axis="x", color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)
    footer = trace.footer or {}
    title = "%s  (seed %s, %s%s)   band labels are terms" % (
        trace.scenario, trace.header.get("seed", "?"),
        "truncated at %s" % rt.format_us(trace.end_us) if trace.truncated
        else footer.get("result", "?"),
        (": " + str(footer["reason"])) if footer.get("reason") else "")
    if (t0, t1) != (0, trace.end_us):
        title += "   window %s .. %s" % (rt.format_us(t0), rt.format_us(t1))
    ax.set_title(title, fontsize=11, loc="left")
    add_legends(ax, marker_handles)

    draw_commits(ax_commit, trace, t0, t1)
    ax_commit.tick_params(labelbottom=False)
    draw_latency(ax_lat, trace, t0, t1, px)
    ax_lat.set_xlabel("virtual time (s)")
    return fig


def role_style(role):
    return ROLE_STYLE.get(role, OTHER_ROLE_STYLE)


def draw_roles(ax, trace, lane, t0, t1, px):
    bars = {role: {} for role in ROLE_STYLE}
    for n, intervals in trace.roles.items():
        for iv in rs.merge_narrow(rs.clip_intervals(intervals, t0, t1), px * 1e6):
            start, width = iv.start / 1e6, (iv.end - iv.start) / 1e6
            bars.setdefault(iv.role, {}).setdefault(n, []).append((start, width))
            label = str(iv.term)
            if width / px >= len(label) * LABEL_CHAR_PX + 4:
                ax.text(start + width / 2, lane[n], label, ha="center", va="center",
                        fontsize=7, color=role_style(iv.role)[2], clip_on=True)
    for role, per_node in bars.items():
        face, hatch, _ = role_style(role)
        for n, spans in per_node.items():
            ax.broken_barh(spans, (lane[n] - 0.3, 0.6), facecolors=face, hatch=hatch,
                           edgecolor="#90a4ae" if hatch else face, linewidth=0)


def groups_note(net):
    if len(net.groups) > 1:
        return " | ".join("{%s}" % ",".join(map(str, g)) for g in net.groups)
    links = sorted(net.cut)
    shown = ["%d\u2192%d" % link for link in links[:4]]
    return "cut " + ", ".join(shown) + (" \u2026" if len(links) > 4 else "")


def draw_network(ax, trace, lane, net_y, t0, t1, px):
    spans = rs.clip_intervals(trace.network, t0, t1)
    for i, net in enumerate(spans):
        start, width = net.start / 1e6, (net.end - net.start) / 1e6
        ax.broken_barh([(start, width)], (net_y - 0.3, 0.6), facecolors="#ffcdd2",
                       edgecolor=NET_COLOUR, linewidth=0.5)
        # The groups go inside the band, or run on past its end when there is
        # room before the next network change.
        note = groups_note(net)
        need = len(note) * LABEL_CHAR_PX + 4
        room = ((spans[i + 1].start if i + 1 < len(spans) else t1) / 1e6 - start) / px
        if width / px >= need:
            ax.text(start + width / 2, net_y, note, ha="center", va="center", fontsize=7,
                    color="#b71c1c", clip_on=True)
        elif room >= need:
            ax.text(start, net_y, " " + note, ha="left", va="center", fontsize=7,
                    color="#b71c1c", clip_on=True)
        for n in net.cut_off:
            # Hatch over the lane of every node that cannot reach a quorum.
            ax.broken_barh([(start, width)], (lane[n] - 0.42, 0.84), facecolors="none",
                           edgecolor=NET_COLOUR, hatch="////", linewidth=0, alpha=0.55)


def draw_configs_and_violations(ax, trace, net_y, t0, t1, px):
    configs = [c for c in trace.configs if t0 <= c.t <= t1]
    for i, c in enumerate(configs):
        x = c.t / 1e6
        ax.axvline(x, color="#5e35b1", linestyle=":", linewidth=0.9)
        # The full configuration where it fits before the next change (or
        # the window's end), else a short tag; never overlapping text.
        room = ((configs[i + 1].t / 1e6 if i + 1 < len(configs) else t1 / 1e6) - x) / px
        text = "voters " + ",".join(map(str, c.voters))
        if c.learners:
            text += "; learners " + ",".join(map(str, c.learners))
        if room < len(text) * LABEL_CHAR_PX:
            text = "cfg" if room >= 3 * LABEL_CHAR_PX else ""
        ax.text(x, net_y + 0.42, " " + text, fontsize=6.5, color="#5e35b1",
                va="bottom", ha="left", clip_on=True)
    for v in trace.violations:
        if t0 <= v.t <= t1:
            ax.axvline(v.t / 1e6, color="red", linewidth=1.5)
            ax.text(v.t / 1e6, -0.55, " violation: %s" % v.invariant, color="red",
                    fontsize=8, va="bottom", ha="left")


def draw_markers(ax, trace, lane, t0, t1):
    """Markers by kind; returns legend handles."""
    from matplotlib.lines import Line2D

    groups = {}
    for m in trace.markers:
        if t0 <= m.t <= t1 and m.node in lane:
            groups.setdefault(m.kind, []).append(m)

    def pts(ms, dy):
        return [m.t / 1e6 for m in ms], [lane[m.node] + dy for m in ms]

    handles = []

    def plot(ms, dy, label, **style):
        style.setdefault("markeredgewidth", 0.6)
        if ms:
            ax.plot(*pts(ms, dy), linestyle="none", zorder=5, **style)
        handles.append(Line2D([], [], linestyle="none", label=label, **style))

    started = groups.get("election_started", [])
    plot([m for m in started if not m.info.get("pre_vote")], -0.3, "election started",
         marker="^", markersize=6, color="#e65100", markeredgecolor="#e65100")
    plot([m for m in started if m.info.get("pre_vote")], -0.3, "pre-vote started",
         marker="^", markersize=6, markerfacecolor="white", markeredgecolor="#e65100")
    plot(groups.get("vote_granted", []), -0.18, "vote granted",
         marker="o", markersize=2.5, color="#212121", markeredgecolor="#212121")
    plot(groups.get("elected", []), 0.3, "elected",
         marker="*", markersize=11, color="#ffd600", markeredgecolor="black")
    plot(groups.get("demoted", []), 0.0, "demoted to learner",
         marker="D", markersize=5, color="#f06292", markeredgecolor="black")
    plot(groups.get("promoted", []), 0.0, "promoted to voter",
         marker="P", markersize=7, color="#66bb6a", markeredgecolor="black")
    sent, installed = groups.get("snapshot_sent", []), groups.get("snapshot_installed", [])
    plot(sent, 0.0, "snapshot sent", marker="s", markersize=5, color="#00838f",
         markeredgecolor="black")
    plot(installed, 0.0, "snapshot installed", marker="s", markersize=5,
         markerfacecolor="white", markeredgecolor="#00838f")
    connect_snapshots(ax, sent, installed, lane)

    reason_handles = []
    by_reason = {}
    for m in groups.get("step_down", []):
        by_reason.setdefault(str(m.info.get("reason")), []).append(m)
    for reason in list(REASON_COLOUR) + sorted(set(by_reason) - set(REASON_COLOUR)):
        ms = by_reason.get(reason, [])
        colour = REASON_COLOUR.get(reason, OTHER_REASON_COLOUR)
        style = dict(marker="v", markersize=7, color=colour, markeredgecolor="black",
                     markeredgewidth=0.6)
        if ms:
            ax.plot(*pts(ms, 0.3), linestyle="none", zorder=6, **style)
        reason_handles.append(Line2D([], [], linestyle="none", label=reason, **style))
    return handles, reason_handles


def connect_snapshots(ax, sent, installed, lane):
    """A dotted line from each snapshot_sent to the snapshot_installed it led to
    (same sender, receiver and index)."""
    waiting = {}
    for m in sent:
        waiting.setdefault((m.node, m.info.get("to"), m.info.get("index")), []).append(m)
    for m in installed:
        key = (m.info.get("from"), m.node, m.info.get("index"))
        if waiting.get(key) and key[0] in lane:
            s = waiting[key].pop(0)
            ax.plot([s.t / 1e6, m.t / 1e6], [lane[s.node], lane[m.node]], color="#00838f",
                    linestyle=":", linewidth=1, zorder=4)


def add_legends(ax, marker_handles):
    from matplotlib.patches import Patch

    marks, reasons = marker_handles
    roles = [Patch(facecolor=face, hatch=hatch, edgecolor="#90a4ae", label=role)
             for role, (face, hatch, _) in ROLE_STYLE.items()]
    roles.append(Patch(facecolor="none", edgecolor=NET_COLOUR, hatch="////",
                       label="cut off from quorum"))
    first = ax.legend(handles=roles + marks, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                      fontsize=7.5, title="roles, events", title_fontsize=8,
                      frameon=False)
    ax.add_artist(first)
    ax.legend(handles=reasons, loc="upper left", bbox_to_anchor=(1.16, 1.0), fontsize=7.5,
              title="step-down reason", title_fontsize=8, frameon=False)


def node_colours(nodes):
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if len(nodes) <= 10 else "tab20"]
    return {n: cmap(i % cmap.N) for i, n in enumerate(nodes)}


def draw_commits(ax, trace, t0, t1):
    from matplotlib.ticker import MaxNLocator

    colours = node_colours(trace.nodes)
    drawn = False
    for n in trace.nodes:
        series = rs.downsample_steps(trace.commits.get(n, []), t0, t1, MAX_STEP_POINTS)
        if series:
            drawn = True
            ax.plot([t / 1e6 for t, _ in series], [v for _, v in series], drawstyle="steps-post",
                    color=colours[n], linewidth=1.1, label="node %d" % n)
    ax.set_ylabel("commit index")
    ax.grid(color="#eeeeee", linewidth=0.6)
    # Indices are whole numbers: no 1.2, 1.4 ticks when only a few commit.
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if drawn:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, frameon=False,
                  ncol=2 if len(trace.nodes) > 8 else 1)
    else:
        ax.text(0.5, 0.5, "no commits in this window", transform=ax.transAxes,
                ha="center", va="center", color="#757575")


WRITE_COLOUR = "#3949ab"
READ_COLOUR = "#ef6c00"


def draw_client_ticks(ax, trace, lane, t0, t1):
    """A short tick at the foot of a node's lane for each write it acknowledged
    and each read it answered (key-value clients); legend handles."""
    handles = []
    for what, items, colour, dy in (("write acknowledged", trace.writes, WRITE_COLOUR, -0.36),
                                    ("read answered", trace.reads, READ_COLOUR, -0.26)):
        pts = [(x.t / 1e6, lane[x.node] + dy) for x in items
               if t0 <= x.t <= t1 and x.node in lane]
        if not pts or (what == "write acknowledged" and not trace.reads):
            continue  # write ticks only where reads give them company
        pts = pts[::max(1, len(pts) // (MAX_STEP_POINTS * 2))]
        handles.append(ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker="|", s=16,
                                  color=colour, linewidths=0.7, label=what, zorder=4))
    return handles


def draw_latency(ax, trace, t0, t1, px):
    ax.set_ylabel("client latency (ms)")
    ax.grid(color="#eeeeee", linewidth=0.6)
    parts = []
    for what, items, colour in (("writes committed", trace.writes, WRITE_COLOUR),
                                ("reads answered", trace.reads, READ_COLOUR)):
        in_window = [x.latency_us / 1e3 for x in items if t0 <= x.t <= t1]
        if not in_window:
            continue
        points = rs.downsample_points([(x.t, x.latency_us / 1e3) for x in items],
                                      t0, t1, MAX_STEP_POINTS * 2)
        ax.scatter([t / 1e6 for t, _ in points], [v for _, v in points], s=5, color=colour,
                   alpha=0.6, linewidths=0, label=what)
        parts.append("%s: %d, latency p50 %.1f ms, p99 %.1f ms, max %.1f ms"
                     % (what, len(in_window), rs.percentile(in_window, 50),
                        rs.percentile(in_window, 99), max(in_window)))
    if not parts:
        ax.text(0.5, 0.5, "no client writes committed in this window", transform=ax.transAxes,
                ha="center", va="center", color="#757575")
        return
    ax.set_ylim(bottom=0)
    ax.set_title("client " + ";  ".join(parts), fontsize=8, loc="left")


if __name__ == "__main__":
    rt.run_main(main)
