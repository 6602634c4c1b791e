"""Load and interpret raftsim traces (JSON Lines) and `run --seeds` summaries.

Pure standard library, so the derivations can be tested where matplotlib is
missing.  The plotting scripts import this module; nothing else parses traces.

Format references: docs of the project in shared/spec/traces.md (trace lines)
and scenarios.md "Metrics" (summary JSON).
"""

import json
import math
import os
import re
import sys
from collections import namedtuple

TRACE_FORMAT = "raftsim-trace"
TRACE_VERSION = 1

ROLES = ("follower", "precandidate", "candidate", "leader", "learner",
         "crashed", "paused")
STEP_DOWN_REASONS = ("higher_term", "granted_vote", "lost_quorum", "removed",
                     "transfer")
# Per-node events drawn as markers on a node's lane.
MARKER_TYPES = ("election_started", "vote_granted", "elected", "step_down",
                "demoted", "promoted", "snapshot_sent", "snapshot_installed")
MESSAGE_TYPES = ("send", "deliver", "drop")

Interval = namedtuple("Interval", "start end role term")
# `info` is the whole trace event, so a plot can read any field (reason, to, ...).
Marker = namedtuple("Marker", "t node kind term info")
CommitPoint = namedtuple("CommitPoint", "t index")
WriteLatency = namedtuple("WriteLatency", "t latency_us id node")
ConfigChange = namedtuple("ConfigChange", "t voters learners index")
Violation = namedtuple("Violation", "t invariant detail nodes")
# `cut` holds directed links (from, to) that carry no messages; `groups` are
# the sets of nodes still connected (both ways) to each other; `cut_off` are
# the nodes that cannot exchange messages with a majority of the voters.
NetInterval = namedtuple("NetInterval", "start end cut groups cut_off")
# One message at `--trace-level messages`: `delivered` lists the deliver times
# (a duplicated message is delivered twice); `dropped` is the drop time or None.
Message = namedtuple("Message", "id msg src dst term sent delivered dropped")
# One answered read (`read_done`): the value is the id of the write it saw.
ReadLatency = namedtuple("ReadLatency", "t latency_us id node key value")
# One key-value client operation (README "Extensions to the contract"):
# kind "put", "cas" or "get"; ret is None while the outcome is unknown;
# value: the value written (put, cas) or read (get); ok: a cas swapped;
# node: where it was answered.
Operation = namedtuple("Operation", "kind id key client call ret value ok mode node")


class AnalysisError(Exception):
    """An input or environment problem reported as one sentence, exit code 2."""


class TraceError(AnalysisError):
    """A trace or summary file is missing or malformed."""


# ---------------------------------------------------------------- time values

_TIME_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(us|ms|s)?\s*$")
_UNIT_US = {"us": 1, "ms": 1000, "s": 1000000, None: 1000}


def parse_time(text):
    """Time as in scenario files: "1.5s", "250ms", "100us", or a bare number of
    milliseconds.  Returns integer microseconds; raises ValueError."""
    m = _TIME_RE.match(str(text))
    if not m:
        raise ValueError('not a time: "%s" (use e.g. 1.5s, 250ms, 100us or '
                         'a number of milliseconds)' % text)
    return int(round(float(m.group(1)) * _UNIT_US[m.group(2)]))


def format_us(us):
    """Short human form of a time in microseconds, for notes and titles:
    exact (a window from 2.148s is not shown as 2.15s), trailing zeros cut."""
    def trim(value, decimals):
        return ("%.*f" % (decimals, value)).rstrip("0").rstrip(".")
    us = int(us)
    if us >= 1000000:
        return trim(us / 1e6, 6) + "s"
    return trim(us / 1e3, 3) + "ms"


# ---------------------------------------------------------------- the trace

class Trace:
    """Everything the plots need from one trace, derived in a single pass.

    Attributes: path, header, footer, nodes (ids in header order), end_us,
    roles {node: [Interval]}, markers [Marker] (time order), commits
    {node: [CommitPoint]}, writes [WriteLatency], configs [ConfigChange],
    network [NetInterval] (only spans with at least one cut link),
    violations [Violation], messages [Message] (only when requested),
    reads [ReadLatency], operations [Operation] (key-value clients only, in
    call order).
    """

    def __init__(self, path):
        self.path = path
        self.header = None
        self.footer = None
        self.truncated = False  # loaded with partial=True and cut short
        self.nodes = []
        self.end_us = 0
        self.roles = {}
        self.markers = []
        self.commits = {}
        self.writes = []
        self.configs = []
        self.network = []
        self.violations = []
        self.messages = []
        self.reads = []
        self.operations = []
        self._write_op = {}  # write id -> index in operations
        self._read_op = {}

    @property
    def scenario(self):
        return str(self.header.get("scenario", os.path.basename(self.path)))

    def markers_of(self, kind, node=None):
        return [m for m in self.markers
                if m.kind == kind and (node is None or m.node == node)]


