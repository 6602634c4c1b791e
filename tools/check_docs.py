#!/usr/bin/env python3
"""Keeps the figures the docs quote equal to what the binary prints today.

    tools/check_docs.py build/raftsim            # check (ctest: docs_match_binary)
    tools/check_docs.py build/raftsim --update   # rewrite the quoted blocks

Checked, from fresh runs of scenarios/leader_loses_quorum.json:
  - README.md: the printed `raftsim run` output (the wall time aside) and the
    trace excerpt (every line must be a line of the trace, in order);
  - docs/analysis.md: the message window of the election after the isolate
    (`--from`/`--to` of the plot_messages.py command, and the times the text
    gives for the timeout and the win).
--update rewrites those blocks from the fresh runs and, when matplotlib is
there, re-renders the two pictures they describe.
"""
import json
import math
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIO = "scenarios/leader_loses_quorum.json"
RUN_PROMPT = "$ build/raftsim run " + SCENARIO
WALL = re.compile(r"wall=[0-9.]+s")


def fail(message):
    print("check_docs.py: " + message, file=sys.stderr)
    sys.exit(2)


def run(binary, *args):
    r = subprocess.run([binary, "run", SCENARIO] + list(args), cwd=ROOT,
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail("raftsim run %s exited %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r.stdout


def trace_lines(binary, level):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.jsonl")
        run(binary, "--trace", path, "--trace-level", level, "--quiet")
        with open(path) as f:
            return f.read().splitlines()


def block_after(text, marker):
    """(start, end) of the lines of the first ``` block after `marker`."""
    at = text.find(marker)
    if at < 0:
        fail("cannot find %r" % marker)
    open_at = text.index("```\n", at) + 4
    return open_at, text.index("```", open_at)


def same_event(a, b):
    keys = ("type", "node", "action", "reason", "from", "to", "pre_vote")
    return all(a.get(k) == b.get(k) for k in keys)


def excerpt_now(excerpt, trace):
    """Each excerpt line replaced by the next trace line of the same kind."""
    events = [json.loads(line) for line in trace]
    out, i = [], 0
    for line in excerpt:
        want = json.loads(line)
        while i < len(events) and not same_event(events[i], want):
            i += 1
        if i == len(events):
            fail("no trace line like %s any more; edit the README excerpt by hand" % line)
        out.append(trace[i])
        i += 1
    return out


def election_window(trace):
    """(node, timeout_us, elected_us) of the first election after the isolate."""
    events = [json.loads(line) for line in trace]
    isolate = next(i for i, e in enumerate(events)
                   if e.get("type") == "network" and e.get("action") == "isolate")
    won = next(e for e in events[isolate:] if e.get("type") == "elected")
    node = won["node"]
    timeout = max(e["t"] for e in events[isolate:]
                  if e.get("type") == "role" and e.get("node") == node
                  and e.get("to") == "precandidate" and e["t"] <= won["t"])
    return node, timeout, won["t"]


def seconds(us, decimals):
    return ("%.*f" % (decimals, us / 1e6)).rstrip("0").rstrip(".") + "s"


def analysis_expected(trace):
    node, timeout, elected = election_window(trace)
    # The window: from 1 ms before the timeout (whole ms) to 8 ms after the win.
    start = (math.floor(timeout / 1000) - 1) * 1000
    end = (math.ceil(elected / 1000) + 8) * 1000
    return {"window": "--from %s --to %s" % (seconds(start, 3), seconds(end, 3)),
            "timeout": "Node %d times\nout at %s" % (node, seconds(timeout, 4)),
            "won": "make it leader\n(green) at %s" % seconds(elected, 4)}


ANALYSIS_PATTERNS = {
    "window": re.compile(r"--from [0-9.]+s --to [0-9.]+s(?=\n\n!\[sequence diagram)"),
    "timeout": re.compile(r"Node \d+ times\s+out at [0-9.]+s"),
    "won": re.compile(r"make it leader\s+\(green\) at [0-9.]+s"),
}


def normalize_space(s):
    return re.sub(r"\s+", " ", s)


def main(argv):
    if len(argv) not in (1, 2) or (len(argv) == 2 and argv[1] != "--update"):
        fail("usage: tools/check_docs.py RAFTSIM [--update]")
    binary, update = os.path.abspath(argv[0]), len(argv) == 2
    problems = []

    readme_path = os.path.join(ROOT, "README.md")
    with open(readme_path) as f:
        readme = f.read()
    output = run(binary)
    a = readme.find(RUN_PROMPT + "\n")  # the prompt opens the block's first line
    if a < 0:
        fail("README.md: cannot find %r" % RUN_PROMPT)
    a += len(RUN_PROMPT) + 1
    b = readme.index("```", a)
    if WALL.sub("wall=", readme[a:b]) != WALL.sub("wall=", output):
        problems.append("README.md: the printed output of raftsim run differs from today's:\n"
                        + output)
        readme = readme[:a] + output + readme[b:]
    events = trace_lines(binary, "events")
    a, b = block_after(readme, "An excerpt of its trace")
    excerpt = readme[a:b].splitlines()
    it = iter(events)
    if not all(any(line == e for e in it) for line in excerpt):
        problems.append("README.md: the trace excerpt is not in today's trace, in order")
        readme = readme[:a] + "\n".join(excerpt_now(excerpt, events)) + "\n" + readme[b:]

    analysis_path = os.path.join(ROOT, "docs", "analysis.md")
    with open(analysis_path) as f:
        analysis = f.read()
    expected = analysis_expected(trace_lines(binary, "messages"))
    for key, pattern in ANALYSIS_PATTERNS.items():
        m = pattern.search(analysis)
        if not m:
            fail("docs/analysis.md: cannot find the %s of the message window" % key)
        if normalize_space(m.group(0)) != normalize_space(expected[key]):
            problems.append("docs/analysis.md: %r should be %r"
                            % (normalize_space(m.group(0)), normalize_space(expected[key])))
            analysis = analysis[:m.start()] + expected[key] + analysis[m.end():]

    if not problems:
        print("docs match the binary")
        return 0
    if not update:
        for p in problems:
            print(p, file=sys.stderr)
        print("The docs quote output that changed. Regenerate with:\n"
              "    tools/check_docs.py build/raftsim --update\n"
              "then review the diff (the prose around a changed window may need a word).",
              file=sys.stderr)
        return 1
    with open(readme_path, "w") as f:
        f.write(readme)
    with open(analysis_path, "w") as f:
        f.write(analysis)
    render(binary, expected["window"].split())
    for p in problems:
        print("updated: " + p.splitlines()[0])
    return 0


def render(binary, window):
    """Re-renders the pictures of the rewritten blocks (needs matplotlib)."""
    with tempfile.TemporaryDirectory() as d:
        events, messages = os.path.join(d, "e.jsonl"), os.path.join(d, "m.jsonl")
        run(binary, "--trace", events, "--quiet")
        run(binary, "--trace", messages, "--trace-level", "messages", "--quiet")
        plot = os.path.join(ROOT, "analysis", "run.sh")
        for args in (["analysis/plot_timeline.py", events,
                      "-o", "docs/images/leader_loses_quorum_timeline.png"],
                     ["analysis/plot_messages.py", messages,
                      "-o", "docs/images/election_messages.png"] + window):
            r = subprocess.run([plot] + args, cwd=ROOT, capture_output=True, text=True)
            if r.returncode != 0:
                print("not re-rendered (%s): %s" % (args[-1], r.stderr.strip()), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
