#!/usr/bin/env python3
"""How fast `raftsim fuzz` finds each planted bug: prints a table and writes JSON.

    bench/planted.py [--build build] [--seeds 2000] [--jobs 1] [--bug NAME ...] [--out planted-results.json]

For each planted bug that raftsim knows (all of them unless --bug names some),
runs `raftsim fuzz --bug NAME --seeds N --stop-on-failure` from seed 0 and
reports the first seed that fails with the bug and passes without it (a seed
that fails either way, e.g. on a liveness check that the bug does not cause,
is skipped and the campaign goes on after it), the invariant or check that
caught it, its signature, the seeds run and the wall time of the fuzz runs.
Exit 0 if every bug was found within the seeds, 1 if one was not, 2 on error.
Wall times are measured, never asserted: the machine may be shared.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAIL_LINE = re.compile(r"^FAIL seed (\d+): (.*)$")


def known_bugs(raftsim):
    """The planted bugs this raftsim knows, from its refusal of an unknown one."""
    proc = subprocess.run([raftsim, "fuzz", "--bug", "?", "--seeds", "0"],
                          capture_output=True, text=True)
    match = re.search(r"known bugs: (.*)$", proc.stderr, re.M)
    if not match:
        raise SystemExit(f"planted: cannot read the planted bugs from {raftsim}: {proc.stderr.strip()}")
    return [name.strip() for name in match.group(1).split(",")]


def fuzz(raftsim, args):
    """Runs `raftsim fuzz ARGS`; returns (first failure or None, seeds run, wall seconds)."""
    start = time.monotonic()
    proc = subprocess.run([raftsim, "fuzz"] + args, capture_output=True, text=True)
    wall = time.monotonic() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"planted: raftsim fuzz {' '.join(args)} exited {proc.returncode}: "
                         f"{proc.stderr.strip()}")
    lines = proc.stdout.splitlines()
    summary = re.search(r"^fuzz: (\d+) seeds", lines[-1]) if lines else None
    if not summary:
        raise SystemExit(f"planted: unexpected output of raftsim fuzz {' '.join(args)}")
    failure = None
    for i, line in enumerate(lines):
        m = FAIL_LINE.match(line)
        if m:
            signature = lines[i + 1].strip().removeprefix("signature ") if i + 1 < len(lines) else ""
            failure = {"seed": int(m.group(1)), "failure": m.group(2), "signature": signature}
            break
    return failure, int(summary.group(1)), wall


def caught_by(failure_text):
    """'invariant log_matching at ...' -> 'log_matching'; 'check converged at ...' -> 'check:converged'."""
    words = failure_text.split()
    if len(words) >= 2 and words[0] == "invariant":
        return words[1]
    if len(words) >= 2 and words[0] == "check":
        return "check:" + words[1]
    return failure_text


def hunt(raftsim, bug, seeds, jobs, work):
    """Runs seeds 0.. with the bug until one fails that passes without it."""
    row = {"bug": bug, "found": False, "seeds_budget": seeds, "seeds_run": 0, "wall_s": 0.0,
           "skipped_seeds": []}
    start = 0
    while start < seeds:
        failure, ran, wall = fuzz(raftsim, [
            "--bug", bug, "--start", str(start), "--seeds", str(seeds - start),
            "--jobs", str(jobs), "--stop-on-failure", "--out", os.path.join(work, bug)])
        row["seeds_run"] += ran
        row["wall_s"] += wall
        if not failure:
            break
        # Does the seed fail without the bug too? Then the bug did not cause it.
        again, _, _ = fuzz(raftsim, ["--seed", str(failure["seed"]),
                                     "--out", os.path.join(work, "without-" + bug)])
        if again:
            row["skipped_seeds"].append({"seed": failure["seed"], "failure": failure["failure"]})
            start = failure["seed"] + 1
            continue
        row.update(found=True, first_seed=failure["seed"], caught_by=caught_by(failure["failure"]),
                   signature=failure["signature"], failure=failure["failure"],
                   reproduce=f"raftsim fuzz --seed {failure['seed']} --bug {bug}")
        break
    row["wall_s"] = round(row["wall_s"], 2)
    return row


def print_table(rows, seeds):
    print(f"{'bug':<26}{'first seed':>11}  {'caught by':<22}{'seeds run':>10}{'wall s':>9}  signature")
    for r in rows:
        first = str(r["first_seed"]) if r["found"] else f"> {seeds - 1}"
        print(f"{r['bug']:<26}{first:>11}  {r.get('caught_by', 'not found'):<22}"
              f"{r['seeds_run']:>10}{r['wall_s']:>9.2f}  {r.get('signature', '')}")
        for s in r["skipped_seeds"]:
            print(f"{'':<26}  (seed {s['seed']} fails without the bug too: {s['failure'][:70]})")


def run(raftsim, seeds=2000, jobs=1, bugs=None):
    """The benchmark's rows; bench/run.py --planted calls this."""
    work = tempfile.mkdtemp(prefix="raftsim-planted-")
    try:
        rows = []
        for bug in bugs or known_bugs(raftsim):
            print(f"planted: {bug} ...", file=sys.stderr, flush=True)
            rows.append(hunt(raftsim, bug, seeds, jobs, work))
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--seeds", type=int, default=2000, help="seeds per bug, from 0 (default 2000)")
    ap.add_argument("--jobs", type=int, default=1, help="fuzz --jobs (default 1)")
    ap.add_argument("--bug", action="append", help="only this planted bug (repeatable)")
    ap.add_argument("--out", default="planted-results.json")
    args = ap.parse_args()
    raftsim = os.path.join(args.build, "raftsim")
    if not os.path.exists(raftsim):
        sys.exit(f"planted: {raftsim} not found; build first (cmake --build {args.build})")
    rows = run(raftsim, args.seeds, args.jobs, args.bug)
    print_table(rows, args.seeds)
    with open(args.out, "w") as f:
        json.dump({"seeds": args.seeds, "jobs": args.jobs, "bugs": rows}, f, indent=2)
        f.write("\n")
    print(f"planted: wrote {args.out}")
    sys.exit(0 if all(r["found"] for r in rows) else 1)


if __name__ == "__main__":
    main()