def _node_id(value):
    # Node ids are positive integers; bool is an int subclass, reject it too.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("node id %r is not an integer" % (value,))
    return value


def _id_list(value, name):
    if not isinstance(value, list):
        raise ValueError('"%s" is not a list of node ids' % name)
    return [_node_id(v) for v in value]


class _RoleTracker:
    """Role bands of one node: the Raft role from `role` events, overridden
    while the node is crashed or paused; a new band starts whenever the shown
    role or the term changes."""

    def __init__(self, role, t):
        self.base = role
        self.term = 0
        self.crashed = False
        self.paused = False
        self.start = t
        self.intervals = []

    def shown(self):
        if self.crashed:
            return "crashed"
        if self.paused:
            return "paused"
        return self.base

    def change(self, t, base=None, term=None, crashed=None, paused=None):
        before = (self.shown(), self.term)
        if base is not None:
            self.base = base
        if term is not None:
            self.term = term
        if crashed is not None:
            self.crashed = crashed
        if paused is not None:
            self.paused = paused
        if (self.shown(), self.term) != before:
            self._close(t, *before)

    def raise_term(self, t, term):
        """A term seen in a non-`role` event (a vote granted, an election
        started).  A leader's band keeps its term: a leader changes term only
        by stepping down, and that comes with its own `role` event."""
        if term > self.term and self.shown() != "leader":
            self.change(t, term=term)

    def _close(self, t, role, term):
        # Several changes at one instant leave zero-length bands: drop them,
        # and join neighbours that became equal.
        if t > self.start:
            last = self.intervals[-1] if self.intervals else None
            if last and last.end == self.start and (last.role, last.term) == (role, term):
                self.intervals[-1] = last._replace(end=t)
            else:
                self.intervals.append(Interval(self.start, t, role, term))
        self.start = t

    def finish(self, t):
        self._close(max(t, self.start), self.shown(), self.term)
        return self.intervals


class _NetworkTracker:
    """Cut links over time, from `network` events, with the voter set from the
    header and `config_committed` (to know who is cut off from a quorum)."""

    def __init__(self, nodes, voters):
        self.nodes = list(nodes)
        self.voters = list(voters)
        self.cut = frozenset()
        self.start = 0
        self.intervals = []

    def apply(self, t, ev):
        action = ev["action"]
        cut = set(self.cut)
        if action == "partition":
            groups = [_id_list(g, "groups") for g in ev["groups"]]
            where = {n: i for i, g in enumerate(groups) for n in g}
            for a in self.nodes:
                for b in self.nodes:
                    # Nodes in no group are cut off from everyone.
                    if a != b and (a not in where or b not in where or where[a] != where[b]):
                        cut.add((a, b))
        elif action == "isolate":
            n = _node_id(ev["node"])
            for other in self.nodes:
                if other != n:
                    cut.update(((n, other), (other, n)))
        elif action == "cut":
            a, b = _node_id(ev["from"]), _node_id(ev["to"])
            cut.add((a, b))
            if ev.get("both", True):
                cut.add((b, a))
        elif action == "heal":
            cut = set()
        else:
            return  # set_network and future actions change no links
        self._set(t, frozenset(cut), self.voters)

    def set_voters(self, t, voters):
        self._set(t, self.cut, list(voters))

    def _set(self, t, cut, voters):
        if self.cut and t > self.start:
            self.intervals.append(self._interval(self.start, t))
        self.cut, self.voters, self.start = cut, voters, t

    def _interval(self, start, end):
        groups = self._groups()
        majority = len(self.voters) // 2 + 1

        def reaches(n, v):
            return n == v or ((n, v) not in self.cut and (v, n) not in self.cut)

        cut_off = frozenset(n for n in self.nodes
                            if sum(reaches(n, v) for v in self.voters) < majority)
        return NetInterval(start, end, self.cut, groups, cut_off)

    def _groups(self):
        """Connected components over links that work both ways."""
        seen, groups = set(), []
        for n in self.nodes:
            if n in seen:
                continue
            group, todo = [], [n]
            seen.add(n)
            while todo:
                a = todo.pop()
                group.append(a)
                for b in self.nodes:
                    if b not in seen and (a, b) not in self.cut and (b, a) not in self.cut:
                        seen.add(b)
                        todo.append(b)
            groups.append(sorted(group))
        return groups

    def finish(self, t):
        self._set(t, frozenset(), self.voters)
        return self.intervals


def _error(path, lineno, what):
    return TraceError("%s: line %d: %s" % (path, lineno, what))


def _read_lines(path):
    try:
        f = open(path, "r", encoding="utf-8", errors="strict")
    except FileNotFoundError:
        raise TraceError("%s: no such file" % path) from None
    except IsADirectoryError:
        raise TraceError("%s: is a directory, not a trace file" % path) from None
    except OSError as e:
        raise TraceError("%s: cannot open: %s" % (path, e.strerror or e)) from None
    with f:
        lineno = 0  # the line being read when decoding fails (even the first)
        try:
            for lineno, line in enumerate(f, 1):
                yield lineno, line
        except UnicodeDecodeError:
            raise TraceError("%s: line %d: not UTF-8 text" % (path, lineno + 1)) from None


def _check_header(path, obj):
    if obj.get("type") != "header":
        raise _error(path, 1, 'the first line is not the trace header ({"type":"header",...})')
    if obj.get("format") != TRACE_FORMAT:
        raise _error(path, 1, 'format is %s, expected "%s"'
                     % (json.dumps(obj.get("format")), TRACE_FORMAT))
    if obj.get("version") != TRACE_VERSION:
        raise _error(path, 1, "trace format version %s is not supported (expected %d)"
                     % (json.dumps(obj.get("version")), TRACE_VERSION))
    try:
        nodes = _id_list(obj["nodes"], "nodes")
        voters = _id_list(obj.get("voters", nodes), "voters")
        learners = _id_list(obj.get("learners", []), "learners")
        spares = _id_list(obj.get("spares", []), "spares")
    except KeyError:
        raise _error(path, 1, 'the header has no "nodes" list') from None
    except ValueError as e:
        raise _error(path, 1, "bad header: %s" % e) from None
    return nodes, voters, learners, spares


def load_trace(path, messages=False, window=None, partial=False):
    """Read and check a trace, then derive the per-node views (see Trace).

    messages: also collect send/deliver/drop as Message records;
    window: (from_us, to_us) limits collected messages to those sent in it
    (a long `messages` trace holds millions of them);
    partial: accept a truncated trace (a killed run): no end line, and a
    last line cut off mid-way (no newline) is dropped. trace.truncated says
    whether it was.
    Raises TraceError naming the file and line for any malformed input.
    """
    trace = Trace(path)
    trackers = {}
    net = None
    pending = {}  # message id -> index in trace.messages
    lineno = 0
    for lineno, line in _read_lines(path):
        if not line.strip():
            raise _error(path, lineno, "empty line")
        try:
            ev = json.loads(line)
        except ValueError:
            if partial and lineno > 1 and not line.endswith("\n"):
                trace.truncated = True  # the run was killed mid-line
                break
            if lineno == 1 and line.startswith("\ufeff"):
                raise _error(path, lineno, "starts with a byte-order mark") from None
            if lineno > 1 and not line.endswith("\n"):
                raise _error(path, lineno, "not valid JSON, and the last line (the run was "
                             "killed?); --partial plots what precedes it") from None
            raise _error(path, lineno, "not valid JSON") from None
        if not isinstance(ev, dict):
            raise _error(path, lineno, "not a JSON object")
        if trace.footer is not None:
            raise _error(path, lineno, "line after the end line")
        if lineno == 1:
            nodes, voters, learners, spares = _check_header(path, ev)
            trace.header = ev
            trace.nodes = nodes + [n for n in voters + learners + spares if n not in nodes]
            for n in trace.nodes:
                trackers[n] = _RoleTracker("follower" if n in voters else "learner", 0)
                trace.commits[n] = []
            net = _NetworkTracker(trace.nodes, voters)
            continue
        t = ev.get("t")
        if isinstance(t, bool) or not isinstance(t, int) or t < 0:
            raise _error(path, lineno, 'no integer time "t" in a %s line'
                         % json.dumps(ev.get("type")))
        kind = ev.get("type")
        if kind == "end":
            trace.footer = ev
            trace.end_us = max(trace.end_us, t)
            continue
        trace.end_us = max(trace.end_us, t)
        try:
            if kind in MESSAGE_TYPES:
                if messages:
                    _message(trace, pending, kind, t, ev, window)
                continue
            _event(trace, trackers, net, kind, t, ev)
        except (KeyError, ValueError, TypeError) as e:
            what = ('missing field "%s"' % e.args[0]) if isinstance(e, KeyError) else str(e)
            raise _error(path, lineno, "bad %s event: %s" % (json.dumps(kind), what)) from None
    if lineno == 0:
        raise TraceError("%s: empty file, not a trace" % path)
    if trace.footer is None:
        if not partial:
            raise _error(path, lineno, "trace ends without its end line (truncated?); "
                         "--partial plots what it holds")
        trace.truncated = True
    for n, tracker in trackers.items():
        trace.roles[n] = tracker.finish(trace.end_us)
    trace.network = net.finish(trace.end_us)
    return trace


def _tracker(trackers, ev):
    n = _node_id(ev["node"])
    if n not in trackers:
        raise ValueError("node %d is not in the header's node list" % n)
    return trackers[n]


def _event(trace, trackers, net, kind, t, ev):
    if kind == "role":
        to = ev["to"]
        if not isinstance(to, str):
            raise ValueError('role "to" is not a string')
        _tracker(trackers, ev).change(t, base=to, term=int(ev["term"]))
    elif kind in ("crash", "restart", "pause", "resume"):
        tr = _tracker(trackers, ev)
        if kind == "crash":
            tr.change(t, crashed=True, paused=False)
        elif kind == "restart":
            # A restarted node comes back from durable state as a follower
            # (a learner stays a learner), whether or not a `role` line says so.
            base = tr.base if tr.base in ("follower", "learner") else "follower"
            tr.change(t, crashed=False, base=base)
        else:
            tr.change(t, paused=(kind == "pause"))
    elif kind in MARKER_TYPES:
        tr = _tracker(trackers, ev)
        term = ev.get("term")
        if term is not None:
            term = int(term)
        if kind == "elected":
            tr.change(t, term=term)
        elif kind == "demoted":
            # The role line may come with it or not; either way the node is
            # a learner now (a repeated change is not a new band).
            tr.change(t, base="learner")
        elif kind == "promoted" and tr.base == "learner":
            tr.change(t, base="follower")
        elif kind in ("election_started", "vote_granted") and term is not None \
                and not ev.get("pre_vote", False):
            tr.raise_term(t, term)
        trace.markers.append(Marker(t, _node_id(ev["node"]), kind, term, ev))
    elif kind == "commit":
        _tracker(trackers, ev)  # rejects unknown nodes
        trace.commits[ev["node"]].append(CommitPoint(t, int(ev["index"])))
    elif kind == "write_committed":
        trace.writes.append(WriteLatency(t, int(ev["latency_us"]), ev.get("id"), ev.get("node")))
        i = trace._write_op.get(ev.get("id"))
        if i is not None and trace.operations[i].ret is None:
            trace.operations[i] = trace.operations[i]._replace(
                ret=t, ok=bool(ev.get("ok", True)), node=ev.get("node"))
    elif kind == "write" and "key" in ev:
        trace._write_op[ev["id"]] = len(trace.operations)
        trace.operations.append(Operation(str(ev.get("op", "put")), int(ev["id"]), int(ev["key"]),
                                          int(ev.get("client", 0)), t, None, int(ev["id"]), True,
                                          None, None))
    elif kind == "read":
        trace._read_op[ev["id"]] = len(trace.operations)
        trace.operations.append(Operation("get", int(ev["id"]), int(ev["key"]),
                                          int(ev.get("client", 0)), t, None, None, True,
                                          str(ev.get("mode", "read_index")), None))
    elif kind == "read_done":
        trace.reads.append(ReadLatency(t, int(ev["latency_us"]), ev.get("id"), ev.get("node"),
                                       int(ev["key"]), int(ev["value"])))
        i = trace._read_op.get(ev.get("id"))
        if i is not None and trace.operations[i].ret is None:
            trace.operations[i] = trace.operations[i]._replace(
                ret=t, value=int(ev["value"]), node=ev.get("node"))
    elif kind == "config_committed":
        voters = _id_list(ev["voters"], "voters")
        trace.configs.append(ConfigChange(t, voters, _id_list(ev.get("learners", []), "learners"),
                                          ev.get("index")))
        net.set_voters(t, voters)
    elif kind == "network":
        net.apply(t, ev)
    elif kind == "violation":
        trace.violations.append(Violation(t, str(ev.get("invariant", "?")),
                                          str(ev.get("detail", "")), ev.get("nodes", [])))
    # Any other type (a write without a key, check, clock_drift,
    # snapshot_taken, future ones) is not drawn.


def _message(trace, pending, kind, t, ev, window):
    mid = ev.get("id")
    if mid is None:
        return  # cannot be matched with its send/deliver; nothing to draw
    idx = pending.get(mid)
    if idx is None:
        # A deliver without a recorded send belongs to a message sent before
        # the window.  A drop may come without a send (dropped at the sender).
        if kind == "deliver" or (window and not window[0] <= t <= window[1]):
            return
        msg = Message(mid, str(ev["msg"]), _node_id(ev["from"]), _node_id(ev["to"]),
                      ev.get("term"), t, [], None)
        pending[mid] = idx = len(trace.messages)
        trace.messages.append(msg)
    m = trace.messages[idx]
    if kind == "deliver":
        m.delivered.append(t)
    elif kind == "drop":
        trace.messages[idx] = m._replace(dropped=t)


# ---------------------------------------------------------------- summaries

def load_summary(path):
    """Read a `run --seeds --summary` JSON file.  Returns (scenario name,
    election times in ms, the whole object); raises TraceError."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise TraceError("%s: no such file" % path) from None
    except IsADirectoryError:
        raise TraceError("%s: is a directory, not a summary file" % path) from None
    except (OSError, UnicodeDecodeError) as e:
        raise TraceError("%s: cannot read: %s" % (path, getattr(e, "strerror", None) or e)) from None
    if not text.strip():
        raise TraceError("%s: empty file, not a summary" % path)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise TraceError("%s: line %d column %d: not valid JSON (%s)"
                         % (path, e.lineno, e.colno, e.msg)) from None
    if not isinstance(obj, dict):
        raise TraceError("%s: not a JSON object" % path)
    name = obj.get("scenario")
    if not isinstance(name, str):
        raise TraceError('%s: /scenario: missing or not a string' % path)
    where = "/metrics/election_time_ms/values"
    node = obj
    for key in ("metrics", "election_time_ms", "values"):
        if not isinstance(node, dict) or key not in node:
            raise TraceError("%s: %s: missing" % (path, where))
        node = node[key]
    if not isinstance(node, list):
        raise TraceError("%s: %s: not a list" % (path, where))
    for i, v in enumerate(node):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise TraceError("%s: %s/%d: not a non-negative number" % (path, where, i))
    return name, [float(v) for v in node], obj


# ---------------------------------------------------------------- command line

def add_window_args(parser, default_from):
    """The --from/--to options every plot script takes."""
    parser.add_argument("--from", dest="t_from", type=time_arg, default=default_from,
                        help="start of the window (default: 0)")
    parser.add_argument("--to", dest="t_to", type=time_arg, default=None,
                        help="end of the window (default: end of the trace)")


def window_us(args, trace):
    """The window (t0, t1) that --from/--to select: the whole run by default."""
    t0 = args.t_from if args.t_from is not None else 0
    t1 = args.t_to if args.t_to is not None else trace.end_us
    if t1 <= t0:
        raise AnalysisError("empty window: --from %s is not before --to %s"
                            % (format_us(t0), format_us(t1)))
    return t0, t1


def time_arg(text):
    """argparse type for --from/--to."""
    import argparse
    try:
        return parse_time(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def script_name():
    return os.path.basename(sys.argv[0]) or "raftsim-analysis"


def import_pyplot():
    """pyplot with the non-interactive Agg backend, or AnalysisError."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise AnalysisError("matplotlib is not available to %s; run with /usr/bin/python3 "
                            "or install python3-matplotlib" % sys.executable) from None
    return plt


def check_output_path(plt, path):
    """Fail before any work if matplotlib cannot write this file type."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    supported = plt.figure().canvas.get_supported_filetypes()
    plt.close("all")
    if ext not in supported:
        raise AnalysisError("%s: unsupported output type %s (use .png or .svg)"
                            % (path, ("." + ext) if ext else "(no extension)"))


def save_figure(fig, path, dpi=110):
    try:
        fig.savefig(path, dpi=dpi)
    except OSError as e:
        raise AnalysisError("%s: cannot write: %s" % (path, e.strerror or e)) from None


def run_main(main):
    """Run a script's main(argv) and turn every input problem into one
    sentence on stderr and exit code 2, never a traceback."""
    try:
        sys.exit(main(sys.argv[1:]))
    except AnalysisError as e:
        message = str(e)
    except OSError as e:
        message = "%s: %s" % (e.filename or "I/O error", e.strerror or e)
    except (KeyError, ValueError, TypeError) as e:
        message = "malformed input: %s" % (e,)
    print("%s: %s" % (script_name(), message), file=sys.stderr)
    sys.exit(2)
